"""Desktop polish (issue 17): what the Runs table, the close prompt, the Start Training dialog, the
Video Gallery, the player and the Progress tab show, on a real RunService and real Qt windows offscreen.

Display-only tests build their runs straight in the store. A run "another machine" trains is active
without a process here (its host is not this one and its heartbeat is fresh), so the window treats it
as live. One tiny run is trained for real per module, for the render and its Cancel.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget
from tests.e2e.test_desktop_gallery import FPS, FRAMES, write_mp4
from tests.integration.conftest import tiny_config

from retroml.config import build_config
from retroml.desktop.app import MainWindow
from retroml.desktop.dialog import StartTrainingDialog
from retroml.desktop.player import clock
from retroml.desktop.prompts import close_box, close_question
from retroml.runs.model import Action, Run, RunStatus
from retroml.runs.service import RunService

# Qt reads this when pytest-qt creates the QApplication, after these imports.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ELSEWHERE = "another-machine"  # a host that is not this one: its runs are live while they heartbeat


def save(widget: QWidget, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert widget.grab().save(str(ARTIFACTS / name))


def cell(window: MainWindow, run_id: str, column: str) -> str:
    from retroml.desktop.runs_tab import COLUMNS

    table = window.runs_tab.table
    ids = [table.item(index, 0).data(Qt.ItemDataRole.UserRole) for index in range(table.rowCount())]  # type: ignore[union-attr]
    item = table.item(ids.index(run_id), COLUMNS.index(column))
    assert item is not None
    return item.text()


def make_run(service: RunService, name: str, **values: Any) -> str:
    """A run created without starting, then given the store values of the state the test needs."""
    sections = values.pop("config", {})
    run_id = service.create(build_config(tiny_config(name=name, **sections)), start=False).run_id
    if values.get("host") == ELSEWHERE:
        values.setdefault("pid", 4242)
        values.setdefault("heartbeat_at", time.time() + 600)
    service.raw_store.update_run(run_id, **values)
    return run_id


def add_video(service: RunService, run_id: str, name: str, kind: str, layout: str | None = None, **values: Any) -> int:
    """A real H.264 file and poster in the run's videos folder, recorded as the renderer does."""
    videos = service.paths(run_id).videos
    first = write_mp4(videos / f"{name}.mp4")
    Image.fromarray(first).save(videos / f"{name}.jpg", quality=85)
    meta: dict[str, Any] = {"poster": (videos / f"{name}.jpg").relative_to(service.home).as_posix(), "fps": FPS}
    if layout is not None:
        meta["layout"] = layout
    return service.raw_store.add_artifact(
        run_id,
        kind,
        (videos / f"{name}.mp4").relative_to(service.home).as_posix(),
        duration_sec=FRAMES / FPS,
        meta=meta,
        **values,
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunService]:
    service = RunService(tmp_path / "home")
    yield service
    service.raw_store.dispose()


def make_window(qtbot, service: RunService, **answers: object) -> MainWindow:  # type: ignore[no-untyped-def]
    answers.setdefault("ask_on_close", lambda _runs: "keep")
    window = MainWindow(service, refresh_ms=300, **answers)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.show()
    return window


