"""The training time-lapse: frames captured while a run trains, rendered into a video of exact length."""

from __future__ import annotations

import json

import pytest
import yaml
from tests.integration.conftest import tiny_config, wait_until

from retroml.config import build_config
from retroml.errors import InvalidInputError
from retroml.runs.service import RunService
from retroml.video.encoder import probe
from retroml.video.timelapse_render import render_timelapse

# 10 frames a second into 1.2-second parts: a few seconds of training make several parts.
CAPTURE = {"enabled": False, "timelapse_fps": 10, "timelapse_segment_minutes": 0.02}


def test_a_stopped_run_keeps_every_frame_and_renders_a_timelapse_of_exact_length(tmp_path) -> None:
    service = RunService(tmp_path / "home")
    run_id = service.create(build_config(tiny_config("pong", 1_000_000, recording=CAPTURE))).run_id
    # Parts are listed while the run trains; stop it after a few thousand steps (and stop it anyway
    # if that never comes: a run of a million steps must not outlive its test).
    try:
        wait_until(
            lambda: service.get(run_id).timesteps >= 2500 and bool(service.artifacts(run_id, ("timelapse_part",))),
            timeout=180,
            poll=0.2,
        )
    finally:
        service.stop(run_id)
    run = service.wait(run_id, timeout=120, poll=0.2)
    assert run.status == "stopped", service.logs(run_id)
    parts = service.raw_store.artifacts(run_id, ["timelapse_part"])
    assert len(parts) >= 2, service.logs(run_id)
    assert [part["meta"]["part"] for part in parts] == list(range(len(parts)))
    timesteps = []
    for part in parts:
        video = service.home / part["path"]
        rows = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))["rows"]
        assert probe(video).frames == len(rows) == part["meta"]["frames"]
        timesteps += [sidecar_row[0] for sidecar_row in rows]
    assert timesteps == sorted(timesteps) and timesteps[-1] <= run.timesteps
    # Every captured frame is in a listed part, the one the stop cut short included.
    assert f"time-lapse: {len(timesteps)} frames captured, 0 dropped" in "\n".join(service.logs(run_id, tail=50))

    output = render_timelapse(service.raw_store, run_id, length="4s")
    info = probe(output)
    assert info.codec == "h264" and info.frames == 120
    assert abs(info.duration - 4.0) <= 0.04
    assert output.name.endswith(f"__{run_id}__timelapse_4s.mp4")
    manifest = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["layout"] == "timelapse" and manifest["captured_frames"] == len(timesteps)
    assert output.with_suffix(".jpg").is_file()
    [video] = service.renders.videos(run_id)
    assert video["kind"] == "journey" and video["meta"]["layout"] == "timelapse"


def test_fast_mode_turns_the_timelapse_off(tmp_path) -> None:
    service = RunService(tmp_path / "home")
    config = build_config({**tiny_config("pong", 2000, recording=CAPTURE), "fast_mode": True})
    run_id = service.create(config, start=False).run_id
    written = yaml.safe_load(service.paths(run_id).config.read_text(encoding="utf-8"))
    assert written["recording"]["timelapse_fps"] == 0


def test_a_run_without_capture_is_refused_in_one_sentence(tmp_path) -> None:
    service = RunService(tmp_path / "home")
    run_id = service.create(build_config(tiny_config("pong", 2000)), start=False).run_id
    with pytest.raises(InvalidInputError) as refused:
        render_timelapse(service.raw_store, run_id, length="4s")
    assert str(refused.value) == f"run {run_id} recorded no time-lapse; train with recording.timelapse_fps > 0"
