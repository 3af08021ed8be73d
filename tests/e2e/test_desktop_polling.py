"""The desktop window reads the service on worker threads and only paints on the GUI thread.

A real window offscreen on a real RunService (SQLite): the service's own methods are wrapped to note
the thread each call runs on, then the window polls, a run is selected and every tab is shown.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from tests.e2e.test_desktop_polish import add_video, make_run

from retroml.desktop.app import MainWindow
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


def make_window(qtbot, service: RunService, refresh_ms: int) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(service, ask_on_close=lambda _runs: "keep", refresh_ms=refresh_ms)
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