# Runs table ---------------------------------------------------------------------------------------
def test_runs_table_shows_fast_mode_score_created_and_training_time_not_a_stale_speed(qtbot, service) -> None:  # type: ignore[no-untyped-def]
    created = time.time() - 3600
    stopped = make_run(
        service, "stopped-fast", config={"fast_mode": True}, status="stopped", timesteps=20_000,
        total_timesteps=100_000, steps_per_sec=46.0, train_seconds=1000.0, score_mean=3.46, score_best=21.0,
        created_at=created,
    )  # fmt: skip
    # A continued run's second leg has just started: its live pace is not measured yet (start() clears it).
    continued = make_run(
        service, "continued-leg", status="running", host=ELSEWHERE, timesteps=2_100, total_timesteps=4_096,
        leg=2, leg_start_timesteps=2_048, steps_per_sec=None, train_seconds=30.0,
        legs=[{"leg": 1, "start_timesteps": 0, "budget": 2_048}, {"leg": 2, "start_timesteps": 2_048, "budget": 2_048}],
    )  # fmt: skip
    live = make_run(
        service, "training-now", status="running", host=ELSEWHERE, timesteps=1_000, steps_per_sec=250.0,
        train_seconds=4.0,
    )  # fmt: skip
    window = make_window(qtbot, service)
    qtbot.waitUntil(lambda: window.runs_tab.table.rowCount() == 3)

    assert cell(window, stopped, "Status") == "stopped ⚡"
    assert cell(window, continued, "Status") == "running"
    # The stopped run shows its average (20,000 steps in 1,000 s), not the last live 46 steps/s.
    assert cell(window, stopped, "Steps/s") == "20 avg"
    assert cell(window, stopped, "ETA") == "—"
    assert cell(window, stopped, "Score") == "3.5 / 21"
    assert cell(window, stopped, "Trained") == "16 min 40 s"
    assert cell(window, stopped, "Created") == time.strftime("%b %d %H:%M", time.localtime(created))
    # The new leg has no ETA from the old one: it measures its pace first.
    assert cell(window, continued, "Steps/s") == "measuring…"
    assert cell(window, continued, "ETA") == "measuring…"
    assert cell(window, live, "Steps/s") == "250"
    assert cell(window, live, "ETA") == "4 s"  # 1,000 steps left at 250 steps/s
    assert cell(window, live, "Score") == "—"
    save(window, "desktop-polish-runs-table.png")

    # The Progress tab names the work going on and offers to stop it.
    window.runs_tab.select(continued)
    window.tabs.setCurrentWidget(window.progress_tab)
    progress = window.progress_tab
    qtbot.waitUntil(lambda: progress.activity.text().startswith("Training leg 2:"))
    assert progress.activity.text() == "Training leg 2: 2,100 of 4,096 timesteps · measuring speed…"
    assert progress.cancel_button.isVisible() and progress.cancel_button.text() == "Stop training"
    assert progress.bar.text() == "51 % of the run"
    save(window, "desktop-polish-progress-training.png")
    window.runs_tab.select(stopped)
    qtbot.waitUntil(lambda: not progress.cancel_button.isVisible())
    assert progress.activity.text() == ""


