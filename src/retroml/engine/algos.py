"""Building and loading the SB3 algorithms with the run's hyper-parameters.

Schedules use SB3's own ``LinearSchedule`` so a checkpoint carries no reference to RetroML code and a
stock ``PPO.load()`` reads it anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sb3_contrib import QRDQN
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecEnv

from retroml.config import TrainConfig

ALGORITHM_CLASSES: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "a2c": A2C, "dqn": DQN, "qrdqn": QRDQN}


def hyperparameters(train: TrainConfig) -> dict[str, Any]:
    """The keyword arguments of the SB3 constructor for this config (schedules as the RL Zoo has them)."""
    if train.algo == "ppo":
        assert train.learning_rate is not None and train.clip_range is not None
        return {
            "n_steps": train.n_steps,
            "batch_size": train.batch_size,
            "n_epochs": train.n_epochs,
            # The Zoo anneals PPO's learning rate and clip range linearly to 0 ("lin_2.5e-4").
            "learning_rate": LinearSchedule(train.learning_rate, 0.0, 1.0),
            "clip_range": LinearSchedule(train.clip_range, 0.0, 1.0),
            "ent_coef": train.ent_coef,
            "vf_coef": train.vf_coef,
            "gamma": train.gamma,
            "gae_lambda": train.gae_lambda,
        }
    if train.algo == "a2c":
        return {
            "n_steps": train.n_steps,
            "learning_rate": train.learning_rate,
            "ent_coef": train.ent_coef,
            "vf_coef": train.vf_coef,
            "gamma": train.gamma,
            "gae_lambda": train.gae_lambda,
        }
    return {
        "batch_size": train.batch_size,
        "learning_rate": train.learning_rate,
        "gamma": train.gamma,
        "buffer_size": train.buffer_size,
        "learning_starts": train.learning_starts,
        "target_update_interval": train.target_update_interval,
        "train_freq": train.train_freq,
        "gradient_steps": train.gradient_steps,
        "exploration_fraction": train.exploration_fraction,
        "exploration_final_eps": train.exploration_final_eps,
        # Without this SB3 stores next observations twice: 100k Atari frames would be 5.6 GB, not 2.8.
        "optimize_memory_usage": False,
    }


def _policy_kwargs(train: TrainConfig) -> dict[str, Any]:
    if train.algo == "a2c":
        # The Zoo's A2C on Atari uses the TF-style RMSprop of the original paper.
        return {"optimizer_class": RMSpropTFLike, "optimizer_kwargs": {"eps": 1e-5}}
    return {}


def build_model(train: TrainConfig, env: VecEnv, tensorboard_dir: Path | None) -> BaseAlgorithm:
    """A fresh model for ``train`` on ``env``."""
    cls = ALGORITHM_CLASSES[train.algo]
    return cls(
        "CnnPolicy",
        env,
        seed=train.seed,
        verbose=0,
        device="cpu",
        tensorboard_log=str(tensorboard_dir) if tensorboard_dir else None,
        policy_kwargs=_policy_kwargs(train) or None,
        **hyperparameters(train),
    )


def load_model(train: TrainConfig, checkpoint: Path, env: VecEnv | None, tensorboard_dir: Path | None) -> BaseAlgorithm:
    """Load ``checkpoint`` to continue training, with the hyper-parameters of ``train`` taking effect."""
    cls = ALGORITHM_CLASSES[train.algo]
    custom = hyperparameters(train)
    custom.pop("buffer_size", None)  # the replay buffer is rebuilt empty with the size it was made with
    custom["tensorboard_log"] = str(tensorboard_dir) if tensorboard_dir else None
    return cls.load(checkpoint, env=env, device="cpu", custom_objects=custom)


def load_policy(algo: str, checkpoint: Path) -> BaseAlgorithm:
    """Load a checkpoint for playback only (no env, no training state)."""
    return ALGORITHM_CLASSES[algo].load(checkpoint, device="cpu")
