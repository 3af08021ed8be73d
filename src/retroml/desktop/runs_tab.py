"""The Runs tab: every run of the data home in a table, and the buttons that control them.

Destructive actions ask first: removing a run (or clearing its data) once, clearing all data twice.
Every action goes through :class:`RunService`; a refusal (a run that is not running, …) is shown as
its one-sentence message.
"""

from __future__ import annotations

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

from retroml.desktop.prompts import AskSteps, Confirm
from retroml.errors import RetroMLError
from retroml.runs.service import RunService, is_active

COLUMNS = ("Name", "Game", "Algorithm", "Status", "Progress", "Steps/s", "PID")


def _cells(service: RunService, row: dict[str, Any]) -> tuple[str, ...]:
    progress = f"{service.progress(row) * 100:.0f} %"
    if row["status"] == "rendering" and row.get("render_progress") is not None:
        progress = f"rendering {float(row['render_progress']) * 100:.0f} %"
    speed = f"{row['steps_per_sec']:,.0f}" if row.get("steps_per_sec") else "—"
    pid = str(row["pid"]) if row.get("pid") and is_active(row) else "—"
    return (row["name"], row["game"], str(row["algo"]).upper(), row["status"], progress, speed, pid)


class RunsTab(QWidget):
    """A table of runs with Stop, Pause, Resume, Continue, Remove and the two clearing actions.

    :param service: the run service.
    :param confirm: asks a yes/no question before a destructive action.
    :param ask_steps: asks how many timesteps Continue trains for.
    :param report: shows a one-sentence outcome (the main window's status bar).
    """

    selection_changed = Signal(object)  # the selected run_id, or None

    def __init__(
        self,
        service: RunService,
        confirm: Confirm,
        ask_steps: AskSteps,
        report: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.confirm = confirm
        self.ask_steps = ask_steps
        self.report = report
        self.rows: list[dict[str, Any]] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.empty = QLabel("No runs yet: press Start Training.")

        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        actions: list[tuple[str, Callable[[], None]]] = [
            ("Stop", self.stop),
            ("Pause", self.pause),
            ("Resume", self.resume),
            ("Continue", self.continue_run),
            ("Remove", self.remove),
            ("Clear this run's data", self.clear_run),
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
    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """Show ``rows`` (newest first), keeping the selected run selected."""
        selected = self.selected_run_id()
        self.rows = rows
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            for column, text in enumerate(_cells(self.service, row)):
                item = self.table.item(index, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(index, column, item)
                if item.text() != text:
                    item.setText(text)
                item.setData(Qt.ItemDataRole.UserRole, row["run_id"])
        self.table.blockSignals(False)
        self.empty.setVisible(not rows)
        if selected is not None:
            self.select(selected, emit=selected != self.selected_run_id())
        self._enable_buttons()

    def select(self, run_id: str, emit: bool = True) -> None:
        for index, row in enumerate(self.rows):
            if row["run_id"] == run_id:
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

    def selected_row(self) -> dict[str, Any] | None:
        run_id = self.selected_run_id()
        return next((row for row in self.rows if row["run_id"] == run_id), None)

    def _enable_buttons(self) -> None:
        row = self.selected_row()
        status = row["status"] if row else None
        self.buttons["Stop"].setEnabled(status in ("running", "paused", "queued", "rendering"))
        self.buttons["Pause"].setEnabled(status == "running")
        self.buttons["Resume"].setEnabled(status == "paused")
        ended = row is not None and not is_active(row)
        self.buttons["Continue"].setEnabled(ended)
        self.buttons["Remove"].setEnabled(ended)
        self.buttons["Clear this run's data"].setEnabled(ended)
        self.buttons["Clear ALL data"].setEnabled(bool(self.rows))

    # actions --------------------------------------------------------------------------------
    def _act(self, action: Callable[[str], Any], done: str) -> None:
        run_id = self.selected_run_id()
        if run_id is None:
            self.report("Select a run first.")
            return
        try:
            action(run_id)
        except RetroMLError as error:
            self.report(str(error))
            return
        self.report(done.format(run_id=run_id))

    def stop(self) -> None:
        self._act(self.service.stop, "Asked {run_id} to save a checkpoint and stop.")

    def pause(self) -> None:
        self._act(self.service.pause, "Paused {run_id}.")

    def resume(self) -> None:
        self._act(self.service.resume, "Resumed {run_id}.")

    def continue_run(self) -> None:
        row = self.selected_row()
        if row is None:
            self.report("Select a run first.")
            return
        steps = self.ask_steps(row["name"])
        if steps is not None:
            done = f"Training {{run_id}} {steps:,} more steps."
            self._act(lambda run_id: self.service.continue_run(run_id, steps), done)

    def remove(self) -> None:
        self._delete_selected(
            "Remove run", "Remove {name}? Its folder (checkpoints, clips, journey videos, logs) is deleted."
        )

    def clear_run(self) -> None:
        self._delete_selected(
            "Clear this run's data",
            "Delete every file of {name} (checkpoints, videos, logs, metrics)? This cannot be undone.",
        )

    def _delete_selected(self, title: str, question: str) -> None:
        row = self.selected_row()
        if row is None:
            self.report("Select a run first.")
            return
        if not self.confirm(title, question.format(name=row["name"])):
            self.report("Nothing was deleted.")
            return
        self._act(self.service.delete, "Deleted {run_id}.")

    def clear_all(self) -> None:
        """Delete every run that is not training, after two confirmations."""
        count = len(self.rows)
        if not self.confirm("Clear ALL data", f"Delete all {count} runs of {self.service.home}, with their videos?"):
            self.report("Nothing was deleted.")
            return
        if not self.confirm("Clear ALL data", "Really delete everything? Checkpoints and videos cannot be recovered."):
            self.report("Nothing was deleted.")
            return
        deleted, kept = 0, 0
        for row in self.service.list_runs():
            try:
                self.service.delete(row["run_id"])
                deleted += 1
            except RetroMLError:
                kept += 1
        note = f"; {kept} active run(s) kept — stop them first" if kept else ""
        self.report(f"Deleted {deleted} run(s){note}.")
