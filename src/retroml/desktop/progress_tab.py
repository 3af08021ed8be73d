"""The Progress tab: where the selected run stands — timesteps, speed, ETA, milestones, clips and journey.

Every figure comes from the :class:`~retroml.runs.model.Run` the service returns; this tab formats
them and computes none.
"""

from __future__ import annotations

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

from retroml.errors import RetroMLError
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


def speed_text(run: Run) -> str:
    """The recent pace while the run trains; its average over all legs otherwise."""
    training = run.status is RunStatus.RUNNING
    if run.steps_per_sec is None:
        return "measuring…" if training else "—"
    return f"{run.steps_per_sec:,.0f} steps/s" + ("" if training else " on average")


def eta_text(run: Run) -> str:
    if run.eta_seconds is not None:
        return duration_text(run.eta_seconds)
    return "measuring speed…" if run.status is RunStatus.RUNNING else "—"


def score_text(run: Run) -> str:
    if run.score_mean is None and run.score_best is None:
        return f"no episode ended yet ({run.episodes:,} episodes)"
    mean = f"{run.score_mean:.1f}" if run.score_mean is not None else "—"
    best = f"{run.score_best:g}" if run.score_best is not None else "—"
    return f"mean {mean} (last 100 episodes), best {best} · {run.episodes:,} episodes"


def activity_text(run: Run) -> str:
    """What a process is doing with the run now, for the line above the bar ("" once it has ended)."""
    if run.status is RunStatus.RENDERING:
        return f"Rendering the journey: {(run.render_progress or 0.0) * 100:.0f} %"
    if run.status is RunStatus.RUNNING:
        done = f"Training leg {run.leg}: {run.timesteps:,} of {run.total_timesteps:,} timesteps"
        if run.steps_per_sec is None or run.eta_seconds is None:
            return f"{done} · measuring speed…"
        return f"{done} · {speed_text(run)} · ETA {eta_text(run)}"
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


class ProgressTab(QWidget):
    """The selected run's figures, a bar of the whole run's progress and its milestones, reached or planned."""

    def __init__(self, service: RunService, report: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.report = report or (lambda _message: None)
        self.run_id: str | None = None
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
        self.refresh()

    def refresh(self) -> None:
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
        try:
            self._show(self.service.get(self.run_id))
        except RetroMLError as error:
            self.fields["Run"].setText(str(error))
            self.open_folder.setEnabled(False)

    def milestone_rows(self) -> list[tuple[str, ...]]:
        """The milestone table as shown, one tuple of cell texts a row."""
        table = self.milestones
        shown = []
        for row in range(table.rowCount()):
            items = (table.item(row, column) for column in range(table.columnCount()))
            shown.append(tuple(item.text() if item is not None else "" for item in items))
        return shown

    def _show(self, run: Run) -> None:
        paths = self.service.paths(run.run_id)
        config = self.service.config(run.run_id)
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
        self.fields["Speed"].setText(speed_text(run))
        asked = config.train.device
        trained_on = f"{run.device} (asked: {asked})" if run.device else f"{asked} (known once training starts)"
        self.fields["Device"].setText(trained_on)
        self.fields["ETA"].setText(eta_text(run))
        self.fields["Score"].setText(score_text(run))
        if config.fast_mode or not config.recording.enabled:
            clip_text = "off (Fast Mode)" if config.fast_mode else "off"
        else:
            clips = self.service.renders.videos(run.run_id, kinds=("clip",))
            clip_text = f"{len(clips)} recorded ({config.recording.milestone_clip_seconds:g} s each)"
        self.fields["Clips"].setText(clip_text)
        journeys = self.service.renders.videos(run.run_id, kinds=("journey",))
        self.fields["Journey"].setText(self._journey_text(run, config.render.auto, journeys))
        self.fields["Output folder"].setText(str(paths.root))
        self._show_activity(run)
        self._show_milestones(run, paths.latest_checkpoint.exists())
        self.open_folder.setEnabled(True)

    def _show_activity(self, run: Run) -> None:
        self.activity.setText(activity_text(run))
        rendering = run.status is RunStatus.RENDERING
        self.bar.setValue(int(((run.render_progress or 0.0) if rendering else run.progress) * 1000))
        self.bar.setFormat("rendering %p %" if rendering else "%p % of the run")
        self.cancel_button.setText("Cancel render" if rendering else "Stop training")
        action = Action.CANCEL_RENDER if rendering else Action.STOP
        self.cancel_button.setVisible(action in run.actions and run.active)
        self.cancel_button.setEnabled(self._asked != (run.run_id, run.status))

    def cancel_work(self) -> None:
        """Cancel the render, or stop training with a checkpoint (it can be continued later)."""
        if self.run_id is None:
            return
        run_id = self.run_id
        try:
            status = self.service.get(run_id).status
            if status is RunStatus.RENDERING:
                self.service.renders.cancel_render(run_id)
                self.report(f"Cancelled the render of {run_id}; no video was made.")
            else:
                self.service.stop(run_id)
                self.report(f"Asked {run_id} to save a checkpoint and stop.")
        except RetroMLError as error:
            self.report(str(error)[:1].upper() + str(error)[1:])
            return
        self._asked = (run_id, status)
        self.refresh()

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
        if self.run_id is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.service.paths(self.run_id).root)))
