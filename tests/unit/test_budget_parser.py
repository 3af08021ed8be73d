"""The one budget grammar (``config.parse_budget``) the CLI and the desktop dialogs read timesteps with."""

from __future__ import annotations

import pytest

from retroml.config import MAX_TIMESTEPS, TrainConfig, parse_budget
from retroml.errors import InvalidInputError


@pytest.mark.parametrize(
    ("text", "timesteps"),
    [
        ("100000", 100_000),
        ("100k", 100_000),
        ("100K", 100_000),
        ("2.5M", 2_500_000),
        ("2e6", 2_000_000),
        ("2.5e3", 2_500),
        ("1_000_000", 1_000_000),
        ("20,000", 20_000),
        (" 2 M ", 2_000_000),
        ("1b", MAX_TIMESTEPS),
        ("1", 1),
    ],
)
def test_budgets_people_write(text: str, timesteps: int) -> None:
    assert parse_budget(text) == timesteps


LIMIT = f"{MAX_TIMESTEPS:,}"


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("-5", "--steps '-5' must be positive"),
        ("-inf", "--steps '-inf' must be positive"),
        ("0", "--steps '0' must be positive"),
        ("inf", f"--steps 'inf' is more than the {LIMIT} timesteps a run can train"),
        ("1e400", f"--steps '1e400' is more than the {LIMIT} timesteps a run can train"),
        ("1e999999k", f"--steps '1e999999k' is more than the {LIMIT} timesteps a run can train"),
        ("1000000001", f"--steps '1000000001' is more than the {LIMIT} timesteps a run can train"),
        ("nan", f"--steps 'nan' is not a number of timesteps; write a whole number up to {LIMIT}"),
        ("lots", "--steps 'lots' is not a number of timesteps"),
        ("", "--steps '' is not a number of timesteps"),
        ("1.5", "--steps '1.5' must be a whole number of timesteps"),
        ("2.0005k", "--steps '2.0005k' must be a whole number of timesteps"),
    ],
)
def test_what_is_not_a_budget_is_one_sentence(text: str, sentence: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        parse_budget(text, "--steps")
    assert str(refused.value).startswith(sentence)
    assert "\n" not in str(refused.value)


def test_the_limit_is_the_config_schema_s() -> None:
    highest = next(item.le for item in TrainConfig.model_fields["total_timesteps"].metadata if hasattr(item, "le"))
    assert parse_budget(f"{highest}") == highest
    with pytest.raises(InvalidInputError, match=f"{highest:,}"):
        parse_budget(f"{highest + 1}")
