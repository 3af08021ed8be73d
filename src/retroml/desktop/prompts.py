"""The questions the desktop app asks the user, as plain callables so tests can answer them.

The main window takes each of these as an argument; the defaults below open Qt dialogs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from retroml.config import parse_budget
from retroml.errors import InvalidInputError
from retroml.runs.model import Run, RunStatus
from retroml.runs.service import ContinueMode

# (title, question) -> True when the user accepts.
Confirm = Callable[[str, str], bool]
# The run to continue -> how (finish its plan, or train N more) and N, or None when cancelled.
ContinueChoice = tuple[ContinueMode, int | None]
AskContinue = Callable[[Run], ContinueChoice | None]
CloseChoice = Literal["keep", "stop", "cancel"]
# The runs a process still works on -> what to do with them when the window closes.
AskOnClose = Callable[[list[Run]], CloseChoice]


def sentence(message: object) -> str:
    """A message (or an error) as a sentence on screen: its first letter capitalised."""
    text = str(message)
    return text[:1].upper() + text[1:]


def ok_cancel(dialog: QDialog, ok_text: str) -> tuple[QDialogButtonBox, QPushButton]:
    """OK and Cancel buttons that accept and reject ``dialog``, OK renamed ``ok_text``."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
    ok.setText(ok_text)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons, ok


def plural(count: int, noun: str) -> str:
    """``1 run``, ``2 runs``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def doing(run: Run) -> str:
    """What a process is doing with ``run`` now, as the close prompt names it."""
    if run.status is RunStatus.RENDERING:
        return f"rendering its journey ({(run.render_progress or 0.0) * 100:.0f} %)"
    if run.status is RunStatus.PAUSED:
        return f"paused at {run.progress * 100:.0f} %"
    if run.status is RunStatus.QUEUED:
        return "waiting for a cluster node"
    return f"training ({run.progress * 100:.0f} %)"


def close_question(runs: list[Run]) -> str:
    """The close prompt: each run and what it is doing, and what "Stop" would lose."""
    lines = [f"{plural(len(runs), 'run')} still {'has' if len(runs) == 1 else 'have'} work going on:"]
    lines += [f"• {run.name}: {doing(run)}" for run in runs]
    lines.append(
        "\nThey run in their own processes and can keep going after this window closes "
        "(the CLI and the web app still see them). Stopping saves a checkpoint of each training run."
    )
    rendering = [run.name for run in runs if run.status is RunStatus.RENDERING]
    if rendering:
        lines.append(
            f"Stopping also cancels the journey render of {', '.join(rendering)}: that video is not made "
            "(render it again later from the Video Gallery)."
        )
    return "\n".join(lines)


def qt_confirm(parent: QWidget | None) -> Confirm:
    def confirm(title: str, question: str) -> bool:
        answer = QMessageBox.question(parent, title, question)
        return answer == QMessageBox.StandardButton.Yes

    return confirm


class ContinueDialog(QDialog):
    """Continue a run: finish its planned budget, or train N more timesteps.

    "Finish" is the default while some of the plan is left (a stopped or interrupted run); once the
    whole budget is trained it is disabled and "more" is chosen, with N the run's first budget.

    :param run: the run to continue.
    :param parent: the main window.
    """

    def __init__(self, run: Run, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run = run
        self.setWindowTitle(f"Continue {run.name}")
        left = run.remaining_timesteps
        self.finish = QRadioButton(f"Finish the planned budget: {left:,} timesteps left")
        self.finish.setEnabled(left > 0)
        self.more = QRadioButton("Train more timesteps:")
        self.steps = QLineEdit(f"{run.run_budget:_}")
        self.steps.setToolTip("e.g. 100000, 100k or 2.5M")
        self.steps.textEdited.connect(lambda _text: self.more.setChecked(True))
        group = QButtonGroup(self)
        group.addButton(self.finish)
        group.addButton(self.more)
        (self.finish if left > 0 else self.more).setChecked(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d32f2f;")
        self.error.setVisible(False)
        intro = QLabel(
            f"{run.timesteps:,} of {run.total_timesteps:,} timesteps trained. A new leg starts from the "
            "latest checkpoint; the milestones already reached are kept."
        )
        intro.setWordWrap(True)
        choices = QGridLayout()
        choices.addWidget(self.finish, 0, 0, 1, 2)
        choices.addWidget(self.more, 1, 0)
        choices.addWidget(self.steps, 1, 1)
        buttons, self.continue_button = ok_cancel(self, "Continue")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(choices)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def choice(self) -> ContinueChoice:
        """The chosen mode and steps; an :class:`InvalidInputError` sentence for a budget that is no number."""
        if self.finish.isChecked():
            return "finish", None
        return "more", parse_budget(self.steps.text(), "more timesteps")

    def accept(self) -> None:
        try:
            self.choice()
        except InvalidInputError as error:
            self.error.setText(sentence(error))
            self.error.setVisible(True)
            return
        super().accept()


def qt_ask_continue(parent: QWidget | None) -> AskContinue:
    def ask(run: Run) -> ContinueChoice | None:
        dialog = ContinueDialog(run, parent)
        return dialog.choice() if dialog.exec() == QDialog.DialogCode.Accepted else None

    return ask


def close_box(parent: QWidget | None, runs: list[Run]) -> tuple[QMessageBox, QPushButton, QPushButton]:
    """The close prompt for ``runs``, with its Keep and Stop buttons (Cancel is the third)."""
    many = len(runs) > 1
    box = QMessageBox(parent)
    box.setWindowTitle("Runs are still working" if many else "A run is still working")
    box.setText(close_question(runs))
    keep = box.addButton("Keep them going" if many else "Keep it going", QMessageBox.ButtonRole.AcceptRole)
    stop = box.addButton("Stop them" if many else "Stop it", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    return box, keep, stop


def qt_ask_on_close(parent: QWidget | None) -> AskOnClose:
    def ask(runs: list[Run]) -> CloseChoice:
        box, keep, stop = close_box(parent, runs)
        box.exec()
        clicked = box.clickedButton()
        if clicked is keep:
            return "keep"
        if clicked is stop:
            return "stop"
        return "cancel"

    return ask
