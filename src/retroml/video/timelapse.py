"""The training time-lapse: frames captured while a run trains, and a video that replays all of training.

The picture is the agent's view of training env 0 — the newest 84×84 grey frame of its observation
stack — because ale-py's native vector env makes no colour frames.

Capture follows the live clips (``live.py``): the training callback copies one 84×84 frame at most
``recording.timelapse_fps`` times per second and hands it to a bounded queue (``put_nowait``; a frame
that does not fit is dropped and counted, training never waits). Frames are only taken while the envs
step: during PPO/A2C gradient updates nothing moves, so nothing is captured. A writer process at nice 19 encodes
the frames into ``timelapse/part_0000.mp4`` … with a JSON sidecar of what training knew at each frame
(timesteps, episodes, mean score, wall time), starts a new part every ``timelapse_segment_minutes``
and lists each finished part in the store. The last part is finished when training ends or stops.

:func:`render_timelapse` picks frames evenly over all parts to fill exactly the requested length and
draws each with a HUD band of the numbers true for that frame.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from retroml.config import RenderConfig, parse_duration, read_config
from retroml.errors import InvalidInputError, NotFoundError
from retroml.games import get_game
from retroml.paths import RunPaths, run_paths
from retroml.store import Store
from retroml.video.background import Feeder, drain
from retroml.video.encoder import VideoEncoder, probe, save_poster
from retroml.video.hud import ACCENT, BACKGROUND, BAND, MUTED, TEXT, paste, text_image, title_card
from retroml.video.journey import TITLE_SECONDS, Progress

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
# A longer gap between two captured frames is a pause or the time between legs, not training.
MAX_GAP_SEC = 30.0


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


# render ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CapturedRow:
    """What training knew at one captured frame (a sidecar row), plus the training clock then."""

    timesteps: int
    episodes: int
    score_mean: float | None
    wall: float
    training_sec: float


def captured_parts(store: Store, run_id: str) -> list[tuple[Path, list[CapturedRow]]]:
    """The run's time-lapse parts in capture order, each with its sidecar rows."""
    listed = [row for row in store.artifacts(run_id, ["timelapse_part"]) if (store.home / row["path"]).is_file()]
    listed.sort(key=lambda row: row["path"])
    parts: list[tuple[Path, list[CapturedRow]]] = []
    clock, last_wall = 0.0, None
    for row in listed:
        video = store.home / row["path"]
        sidecar = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
        rows = []
        for timesteps, episodes, score_mean, wall in sidecar["rows"]:
            if last_wall is not None:
                clock += min(max(wall - last_wall, 0.0), MAX_GAP_SEC)
            last_wall = wall
            rows.append(CapturedRow(int(timesteps), int(episodes), score_mean, float(wall), clock))
        parts.append((video, rows))
    return parts


def pick_frames(captured: int, wanted: int) -> list[int]:
    """``wanted`` indices spread evenly over ``captured`` frames, first and last included (repeats if few)."""
    if wanted == 1:
        return [captured - 1]
    return [round(index * (captured - 1) / (wanted - 1)) for index in range(wanted)]


def decoded_frames(parts: list[tuple[Path, list[CapturedRow]]]) -> Iterator[tuple[np.ndarray, CapturedRow]]:
    """Every captured frame back at the agent's 84×84, in order, with its row."""
    for video, rows in parts:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            frames = container.decode(stream)
            for frame, row in zip(frames, rows, strict=False):
                # The luma plane is the grey picture; averaging each 4×4 block undoes the storage scale.
                luma = frame.to_ndarray()[: frame.height]
                yield cv2.resize(luma, (AGENT_SIZE, AGENT_SIZE), interpolation=cv2.INTER_AREA), row


