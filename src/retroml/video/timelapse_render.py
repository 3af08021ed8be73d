"""The training time-lapse, rendered: a video that replays all of training from the frames captured while it ran.

:func:`render_timelapse` picks frames evenly over all the parts ``timelapse`` wrote to fill exactly
the requested length, and draws each with a HUD band of the numbers true for that frame. The video
is written, published and its progress reported through ``pipeline``, as every video is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from retroml.config import RenderConfig, read_config
from retroml.errors import InvalidInputError, NotFoundError
from retroml.games import get_game
from retroml.paths import run_paths
from retroml.store import Store
from retroml.video.encoder import VideoEncoder, probe, save_poster
from retroml.video.hud import ACCENT, BACKGROUND, BAND, MUTED, TEXT, paste, text_image, title_card
from retroml.video.pipeline import Progress, RenderProgress, publishing, record_video, video_output, write_manifest
from retroml.video.plan import frame_size, length_frames, title_frames
from retroml.video.timelapse import AGENT_SIZE, PICTURE

logger = logging.getLogger(__name__)

# A longer gap between two captured frames is a pause or the time between legs, not training.
MAX_GAP_SEC = 30.0


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
    total = length_frames(length, settings.fps)
    if total < 1:
        raise InvalidInputError(f"a {length} time-lapse is shorter than one frame; ask for at least 1s")
    title = title_frames(settings.fps, total)
    picks = pick_frames(captured, total - title)
    width, height = frame_size(settings)
    game_title = get_game(config.game.id).title
    rows = [captured_row for _video, part_rows in parts for captured_row in part_rows]
    first, last = rows[0], rows[-1]
    output = paths.videos / f"{config.game.id}__{config.train.algo}__{run_id}__timelapse_{length}.mp4"
    paths.videos.mkdir(parents=True, exist_ok=True)
    logger.info("time-lapse of %s: %d captured frames into %s (%d frames)", run_id, captured, length, total)
    card = title_card(width, height, "Training time-lapse", [
        f"{game_title}  ·  {config.train.algo.upper()}",
        f"{first.timesteps:,} → {last.timesteps:,} timesteps  ·  {captured:,} frames captured",
        f"{PICTURE} (84×84 grey)",
    ])  # fmt: skip
    painter = TimelapsePainter(width, height, f"{game_title}  ·  {config.train.algo.upper()}  ·  {PICTURE}",
                               int(row["total_timesteps"]))  # fmt: skip
    report = RenderProgress(store, run_id, progress)
    with (
        video_output(output) as partial,
        VideoEncoder(partial, width, height, settings.fps, settings.crf, settings.preset) as encoder,
    ):
        for _ in range(title):
            encoder.write(card)
        _write_picks(encoder, decoded_frames(parts), picks, painter, report)
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
        "title_frames": title,
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


def _publish(store: Store, run_id: str, output: Path, manifest: dict[str, Any], last: CapturedRow) -> Path:
    """Write the poster and manifest beside the video and record it in the store (as journeys are)."""
    with publishing(output):
        save_poster(output, output.with_suffix(".jpg"), at_fraction=0.9)
        write_manifest(output, manifest)
        info = probe(output)
        meta = {
            "layout": "timelapse",
            "length": manifest["length"],
            "frames": manifest["frames"],
            "captured_frames": manifest["captured_frames"],
            "parts": len(manifest["parts"]),
        }
        record_video(store, run_id, output, info, meta, timesteps=last.timesteps, episodes=last.episodes)
    logger.info("time-lapse of %s: %s (%.1f MB, %.1f s)", run_id, output, info.size_bytes / 1e6, info.duration)
    return output
