"""The Video Gallery: every clip and journey under the data home, with posters; double-click plays.

The list comes from :meth:`RenderService.videos`, so videos made by the CLI, the web app or another
desktop window on the same home show here too. Videos are grouped by run (a header per run, its
journeys before its clips) and can be filtered by run and by kind. "Render" starts a detached render
of any video kind (:meth:`RenderService.start_render`) and shows its progress, with a Cancel, until the
new video appears in the list. A rendered video's upload pack (chapters, WebVTT, thumbnail,
description) opens from "Open upload pack folder" or, file by file, from the video's context menu.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QFont, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from retroml.desktop.player import PlayerWindow
from retroml.desktop.poller import Actions, Poller
from retroml.desktop.prompts import plural, sentence
from retroml.desktop.video_names import KINDS, VIDEO_NAMES, estimate_text, group_order, video_title
from retroml.errors import RetroMLError
from retroml.runs.model import PACK_FILES, Action, Run, RunStatus, video_kind
from retroml.runs.service import RunService

POSTER_SIZE = QSize(240, 135)
PLACEHOLDER = "#303238"  # the grey of a video without a poster
HEADER_HEIGHT = 30


@dataclass(frozen=True)
class GalleryView:
    """The runs and videos the gallery shows, read on the poller's worker thread."""

    runs: list[Run]
    videos: list[dict[str, Any]]  # newest first
    posters: dict[int, Path | None]  # of the videos whose poster was not read before


def read_gallery(service: RunService, runs: list[Run] | None, known_posters: frozenset[int]) -> GalleryView:
    """The videos (and the runs, unless given) and the posters of new videos (blocking: the worker thread)."""
    runs = service.list_runs() if runs is None else runs
    videos = list(reversed(service.renders.videos()))
    posters: dict[int, Path | None] = {}
    for video_id in (int(video["id"]) for video in videos if int(video["id"]) not in known_posters):
        try:
            posters[video_id] = service.renders.video_poster(video_id)
        except RetroMLError:
            posters[video_id] = None
    return GalleryView(runs, videos, posters)


def read_estimate(service: RunService, key: tuple[Any, ...]) -> tuple[tuple[Any, ...], str]:
    """The render estimate's sentence for ``key`` (run, length, layout), or why there is none (blocking)."""
    try:
        run_id, length, layout = key
        estimate = service.renders.journey_estimate(run_id, length=length, layout=layout)
    except (RetroMLError, ValueError) as error:
        return key, sentence(error)
    return key, estimate_text(estimate) if estimate else ""


def pack_folder(service: RunService, video_id: int) -> Path:
    """The folder of the upload pack of ``video_id``: where its first file still there lies (blocking)."""
    refusal = RetroMLError(f"video {video_id} has no upload pack")
    for name in PACK_FILES:
        try:
            return service.renders.video_pack_file(video_id, name).parent
        except RetroMLError as error:
            refusal = error
    raise refusal