class TimelapsePainter:
    """Draws a captured frame under a HUD band of the numbers true for it, with a budget progress bar.

    :param width: output width.
    :param height: output height.
    :param heading: the band's fixed first line (game, algorithm, what the picture is).
    :param budget: the run's total timesteps (the 100 % of the progress bar).
    """

    def __init__(self, width: int, height: int, heading: str, budget: int) -> None:
        self.width, self.height, self.budget = width, height, max(1, budget)
        self.size = max(12, height // 26)
        self.line = self.size + self.size // 3
        self.band_height = 3 * self.line + 8
        self.bar_height = max(4, height // 80)
        self.band = np.full((self.band_height, width, 3), BAND, dtype=np.uint8)
        paste(self.band, text_image(heading, self.size, TEXT, BAND), self.size // 2, 4)
        room = min(width, height - self.band_height - self.bar_height - 4)
        # A whole number of output pixels per agent pixel, so every pixel is the same crisp square.
        self.side = AGENT_SIZE * max(1, room // AGENT_SIZE)
        self.game_x = (width - self.side) // 2
        self.game_y = self.band_height + (height - self.band_height - self.bar_height - self.side) // 2
        self.canvas = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)

    def draw(self, frame: np.ndarray, row: CapturedRow) -> np.ndarray:
        """The output frame (a view of an internal buffer, valid until the next call)."""
        fraction = min(row.timesteps / self.budget, 1.0)
        band = self.band.copy()
        hours, rest = divmod(int(row.training_sec), 3600)
        progress = f"{row.timesteps:,} timesteps  ·  {100 * fraction:.1f} % of the budget  ·  "
        progress += f"training time {hours}:{rest // 60:02d}:{rest % 60:02d}"
        score = "no episode finished yet" if row.score_mean is None else f"mean score {row.score_mean:,.1f}"
        paste(band, text_image(progress, self.size, MUTED, BAND), self.size // 2, 4 + self.line)
        paste(band, text_image(f"{row.episodes:,} episodes  ·  {score}", self.size, ACCENT, BAND),
              self.size // 2, 4 + 2 * self.line)  # fmt: skip
        self.canvas[: self.band_height] = band
        game = cv2.resize(frame, (self.side, self.side), interpolation=cv2.INTER_NEAREST)
        self.canvas[self.game_y : self.game_y + self.side, self.game_x : self.game_x + self.side] = game[..., None]
        self.canvas[self.height - self.bar_height :] = BAND
        self.canvas[self.height - self.bar_height :, : round(self.width * fraction)] = ACCENT
        return self.canvas


def render_timelapse(
    store: Store,
    run_id: str,
    length: str = "5m",
    settings: RenderConfig | None = None,
    progress: Progress | None = None,
) -> Path:
    """Render the whole training of ``run_id`` as a time-lapse ``length`` long; returns the MP4 path.

    Uses every part captured so far. Writes a JSON manifest and a poster JPEG beside the video and
    records it in the store as a journey with the ``timelapse`` layout; nothing is left if it fails.
    """
    row = store.get_run(run_id)
    if row is None:
        raise NotFoundError(f"there is no run {run_id}")
    paths = run_paths(store.home, run_id)
    config = read_config(paths.config)
    settings = settings or config.render
    parts = captured_parts(store, run_id)
    captured = sum(len(rows) for _video, rows in parts)
    if not captured:
        raise InvalidInputError(f"run {run_id} recorded no time-lapse; train with recording.timelapse_fps > 0")
    try:
        total = round(parse_duration(length) * settings.fps)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None
    if total < 1:
        raise InvalidInputError(f"a {length} time-lapse is shorter than one frame; ask for at least 1s")
    title_frames = min(round(TITLE_SECONDS * settings.fps), total // 4)
    picks = pick_frames(captured, total - title_frames)
    width, height = (int(part) for part in settings.resolution.split("x"))
    game_title = get_game(config.game.id).title
    rows = [captured_row for _video, part_rows in parts for captured_row in part_rows]
    first, last = rows[0], rows[-1]
    output = paths.videos / f"{config.game.id}__{config.train.algo}__{run_id}__timelapse_{length}.mp4"
    paths.videos.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    logger.info("time-lapse of %s: %d captured frames into %s (%d frames)", run_id, captured, length, total)
    card = title_card(width, height, "Training time-lapse", [
        f"{game_title}  ·  {config.train.algo.upper()}",
        f"{first.timesteps:,} → {last.timesteps:,} timesteps  ·  {captured:,} frames captured",
        f"{PICTURE} (84×84 grey)",
    ])  # fmt: skip
    painter = TimelapsePainter(width, height, f"{game_title}  ·  {config.train.algo.upper()}  ·  {PICTURE}",
                               int(row["total_timesteps"]))  # fmt: skip
    try:
        with VideoEncoder(partial, width, height, settings.fps, settings.crf, settings.preset) as encoder:
            for _ in range(title_frames):
                encoder.write(card)
            _write_picks(encoder, decoded_frames(parts), picks, painter, _reporter(store, run_id, progress))
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    manifest = {
        "run_id": run_id,
        "video": output.name,
        "layout": "timelapse",
        "length": length,
        "fps": settings.fps,
        "frames": total,
        "seconds": total / settings.fps,
        "resolution": settings.resolution,
        "picture": PICTURE,
        "title_frames": title_frames,
        "captured_frames": captured,
        "parts": [video.name for video, _rows in parts],
        "first": asdict(first),
        "last": asdict(last),
    }
    return _publish(store, run_id, output, manifest, last)


def _write_picks(
    encoder: VideoEncoder,
    frames: Iterator[tuple[np.ndarray, CapturedRow]],
    picks: list[int],
    painter: TimelapsePainter,
    tick: Progress,
) -> None:
    """Encode the picked captured frames in order; a repeated pick re-sends the frame already drawn."""
    position, picture = -1, None
    for written, wanted in enumerate(picks):
        while position < wanted:
            decoded = next(frames, None)
            if decoded is None:
                break  # a part shorter than its sidecar: the last frame stands in for the rest
            position += 1
            if position == wanted:
                picture = painter.draw(*decoded)
        assert picture is not None, "the first captured frame could not be decoded"
        encoder.write(picture)
        tick(written / len(picks), f"{written:,}/{len(picks):,} frames")


def _reporter(store: Store, run_id: str, progress: Progress | None) -> Progress:
    """Reports to ``progress`` and, every 1 %, to the run's ``render_progress``."""
    last = -1.0

    def tick(fraction: float, detail: str) -> None:
        nonlocal last
        fraction = min(0.99, fraction)
        if progress is not None:
            progress(fraction, detail)
        if fraction - last >= 0.01:
            store.update_run(run_id, render_progress=round(fraction, 3))
            last = fraction

    return tick


def _publish(store: Store, run_id: str, output: Path, manifest: dict[str, Any], last: CapturedRow) -> Path:
    """Write the poster and manifest beside the video and record it in the store (as journeys are)."""
    home = store.home
    poster = save_poster(output, output.with_suffix(".jpg"), at_fraction=0.9)
    manifest_path = output.with_suffix(".json")
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    info = probe(output)
    store.add_artifact(
        run_id,
        "journey",
        str(output.relative_to(home)),
        timesteps=last.timesteps,
        episodes=last.episodes,
        size_bytes=info.size_bytes,
        duration_sec=info.duration,
        meta={
            "poster": str(poster.relative_to(home)),
            "manifest": str(manifest_path.relative_to(home)),
            "layout": "timelapse",
            "length": manifest["length"],
            "frames": manifest["frames"],
            "captured_frames": manifest["captured_frames"],
            "parts": len(manifest["parts"]),
        },
    )
    logger.info("time-lapse of %s: %s (%.1f MB, %.1f s)", run_id, output, info.size_bytes / 1e6, info.duration)
    return output
