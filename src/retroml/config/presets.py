"""The presets (``presets/presets.yaml``): named starting points, each with its expected training time."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from retroml.config.run import RunConfig, build_config
from retroml.config.zoo import package_yaml
from retroml.errors import InvalidInputError

# Timesteps per second on the reference machine (2 CPU cores, quiet, torch CPU build, each algorithm's
# default environments): PPO from benchmarks/learning_check.py (500k steps in 21.6 min), A2C and DQN
# from benchmarks/speed_truth.py (450 and 237; DQN measured with 4 envs), QR-DQN guessed 10 % under DQN.
# The first guess of runs.train_estimate before a machine has measured itself, and the presets' CPU times.
REFERENCE_STEPS_PER_SEC = {"ppo": 386.0, "a2c": 450.0, "dqn": 237.0, "qrdqn": 215.0}
REFERENCE_CORES = 2
# Not measured (no GPU here): PPO's update is 70-75 % of its CPU wall time; ~10x faster on a mid-range
# GPU with the emulators unchanged gives ~2.5x the CPU rate.
GPU_SPEEDUP_GUESS = 2.5


def _about(seconds: float) -> str:
    return f"{max(round(seconds / 60), 1)} min" if seconds < 90 * 60 else f"{round(seconds / 3600)} h"


def expected_wall_text(algo: str, timesteps: int) -> str:
    """``about 4 min on a 2-core CPU, about 2 min on a GPU (estimated)``: what a preset says it takes."""
    cpu = timesteps / REFERENCE_STEPS_PER_SEC[algo]
    return (
        f"about {_about(cpu)} on a {REFERENCE_CORES}-core CPU, "
        f"about {_about(cpu / GPU_SPEEDUP_GUESS)} on a GPU (estimated)"
    )


def _load_presets() -> dict[str, dict[str, Any]]:
    presets = package_yaml("presets.yaml")
    for preset in presets.values():
        train = preset["config"]["train"]
        preset["description"] = preset["description"].format(
            wall=expected_wall_text(train["algo"], train["total_timesteps"])
        )
    return presets


# Each preset: its title, a one-line description (with the expected training time) and its own settings.
PRESETS: dict[str, dict[str, Any]] = _load_presets()


def preset_config(preset: str) -> dict[str, Any]:
    """The raw config dict of a preset (a copy, safe to modify)."""
    if preset not in PRESETS:
        raise InvalidInputError(f"unknown preset '{preset}'; presets: {', '.join(PRESETS)}")
    return deep_copy(PRESETS[preset]["config"])


class Preset(BaseModel):
    """A named starting point: ``retroml train --preset ID``, the presets of the New run form."""

    id: str = Field(description="The name to ask for it by (quick_test).")
    title: str = Field(description="Its human title (Quick test).")
    description: str = Field(description="One line on what it trains and how long that takes.")
    config: dict[str, Any] = Field(description="The preset's own settings; flags and form fields override them.")
    effective: RunConfig = Field(description="The full config they give, every default filled in.")


def all_presets() -> list[Preset]:
    """Every preset, in the order the pickers show them."""
    return [
        Preset(
            id=key,
            title=preset["title"],
            description=preset["description"],
            config=deep_copy(preset["config"]),
            effective=build_config(preset["config"]),
        )
        for key, preset in PRESETS.items()
    ]


def deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a nested mapping: its dicts are copied, the values in them shared."""
    return {key: deep_copy(value) if isinstance(value, dict) else value for key, value in data.items()}
