"""train is one class per algorithm, chosen by train.algo: each has only its own hyper-parameters."""

from __future__ import annotations

import pytest
import yaml

from retroml.config import (
    ALGOS,
    HYPERPARAMETERS,
    PRESETS,
    TRAIN_CLASSES,
    ZOO_ATARI_DEFAULTS,
    A2CConfig,
    DQNConfig,
    PPOConfig,
    RunConfig,
    build_config,
    to_yaml,
)
from retroml.errors import InvalidInputError


@pytest.mark.parametrize(
    ("algo", "cls"), [("ppo", PPOConfig), ("a2c", A2CConfig), ("dqn", DQNConfig), ("qrdqn", DQNConfig)]
)
def test_train_algo_chooses_the_algorithm_s_own_class(algo: str, cls: type) -> None:
    assert type(build_config({"train": {"algo": algo}}).train) is cls
    assert set(ZOO_ATARI_DEFAULTS[algo]) <= set(cls.model_fields)  # every Zoo default has its setting


def test_a_train_section_without_algo_is_ppo_the_default() -> None:
    assert type(build_config({"train": {"total_timesteps": 5000}}).train) is PPOConfig
    assert type(RunConfig().train) is PPOConfig


@pytest.mark.parametrize("algo", ALGOS)
def test_a_frozen_config_validates_again_to_itself_under_every_algorithm(algo: str) -> None:
    config = build_config({"train": {"algo": algo, "total_timesteps": 50_000}})
    assert build_config(yaml.safe_load(to_yaml(config))) == config
    assert RunConfig.model_validate_json(config.model_dump_json()) == config


@pytest.mark.parametrize("algo", ALGOS)
def test_every_other_algorithm_s_setting_is_refused_by_name(algo: str) -> None:
    for name in sorted(HYPERPARAMETERS - set(TRAIN_CLASSES[algo].model_fields)):
        with pytest.raises(InvalidInputError, match=f"train: {name} does not apply to {algo}"):
            build_config({"train": {"algo": algo, name: 1}})


def test_an_unknown_algorithm_names_the_choices() -> None:
    with pytest.raises(InvalidInputError, match=r"train\.algo: Input should be 'ppo', 'a2c', 'dqn' or 'qrdqn'"):
        build_config({"train": {"algo": "sac"}})


def test_errors_inside_an_algorithm_s_class_name_the_setting_without_the_class() -> None:
    with pytest.raises(InvalidInputError, match=r"train\.exploration_fraction: Input should be less than"):
        build_config({"train": {"algo": "dqn", "exploration_fraction": 2}})


def test_presets_and_zoo_defaults_are_package_data() -> None:
    assert list(PRESETS) == ["quick_test", "ppo_standard", "dqn", "epic_5h", "epic_10h"]
    assert ZOO_ATARI_DEFAULTS["ppo"]["learning_rate"] == "lin_2.5e-4"  # spelled as the RL Zoo spells it
    assert all("{wall}" not in preset["description"] for preset in PRESETS.values())
