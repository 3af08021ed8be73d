"""The desktop app (``retroml desktop``): a Qt window on the same service and data home as the CLI.

The window polls :class:`RunService` on a QTimer, each read on a worker thread (:mod:`retroml.desktop.poller`),
and its buttons and dialogs call the service on worker threads too: the GUI thread only paints. It never
starts processes or writes run files itself.
Training runs are detached processes, so closing the window can leave them running.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QMainWindow, QTabWidget, QWidget

from retroml.desktop.charts_tab import ChartsTab
from retroml.desktop.dialog import StartTrainingDialog
from retroml.desktop.gallery import GalleryTab
from retroml.desktop.logs_tab import LogsTab
from retroml.desktop.poller import Actions, Poller
from retroml.desktop.progress_tab import ProgressTab
from retroml.desktop.prompts import AskContinue, AskOnClose, Confirm, qt_ask_continue, qt_ask_on_close, qt_confirm
from retroml.desktop.runs_tab import RunsTab
from retroml.desktop.sidebar import Sidebar
from retroml.errors import RetroMLError
from retroml.runs.model import Run, RunStatus
from retroml.runs.service import RunService

logger = logging.getLogger(__name__)

REFRESH_MS = 1500


class MainWindow(QMainWindow):
    """The sidebar and the Runs, Progress, Charts, Logs and Video Gallery tabs over one service.

    :param service: the run service (its home is the data home shown everywhere).
    :param confirm: asks before destructive actions; tests pass an answer.
    :param ask_continue: asks how Continue trains further: finish the planned budget, or N more.
    :param ask_on_close: given the runs a process still works on at close: ``"keep"``, ``"stop"`` or ``"cancel"``.
    :param refresh_ms: how often the window polls the service.
    """

    def __init__(
        self,
        service: RunService,
        confirm: Confirm | None = None,
        ask_continue: AskContinue | None = None,
        ask_on_close: AskOnClose | None = None,
        refresh_ms: int = REFRESH_MS,
    ) -> None:
        super().__init__()
        self.service = service
        self.confirm = confirm or qt_confirm(self)
        self.ask_on_close = ask_on_close or qt_ask_on_close(self)
        self.last_message = ""
        self.setWindowTitle(f"RetroML — {service.home}")
        self.resize(1200, 760)

        self.sidebar = Sidebar()
        self.sidebar.start_button.clicked.connect(self.open_start_dialog)
        self.runs_tab = RunsTab(service, self.confirm, ask_continue or qt_ask_continue(self), self.report)
        self.progress_tab = ProgressTab(service, self.report)
        self.charts_tab = ChartsTab(service)
        self.logs_tab = LogsTab(service)
        self.gallery = GalleryTab(service, self.report)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.runs_tab, "Runs")
        self.tabs.addTab(self.progress_tab, "Progress")
        self.tabs.addTab(self.charts_tab, "Charts")
        self.tabs.addTab(self.logs_tab, "Logs")
        self.tabs.addTab(self.gallery, "Video Gallery")
        self.tabs.currentChanged.connect(lambda _index: self.refresh())
        self.runs_tab.selection_changed.connect(self.show_run)
        self.runs_tab.acted.connect(self.refresh)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.dialog: StartTrainingDialog | None = None
        self._created: Run | None = None

        self.poller = Poller(self)
        self.poller.fetched.connect(self._show_runs)
        self.poller.failed.connect(self.report)
        self.calls = Actions(self)
        self._closing = False  # a close waits for the service
        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self._poll)
        self.timer.start()
        self.refresh()

    def report(self, message: str) -> None:
        """Show a one-sentence outcome in the status bar."""
        self.last_message = message
        self.statusBar().showMessage(message, 15_000)

    def refresh(self) -> None:
        """Read the runs and this machine now (after the read in flight, if any); the visible tab follows."""
        self._poll(after_current=True)

    def _poll(self, after_current: bool = False) -> None:
        # A timer tick while a read is in flight is skipped: reads never overlap or queue up.
        service = self.service
        self.poller.poll(lambda: (service.list_runs(), service.system_status()), after_current)

    def _show_runs(self, fetched: tuple[list[Run], dict[str, Any]]) -> None:
        """Paint the sidebar and the runs table, and ask the visible tab and the gallery to read theirs."""
        runs, status = fetched
        if self._created is not None:
            if any(run.run_id == self._created.run_id for run in runs):
                self._created = None
            else:  # read before the run was made
                runs = [self._created, *runs]
        self.runs_tab.set_runs(runs)
        # A launched queued run waits for a cluster node: active, but not training yet.
        training = sum(1 for run in runs if run.active and run.status in (RunStatus.RUNNING, RunStatus.PAUSED))
        rendering = sum(1 for run in runs if run.active and run.status is RunStatus.RENDERING)
        self.sidebar.show_status(status, training, rendering)
        for tab in (self.progress_tab, self.charts_tab, self.logs_tab):
            if tab is self.tabs.currentWidget():
                tab.refresh()
        self.gallery.refresh(runs)

    def show_run(self, run_id: str | None) -> None:
        for tab in (self.progress_tab, self.charts_tab, self.logs_tab):
            tab.show_run(run_id)

    def open_start_dialog(self) -> StartTrainingDialog:
        """Open the Start Training dialog (non-modal, so tests can drive it); a started run is selected."""
        self.dialog = StartTrainingDialog(self.service, self)
        self.dialog.accepted.connect(self._on_run_started)
        self.dialog.show()
        return self.dialog

    def _on_run_started(self) -> None:
        if self.dialog is None or self.dialog.created_run is None:
            return
        run = self.dialog.created_run
        self.report(f"Started {run.name} ({run.run_id}).")
        self._created = run  # shown until a read of the runs has it
        self.runs_tab.set_runs([run, *self.runs_tab.runs])
        self.runs_tab.select(run.run_id)
        self.refresh()
        self.tabs.setCurrentWidget(self.progress_tab)

    def reading_tabs(self) -> tuple[ProgressTab, ChartsTab, LogsTab, GalleryTab]:
        """The tabs that read the service themselves (each on its own worker thread)."""
        return (self.progress_tab, self.charts_tab, self.logs_tab, self.gallery)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask whether runs that a process works on keep going (they are detached processes) or stop."""
        if self._closing:  # asked again while the first close waits for the service
            event.ignore()
            return
        self._closing = True
        try:
            closing = self._may_close()
        finally:
            self._closing = False
        if not closing:
            event.ignore()
            return
        self.timer.stop()
        for poller in (self.poller, *(tab.poller for tab in self.reading_tabs())):
            poller.wait()
        for calls in (self.calls, self.runs_tab.calls, self.progress_tab.calls, self.gallery.calls):
            calls.wait()
        for player in self.gallery.players:
            player.close()
        event.accept()

    def _may_close(self) -> bool:
        """The close prompt, given the active runs read on the worker thread; stops them if asked."""
        service = self.service
        active, error = self.calls.call_and_wait("close", lambda: active_runs(service))
        if error is not None:  # nothing to ask about: the runs are detached processes either way
            logger.warning("could not list the active runs: %s", error)
        if not active:
            return True
        choice = self.ask_on_close(active)
        if choice == "cancel":
            return False
        if choice == "stop":
            self.calls.call_and_wait("close", lambda: stop_all(service, active))
        return True


def active_runs(service: RunService) -> list[Run]:
    """The runs a process still works on (blocking: the worker thread)."""
    return [run for run in service.list_runs() if run.active]


def stop_all(service: RunService, runs: list[Run]) -> None:
    """Stop each of ``runs`` with a checkpoint, or cancel its render (blocking: the worker thread)."""
    for run in runs:
        try:
            service.stop(run.run_id)
        except RetroMLError as error:
            logger.warning("could not stop %s: %s", run.run_id, error)


def run_desktop(home: str | Path | None = None, db: str | None = None) -> int:
    """Open the main window on the data home ``home`` (and database ``db``); returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("RetroML")
    try:
        service = RunService(home, db)
    except RetroMLError as error:
        logger.error("%s", error)
        return 2
    window = MainWindow(service)
    window.show()
    return int(app.exec())
