"""Playback that a viewer wants to watch, checked on real renders decoded with PyAV.

A deterministic policy that waits forever (Breakout's paddle at the wall, no serve) must not freeze
the video, the best score must never read below the score, the game must have the shape a TV gave
it, and the same seed must still give the same frames.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from tests.integration.conftest import tiny_config

from retroml.config import GameConfig, build_config
from retroml.runs.service import RunService
from retroml.video.frames import MilestoneLabel
from retroml.video.hud import ACCENT, BACKGROUND, DISPLAY_ASPECT, GamePane
from retroml.video.playback import Playback, load_playback_policy
from retroml.video.segment import PaneSpec, SegmentSpec, render_segment, title_lines

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# x264 keeps a still picture still (skipped blocks); a change on the Atari screen is a jump of tens of levels.
CHANGED = 24


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> RunService:
    return RunService(tmp_path_factory.mktemp("playback") / "home")


def trained(service: RunService, game: str, steps: int) -> str:
    run_id = service.create(build_config(tiny_config(game, steps, recording={"enabled": False}))).run_id
    assert service.wait(run_id, timeout=300).status == "completed", service.logs(run_id)
    return run_id


@pytest.fixture(scope="module")
def breakout(service: RunService) -> str:
    """PPO on Breakout for 1,000 steps: three updates, the early checkpoints still the initial weights."""
    return trained(service, "breakout", 1000)


@pytest.fixture(scope="module")
def pong(service: RunService) -> str:
    return trained(service, "pong", 512)


def decoded(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def play_frames(video: Path) -> list[list[np.ndarray]]:
    """The play frames of each segment of a journey (title cards left out), as the manifest places them."""
    frames = decoded(video)
    manifest = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
    return [
        frames[segment["start_frame"] + segment["title_frames"] : segment["start_frame"] + segment["frames"]]
        for segment in manifest["segments"]
    ]


def moving_share(frames: list[np.ndarray], top: int) -> float:
    """Share of frames whose picture below ``top`` differs from the frame before."""
    moving = sum(
        int(np.abs(frame[top:].astype(np.int16) - previous[top:]).max() > CHANGED)
        for previous, frame in pairwise(frames)
    )
    return moving / max(1, len(frames) - 1)


def save_png(name: str, frame: np.ndarray) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24").to_image().save(ARTIFACTS / name)


def test_a_breakout_journey_keeps_moving(service: RunService, breakout: str) -> None:
    segments = play_frames(service.renders.render(breakout, length="20s", workers=1))
    band = GamePane(640, 480, ["", ""], 30).band_height
    shares = [moving_share(frames, band) for frames in segments]
    every = [frame for frames in segments for frame in frames]
    save_png("breakout_journey_first_play_frame.png", segments[0][0])
    save_png("breakout_journey_middle.png", every[len(every) // 2])
    assert moving_share(every, band) >= 0.7, shares
    assert min(shares) >= 0.5, shares


def test_pong_best_is_never_below_the_score(service: RunService, pong: str) -> None:
    checkpoint = service.paths(pong).checkpoints / "latest.zip"
    playback = Playback(service.config(pong).game, load_playback_policy("ppo", checkpoint), seed=0)
    stream = playback.frames()
    shown = [next(stream) for _ in range(30 * 20)]
    playback.close()
    assert all(frame.best >= frame.score for frame in shown)
    assert min(frame.score for frame in shown) < 0, "an untrained Pong agent loses points in 20 s"
    first_episode = [frame for frame in shown if frame.episode == 1]
    assert [frame.best for frame in first_episode] == [frame.score for frame in first_episode]


def test_the_game_has_the_shape_a_tv_gave_it(service: RunService, pong: str) -> None:
    video = service.renders.render(pong, length="4s", workers=1)
    frame = play_frames(video)[-1][-1]
    save_png("pong_journey_last_frame.png", frame)
    pane = GamePane(640, 480, ["", ""], 30)
    below = frame[pane.band_height :].astype(np.int16)
    # Pong's brown court fills the whole screen: the picture is where the frame is not the backdrop.
    game = np.abs(below - np.array(BACKGROUND)).max(axis=2) > 40
    rows, columns = np.flatnonzero(game.any(axis=1)), np.flatnonzero(game.any(axis=0))
    height, width = rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1
    assert abs(width / height - DISPLAY_ASPECT) < 0.02, (width, height)
    assert (width, height) == (pane.game_width, pane.game_height)
    assert height >= 0.8 * (480 - pane.band_height), "the game is as large as the frame allows"


def test_the_same_seed_renders_the_same_frames(service: RunService, breakout: str, tmp_path: Path) -> None:
    checkpoint = service.paths(breakout).checkpoints / "latest.zip"
    config = service.config(breakout)
    label = MilestoneLabel(100.0, 1000, 1, 0.0)

    def spec(name: str) -> SegmentSpec:
        pane = PaneSpec(str(checkpoint), label)
        return SegmentSpec(0, str(tmp_path / name), config.game, "Breakout", "ppo", (pane,), 0, 150, seed=3)

    render_segment(spec("one.mp4"))
    render_segment(spec("two.mp4"))
    one, two = decoded(tmp_path / "one.mp4"), decoded(tmp_path / "two.mp4")
    assert len(one) == len(two) == 150
    assert all(np.array_equal(first, second) for first, second in zip(one, two, strict=True))


@pytest.mark.parametrize("fps", [24, 25, 30, 60])
def test_any_frame_rate_plays_at_the_consoles_real_speed(fps: int) -> None:
    """A second of video is a second of the 60 Hz console at 24, 25, 30 or 60 fps (24 fps once played at 0.8x)."""
    playback = Playback(GameConfig(id="pong"), None, seed=0, fps=fps)
    stream = playback.frames()
    next(stream)
    start = playback.ale.getFrameNumber()  # after the reset's no-ops, which are not shown
    video_seconds = 10
    for _ in range(video_seconds * fps):
        frame = next(stream)
    emulator_frames = playback.ale.getFrameNumber() - start
    playback.close()
    assert frame.episode == 1  # one game throughout: no reset's unshown frames in the count
    # The emulator runs in agent steps of 4 frames: the video trails it by less than one step.
    assert abs(emulator_frames - 60 * video_seconds) <= 4, emulator_frames


def test_a_title_card_shows_the_curve_so_far_and_the_change_of_score(
    service: RunService, breakout: str, tmp_path: Path
) -> None:
    config = service.config(breakout)
    before = MilestoneLabel(milestone_pct=10, timesteps=100, training_episodes=1, training_score_mean=0.5)
    now = MilestoneLabel(milestone_pct=50, timesteps=500, training_episodes=4, training_score_mean=1.7)
    curve = ((100, 0.5), (300, 1.0), (500, 1.7))
    pane = PaneSpec(str(service.paths(breakout).checkpoints / "latest.zip"), now, curve=curve, previous=before)
    spec = SegmentSpec(0, str(tmp_path / "card.mp4"), config.game, "Breakout", "ppo", (pane,), 3, 3)
    _heading, lines = title_lines(spec)
    assert lines == ["50 % — 500 steps — mean score 1.7", "+1.2 since 10 %"]
    render_segment(spec)
    card = decoded(tmp_path / "card.mp4")[0]
    Image.fromarray(card).save(ARTIFACTS / "title_card_with_curve.png")
    lower, upper = card[card.shape[0] * 11 // 20 :], card[: card.shape[0] * 11 // 20]
    accent = np.all(np.abs(lower.astype(int) - ACCENT) <= 40, axis=2)
    assert accent.sum() > 50, "the curve's marker and 'now' line are drawn below the text"
    assert (np.abs(upper.astype(int) - BACKGROUND).sum(axis=2) > 60).sum() > 500, "the text is above it"


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_a_16_9_journey_shows_the_game_large_and_the_story_beside_it(
    service: RunService, pong: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    """No black bars: the game at the TV's shape fills most of the height, the run's story beside it."""
    width, height = size
    config = service.config(pong)
    label = MilestoneLabel(milestone_pct=50, timesteps=256, training_episodes=0, training_score_mean=None)
    pane = PaneSpec(str(service.paths(pong).checkpoints / "latest.zip"), label, curve=((128, -21.0), (256, -20.0)))
    spec = SegmentSpec(
        0,
        str(tmp_path / "wide.mp4"),
        config.game,
        "Pong",
        "ppo",
        (pane,),
        0,
        45,
        width=width,
        height=height,
        timeline=(0.0, 50.0, 100.0),
    )
    render_segment(spec)
    frame = decoded(tmp_path / "wide.mp4")[-1]
    save_png(f"pong_story_{width}x{height}.png", frame)
    # Pong's brown court fills its screen: the game is the widest run of columns not of the backdrop.
    game = np.abs(frame.astype(np.int16) - np.array(BACKGROUND)).max(axis=2) > 40
    columns = np.flatnonzero(game[height // 2])
    gaps = np.diff(columns) > 1
    first_gap = int(columns[int(np.argmax(gaps))]) if gaps.any() else int(columns[-1])
    rows = np.flatnonzero(game[:, columns[0] + 5])
    game_width, game_height = first_gap - columns[0] + 1, rows[-1] - rows[0] + 1
    assert abs(game_width / game_height - DISPLAY_ASPECT) < 0.03, (game_width, game_height)
    assert game_height >= 0.8 * height
    panel = frame[:, first_gap + 10 :]
    assert panel.shape[1] >= 0.25 * width, "the story panel takes the width a 4:3 game leaves"
    lit = np.all(np.abs(panel.astype(int) - ACCENT) <= 40, axis=2)
    assert lit.sum() > 100, "the curve's marker and this milestone on the timeline are lit"
    text = np.abs(panel.astype(int) - BACKGROUND).max(axis=2) > 100
    assert text[: height // 3].sum() > 2000, "game, algorithm, milestone and the episode's numbers at the top"
