"""The Video Gallery: every clip and journey under the data home, with posters; double-click plays.

The list comes from :meth:`RunService.videos`, so videos made by the CLI, the web app or another
desktop window on the same home show here too. "Render" starts a detached render of any video kind
(:meth:`RunService.start_render`) and shows its progress until the new video appears in the list.
"""

from __future__ import annotations

from typing import Any

import av
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from retroml.desktop.player import PlayerWindow
from retroml.runs.model import duration_text
from retroml.errors import RetroMLError
from retroml.runs.model import Action, Run, RunStatus
from retroml.runs.service import RunService

POSTER_SIZE = QSize(240, 135)
# The videos a run can be rendered into (``retroml render`` layouts), as the render controls name them.
VIDEO_NAMES = {
    "single": "journey",
    "grid": "journey, grid",
    "analytics": "journey, analytics",
    "compare": "comparison",
    "highlights": "highlights",
    "timelapse": "training time-lapse",
}
PLACEHOLDER = "#303238"  # the grey of a video without a poster


def video_title(video: dict[str, Any], run_names: dict[str, str]) -> str:
    run = run_names.get(video["run_id"], video["run_id"])
    length = duration_text(float(video.get("duration_sec") or 0))
    if video["kind"] == "clip":
        milestone = video.get("milestone_pct")
        what = f"clip at {milestone} %" if milestone is not None else "clip"
    else:
        layout = (video.get("meta") or {}).get("layout", "single")
        what = VIDEO_NAMES.get(layout, "journey")
    return f"{run}\n{what} · {length}"


