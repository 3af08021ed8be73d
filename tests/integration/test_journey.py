"""The learning-journey video, rendered for real from the checkpoints of a tiny training run."""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Iterator
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import torch
from PIL import Image
from stable_baselines3 import A2C, PPO
from tests.integration.conftest import tiny_config

from retroml import milestones
from retroml.config import GameConfig, RenderConfig, build_config
from retroml.engine.checkpoints import latest_timesteps, list_milestones
from retroml.errors import InvalidInputError
from retroml.runs.service import RunService
from retroml.video.encoder import probe
from retroml.video.journey import plan_journey, render_run_journey
from retroml.video.pipeline import run_in_pool
from retroml.video.playback import Playback

ALGORITHMS = {"ppo": PPO, "a2c": A2C}
EVERY_MILESTONE = {"min_play_seconds": 0}


def tiny_a2c(steps: int) -> dict[str, Any]:
    """An A2C run of ``steps`` on Breakout: an update every 4 envs × 5 steps."""
    train = {"algo": "a2c", "n_envs": 4, "n_steps": 5, "total_timesteps": steps}
    # Every milestone in a few seconds of video: these tests check what each one shows, not pacing.
    return {"game": {"id": "breakout"}, "train": train, "recording": {"enabled": False}, "render": EVERY_MILESTONE}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> RunService:
    return RunService(tmp_path_factory.mktemp("journey") / "home")


def trained(service: RunService, raw: dict[str, Any]) -> str:
    run_id = service.create(build_config(raw)).run_id
    assert service.wait(run_id, timeout=300).status == "completed", service.logs(run_id)
    return run_id


@pytest.fixture(scope="module")
def run_id(service: RunService) -> str:
    """PPO on Breakout for 2,000 steps: updates every 256, so its 0 … 10 % checkpoints are the initial weights."""
    return trained(service, tiny_config("breakout", 2000, recording={"enabled": False}, render=EVERY_MILESTONE))


@pytest.fixture(scope="module")
def journey(service: RunService, run_id: str) -> Path:
    return service.renders.render(run_id, length="12s", workers=1)


@pytest.fixture(scope="module")
def a2c_run_id(service: RunService) -> str:
    return trained(service, tiny_a2c(1000))


@pytest.fixture(scope="module")
def trained_more_run_id(service: RunService) -> str:
    """A2C trained 1,000 steps, then continued with "train 1,000 more": the plan ends at 2,000."""
    run_id = trained(service, tiny_a2c(1000))
    service.continue_run(run_id, "more", 1000)
    run = service.wait(run_id, timeout=300)
    assert (run.status, run.total_timesteps, run.timesteps) == ("completed", 2000, 2000), service.logs(run_id)
    return run_id


def manifest_of(video: Path) -> dict[str, Any]:
    return dict(json.loads(video.with_suffix(".json").read_text(encoding="utf-8")))


def panes_of(video: Path) -> list[dict[str, Any]]:
    """The pane of each segment of a single-layout journey, in order."""
    return [segment["panes"][0] for segment in manifest_of(video)["segments"]]


@cache
def policy_weights(algo: str, checkpoint: Path) -> dict[str, torch.Tensor]:
    """The policy's tensors as stock SB3 loads them."""
    return dict(ALGORITHMS[algo].load(checkpoint, device="cpu").policy.state_dict())


def same_weights(algo: str, first: Path, second: Path) -> bool:
    one, other = policy_weights(algo, first), policy_weights(algo, second)
    return one.keys() == other.keys() and all(torch.equal(one[name], other[name]) for name in one)


