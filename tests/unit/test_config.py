"""The run config: Fast Mode rules, RL Zoo defaults, and one readable sentence for every bad value."""

from pathlib import Path

import pytest
import yaml

from retroml.config import (
    DEFAULT_MILESTONES,
    PRESETS,
    Schedule,
    apply_assignment,
    build_config,
    load_yaml,
    parse_duration,
    preset_config,
    to_yaml,
)
from retroml.errors import InvalidInputError


def test_fast_mode_forces_no_recording_and_auto_render_in_written_yaml() -> None:
    config = build_config({"fast_mode": True, "recording": {"enabled": True, "milestone_clip_seconds": 30}})
    written = yaml.safe_load(to_yaml(config))
    assert written["fast_mode"] is True
    assert written["recording"]["enabled"] is False
    assert written["recording"]["milestone_clip_seconds"] == 0
    assert written["render"]["auto"] is True


def test_defaults_are_the_rl_zoo_atari_ones_per_algorithm() -> None:
    ppo = build_config({"train": {"algo": "ppo"}}).train
    assert (ppo.n_envs, ppo.n_steps, ppo.batch_size, ppo.n_epochs) == (8, 128, 256, 4)
    # The Zoo's lin_2.5e-4 and lin_0.1: annealed linearly to 0.
    assert (ppo.learning_rate, ppo.clip_range, ppo.ent_coef) == (Schedule(2.5e-4, True), Schedule(0.1, True), 0.01)
    dqn = build_config({"train": {"algo": "dqn", "total_timesteps": 10_000_000}}).train
    assert (dqn.buffer_size, dqn.learning_starts, dqn.exploration_final_eps) == (100_000, 100_000, 0.01)
    assert build_config({}).milestones_pct == DEFAULT_MILESTONES


def test_replay_settings_shrink_with_a_tiny_budget_so_dqn_still_learns() -> None:
    dqn = build_config({"train": {"algo": "dqn", "total_timesteps": 2000}}).train
    assert dqn.learning_starts == 200
    assert dqn.buffer_size == 200


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"train": {"total_timesteps": -5}}, "train.total_timesteps"),
        ({"train": {"total_timesteps": 10**15}}, "train.total_timesteps"),
        ({"train": {"batch_size": 100}}, "batch_size 100 must divide n_envs × n_steps = 1024"),
        ({"train": {"batch_size": 1}}, "train.batch_size: Input should be greater than or equal to 2"),
        ({"trian": {"algo": "ppo"}}, "trian: is not a known setting"),
        ({"train": {"algo": "sac"}}, "train.algo"),
        ({"train": {"algo": "dqn", "n_epochs": 3}}, "n_epochs does not apply to dqn"),
        ({"milestones_pct": [0, 150]}, "milestones_pct"),
        ({"render": {"length": "forever"}}, "'forever' is not a duration"),
    ],
)
def test_invalid_values_name_the_field_and_the_reason(data: dict, expected: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        build_config(data)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("n_envs", "batch_size"), [(3, 192), (5, 160), (8, 256), (7, 224)])
def test_ppo_picks_a_batch_size_that_divides_the_rollout_when_none_is_given(n_envs: int, batch_size: int) -> None:
    # The Zoo's 256 does not divide 3 × 128 = 384: the largest size up to 256 that does is 192.
    assert build_config({"train": {"n_envs": n_envs}}).train.batch_size == batch_size


def test_unknown_game_suggests_the_closest_id() -> None:
    with pytest.raises(InvalidInputError, match=r"unknown game 'pongg' — did you mean 'pong'\?"):
        build_config({"game": {"id": "pongg"}})


def test_malformed_yaml_is_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: {algo: ppo\n  total_timesteps: [", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="is not valid YAML"):
        load_yaml(bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="must hold a mapping"):
        load_yaml(listing)


def test_written_config_reads_back_identical() -> None:
    config = build_config({"game": {"id": "breakout"}, "train": {"algo": "a2c", "total_timesteps": 5000}})
    assert build_config(yaml.safe_load(to_yaml(config))) == config


def test_every_preset_is_a_valid_config() -> None:
    assert {"quick_test", "ppo_standard", "dqn", "epic_5h", "epic_10h"} <= PRESETS.keys()
    quick = build_config(preset_config("quick_test"))
    assert quick.train.total_timesteps == 100_000
    assert build_config(preset_config("epic_10h")).render.length == "10h"


def test_set_overrides_parse_values_as_yaml() -> None:
    data = apply_assignment({"train": {"algo": "ppo"}}, "train.learning_rate=1e-4")
    assert build_config(data).train.learning_rate == Schedule(1e-4, linear=True)
    with pytest.raises(InvalidInputError, match=r"section\.key=value"):
        apply_assignment({}, "train.learning_rate")


def test_durations() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("3m") == 180
    assert parse_duration("1h30m") == 5400
    assert parse_duration("10h") == 36000
    with pytest.raises(ValueError):
        parse_duration("0s")
