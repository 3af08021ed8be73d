"""The run configuration: one Pydantic model, frozen into each run's ``config.yaml``.

``train`` is one class per algorithm (:class:`PPOConfig`, :class:`A2CConfig`, :class:`DQNConfig` for DQN
and QR-DQN), chosen by ``train.algo``, so each holds only the hyper-parameters its algorithm has.
Those left unset take the RL Zoo's Atari defaults (``presets/zoo_atari.yaml``, the ``atari`` entry of
rl-baselines3-zoo ``hyperparams/<algo>.yml``), filled in when the config is built, so the written
``config.yaml`` shows every value the run really used. The presets are data too (``presets/presets.yaml``).

Every face imports from here; the modules, in the order they build on one another:

- :mod:`~retroml.config.budget`: ``parse_budget`` and ``parse_duration``, the grammars a user types;
- :mod:`~retroml.config.schedules`: ``Schedule`` and ``parse_schedule`` (``lin_2.5e-4``);
- :mod:`~retroml.config.zoo`: the RL Zoo's Atari defaults, package data;
- :mod:`~retroml.config.sections`: ``game``, ``recording`` and ``render``;
- :mod:`~retroml.config.train`: ``train``, the per-algorithm classes and their union;
- :mod:`~retroml.config.run`: ``RunConfig``, its error sentences and its YAML;
- :mod:`~retroml.config.presets`: the presets and their expected training times;
- :mod:`~retroml.config.composition`: ``compose``, preset → file → fields → overrides.
"""

from retroml.config.budget import MAX_TIMESTEPS, parse_budget, parse_duration
from retroml.config.composition import ComposeError, apply_assignment, compose, merge
from retroml.config.presets import (
    GPU_SPEEDUP_GUESS,
    PRESETS,
    REFERENCE_CORES,
    REFERENCE_STEPS_PER_SEC,
    Preset,
    all_presets,
    expected_wall_text,
    preset_config,
)
from retroml.config.run import (
    DEFAULT_MILESTONES,
    SETTING_DESCRIPTIONS,
    RunConfig,
    build_config,
    describe_validation_error,
    load_yaml,
    read_config,
    to_yaml,
    validation_problems,
)
from retroml.config.schedules import ConstantByDefault, LinearByDefault, Schedule, parse_schedule
from retroml.config.sections import GameConfig, Layout, RecordingConfig, RenderConfig, Resolution
from retroml.config.train import (
    ALGOS,
    ON_POLICY,
    TRAIN_CLASSES,
    A2CConfig,
    Algo,
    DQNConfig,
    OnPolicyConfig,
    PPOConfig,
    TrainConfig,
    TrainSettings,
    zoo_defaults,
)
from retroml.config.zoo import HYPERPARAMETERS, ZOO_ATARI_DEFAULTS

__all__ = [
    "ALGOS",
    "DEFAULT_MILESTONES",
    "GPU_SPEEDUP_GUESS",
    "HYPERPARAMETERS",
    "MAX_TIMESTEPS",
    "ON_POLICY",
    "PRESETS",
    "REFERENCE_CORES",
    "REFERENCE_STEPS_PER_SEC",
    "SETTING_DESCRIPTIONS",
    "TRAIN_CLASSES",
    "ZOO_ATARI_DEFAULTS",
    "A2CConfig",
    "Algo",
    "ComposeError",
    "ConstantByDefault",
    "DQNConfig",
    "GameConfig",
    "Layout",
    "LinearByDefault",
    "OnPolicyConfig",
    "PPOConfig",
    "Preset",
    "RecordingConfig",
    "RenderConfig",
    "Resolution",
    "RunConfig",
    "Schedule",
    "TrainConfig",
    "TrainSettings",
    "all_presets",
    "apply_assignment",
    "build_config",
    "compose",
    "describe_validation_error",
    "expected_wall_text",
    "load_yaml",
    "merge",
    "parse_budget",
    "parse_duration",
    "parse_schedule",
    "preset_config",
    "read_config",
    "to_yaml",
    "validation_problems",
    "zoo_defaults",
]