def top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box names, in file order (``moov`` before ``mdat`` means faststart)."""
    names, offset, data = [], 0, path.read_bytes()
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        names.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        offset += size if size else len(data)
    return names


def test_a_journey_plays_each_set_of_weights_at_the_requested_length(
    service: RunService, run_id: str, journey: Path
) -> None:
    video = journey
    info = probe(video)
    assert (info.codec, info.fps, info.width, info.height) == ("h264", 30.0, 640, 480)
    assert abs(info.frames - 12 * 30) <= math.ceil(0.01 * 12 * 30)
    assert abs(info.duration - 12) < 0.12
    boxes = top_level_boxes(video)
    assert boxes.index("moov") < boxes.index("mdat"), "a browser must be able to seek before the end arrives"
    with av.open(str(video)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"
        assert sum(1 for _ in container.decode(video=0)) == info.frames

    manifest = manifest_of(video)
    segments = manifest["segments"]
    panes = [segment["panes"][0] for segment in segments]
    labels = [pane["label"] for pane in panes]
    assert labels[0] == "untrained" and labels[-1] == "100 %"
    assert labels[1:] == [milestones.label(pane["milestone_pct"]) for pane in panes[1:]]
    steps = [pane["timesteps"] for pane in panes]
    assert all(earlier < later for earlier, later in pairwise(steps))
    assert sum(segment["frames"] for segment in segments) == info.frames == manifest["frames"]
    starts = [segment["start_frame"] for segment in segments]
    assert starts == [sum(segment["frames"] for segment in segments[:index]) for index in range(len(segments))]
    for segment in segments:
        episodes = segment["panes"][0]["episodes"]
        assert [episode["episode"] for episode in episodes] == list(range(1, len(episodes) + 1))
        assert episodes[-1]["end"] == "cut"
        assert sum(episode["frames"] for episode in episodes) == segment["play_frames"]
    saved = {Path(row["path"]).name: row for row in service.raw_store.artifacts(run_id, ["checkpoint"])}
    for pane in panes:
        assert pane["training_episodes"] == saved[pane["checkpoint"]]["episodes"]

    journey_rows = [row for row in service.renders.videos(run_id) if row["kind"] == "journey"]
    assert [row["path"] for row in journey_rows] == [str(video.relative_to(service.home))]
    assert service.renders.video_poster(journey_rows[0]["id"]).stat().st_size > 1000
    assert video.name == f"breakout__ppo__{run_id}__journey_12s.mp4"


def test_identical_early_checkpoints_are_one_untrained_segment(service: RunService, run_id: str, journey: Path) -> None:
    folder = service.paths(run_id).checkpoints
    early = [checkpoint for checkpoint in list_milestones(folder) if checkpoint.timesteps < 256]
    assert [checkpoint.milestone_pct for checkpoint in early] == [0, 1, 2, 5, 10]
    initial = early[0].path
    assert all(same_weights("ppo", initial, checkpoint.path) for checkpoint in early[1:])
    panes = panes_of(journey)
    assert [pane["label"] for pane in panes].count("untrained") == 1
    assert panes[0]["label"] == "untrained" and panes[0]["untrained"]
    shown = [folder / pane["checkpoint"] for pane in panes]
    assert same_weights("ppo", initial, shown[0])
    for index, checkpoint in enumerate(shown):
        assert not any(same_weights("ppo", checkpoint, later) for later in shown[index + 1 :]), checkpoint.name
    for checkpoint in list_milestones(folder):  # every set of weights the run had is shown once
        assert any(same_weights("ppo", checkpoint.path, path) for path in shown), checkpoint.path.name


def test_a_journey_ends_on_the_final_weights(service: RunService, a2c_run_id: str) -> None:
    """A2C updates after its last step: the 100 % milestone is saved after that update, as latest.zip is."""
    folder = service.paths(a2c_run_id).checkpoints
    latest, last_milestone = folder / "latest.zip", list_milestones(folder)[-1].path
    assert latest_timesteps(latest) == latest_timesteps(last_milestone) == 1000
    assert same_weights("a2c", latest, last_milestone)
    before_last = list_milestones(folder)[-2].path
    assert not same_weights("a2c", before_last, last_milestone)
    panes = panes_of(service.renders.render(a2c_run_id, length="4s", workers=1))
    final = panes[-1]
    assert same_weights("a2c", folder / final["checkpoint"], latest)
    assert (final["label"], final["timesteps"]) == ("100 %", service.get(a2c_run_id).timesteps)
    assert [pane["timesteps"] for pane in panes].count(1000) == 1


def test_a_run_trained_more_reads_forward_in_timesteps_and_percentages(
    service: RunService, trained_more_run_id: str
) -> None:
    panes = panes_of(service.renders.render(trained_more_run_id, length="6s", workers=1))
    steps = [pane["timesteps"] for pane in panes]
    percentages = [pane["milestone_pct"] for pane in panes]
    assert all(earlier < later for earlier, later in pairwise(steps)), steps
    assert all(earlier < later for earlier, later in pairwise(percentages)), percentages
    # The first leg's 100 % milestone is half of the plan now; the second leg ends the journey at 100 %.
    halfway = next(pane for pane in panes if pane["timesteps"] == 1000)
    assert (halfway["checkpoint"], halfway["label"]) == ("milestone_100pct_1000.zip", "50 %")
    assert (panes[-1]["label"], panes[-1]["timesteps"]) == ("100 %", 2000)
    assert [pane["milestone_pct"] <= 50 for pane in panes] == [step <= 1000 for step in steps]


def test_two_workers_render_the_same_journey_as_one(service: RunService, run_id: str) -> None:
    one = service.renders.render(run_id, length="8s", workers=1)
    manifest_one, frames_one = manifest_of(one), probe(one).frames
    two = service.renders.render(run_id, length="8s", workers=2)
    assert two == one
    manifest_two = manifest_of(two)
    assert probe(two).frames == frames_one
    assert manifest_two["segments"] == manifest_one["segments"]


def test_grid_layout_shows_four_milestones_per_frame(service: RunService, run_id: str, journey: Path) -> None:
    settings = RenderConfig(length="6s", layout="grid", resolution="1280x720")
    video = render_run_journey(service.raw_store, run_id, settings, workers=2)
    info = probe(video)
    assert (info.width, info.height) == (1280, 720)
    assert abs(info.frames - 180) <= 2
    panes = [[pane["label"] for pane in segment["panes"]] for segment in manifest_of(video)["segments"]]
    shown = [pane["label"] for pane in panes_of(journey)]
    assert panes == [shown[start : start + 4] for start in range(0, len(shown), 4)]
    assert video.name.endswith("__journey_6s_grid.mp4")


def test_music_is_muxed_and_cut_to_the_video(service: RunService, run_id: str, tmp_path: Path) -> None:
    music = tmp_path / "tone.m4a"
    with av.open(str(music), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        stream.layout = "stereo"
        for index in range(60):  # 1.4 s of a 440 Hz tone, looped to fill the video
            t = (np.arange(1024) + index * 1024) / 44100
            samples = np.tile(np.sin(2 * np.pi * 440 * t).astype(np.float32) * 0.2, (2, 1))
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 44100, index * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    video = service.renders.render(run_id, length="4s", workers=1, music=music)
    assert probe(video).audio_codec == "aac"
    with av.open(str(video)) as container:
        audio = container.streams.audio[0]
        seconds = sum(1024 for packet in container.demux(audio) if packet.size) / 44100
    assert abs(seconds - 4.0) < 0.1


def test_scores_shown_are_what_the_emulator_paid() -> None:
    """Every score the HUD and the manifest show is the sum of the rewards ALE returned in that game."""
    paid: list[float] = []

    class Counting:
        """The real emulator, with every reward it returns added up per game."""

        def __init__(self, ale: Any) -> None:
            self.ale = ale

        def __getattr__(self, name: str) -> Any:
            return getattr(self.ale, name)

        def reset_game(self) -> None:
            paid.append(0.0)
            self.ale.reset_game()

        def act(self, action: Any) -> float:
            reward = float(self.ale.act(action))
            paid[-1] += reward
            return reward

    playback = Playback(GameConfig(id="breakout"), None, seed=7, stuck_seconds=4)
    playback.ale = Counting(playback.ale)
    frames: Iterator[Any] = playback.frames()
    shown = [next(frames) for _ in range(900)]
    finished = playback.episodes
    assert len(finished) >= 2 and {episode.end for episode in finished} <= {"game over", "stuck"}
    assert [episode.score for episode in finished] == paid[: len(finished)]
    assert shown[-1].score == paid[len(finished)]
    assert max(frame.best for frame in shown) == max(paid)
    assert [frame.episode for frame in shown if frame.episode_frame == 0] == list(range(1, len(finished) + 2))


def test_manifest_scores_match_a_replay_of_the_same_segment(service: RunService, run_id: str) -> None:
    """A segment's episodes in the manifest are those the same checkpoint plays with the same seed."""
    from retroml.video.playback import load_playback_policy

    video = service.renders.render(run_id, length="12s", workers=2)
    segment = manifest_of(video)["segments"][-1]
    pane = segment["panes"][0]
    checkpoint = service.paths(run_id).checkpoints / pane["checkpoint"]
    playback = Playback(service.config(run_id).game, load_playback_policy("ppo", checkpoint), seed=0)
    frames = playback.frames()
    last = [next(frames) for _ in range(segment["play_frames"])][-1]
    replayed = [(episode.episode, episode.score, episode.end) for episode in playback.episodes]
    replayed.append((last.episode, last.score, "cut"))
    assert [(episode["episode"], episode["score"], episode["end"]) for episode in pane["episodes"]] == replayed


