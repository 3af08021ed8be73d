"""The desktop main window and Start Training dialog on a real RunService, with real training runs.

Qt runs offscreen; the questions the window asks (confirmations, the close prompt) are answered by
the test through the callables :class:`MainWindow` takes (the Continue prompt is the real dialog,
checked and accepted by the test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QDialog
from tests.integration.conftest import tiny_config, wait_until

from retroml.config import build_config
from retroml.desktop.app import MainWindow
from retroml.desktop.dialog import FAST_MODE_TRADE_OFF, StartTrainingDialog
from retroml.desktop.prompts import ContinueChoice, ContinueDialog
from retroml.runs.model import Action, Run, RunStatus
from retroml.runs.service import RunService

# Qt reads this when pytest-qt creates the QApplication, after these imports.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TINY_PPO_OVERRIDES = "train.n_steps=64 train.batch_size=64 train.n_epochs=1"


class Answers:
    """Scripted answers to the window's yes/no questions, recording each question asked."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, title: str, question: str) -> bool:
        self.asked.append(f"{title}: {question}")
        return self.answers.pop(0)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunService]:
    service = RunService(tmp_path / "home")
    yield service
    for run in service.list_runs():
        if run.active and Action.STOP in run.actions:
            service.stop(run.run_id)
            service.wait(run.run_id, timeout=60)


def make_window(qtbot, service: RunService, **answers: object) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(service, refresh_ms=300, **answers)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.show()
    return window


