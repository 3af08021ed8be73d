"""Shared helpers for tests that train for real on tiny budgets."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

# PPO settings that make a 2k-step run take seconds: 4 envs × 64 steps per rollout.
TINY_PPO = {"algo": "ppo", "n_envs": 4, "n_steps": 64, "batch_size": 64, "n_epochs": 1}


def tiny_config(game: str = "pong", steps: int = 2000, **sections: Any) -> dict[str, Any]:
    train = {**TINY_PPO, "total_timesteps": steps, **sections.pop("train", {})}
    return {"game": {"id": game}, "train": train, **sections}


def wait_until(condition: Callable[[], bool], timeout: float = 120.0, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached in time")
        time.sleep(poll)
