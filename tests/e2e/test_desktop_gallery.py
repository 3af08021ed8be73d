"""The desktop Video Gallery and in-app player, on real H.264 files written into a shared data home.

Another :class:`RunService` on the same home plays the part of the CLI: it creates a run and registers
a journey and a clip the way the renderer does (an MP4 and a JPEG poster under the run folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from tests.integration.conftest import tiny_config

from retroml.config import build_config
from retroml.desktop.app import MainWindow
from retroml.desktop.gallery import PLACEHOLDER, POSTER_SIZE
from retroml.desktop.player import VideoDecoder
from retroml.runs.service import RunService

# Qt reads this when pytest-qt creates the QApplication, after these imports.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FPS = 15
FRAMES = 45


def write_mp4(path: Path, frames: int = FRAMES, width: int = 160, height: int = 120) -> np.ndarray:
    """A real H.264 MP4 (a bar sweeping across a gradient); returns its first frame."""
    path.parent.mkdir(parents=True, exist_ok=True)
    first = None
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            image = np.zeros((height, width, 3), dtype=np.uint8)
            image[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
            image[..., 2] = 120
            x = index * (width - 16) // max(frames - 1, 1)
            image[:, x : x + 16] = (255, 255, 0)
            first = image if first is None else first
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    assert first is not None
    return first


def register_video(other: RunService, run_id: str, kind: str, name: str, **values: object) -> str:
    """Write ``name``.mp4 and its poster into the run's videos folder and index them, as the renderer does."""
    videos = other.paths(run_id).videos
    first = write_mp4(videos / f"{name}.mp4")
    Image.fromarray(first).save(videos / f"{name}.jpg", quality=85)
    relative = (videos / f"{name}.mp4").relative_to(other.home).as_posix()
    poster = (videos / f"{name}.jpg").relative_to(other.home).as_posix()
    other.raw_store.add_artifact(
        run_id,
        kind,
        relative,
        duration_sec=FRAMES / FPS,
        size_bytes=(videos / f"{name}.mp4").stat().st_size,
        meta={"poster": poster, "fps": FPS},
        **values,
    )
    return relative


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def cli_videos(home: Path) -> tuple[str, list[str]]:
    """A run and two videos made by "the CLI": a second service on the same home.

    The run was created without starting and then stopped, so it has ended without a checkpoint.
    """
    other = RunService(home)
    run_id = other.create(build_config(tiny_config(name="made-by-the-cli")), start=False).run_id
    other.stop(run_id)
    journey = register_video(other, run_id, "journey", f"pong__ppo__{run_id}__journey_3s")
    clip = register_video(other, run_id, "clip", "milestone_050pct", milestone_pct=50, timesteps=1000)
    other.raw_store.dispose()
    return run_id, [journey, clip]


@pytest.fixture
def window(qtbot, home: Path):  # type: ignore[no-untyped-def]
    service = RunService(home)
    main = MainWindow(service, confirm=lambda _title, _question: False, ask_on_close=lambda _n: "keep", refresh_ms=300)
    qtbot.addWidget(main)
    main.show()
    yield main
    for player in main.gallery.players:
        player.close()