def click_checkbox(qtbot, box: QCheckBox) -> None:  # type: ignore[no-untyped-def]
    """Click a checkbox on its box (a wide form row puts the widget's centre past its label)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def save(widget: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert widget.grab().save(str(ARTIFACTS / name))  # type: ignore[attr-defined]


class ContinuePrompt:
    """Answers the Continue question with the real dialog: shows it, saves a screenshot, accepts its default."""

    def __init__(self, qtbot, screenshot: str, steps: str | None = None) -> None:  # type: ignore[no-untyped-def]
        self.qtbot = qtbot
        self.screenshot = screenshot
        self.steps = steps
        self.dialog: ContinueDialog | None = None

    def __call__(self, run: Run) -> ContinueChoice | None:
        self.dialog = ContinueDialog(run)
        self.qtbot.addWidget(self.dialog)
        self.dialog.show()
        save(self.dialog, self.screenshot)
        if self.steps is not None:
            self.dialog.steps.setText(self.steps)
            self.dialog.more.setChecked(True)
        self.qtbot.mouseClick(self.dialog.continue_button, Qt.MouseButton.LeftButton)
        if self.dialog.result() != QDialog.DialogCode.Accepted:
            return None
        return self.dialog.choice()


def test_fast_mode_unchecks_and_disables_recording_and_unchecking_restores_it(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    dialog = StartTrainingDialog(service)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.select_preset("quick_test")
    assert dialog.recording.isChecked() and dialog.recording.isEnabled()
    assert not dialog.trade_off.isVisible()
    click_checkbox(qtbot, dialog.timelapse)
    assert dialog.config_data()["recording"]["timelapse_fps"] == 2
    click_checkbox(qtbot, dialog.fast_mode)
    assert dialog.fast_mode.isChecked()
    assert not dialog.recording.isChecked() and not dialog.recording.isEnabled()
    assert not dialog.timelapse.isChecked() and not dialog.timelapse.isEnabled()
    assert dialog.build().recording.timelapse_fps == 0
    assert not dialog.clip_seconds.isEnabled()
    assert dialog.trade_off.isVisible() and dialog.trade_off.text() == FAST_MODE_TRADE_OFF
    save(dialog, "desktop-dialog-fast-mode.png")
    click_checkbox(qtbot, dialog.fast_mode)
    assert dialog.recording.isChecked() and dialog.recording.isEnabled() and dialog.clip_seconds.isEnabled()
    assert dialog.timelapse.isChecked() and dialog.timelapse.isEnabled()
    assert not dialog.trade_off.isVisible()
    # The Epic presets are Fast Mode runs: choosing one applies the same rule.
    dialog.select_preset("epic_10h")
    assert dialog.fast_mode.isChecked() and not dialog.recording.isEnabled()
    assert dialog.journey_length.text() == "10h" and dialog.timesteps.text() == "40_000_000"


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("timesteps", "lots", "Total timesteps 'lots' is not a number of timesteps; write a whole number up to"),
        ("timesteps", "0", "Total timesteps '0' must be positive"),
        ("timesteps", "1.5k5", "Total timesteps '1.5k5' is not a number of timesteps"),
        ("timesteps", "1e400", "Total timesteps '1e400' is more than the 1,000,000,000 timesteps a run can train"),
        ("journey_length", "forever", "Invalid config — render.length: 'forever' is not a duration;"),
        ("overrides", "train.batch_size=7", "Invalid config — train: batch_size 7 must divide n_envs × n_steps"),
    ],
)
def test_bad_input_is_refused_in_the_dialog_with_a_sentence(qtbot, service: RunService, field, value, sentence) -> None:  # type: ignore[no-untyped-def]
    dialog = StartTrainingDialog(service)
    qtbot.addWidget(dialog)
    dialog.show()
    getattr(dialog, field).setText(value)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.created_run is None
    assert dialog.error.isVisible()
    assert dialog.error.text().startswith(sentence)
    assert "Traceback" not in dialog.error.text() and "\n" not in dialog.error.text()
    assert service.list_runs() == []
    if field == "journey_length":
        save(dialog, "desktop-dialog-error.png")


@pytest.mark.expensive
def test_a_tiny_fast_mode_run_started_from_the_dialog(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    window = make_window(qtbot, service)
    qtbot.mouseClick(window.sidebar.start_button, Qt.MouseButton.LeftButton)
    dialog = window.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.select_preset("quick_test")
    dialog.timesteps.setText("2k")
    dialog.n_envs.setText("4")
    dialog.n_threads.setValue(1)
    dialog.journey_length.setText("5s")
    dialog.overrides.setText(TINY_PPO_OVERRIDES)
    dialog.fast_mode.setChecked(True)
    save(dialog, "desktop-dialog.png")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert not dialog.start_button.isEnabled()  # the service creates the run on a worker thread
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30_000)
    assert dialog.created_run is not None
    run_id = dialog.created_run.run_id

    config = yaml.safe_load(service.paths(run_id).config.read_text(encoding="utf-8"))
    assert config["fast_mode"] is True
    assert config["recording"]["enabled"] is False and config["recording"]["milestone_clip_seconds"] == 0
    assert {key: config["render"][key] for key in ("auto", "length", "layout")} == {
        "auto": True,
        "length": "5s",
        "layout": "single",
    }
    assert config["train"]["total_timesteps"] == 2000 and config["train"]["n_envs"] == 4

    # The window selected the new run and shows its progress.
    assert window.runs_tab.selected_run_id() == run_id
    assert window.tabs.currentWidget() is window.progress_tab
    qtbot.waitUntil(lambda: window.progress_tab.fields["Clips"].text() == "off (Fast Mode)", timeout=10_000)
    qtbot.waitUntil(lambda: service.get(run_id).timesteps > 0, timeout=90_000)
    ended = (RunStatus.COMPLETED, RunStatus.RENDERING, RunStatus.FAILED)
    qtbot.waitUntil(lambda: service.get(run_id).status in ended, timeout=90_000)
    assert service.get(run_id).status is not RunStatus.FAILED, service.logs(run_id)
    window.tabs.setCurrentWidget(window.charts_tab)
    qtbot.waitUntil(lambda: window.charts_tab.score.point_count() + window.charts_tab.loss.point_count() > 0)
    save(window, "desktop-charts.png")
    window.tabs.setCurrentWidget(window.logs_tab)
    qtbot.waitUntil(lambda: run_id in window.logs_tab.text.toPlainText())

    window.tabs.setCurrentWidget(window.gallery)
    qtbot.waitUntil(lambda: len(window.gallery.videos_of_kind("journey")) == 1, timeout=180_000)
    journey = window.gallery.videos_of_kind("journey")[0]
    assert journey["run_id"] == run_id and (service.home / journey["path"]).stat().st_size > 0
    save(window, "desktop-gallery-journey.png")

    # "Render journey" again at another length: progress shows until the new video is listed.
    gallery = window.gallery
    qtbot.waitUntil(lambda: service.get(run_id).status is RunStatus.COMPLETED, timeout=30_000)
    qtbot.waitUntil(lambda: gallery.render_run.findData(run_id) >= 0)
    # The automatic render's progress line goes once it has ended (at the gallery's next refresh).
    qtbot.waitUntil(lambda: not gallery.render_bar.isVisible() and gallery.render_status.text() == "", timeout=10_000)
    gallery.render_run.setCurrentIndex(gallery.render_run.findData(run_id))
    gallery.render_length.setText("4s")
    qtbot.mouseClick(gallery.render_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gallery.render_status.text().startswith("Rendering the journey"), timeout=10_000)
    qtbot.waitUntil(lambda: len(gallery.videos_of_kind("journey")) == 2, timeout=180_000)
    qtbot.waitUntil(lambda: "is ready" in gallery.render_status.text(), timeout=10_000)
    assert not gallery.render_bar.isVisible()
    window.tabs.setCurrentWidget(window.progress_tab)
    qtbot.waitUntil(lambda: "rendered" in window.progress_tab.fields["Journey"].text(), timeout=10_000)
    save(window, "desktop-main-window.png")


def test_confirmations_guard_removing_runs_and_clearing_all_data(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    first = service.create(build_config(tiny_config(name="keep-me")), start=False).run_id
    second = service.create(build_config(tiny_config(name="also-here")), start=False).run_id
    answers = Answers(False, True, True, False, True, True)
    window = make_window(qtbot, service, confirm=answers)
    runs = window.runs_tab
    qtbot.waitUntil(lambda: runs.table.rowCount() == 2)

    runs.select(first)
    # A run created without starting can be started, stopped (it never trains) or removed; nothing else.
    enabled = {label for label, button in runs.buttons.items() if button.isEnabled()}
    assert enabled == {"Start", "Stop", "Remove", "Clear ALL data"}
    qtbot.mouseClick(runs.buttons["Remove"], Qt.MouseButton.LeftButton)  # declined
    assert service.paths(first).root.is_dir() and window.last_message == "Nothing was deleted."
    qtbot.mouseClick(runs.buttons["Remove"], Qt.MouseButton.LeftButton)  # accepted
    qtbot.waitUntil(lambda: window.last_message == f"Deleted {first}.")
    assert not (service.home / "runs" / first).exists()
    assert [run.run_id for run in service.list_runs()] == [second]
    assert "keep-me" in answers.asked[1]

    qtbot.waitUntil(lambda: runs.table.rowCount() == 1)
    qtbot.mouseClick(runs.buttons["Clear ALL data"], Qt.MouseButton.LeftButton)  # yes, then no
    assert service.paths(second).root.is_dir() and window.last_message == "Nothing was deleted."
    qtbot.mouseClick(runs.buttons["Clear ALL data"], Qt.MouseButton.LeftButton)  # yes, yes
    qtbot.waitUntil(lambda: window.last_message == "Deleted 1 run.")
    assert service.list_runs() == [] and not (service.home / "runs" / second).exists()
    assert answers.answers == [] and len(answers.asked) == 6
    qtbot.waitUntil(lambda: runs.table.rowCount() == 0 and runs.empty.isVisible())


@pytest.mark.expensive
def test_closing_while_a_run_trains_asks_to_keep_or_stop_it(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    run_id = service.create(build_config(tiny_config(steps=2_000_000, train={"n_threads": 1}))).run_id
    choices = ["cancel", "keep"]
    asked: list[int] = []

    def ask_on_close(running: list[Run]) -> str:
        asked.append(len(running))
        return choices.pop(0)

    window = make_window(qtbot, service, ask_on_close=ask_on_close)
    runs = window.runs_tab
    qtbot.waitUntil(lambda: service.get(run_id).timesteps > 0, timeout=90_000)
    runs.select(run_id)
    assert runs.buttons["Pause"].isEnabled() and not runs.buttons["Remove"].isEnabled()
    qtbot.mouseClick(runs.buttons["Pause"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.last_message == f"Paused {run_id}.")
    assert service.get(run_id).status is RunStatus.PAUSED
    qtbot.waitUntil(lambda: runs.buttons["Resume"].isEnabled())
    save(window, "desktop-runs.png")
    qtbot.mouseClick(runs.buttons["Resume"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.last_message == f"Resumed {run_id}.")
    assert service.get(run_id).status is RunStatus.RUNNING

    assert not window.close() and window.isVisible()  # cancelled
    assert window.close() and not window.isVisible()  # kept running
    assert asked == [1, 1] and service.get(run_id).status is RunStatus.RUNNING

    second = make_window(qtbot, service, ask_on_close=lambda _running: "stop")
    assert second.close()
    wait_until(lambda: service.get(run_id).status is RunStatus.STOPPED, timeout=60)
    assert service.paths(run_id).latest_checkpoint.exists()
    stopped = service.get(run_id)
    assert stopped.eta_seconds is None and stopped.remaining_timesteps > 0

    # Continue on a run stopped early offers to finish its plan first; it trains a new leg from
    # latest.zip to the same total (the fixture stops it again).
    prompt = ContinuePrompt(qtbot, "desktop-continue-finish.png")
    third = make_window(qtbot, service, ask_continue=prompt, ask_on_close=lambda _running: "keep")
    qtbot.waitUntil(lambda: third.runs_tab.table.rowCount() == 1)
    third.runs_tab.select(run_id)
    qtbot.mouseClick(third.runs_tab.buttons["Continue"], Qt.MouseButton.LeftButton)
    dialog = prompt.dialog
    assert dialog is not None and dialog.finish.isEnabled() and dialog.finish.isChecked()
    assert f"{stopped.remaining_timesteps:,} timesteps left" in dialog.finish.text()
    assert dialog.steps.text() == "2_000_000"  # "more" would default to the run's first budget
    qtbot.waitUntil(lambda: third.last_message.startswith("Training"), timeout=30_000)
    run = service.get(run_id)
    assert run.leg == 2 and run.status is RunStatus.RUNNING, third.last_message
    assert run.total_timesteps == 2_000_000 and run.run_budget == 2_000_000
    start = run.legs[-1].start_timesteps
    assert third.last_message == (
        f"Training {run_id} leg 2: {2_000_000 - start:,} timesteps from {start:,} to 2,000,000."
    )


@pytest.mark.expensive
def test_a_completed_run_continued_with_more_keeps_the_milestones_it_reached(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    # Breakout: a random paddle loses its five balls in a few hundred steps, so episodes end and score.
    config = tiny_config(
        "breakout", steps=2048, milestones_pct=[0, 50, 100], recording={"enabled": False}, train={"n_threads": 1}
    )
    run_id = service.create(build_config(config)).run_id
    done = service.wait(run_id, timeout=180)
    assert done.status is RunStatus.COMPLETED, service.logs(run_id)
    assert done.remaining_timesteps == 0 and done.eta_seconds is None

    prompt = ContinuePrompt(qtbot, "desktop-continue-more.png")
    window = make_window(qtbot, service, ask_continue=prompt)
    runs, progress = window.runs_tab, window.progress_tab
    qtbot.waitUntil(lambda: runs.table.rowCount() == 1)
    runs.select(run_id)
    assert runs.buttons["Continue"].isEnabled() and not runs.buttons["Pause"].isEnabled()
    timesteps_cell = runs.table.item(0, 4)
    assert timesteps_cell is not None and timesteps_cell.text() == "2,048 / 2,048"
    window.tabs.setCurrentWidget(progress)  # the tab reads the run on its worker thread, then paints it
    qtbot.waitUntil(lambda: progress.fields["Timesteps"].text() == "2,048 of 2,048 — 100.0 % of the run")
    assert progress.fields["ETA"].text() == "—"
    assert progress.fields["Speed"].text().endswith("steps/s on average")
    leg1 = progress.milestone_rows()
    assert [(label, state) for label, _steps, state, *_rest in leg1] == [
        ("0 %", "reached"),
        ("50 %", "reached"),
        ("100 %", "reached"),
    ]
    save(window, "desktop-progress-completed.png")

    # Nothing is left of the plan: the prompt can only train more, by the run's first budget.
    window.tabs.setCurrentWidget(runs)
    qtbot.mouseClick(runs.buttons["Continue"], Qt.MouseButton.LeftButton)
    dialog = prompt.dialog
    assert dialog is not None and not dialog.finish.isEnabled() and dialog.more.isChecked()
    assert dialog.finish.text() == "Finish the planned budget: 0 timesteps left"
    assert dialog.steps.text() == "2_048"
    qtbot.waitUntil(lambda: window.last_message.startswith("Training"), timeout=30_000)
    run = service.get(run_id)
    assert run.leg == 2 and run.total_timesteps == 4096, window.last_message
    assert window.last_message == f"Training {run_id} leg 2: 2,048 timesteps from 2,048 to 4,096."

    # The table and the Progress tab show the new total; leg 1's milestones stay reached, at the
    # timesteps they were saved, now at their share of the longer run; the rest are planned.
    qtbot.waitUntil(lambda: runs.table.item(0, 4).text().endswith("/ 4,096"), timeout=10_000)  # type: ignore[union-attr]
    window.tabs.setCurrentWidget(progress)
    qtbot.waitUntil(lambda: "of 4,096" in progress.fields["Timesteps"].text(), timeout=10_000)
    extended = progress.milestone_rows()
    reached = [(label, steps) for label, steps, state, *_rest in extended if state == "reached"]
    assert reached[:3] == [("0 %", leg1[0][1]), ("25 %", leg1[1][1]), ("50 %", leg1[2][1])]
    assert ("100 %", "4,096", "planned") in [(label, steps, state) for label, steps, state, *_rest in extended]

    done = service.wait(run_id, timeout=180)
    assert done.status is RunStatus.COMPLETED, service.logs(run_id)
    qtbot.waitUntil(lambda: progress.fields["Status"].text() == "completed", timeout=10_000)
    assert progress.fields["Timesteps"].text() == "4,096 of 4,096 — 100.0 % of the run"
    assert progress.fields["Training time"].text().endswith("over 2 legs")
    assert progress.fields["Leg"].text().startswith("2 of 2: 100 %")
    states = [state for _label, _steps, state, *_rest in progress.milestone_rows()]
    assert states and set(states) == {"reached"}
    save(window, "desktop-progress-continued.png")
    assert done.score_best is not None and f"best {done.score_best:g}" in progress.fields["Score"].text()

    # The best-score curve is the whole run's best so far: it never falls, across both legs.
    charts = window.charts_tab
    window.tabs.setCurrentWidget(charts)
    mean, best, interval = charts.score.series
    assert (mean.name, best.name, interval.name) == (
        "mean score (last 100)",
        "best score (whole run)",
        "best episode in interval",
    )
    qtbot.waitUntil(lambda: bool(best.points) and best.points[-1][0] >= 4096 - 256, timeout=10_000)
    best_values = [value for _step, value in best.points]
    assert best_values == sorted(best_values) and best_values[-1] == done.score_best
    assert max(value for _step, value in interval.points) == done.score_best
    save(window, "desktop-charts-continued.png")