class GalleryTab(QWidget):
    """A grid of video posters, a player on double-click, and the Render journey controls.

    :param service: the run service.
    :param report: shows a one-sentence outcome (the main window's status bar).
    """

    def __init__(self, service: RunService, report: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.report = report or (lambda _message: None)
        self.players: list[PlayerWindow] = []
        self._shown_ids: list[int] = []
        self._posters: dict[int, QIcon] = {}
        self._rendering: str | None = None  # the run whose render this tab started
        self._showing_progress = False  # the status line shows a render's progress (ours or another's)

        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(POSTER_SIZE)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setSpacing(8)
        self.list.setWordWrap(True)
        self.list.itemDoubleClicked.connect(self.play_item)
        self.empty = QLabel("No videos yet. Clips appear while a run records; journeys when they are rendered.")

        self._runs: list[Run] = []
        self.render_run = QComboBox()
        self.render_run.currentIndexChanged.connect(lambda _index: self._update_compare_choices(self._runs))
        self.render_length = QLineEdit()
        self.render_length.setPlaceholderText("length, e.g. 90s or 3m (default: the run's)")
        self.render_layout = QComboBox()
        for kind, name in VIDEO_NAMES.items():
            self.render_layout.addItem(name, kind)
        self.render_layout.currentIndexChanged.connect(lambda _index: self._update_compare_choices(self._runs))
        self.compare_run = QComboBox()
        self.compare_run.setToolTip("The run to show beside the chosen one (same game), milestone by milestone")
        self.compare_label = QLabel("with")
        self.render_button = QPushButton("Render video")
        self.render_button.clicked.connect(self.render_journey)
        self.render_bar = QProgressBar()
        self.render_bar.setRange(0, 1000)
        self.render_bar.setVisible(False)
        self.render_status = QLabel()
        self.render_status.setWordWrap(True)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Run"))
        controls.addWidget(self.render_run, 2)
        controls.addWidget(self.render_length, 2)
        controls.addWidget(self.render_layout)
        controls.addWidget(self.compare_label)
        controls.addWidget(self.compare_run, 2)
        controls.addWidget(self.render_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        layout.addLayout(controls)
        layout.addWidget(self.render_bar)
        layout.addWidget(self.render_status)

    # listing --------------------------------------------------------------------------------
    def video_ids(self) -> list[int]:
        """The ids of the videos shown, in list order."""
        return [int(self.list.item(index).data(Qt.ItemDataRole.UserRole)) for index in range(self.list.count())]

    def videos_of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [
            self.list.item(index).data(Qt.ItemDataRole.UserRole + 1)
            for index in range(self.list.count())
            if self.list.item(index).data(Qt.ItemDataRole.UserRole + 1)["kind"] == kind
        ]

    def refresh(self, runs: list[Run] | None = None) -> None:
        """Re-read the videos (and, given the runs, the render choices and progress)."""
        runs = self.service.list_runs() if runs is None else runs
        names = {run.run_id: run.name for run in runs}
        videos = list(reversed(self.service.videos()))  # newest first
        ids = [int(video["id"]) for video in videos]
        if ids != self._shown_ids:
            self._fill(videos, names)
            self._shown_ids = ids
        self.empty.setVisible(not videos)
        self._update_render_controls(runs)

    def _fill(self, videos: list[dict[str, Any]], names: dict[str, str]) -> None:
        self.list.clear()
        for video in videos:
            item = QListWidgetItem(self._poster(int(video["id"])), video_title(video, names))
            item.setData(Qt.ItemDataRole.UserRole, int(video["id"]))
            item.setData(Qt.ItemDataRole.UserRole + 1, video)
            item.setToolTip(str(video["path"]))
            self.list.addItem(item)

    def _poster(self, video_id: int) -> QIcon:
        if video_id not in self._posters:
            pixmap = QPixmap()
            try:
                pixmap.load(str(self.service.video_poster(video_id)))
            except RetroMLError:
                pass
            if pixmap.isNull():
                pixmap = QPixmap(POSTER_SIZE)
                pixmap.fill(QColor(PLACEHOLDER))
            self._posters[video_id] = QIcon(pixmap.scaled(POSTER_SIZE, Qt.AspectRatioMode.KeepAspectRatio))
        return self._posters[video_id]

    # playing --------------------------------------------------------------------------------
    def play_item(self, item: QListWidgetItem) -> PlayerWindow | None:
        return self.play(int(item.data(Qt.ItemDataRole.UserRole)), title=item.text().replace("\n", " — "))

    def play(self, video_id: int, title: str = "Video", autoplay: bool = True) -> PlayerWindow | None:
        """Open the in-app player on one video."""
        try:
            path = self.service.video_file(video_id)
            player = PlayerWindow(path, title, self, autoplay=autoplay)
        except (RetroMLError, OSError, av.FFmpegError) as error:
            self.report(f"Cannot play this video: {error}")
            return None
        self.players = [window for window in self.players if window.isVisible()]
        self.players.append(player)
        player.show()
        return player

    # rendering ------------------------------------------------------------------------------
    def _update_render_controls(self, runs: list[Run]) -> None:
        chosen = self.render_run.currentData()
        renderable = [run for run in runs if Action.RENDER in run.actions]
        wanted = [(f"{run.name} ({run.status.value})", run.run_id) for run in renderable]
        current = [(self.render_run.itemText(i), self.render_run.itemData(i)) for i in range(self.render_run.count())]
        if wanted != current:
            self.render_run.clear()
            for text, run_id in wanted:
                self.render_run.addItem(text, run_id)
            if chosen is not None and self.render_run.findData(chosen) >= 0:
                self.render_run.setCurrentIndex(self.render_run.findData(chosen))
        self.render_button.setEnabled(bool(wanted))
        self._runs = runs
        self._update_compare_choices(runs)
        rendering = [run for run in runs if run.status is RunStatus.RENDERING]
        self.render_bar.setVisible(bool(rendering))
        if rendering:
            run = rendering[0]
            done = run.render_progress or 0.0
            self.render_bar.setValue(int(done * 1000))
            others = f" (+{len(rendering) - 1} more)" if len(rendering) > 1 else ""
            self.render_status.setText(f"Rendering the journey of {run.name}: {done * 100:.0f} %{others}")
            self._showing_progress = True
            return
        finished = next((run for run in runs if run.run_id == self._rendering), None)
        if finished is not None:
            if finished.message:
                self.render_status.setText(f"The journey of {finished.name} was not rendered: {finished.message}.")
            else:
                self.render_status.setText(f"The journey of {finished.name} is ready: it is in the list above.")
            self._rendering = None
        elif self._showing_progress:
            # A render this tab did not start (the automatic one after training, or the CLI's) ended.
            self.render_status.clear()
        self._showing_progress = False

    def _update_compare_choices(self, runs: list[Run]) -> None:
        """Runs of the chosen run's game, for the compare layout (shown only when it is chosen)."""
        comparing = self.render_layout.currentData() == "compare"
        self.compare_run.setVisible(comparing)
        self.compare_label.setVisible(comparing)
        chosen = next((run for run in runs if run.run_id == self.render_run.currentData()), None)
        wanted = [
            (run.name, run.run_id)
            for run in runs
            if chosen is not None and run.game == chosen.game and run.run_id != chosen.run_id
        ]
        combo = self.compare_run
        current = [(combo.itemText(index), combo.itemData(index)) for index in range(combo.count())]
        if wanted != current:
            previous = self.compare_run.currentData()
            self.compare_run.clear()
            for text, run_id in wanted:
                self.compare_run.addItem(text, run_id)
            if previous is not None and self.compare_run.findData(previous) >= 0:
                self.compare_run.setCurrentIndex(self.compare_run.findData(previous))

    def render_journey(self) -> None:
        run_id = self.render_run.currentData()
        if run_id is None:
            self.render_status.setText("Pick a run that has ended to render its journey.")
            return
        length = self.render_length.text().strip() or None
        layout = self.render_layout.currentData()
        compare_with = []
        if layout == "compare":
            if self.compare_run.currentData() is None:
                self.render_status.setText("Compare needs a second run of the same game; train one first.")
                return
            compare_with = [self.compare_run.currentData()]
        try:
            self.service.start_render(run_id, length=length, layout=layout, compare_with=compare_with)
        except RetroMLError as error:
            self.render_status.setText(str(error)[:1].upper() + str(error)[1:])
            return
        self._rendering = run_id
        self.render_status.setText("Rendering the journey: 0 %")
        self.refresh()
