"""The desktop main window and Start Training dialog on a real RunService, with real training runs.

Qt runs offscreen; the questions the window asks (confirmations, the close prompt) are answered by
the test through the callables :class:`MainWindow` takes.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox

from retroml.config import build_config
from retroml.desktop.app import MainWindow
from retroml.desktop.dialog import FAST_MODE_TRADE_OFF, StartTrainingDialog
from retroml.runs.service import RunService
from tests.integration.conftest import tiny_config, wait_until

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
    for row in service.list_runs():
        if row["status"] in ("running", "paused") and row.get("pid"):
            service.stop(row["run_id"])
            service.wait(row["run_id"], timeout=60)


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
        ("timesteps", "lots", "Total timesteps 'lots' is not a number; write e.g. 100000, 100k or 2.5M"),
        ("timesteps", "0", "Invalid config — train.total_timesteps: Input should be greater than 0"),
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
    dialog.n_envs.setValue(4)
    dialog.n_threads.setValue(1)
    dialog.journey_length.setText("5s")
    dialog.overrides.setText(TINY_PPO_OVERRIDES)
    dialog.fast_mode.setChecked(True)
    save(dialog, "desktop-dialog.png")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and dialog.created_run is not None
    run_id = dialog.created_run["run_id"]

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
    assert window.progress_tab.fields["Clips"].text() == "off (Fast Mode)"
    qtbot.waitUntil(lambda: service.get(run_id)["timesteps"] > 0, timeout=90_000)
    qtbot.waitUntil(lambda: service.get(run_id)["status"] in ("completed", "rendering", "failed"), timeout=90_000)
    assert service.get(run_id)["status"] != "failed", service.logs(run_id)
    window.tabs.setCurrentWidget(window.charts_tab)
    qtbot.waitUntil(lambda: window.charts_tab.score.point_count() + window.charts_tab.loss.point_count() > 0)
    save(window, "desktop-charts.png")
    window.tabs.setCurrentWidget(window.logs_tab)
    qtbot.waitUntil(lambda: run_id in window.logs_tab.text.toPlainText())

    if importlib.util.find_spec("retroml.video.journey") is None:
        window.tabs.setCurrentWidget(window.progress_tab)
        save(window, "desktop-main-window.png")
        pytest.skip("the journey renderer (retroml.video.journey) is not installed yet; the run completed")
    window.tabs.setCurrentWidget(window.gallery)
    qtbot.waitUntil(lambda: len(window.gallery.videos_of_kind("journey")) == 1, timeout=180_000)
    journey = window.gallery.videos_of_kind("journey")[0]
    assert journey["run_id"] == run_id and (service.home / journey["path"]).stat().st_size > 0
    save(window, "desktop-gallery-journey.png")

    # "Render journey" again at another length: progress shows until the new video is listed.
    gallery = window.gallery
    qtbot.waitUntil(lambda: service.get(run_id)["status"] == "completed", timeout=30_000)
    qtbot.waitUntil(lambda: gallery.render_run.findData(run_id) >= 0)
    gallery.render_run.setCurrentIndex(gallery.render_run.findData(run_id))
    gallery.render_length.setText("4s")
    qtbot.mouseClick(gallery.render_button, Qt.MouseButton.LeftButton)
    assert gallery.render_status.text().startswith("Rendering the journey"), gallery.render_status.text()
    qtbot.waitUntil(lambda: len(gallery.videos_of_kind("journey")) == 2, timeout=180_000)
    qtbot.waitUntil(lambda: "is ready" in gallery.render_status.text(), timeout=10_000)
    assert not gallery.render_bar.isVisible()
    window.tabs.setCurrentWidget(window.progress_tab)
    qtbot.waitUntil(lambda: "rendered" in window.progress_tab.fields["Journey"].text(), timeout=10_000)
    save(window, "desktop-main-window.png")


def test_confirmations_guard_removing_runs_and_clearing_all_data(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    first = service.create(build_config(tiny_config(name="keep-me")), start=False)["run_id"]
    second = service.create(build_config(tiny_config(name="also-here")), start=False)["run_id"]
    answers = Answers(False, True, True, False, True, True)
    window = make_window(qtbot, service, confirm=answers)
    runs = window.runs_tab
    qtbot.waitUntil(lambda: runs.table.rowCount() == 2)

    runs.select(first)
    qtbot.mouseClick(runs.buttons["Remove"], Qt.MouseButton.LeftButton)  # declined
    assert service.paths(first).root.is_dir() and window.last_message == "Nothing was deleted."
    qtbot.mouseClick(runs.buttons["Clear this run's data"], Qt.MouseButton.LeftButton)  # accepted
    assert not (service.home / "runs" / first).exists()
    assert [row["run_id"] for row in service.list_runs()] == [second]
    assert "keep-me" in answers.asked[1]

    qtbot.waitUntil(lambda: runs.table.rowCount() == 1)
    qtbot.mouseClick(runs.buttons["Clear ALL data"], Qt.MouseButton.LeftButton)  # yes, then no
    assert service.paths(second).root.is_dir() and window.last_message == "Nothing was deleted."
    qtbot.mouseClick(runs.buttons["Clear ALL data"], Qt.MouseButton.LeftButton)  # yes, yes
    assert service.list_runs() == [] and not (service.home / "runs" / second).exists()
    assert window.last_message == "Deleted 1 run(s)."
    assert answers.answers == [] and len(answers.asked) == 6
    qtbot.waitUntil(lambda: runs.table.rowCount() == 0 and runs.empty.isVisible())


@pytest.mark.expensive
def test_closing_while_a_run_trains_asks_to_keep_or_stop_it(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    run_id = service.create(build_config(tiny_config(steps=2_000_000, train={"n_threads": 1})))["run_id"]
    choices = ["cancel", "keep"]
    asked: list[int] = []

    def ask_on_close(running: int) -> str:
        asked.append(running)
        return choices.pop(0)

    window = make_window(qtbot, service, ask_on_close=ask_on_close)
    runs = window.runs_tab
    qtbot.waitUntil(lambda: service.get(run_id)["timesteps"] > 0, timeout=90_000)
    runs.select(run_id)
    assert runs.buttons["Pause"].isEnabled() and not runs.buttons["Remove"].isEnabled()
    qtbot.mouseClick(runs.buttons["Pause"], Qt.MouseButton.LeftButton)
    assert service.get(run_id)["status"] == "paused"
    qtbot.waitUntil(lambda: runs.buttons["Resume"].isEnabled())
    save(window, "desktop-runs.png")
    qtbot.mouseClick(runs.buttons["Resume"], Qt.MouseButton.LeftButton)
    assert service.get(run_id)["status"] == "running"

    assert not window.close() and window.isVisible()  # cancelled
    assert window.close() and not window.isVisible()  # kept running
    assert asked == [1, 1] and service.get(run_id)["status"] == "running"

    second = make_window(qtbot, service, ask_on_close=lambda _running: "stop")
    assert second.close()
    wait_until(lambda: service.get(run_id)["status"] == "stopped", timeout=60)
    assert service.paths(run_id).latest_checkpoint.exists()

    # Continue trains the stopped run a new leg from latest.zip (the fixture stops it again).
    third = make_window(qtbot, service, ask_steps=lambda _name: 4096, ask_on_close=lambda _running: "keep")
    qtbot.waitUntil(lambda: third.runs_tab.table.rowCount() == 1)
    third.runs_tab.select(run_id)
    qtbot.mouseClick(third.runs_tab.buttons["Continue"], Qt.MouseButton.LeftButton)
    row = service.get(run_id)
    assert row["leg"] == 2 and row["status"] == "running", third.last_message
    assert third.last_message == f"Training {run_id} 4,096 more steps."