def test_a_cancelled_render_leaves_no_video(service: RunService, run_id: str) -> None:
    before = {row["path"] for row in service.renders.videos(run_id)}
    videos = service.paths(run_id).videos

    def cancelled_after_one(segments: Any, workers: int, tick: Any) -> Iterator[dict[str, Any]]:
        yield from run_in_pool(segments[:1], 1, tick)
        raise KeyboardInterrupt

    settings = RenderConfig(length="9s")
    with pytest.raises(KeyboardInterrupt):
        render_run_journey(service.raw_store, run_id, settings, workers=1, runner=cancelled_after_one)
    assert not (videos / f"breakout__ppo__{run_id}__journey_9s.mp4").exists()
    assert not [path for path in videos.iterdir() if path.name.startswith(".")]
    assert {row["path"] for row in service.renders.videos(run_id)} == before


def test_rendering_a_run_without_checkpoints_says_so(service: RunService) -> None:
    config = build_config(tiny_config("pong", 2000))
    run_id = service.create(config, start=False).run_id
    with pytest.raises(InvalidInputError, match=r"has no checkpoint yet, so it has no journey to render"):
        service.renders.render(run_id, length="10s")
    shutil.rmtree(service.paths(run_id).root)


def test_a_journey_comes_with_its_upload_pack(service: RunService, run_id: str) -> None:
    """Chapters (description lines, WebVTT, inside the MP4) at segment starts, a 1280×720 thumbnail, a description."""
    video = service.renders.render(run_id, length="48s", workers=2)
    manifest = manifest_of(video)
    starts = {segment["start_frame"] / manifest["fps"] for segment in manifest["segments"]}
    pack = service.raw_store.artifacts(run_id, kinds=["journey"])[-1]["meta"]["pack"]
    home = service.raw_store.home
    lines = (home / pack["chapters"]).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("00:00 untrained")
    with av.open(str(video)) as container:
        inside = [
            (mark["start"] * mark["time_base"], mark["end"] * mark["time_base"], mark["metadata"]["title"])
            for mark in container.chapters()
        ]
    assert len(inside) == len(lines) >= 3
    for (start, end, title), line in zip(inside, lines, strict=True):
        assert float(start) in starts, (start, starts)  # a chapter begins at a milestone's title card
        assert end - start >= 10
        assert line == f"{int(start) // 60:02d}:{int(start) % 60:02d} {title}"
    assert float(inside[-1][1]) == pytest.approx(manifest["seconds"])
    vtt = (home / pack["webvtt"]).read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and vtt.count(" --> ") == len(lines)
    description = (home / pack["description"]).read_text(encoding="utf-8")
    last = manifest["segments"][-1]["panes"][0]
    assert "Breakout" in description and "PPO" in description and f"{last['timesteps']:,} steps" in description
    assert all(line in description for line in lines)
    thumbnail = Image.open(home / pack["thumbnail"])
    assert thumbnail.size == (1280, 720)
    pixels = np.asarray(thumbnail.convert("L"), dtype=np.float32)
    early, late = pixels[150:500, 40:620], pixels[150:500, 660:1240]
    assert early.std() > 10 and late.std() > 10  # game frames, not an empty background
    # The poster is a moment of play (the best one), not a title card on the dark background.
    poster = np.asarray(Image.open(home / service.raw_store.artifacts(run_id, kinds=["journey"])[-1]["meta"]["poster"]))
    card_colour = np.all(np.abs(poster.astype(int) - (12, 14, 22)) <= 6, axis=2)
    assert card_colour.mean() < 0.3, card_colour.mean()


