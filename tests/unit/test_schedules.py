"""Schedules as the RL Zoo spells them (lin_2.5e-4, a plain number), read once by config.parse_schedule."""

from __future__ import annotations

import pytest
import yaml
from stable_baselines3.common.utils import LinearSchedule

from retroml.config import Schedule, build_config, parse_schedule, to_yaml
from retroml.engine.algos import hyperparameters, sb3_value
from retroml.errors import InvalidInputError


@pytest.mark.parametrize(
    ("spelled", "expected"),
    [
        ("lin_2.5e-4", Schedule(2.5e-4, linear=True)),
        ("2.5e-4", Schedule(2.5e-4)),
        (7e-4, Schedule(7e-4)),
        ("const_1e-3", Schedule(1e-3)),
        (1, Schedule(1.0)),
    ],
)
def test_lin_anneals_to_zero_and_a_number_is_constant(spelled: object, expected: Schedule) -> None:
    assert parse_schedule(spelled) == expected


@pytest.mark.parametrize("spelled", ["fast", "lin_", "lin_x", "0", "-1e-4", "2", "nan", "inf", True])
def test_what_is_not_a_schedule_is_refused(spelled: object) -> None:
    with pytest.raises(ValueError):
        parse_schedule(spelled)


def test_ppo_configs_written_before_schedules_still_anneal() -> None:
    # A PPO learning rate or clip range was always annealed; old config.yaml files say a bare number.
    old = build_config({"train": {"algo": "ppo", "learning_rate": 1e-4, "clip_range": 0.2}}).train
    assert (old.learning_rate, old.clip_range) == (Schedule(1e-4, linear=True), Schedule(0.2, linear=True))
    written = yaml.safe_load(to_yaml(build_config({"train": {"algo": "ppo", "learning_rate": "const_1e-4"}})))
    assert written["train"]["learning_rate"] == "const_0.0001" and written["train"]["clip_range"] == 0.1
    assert build_config({"train": {"algo": "ppo", "learning_rate": "const_1e-4"}}).train.learning_rate.linear is False


def test_other_algorithms_write_a_constant_as_a_number_and_a_linear_one_spelled_out() -> None:
    written = yaml.safe_load(to_yaml(build_config({"train": {"algo": "dqn", "learning_rate": "lin_1e-3"}})))
    assert written["train"]["learning_rate"] == "lin_0.001"
    assert yaml.safe_load(to_yaml(build_config({"train": {"algo": "a2c"}})))["train"]["learning_rate"] == 7e-4


def test_a_bad_schedule_is_one_sentence_naming_the_setting() -> None:
    with pytest.raises(InvalidInputError, match=r"train\.learning_rate: 'fast' is not a schedule"):
        build_config({"train": {"learning_rate": "fast"}})


def test_the_engine_hands_sb3_the_values_the_zoo_gives() -> None:
    ppo = hyperparameters(build_config({"train": {"algo": "ppo"}}).train, progress_start=0.5)
    assert isinstance(ppo["learning_rate"], LinearSchedule)
    assert ppo["learning_rate"](0.5) == pytest.approx(2.5e-4) and ppo["clip_range"](0.5) == pytest.approx(0.1)
    assert ppo["learning_rate"](0.0) == 0.0
    dqn = hyperparameters(build_config({"train": {"algo": "dqn"}}).train)
    assert dqn["learning_rate"] == 1e-4 and dqn["optimize_memory_usage"] is False
    assert sb3_value(Schedule(3e-4)) == 3e-4 and sb3_value(0.99) == 0.99
