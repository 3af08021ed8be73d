"""The desktop window calls the service on worker threads and only paints on the GUI thread.

A real window offscreen on a real RunService (SQLite): the service's own methods are wrapped to note
the thread each call runs on, then the window polls, a run is selected and every tab is shown, and
the buttons, the Start Training dialog and the close prompt act.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from tests.e2e.test_desktop_polish import ELSEWHERE, add_video, make_run
from tests.integration.conftest import tiny_config

from retroml.config import build_config
from retroml.desktop.app import MainWindow
from retroml.desktop.dialog import StartTrainingDialog
from retroml.desktop.runs_tab import COLUMNS
from retroml.runs.model import Run
from retroml.runs.service import RunService

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

Calls = list[tuple[str, int]]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunService]:
    service = RunService(tmp_path / "home")
    yield service
    service.close()


def note_threads(owner: object, names: tuple[str, ...], calls: Calls, before: Callable[[], None] | None = None) -> None:
    """Replace ``owner``'s methods ``names`` by the real ones, noting each call's name and thread first."""
    for name in names:
        real = getattr(owner, name)

        def noted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append((_name, threading.get_ident()))
            if before is not None:
                before()
            return _real(*args, **kwargs)

        setattr(owner, name, noted)


def make_window(qtbot, service: RunService, refresh_ms: int, **answers: Any) -> MainWindow:  # type: ignore[no-untyped-def]
    answers.setdefault("ask_on_close", lambda _runs: "keep")
    window = MainWindow(service, refresh_ms=refresh_ms, **answers)
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_window_reads_runs_metrics_logs_and_videos_off_the_gui_thread(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    run_id = make_run(service, "read-off-the-gui", status="completed", timesteps=4096)
    video_id = add_video(service, run_id, "journey", "journey")
    calls: Calls = []
    note_threads(service, ("list_runs", "get", "paths", "config", "metrics", "logs", "system_status"), calls)
    note_threads(service.renders, ("videos", "video_poster"), calls)
    gui = threading.get_ident()

    window = make_window(qtbot, service, refresh_ms=200)
    qtbot.waitUntil(lambda: window.runs_tab.table.rowCount() == 1, timeout=5000)
    window.runs_tab.select(run_id)
    window.tabs.setCurrentWidget(window.progress_tab)
    qtbot.waitUntil(lambda: "read-off-the-gui" in window.progress_tab.fields["Run"].text(), timeout=5000)
    window.tabs.setCurrentWidget(window.charts_tab)
    qtbot.waitUntil(lambda: "metrics rows of" in window.charts_tab.note.text(), timeout=5000)
    window.tabs.setCurrentWidget(window.logs_tab)
    qtbot.waitUntil(lambda: any(name == "logs" for name, _thread in calls), timeout=5000)
    window.tabs.setCurrentWidget(window.gallery)
    qtbot.waitUntil(lambda: window.gallery.video_ids() == [video_id], timeout=5000)

    read = {name for name, _thread in calls}
    assert {"list_runs", "system_status", "get", "paths", "config", "metrics", "logs", "videos", "video_poster"} <= read
    on_gui = sorted({name for name, thread in calls if thread == gui})
    assert on_gui == [], f"the GUI thread waited on {on_gui}"


def test_a_slow_read_skips_ticks_and_the_window_keeps_painting(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    make_run(service, "slow-store", status="completed")
    calls: Calls = []
    in_flight = [0, 0]  # now, most at once

    def slow() -> None:
        in_flight[0] += 1
        in_flight[1] = max(in_flight)
        time.sleep(0.4)  # a store busy with a writer
        in_flight[0] -= 1

    note_threads(service, ("list_runs",), calls, before=slow)
    window = make_window(qtbot, service, refresh_ms=50)
    ticks = [0]
    clock = QTimer(window, interval=20)
    clock.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    clock.start()
    qtbot.wait(2000)
    clock.stop()

    assert in_flight[1] == 1, "polls overlapped"
    assert len(calls) <= 2000 / 400 + 1, f"{len(calls)} reads in 2 s: ticks piled up behind a slow read"
    assert window.runs_tab.table.rowCount() == 1
    assert ticks[0] >= 40, f"the GUI thread ran {ticks[0]} of 100 timer ticks: it waited on the reads"


def test_stop_and_remove_run_off_the_gui_thread_and_the_table_shows_their_outcome(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    run_id = service.create(build_config(tiny_config(name="acted-on")), start=False).run_id
    calls: Calls = []
    note_threads(service, ("stop", "delete"), calls, before=lambda: time.sleep(0.3))  # a store busy with a writer
    gui = threading.get_ident()
    window = make_window(qtbot, service, refresh_ms=200, confirm=lambda _title, _question: True)
    runs = window.runs_tab
    qtbot.waitUntil(lambda: runs.table.rowCount() == 1, timeout=5000)
    runs.select(run_id)

    qtbot.mouseClick(runs.buttons["Stop"], Qt.MouseButton.LeftButton)
    assert not runs.buttons["Stop"].isEnabled(), "a second click could stop it twice"
    qtbot.waitUntil(lambda: window.last_message == f"Asked {run_id} to save a checkpoint and stop.", timeout=5000)
    status = COLUMNS.index("Status")
    qtbot.waitUntil(lambda: runs.table.item(0, status).text() == "stopped", timeout=5000)  # type: ignore[union-attr]
    assert not runs.buttons["Stop"].isEnabled()  # a stopped run cannot stop: its actions say so

    qtbot.mouseClick(runs.buttons["Remove"], Qt.MouseButton.LeftButton)
    assert not runs.buttons["Remove"].isEnabled(), "a second click could remove it twice"
    qtbot.waitUntil(lambda: window.last_message == f"Deleted {run_id}.", timeout=5000)
    qtbot.waitUntil(lambda: runs.table.rowCount() == 0 and runs.empty.isVisible(), timeout=5000)
    assert not service.home.joinpath("runs", run_id).exists()

    assert [name for name, _thread in calls] == ["stop", "delete"]
    assert all(thread != gui for _name, thread in calls), f"the GUI thread waited on {calls}"


def test_a_refused_start_and_the_dialog_s_create_run_off_the_gui_thread(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    run_id = service.create(build_config(tiny_config(name="cannot-start-twice")), start=False).run_id
    service.stop(run_id)  # stopped before it trained: Start is refused, Continue is not
    calls: Calls = []
    note_threads(service, ("start", "create"), calls)
    gui = threading.get_ident()
    window = make_window(qtbot, service, refresh_ms=200)
    runs = window.runs_tab
    qtbot.waitUntil(lambda: runs.table.rowCount() == 1, timeout=5000)
    runs.select(run_id)
    runs.start()  # as a click that came before the table showed the run stopped
    refusal = f"run {run_id} is stopped: use `retroml runs continue {run_id}` to train it further"
    qtbot.waitUntil(lambda: window.last_message == refusal, timeout=5000)  # the sentence, as before

    # The dialog validates on the GUI thread; the service refuses the device on the worker thread.
    dialog = StartTrainingDialog(service, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.select_preset("quick_test")
    dialog.overrides.setText("train.device=cuda")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert not dialog.start_button.isEnabled(), "a second click could create a second run"
    qtbot.waitUntil(lambda: dialog.error.text().startswith("This machine has no CUDA GPU"), timeout=60_000)
    assert dialog.isVisible() and dialog.created_run is None and dialog.start_button.isEnabled()
    assert [name for name, _thread in calls] == ["start", "create"]
    assert all(thread != gui for _name, thread in calls), f"the GUI thread waited on {calls}"


def test_the_close_prompt_lists_the_active_runs_read_off_the_gui_thread(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    make_run(service, "training-elsewhere", status="running", host=ELSEWHERE, timesteps=500)
    asked: list[list[Run]] = []
    window = make_window(qtbot, service, refresh_ms=60_000, ask_on_close=lambda runs: asked.append(runs) or "cancel")
    qtbot.waitUntil(lambda: window.runs_tab.table.rowCount() == 1, timeout=5000)
    calls: Calls = []
    note_threads(service, ("list_runs",), calls)
    gui = threading.get_ident()
    assert not window.close() and window.isVisible()  # cancelled
    assert [run.name for run in asked[0]] == ["training-elsewhere"]
    assert calls and all(thread != gui for _name, thread in calls), f"the GUI thread waited on {calls}"
