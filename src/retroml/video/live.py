"""Live milestone clips: while a run trains, each milestone checkpoint is filmed playing a separate game.

Training only hands the checkpoint's path to a bounded queue (``put_nowait``, microseconds). A
low-priority recorder process loads the checkpoint, plays its own evaluation emulator and encodes
the clip into ``clips/``, then records it in the store, so every face lists it while training runs.
If the recorder falls behind, the milestone that does not fit in the queue is dropped and counted —
training never waits for video.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retroml.config import read_config
from retroml.games import get_game
from retroml.paths import run_paths
from retroml.store import Store
from retroml.video.background import Feeder, drain

logger = logging.getLogger(__name__)

# A job is a path, not frames: 32 covers every milestone of a leg, so only a recorder stuck for
# the whole run drops clips — and training still never waits for it.
QUEUE_SIZE = 32
CLOSE_TIMEOUT_SEC = 300.0


@dataclass(frozen=True)
class ClipJob:
    """A milestone to film."""

    milestone_pct: int
    timesteps: int
    checkpoint: str


class LiveRecorder:
    """Films milestone checkpoints in a separate process while the run trains.

    :param home: the data home.
    :param db_url: the store's URL (the recorder process opens its own connection).
    :param run_id: the run being filmed.
    """

    def __init__(self, home: Path, db_url: str, run_id: str) -> None:
        self.run_id = run_id
        self.dropped = 0
        self.queued = 0
        self._feeder = Feeder(record_clips, (str(home), db_url, run_id), f"recorder-{run_id}", QUEUE_SIZE)

    @classmethod
    def for_run(cls, store: Store, run_id: str) -> LiveRecorder | None:
        """A recorder if the run records clips (not in Fast Mode, clip length above 0), else ``None``."""
        config = read_config(run_paths(store.home, run_id).config)
        if config.fast_mode or not config.recording.enabled or config.recording.milestone_clip_seconds <= 0:
            return None
        return cls(store.home, store.url, run_id)

    def on_milestone(self, milestone_pct: int, timesteps: int, checkpoint: Path) -> None:
        """Called on the training thread after a milestone checkpoint is saved; never blocks."""
        if self._feeder.offer(ClipJob(milestone_pct, timesteps, str(checkpoint))):
            self.queued += 1
        else:
            self.dropped += 1
            logger.warning("recorder busy: milestone %d %% clip dropped (%d so far)", milestone_pct, self.dropped)

    def close(self, timeout: float = CLOSE_TIMEOUT_SEC) -> None:
        """Let the recorder finish the queued clips (training is over), then stop it."""
        self._feeder.close(timeout)
        logger.info("live recording: %d clips queued, %d dropped", self.queued, self.dropped)


def record_clips(jobs: Any, home: str, db_url: str, run_id: str) -> None:
    """The recorder process: film each queued milestone until training ends."""
    store = Store(Path(home), db_url)
    for job in drain(jobs):
        try:
            path = record_clip(store, run_id, job)
            logger.info("clip of milestone %d %% written to %s", job.milestone_pct, path.name)
        except Exception:
            logger.exception("the clip of milestone %d %% failed", job.milestone_pct)
    store.dispose()


def record_clip(store: Store, run_id: str, job: ClipJob) -> Path:
    """Film ``job``'s checkpoint for ``recording.milestone_clip_seconds`` into the run's ``clips/``."""
    from retroml.video.encoder import probe, save_poster
    from retroml.video.labels import milestone_labels
    from retroml.video.segment import PaneSpec, SegmentSpec, render_segment

    paths = run_paths(store.home, run_id)
    config = read_config(paths.config)
    paths.clips.mkdir(parents=True, exist_ok=True)
    label = next(
        (label for path, label in milestone_labels(store, run_id, paths) if path == Path(job.checkpoint)),
        None,
    )
    if label is None:
        raise FileNotFoundError(f"checkpoint {job.checkpoint} is gone")
    name = f"{config.game.id}__{config.train.algo}__{run_id}__milestone_{job.milestone_pct}pct_{job.timesteps}.mp4"
    final = paths.clips / name
    partial = final.with_name(f".{name}.partial")
    width, height = (int(part) for part in config.render.resolution.split("x"))
    spec = SegmentSpec(
        index=0,
        output=str(partial),
        game=config.game,
        game_title=get_game(config.game.id).title,
        algo=config.train.algo,
        panes=(PaneSpec(job.checkpoint, label),),
        title_frames=0,
        play_frames=max(1, round(config.recording.milestone_clip_seconds * config.recording.fps)),
        width=width,
        height=height,
        fps=config.recording.fps,
        crf=config.recording.crf,
        threads=1,
        seed=config.render.seed + job.milestone_pct,
        faststart=True,
    )
    try:
        result = render_segment(spec)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    poster = save_poster(final, final.with_suffix(".jpg"), at_fraction=0.5)
    info = probe(final)
    store.add_artifact(
        run_id,
        "clip",
        str(final.relative_to(store.home)),
        milestone_pct=job.milestone_pct,
        timesteps=job.timesteps,
        episodes=label.training_episodes,
        size_bytes=info.size_bytes,
        duration_sec=info.duration,
        meta={"poster": str(poster.relative_to(store.home)), "episodes": result["panes"][0]["episodes"]},
    )
    return final
