"""Reading the service off the GUI thread: a fetch runs on a worker thread, its result comes back as a signal.

The window and its tabs poll :class:`~retroml.runs.service.RunService` every second or so; a read
can wait on SQLite (a busy writer) or on Ray (a cluster run's liveness), and the window must not
freeze meanwhile (superqt's ``create_worker`` is the model). One fetch at a time per poller: a tick
that comes while one is in flight is skipped; an asked refresh (a new selection) runs right after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from retroml.errors import RetroMLError

logger = logging.getLogger(__name__)

Fetch = Callable[[], Any]


class _Relay(QObject):
    """Carries a finished fetch from the worker thread to the GUI thread (it lives in the GUI thread)."""

    finished = Signal(object, object)  # the result, or None; the error sentence, or None


class _Job(QRunnable):
    def __init__(self, fetch: Fetch, relay: _Relay) -> None:
        super().__init__()
        self.fetch = fetch
        self.relay = relay

    def run(self) -> None:
        try:
            result, error = self.fetch(), None
        except (RetroMLError, OSError) as failure:
            result, error = None, str(failure)
        except Exception as failure:  # a bug must not kill the worker thread silently
            logger.exception("a desktop poll failed")
            result, error = None, str(failure)
        self.relay.finished.emit(result, error)


class Poller(QObject):
    """Runs fetches on one worker thread, one at a time, and emits ``fetched`` (or ``failed``) on the GUI thread.

    ``fetched(result)`` carries what the fetch returned; ``failed(sentence)`` a :class:`RetroMLError` or
    ``OSError`` it raised.
    """

    fetched = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay()
        self._relay.finished.connect(self._finish, Qt.ConnectionType.QueuedConnection)
        self._busy = False
        self._next: Fetch | None = None

    @property
    def busy(self) -> bool:
        """Whether a fetch is in flight."""
        return self._busy

    def poll(self, fetch: Fetch, after_current: bool = False) -> bool:
        """Start ``fetch`` on the worker thread; returns whether it started now.

        While another fetch is in flight the call is skipped (a timer's tick), or with ``after_current``
        runs once that one is done (the newest such fetch only).
        """
        if self._busy:
            if after_current:
                self._next = fetch
            return False
        self._busy = True
        self._pool.start(_Job(fetch, self._relay))
        return True

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Wait for the fetch in flight (when a window closes); returns whether it ended in time."""
        return bool(self._pool.waitForDone(timeout_ms))

    @Slot(object, object)
    def _finish(self, result: Any, error: str | None) -> None:
        self._busy = False
        if error is None:
            self.fetched.emit(result)
        else:
            self.failed.emit(error)
        if self._next is not None:
            fetch, self._next = self._next, None
            self.poll(fetch)
