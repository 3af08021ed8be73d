"""Milestone planning at absolute timesteps, and how a percentage reads."""

from __future__ import annotations

from retroml import milestones


def test_targets_are_percentages_of_the_budget_from_the_origin() -> None:
    assert milestones.targets([0, 10, 100], origin=5_000, total=15_000) == {0: 5_000, 10: 6_000, 100: 15_000}


def test_pending_skips_everything_up_to_the_last_milestone_reached() -> None:
    assert milestones.pending([0, 10, 50, 100], 0, 1_000, reached=[]) == {0: 0, 10: 100, 50: 500, 100: 1_000}
    # A milestone saved a little after its target (n_envs granularity) still counts as reached.
    assert milestones.pending([0, 10, 50, 100], 0, 1_000, reached=[0, 104]) == {50: 500, 100: 1_000}
    assert milestones.pending([0, 10, 50, 100], 0, 1_000, reached=[0, 104, 500, 1_000]) == {}


def test_percent_and_label() -> None:
    assert milestones.percent(1_000, 0, 2_000) == 50.0
    assert milestones.percent(2_048, 0, 2_000) == 100.0  # SB3's last rollout overshoots the plan
    assert [milestones.label(p) for p in (0, 0.5, 1.04, 2.5, 9.96, 33.3, 100)] == [
        "0 %", "0.5 %", "1 %", "2.5 %", "10 %", "33 %", "100 %",
    ]  # fmt: skip
