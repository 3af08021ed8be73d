"""The training process: ``python -m retroml.engine.worker --home H --run-id R``.

It owns its run while it lives: it reads the frozen config and the leg to train from the store,
trains, heartbeats, saves checkpoints, and sets the final status itself. SIGTERM (what ``stop``
sends, and what the CLI sends on Ctrl-C) ends training after the current step with a checkpoint and
the status ``stopped``. A Fast Mode run that finishes renders its journey here, so it happens exactly
once whichever face started it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retroml.config import RunConfig
    from retroml.disk import DiskReserve
    from retroml.engine.monitor import FrameHook, Leg, MilestoneHook
    from retroml.store import PatientWriter, Store

logger = logging.getLogger("retroml.worker")
# When this process started: a leg's wall time (what a training estimate must predict) counts the imports too.
PROCESS_STARTED = time.monotonic()


def current_leg(store: Store, row: dict, config: RunConfig) -> tuple[Leg, Path | None]:
    """The leg to train now and the checkpoint it starts from (``None`` for a fresh model)."""
    from retroml import milestones
    from retroml.engine.monitor import Leg

    legs = row.get("legs") or []
    spec = legs[-1] if legs else {}
    origin = int(legs[0]["start_timesteps"]) if legs else int(row["leg_start_timesteps"])
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
) -> str:
    """Train the current leg of ``run_id``; returns the final status (``completed`` or ``stopped``)."""
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
            f"{config.train.buffer_size:,}",
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
    _record_speed(store.home, config, env.num_envs, str(model.device), trained, train_seconds)
    return "completed" if finished else "stopped"


def _record_device(store: Store, writer: PatientWriter | None, run_id: str, device: str) -> None:
    """The device this leg trains on, in the leg's record: what the faces show (``auto`` resolved here)."""
    legs = (store.get_run(run_id) or {}).get("legs") or []
    if legs:
        legs[-1]["device"] = device
        (writer or store).update_run(run_id, legs=legs)


def _record_speed(home: Path, config: RunConfig, n_envs: int, device: str, timesteps: int, seconds: float) -> None:
    """This leg's measured speed refines the next training estimate (:mod:`retroml.runs.train_estimate`)."""
    from retroml.runs.train_estimate import record_leg

    wall = time.monotonic() - PROCESS_STARTED
    speed = record_leg(home, config.train.algo, n_envs, device, timesteps, seconds, wall)
    if speed is not None:
        logger.info(
            "measured %.0f timesteps/s over %.0f s of training, %.1f s around it (kept for estimates)",
            timesteps / seconds, seconds, wall - seconds,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--db", default=None)
    # The handler first, before the imports that take seconds (torch, SB3): a stop in the first
    # moments must end as ``stopped``, never kill the process and leave the run without a status.
    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        logger.info("received %s: saving a checkpoint and stopping", signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # The launcher started this process with both blocked; one that already came is handled now.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from retroml.disk import DiskReserve
    from retroml.paths import resolve_home, run_paths
    from retroml.store import PatientWriter, Store

    # A short lock wait: a busy database delays the trainer's writes (PatientWriter), never training.
    store = Store(resolve_home(args.home), args.db, busy_timeout_ms=2_000)
    writes = PatientWriter(store)
    run_id = args.run_id
    legs = (store.get_run(run_id) or {}).get("legs") or [{}]
    writes.update_run(
        run_id,
        status="running",
        pid=os.getpid(),
        host=socket.gethostname(),
        started_at=time.time(),
        heartbeat_at=time.time(),
        ended_at=None,
        exit_code=None,
        # What continue said about this leg (e.g. the checkpoint it fell back to), or nothing.
        message=legs[-1].get("note"),
    )
    # Room to record a full disk's failure in, when training is what filled it.
    reserve = DiskReserve(run_paths(store.home, run_id).root)
    try:
        return _train_and_record(store, writes, run_id, stop_requested, reserve)
    finally:
        reserve.release()


def _train_and_record(
    store: Store, writes: PatientWriter, run_id: str, stop_requested: threading.Event, reserve: DiskReserve
) -> int:
    """Train, then write the final status (with the reason, in one sentence, if training failed)."""
    from retroml.disk import TRAINING_FIX, disk_full_sentence, full_path, is_disk_full
    from retroml.paths import run_paths

    try:
        from retroml.video.live import LiveRecorder  # optional until the video package lands
        from retroml.video.timelapse import TimelapseCapture

        recorder: LiveRecorder | None = LiveRecorder.for_run(store, run_id)
        timelapse: TimelapseCapture | None = TimelapseCapture.for_run(store, run_id)
    except ImportError:
        recorder, timelapse = None, None
    try:
        status = train(
            store,
            run_id,
            stop_requested,
            recorder.on_milestone if recorder else None,
            timelapse.on_frame if timelapse else None,
            writes,
        )
    except Exception as error:
        logger.error("training failed:\n%s", traceback.format_exc())
        message = str(error)
        if is_disk_full(error):
            reserve.release()
            at = full_path(error, run_paths(store.home, run_id).checkpoints)
            message = disk_full_sentence(at, TRAINING_FIX)
            logger.error("%s", message)
        writes.update_run(run_id, status="failed", ended_at=time.time(), exit_code=1, message=message)
        writes.close()
        return 1
    finally:
        # The time-lapse first: closing its last part takes a moment, finishing queued clips may take minutes.
        if timelapse is not None:
            timelapse.close()
        if recorder is not None:
            recorder.close()
    writes.update_run(run_id, status=status, ended_at=time.time(), exit_code=0)
    writes.close()
    logger.info("run %s %s", run_id, status)
    if status == "completed":
        _auto_render(store, run_id)
    return 0


def _auto_render(store: Store, run_id: str) -> None:
    from retroml.config import read_config
    from retroml.paths import run_paths

    config = read_config(run_paths(store.home, run_id).config)
    if not config.render.auto:
        return
    try:
        from retroml.video.journey import render_run_journey
    except ImportError:
        logger.warning("journey renderer not available; skipping auto-render")
        return
    store.update_run(run_id, status="rendering", render_progress=0.0)
    # Training is over: a SIGTERM now is a cancel of the render (RunService.cancel_render), as in render_job.
    signal.signal(signal.SIGTERM, _cancel_render)
    try:
        video = render_run_journey(store, run_id, config.render)
    except KeyboardInterrupt:
        logger.info("journey render cancelled; no video was written")
        store.update_run(run_id, status="completed", render_progress=None, message="The video render was cancelled.")
        return
    except Exception as error:
        logger.error("journey render failed:\n%s", traceback.format_exc())
        store.update_run(run_id, status="completed", render_progress=None, message=f"journey render failed: {error}")
        return
    logger.info("journey written to %s", video)
    store.update_run(run_id, status="completed", render_progress=1.0)


def _cancel_render(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"cancelled by {signal.Signals(signum).name}")


if __name__ == "__main__":
    sys.exit(main())
