"""Compare and highlights videos, rendered for real from the checkpoints of tiny training runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import torch

from retroml.config import GameConfig, RenderConfig, build_config
from retroml.errors import InvalidInputError, NotFoundError
from retroml.runs.service import RunService
from retroml.video.compare import ComparedRun, common_milestones, render_compare
from retroml.video.encoder import probe
from retroml.video.frames import MilestoneLabel
from retroml.video.highlights import SCAN_EPISODES, SCAN_SECONDS, render_highlights
from retroml.video.hud import GridCanvas, compare_heading
from retroml.video.playback import Playback, load_playback_policy

# Four checkpoints: highlights scan them in two processes when given two workers.
MILESTONES = [0, 25, 50, 100]
# Untrained agents rarely score: a short stuck limit keeps their episodes (and the scans) short.
SETTINGS = RenderConfig(stuck_seconds=5)


def tiny_run(algo: str, game: str = "breakout") -> dict[str, Any]:
    rollout = {"ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}, "a2c": {"n_steps": 5}}[algo]
    train = {"algo": algo, "n_envs": 4, "total_timesteps": 512, "seed": 0, **rollout}
    return {"game": {"id": game}, "train": train, "milestones_pct": MILESTONES, "recording": {"enabled": False}}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> RunService:
    return RunService(tmp_path_factory.mktemp("compare") / "home")


@pytest.fixture(scope="module")
def runs(service: RunService) -> list[str]:
    """A PPO and an A2C run of Breakout, trained at the same time with the same seed."""
    run_ids = [service.create(build_config(tiny_run(algo))).run_id for algo in ("ppo", "a2c")]
    for run_id in run_ids:
        assert service.wait(run_id, timeout=300).status == "completed", service.logs(run_id)
    return run_ids


@pytest.fixture(scope="module")
def untrained(service: RunService) -> dict[str, str]:
    """Runs created but never started, so without checkpoints: one of Breakout, one of Pong."""
    configs = {game: build_config(tiny_run("ppo", game=game)) for game in ("breakout", "pong")}
    return {game: service.create(config, start=False).run_id for game, config in configs.items()}


def manifest_of(video: Path) -> dict[str, Any]:
    return dict(json.loads(video.with_suffix(".json").read_text(encoding="utf-8")))


def decoded(video: Path, indices: set[int]) -> dict[int, np.ndarray]:
    with av.open(str(video)) as container:
        frames = {}
        for index, frame in enumerate(container.decode(video=0)):
            if index in indices:
                frames[index] = frame.to_ndarray(format="rgb24").astype(np.int16)
        return frames


def test_compare_plays_the_runs_side_by_side_at_common_milestones(service: RunService, runs: list[str]) -> None:
    ppo, a2c = runs
    video = render_compare(service.raw_store, runs, SETTINGS.model_copy(update={"length": "6s"}), workers=2)
    assert video == service.paths(ppo).videos / f"breakout__compare__{ppo}__vs__{a2c}__6s.mp4"
    info = probe(video)
    assert (info.codec, info.width, info.height, info.fps, info.frames) == ("h264", 640, 480, 30.0, 180)

    manifest = manifest_of(video)
    assert (manifest["layout"], manifest["runs"], manifest["frames"]) == ("compare", runs, 180)
    segments = manifest["segments"]
    names = [service.get(run_id).name for run_id in runs]
    assert [segment["panes"][0]["milestone_pct"] for segment in segments] == MILESTONES
    for segment in segments:
        panes = segment["panes"]
        assert [pane["caption"] for pane in panes] == names
        assert [pane["algo"] for pane in panes] == ["ppo", "a2c"]
        assert {pane["milestone_pct"] for pane in panes} == {segment["panes"][0]["milestone_pct"]}
        for pane in panes:
            assert pane["episodes"][-1]["end"] == "cut"
            assert sum(episode["frames"] for episode in pane["episodes"]) == segment["play_frames"]
    assert sum(segment["frames"] for segment in segments) == info.frames

    (row,) = [row for row in service.renders.videos(ppo) if row["kind"] == "journey"]
    assert row["path"] == str(video.relative_to(service.home))
    assert (row["meta"]["layout"], row["meta"]["runs"]) == ("compare", runs)
    assert service.renders.video_poster(row["id"]).stat().st_size > 1000


def test_compare_panes_start_from_the_same_game_state(service: RunService, runs: list[str]) -> None:
    """Same seed in every pane: two identical networks play identical games, frame for frame.

    PPO and A2C build the same CNN policy, so with the same training seed their 0 % checkpoints hold
    the same weights; any difference between the panes at 0 % would come from the game, not the agent.
    """
    at_zero = [next(service.paths(run_id).checkpoints.glob("milestone_0pct_*.zip")) for run_id in runs]
    policies = [load_playback_policy(algo, path) for algo, path in zip(("ppo", "a2c"), at_zero, strict=True)]
    weights = [policy.policy.state_dict() for policy in policies]
    assert all(torch.equal(weights[0][name], weights[1][name]) for name in weights[0])

    video = render_compare(service.raw_store, runs, SETTINGS.model_copy(update={"length": "6s"}), workers=1)
    first = manifest_of(video)["segments"][0]
    plays = range(first["title_frames"], first["frames"])
    frames = decoded(video, set(plays))
    # The game screens of the two panes, where the compare frame draws them: below the HUD bands,
    # which name different runs.
    info = probe(video)
    label = MilestoneLabel(0, 0, 0, None)
    heading = compare_heading("", "ppo", label)
    grid = GridCanvas(info.width, info.height, "", [label, label], 30, [heading, heading])
    screens = [
        (y + 2 + pane.game_y, x + 2 + pane.game_x, pane.game_height, pane.game_width)
        for pane, (x, y) in zip(grid.panes, grid.positions, strict=True)
    ]
    games = {index: [frame[y : y + h, x : x + w] for y, x, h, w in screens] for index, frame in frames.items()}
    noise = games[plays[0]][0].shape[0] * games[plays[0]][0].shape[1] // 2000  # 0.05 % of the screen
    for index, (left, right) in games.items():
        assert clearly_changed(left, right) <= noise, f"the panes differ at frame {index}"
    moved = clearly_changed(games[plays[0]][0], games[plays[-1]][0])
    assert moved > 3 * max(noise, *(clearly_changed(left, right) for left, right in games.values()))


def clearly_changed(before: np.ndarray, after: np.ndarray) -> int:
    """Pixels whose colour differs by more than the encoder's noise (a channel off by over 40)."""
    return int((np.abs(before - after).max(axis=2) > 40).sum())


