"""What the browser tests share: a real ``retroml ui`` server on a free port, Chromium, screenshots.

Both web test modules start their servers and browsers through here, so a server is started, waited
for and shut down (its runs stopped first) one way.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from retroml.runs.service import RunService

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
STATIC_INDEX = ROOT / "src" / "retroml" / "web" / "static" / "index.html"
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)  # type: ignore[attr-defined]


def build_frontend() -> None:
    if not STATIC_INDEX.is_file():
        subprocess.run([str(ROOT / "scripts" / "build_frontend.sh")], check=True, timeout=600)
    assert STATIC_INDEX.is_file()


def start_ui(home: Path, log_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    """``retroml ui`` on a free port over ``home``, its output in ``log_path``."""
    port = free_port()
    home.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "retroml.cli", "ui", "--home", str(home), "--port", str(port), *extra],
            cwd=home.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RETROML_HOME": str(home), "COLUMNS": "200"},
        )
    return process, port


def wait_for(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until the server answers (200, or 401 with a token), or fail with its log."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/system", timeout=2).status_code in (200, 401):
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log_path.read_text(errors="replace"))
        time.sleep(0.2)


@contextmanager
def running_server(home: Path, log_path: Path) -> Iterator[str]:
    """A started server's URL; on the way out its runs are stopped (each saving a checkpoint), then it."""
    build_frontend()
    process, port = start_ui(home, log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url, process, log_path)
        yield url
    finally:
        service = RunService(home)
        for run in service.list_runs():
            if run.active and run.pid:
                if run.status == "paused":
                    service.resume(run.run_id)
                service.stop(run.run_id)
                service.wait(run.run_id, timeout=60)
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium under Playwright (skips the test where it is not installed)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/system_packages_test.txt lists it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        # --no-sandbox: Chromium refuses to start as root (CI containers) with its sandbox on.
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
