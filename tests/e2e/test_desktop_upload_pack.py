"""The desktop gallery offers a journey's upload pack, as the web gallery does: the folder and each file.

A second :class:`RunService` on the same home plays the renderer: it writes a real MP4 and the four
pack files beside it (named by :class:`PackFiles`, as the renderer names them) and indexes them. The
desktop's opener is replaced by a recorder, so no application starts on the test machine.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from tests.e2e.test_desktop_gallery import FPS, FRAMES, home, window, write_mp4
from tests.integration.conftest import tiny_config

from retroml.config import build_config
from retroml.desktop.app import MainWindow
from retroml.runs.model import PACK_FILES
from retroml.runs.service import RunService
from retroml.video.upload_pack import PackFiles

__all__ = ["home", "window"]  # fixtures, used by name


def test_a_journey_s_upload_pack_opens_from_the_desktop_gallery(qtbot, home: Path, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    other = RunService(home)
    run_id = other.create(build_config(tiny_config(name="packed")), start=False).run_id
    other.stop(run_id)
    video = other.paths(run_id).videos / f"pong__ppo__{run_id}__journey_3s.mp4"
    write_mp4(video)
    pack = PackFiles.beside(video)
    for name in PACK_FILES:
        getattr(pack, name).write_bytes(b"x")
    packed = other.raw_store.add_artifact(
        run_id, "journey", video.relative_to(home).as_posix(), duration_sec=FRAMES / FPS,
        size_bytes=video.stat().st_size, meta={"fps": FPS, "pack": pack.relative_to(home)},
    )  # fmt: skip
    clip = other.paths(run_id).videos / "milestone_050pct.mp4"
    write_mp4(clip)
    other.raw_store.add_artifact(run_id, "clip", clip.relative_to(home).as_posix(), duration_sec=FRAMES / FPS)
    other.raw_store.dispose()

    gallery = window.gallery
    opened: list[Path] = []
    gallery.open_url = lambda url: opened.append(Path(QUrl(url).toLocalFile()))
    gallery.refresh(after_current=True)
    qtbot.waitUntil(lambda: len(gallery.video_ids()) == 2, timeout=5000)
    items = {int(item.data(Qt.ItemDataRole.UserRole)): item for item in gallery.video_items()}
    journey = items.pop(packed)
    (clip_item,) = items.values()

    assert gallery.pack_names(journey) == list(PACK_FILES)
    assert gallery.pack_names(clip_item) == [] and gallery.pack_menu(clip_item) is None
    gallery.list.setCurrentItem(clip_item)
    assert not gallery.pack_button.isEnabled(), "a clip has no upload pack"
    gallery.list.setCurrentItem(journey)
    assert gallery.pack_button.isEnabled()
    gallery.pack_button.click()  # the service finds the pack on a worker thread
    qtbot.waitUntil(lambda: opened == [video.parent], timeout=5000)

    menu = gallery.pack_menu(journey)
    assert menu is not None
    actions = menu.actions()
    assert [action.text() for action in actions] == ["Open upload pack folder"] + [
        f"Open {getattr(pack, name).name}" for name in PACK_FILES
    ]
    for action in actions[1:]:
        action.trigger()
    qtbot.waitUntil(lambda: len(opened) == 1 + len(PACK_FILES), timeout=5000)
    assert opened[1:] == [getattr(pack, name) for name in PACK_FILES]
