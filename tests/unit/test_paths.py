"""Paths from requests can never leave the data home."""

from pathlib import Path

import pytest

from retroml.errors import NotFoundError
from retroml.paths import inside, resolve_home, run_paths


def test_path_tricks_are_refused(tmp_path: Path) -> None:
    home = resolve_home(tmp_path / "home")
    (tmp_path / "secret.txt").write_text("x")
    (home / "runs" / "link").symlink_to(tmp_path)
    for trick in ("../secret.txt", "/etc/passwd", "runs/../../secret.txt", "runs/link/secret.txt"):
        with pytest.raises(NotFoundError):
            inside(home, trick)
    with pytest.raises(NotFoundError):
        run_paths(home, "../../etc")
    assert inside(home, "runs/run-1/videos/a.mp4") == home / "runs" / "run-1" / "videos" / "a.mp4"


def test_home_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROML_HOME", str(tmp_path / "elsewhere"))
    assert resolve_home() == (tmp_path / "elsewhere").resolve()
    assert (tmp_path / "elsewhere" / "runs").is_dir()
