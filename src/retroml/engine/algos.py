"""Building and loading the SB3 algorithms with the run's hyper-parameters.

Schedules use SB3's own ``LinearSchedule`` so a checkpoint carries no reference to RetroML code and a
stock ``PPO.load()`` reads it anywhere.

Every leg anneals from the configured values. SB3 computes a schedule's ``progress_remaining`` as
``1 - num_timesteps / (num_timesteps at the leg's start + leg budget)``, so a leg that starts at
timestep S with budget B begins at ``p0 = B / (S + B)``, not at 1: a stock schedule would start a
branch or a continue near its end. A ``LinearSchedule`` from ``value / p0`` down to 0 is ``value``
at ``p0`` and 0 at the leg's end.

Training runs on the device ``train.device`` resolves to (:mod:`retroml.engine.devices`); playback loads
on the CPU, which SB3 does for a checkpoint saved on a GPU too.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecEnv

from retroml.config import DQNConfig, Schedule, TrainSettings
from retroml.engine.checkpoints import latest_timesteps
from retroml.engine.devices import resolve_device
from retroml.engine.thread_placement import PlacedA2C, PlacedDQN, PlacedPPO, PlacedQRDQN

logger = logging.getLogger(__name__)

REPLAY_BUFFER_FILE = "replay_buffer.pkl"
# SB3's classes with measured torch thread placement (:mod:`retroml.engine.thread_placement`); their
# checkpoints are stock SB3 zips.
ALGORITHM_CLASSES: dict[str, type[BaseAlgorithm]] = {
    "ppo": PlacedPPO,
    "a2c": PlacedA2C,
    "dqn": PlacedDQN,
    "qrdqn": PlacedQRDQN,
}


def leg_progress_start(start_timesteps: int, budget: int) -> float:
    """SB3's ``progress_remaining`` at the first step of a leg (1.0 for a fresh model)."""
    return budget / (start_timesteps + budget)


def sb3_value(value: Any, progress_start: float = 1.0) -> Any:
    """A config value as SB3 takes it: a :class:`Schedule` becomes a number or SB3's ``LinearSchedule``.

    A linear schedule starts the leg at its configured value (see the module docstring).
    """
    if not isinstance(value, Schedule):
        return value
    if value.linear:
        return LinearSchedule(value.initial / progress_start, 0.0, 1.0)
    return value.initial


def hyperparameters(train: TrainSettings, progress_start: float = 1.0) -> dict[str, Any]:
    """The keyword arguments of the SB3 constructor for this config: its algorithm's hyper-parameters.

    :param progress_start: SB3's ``progress_remaining`` when the leg starts (see the module docstring).
    """
    kwargs = {name: sb3_value(getattr(train, name), progress_start) for name in train.hyperparameter_names()}
    if isinstance(train, DQNConfig):
        # Without this SB3 stores next observations twice: 100k Atari frames would be 5.6 GB, not 2.8.
        kwargs["optimize_memory_usage"] = False
    return kwargs


def _policy_kwargs(train: TrainSettings) -> dict[str, Any]:
    if train.algo == "a2c":
        # The Zoo's A2C on Atari uses the TF-style RMSprop of the original paper.
        return {"optimizer_class": RMSpropTFLike, "optimizer_kwargs": {"eps": 1e-5}}
    return {}


def build_model(train: TrainSettings, env: VecEnv, tensorboard_dir: Path | None) -> BaseAlgorithm:
    """A fresh model for ``train`` on ``env``."""
    cls = ALGORITHM_CLASSES[train.algo]
    return cls(
        "CnnPolicy",
        env,
        seed=train.seed,
        verbose=0,
        device=resolve_device(train.device),
        tensorboard_log=str(tensorboard_dir) if tensorboard_dir else None,
        policy_kwargs=_policy_kwargs(train) or None,
        **hyperparameters(train),
    )


def load_model(
    train: TrainSettings, checkpoint: Path, env: VecEnv, tensorboard_dir: Path | None, budget: int
) -> BaseAlgorithm:
    """Load ``checkpoint`` to train a leg of ``budget`` timesteps, with ``train``'s hyper-parameters.

    A DQN-family model gets back the replay buffer saved beside the checkpoint; without one (turned
    off, or lost with a killed process) ``learning_starts`` counts again from the leg's start, so it
    never trains on an almost empty buffer.
    """
    cls = ALGORITHM_CLASSES[train.algo]
    start = latest_timesteps(checkpoint)
    custom = hyperparameters(train, leg_progress_start(start, budget))
    custom.pop("buffer_size", None)  # the replay buffer keeps the size it was made with
    custom["tensorboard_log"] = str(tensorboard_dir) if tensorboard_dir else None
    model = cls.load(checkpoint, env=env, device=resolve_device(train.device), custom_objects=custom)
    if isinstance(model, OffPolicyAlgorithm):
        buffer = replay_buffer_path(checkpoint.parent)
        if train.keep_replay_buffer and buffer.is_file() and _timesteps_of_buffer(buffer) == start:
            model.load_replay_buffer(buffer)
            logger.info("replay buffer reloaded: %d transitions", _transitions(model))
        else:
            model.learning_starts = start + model.learning_starts  # the config's, from custom_objects
            logger.info("no replay buffer of this checkpoint: learning starts at %d timesteps", model.learning_starts)
    return model


def replay_buffer_path(folder: Path) -> Path:
    return folder / REPLAY_BUFFER_FILE


def save_replay_buffer(model: BaseAlgorithm, train: TrainSettings, folder: Path) -> None:
    """Save a DQN-family replay buffer beside ``latest.zip`` (atomically), when the config keeps it."""
    if not isinstance(model, OffPolicyAlgorithm) or not train.keep_replay_buffer:
        return
    target = replay_buffer_path(folder)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        model.save_replay_buffer(temporary)
        # The buffer belongs to one checkpoint: its timesteps are in the name of a marker beside it.
        os.replace(temporary, target)
        target.with_suffix(".timesteps").write_text(str(model.num_timesteps), encoding="utf-8")
    finally:
        temporary.unlink(missing_ok=True)
    logger.info("replay buffer saved: %d transitions, %.1f MB", _transitions(model), target.stat().st_size / 1e6)


def _transitions(model: OffPolicyAlgorithm) -> int:
    buffer = model.replay_buffer
    return 0 if buffer is None else buffer.size() * buffer.n_envs  # SB3 counts a position per step of all envs


def replay_buffer_bytes(model: BaseAlgorithm) -> int:
    """The memory (and file size) of a DQN-family replay buffer: stated before training."""
    buffer = getattr(model, "replay_buffer", None)
    if buffer is None:
        return 0
    names = ("observations", "next_observations", "actions", "rewards", "dones")
    arrays = (getattr(buffer, name, None) for name in names)
    return sum(array.nbytes for array in arrays if array is not None)


def _timesteps_of_buffer(buffer: Path) -> int | None:
    try:
        return int(buffer.with_suffix(".timesteps").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_policy(algo: str, checkpoint: Path) -> BaseAlgorithm:
    """Load a checkpoint for playback only (no env, no training state), on the CPU whatever it trained on."""
    return ALGORITHM_CLASSES[algo].load(checkpoint, device="cpu")
