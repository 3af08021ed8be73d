"""The questions the desktop app asks the user, as plain callables so tests can answer them.

The main window takes each of these as an argument; the defaults below open Qt dialogs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

# (title, question) -> True when the user accepts.
Confirm = Callable[[str, str], bool]
# run name -> timesteps to train further, or None when cancelled.
AskSteps = Callable[[str], int | None]
CloseChoice = Literal["keep", "stop", "cancel"]
# number of runs still training -> what to do with them when the window closes.
AskOnClose = Callable[[int], CloseChoice]


def qt_confirm(parent: QWidget | None) -> Confirm:
    def confirm(title: str, question: str) -> bool:
        answer = QMessageBox.question(parent, title, question)
        return answer == QMessageBox.StandardButton.Yes

    return confirm


def qt_ask_steps(parent: QWidget | None) -> AskSteps:
    def ask(name: str) -> int | None:
        steps, ok = QInputDialog.getInt(
            parent, "Continue training", f"More timesteps for {name}:", 1_000_000, 1, 1_000_000_000, 100_000
        )
        return int(steps) if ok else None

    return ask


def qt_ask_on_close(parent: QWidget | None) -> AskOnClose:
    def ask(running: int) -> CloseChoice:
        box = QMessageBox(parent)
        box.setWindowTitle("Runs are still training")
        box.setText(
            f"{running} run(s) are still training. They run in their own processes and can keep going "
            "after this window closes (the CLI and the web app still see them)."
        )
        keep = box.addButton("Keep running", QMessageBox.ButtonRole.AcceptRole)
        stop = box.addButton("Stop them", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is keep:
            return "keep"
        if clicked is stop:
            return "stop"
        return "cancel"

    return ask
