"""config.compose: the one way the CLI, the web form and the desktop dialog build a run's config."""

from __future__ import annotations

from typing import Any

import pytest

from retroml.config import ComposeError, Schedule, compose, preset_config


def test_fields_and_overrides_win_over_the_file_which_wins_over_the_preset() -> None:
    config = compose(
        "quick_test",
        file={"train": {"n_envs": 4, "seed": 3}, "render": {"length": "90s"}},
        fields={"train": {"n_envs": 2, "total_timesteps": 5000, "seed": None}, "name": None},
        overrides=["render.length=45s", "train.learning_rate=1e-4"],
    )
    preset = preset_config("quick_test")
    assert config.game.id == preset["game"]["id"]
    assert config.train.n_envs == 2 and config.train.total_timesteps == 5000
    assert config.train.seed == 3  # an empty field keeps what the file said
    assert config.render.length == "45s" and config.train.learning_rate == Schedule(1e-4, linear=True)


def test_a_setting_the_chosen_algorithm_lacks_is_refused_by_name_wherever_it_comes_from() -> None:
    file = {"train": {"algo": "dqn", "buffer_size": 5000, "learning_starts": 100}}
    with pytest.raises(ComposeError, match="buffer_size does not apply to ppo") as refused:
        compose(file=file, fields={"train": {"algo": "ppo"}})
    assert refused.value.problems == [("train", "train: buffer_size does not apply to ppo")]
    with pytest.raises(ComposeError, match="buffer_size does not apply to ppo"):
        compose(fields={"train": {"algo": "ppo"}}, overrides=["train.buffer_size=5000"])
    assert compose(file=file, fields={"train": {"algo": "qrdqn"}}).train.algo == "qrdqn"


@pytest.mark.parametrize(
    ("kwargs", "where", "words"),
    [
        ({"preset": "no_such_preset"}, "preset", "unknown preset 'no_such_preset'"),
        ({"fields": {"game": {"id": "zork"}}}, "game.id", "zork"),
        ({"overrides": ["train.n_envs"]}, "overrides", "write it as section.key=value"),
        ({"overrides": ["train=3"]}, "overrides", "replaces the whole train section"),
        ({"fields": {"train": {"total_timesteps": -5}}}, "train.total_timesteps", "train.total_timesteps:"),
        ({"overrides": ["train.batch_size=1"]}, "train.batch_size", "train.batch_size:"),
    ],
)
def test_each_problem_says_where_it_came_from(kwargs: dict[str, Any], where: str, words: str) -> None:
    with pytest.raises(ComposeError) as refused:
        compose(**kwargs)
    assert [place for place, _sentence in refused.value.problems] == [where]
    assert words in str(refused.value)