def test_gallery_lists_videos_written_by_another_service(qtbot, cli_videos, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    run_id, paths = cli_videos
    gallery = window.gallery
    window.tabs.setCurrentWidget(gallery)
    qtbot.waitUntil(lambda: len(gallery.video_ids()) == 2, timeout=5000)
    shown = {video["path"] for kind in ("journey", "clip") for video in gallery.videos_of_kind(kind)}
    assert shown == set(paths)
    journey = gallery.videos_of_kind("journey")[0]
    assert journey["run_id"] == run_id
    texts = [item.text() for item in gallery.video_items()]
    assert any("made-by-the-cli" in text and "journey" in text for text in texts)
    assert any("clip at 50 %" in text for text in texts)
    # The posters were loaded: not the grey placeholder of a video without one.
    poster = gallery.video_items()[0].icon().pixmap(POSTER_SIZE).toImage()
    assert poster.pixelColor(poster.width() // 2, poster.height() // 2) != QColor(PLACEHOLDER)
    # The stopped run can be picked for "Render video", but it has no checkpoint: one sentence.
    assert gallery.render_run.findData(run_id) >= 0
    gallery.render_run.setCurrentIndex(gallery.render_run.findData(run_id))
    qtbot.mouseClick(gallery.render_button, Qt.MouseButton.LeftButton)  # the service answers on a worker thread
    refusal = f"Run {run_id} has no milestone checkpoint yet, so there is nothing to render"
    qtbot.waitUntil(lambda: gallery.render_status.text() == refusal, timeout=5000)
    ARTIFACTS.mkdir(exist_ok=True)
    assert window.grab().save(str(ARTIFACTS / "desktop-gallery.png"))


def test_player_decodes_a_real_mp4_and_its_clock_advances(qtbot, cli_videos, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    gallery = window.gallery
    window.tabs.setCurrentWidget(gallery)
    qtbot.waitUntil(lambda: len(gallery.video_ids()) == 2, timeout=5000)
    item = gallery.video_items()[0]
    rect = gallery.list.visualItemRect(item)
    # Qt's views take a double-click on the item the preceding press hit, as a real mouse sends it.
    qtbot.mouseClick(gallery.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(gallery.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: len(gallery.players) == 1, timeout=3000)
    player = gallery.players[0].player
    assert player.decoder is not None and player.decoder.frame_count == FRAMES
    qtbot.waitUntil(lambda: player.frame_index >= 10, timeout=5000)
    assert player.counter.text().endswith(" / 0:03")  # 45 frames at 15 frames/s
    assert player.picture.pixmap() is not None and not player.picture.pixmap().isNull()
    qtbot.waitUntil(lambda: not player.playing, timeout=10_000)  # stops by itself at the end
    assert player.frame_index == FRAMES - 1
    assert player.counter.text() == "0:03 / 0:03"
    player.seek(20)
    assert player.frame_index == 20 and player.slider.value() == 20
    player.slider.setValue(5)  # as a click on the track or an arrow key does
    assert player.frame_index == 5 and player.counter.text() == "0:00 / 0:03"
    player.seek(20)
    player.toggle()
    assert player.playing and player.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: player.frame_index > 22, timeout=3000)
    player.toggle()
    assert not player.playing
    ARTIFACTS.mkdir(exist_ok=True)
    assert gallery.players[0].grab().save(str(ARTIFACTS / "desktop-player.png"))


def test_decoder_frames_match_what_was_encoded(tmp_path: Path) -> None:
    first = write_mp4(tmp_path / "video.mp4")
    decoder = VideoDecoder(tmp_path / "video.mp4")
    frame = decoder.next_frame()
    assert frame is not None and frame.shape == first.shape
    assert np.abs(frame.astype(int) - first.astype(int)).mean() < 8  # H.264 is lossy, not wrong
    assert decoder.seek(FRAMES - 1) is not None and decoder.position == FRAMES - 1
    assert decoder.next_frame() is None
    decoder.close()


def test_a_damaged_video_is_reported_not_raised(qtbot, home: Path, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    other = RunService(home)
    run_id = other.create(build_config(tiny_config()), start=False).run_id
    broken = other.paths(run_id).videos / "broken.mp4"
    broken.write_bytes(b"this is not an MP4 file")
    video_id = other.raw_store.add_artifact(run_id, "clip", broken.relative_to(home).as_posix(), duration_sec=1.0)
    window.gallery.refresh(after_current=True)
    qtbot.waitUntil(lambda: window.gallery.video_ids() == [video_id], timeout=5000)
    window.gallery.play(video_id)  # the file is found on a worker thread; PyAV refuses it on the GUI thread
    qtbot.waitUntil(lambda: window.last_message.startswith("Cannot play this video:"), timeout=5000)
    assert window.gallery.players == []
