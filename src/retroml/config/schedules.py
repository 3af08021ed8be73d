"""Schedules as the RL Zoo spells them: ``lin_2.5e-4`` anneals to 0, ``2.5e-4`` (or ``const_2.5e-4``) is constant."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema


@dataclass(frozen=True)
class Schedule:
    """A value over a leg, as the RL Zoo spells it: ``lin_2.5e-4`` anneals from 2.5e-4 to 0, ``2.5e-4`` is constant.

    ``const_2.5e-4`` is constant too. The engine turns it into SB3's own schedule
    (:func:`retroml.engine.algos.sb3_value`).
    """

    initial: float
    linear: bool = False

    def spelled(self, bare_is_linear: bool) -> str | float:
        """The shortest spelling that reads back as this schedule (a bare number when it can be)."""
        if self.linear == bare_is_linear:
            return self.initial
        return f"{'lin' if self.linear else 'const'}_{self.initial!r}"


_SCHEDULE = re.compile(r"^(?:(?P<kind>lin|const)_)?(?P<number>[^_].*)$")


def parse_schedule(value: Any, bare_is_linear: bool = False) -> Schedule:
    """The one reader of a schedule: ``lin_X``, ``const_X`` or a number (``Schedule`` passes through).

    :param bare_is_linear: what a bare number means. PPO's ``learning_rate`` and ``clip_range`` were
        always annealed linearly, and configs written before schedules were spelled out say a bare
        number there; it keeps that meaning, so those configs train the same model.
    """
    if isinstance(value, Schedule):
        return value
    match = _SCHEDULE.match(str(value).strip()) if not isinstance(value, bool) else None
    try:
        initial = float(match["number"]) if match else math.nan
    except ValueError:
        initial = math.nan
    if match is None or math.isnan(initial):
        raise ValueError(f"'{value}' is not a schedule; write a number such as 2.5e-4, or lin_2.5e-4 to anneal it to 0")
    if not 0 < initial <= 1:
        raise ValueError(f"'{value}' must start above 0 and at most at 1")
    linear = match["kind"] == "lin" if match["kind"] else bare_is_linear
    return Schedule(initial, linear)


_SCHEDULE_SCHEMA = WithJsonSchema(
    {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^(lin|const)_[0-9.eE+-]+$"}]}
)
# A bare number is constant, as in the RL Zoo.
ConstantByDefault = Annotated[
    Schedule, PlainValidator(parse_schedule), PlainSerializer(lambda s: s.spelled(False)), _SCHEDULE_SCHEMA
]
# A bare number anneals to 0: the meaning PPO's learning rate and clip range always had here.
LinearByDefault = Annotated[
    Schedule,
    PlainValidator(lambda value: parse_schedule(value, bare_is_linear=True)),
    PlainSerializer(lambda s: s.spelled(True)),
    _SCHEDULE_SCHEMA,
]
