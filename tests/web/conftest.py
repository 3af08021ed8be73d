"""Fixtures for the web API tests: the real app on a real SQLite home in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from tests.integration.conftest import tiny_config

from retroml.config import build_config
from retroml.runs.model import RunStatus
from retroml.runs.service import RunService
from retroml.web.server import create_app

FPS = 15
FRAMES = 30
# The server answers only to the names it is known by; the browser's page sends JSON on every action.
LOCAL_URL = "http://127.0.0.1:8000"
JSON = {"Content-Type": "application/json"}


def local_client(app: FastAPI) -> TestClient:
    """A client that talks to ``app`` as the web app's own page does: at 127.0.0.1, in JSON."""
    return TestClient(app, base_url=LOCAL_URL, headers=JSON)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunService]:
    service = RunService(tmp_path / "home")
    yield service
    for run in service.list_runs():
        if run.active and run.pid:
            if run.status is RunStatus.PAUSED:
                service.resume(run.run_id)
            service.stop(run.run_id)
            service.wait(run.run_id, timeout=60)


@pytest.fixture
def client(service: RunService) -> Iterator[TestClient]:
    with local_client(create_app(service)) as client:
        yield client


def queued_run(service: RunService, **sections: object) -> str:
    """A run that exists (folder, config.yaml, row) but was never started."""
    return service.create(build_config(tiny_config(**sections)), start=False).run_id


def write_mp4(path: Path, frames: int = FRAMES, width: int = 160, height: int = 120) -> None:
    """A real H.264 MP4 and a JPEG poster beside it (``path`` with ``.jpg``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            image = np.full((height, width, 3), 40, dtype=np.uint8)
            image[:, index * 4 : index * 4 + 12] = (255, 200, 0)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
            if index == 0:
                Image.fromarray(image).save(path.with_suffix(".jpg"))
        for packet in stream.encode():
            container.mux(packet)


def register_video(
    service: RunService, run_id: str, kind: str, name: str, meta: dict[str, object] | None = None, **values: object
) -> int:
    """Write an MP4 and poster into the run's videos folder and index them the way the renderer does
    (``meta``: what else the renderer records, e.g. its ``layout``)."""
    video = service.paths(run_id).videos / f"{name}.mp4"
    write_mp4(video)
    return service.raw_store.add_artifact(
        run_id,
        kind,
        video.relative_to(service.home).as_posix(),
        duration_sec=FRAMES / FPS,
        size_bytes=video.stat().st_size,
        meta={"poster": video.with_suffix(".jpg").relative_to(service.home).as_posix(), **(meta or {})},
        **values,
    )
