"""The analytics layout: every number beside the game is what the real network computed for that frame."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from ale_py.env import AtariEnv
from tests.integration.conftest import tiny_config

from retroml.config import GameConfig, RenderConfig, build_config
from retroml.engine.algos import build_model
from retroml.engine.envs import AtariNativeVecEnv
from retroml.runs.service import RunService
from retroml.video.analytics import AnalyticsCanvas, analytics_heading, training_curve
from retroml.video.encoder import probe
from retroml.video.frames import Frame, Inspection, MilestoneLabel
from retroml.video.journey import plan_journey, render_run_journey
from retroml.video.playback import Playback

LABEL = MilestoneLabel(50, 1000, 3, 1.5)
CURVE = ((256, 0.0), (512, 1.0), (1000, 1.5))


def fresh_model(game: str, algo: str = "ppo") -> Any:
    """A real, untrained SB3 model built as training builds it, on the real native ALE env."""
    if algo == "ppo":
        config = build_config(tiny_config(game, 1000, train={"n_envs": 1}))
    else:
        train = {"algo": algo, "total_timesteps": 1000, "buffer_size": 500, "learning_starts": 100}
        config = build_config({"game": {"id": game}, "train": train})
    env = AtariNativeVecEnv(config.game, config.train.n_envs or 1)
    model = build_model(config.train, env, None)
    env.close()
    return model


@pytest.fixture(scope="module")
def breakout_ppo() -> Any:
    return fresh_model("breakout")


def analytics_frames(model: Any, game: str, count: int, sampled: bool = False) -> tuple[AnalyticsCanvas, list[Frame]]:
    """``count`` frames of ``model`` playing ``game`` with the analytics canvas drawn for each."""
    playback = Playback(GameConfig(id=game), model, seed=1, sampled=sampled)
    heading = analytics_heading(game, type(model).__name__, LABEL)
    canvas = AnalyticsCanvas.for_playback(playback, heading, LABEL, CURVE)
    stream = playback.frames()
    frames = []
    for _ in range(count):
        frame = next(stream)
        assert canvas.draw(frame).shape == (720, 1280, 3)
        frames.append(frame)
    playback.close()
    return canvas, frames


def observation_tensor(model: Any, inspection: Inspection) -> torch.Tensor:
    obs, _ = model.policy.obs_to_tensor(inspection.observation)
    return obs


@pytest.mark.parametrize(("game", "actions"), [("pong", 6), ("breakout", 4)])
def test_action_bars_are_the_policys_probabilities_named_after_the_games_actions(
    game: str, actions: int, breakout_ppo: Any
) -> None:
    model = breakout_ppo if game == "breakout" else fresh_model(game)
    canvas, frames = analytics_frames(model, game, 40)
    truth = AtariEnv(game=game).get_action_meanings()
    assert canvas.meanings == truth and len(truth) == actions
    assert canvas.kind == "probabilities"
    steps = {id(frame.inspection): frame.inspection for frame in frames}
    for inspection in steps.values():
        assert inspection is not None and inspection.scores.shape == (actions,)
        assert math.isclose(float(inspection.scores.sum()), 1.0, abs_tol=1e-5)
        with torch.no_grad():
            probs = model.policy.get_distribution(observation_tensor(model, inspection)).distribution.probs[0]
        np.testing.assert_allclose(inspection.scores, probs.numpy(), rtol=1e-6)
        # The highlighted action is the one predict() chooses for the observation it was shown with.
        assert inspection.action == int(model.predict(inspection.observation, deterministic=True)[0])


def test_value_line_and_heat_maps_are_the_networks_outputs(breakout_ppo: Any) -> None:
    model = breakout_ppo
    canvas, frames = analytics_frames(model, "breakout", 30)
    last = frames[-1].inspection
    assert last is not None
    obs = observation_tensor(model, last)
    with torch.no_grad():
        value = float(model.policy.predict_values(obs)[0, 0])
        cnn = model.policy.features_extractor.cnn  # NatureCNN: conv, ReLU, conv, ReLU, conv, ReLU, flatten
        maps = [cnn[: 2 * layer](obs.float() / 255.0)[0].mean(dim=0).numpy() for layer in (1, 2, 3)]
    assert math.isclose(canvas.values[-1], value, rel_tol=1e-6, abs_tol=1e-7)
    assert canvas.value_name == "V(s)"
    assert [activation.shape for activation in last.activations] == [(20, 20), (9, 9), (7, 7)]
    for shown, computed in zip(last.activations, maps, strict=True):
        np.testing.assert_allclose(shown, computed, rtol=1e-5, atol=1e-6)
    # One point per agent step (frame-skip 4 at 30 fps: every second video frame).
    assert len(canvas.values) == len({id(frame.inspection) for frame in frames}) == 15


def test_analytics_plays_the_same_game_as_the_single_layout(breakout_ppo: Any) -> None:
    """Its one forward pass per step chooses what predict() would, sampled actions included."""
    plain = Playback(GameConfig(id="breakout"), breakout_ppo, seed=1, sampled=True)
    stream = plain.frames()
    expected = [next(stream).rgb for _ in range(80)]
    _, frames = analytics_frames(breakout_ppo, "breakout", 80, sampled=True)
    assert all(np.array_equal(frame.rgb, rgb) for frame, rgb in zip(frames, expected, strict=True))


@pytest.mark.parametrize("algo", ["dqn", "qrdqn"])
def test_value_based_policies_show_q_values_and_max_q(algo: str) -> None:
    model = fresh_model("pong", algo)
    canvas, frames = analytics_frames(model, "pong", 20)
    assert (canvas.kind, canvas.value_name) == ("q-values", "max Q")
    inspection = frames[-1].inspection
    assert inspection is not None
    with torch.no_grad():
        obs = observation_tensor(model, inspection)
        if algo == "dqn":
            q_values = model.policy.q_net(obs)[0].numpy()
        else:
            q_values = model.policy.quantile_net(obs).mean(dim=1)[0].numpy()
    np.testing.assert_allclose(inspection.scores, q_values, rtol=1e-6)
    assert math.isclose(canvas.values[-1], float(q_values.max()), rel_tol=1e-6)
    assert inspection.action == int(model.predict(inspection.observation, deterministic=True)[0])


def test_training_curve_keeps_finished_episodes_up_to_the_checkpoint() -> None:
    rows = [{"timesteps": step, "score_mean": None if step < 300 else step / 100} for step in range(0, 5000, 10)]
    curve = training_curve(rows, 3000, points=50)
    assert len(curve) == 50 and curve[0] == (300, 3.0) and curve[-1] == (3000, 30.0)
    assert training_curve(rows, 200) == ()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> RunService:
    return RunService(tmp_path_factory.mktemp("analytics") / "home")


@pytest.fixture(scope="module")
def run_id(service: RunService) -> str:
    config = build_config(tiny_config("breakout", 1024, milestones_pct=[0, 100], recording={"enabled": False}))
    run_id = service.create(config).run_id
    assert service.wait(run_id, timeout=180).status == "completed", service.logs(run_id)
    return run_id


def test_an_analytics_journey_is_a_1280x720_video_with_the_training_curve(
    service: RunService, run_id: str, tmp_path: Path
) -> None:
    settings = RenderConfig(layout="analytics", length="6s")  # resolution stays 640x480: analytics ignores it
    plan = plan_journey(service.raw_store, run_id, settings, tmp_path)
    metrics = service.raw_store.metrics(run_id)
    for segment in plan.segments:
        (pane,) = segment.panes
        assert (segment.layout, segment.width, segment.height) == ("analytics", 1280, 720)
        expected = [
            (row["timesteps"], row["score_mean"])
            for row in metrics
            if row["score_mean"] is not None and row["timesteps"] <= pane.label.timesteps
        ]
        assert list(pane.curve) == expected
    assert plan.segments[-1].panes[0].curve, "the tiny run finished episodes, so the last checkpoint has a curve"

    video = render_run_journey(service.raw_store, run_id, settings, workers=1)
    info = probe(video)
    assert (info.codec, info.width, info.height, info.fps) == ("h264", 1280, 720, 30.0)
    assert info.frames == plan.frames == 180
    manifest = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["layout"] == "analytics" and manifest["frames"] == 180
    assert video.name.endswith("__journey_6s_analytics.mp4")