class GalleryTab(QWidget):
    """A grid of video posters, a player on double-click, and the Render journey controls.

    :param service: the run service.
    :param report: shows a one-sentence outcome (the main window's status bar).
    :param open_url: opens a file or folder with the desktop's own application (by default
        :meth:`QDesktopServices.openUrl`).
    """

    def __init__(
        self,
        service: RunService,
        report: Any = None,
        parent: QWidget | None = None,
        open_url: Callable[[QUrl], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.report = report or (lambda _message: None)
        self.open_url = open_url or QDesktopServices.openUrl
        self.players: list[PlayerWindow] = []
        self._shown_ids: list[int] = []
        self._posters: dict[int, QIcon] = {}
        self._poster_files: dict[int, Path | None] = {}
        self.poller = Poller(self)
        self.poller.fetched.connect(self._show)
        self.poller.failed.connect(self.report)
        self.calls = Actions(self)  # play, open a pack file, render, cancel: the service answers on a worker thread
        self._rendering: str | None = None  # the run whose render this tab started
        self._showing_progress = False  # the status line shows a render's progress (ours or another's)

        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(POSTER_SIZE)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setSpacing(8)
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the grid wraps instead
        self.list.itemDoubleClicked.connect(self.play_item)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._show_pack_menu)
        self.list.currentItemChanged.connect(lambda _item, _previous: self._update_pack_button())
        self.list.viewport().installEventFilter(self)  # run headers follow the view's width
        self.empty = QLabel("No videos yet. Clips appear while a run records; journeys when they are rendered.")
        self._videos: list[dict[str, Any]] = []
        self._run_by_id: dict[str, Run] = {}
        self.run_filter = QComboBox()
        self.run_filter.addItem("All runs", None)
        self.run_filter.currentIndexChanged.connect(lambda _index: self._refill())
        self.kind_filter = QComboBox()
        self.kind_filter.addItem("All kinds", None)
        for kind in KINDS:
            self.kind_filter.addItem(kind, kind)
        self.kind_filter.currentIndexChanged.connect(lambda _index: self._refill())
        self.shown_count = QLabel()
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show"))
        filters.addWidget(self.kind_filter)
        filters.addWidget(QLabel("of"))
        filters.addWidget(self.run_filter, 1)
        filters.addWidget(self.shown_count)
        filters.addStretch(1)
        self.pack_button = QPushButton("Open upload pack folder")
        self.pack_button.setToolTip("Chapters, WebVTT, thumbnail and description of the chosen video, for a video site")
        self.pack_button.clicked.connect(lambda: self.open_pack_folder())
        filters.addWidget(self.pack_button)

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
        self.cancel_button = QPushButton("Cancel render")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_render)
        # Before Render: how long, how big, which milestones. Planned off the GUI thread (it reads every
        # checkpoint), re-asked half a second after the choice stops changing.
        self.render_estimate = QLabel()
        self.render_estimate.setWordWrap(True)
        self._estimates = Poller(self)
        self._estimates.fetched.connect(self._show_estimate)
        self._estimate_timer = QTimer(self, singleShot=True, interval=500)
        self._estimate_timer.timeout.connect(self._ask_estimate)
        self.render_run.currentIndexChanged.connect(lambda _index: self._estimate_timer.start())
        self.render_layout.currentIndexChanged.connect(lambda _index: self._estimate_timer.start())
        self.render_length.textChanged.connect(lambda _text: self._estimate_timer.start())
        self._cancelling: str | None = None  # the run whose render Cancel was pressed for
        self.render_status = QLabel()
        self.render_status.setWordWrap(True)
        # The line keeps its height when empty, so the list above does not jump as renders come and go.
        self.render_status.setMinimumHeight(self.fontMetrics().height() * 2 + 4)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Run"))
        controls.addWidget(self.render_run, 2)
        controls.addWidget(self.render_length, 2)
        controls.addWidget(self.render_layout)
        controls.addWidget(self.compare_label)
        controls.addWidget(self.compare_run, 2)
        controls.addWidget(self.render_button)
        progress = QHBoxLayout()
        progress.addWidget(self.render_bar, 1)
        progress.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        layout.addLayout(controls)
        layout.addWidget(self.render_estimate)
        layout.addLayout(progress)
        layout.addWidget(self.render_status)

    # listing --------------------------------------------------------------------------------
    def video_items(self) -> list[QListWidgetItem]:
        """The list's video items in order (the run headers left out)."""
        items = (self.list.item(index) for index in range(self.list.count()))
        return [item for item in items if item.data(Qt.ItemDataRole.UserRole) is not None]

    def video_ids(self) -> list[int]:
        """The ids of the videos shown, in list order."""
        return [int(item.data(Qt.ItemDataRole.UserRole)) for item in self.video_items()]

    def headers(self) -> list[str]:
        """The run headers shown, in list order."""
        items = (self.list.item(index) for index in range(self.list.count()))
        return [item.text() for item in items if item.data(Qt.ItemDataRole.UserRole) is None]

    def videos_of_kind(self, kind: str) -> list[dict[str, Any]]:
        """The shown videos of a store kind (``clip`` or ``journey``)."""
        return [
            item.data(Qt.ItemDataRole.UserRole + 1)
            for item in self.video_items()
            if item.data(Qt.ItemDataRole.UserRole + 1)["kind"] == kind
        ]

    def show_only(self, run_id: str | None = None, kind: str | None = None) -> None:
        """Filter the list to one run and/or one of :data:`KINDS` (``None``: all)."""
        self.run_filter.setCurrentIndex(max(self.run_filter.findData(run_id), 0))
        self.kind_filter.setCurrentIndex(max(self.kind_filter.findData(kind), 0))

    def refresh(self, runs: list[Run] | None = None, after_current: bool = False) -> None:
        """Read the videos (and the runs, unless given) on the worker thread; they are shown when they arrive."""
        service, known = self.service, frozenset(self._poster_files)
        self.poller.poll(lambda: read_gallery(service, runs, known), after_current)

    def _show(self, view: GalleryView) -> None:
        """Show the videos, the render choices and the progress of renders."""
        runs, videos = view.runs, view.videos
        self._poster_files.update(view.posters)
        by_id = {run.run_id: run for run in runs}
        ids = [int(video["id"]) for video in videos]
        titles = [video_title(video, by_id) for video in videos]
        if ids != self._shown_ids or titles != [video_title(video, self._run_by_id) for video in self._videos]:
            self._videos, self._run_by_id, self._shown_ids = videos, by_id, ids
            self._update_run_filter(runs)
            self._refill()
        self.empty.setVisible(not videos)
        self._update_render_controls(runs)

    def _update_run_filter(self, runs: list[Run]) -> None:
        with_videos = {video["run_id"] for video in self._videos}
        wanted = [(run.name, run.run_id) for run in runs if run.run_id in with_videos]
        combo = self.run_filter
        current = [(combo.itemText(index), combo.itemData(index)) for index in range(1, combo.count())]
        if wanted == current:
            return
        chosen = combo.currentData()
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        for text, run_id in wanted:
            combo.addItem(text, run_id)
        combo.setCurrentIndex(max(combo.findData(chosen), 0))
        combo.blockSignals(False)

    def _refill(self) -> None:
        """Fill the list: the filtered videos grouped by run (newest run first), a header per run."""
        run_id, kind = self.run_filter.currentData(), self.kind_filter.currentData()
        shown = [
            video
            for video in self._videos
            if (run_id is None or video["run_id"] == run_id) and (kind is None or video_kind(video) == kind)
        ]
        order = {run_id: index for index, run_id in enumerate(self._run_by_id)}
        groups: dict[str, list[dict[str, Any]]] = {}
        for video in sorted(shown, key=lambda video: order.get(video["run_id"], len(order))):
            groups.setdefault(video["run_id"], []).append(video)
        self.list.clear()
        for group_run, videos in groups.items():
            run = self._run_by_id.get(group_run)
            self._add_header(f"{run.name if run else group_run} — {plural(len(videos), 'video')}")
            for video in sorted(videos, key=group_order):
                item = QListWidgetItem(self._poster(int(video["id"])), video_title(video, self._run_by_id))
                item.setData(Qt.ItemDataRole.UserRole, int(video["id"]))
                item.setData(Qt.ItemDataRole.UserRole + 1, video)
                item.setToolTip(str(video["path"]))
                self.list.addItem(item)
        self.shown_count.setText(f"{len(shown)} of {plural(len(self._videos), 'video')}")
        self.list.doItemsLayout()  # at once: a stale layout would keep the old list's scroll range
        self._update_pack_button()

    def _add_header(self, text: str) -> None:
        # A header as wide as the view takes a row of its own in the icon grid.
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        font = QFont(self.font())
        font.setBold(True)
        item.setFont(font)
        item.setData(Qt.ItemDataRole.ForegroundRole, QColor("#202020"))
        item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        item.setSizeHint(QSize(self._header_width(), HEADER_HEIGHT))
        self.list.addItem(item)

    def _header_width(self) -> int:
        return max(self.list.viewport().width() - 2 * self.list.spacing() - 4, POSTER_SIZE.width())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.list.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_headers()
        return super().eventFilter(watched, event)

    def _fit_headers(self) -> None:
        width = self._header_width()
        for index in range(self.list.count()):
            item = self.list.item(index)
            if item.data(Qt.ItemDataRole.UserRole) is None and item.sizeHint().width() != width:
                item.setSizeHint(QSize(width, HEADER_HEIGHT))

    def _poster(self, video_id: int) -> QIcon:
        if video_id not in self._posters:
            pixmap = QPixmap()
            poster = self._poster_files.get(video_id)
            if poster is not None:
                pixmap.load(str(poster))
            if pixmap.isNull():
                pixmap = QPixmap(POSTER_SIZE)
                pixmap.fill(QColor(PLACEHOLDER))
            self._posters[video_id] = QIcon(pixmap.scaled(POSTER_SIZE, Qt.AspectRatioMode.KeepAspectRatio))
        return self._posters[video_id]

    # playing --------------------------------------------------------------------------------
    def play_item(self, item: QListWidgetItem) -> None:
        if item.data(Qt.ItemDataRole.UserRole) is not None:  # else a run header
            self.play(int(item.data(Qt.ItemDataRole.UserRole)), title=item.text().replace("\n", " — "))

    def play(self, video_id: int, title: str = "Video", autoplay: bool = True) -> None:
        """Open the in-app player on a video once the worker thread found its file (it is then last in ``players``)."""
        key = f"play {video_id}"
        if self.calls.running(key):
            return
        service = self.service
        self.calls.run(
            key,
            lambda: service.renders.video_file(video_id),
            lambda path: self._open_player(path, title, autoplay),
            lambda error: self.report(f"Cannot play this video: {error}"),
        )

    def _open_player(self, path: Path, title: str, autoplay: bool) -> None:
        try:
            player = PlayerWindow(path, title, self, autoplay=autoplay)
        except (OSError, av.FFmpegError) as error:
            self.report(f"Cannot play this video: {error}")
            return
        self.players = [window for window in self.players if window.isVisible()]
        self.players.append(player)
        player.show()

    # the upload pack --------------------------------------------------------------------------
    def pack_names(self, item: QListWidgetItem | None) -> list[str]:
        """The upload-pack files (names of ``PACK_FILES``) the video of ``item`` has, in that order."""
        video = item.data(Qt.ItemDataRole.UserRole + 1) if item is not None else None
        pack = ((video or {}).get("meta") or {}).get("pack") or {}
        return [name for name in PACK_FILES if name in pack]

    def pack_menu(self, item: QListWidgetItem) -> QMenu | None:
        """The video's context menu: its upload pack folder and each of its files (``None`` without a pack).

        The files are named from the video's meta; the service finds one (on the worker thread) when it is chosen.
        """
        if not self.pack_names(item):
            return None
        video_id = int(item.data(Qt.ItemDataRole.UserRole))
        pack = item.data(Qt.ItemDataRole.UserRole + 1)["meta"]["pack"]
        menu = QMenu(self)
        menu.addAction("Open upload pack folder").triggered.connect(lambda: self.open_pack_folder(video_id))
        for name in self.pack_names(item):
            action = menu.addAction(f"Open {Path(pack[name]).name}")
            action.triggered.connect(lambda _checked=False, name=name: self._open_pack_file(video_id, name))
        return menu

    def open_pack_folder(self, video_id: int | None = None) -> None:
        """Open the folder holding the upload pack of ``video_id`` (by default the chosen video's)."""
        item = self.list.currentItem()
        if video_id is None and item is not None and self.pack_names(item):
            video_id = int(item.data(Qt.ItemDataRole.UserRole))
        if video_id is None:
            return
        service, chosen = self.service, video_id
        self.calls.run("pack", lambda: pack_folder(service, chosen), self._open, self._pack_refused)

    def _open_pack_file(self, video_id: int, name: str) -> None:
        service = self.service
        self.calls.run("pack", lambda: service.renders.video_pack_file(video_id, name), self._open, self._pack_refused)

    def _pack_refused(self, error: str) -> None:
        self.report(f"Cannot open the upload pack: {error}")

    def _open(self, path: Path) -> None:
        self.open_url(QUrl.fromLocalFile(str(path)))

    def _show_pack_menu(self, position: QPoint) -> None:
        item = self.list.itemAt(position)
        menu = self.pack_menu(item) if item is not None else None
        if menu is not None:
            menu.exec(self.list.viewport().mapToGlobal(position))

    def _update_pack_button(self) -> None:
        self.pack_button.setEnabled(bool(self.pack_names(self.list.currentItem())))

    # rendering ------------------------------------------------------------------------------
    def _update_render_controls(self, runs: list[Run]) -> None:
        """Every run is a choice (the user's stays chosen while runs change); Render follows its actions."""
        chosen = self.render_run.currentData()
        wanted = [(f"{run.name} ({run.status.value})", run.run_id) for run in runs]
        current = [(self.render_run.itemText(i), self.render_run.itemData(i)) for i in range(self.render_run.count())]
        if wanted != current:
            self.render_run.blockSignals(True)
            self.render_run.clear()
            for text, run_id in wanted:
                self.render_run.addItem(text, run_id)
            index = self.render_run.findData(chosen) if chosen is not None else -1
            if index < 0:  # first fill, or the chosen run was deleted: the newest run that can render
                index = next((i for i, run in enumerate(runs) if Action.RENDER in run.actions), 0)
            self.render_run.setCurrentIndex(index)
            self.render_run.blockSignals(False)
        self._runs = runs
        picked = next((run for run in runs if run.run_id == self.render_run.currentData()), None)
        why = picked.refusal(Action.RENDER) if picked is not None else "Pick a run to render."
        self.render_button.setEnabled(why is None and not self.calls.running("render"))
        self.render_button.setToolTip(sentence(why) if why else "")
        self._update_compare_choices(runs)
        self._show_render_progress(runs, picked)

    def _show_render_progress(self, runs: list[Run], picked: Run | None) -> None:
        rendering = [run for run in runs if run.status is RunStatus.RENDERING]
        self.render_bar.setVisible(bool(rendering))
        self.cancel_button.setVisible(bool(rendering))
        if rendering:
            # The chosen run's render if it has one, else the first.
            run = next((run for run in rendering if picked is not None and run.run_id == picked.run_id), rendering[0])
            done = run.render_progress or 0.0
            self.render_bar.setValue(int(done * 1000))
            self.render_bar.setFormat(f"{run.name}: %p %")
            self.cancel_button.setProperty("run_id", run.run_id)
            cancelling = self._cancelling == run.run_id or self.calls.running("cancel")
            self.cancel_button.setEnabled(Action.CANCEL_RENDER in run.actions and not cancelling)
            others = f" (+{len(rendering) - 1} more)" if len(rendering) > 1 else ""
            if self._cancelling == run.run_id:  # until the render process has ended
                self.render_status.setText("Cancelling the render…")
            else:
                self.render_status.setText(f"Rendering the journey of {run.name}: {done * 100:.0f} %{others}")
            self._showing_progress = True
            return
        finished = next((run for run in runs if run.run_id in (self._rendering, self._cancelling)), None)
        if finished is not None and finished.run_id == self._cancelling:
            self.render_status.setText(f"The render of {finished.name} was cancelled; no video was made.")
        elif finished is not None:
            if finished.message:
                self.render_status.setText(f"The journey of {finished.name} was not rendered: {finished.message}.")
            else:
                self.render_status.setText(f"The journey of {finished.name} is ready: it is in the list above.")
        elif self._showing_progress:
            # A render this tab did not start (the automatic one after training, or the CLI's) ended.
            self.render_status.clear()
        self._rendering = self._cancelling = None
        self._showing_progress = False

    def _estimate_key(self) -> tuple[Any, ...] | None:
        """What the estimate depends on, or ``None`` when the chosen run cannot render now."""
        run = next((run for run in self._runs if run.run_id == self.render_run.currentData()), None)
        if run is None or Action.RENDER not in run.actions:
            return None
        return (run.run_id, self.render_length.text().strip() or None, self.render_layout.currentData())

    def _ask_estimate(self) -> None:
        key = self._estimate_key()
        if key is None:
            self.render_estimate.clear()
            return
        service = self.service
        self._estimates.poll(lambda: read_estimate(service, key), after_current=True)

    def _show_estimate(self, estimate: tuple[tuple[Any, ...], str]) -> None:
        key, text = estimate
        if key == self._estimate_key():  # else the choice changed meanwhile; its own estimate follows
            self.render_estimate.setText(text)

    def cancel_render(self) -> None:
        """Cancel the render whose progress is shown: the run keeps its status, no partial video is left."""
        run_id = self.cancel_button.property("run_id")
        if not run_id or self.calls.running("cancel"):
            return
        service, cancelled = self.service, str(run_id)
        self.cancel_button.setEnabled(False)
        self.calls.run(
            "cancel",
            lambda: service.renders.cancel_render(cancelled),
            lambda _run: self._render_cancelled(cancelled),
            self._cancel_refused,
        )

    def _render_cancelled(self, run_id: str) -> None:
        self._cancelling = run_id
        self.cancel_button.setEnabled(False)
        self.render_status.setText("Cancelling the render…")

    def _cancel_refused(self, error: str) -> None:
        self.render_status.setText(sentence(error))
        self.cancel_button.setEnabled(True)

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
        if self.calls.running("render"):
            return
        service = self.service
        self.render_button.setEnabled(False)
        self.calls.run(
            "render",
            lambda: service.renders.start_render(run_id, length=length, layout=layout, compare_with=compare_with),
            lambda _run: self._render_started(run_id),
            self._render_refused,
        )

    def _render_started(self, run_id: str) -> None:
        self._rendering = run_id
        self.render_status.setText("Rendering the journey: 0 %")
        self.refresh(after_current=True)

    def _render_refused(self, error: str) -> None:
        self.render_status.setText(sentence(error))
        self.render_button.setEnabled(True)  # as before the click; the next read says what the run allows
