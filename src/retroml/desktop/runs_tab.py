"""The Runs tab: every run of the data home in a table, and the buttons that control them.

Destructive actions ask first: removing a run (its whole folder) once, clearing all data twice.
Every action goes through :class:`RunService` on a worker thread (:class:`~retroml.desktop.poller.Actions`);
a button is enabled only when the selected run's ``actions`` allow it and none of its calls is in
flight, and a refusal that still comes (the run changed meanwhile) is shown as its one-sentence message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from retroml.desktop.poller import Actions
from retroml.desktop.prompts import AskContinue, Confirm, plural
from retroml.errors import RetroMLError
from retroml.runs.model import Action, Run, RunStatus, duration_text
from retroml.runs.service import RunService

COLUMNS = (
    "Name", "Game", "Algo", "Status", "Timesteps", "Progress", "Steps/s", "ETA", "Score", "Created", "Trained", "PID",
)  # fmt: skip
HEADER_TIPS = {
    "Status": "⚡: Fast Mode",
    "Steps/s": "While training: the recent pace; otherwise the average over all legs (avg)",
    "Score": "Mean of the last 100 episodes / best episode of the whole run",
    "Trained": "Wall-clock time spent training, over all legs",
}
# Which run actions enable each button.
BUTTON_ACTIONS = {
    "Start": Action.START,
    "Stop": Action.STOP,
    "Pause": Action.PAUSE,
    "Resume": Action.RESUME,
    "Continue": Action.CONTINUE,
    "Remove": Action.DELETE,
}


def score_cell(run: Run) -> str:
    scores = run.score_texts()
    return "—" if scores is None else " / ".join(scores)


def _cells(run: Run) -> tuple[str, ...]:
    progress = f"{run.progress * 100:.0f} %"
    if run.status is RunStatus.RENDERING and run.render_progress is not None:
        progress = f"rendering {run.render_progress * 100:.0f} %"
    timesteps = f"{run.timesteps:,} / {run.total_timesteps:,}"
    status = run.status.value + (" ⚡" if run.fast_mode else "")
    created = time.strftime("%b %d %H:%M", time.localtime(run.created_at))
    pid = str(run.pid) if run.pid and run.active else "—"
    speed = run.speed_text(unit="", average=" avg")
    return (
        run.name, run.game, run.algo.upper(), status, timesteps, progress, speed, run.eta_text(),
        score_cell(run), created, duration_text(run.training_seconds), pid,
    )  # fmt: skip


class RunsTab(QWidget):
    """A table of runs with Start, Stop, Pause, Resume, Continue, Remove and Clear ALL data.

    :param service: the run service.
    :param confirm: asks a yes/no question before a destructive action.
    :param ask_continue: asks how Continue trains further (finish the plan, or N more).
    :param report: shows a one-sentence outcome (the main window's status bar).
    """

    selection_changed = Signal(object)  # the selected run_id, or None
    acted = Signal()  # a button's call answered: the runs are worth reading again

    def __init__(
        self,
        service: RunService,
        confirm: Confirm,
        ask_continue: AskContinue,
        report: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.confirm = confirm
        self.ask_continue = ask_continue
        self.report = report
        self.runs: list[Run] = []
        self.calls = Actions(self)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for column, tip in HEADER_TIPS.items():
            header_item = self.table.horizontalHeaderItem(COLUMNS.index(column))
            if header_item is not None:
                header_item.setToolTip(tip)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # twelve columns fit without scrolling
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(36)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.empty = QLabel("No runs yet: press Start Training.")

        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        actions: list[tuple[str, Callable[[], None]]] = [
            ("Start", self.start),
            ("Stop", self.stop),
            ("Pause", self.pause),
            ("Resume", self.resume),
            ("Continue", self.continue_run),
            ("Remove", self.remove),
            ("Clear ALL data", self.clear_all),
        ]
        for label, action in actions:
            button = QPushButton(label)
            button.clicked.connect(action)
            buttons.addWidget(button)
            self.buttons[label] = button
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._enable_buttons()

    # table ----------------------------------------------------------------------------------
    def set_runs(self, runs: list[Run]) -> None:
        """Show ``runs`` (newest first), keeping the selected run selected."""
        selected = self.selected_run_id()
        self.runs = runs
        self.table.blockSignals(True)
        self.table.setRowCount(len(runs))
        for index, run in enumerate(runs):
            for column, text in enumerate(_cells(run)):
                item = self.table.item(index, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(index, column, item)
                if item.text() != text:
                    item.setText(text)
                item.setData(Qt.ItemDataRole.UserRole, run.run_id)
        self.table.blockSignals(False)
        self.empty.setVisible(not runs)
        if selected is not None:
            self.select(selected, emit=selected != self.selected_run_id())
        self._enable_buttons()

    def select(self, run_id: str, emit: bool = True) -> None:
        for index, run in enumerate(self.runs):
            if run.run_id == run_id:
                self.table.blockSignals(not emit)
                self.table.selectRow(index)
                self.table.blockSignals(False)
                self._enable_buttons()
                return
        self.table.clearSelection()
        if emit:
            self.selection_changed.emit(None)

    def _on_selection(self) -> None:
        self._enable_buttons()
        self.selection_changed.emit(self.selected_run_id())

    def selected_run_id(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def selected_run(self) -> Run | None:
        run_id = self.selected_run_id()
        return next((run for run in self.runs if run.run_id == run_id), None)

    def _enable_buttons(self) -> None:
        run = self.selected_run()
        allowed = run.actions if run is not None else []
        for label, action in BUTTON_ACTIONS.items():
            self.buttons[label].setEnabled(action in allowed and not self.calls.running(label))
        self.buttons["Clear ALL data"].setEnabled(bool(self.runs) and not self.calls.running("Clear ALL data"))

    # actions --------------------------------------------------------------------------------
    def _act(self, label: str, call: Callable[[], Any], done: Callable[[Any], str]) -> None:
        """Run ``call`` on the worker thread, the ``label`` button disabled; report ``done(result)`` or the refusal."""

        def finished(result: Any) -> None:
            self._enable_buttons()
            self.report(done(result))
            self.acted.emit()

        def refused(error: str) -> None:
            self._enable_buttons()
            self.report(error)
            self.acted.emit()

        self.calls.run(label, call, finished, refused)
        self._enable_buttons()

    def _act_on_selected(self, label: str, action: Callable[[str], Any], done: str) -> None:
        run_id = self.selected_run_id()
        if run_id is None:
            self.report("Select a run first.")
            return
        self._act(label, lambda: action(run_id), lambda _result: done.format(run_id=run_id))

    def start(self) -> None:
        self._act_on_selected("Start", self.service.start, "Started {run_id}.")

    def stop(self) -> None:
        self._act_on_selected("Stop", self.service.stop, "Asked {run_id} to save a checkpoint and stop.")

    def pause(self) -> None:
        self._act_on_selected("Pause", self.service.pause, "Paused {run_id}.")

    def resume(self) -> None:
        self._act_on_selected("Resume", self.service.resume, "Resumed {run_id}.")

    def continue_run(self) -> None:
        run = self.selected_run()
        if run is None:
            self.report("Select a run first.")
            return
        choice = self.ask_continue(run)
        if choice is None:
            return
        mode, steps = choice
        service, run_id = self.service, run.run_id
        self._act("Continue", lambda: service.continue_run(run_id, mode, steps), continued_text)

    def remove(self) -> None:
        """Delete the selected run with all its files, after one confirmation."""
        run = self.selected_run()
        if run is None:
            self.report("Select a run first.")
            return
        question = (
            f"Remove {run.name} and delete all its data (checkpoints, clips, journey videos, logs, metrics)? "
            "This cannot be undone."
        )
        if not self.confirm("Remove run", question):
            self.report("Nothing was deleted.")
            return
        self._act_on_selected("Remove", self.service.delete, "Deleted {run_id}.")

    def clear_all(self) -> None:
        """Delete every run that is not training, after two confirmations."""
        count = len(self.runs)
        if not self.confirm("Clear ALL data", f"Delete all {count} runs of {self.service.home}, with their videos?"):
            self.report("Nothing was deleted.")
            return
        if not self.confirm("Clear ALL data", "Really delete everything? Checkpoints and videos cannot be recovered."):
            self.report("Nothing was deleted.")
            return
        service = self.service
        self._act("Clear ALL data", lambda: delete_all(service), deleted_text)


def continued_text(continued: Run) -> str:
    """What Continue reports: the new leg's budget, from where and to what total."""
    leg = continued.legs[-1]
    return (
        f"Training {continued.run_id} leg {leg.leg}: {leg.budget:,} timesteps from {leg.start_timesteps:,} "
        f"to {continued.total_timesteps:,}."
    )


def delete_all(service: RunService) -> tuple[int, int]:
    """Delete every run the service may delete (blocking: the worker thread); returns how many were deleted and kept."""
    deleted, kept = 0, 0
    for run in service.list_runs():
        try:
            service.delete(run.run_id)
            deleted += 1
        except RetroMLError:
            kept += 1
    return deleted, kept


def deleted_text(counts: tuple[int, int]) -> str:
    deleted, kept = counts
    note = f"; {plural(kept, 'active run')} kept — stop {'it' if kept == 1 else 'them'} first" if kept else ""
    return f"Deleted {plural(deleted, 'run')}{note}."