def test_a_comparison_that_cannot_be_made_is_refused_with_a_sentence(
    service: RunService, runs: list[str], untrained: dict[str, str]
) -> None:
    pong, empty = untrained["pong"], untrained["breakout"]
    settings = SETTINGS.model_copy(update={"length": "6s"})
    refusals: list[tuple[type[Exception], str, list[str]]] = [
        (
            InvalidInputError,
            r"^can't compare breakout with pong: runs side by side must play the same game$",
            [runs[0], pong],
        ),
        (InvalidInputError, r"^a comparison takes 2 to 4 runs, not 1$", runs[:1]),
        (InvalidInputError, r"^a comparison takes 2 to 4 runs, not 5$", [*runs, *runs, pong]),
        (NotFoundError, r"^there is no run run-nothere$", [runs[0], "run-nothere"]),
        (InvalidInputError, r"^each run can appear only once in a comparison$", [runs[0], runs[0]]),
        (
            InvalidInputError,
            rf"^run {empty} has no milestone checkpoint yet, so there is nothing to compare$",
            [runs[0], empty],
        ),
    ]
    for error, sentence, run_ids in refusals:
        with pytest.raises(error, match=sentence):
            render_compare(service.raw_store, run_ids, settings, workers=1)
    assert not list(service.paths(runs[0]).videos.glob(".render-*"))


