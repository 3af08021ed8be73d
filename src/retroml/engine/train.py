"""The training loop of one leg: build or load the SB3 model on the native Atari env, learn, save.

It knows nothing of video or of the process around it: what happens at a milestone or to a frame
(live clips, the time-lapse) comes in as hooks from the training job (:mod:`retroml.runs.train_job`),
which owns the process, its signals and its final status.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from retroml.config import RunConfig
    from retroml.engine.monitor import FrameHook, Leg, MilestoneHook
    from retroml.store import PatientWriter, Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LegOutcome:
    """How a leg ended and what it measured.

    :param status: ``completed`` (the leg's budget is done) or ``stopped`` (a stop was asked for).
    :param device: the torch device it trained on (``auto`` resolved).
    :param n_envs: the emulators that ran in parallel.
    :param timesteps: the timesteps this leg trained.
    :param train_seconds: wall-clock seconds of training, from the first rollout to the last update.
    """

    status: Literal["completed", "stopped"]
    device: str
    n_envs: int
    timesteps: int
    train_seconds: float


def current_leg(store: Store, row: dict, config: RunConfig) -> tuple[Leg, Path | None]:
    """The leg to train now and the checkpoint it starts from (``None`` for a fresh model)."""
    from retroml import milestones
    from retroml.engine.monitor import Leg

    legs = row.get("legs") or []
    spec = legs[-1] if legs else {}
    origin = milestones.origin(row)
    start = int(row["leg_start_timesteps"])
    total = int(row["total_timesteps"])
    reached = [
        int(artifact["timesteps"])
        for artifact in store.artifacts(row["run_id"], ["checkpoint"])
        if artifact.get("milestone_pct") is not None
    ]
    leg = Leg(
        index=int(row["leg"]),
        start_timesteps=start,
        budget=total - start,
        milestone_targets=milestones.pending(config.milestones_pct, origin, total, reached),
        episodes_before=int(row.get("episodes") or 0),
        score_best_before=row.get("score_best"),
        score_mean_before=row.get("score_mean"),
        seconds_before=float(row.get("train_seconds") or 0.0),
    )
    checkpoint = spec.get("from_checkpoint")
    return leg, (Path(checkpoint) if checkpoint else None)


def train(
    store: Store,
    run_id: str,
    stop_requested: threading.Event,
    on_milestone: MilestoneHook | None,
    on_frame: FrameHook | None = None,
    writer: PatientWriter | None = None,
) -> LegOutcome:
    """Train the current leg of ``run_id``; returns how it ended and what it measured."""
    import torch

    from retroml.config import read_config
    from retroml.engine.algos import build_model, load_model, replay_buffer_bytes, save_replay_buffer
    from retroml.engine.checkpoints import save_rolling
    from retroml.engine.envs import AtariNativeVecEnv
    from retroml.engine.monitor import RunMonitor
    from retroml.paths import inside, run_paths

    paths = run_paths(store.home, run_id)
    config = read_config(paths.config)
    row = store.get_run(run_id)
    assert row is not None, f"run {run_id} is not in the store"
    leg, start_checkpoint = current_leg(store, row, config)
    for stale in paths.checkpoints.glob(".*.tmp"):
        # Left by a process killed mid-save; only one process trains a run at a time.
        stale.unlink(missing_ok=True)
    torch.set_num_threads(config.train.n_threads or os.cpu_count() or 1)

    env = AtariNativeVecEnv(
        config.game, config.train.n_envs or 1, seed=config.train.seed, n_threads=config.train.n_threads
    )
    if start_checkpoint is None:
        model = build_model(config.train, env, paths.tensorboard)
    else:
        # The checkpoint must lie inside the home: it is a pickle, and run.json could be edited.
        model = load_model(config.train, inside(store.home, str(start_checkpoint)), env, paths.tensorboard, leg.budget)
    monitor = RunMonitor(store, run_id, paths, config, leg, stop_requested, on_milestone, on_frame, writer)
    buffer_bytes = replay_buffer_bytes(model)
    if buffer_bytes:
        logger.info(
            "replay buffer: %s transitions, %.2f GB in memory; %s",
            f"{getattr(model, 'buffer_size', 0):,}",
            buffer_bytes / 1e9,
            "saved with the checkpoint at the end of the leg (train.keep_replay_buffer)"
            if config.train.keep_replay_buffer
            else "not kept (train.keep_replay_buffer is off)",
        )
    _record_device(store, writer, run_id, str(model.device))
    logger.info(
        "training %s on %s: leg %d, %d timesteps from %d, %d envs, device %s",
        config.train.algo.upper(),
        config.game.id,
        leg.index,
        leg.budget,
        leg.start_timesteps,
        env.num_envs,
        model.device,
    )
    model.learn(
        total_timesteps=leg.budget,
        callback=monitor,
        reset_num_timesteps=start_checkpoint is None,
        tb_log_name=f"leg{leg.index}",
        progress_bar=False,
    )
    finished = not stop_requested.is_set()
    if finished:
        # The leg is complete: the milestones still pending (its end, kept back so that it holds the
        # weights after the last update, and any SB3 stopped a step short of) are saved now.
        for milestone_pct, _target in list(monitor.pending_milestones):
            monitor.save_milestone(milestone_pct)
        monitor.pending_milestones.clear()
    train_seconds = time.monotonic() - monitor.started
    save_rolling(model, paths.checkpoints, config.train.keep_last)
    save_replay_buffer(model, config.train, paths.checkpoints)
    monitor.heartbeat()
    env.close()
    trained = model.num_timesteps - (leg.start_timesteps if start_checkpoint is not None else 0)
    return LegOutcome(
        status="completed" if finished else "stopped",
        device=str(model.device),
        n_envs=env.num_envs,
        timesteps=trained,
        train_seconds=train_seconds,
    )


def _record_device(store: Store, writer: PatientWriter | None, run_id: str, device: str) -> None:
    """The device this leg trains on, in the leg's record: what the faces show (``auto`` resolved here)."""
    legs = (store.get_run(run_id) or {}).get("legs") or []
    if legs:
        legs[-1]["device"] = device
        (writer or store).update_run(run_id, legs=legs)
