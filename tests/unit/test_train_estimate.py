"""The training time estimate: this machine's measured speed, the nearest measurement, or a labelled first guess."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from retroml.calibration import CALIBRATION_FILE, record_render, render_cost
from retroml.config import PRESETS, REFERENCE_CORES, REFERENCE_STEPS_PER_SEC, build_config
from retroml.engine.devices import torch_build
from retroml.errors import InvalidInputError
from retroml.runs.train_estimate import (
    device_choices,
    estimate_duration,
    estimate_training,
    measured_speed,
    record_leg,
)  # fmt: skip

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="the answers of a machine without a GPU")


def config(budget: int = 100_000, algo: str = "ppo", n_envs: int = 8, device: str = "cpu"):
    return build_config({"train": {"algo": algo, "n_envs": n_envs, "total_timesteps": budget, "device": device}})


def test_before_any_run_the_estimate_is_a_first_guess_and_says_so(tmp_path: Path) -> None:
    estimate = estimate_training(tmp_path, config())
    assert estimate.basis == "first guess"
    assert estimate.text.endswith("on this machine")
    assert estimate.note.startswith("a first guess: no run measured on this machine yet")
    assert estimate.seconds > 100_000 / 10_000


def test_a_measured_leg_gives_the_estimate_blended_with_later_ones(tmp_path: Path) -> None:
    record_leg(tmp_path, "ppo", 8, "cpu", timesteps=30_000, train_seconds=100.0, wall_seconds=110.0)
    estimate = estimate_training(tmp_path, config(budget=600_000))
    assert estimate.basis == "measured" and estimate.steps_per_sec == pytest.approx(300.0)
    assert estimate.seconds == pytest.approx(10.0 + 2000.0)
    assert estimate.text == "≈ 34 min on this machine"
    record_leg(tmp_path, "ppo", 8, "cpu", timesteps=50_000, train_seconds=100.0, wall_seconds=104.0)
    speed = measured_speed(tmp_path, "ppo", 8, "cpu")
    assert speed is not None and speed.legs == 2
    assert speed.steps_per_sec == pytest.approx(400.0) and speed.startup_seconds == pytest.approx(7.0)
    assert "over 2 runs of PPO with 8 envs on the CPU" in estimate_training(tmp_path, config()).note


def test_a_leg_too_short_to_measure_is_not_recorded(tmp_path: Path) -> None:
    assert record_leg(tmp_path, "ppo", 8, "cpu", timesteps=256, train_seconds=0.5, wall_seconds=9.0) is None
    assert measured_speed(tmp_path, "ppo", 8, "cpu") is None


def test_other_envs_use_the_nearest_measurement_of_the_same_algorithm_and_device(tmp_path: Path) -> None:
    record_leg(tmp_path, "ppo", 4, "cpu", timesteps=20_000, train_seconds=100.0, wall_seconds=105.0)
    record_leg(tmp_path, "ppo", 16, "cpu", timesteps=40_000, train_seconds=100.0, wall_seconds=105.0)
    record_leg(tmp_path, "dqn", 7, "cpu", timesteps=90_000, train_seconds=100.0, wall_seconds=105.0)
    estimate = estimate_training(tmp_path, config(n_envs=6))
    assert estimate.basis == "nearest" and estimate.steps_per_sec == pytest.approx(200.0)
    assert "with PPO and 4 envs on the CPU (not yet with 6)" in estimate.note
    assert estimate_training(tmp_path, config(algo="a2c", n_envs=7)).basis == "first guess"


def test_training_and_render_measurements_share_one_calibration_file(tmp_path: Path) -> None:
    record_render(tmp_path, "single", "640x480", [100], 1, 5.0, 10.0, 1000)
    record_leg(tmp_path, "ppo", 8, "cpu", timesteps=30_000, train_seconds=100.0, wall_seconds=110.0)
    assert render_cost(tmp_path, "single", "640x480", 1) is not None
    assert set(json.loads((tmp_path / CALIBRATION_FILE).read_text())) == {
        "render:single:640x480:inline", "train:ppo:8:cpu",
    }  # fmt: skip


@no_gpu
def test_a_cpu_machine_offers_auto_as_the_cpu_and_refuses_a_gpu_estimate(tmp_path: Path) -> None:
    assert [(choice.value, choice.label) for choice in device_choices()] == [
        ("auto", "auto (CPU — no CUDA GPU seen)"), ("cpu", "CPU"),
    ]  # fmt: skip
    assert estimate_training(tmp_path, config(device="auto")).device == "cpu"
    with pytest.raises(InvalidInputError, match=rf"no CUDA GPU \({torch_build()}\)"):
        estimate_training(tmp_path, config(device="cuda"))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (4.2, "4 s"),
        (93, "1 min 35 s"),
        (840, "14 min"),
        (7790, "2 h 10 min"),
        (137_939, "38 h 20 min"),
        (5e6, "57.9 days"),
    ],
)
def test_durations_are_shown_at_the_precision_an_estimate_has(seconds: float, text: str) -> None:
    assert estimate_duration(seconds) == text


def test_every_preset_states_its_wall_time_on_a_cpu_and_an_estimated_one_on_a_gpu() -> None:
    for preset in PRESETS.values():
        assert "on a 2-core CPU, about" in preset["description"], preset["title"]
        assert preset["description"].endswith("on a GPU (estimated)."), preset["title"]
    assert "about 4 min on a 2-core CPU" in PRESETS["quick_test"]["description"]


def test_the_first_guess_is_the_rate_the_presets_state(tmp_path: Path) -> None:
    estimate = estimate_training(tmp_path, build_config({"train": {"algo": "dqn", "total_timesteps": 1000}}))
    cores = os.cpu_count() or REFERENCE_CORES
    assert estimate.steps_per_sec == pytest.approx(REFERENCE_STEPS_PER_SEC["dqn"] * max(1, (cores / 2) ** 0.5))
