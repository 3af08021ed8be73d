"""The Progress tab: where the selected run stands — timesteps, speed, ETA, milestones, clips and journey.

Every figure comes from the :class:`~retroml.runs.model.Run` the service returns; this tab formats
them and computes none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from retroml.config import RunConfig
from retroml.desktop.poller import Actions, Poller
from retroml.desktop.prompts import sentence
from retroml.runs.model import ACTIVE_STATUSES, Action, Milestone, Run, RunStatus, duration_text
from retroml.runs.service import RunService

FIELDS = (
    "Run",
    "Status",
    "Timesteps",
    "Leg",
    "Training time",
    "Speed",
    "Device",
    "ETA",
    "Score",
    "Clips",
    "Journey",
    "Output folder",
)
MILESTONE_COLUMNS = ("Milestone", "Timesteps", "State", "Episodes", "Mean score")
PLANNED = QColor("#8a8a8a")


def score_text(run: Run) -> str:
    scores = run.score_texts()
    if scores is None:
        return f"no episode ended yet ({run.episodes:,} episodes)"
    mean, best = scores
    return f"mean {mean} (last 100 episodes), best {best} · {run.episodes:,} episodes"


def activity_text(run: Run) -> str:
    """What a process is doing with the run now, for the line above the bar ("" once it has ended)."""
    if run.status is RunStatus.RENDERING:
        return f"Rendering the journey: {(run.render_progress or 0.0) * 100:.0f} %"
    if run.status is RunStatus.RUNNING:
        done = f"Training leg {run.leg}: {run.timesteps:,} of {run.total_timesteps:,} timesteps"
        if run.steps_per_sec is None or run.eta_seconds is None:
            return f"{done} · measuring speed…"
        return f"{done} · {run.speed_text()} · ETA {run.eta_text()}"
    if run.status is RunStatus.PAUSED:
        return f"Paused at {run.timesteps:,} of {run.total_timesteps:,} timesteps"
    if run.status is RunStatus.QUEUED and run.active:
        return "Waiting for a cluster node"
    return ""


def milestone_cells(milestone: Milestone) -> tuple[str, ...]:
    episodes = f"{milestone.episodes:,}" if milestone.episodes is not None else ""
    score = f"{milestone.score_mean:.1f}" if milestone.score_mean is not None else ""
    state = "reached" if milestone.reached else "planned"
    return (milestone.label, f"{milestone.timesteps:,}", state, episodes, score)


@dataclass(frozen=True)
class ProgressView:
    """What the tab shows of one run, read on the poller's worker thread."""

    run: Run
    config: RunConfig
    folder: Path
    has_latest: bool
    clips: int | None  # None: the run records no clips
    journeys: list[dict[str, Any]]


def read_progress(service: RunService, run_id: str) -> ProgressView:
    """Everything the Progress tab shows of ``run_id`` (blocking: it runs on the worker thread)."""
    run = service.get(run_id)
    paths = service.paths(run_id)
    config = service.config(run_id)
    clips = None
    if not config.fast_mode and config.recording.enabled:
        clips = len(service.renders.videos(run_id, kinds=("clip",)))
    journeys = service.renders.videos(run_id, kinds=("journey",))
    return ProgressView(run, config, paths.root, paths.latest_checkpoint.exists(), clips, journeys)


def cancel_or_stop(service: RunService, run_id: str) -> RunStatus:
    """Cancel the render of ``run_id`` or stop its training (blocking: the worker thread); returns the status it had."""
    status = service.get(run_id).status
    if status is RunStatus.RENDERING:
        service.renders.cancel_render(run_id)
    else:
        service.stop(run_id)
    return status


