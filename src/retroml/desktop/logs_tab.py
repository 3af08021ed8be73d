"""The Logs tab: the tail of the selected run's ``train.log``, following new lines as they come."""

from __future__ import annotations

from PySide6.QtGui import QFont, QTextCursor
from PySide6.QtWidgets import QCheckBox, QPlainTextEdit, QVBoxLayout, QWidget

from retroml.desktop.poller import Poller
from retroml.runs.service import RunService

TAIL_LINES = 500


class LogsTab(QWidget):
    """The last lines of the selected run's log; with "Follow" on, the view stays at the bottom."""

    def __init__(self, service: RunService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.run_id: str | None = None
        self.poller = Poller(self)
        self.poller.fetched.connect(self._show)
        self.poller.failed.connect(lambda sentence: self._show((self.run_id, [sentence])))
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFont("monospace"))
        self.text.setMaximumBlockCount(TAIL_LINES * 2)
        self.follow = QCheckBox("Follow the tail")
        self.follow.setChecked(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.follow)
        layout.addWidget(self.text, 1)
        self._shown: list[str] = []

    def show_run(self, run_id: str | None) -> None:
        if run_id != self.run_id:
            self.run_id = run_id
            self._shown = []
            self.text.clear()
            self.refresh(after_current=True)

    def refresh(self, after_current: bool = False) -> None:
        """Read the log's tail on the worker thread; it is shown when it arrives."""
        if self.run_id is None:
            self.text.setPlainText("Select a run in the Runs tab.")
            return
        service, run_id = self.service, self.run_id
        self.poller.poll(lambda: (run_id, service.logs(run_id, tail=TAIL_LINES)), after_current)

    def _show(self, read: tuple[str | None, list[str]]) -> None:
        run_id, lines = read
        if run_id != self.run_id or lines == self._shown:
            return
        self._shown = lines
        scroll = self.text.verticalScrollBar()
        position = scroll.value()
        self.text.setPlainText("\n".join(lines))
        if self.follow.isChecked():
            self.text.moveCursor(QTextCursor.MoveOperation.End)
            scroll.setValue(scroll.maximum())
        else:
            scroll.setValue(position)
