"""How training hands video work off its hot path: a low-priority process fed by a bounded queue.

The trainer side (:class:`Feeder`) only ever offers items with ``put_nowait``: an item that does
not fit is refused at once (the caller counts it) and training never waits. The process side
(:func:`drain`) runs at nice 19, so it uses only what the trainer leaves idle, and ends when told
(``None``) or when the trainer is gone without saying so.
"""

from __future__ import annotations

import ctypes
import logging
import os
import queue
import signal
import sys
from collections.abc import Callable, Iterator
from multiprocessing import get_context
from typing import Any

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_NOTHING = object()


class Feeder:
    """Starts ``target(items, *args)`` in a spawned process and feeds it ``items`` through a bounded queue.

    :param target: a top-level function (it is pickled into the new process).
    :param args: its other arguments.
    :param name: the process name (and how the log calls it).
    :param size: how many items may wait before :meth:`offer` refuses.
    """

    def __init__(self, target: Callable[..., None], args: tuple[Any, ...], name: str, size: int) -> None:
        # spawn, not fork: the trainer holds torch threads and a database connection.
        context = get_context("spawn")
        self.name = name
        self._items: Any = context.Queue(maxsize=size)
        self._process = context.Process(target=target, args=(self._items, *args), name=name, daemon=True)
        self._process.start()

    def offer(self, item: Any) -> bool:
        """Queue ``item`` if there is room; never blocks. ``False`` if it was refused."""
        try:
            self._items.put_nowait(item)
        except queue.Full:
            return False
        return True

    def close(self, timeout: float) -> None:
        """Let the process finish what is queued, then stop it (terminated after ``timeout`` seconds)."""
        try:
            if self._process.is_alive():  # a crashed process leaves a full queue nobody empties
                self._items.put(None, timeout=timeout)
        except queue.Full:
            pass
        self._process.join(timeout)
        if self._process.is_alive():
            logger.warning("%s did not finish in %.0f s; stopping it", self.name, timeout)
            self._process.terminate()
            self._process.join(5)


def die_with_parent() -> None:
    """Ask Linux to end this process (SIGTERM) the moment the process that started it dies.

    Used by every helper process of a trainer or a render (clip writer, time-lapse writer, render
    pool workers): a SIGKILLed parent must not leave them encoding for minutes. A no-op elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def drain(items: Any) -> Iterator[Any]:
    """In the fed process: lower its priority, then yield queued items until ``None`` or the trainer dies."""
    die_with_parent()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        os.nice(19)  # the trainer has the cores first
    except OSError:
        pass
    trainer = os.getppid()
    while True:
        try:
            item = items.get(timeout=2.0)
        except queue.Empty:
            item = _NOTHING
        if os.getppid() != trainer:
            return  # the training process died without saying goodbye: keep what was done
        if item is None:
            return
        if item is not _NOTHING:
            yield item