def test_a_short_journey_shows_a_followable_subset_of_milestones(
    service: RunService, run_id: str, tmp_path: Path
) -> None:
    """20 s cannot give 8 milestones 4 s of play each: the first, the last and one between, and the faces say so."""
    every = plan_journey(service.raw_store, run_id, RenderConfig(length="20s", min_play_seconds=0), tmp_path)
    plan = plan_journey(service.raw_store, run_id, RenderConfig(length="20s"), tmp_path)
    labels = [segment.panes[0].label for segment in plan.segments]
    assert len(every.segments) == plan.milestones_available > len(plan.segments) == 3
    assert labels[0] == every.segments[0].panes[0].label and labels[-1] == every.segments[-1].panes[0].label
    assert all(segment.play_frames >= 4 * 30 for segment in plan.segments)
    assert plan.frames == 20 * 30
    assert plan.subset_note is not None and f"3 of {plan.milestones_available} milestones" in plan.subset_note
    assert every.subset_note is None


def test_a_render_estimate_is_within_30_percent_once_this_machine_rendered_one(
    service: RunService, run_id: str
) -> None:
    """The first render of a layout and size measures this machine; the next one's estimate is what happens."""
    settings = RenderConfig(length="10s", resolution="854x480")
    # Two workers: a pool of fresh processes each time, as every real render starts (one renders in-process).
    # Two renders measure (the first of a session also reads the libraries from disk): 10 s is two
    # segments, one per worker; 20 s is three, so one worker also sets up a second segment.
    for length in ("10s", "20s"):
        render_run_journey(service.raw_store, run_id, RenderConfig(length=length, resolution="854x480"), workers=2)
    plan = plan_journey(service.raw_store, run_id, settings, service.paths(run_id).videos / ".estimate")
    cost = plan.measured_cost(2)
    assert cost is not None and cost.renders == 2
    expected_seconds, expected_bytes = plan.expected_render_seconds(2), plan.expected_bytes()
    started = time.perf_counter()
    video = render_run_journey(service.raw_store, run_id, settings, workers=2)
    took = time.perf_counter() - started
    assert abs(expected_seconds - took) / took <= 0.3, (expected_seconds, took)
    assert abs(expected_bytes - video.stat().st_size) / video.stat().st_size <= 0.3
    # A longer journey than the ones measured: its start-up is not multiplied by its length, and its
    # segments are shared by the two workers (four of them: two each).
    longer = RenderConfig(length="30s", resolution="854x480")
    plan = plan_journey(service.raw_store, run_id, longer, service.paths(run_id).videos / ".estimate")
    expected_seconds = plan.expected_render_seconds(2)
    started = time.perf_counter()
    render_run_journey(service.raw_store, run_id, longer, workers=2)
    took = time.perf_counter() - started
    assert abs(expected_seconds - took) / took <= 0.3, (expected_seconds, took)
