"""RunService's lifecycle on a fake executor: the transition table, the signals sent, the repairs.

The executor is the seam where processes start (a local child or a Ray task); here it is a plain
object that records what it was asked and holds a pretend process state, so every transition of the
run model is checked in milliseconds on a real SQLite store. The real processes are covered by
tests/integration (test_lifecycle, test_cli) and tests/web.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from retroml.config import build_config
from retroml.errors import ConflictError, NotFoundError, RetroMLError
from retroml.runs.executors import TRAIN_JOB, Launch
from retroml.runs.model import RunStatus
from retroml.runs.service import RunService


@dataclass
class FakeExecutor:
    """Pretends to run processes: ``alive``/``frozen`` are the pretend process's state."""

    name: str = "fake"
    launched: list[tuple[str, str]] = field(default_factory=list)
    signals: list[int] = field(default_factory=list)
    alive: bool = True
    frozen: bool = False
    refuse_signals: bool = False

    def launch(self, home: Path, run_id: str, db_url: str, log_path: Path, module: str) -> Launch:
        self.launched.append((run_id, module))
        return Launch(pid=4242, pid_started_at=1.0, host="this-host", executor=self.name)

    def send_signal(self, row: dict[str, Any], signum: int) -> None:
        if self.refuse_signals:
            raise RetroMLError(f"cannot signal run {row['run_id']}")
        self.signals.append(signum)
        self.frozen = {signal.SIGSTOP: True, signal.SIGCONT: False}.get(signal.Signals(signum), self.frozen)

    def is_alive(self, row: dict[str, Any]) -> bool:
        return self.alive

    def check_device(self, device: str) -> None:
        pass

    def segment_runner(self) -> None:
        return None

    def render_workers(self) -> None:
        return None

    def is_frozen(self, row: dict[str, Any]) -> bool | None:
        return self.frozen if self.alive else None


@pytest.fixture
def fake() -> FakeExecutor:
    return FakeExecutor()


@pytest.fixture
def service(tmp_path: Path, fake: FakeExecutor) -> RunService:
    return RunService(tmp_path / "home", executor=fake)


def _config() -> Any:
    return build_config({"game": {"id": "pong"}, "train": {"algo": "ppo", "total_timesteps": 2000, "device": "cpu"}})


def test_a_created_run_launches_the_trainer_once_and_refuses_a_second_start(
    service: RunService, fake: FakeExecutor
) -> None:
    run = service.create(_config())
    assert run.status is RunStatus.RUNNING and fake.launched == [(run.run_id, TRAIN_JOB)]
    with pytest.raises(ConflictError, match=f"run {run.run_id} is already running; stop it first"):
        service.start(run.run_id)
    assert len(fake.launched) == 1


def test_pause_resume_and_stop_send_the_signals_and_record_the_status(service: RunService, fake: FakeExecutor) -> None:
    run = service.create(_config())
    assert service.pause(run.run_id).status is RunStatus.PAUSED and fake.signals == [signal.SIGSTOP]
    with pytest.raises(ConflictError, match="only a running run can pause"):
        service.pause(run.run_id)
    assert service.resume(run.run_id).status is RunStatus.RUNNING and fake.signals[-1] == signal.SIGCONT
    service.pause(run.run_id)
    fake.signals.clear()
    service.stop(run.run_id)
    # A SIGSTOPped process only handles SIGTERM once it runs again.
    assert fake.signals == [signal.SIGTERM, signal.SIGCONT]


def test_a_pause_that_cannot_reach_the_process_leaves_the_run_running(service: RunService, fake: FakeExecutor) -> None:
    run = service.create(_config())
    fake.refuse_signals = True
    with pytest.raises(RetroMLError):
        service.pause(run.run_id)
    assert service.get(run.run_id).status is RunStatus.RUNNING


def test_a_process_frozen_behind_the_store_s_back_is_shown_paused(service: RunService, fake: FakeExecutor) -> None:
    run = service.create(_config())
    fake.frozen = True  # e.g. a SIGSTOP whose store write failed
    assert service.get(run.run_id).status is RunStatus.PAUSED


def test_a_process_that_died_without_saying_so_is_interrupted(service: RunService, fake: FakeExecutor) -> None:
    run = service.create(_config())
    fake.alive = False
    shown = service.get(run.run_id)
    assert shown.status is RunStatus.INTERRUPTED
    assert "ended without saying so" in (shown.message or "")
    # Ended: it can no longer be stopped, and it may be deleted.
    with pytest.raises(ConflictError, match="there is nothing to stop"):
        service.stop(run.run_id)
    service.delete(run.run_id)
    with pytest.raises(NotFoundError, match=f"there is no run '{run.run_id}'"):
        service.get(run.run_id)


def test_a_queued_run_stops_without_a_signal_and_cannot_start_twice_over(
    service: RunService, fake: FakeExecutor
) -> None:
    run = service.create(_config(), start=False)
    assert run.status is RunStatus.QUEUED and fake.launched == []
    with pytest.raises(ConflictError, match="has not started yet"):
        service.pause(run.run_id)
    assert service.stop(run.run_id).status is RunStatus.STOPPED and fake.signals == []
    with pytest.raises(ConflictError, match="use `retroml runs continue"):
        service.start(run.run_id)


def test_a_running_run_cannot_be_deleted_or_continued(service: RunService, fake: FakeExecutor) -> None:
    run = service.create(_config())
    with pytest.raises(ConflictError, match="stop it before deleting it"):
        service.delete(run.run_id)
    with pytest.raises(ConflictError, match="wait for it to end or stop it first"):
        service.continue_run(run.run_id)
    assert service.get(run.run_id).status is RunStatus.RUNNING
