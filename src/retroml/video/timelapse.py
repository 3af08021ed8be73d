"""The training time-lapse, captured: frames taken while a run trains, written to part files by a writer process.

The picture is the agent's view of training env 0 — the newest 84×84 grey frame of its observation
stack — because ale-py's native vector env makes no colour frames.

Capture follows the live clips (``live.py``): the training callback copies one 84×84 frame at most
``recording.timelapse_fps`` times per second and hands it to a bounded queue (``put_nowait``; a frame
that does not fit is dropped and counted, training never waits). Frames are only taken while the envs
step: during PPO/A2C gradient updates nothing moves, so nothing is captured. A writer process at nice 19 encodes
the frames into ``timelapse/part_0000.mp4`` … with a JSON sidecar of what training knew at each frame
(timesteps, episodes, mean score, wall time), starts a new part every ``timelapse_segment_minutes``
and lists each finished part in the store. The last part is finished when training ends or stops.

``timelapse_render`` makes the video of all the parts.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from retroml.config import read_config
from retroml.paths import RunPaths, run_paths
from retroml.store import Store
from retroml.video.background import Feeder, drain
from retroml.video.encoder import VideoEncoder

logger = logging.getLogger(__name__)

PICTURE = "the agent's view of training env 0"
AGENT_SIZE = 84
# Parts are stored at 4× the agent's resolution, nearest-scaled, so each agent pixel survives H.264 as a
# flat 4×4 block; they play at a fixed 10 fps (the sidecar, not the frame rate, carries the true time).
PART_SCALE = 4
PART_FPS = 10
# 7 KB a frame: 256 frames are two minutes of backlog at 2 fps before the first one is dropped.
QUEUE_SIZE = 256
CLOSE_TIMEOUT_SEC = 60.0


def timelapse_dir(paths: RunPaths) -> Path:
    return paths.root / "timelapse"


@dataclass(frozen=True)
class CapturedFrame:
    """One time-lapse frame and what training knew when it was taken."""

    frame: np.ndarray
    timesteps: int
    episodes: int
    score_mean: float | None
    wall: float


# capture (the training process) ----------------------------------------------------------------
class TimelapseCapture:
    """Takes time-lapse frames from the training callback and feeds them to a writer process.

    :param home: the data home.
    :param db_url: the store's URL (the writer opens its own connection).
    :param run_id: the run being captured.
    :param segment_sec: wall-clock seconds per part file.
    :param crf: H.264 quality of the parts.
    """

    def __init__(self, home: Path, db_url: str, run_id: str, segment_sec: float, crf: int) -> None:
        self.run_id = run_id
        self.captured = 0
        self.dropped = 0
        args = (str(home), db_url, run_id, segment_sec, crf)
        self._feeder = Feeder(write_timelapse, args, f"timelapse-{run_id}", QUEUE_SIZE)

    @classmethod
    def for_run(cls, store: Store, run_id: str) -> TimelapseCapture | None:
        """A capture if the run asks for one (``recording.timelapse_fps`` > 0, not Fast Mode), else ``None``."""
        config = read_config(run_paths(store.home, run_id).config)
        if config.fast_mode or config.recording.timelapse_fps <= 0:
            return None
        recording = config.recording
        return cls(store.home, store.url, run_id, recording.timelapse_segment_minutes * 60, recording.crf)

    def on_frame(self, frame: np.ndarray, timesteps: int, episodes: int, score_mean: float | None, wall: float) -> None:
        """Called on the training thread with a copied frame; never blocks."""
        if self._feeder.offer(CapturedFrame(frame, timesteps, episodes, score_mean, wall)):
            self.captured += 1
            return
        self.dropped += 1
        if self.dropped == 1 or self.dropped % 100 == 0:
            logger.warning("time-lapse writer busy: %d frames dropped so far", self.dropped)

    def close(self, timeout: float = CLOSE_TIMEOUT_SEC) -> None:
        """Let the writer finish and list the last part (training is over), then stop it."""
        self._feeder.close(timeout)
        logger.info("time-lapse: %d frames captured, %d dropped", self.captured, self.dropped)


# writer (a low-priority process) -----------------------------------------------------------------
class TimelapsePart:
    """One part file being written: ``part_NNNN.mp4`` and its sidecar ``part_NNNN.json``."""

    def __init__(self, folder: Path, index: int, crf: int) -> None:
        self.index = index
        self.final = folder / f"part_{index:04d}.mp4"
        self.rows: list[list[Any]] = []
        size = AGENT_SIZE * PART_SCALE
        partial = folder / f".{self.final.name}.partial"
        self.encoder = VideoEncoder(partial, size, size, fps=PART_FPS, crf=crf, threads=1, faststart=True)

    @property
    def started(self) -> float:
        return float(self.rows[0][3]) if self.rows else time.time()

    def write(self, item: CapturedFrame) -> None:
        big = cv2.resize(item.frame, None, fx=PART_SCALE, fy=PART_SCALE, interpolation=cv2.INTER_NEAREST)
        self.encoder.write(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB))
        self.rows.append([item.timesteps, item.episodes, item.score_mean, item.wall])

    def finish(self, store: Store, run_id: str) -> Path:
        """Close the file, write the sidecar, and list the part in the store."""
        self.encoder.close()
        sidecar = self.final.with_suffix(".json")
        payload = {
            "run_id": run_id,
            "part": self.index,
            "picture": f"{PICTURE}: the newest {AGENT_SIZE}×{AGENT_SIZE} grey frame of its observation",
            "fps": PART_FPS,
            "columns": ["timesteps", "episodes", "score_mean", "wall"],
            "rows": self.rows,
        }
        temporary = sidecar.with_name(f".{sidecar.name}.tmp")
        temporary.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(temporary, sidecar)
        os.replace(self.encoder.path, self.final)
        timesteps, episodes, score_mean, _wall = self.rows[-1]
        store.add_artifact(
            run_id,
            "timelapse_part",
            str(self.final.relative_to(store.home)),
            timesteps=timesteps,
            episodes=episodes,
            size_bytes=self.final.stat().st_size,
            duration_sec=len(self.rows) / PART_FPS,
            meta={
                "part": self.index,
                "frames": len(self.rows),
                "sidecar": str(sidecar.relative_to(store.home)),
                "wall_start": self.rows[0][3],
                "wall_end": self.rows[-1][3],
                "score_mean": score_mean,
            },
        )
        logger.info("time-lapse part %d: %d frames written to %s", self.index, len(self.rows), self.final.name)
        return self.final


def write_timelapse(frames: Any, home: str, db_url: str, run_id: str, segment_sec: float, crf: int) -> None:
    """The writer process: encode queued frames into rotating parts until training ends."""
    store = Store(Path(home), db_url)
    folder = timelapse_dir(run_paths(store.home, run_id))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".part_*.partial"):
        stale.unlink(missing_ok=True)  # left by a writer killed mid-part
    # A continued run appends parts after the ones its earlier legs wrote.
    index = len(list(folder.glob("part_*.mp4")))
    part: TimelapsePart | None = None
    for item in drain(frames):
        if part is not None and item.wall - part.started >= segment_sec:
            part.finish(store, run_id)
            part, index = None, index + 1
        if part is None:
            part = TimelapsePart(folder, index, crf)
        part.write(item)
    if part is not None:
        part.finish(store, run_id)
    store.dispose()
