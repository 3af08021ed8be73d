"""The budget grammars a user types: timesteps (``2.5M``, the limit ``MAX_TIMESTEPS``) and durations (``1h30m``)."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from retroml.errors import InvalidInputError

# A budget beyond this would train for weeks on a CPU; it is a typo, not a plan.
MAX_TIMESTEPS = 1_000_000_000

_BUDGET = re.compile(r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)(?P<suffix>[kmb]?)$")
_BUDGET_SUFFIXES = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def parse_budget(text: str, label: str = "total timesteps") -> int:
    """A budget in timesteps: ``100000``, ``1_000_000``, ``20,000``, ``100k``, ``2.5M``, ``2e6``.

    The one budget grammar of every face (the CLI's ``--steps``/``--more``, the desktop dialogs).
    The value must be a whole number from 1 to ``MAX_TIMESTEPS`` (the limit ``TrainConfig`` sets);
    anything else is one :class:`InvalidInputError` sentence that starts with ``label``.
    """
    cleaned = text.strip().lower().replace("_", "").replace(",", "").replace(" ", "")
    match = _BUDGET.match(cleaned)
    limit = f"{MAX_TIMESTEPS:,}"
    if match is None:
        if cleaned.lstrip("+-") in ("inf", "infinity"):
            if cleaned.startswith("-"):
                raise InvalidInputError(f"{label} '{text}' must be positive")
            raise InvalidInputError(f"{label} '{text}' is more than the {limit} timesteps a run can train")
        raise InvalidInputError(
            f"{label} '{text}' is not a number of timesteps; write a whole number up to {limit}, "
            "e.g. 500000, 500k, 2.5M or 2e6"
        )
    # Decimal, not float: 1e400 stays a number to compare, and 2.5M is exactly 2,500,000.
    number = Decimal(match["number"])
    if number <= 0:
        raise InvalidInputError(f"{label} '{text}' must be positive")
    # The exponent first: 1e999999k would overflow Decimal's arithmetic before the comparison.
    value = number * _BUDGET_SUFFIXES[match["suffix"]] if number.adjusted() < 12 else number
    if value > MAX_TIMESTEPS:
        raise InvalidInputError(f"{label} '{text}' is more than the {limit} timesteps a run can train")
    if value < 1 or value != value.to_integral_value():
        raise InvalidInputError(f"{label} '{text}' must be a whole number of timesteps")
    return int(value)


_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_duration(text: str) -> float:
    """Seconds in a duration like ``45s``, ``3m``, ``1h30m`` or a bare number of seconds."""
    cleaned = text.strip().lower().replace(" ", "")
    try:
        seconds = float(cleaned)
    except ValueError:
        match = _DURATION.match(cleaned)
        if not cleaned or not match or not any(match.groups()):
            raise ValueError(f"'{text}' is not a duration; write e.g. 90s, 3m, 1h30m or 10h") from None
        hours, minutes, secs = (float(part) if part else 0.0 for part in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if not math.isfinite(seconds) or seconds <= 0 or seconds > 24 * 3600:
        raise ValueError(f"duration '{text}' must be more than 0 and at most 24h")
    return seconds
