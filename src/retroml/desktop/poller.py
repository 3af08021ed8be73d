"""Calling the service off the GUI thread: a call runs on a worker thread, its outcome comes back as a signal.

The window and its tabs poll :class:`~retroml.runs.service.RunService` every second or so, and the
buttons and dialogs act through it; a call can wait on SQLite (a busy writer) or on Ray (a cluster
run's liveness), and the window must not freeze meanwhile (superqt's ``create_worker`` is the model).
:class:`Poller` reads, one fetch at a time: a tick that comes while one is in flight is skipped; an
asked refresh (a new selection) runs right after it. :class:`Actions` runs what a button or a dialog
asked, every call in turn; the widget disables the button while its call is in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from retroml.errors import RetroMLError

logger = logging.getLogger(__name__)

Fetch = Callable[[], Any]


class _Relay(QObject):
    """Carries a finished call from the worker thread to the GUI thread (it lives in the GUI thread)."""

    finished = Signal(int, object, object)  # the call's number; the result, or None; the error sentence, or None


class _Job(QRunnable):
    def __init__(self, number: int, fetch: Fetch, relay: _Relay) -> None:
        super().__init__()
        self.number = number
        self.fetch = fetch
        self.relay = relay

    def run(self) -> None:
        try:
            result, error = self.fetch(), None
        except (RetroMLError, OSError) as failure:
            result, error = None, str(failure)
        except Exception as failure:  # a bug must not kill the worker thread silently
            logger.exception("a desktop service call failed")
            result, error = None, str(failure)
        self.relay.finished.emit(self.number, result, error)


def _one_worker() -> tuple[QThreadPool, _Relay]:
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    return pool, _Relay()


class Poller(QObject):
    """Runs fetches on one worker thread, one at a time, and emits ``fetched`` (or ``failed``) on the GUI thread.

    ``fetched(result)`` carries what the fetch returned; ``failed(sentence)`` a :class:`RetroMLError` or
    ``OSError`` it raised.
    """

    fetched = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool, self._relay = _one_worker()
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
        self._pool.start(_Job(0, fetch, self._relay))
        return True

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Wait for the fetch in flight (when a window closes); returns whether it ended in time."""
        return bool(self._pool.waitForDone(timeout_ms))

    @Slot(int, object, object)
    def _finish(self, _number: int, result: Any, error: str | None) -> None:
        self._busy = False
        if error is None:
            self.fetched.emit(result)
        else:
            self.failed.emit(error)
        if self._next is not None:
            fetch, self._next = self._next, None
            self.poll(fetch)


Done = Callable[[Any], None]
Failed = Callable[[str], None]


class Actions(QObject):
    """Runs the service calls of buttons and dialogs on one worker thread, in the order asked.

    :meth:`run` returns at once; the call's result goes to ``on_done`` and a :class:`RetroMLError` or
    ``OSError`` it raised to ``on_error`` as its sentence, both on the GUI thread. Each call has a
    ``key`` (the button's name, say): :meth:`running` tells whether a call of that key is in flight,
    so the widget keeps its button disabled until the outcome is shown.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool, self._relay = _one_worker()
        self._relay.finished.connect(self._finish, Qt.ConnectionType.QueuedConnection)
        self._in_flight: dict[int, tuple[str, Done, Failed]] = {}
        self._numbers = 0

    def run(self, key: str, call: Fetch, on_done: Done, on_error: Failed) -> None:
        """Start ``call`` on the worker thread (after the calls already asked)."""
        self._numbers += 1
        self._in_flight[self._numbers] = (key, on_done, on_error)
        self._pool.start(_Job(self._numbers, call, self._relay))

    def running(self, key: str) -> bool:
        """Whether a call of ``key`` is in flight (its outcome not shown yet)."""
        return any(asked == key for asked, _done, _failed in self._in_flight.values())

    def call_and_wait(self, key: str, call: Fetch) -> tuple[Any, str | None]:
        """Run ``call`` on the worker thread and return its result and error sentence once it is in.

        For a question Qt wants answered before a handler returns (may the window close?): meanwhile
        the GUI thread runs a local event loop, as under a modal dialog, so the window keeps painting.
        """
        outcome: list[tuple[Any, str | None]] = []
        loop = QEventLoop()

        def done(result: Any) -> None:
            outcome.append((result, None))
            loop.quit()

        def failed(error: str) -> None:
            outcome.append((None, error))
            loop.quit()

        self.run(key, call, done, failed)
        while not outcome:  # the outcome comes through the event loop, so never before exec()
            loop.exec()
        return outcome[0]

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Wait for the calls in flight (when a window closes); returns whether they ended in time."""
        return bool(self._pool.waitForDone(timeout_ms))

    @Slot(int, object, object)
    def _finish(self, number: int, result: Any, error: str | None) -> None:
        _key, on_done, on_error = self._in_flight.pop(number)
        if error is None:
            on_done(result)
        else:
            on_error(error)