def test_runs_without_a_milestone_in_common_are_refused() -> None:
    def saved_at(milestone_pct: int) -> dict[int, tuple[Path, MilestoneLabel]]:
        return {milestone_pct: (Path(f"milestone_{milestone_pct}pct_0.zip"), MilestoneLabel(milestone_pct, 0, 0, None))}

    game = GameConfig(id="breakout")
    runs = [ComparedRun("run-a", "a", "ppo", game, saved_at(10)), ComparedRun("run-b", "b", "dqn", game, saved_at(20))]
    sentence = r"^runs run-a, run-b saved no milestone at the same percentage of their budgets, so there is nothing"
    with pytest.raises(InvalidInputError, match=sentence):
        common_milestones(runs)


def test_highlights_show_only_the_episodes_their_manifest_names(service: RunService, runs: list[str]) -> None:
    ppo = runs[0]
    video = render_highlights(service.raw_store, ppo, "12s", SETTINGS, workers=2)
    assert video == service.paths(ppo).videos / f"breakout__ppo__{ppo}__highlights_12s.mp4"
    info = probe(video)
    assert info.codec == "h264" and abs(info.frames - 12 * 30) <= 1

    manifest = manifest_of(video)
    assert manifest["layout"] == "highlights" and manifest["clips"] == len(manifest["segments"]) >= 2
    segments = manifest["segments"]
    assert segments[0]["title_frames"] > 0 and all(segment["title_frames"] == 0 for segment in segments[1:])
    game, checkpoints = service.config(ppo).game, service.paths(ppo).checkpoints
    for segment in segments:
        clip = segment["highlight"]
        (named,) = segment["panes"][0]["episodes"]
        assert (named["episode"], named["frames"]) == (clip["episode"], clip["last_frame"] + 1)
        assert clip["last_frame"] - clip["first_frame"] + 1 == segment["play_frames"]
        assert clip["last_frame"] < clip["episode_frames"]

        # Replay the clip's checkpoint with the manifest's seed, past the frames the clip skipped.
        policy = load_playback_policy("ppo", checkpoints / clip["checkpoint"])
        playback = Playback(game, policy, seed=manifest["seed"], stuck_seconds=SETTINGS.stuck_seconds)
        frames = playback.frames()
        for _ in range(clip["skip_frames"]):
            next(frames)
        shown = [next(frames) for _ in range(segment["play_frames"])]
        assert {frame.episode for frame in shown} == {clip["episode"]}
        assert [frame.episode_frame for frame in shown] == list(range(clip["first_frame"], clip["last_frame"] + 1))
        assert (shown[0].score, shown[-1].score) == (clip["score_at_first_frame"], clip["score_at_last_frame"])
        if clip["why"] == "best episode":
            # Nothing scored more in what the scan saw: the first few episodes, or a minute of play.
            seen, current = clip["skip_frames"] + len(shown), shown[-1]
            while len(playback.episodes) < SCAN_EPISODES and seen < SCAN_SECONDS * 30:
                current, seen = next(frames), seen + 1
            scores = [episode.score for episode in playback.episodes[:SCAN_EPISODES]]
            if len(playback.episodes) < SCAN_EPISODES:
                scores.append(current.score)
            assert clip["episode_score"] == max(scores)
        playback.close()

    (row,) = [
        row for row in service.renders.videos(ppo) if row["kind"] == "journey" and row["meta"]["layout"] == "highlights"
    ]
    assert row["path"] == str(video.relative_to(service.home))


def test_highlights_that_cannot_be_made_are_refused_with_a_sentence(
    service: RunService, runs: list[str], untrained: dict[str, str]
) -> None:
    with pytest.raises(NotFoundError, match=r"^there is no run run-nothere$"):
        render_highlights(service.raw_store, "run-nothere", "10s")
    with pytest.raises(InvalidInputError, match=r"has no checkpoint yet, so it has no highlights; train it first$"):
        render_highlights(service.raw_store, untrained["pong"], "10s")
    with pytest.raises(InvalidInputError, match=r"^'ten' is not a duration"):
        render_highlights(service.raw_store, runs[0], "ten")
    too_long = r"^the checkpoints played only \d+s of episodes, too little for 10m of highlights; ask for at most \d+s$"
    with pytest.raises(InvalidInputError, match=too_long):
        render_highlights(service.raw_store, runs[0], "10m", SETTINGS)
    assert not list(service.paths(runs[0]).videos.glob(".render-*"))
