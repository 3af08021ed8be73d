"""The detached process behind :meth:`RunService.start_render`: renders one video of a run and exits.

``python -m retroml.runs.render_job --home H --run-id R --db URL``. The settings come from the run's
``render_request.json``; the renderer reports ``render_progress`` to the store as segments
finish, and at the end the run gets back the status it had before the render.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import signal
import sys
import time
import traceback

from sqlalchemy.exc import DBAPIError

from retroml.config import read_config
from retroml.disk import RENDER_FIX, DiskReserve, disk_full_sentence, full_path, is_disk_full
from retroml.errors import DiskFullError
from retroml.paths import resolve_home, run_paths
from retroml.runs.service import read_render_request
from retroml.store import Store
from retroml.video.renders import render_settings

logger = logging.getLogger("retroml.render")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--db", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = Store(resolve_home(args.home), args.db)
    paths = run_paths(store.home, args.run_id)
    request = read_render_request(paths)
    previous = request.get("previous_status", "completed")
    # Room to record a full disk's failure in, when the render is what filled it.
    reserve = DiskReserve(paths.root)
    atexit.register(reserve.release)
    try:
        # The launcher blocked SIGTERM; one that came meanwhile (a cancel at once) lands here, inside the try.
        signal.signal(signal.SIGTERM, _cancel)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        settings, layout = render_settings(
            read_config(paths.config).render, request.get("length"), request.get("layout")
        )
        logger.info("rendering the %s %s video of %s", settings.length, layout, args.run_id)
        from retroml.video.renders import render_video

        video = render_video(
            store, args.run_id, settings, layout, request.get("compare_with") or (), workers=request.get("workers")
        )
    except KeyboardInterrupt:
        logger.info("render cancelled; no video was written")
        store.update_run(args.run_id, status=previous, render_progress=None, message="The video render was cancelled.")
        return 1
    except Exception as error:
        logger.error("render failed:\n%s", traceback.format_exc())
        message = f"render failed: {error}"
        if isinstance(error, DiskFullError) or is_disk_full(error):
            reserve.release()
            at = full_path(error, paths.videos)
            message = str(error) if isinstance(error, DiskFullError) else disk_full_sentence(at, RENDER_FIX)
        record_patiently(store, args.run_id, status=previous, render_progress=None, message=message)
        return 1
    logger.info("video written to %s", video)
    store.update_run(args.run_id, status=previous, render_progress=1.0, heartbeat_at=time.time(), message=None)
    return 0


def record_patiently(store: Store, run_id: str, timeout: float = 60.0, **values: object) -> bool:
    """Write how the render ended, trying again for ``timeout`` seconds on a full or busy disk.

    ``False`` if it never went through: the next read then finds the process gone and says so.
    """
    deadline = time.monotonic() + timeout
    delay = 0.5
    while True:
        try:
            store.update_run(run_id, **values)
            return True
        except (DBAPIError, OSError) as error:
            if time.monotonic() + delay > deadline:
                logger.error("could not record how the render of %s ended: %s", run_id, error)
                return False
            logger.warning("could not record how the render of %s ended (%s); trying again", run_id, error)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def _cancel(signum: int, _frame: object) -> None:
    """SIGTERM (stop from a face) cancels the render the same way as Ctrl-C: no partial video is left."""
    raise KeyboardInterrupt(f"cancelled by {signal.Signals(signum).name}")


if __name__ == "__main__":
    sys.exit(main())
