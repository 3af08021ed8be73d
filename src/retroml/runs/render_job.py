"""The detached process behind :meth:`RunService.start_render`: renders one run's journey and exits.

``python -m retroml.runs.render_job --home H --run-id R --db URL``. The settings come from the run's
``render_request.json``; the journey renderer reports ``render_progress`` to the store as segments
finish, and at the end the run gets back the status it had before the render.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
import traceback

from retroml.config import RenderConfig, read_config
from retroml.paths import resolve_home, run_paths
from retroml.runs.service import read_render_request
from retroml.store import Store

logger = logging.getLogger("retroml.render")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--db", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _cancel)
    store = Store(resolve_home(args.home), args.db)
    paths = run_paths(store.home, args.run_id)
    request = read_render_request(paths)
    previous = request.get("previous_status", "completed")
    settings = read_config(paths.config).render
    changes = {key: request[key] for key in ("length", "layout") if request.get(key)}
    settings = RenderConfig.model_validate({**settings.model_dump(), **changes})
    logger.info("rendering the %s journey of %s (%s layout)", settings.length, args.run_id, settings.layout)
    try:
        from retroml.video.journey import render_run_journey

        video = render_run_journey(store, args.run_id, settings, workers=request.get("workers"))
    except (Exception, KeyboardInterrupt) as error:
        logger.error("journey render failed:\n%s", traceback.format_exc())
        store.update_run(args.run_id, status=previous, render_progress=None, message=f"journey render failed: {error}")
        return 1
    logger.info("journey written to %s", video)
    store.update_run(args.run_id, status=previous, render_progress=1.0, heartbeat_at=time.time(), message=None)
    return 0


def _cancel(signum: int, _frame: object) -> None:
    """SIGTERM (stop from a face) cancels the render the same way as Ctrl-C: no partial video is left."""
    raise KeyboardInterrupt(f"cancelled by {signal.Signals(signum).name}")


if __name__ == "__main__":
    sys.exit(main())