def test_remove_is_one_action_asked_once(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    run_id = make_run(service, "to-remove", status="stopped")
    asked: list[str] = []
    window = make_window(qtbot, service, confirm=lambda title, question: asked.append(f"{title}: {question}") or True)
    runs = window.runs_tab
    qtbot.waitUntil(lambda: runs.table.rowCount() == 1)
    assert list(runs.buttons) == ["Start", "Stop", "Pause", "Resume", "Continue", "Remove", "Clear ALL data"]
    runs.select(run_id)
    qtbot.mouseClick(runs.buttons["Remove"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.last_message == f"Deleted {run_id}.")
    assert asked == [
        "Remove run: Remove to-remove and delete all its data (checkpoints, clips, journey videos, logs, "
        "metrics)? This cannot be undone."
    ]
    assert service.list_runs() == [] and not service.home.joinpath("runs", run_id).exists()
    assert window.last_message == f"Deleted {run_id}."


# Close prompt -------------------------------------------------------------------------------------
def test_close_prompt_names_what_each_run_is_doing_and_what_stop_loses(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    make_run(service, "pong-training", status="running", host=ELSEWHERE, timesteps=500)
    make_run(service, "pong-paused", status="paused", host=ELSEWHERE, timesteps=1_000)
    make_run(service, "pong-rendering", status="rendering", host=ELSEWHERE, timesteps=2_000, render_progress=0.4)
    asked: list[list[Run]] = []
    window = make_window(qtbot, service, ask_on_close=lambda runs: asked.append(runs) or "cancel")
    assert not window.close() and window.isVisible()
    assert len(asked) == 1
    question = close_question(asked[0])
    lines = question.splitlines()
    assert lines[0] == "3 runs still have work going on:"
    assert set(lines[1:4]) == {
        "• pong-training: training (25 %)",
        "• pong-paused: paused at 50 %",
        "• pong-rendering: rendering its journey (40 %)",
    }
    assert "run(s)" not in question and "are still training" not in question
    assert lines[-1] == (
        "Stopping also cancels the journey render of pong-rendering: that video is not made "
        "(render it again later from the Video Gallery)."
    )
    box, keep, stop = close_box(window, asked[0])
    qtbot.addWidget(box)
    box.show()
    assert (keep.text(), stop.text()) == ("Keep them going", "Stop them")
    save(box, "desktop-polish-close-prompt.png")
    box.close()
    # One run: singular words, and no render warning when nothing renders.
    paused = next(run for run in asked[0] if run.status is RunStatus.PAUSED)
    assert close_question([paused]).splitlines()[0] == "1 run still has work going on:"
    assert "render" not in close_question([paused])


# Start Training dialog ----------------------------------------------------------------------------
def squeezed(dialog: StartTrainingDialog) -> list[str]:
    """The visible widgets of the dialog shown shorter than they need (a wrapped label: its text's height)."""
    found = []
    for widget in dialog.findChildren(QWidget):
        if not widget.isVisible() or widget.parent() is not dialog:
            continue
        need = widget.heightForWidth(widget.width()) if isinstance(widget, QLabel) and widget.wordWrap() else -1
        need = max(need, widget.minimumSizeHint().height())
        if widget.height() < need:
            text = widget.text() if isinstance(widget, QLabel) else ""
            found.append(f"{type(widget).__name__} {text!r}: {widget.height()} < {need}")
    return found


def click_start(qtbot, dialog: StartTrainingDialog) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.wait(50)  # let the layout settle as a person would see it


def test_dialog_error_keeps_the_form_whole_and_goes_with_a_new_preset(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    dialog = StartTrainingDialog(service)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.select_preset("epic_10h")  # the longest preset note
    qtbot.waitUntil(lambda: squeezed(dialog) == [])
    height = dialog.height()
    dialog.timesteps.setText("lots")
    click_start(qtbot, dialog)
    assert dialog.error.text().startswith("Total timesteps 'lots' is not a number")
    # The first error takes the room kept for it: the form is not squeezed, the preset note shows whole.
    assert squeezed(dialog) == [] and dialog.height() >= height
    save(dialog, "desktop-polish-dialog-error.png")
    dialog.select_preset("quick_test")
    assert dialog.error.text() == ""
    assert service.list_runs() == []


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("-4", "Environments -4 is out of range; write 1 to 256, or leave it empty for the algorithm's default"),
        ("999", "Environments 999 is out of range; write 1 to 256, or leave it empty for the algorithm's default"),
        ("four", "Environments 'four' is not a whole number; write 1 to 256, or leave it empty"),
    ],
)
def test_environments_out_of_range_are_refused_not_clamped(qtbot, service: RunService, text, sentence) -> None:  # type: ignore[no-untyped-def]
    dialog = StartTrainingDialog(service)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.select_preset("quick_test")
    dialog.n_envs.clear()
    qtbot.keyClicks(dialog.n_envs, text)  # typed, as a person does: nothing rewrites it
    assert dialog.n_envs.text() == text
    click_start(qtbot, dialog)
    assert dialog.isVisible() and dialog.created_run is None
    assert dialog.error.text().startswith(sentence), dialog.error.text()
    if text == "-4":
        save(dialog, "desktop-polish-dialog-envs.png")


def test_a_negative_budget_is_refused_as_negative_not_as_no_number(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    dialog = StartTrainingDialog(service)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.timesteps.setText("-5")
    click_start(qtbot, dialog)
    assert dialog.created_run is None and dialog.error.text()
    assert "not a number" not in dialog.error.text() and "-5" in dialog.error.text(), dialog.error.text()


# Video Gallery ------------------------------------------------------------------------------------
def test_gallery_groups_by_run_filters_by_kind_and_tells_legs_apart(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    legs = [{"leg": 1, "start_timesteps": 0, "budget": 2_048}, {"leg": 2, "start_timesteps": 2_048, "budget": 2_048}]
    older = make_run(service, "breakout-older", status="completed", timesteps=2_048, total_timesteps=2_048)
    newer = make_run(
        service, "pong-continued", status="completed", timesteps=4_096, total_timesteps=4_096, leg=2,
        leg_start_timesteps=2_048, legs=legs,
    )  # fmt: skip
    add_video(service, older, "older_clip", "clip", milestone_pct=50, timesteps=1_024)
    add_video(service, older, "older_compare", "journey", layout="compare")
    # Each leg saved a clip at 50 % of its own plan: the same milestone_pct, different places in the run.
    add_video(service, newer, "leg1_clip", "clip", milestone_pct=50, timesteps=1_024)
    add_video(service, newer, "leg2_clip", "clip", milestone_pct=50, timesteps=3_072)
    add_video(service, newer, "journey", "journey", layout="single")
    add_video(service, newer, "highlights", "journey", layout="highlights")
    add_video(service, newer, "timelapse", "journey", layout="timelapse")
    window = make_window(qtbot, service)
    gallery = window.gallery
    window.tabs.setCurrentWidget(gallery)
    qtbot.waitUntil(lambda: len(gallery.video_ids()) == 7)

    assert gallery.headers() == ["pong-continued — 5 videos", "breakout-older — 2 videos"]
    titles = [item.text() for item in gallery.video_items()]
    # The rendered videos of a run come before its clips, and the two legs' clips read differently.
    assert [title.split("\n")[1].split(" · ")[0] for title in titles[:5]][3:] == ["clip at 25 %", "clip at 75 %"]
    assert titles[3] == "pong-continued\nclip at 25 % · leg 1\n1,024 steps · 3 s"
    assert titles[4] == "pong-continued\nclip at 75 % · leg 2\n3,072 steps · 3 s"
    assert len(set(titles)) == len(titles)
    assert {title.split("\n")[1].split(" · ")[0] for title in titles[:3]} == {
        "journey", "highlights", "training time-lapse",
    }  # fmt: skip
    assert titles[5:] == ["breakout-older\ncomparison · 3 s", "breakout-older\nclip at 50 %\n1,024 steps · 3 s"]
    save(window, "desktop-polish-gallery-grouped.png")

    gallery.show_only(kind="journey")
    assert [item.text() for item in gallery.video_items()] == ["pong-continued\njourney · 3 s"]
    assert gallery.shown_count.text() == "1 of 7 videos"
    gallery.show_only(kind="clip")
    assert len(gallery.video_items()) == 3 and gallery.headers() == [
        "pong-continued — 2 videos", "breakout-older — 1 video",
    ]  # fmt: skip
    gallery.show_only(run_id=older)
    assert gallery.headers() == ["breakout-older — 2 videos"] and len(gallery.video_ids()) == 2
    gallery.show_only(run_id=newer, kind="clip")
    save(window, "desktop-polish-gallery-filtered.png")
    for kind, count in (("comparison", 0), ("highlights", 1), ("time-lapse", 1)):
        gallery.show_only(run_id=newer, kind=kind)
        assert len(gallery.video_ids()) == count, kind


def test_gallery_progress_line_goes_when_an_automatic_render_ends(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    run_id = make_run(service, "auto-render", status="rendering", host=ELSEWHERE, timesteps=2_000, render_progress=0.99)
    window = make_window(qtbot, service)
    gallery = window.gallery
    window.tabs.setCurrentWidget(gallery)
    qtbot.waitUntil(lambda: gallery.render_bar.isVisible())
    assert gallery.render_status.text() == "Rendering the journey of auto-render: 99 %"
    assert gallery.cancel_button.isVisible() and gallery.cancel_button.isEnabled()
    assert gallery.render_run.currentData() == run_id and not gallery.render_button.isEnabled()
    # The sidebar does not count a render as training.
    assert window.sidebar.runs_label.text() == "Training now: 0 runs"
    assert window.sidebar.rendering_label.text() == "Rendering now: 1 run"
    save(window, "desktop-polish-gallery-auto-render.png")
    # The trainer writes its end, as runs.train_job does after the journey is written.
    service.raw_store.update_run(run_id, status="completed", render_progress=1.0, pid=None, host=None)
    qtbot.waitUntil(lambda: not gallery.render_bar.isVisible(), timeout=5000)
    assert gallery.render_status.text() == "" and not gallery.cancel_button.isVisible()
    assert gallery.render_button.isEnabled()


# Player -------------------------------------------------------------------------------------------
def test_player_shows_minutes_and_seconds_and_goes_full_screen(qtbot, service: RunService) -> None:  # type: ignore[no-untyped-def]
    assert (clock(0), clock(75.4), clock(3725)) == ("0:00", "1:15", "1:02:05")
    run_id = make_run(service, "with-a-video", status="completed")
    video_id = add_video(service, run_id, "journey", "journey")
    window = make_window(qtbot, service)
    qtbot.waitUntil(lambda: window.gallery.video_ids() == [video_id], timeout=5000)
    window.gallery.play(video_id, autoplay=False)  # the file is found on a worker thread, then the player opens
    qtbot.waitUntil(lambda: bool(window.gallery.players), timeout=5000)
    player_window = window.gallery.players[-1]
    qtbot.addWidget(player_window)
    player = player_window.player
    assert player.counter.text() == "0:00 / 0:03"  # 45 frames at 15 frames/s
    player.seek(FRAMES - 1)
    assert player.counter.text() == "0:03 / 0:03"
    player.seek(22)
    assert player.counter.text() == "0:01 / 0:03"

    qtbot.keyClick(player_window, Qt.Key.Key_F)
    assert player_window.isFullScreen() and player.full_screen_button.text() == "Exit full screen"
    save(player_window, "desktop-polish-player-full-screen.png")
    qtbot.keyClick(player_window, Qt.Key.Key_Escape)  # leaves full screen; the window stays open
    assert not player_window.isFullScreen() and player_window.isVisible()
    assert player.full_screen_button.text() == "Full screen"
    qtbot.mouseClick(player.full_screen_button, Qt.MouseButton.LeftButton)
    assert player_window.isFullScreen()
    qtbot.mouseClick(player.full_screen_button, Qt.MouseButton.LeftButton)
    assert not player_window.isFullScreen()
    save(player_window, "desktop-polish-player.png")
    qtbot.keyClick(player_window, Qt.Key.Key_Escape)  # not full screen: Esc closes the player
    assert not player_window.isVisible()


# A real render and its Cancel ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunService, str]]:
    """One tiny run trained for real (no recording, no automatic render): the module's checkpoints."""
    service = RunService(tmp_path_factory.mktemp("trained") / "home")
    config = tiny_config(
        steps=1024, milestones_pct=[0, 100], recording={"enabled": False}, render={"auto": False},
        train={"n_threads": 1},
    )  # fmt: skip
    run_id = service.create(build_config(config)).run_id
    done = service.wait(run_id, timeout=180)
    assert done.status is RunStatus.COMPLETED, service.logs(run_id)
    yield service, run_id
    for run in service.list_runs():
        if Action.CANCEL_RENDER in run.actions:
            service.renders.cancel_render(run.run_id)
        service.wait(run.run_id, timeout=60)
    service.raw_store.dispose()


@pytest.mark.expensive
def test_a_render_keeps_the_chosen_run_disables_render_and_can_be_cancelled(qtbot, trained) -> None:  # type: ignore[no-untyped-def]
    service, run_id = trained
    # A newer run that cannot render: it comes first in the Run box.
    other = make_run(service, "newer-without-checkpoints", status="stopped")
    window = make_window(qtbot, service)
    gallery = window.gallery
    window.tabs.setCurrentWidget(gallery)
    qtbot.waitUntil(lambda: gallery.render_run.count() == 2)
    assert gallery.render_run.itemData(0) == other
    gallery.render_run.setCurrentIndex(gallery.render_run.findData(run_id))
    assert gallery.render_button.isEnabled()
    gallery.render_length.setText("60s")
    # Before Render: how long the video is, what it takes, which milestones (planned off the GUI thread).
    estimate = gallery.render_estimate
    qtbot.waitUntil(lambda: "of video in" in estimate.text(), timeout=15_000)
    assert estimate.text().startswith("1 min 00 s of video in 2 segments: "), estimate.text()
    assert " MB on disk (" in estimate.text()
    save(window, "desktop-render-estimate.png")
    qtbot.mouseClick(gallery.render_button, Qt.MouseButton.LeftButton)
    assert not gallery.render_button.isEnabled()  # while the service starts the render on a worker thread
    qtbot.waitUntil(lambda: gallery.render_status.text().startswith("Rendering the journey"), timeout=10_000)
    assert service.get(run_id).status is RunStatus.RENDERING

    # While it renders: the Run box keeps the user's choice, Render is off, the bar has a Cancel.
    qtbot.waitUntil(lambda: gallery.render_bar.isVisible(), timeout=5000)
    assert gallery.render_run.currentData() == run_id
    assert not gallery.render_button.isEnabled()
    assert gallery.render_button.toolTip() == f"Run {run_id} is rendering: render its video once it has ended"
    assert gallery.render_status.text().startswith(f"Rendering the journey of {service.get(run_id).name}: ")
    assert gallery.cancel_button.isVisible() and gallery.cancel_button.isEnabled()
    save(window, "desktop-polish-gallery-rendering.png")
    window.runs_tab.select(run_id)
    window.tabs.setCurrentWidget(window.progress_tab)
    progress = window.progress_tab
    qtbot.waitUntil(lambda: progress.activity.text().startswith("Rendering the journey: "))
    assert progress.cancel_button.isVisible() and progress.cancel_button.text() == "Cancel render"
    assert progress.bar.text().startswith("rendering ")
    save(window, "desktop-polish-progress-rendering.png")

    window.tabs.setCurrentWidget(gallery)
    qtbot.mouseClick(gallery.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gallery.render_status.text() == "Cancelling the render…", timeout=5000)
    qtbot.waitUntil(lambda: service.get(run_id).status is RunStatus.COMPLETED, timeout=60_000)
    name = service.get(run_id).name
    qtbot.waitUntil(lambda: not gallery.render_bar.isVisible(), timeout=5000)
    assert gallery.render_status.text() == f"The render of {name} was cancelled; no video was made."
    assert service.renders.videos(run_id) == [] and gallery.render_run.currentData() == run_id
    assert gallery.render_button.isEnabled()
    assert not list(service.paths(run_id).videos.glob("*.mp4"))
    save(window, "desktop-polish-gallery-cancelled.png")