class ProgressTab(QWidget):
    """The selected run's figures, a bar of the whole run's progress and its milestones, reached or planned."""

    def __init__(self, service: RunService, report: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.report = report or (lambda _message: None)
        self.run_id: str | None = None
        self._folder: Path | None = None
        self.poller = Poller(self)
        self.poller.fetched.connect(self._show)
        self.poller.failed.connect(self._show_error)
        self.calls = Actions(self)
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        for name in FIELDS:
            label = QLabel("—")
            label.setWordWrap(True)
            self.fields[name] = label
            form.addRow(name, label)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFormat("%p %")
        self.activity = QLabel()
        self.activity.setStyleSheet("font-weight: bold;")
        # Cancels the long work shown: a training run stops with a checkpoint, a render leaves no video.
        self.cancel_button = QPushButton("Stop training")
        self.cancel_button.clicked.connect(self.cancel_work)
        self.cancel_button.setVisible(False)
        self._asked: tuple[str, RunStatus] | None = None  # the run and status a cancel was asked in
        bar_row = QHBoxLayout()
        bar_row.addWidget(self.bar, 1)
        bar_row.addWidget(self.cancel_button)
        self.milestones_label = QLabel("Milestones")
        self.milestones = QTableWidget(0, len(MILESTONE_COLUMNS))
        self.milestones.setHorizontalHeaderLabels(MILESTONE_COLUMNS)
        self.milestones.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.milestones.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.milestones.verticalHeader().setVisible(False)
        self.milestones.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.milestones.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.open_folder = QPushButton("Open folder")
        self.open_folder.clicked.connect(self.open_output_folder)
        self.open_folder.setEnabled(False)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.open_folder)
        folder_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.activity)
        layout.addLayout(bar_row)
        layout.addWidget(self.milestones_label)
        layout.addWidget(self.milestones, 1)
        layout.addLayout(folder_row)

    def show_run(self, run_id: str | None) -> None:
        self.run_id = run_id
        self.refresh(after_current=True)

    def refresh(self, after_current: bool = False) -> None:
        """Read the selected run on the worker thread; it is painted when it arrives."""
        if self.run_id is None:
            for label in self.fields.values():
                label.setText("—")
            self.fields["Run"].setText("Select a run in the Runs tab.")
            self.bar.setValue(0)
            self.activity.clear()
            self.cancel_button.setVisible(False)
            self.milestones.setRowCount(0)
            self.open_folder.setEnabled(False)
            return
        service, run_id = self.service, self.run_id
        self.poller.poll(lambda: read_progress(service, run_id), after_current)

    def _show_error(self, sentence: str) -> None:
        self.fields["Run"].setText(sentence)
        self.open_folder.setEnabled(False)

    def milestone_rows(self) -> list[tuple[str, ...]]:
        """The milestone table as shown, one tuple of cell texts a row."""
        table = self.milestones
        shown = []
        for row in range(table.rowCount()):
            items = (table.item(row, column) for column in range(table.columnCount()))
            shown.append(tuple(item.text() if item is not None else "" for item in items))
        return shown

    def _show(self, view: ProgressView) -> None:
        if view.run.run_id != self.run_id:
            return  # read before another run was selected
        run, config = view.run, view.config
        self.fields["Run"].setText(f"{run.name} ({run.run_id}) — {run.game}, {run.algo.upper()}")
        self.fields["Status"].setText(run.status.value + (f": {run.message}" if run.message else ""))
        branch = f" (branched at {run.start_timesteps:,})" if run.start_timesteps else ""
        self.fields["Timesteps"].setText(
            f"{run.timesteps:,} of {run.total_timesteps:,}{branch} — {run.progress * 100:.1f} % of the run"
        )
        leg = run.legs[-1] if run.legs else None
        if leg is not None:
            self.fields["Leg"].setText(
                f"{run.leg} of {len(run.legs)}: {run.leg_progress * 100:.0f} % of its {leg.budget:,} timesteps "
                f"from {leg.start_timesteps:,}"
            )
        legs = f" over {len(run.legs)} legs" if len(run.legs) > 1 else ""
        self.fields["Training time"].setText(duration_text(run.training_seconds) + legs)
        self.fields["Speed"].setText(run.speed_text())
        asked = config.train.device
        trained_on = f"{run.device} (asked: {asked})" if run.device else f"{asked} (known once training starts)"
        self.fields["Device"].setText(trained_on)
        self.fields["ETA"].setText(run.eta_text("measuring speed…"))
        self.fields["Score"].setText(score_text(run))
        if view.clips is None:
            clip_text = "off (Fast Mode)" if config.fast_mode else "off"
        else:
            clip_text = f"{view.clips} recorded ({config.recording.milestone_clip_seconds:g} s each)"
        self.fields["Clips"].setText(clip_text)
        self.fields["Journey"].setText(self._journey_text(run, config.render.auto, view.journeys))
        self.fields["Output folder"].setText(str(view.folder))
        self._folder = view.folder
        self._show_activity(run)
        self._show_milestones(run, view.has_latest)
        self.open_folder.setEnabled(True)

    def _show_activity(self, run: Run) -> None:
        self.activity.setText(activity_text(run))
        rendering = run.status is RunStatus.RENDERING
        self.bar.setValue(int(((run.render_progress or 0.0) if rendering else run.progress) * 1000))
        self.bar.setFormat("rendering %p %" if rendering else "%p % of the run")
        self.cancel_button.setText("Cancel render" if rendering else "Stop training")
        action = Action.CANCEL_RENDER if rendering else Action.STOP
        self.cancel_button.setVisible(action in run.actions and run.active)
        self.cancel_button.setEnabled(self._asked != (run.run_id, run.status) and not self.calls.running("cancel"))

    def cancel_work(self) -> None:
        """Cancel the render, or stop training with a checkpoint (it can be continued later)."""
        if self.run_id is None or self.calls.running("cancel"):
            return
        service, run_id = self.service, self.run_id
        self.cancel_button.setEnabled(False)
        self.calls.run(
            "cancel",
            lambda: cancel_or_stop(service, run_id),
            lambda status: self._cancelled(run_id, status),
            self._cancel_refused,
        )

    def _cancelled(self, run_id: str, status: RunStatus) -> None:
        if status is RunStatus.RENDERING:
            self.report(f"Cancelled the render of {run_id}; no video was made.")
        else:
            self.report(f"Asked {run_id} to save a checkpoint and stop.")
        self._asked = (run_id, status)
        self.refresh(after_current=True)

    def _cancel_refused(self, error: str) -> None:
        self.report(sentence(error))
        self.cancel_button.setEnabled(True)

    def _show_milestones(self, run: Run, has_latest: bool) -> None:
        reached = sum(1 for milestone in run.milestones if milestone.reached)
        latest = " — latest.zip saved" if has_latest else ""
        self.milestones_label.setText(f"Milestones: {reached} of {len(run.milestones)} reached{latest}")
        self.milestones.setRowCount(len(run.milestones))
        for row, milestone in enumerate(run.milestones):
            for column, text in enumerate(milestone_cells(milestone)):
                item = self.milestones.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.milestones.setItem(row, column, item)
                item.setText(text)
                item.setData(Qt.ItemDataRole.ForegroundRole, None if milestone.reached else PLANNED)

    @staticmethod
    def _journey_text(run: Run, auto: bool, journeys: list[dict[str, Any]]) -> str:
        if run.status is RunStatus.RENDERING:
            return f"rendering {(run.render_progress or 0.0) * 100:.0f} %"
        if journeys:
            length = duration_text(float(journeys[-1].get("duration_sec") or 0))
            return f"{len(journeys)} rendered; latest {length} long"
        if run.status in ACTIVE_STATUSES:
            return "rendered when training ends" if auto else "not rendered (Gallery → Render journey)"
        return "not rendered yet (Gallery → Render journey)"

    def open_output_folder(self) -> None:
        if self._folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._folder)))
