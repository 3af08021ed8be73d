"""The run model: which action each status allows, and the numbers every face shows."""

from __future__ import annotations

import pytest

from retroml.runs.model import ACTIVE_STATUSES, Action, Run, RunStatus, refusal

NOW = 1_000_000.0


def _row(**values: object) -> dict:
    row = {
        "run_id": "run-0000abcd",
        "name": "pong-ppo",
        "game": "pong",
        "algo": "ppo",
        "status": "running",
        "fast_mode": False,
        "executor": "local",
        "created_at": NOW - 100,
        "pid": 4242,
        "host": "here",
        "leg": 1,
        "leg_start_timesteps": 0,
        "total_timesteps": 20_000,
        "timesteps": 5_000,
        "episodes": 3,
        "score_mean": -20.0,
        "score_best": -19.0,
        "steps_per_sec": 100.0,
        "train_seconds": 60.0,
        "legs": [{"leg": 1, "start_timesteps": 0, "budget": 20_000, "from_checkpoint": None}],
    }
    row.update(values)
    return row


def _checkpoint(pct: int, timesteps: int) -> dict:
    return {"milestone_pct": pct, "timesteps": timesteps, "path": f"c/milestone_{pct}pct_{timesteps}.zip"}


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        ("running", {"stop", "pause", "branch"}),
        ("paused", {"stop", "resume", "branch"}),
        ("rendering", {"stop", "branch", "cancel_render"}),
        ("completed", {"continue", "branch", "render", "delete"}),
        ("stopped", {"continue", "branch", "render", "delete"}),
        ("interrupted", {"continue", "branch", "render", "delete"}),
        # Failed before its first checkpoint (SB3 refused the settings): nothing to continue, branch or render.
        ("failed", {"delete"}),
    ],
)
def test_each_status_allows_exactly_its_actions(status: str, allowed: set[str]) -> None:
    run = Run.from_row(_row(status=status), now=NOW)
    assert {action.value for action in run.actions} == allowed


def test_a_failed_run_with_a_checkpoint_can_continue_branch_and_render() -> None:
    run = Run.from_row(_row(status="failed"), [_checkpoint(50, 10_000)], now=NOW)
    assert {action.value for action in run.actions} == {"continue", "branch", "render", "delete"}


def test_a_queued_run_can_be_started_until_it_is_launched() -> None:
    never_launched = Run.from_row(_row(status="queued", pid=None, host=None), now=NOW)
    assert set(never_launched.actions) == {Action.START, Action.STOP, Action.BRANCH, Action.DELETE}
    waiting_for_node = Run.from_row(_row(status="queued", pid=None, host="ray:pending"), now=NOW)
    assert Action.START not in waiting_for_node.actions and Action.STOP in waiting_for_node.actions
    assert waiting_for_node.active and not never_launched.active


def test_refusals_are_one_sentence_naming_the_run() -> None:
    running = RunStatus.RUNNING
    assert refusal(Action.START, "run-1", running, True) == "run run-1 is already running; stop it first"
    assert refusal(Action.DELETE, "run-1", running, True) == "run run-1 is running: stop it before deleting it"
    assert refusal(Action.RESUME, "run-1", running, True) == "run run-1 is running: only a paused run can resume"
    assert refusal(Action.CONTINUE, "run-1", RunStatus.QUEUED, False) == "run run-1 has not started yet: start it first"
    for status in ACTIVE_STATUSES:
        assert refusal(Action.CONTINUE, "run-1", status, True) is not None


def test_progress_speed_and_eta_of_a_running_run() -> None:
    run = Run.from_row(_row(), now=NOW)
    assert run.progress == 0.25 and run.leg_progress == 0.25
    assert run.steps_per_sec == 100.0
    assert run.eta_seconds == pytest.approx(150.0)  # 15,000 steps left at 100 steps/s
    assert run.remaining_timesteps == 15_000 and run.run_budget == 20_000


def test_a_stopped_run_shows_its_average_speed_and_no_eta() -> None:
    run = Run.from_row(_row(status="stopped", pid=None, steps_per_sec=3.0, train_seconds=50.0), now=NOW)
    assert run.steps_per_sec == pytest.approx(100.0)  # 5,000 steps in 50 s of training, not the last pace
    assert run.eta_seconds is None


def test_a_continued_leg_shows_progress_of_the_whole_run() -> None:
    legs = [
        {"leg": 1, "start_timesteps": 0, "budget": 20_000},
        {"leg": 2, "start_timesteps": 20_000, "budget": 20_000},
    ]
    run = Run.from_row(
        _row(leg=2, leg_start_timesteps=20_000, total_timesteps=40_000, timesteps=30_000, legs=legs), now=NOW
    )
    assert run.progress == 0.75 and run.leg_progress == 0.5
    assert run.eta_seconds == pytest.approx(100.0)
    assert run.run_budget == 20_000  # "train N more" offers the run's own budget, not a fixed million


def test_milestones_after_train_more_run_forward_in_timesteps_and_percent() -> None:
    pcts = [0, 1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    reached = [_checkpoint(pct, 20_000 * pct // 100) for pct in pcts]
    legs = [
        {"leg": 1, "start_timesteps": 0, "budget": 20_000},
        {"leg": 2, "start_timesteps": 20_000, "budget": 20_000},
    ]
    row = _row(leg=2, leg_start_timesteps=20_000, total_timesteps=40_000, timesteps=20_000, legs=legs)
    run = Run.from_row(row, reached, pcts, now=NOW)
    steps = [milestone.timesteps for milestone in run.milestones]
    percents = [milestone.pct for milestone in run.milestones]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert percents == sorted(percents) and len(set(percents)) == len(percents)
    assert all(milestone.reached for milestone in run.milestones[: len(pcts)])
    assert [m.label for m in run.milestones if not m.reached] == ["60 %", "70 %", "80 %", "90 %", "100 %"]
    assert run.milestones[len(pcts) - 1].label == "50 %"  # leg 1's end is half of the new total
    assert run.milestones[1].label == "0.5 %"


def test_finish_the_budget_plans_only_the_milestones_left() -> None:
    pcts = [0, 10, 50, 100]
    reached = [_checkpoint(0, 0), _checkpoint(10, 2_008)]
    run = Run.from_row(_row(status="stopped", pid=None, timesteps=2_306), reached, pcts, now=NOW)
    assert [(m.label, m.timesteps, m.reached) for m in run.milestones] == [
        ("0 %", 0, True),
        ("10 %", 2_008, True),
        ("50 %", 10_000, False),
        ("100 %", 20_000, False),
    ]
    assert run.remaining_timesteps == 17_694


def test_a_branch_counts_from_the_checkpoint_it_starts_at() -> None:
    legs = [{"leg": 1, "start_timesteps": 10_000, "budget": 4_000, "from_checkpoint": "x.zip"}]
    row = _row(leg_start_timesteps=10_000, total_timesteps=14_000, timesteps=11_000, legs=legs)
    run = Run.from_row(row, [_checkpoint(0, 10_000)], [0, 50, 100], now=NOW)
    assert run.progress == 0.25 and run.start_timesteps == 10_000
    assert [(m.label, m.timesteps) for m in run.milestones] == [("0 %", 10_000), ("50 %", 12_000), ("100 %", 14_000)]
