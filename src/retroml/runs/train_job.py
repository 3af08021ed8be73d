"""The training process: ``python -m retroml.runs.train_job --home H --run-id R``.

It owns its run while it lives: it reads the frozen config and the leg to train from the store,
trains, heartbeats, saves checkpoints, and sets the final status itself. SIGTERM (what ``stop``
sends, and what the CLI sends on Ctrl-C) ends training after the current step with a checkpoint and
the status ``stopped``. A Fast Mode run that finishes renders its journey here, so it happens exactly
once whichever face started it.

The training loop itself is :func:`retroml.engine.train.train`; this job wires into it what the
engine does not know about: the live milestone clips, the time-lapse capture, the measured speed
kept for training estimates and the journey render.
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retroml.disk import DiskReserve
    from retroml.engine.train import LegOutcome
    from retroml.store import PatientWriter, Store

logger = logging.getLogger(__name__)
# When this process started: a leg's wall time (what a training estimate must predict) counts the imports too.
PROCESS_STARTED = time.monotonic()


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
    from retroml.engine.train import train
    from retroml.paths import run_paths
    from retroml.video.live import LiveRecorder
    from retroml.video.timelapse import TimelapseCapture

    recorder = LiveRecorder.for_run(store, run_id)
    timelapse = TimelapseCapture.for_run(store, run_id)
    try:
        outcome = train(
            store,
            run_id,
            stop_requested,
            recorder.on_milestone if recorder else None,
            timelapse.on_frame if timelapse else None,
            writes,
        )
        _record_speed(store, run_id, outcome)
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
    writes.update_run(run_id, status=outcome.status, ended_at=time.time(), exit_code=0)
    writes.close()
    logger.info("run %s %s", run_id, outcome.status)
    if outcome.status == "completed":
        _auto_render(store, run_id)
    return 0


def _record_speed(store: Store, run_id: str, outcome: LegOutcome) -> None:
    """This leg's measured speed refines the next training estimate (:mod:`retroml.runs.train_estimate`)."""
    from retroml.config import read_config
    from retroml.paths import run_paths
    from retroml.runs.train_estimate import record_leg

    algo = read_config(run_paths(store.home, run_id).config).train.algo
    timesteps, seconds = outcome.timesteps, outcome.train_seconds
    wall = time.monotonic() - PROCESS_STARTED
    speed = record_leg(store.home, algo, outcome.n_envs, outcome.device, timesteps, seconds, wall)
    if speed is not None:
        logger.info(
            "measured %.0f timesteps/s over %.0f s of training, %.1f s around it (kept for estimates)",
            timesteps / seconds,
            seconds,
            wall - seconds,
        )


def _auto_render(store: Store, run_id: str) -> None:
    from retroml.config import read_config
    from retroml.paths import run_paths

    config = read_config(run_paths(store.home, run_id).config)
    if not config.render.auto:
        return
    from retroml.video.journey import render_run_journey

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
