"""Milestones: the points of a run's training where a checkpoint is kept for the journey.

A run plans its milestones as percentages of its whole budget, from the timesteps it started at
(``origin``: 0, or the checkpoint a branch starts from) to the timesteps it is to end at
(``total``). Every milestone lives at an absolute timestep, so continuing a run never restarts the
count: a leg saves only the milestones beyond the last one reached, and a run extended by
"train N more" keeps the milestones it reached and plans the rest over its new total. Percentages
shown to a user are always computed from timesteps against the current plan, so a journey runs
forward in both.

The training process (``engine/``), the run model (``runs/``) and the journey (``video/``) all
read these rules from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def origin(row: Mapping[str, Any]) -> int:
    """Where a run's plan starts, from its store row: its first leg's start (0, or a branch's checkpoint).

    A row written before legs were recorded has only ``leg_start_timesteps``, which is then the origin.
    """
    legs = row.get("legs") or []
    return int(legs[0]["start_timesteps"]) if legs else int(row["leg_start_timesteps"])


def targets(milestones_pct: Sequence[int], origin: int, total: int) -> dict[int, int]:
    """The absolute timestep of each planned milestone percentage."""
    budget = max(total - origin, 0)
    return {pct: origin + (budget * pct) // 100 for pct in sorted(set(milestones_pct))}


def pending(milestones_pct: Sequence[int], origin: int, total: int, reached: Iterable[int]) -> dict[int, int]:
    """The milestones still to save: those planned beyond the last one reached (all, if none was)."""
    last = max(reached, default=None)
    return {
        pct: target for pct, target in targets(milestones_pct, origin, total).items() if last is None or target > last
    }


def percent(timesteps: int, origin: int, total: int) -> float:
    """Where ``timesteps`` lies in the run's plan, 0..100.

    SB3 ends a leg on a whole rollout, so a run's last checkpoint can lie a little past its total
    (2,048 steps of a 2,000-step plan): that is the end of the plan, 100 %.
    """
    budget = total - origin
    if budget <= 0:
        return 100.0
    return min(max(0.0, 100.0 * (timesteps - origin) / budget), 100.0)


def label(pct: float) -> str:
    """A milestone percentage as people read it: "10 %", "2.5 %", "0.5 %" (one decimal below 10 %)."""
    rounded = round(pct, 1) if pct < 10 else round(pct)
    text = f"{rounded:.1f}".rstrip("0").rstrip(".") if pct < 10 else f"{rounded:.0f}"
    return f"{text} %"
