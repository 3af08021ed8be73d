"""Live milestone clips while training, and the journey Fast Mode renders by itself at the end."""

from __future__ import annotations

import yaml
from tests.integration.conftest import tiny_config, wait_until

from retroml.config import build_config
from retroml.runs.service import RunService
from retroml.video.encoder import probe

MILESTONES = [0, 1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


def test_a_normal_run_films_one_clip_per_milestone(tmp_path) -> None:
    service = RunService(tmp_path / "home")
    config = build_config(tiny_config("breakout", 2000, recording={"milestone_clip_seconds": 1.0}))
    run_id = service.create(config).run_id
    # Clips are listed while the run trains, not only at the end.
    wait_until(lambda: any(row["kind"] == "clip" for row in service.renders.videos(run_id)), timeout=120)
    run = service.wait(run_id, timeout=240)
    assert run.status == "completed", service.logs(run_id)
    clips = [video for video in service.renders.videos(run_id) if video["kind"] == "clip"]
    assert sorted(clip["milestone_pct"] for clip in clips) == MILESTONES
    for clip in clips:
        path = service.home / clip["path"]
        assert path.parent == service.paths(run_id).clips
        info = probe(path)
        assert (info.codec, info.fps, info.frames) == ("h264", 30.0, 30)
        assert service.renders.video_poster(clip["id"]).is_file()
        assert clip["meta"]["episodes"][0]["episode"] == 1
    assert not [video for video in service.renders.videos(run_id) if video["kind"] == "journey"]
    assert "0 dropped" in "\n".join(service.logs(run_id, tail=50))


def test_fast_mode_films_nothing_live_and_renders_the_journey_once(tmp_path) -> None:
    service = RunService(tmp_path / "home")
    data = tiny_config("pong", 2000, recording={"enabled": True, "milestone_clip_seconds": 5})
    config = build_config({**data, "fast_mode": True, "render": {"length": "3s"}})
    run_id = service.create(config).run_id
    written = yaml.safe_load(service.paths(run_id).config.read_text(encoding="utf-8"))
    assert written["recording"]["enabled"] is False and written["render"]["auto"] is True
    statuses: set[str] = set()

    def finished() -> bool:
        run = service.get(run_id)
        statuses.add(run.status)
        return run.status in ("completed", "failed") and run.pid is not None and not _alive(run.pid)

    wait_until(finished, timeout=240, poll=0.02)
    run = service.get(run_id)
    assert run.status == "completed", service.logs(run_id)
    assert "rendering" in statuses
    videos = service.renders.videos(run_id)
    assert [video["kind"] for video in videos] == ["journey"]
    assert not service.paths(run_id).clips.exists() or not any(service.paths(run_id).clips.iterdir())
    info = probe(service.home / videos[0]["path"])
    assert abs(info.frames - 90) <= 1
    assert run.render_progress == 1.0


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
