"""The Progress tab: where the selected run stands — timesteps, ETA, checkpoints, clips and journey."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from retroml.errors import RetroMLError
from retroml.runs.service import RunService


def format_duration(seconds: float) -> str:
    """``1h 02m``, ``3m 05s`` or ``12s``."""
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def eta_text(row: dict[str, Any]) -> str:
    if row["status"] != "running":
        return "—"
    speed = float(row.get("steps_per_sec") or 0)
    left = int(row["total_timesteps"]) - int(row["timesteps"])
    if speed <= 0:
        return "measuring speed…"
    return format_duration(max(left, 0) / speed)


class ProgressTab(QWidget):
    """Timesteps of total, %, ETA from the current speed, checkpoints, clips, journey, output folder."""

    def __init__(self, service: RunService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.run_id: str | None = None
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        for name in ("Run", "Status", "Timesteps", "Speed", "ETA", "Checkpoints", "Clips", "Journey", "Output folder"):
            label = QLabel("—")
            label.setWordWrap(True)
            self.fields[name] = label
            form.addRow(name, label)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFormat("%p %")
        self.open_folder = QPushButton("Open folder")
        self.open_folder.clicked.connect(self.open_output_folder)
        self.open_folder.setEnabled(False)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.open_folder)
        folder_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addLayout(folder_row)
        layout.addStretch(1)

    def show_run(self, run_id: str | None) -> None:
        self.run_id = run_id
        self.refresh()

    def refresh(self) -> None:
        if self.run_id is None:
            for label in self.fields.values():
                label.setText("—")
            self.fields["Run"].setText("Select a run in the Runs tab.")
            self.bar.setValue(0)
            self.open_folder.setEnabled(False)
            return
        try:
            row = self.service.get(self.run_id)
            self._show(row)
        except RetroMLError as error:
            self.fields["Run"].setText(str(error))
            self.open_folder.setEnabled(False)

    def _show(self, row: dict[str, Any]) -> None:
        run_id = row["run_id"]
        fraction = self.service.progress(row)
        paths = self.service.paths(run_id)
        config = self.service.config(run_id)
        videos = self.service.videos(run_id)
        clips = [video for video in videos if video["kind"] == "clip"]
        journeys = [video for video in videos if video["kind"] == "journey"]
        checkpoints = sorted(paths.checkpoints.glob("milestone_*pct_*.zip"))
        self.fields["Run"].setText(f"{row['name']} ({run_id}) — {row['game']}, {str(row['algo']).upper()}")
        status = row["status"] + (f": {row['message']}" if row.get("message") else "")
        self.fields["Status"].setText(status)
        self.fields["Timesteps"].setText(
            f"{int(row['timesteps']):,} of {int(row['total_timesteps']):,} ({fraction * 100:.1f} %)"
        )
        speed = row.get("steps_per_sec")
        self.fields["Speed"].setText(f"{speed:,.0f} steps/s" if speed else "—")
        self.fields["ETA"].setText(eta_text(row))
        self.fields["Checkpoints"].setText(
            f"{len(checkpoints)} milestone checkpoints of {len(config.milestones_pct)}"
            + (" + latest.zip" if paths.latest_checkpoint.exists() else "")
        )
        if config.fast_mode or not config.recording.enabled:
            clip_text = "off (Fast Mode)" if config.fast_mode else "off"
        else:
            clip_text = f"{len(clips)} recorded ({config.recording.milestone_clip_seconds:g} s each)"
        self.fields["Clips"].setText(clip_text)
        self.fields["Journey"].setText(self._journey_text(row, config.render.auto, journeys))
        self.fields["Output folder"].setText(str(paths.root))
        self.bar.setValue(int(fraction * 1000))
        self.open_folder.setEnabled(True)

    @staticmethod
    def _journey_text(row: dict[str, Any], auto: bool, journeys: list[dict[str, Any]]) -> str:
        if row["status"] == "rendering":
            done = float(row.get("render_progress") or 0.0)
            return f"rendering {done * 100:.0f} %"
        if journeys:
            latest = journeys[-1]
            length = format_duration(float(latest.get("duration_sec") or 0))
            return f"{len(journeys)} rendered; latest {length} long"
        if row["status"] in ("running", "paused", "queued"):
            return "rendered when training ends" if auto else "not rendered (Gallery → Render journey)"
        return "not rendered yet (Gallery → Render journey)"

    def open_output_folder(self) -> None:
        if self.run_id is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.service.paths(self.run_id).root)))
