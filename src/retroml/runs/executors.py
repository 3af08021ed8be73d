"""Where training processes run. ``LocalExecutor`` starts detached processes on this machine.

An executor only launches, signals and checks processes; what a run *is* stays in the store, so the
web and desktop apps see runs the same way whichever executor started them.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import psutil

from retroml.errors import ConflictError
from retroml.paths import open_in_home
from retroml.store import DB_ENV_VAR

if TYPE_CHECKING:
    from retroml.video.pipeline import SegmentRunner

logger = logging.getLogger(__name__)

# A run on another host is judged by its heartbeat; the worker beats every 2 s.
STALE_HEARTBEAT_SEC = 60.0
# The host of a run submitted to a cluster that has not yet found a node with free CPUs.
PENDING_HOST = "ray:pending"
# What `stop` and Ctrl-C send; held back in a new child until it can handle them.
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
# The web server's access token (retroml.web.auth.TOKEN_ENV_VAR): a trainer or render has no use for it.
SERVER_ONLY_ENV_VARS = frozenset({"RETROML_TOKEN"})


# The modules a run's process runs: ``python -m <module> --home H --run-id R``.
TRAIN_JOB = "retroml.runs.train_job"
RENDER_JOB = "retroml.runs.render_job"


def worker_command(module: str, home: Path, run_id: str) -> list[str]:
    """The command line of a training or render process: no secret on it (``ps`` shows it to every user)."""
    return [sys.executable, "-m", module, "--home", str(home), "--run-id", run_id]


def worker_environment(db_url: str) -> dict[str, str]:
    """The environment of a training or render process: this one's, minus the server's token, plus the store URL.

    The store URL (a PostgreSQL URL carries its password) goes in ``RETROML_DB``, which the worker's
    store reads: ``/proc/<pid>/environ`` is readable by the owner only, ``/proc/<pid>/cmdline`` by anyone.
    """
    environment = {key: value for key, value in os.environ.items() if key not in SERVER_ONLY_ENV_VARS}
    return {**environment, "PYTHONUNBUFFERED": "1", DB_ENV_VAR: db_url}


@dataclass(frozen=True)
class Launch:
    """What the store needs to find a launched process again (no pid while a cluster run waits for a node)."""

    pid: int | None
    pid_started_at: float | None
    host: str
    executor: str


class Executor(Protocol):
    """Launches and controls training (and rendering) processes for :class:`RunService`."""

    name: str

    def launch(self, home: Path, run_id: str, db_url: str, log_path: Path, module: str) -> Launch: ...

    def send_signal(self, row: dict[str, Any], signum: int) -> None: ...

    def is_alive(self, row: dict[str, Any]) -> bool: ...

    def is_frozen(self, row: dict[str, Any]) -> bool | None:
        """Whether the run's process is stopped by SIGSTOP (``None``: cannot tell from here)."""
        ...

    def check_device(self, device: str) -> None:
        """Refuse (one sentence) a ``train.device`` the machines this executor runs on do not have."""
        ...

    def segment_runner(self) -> SegmentRunner | None:
        """Where a render's segments run: ``None`` for this machine's process pool."""
        ...

    def render_workers(self) -> int | None:
        """How many segments render at once unless asked: ``None`` for this machine's cores."""
        ...


class LocalExecutor:
    """Runs each training process as a detached child of this machine.

    The child gets its own session, so closing the terminal, the web server or the desktop window
    that started it does not end it; its stdout and stderr go to the run's ``train.log``.
    """

    name = "local"

    def __init__(self) -> None:
        self.host = socket.gethostname()
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def check_device(self, device: str) -> None:
        """This machine must have the GPU a run asks for (``auto`` always works)."""
        from retroml.engine.devices import resolve_device

        resolve_device(device)

    def segment_runner(self) -> SegmentRunner | None:
        return None  # the renderer's own process pool, on this machine

    def render_workers(self) -> int | None:
        return None

    def launch(self, home: Path, run_id: str, db_url: str, log_path: Path, module: str) -> Launch:
        command = worker_command(module, home, run_id)
        # The child starts with SIGTERM and SIGINT blocked (a forked thread's mask survives exec) and
        # unblocks them once its handler is in place: a stop sent while Python is still starting
        # waits for the handler instead of killing the process before it can say "stopped".
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            with open_in_home(home, log_path, "ab") as log:
                process = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    env=worker_environment(db_url),
                )
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        self._children[process.pid] = process
        try:
            started_at = psutil.Process(process.pid).create_time()
        except psutil.NoSuchProcess:
            started_at = time.time()
        return Launch(process.pid, started_at, self.host, self.name)

    def send_signal(self, row: dict[str, Any], signum: int) -> None:
        """Signal the run's process: only a process on this host whose command line is that run's."""
        if row.get("host") and row["host"] != self.host:
            raise ConflictError(
                f"run {row['run_id']} trains on {row['host']}, not on this machine; control it from a RetroML there"
            )
        process = self._process_of(row)
        if process is not None:
            process.send_signal(signum)

    def is_alive(self, row: dict[str, Any]) -> bool:
        self._reap()
        if row.get("host") and row["host"] != self.host:
            heartbeat = row.get("heartbeat_at") or 0.0
            return row.get("status") == "paused" or time.time() - heartbeat < STALE_HEARTBEAT_SEC
        return self._process_of(row) is not None

    def is_frozen(self, row: dict[str, Any]) -> bool | None:
        if row.get("host") and row["host"] != self.host:
            return None
        process = self._process_of(row)
        try:
            return None if process is None else process.status() == psutil.STATUS_STOPPED
        except psutil.NoSuchProcess:
            return None

    def _process_of(self, row: dict[str, Any]) -> psutil.Process | None:
        """The live process of ``row`` on this host, or ``None``: a recycled pid is never the run's."""
        pid = row.get("pid")
        if not pid:
            return None
        try:
            process = psutil.Process(int(pid))
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            expected = row.get("pid_started_at")
            if expected is not None and abs(process.create_time() - float(expected)) >= 2.0:
                return None
            command = process.cmdline()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return process if row["run_id"] in command else None

    def _reap(self) -> None:
        for pid, process in list(self._children.items()):
            if process.poll() is not None:
                del self._children[pid]

    def wait(self, pid: int, timeout: float | None = None) -> int | None:
        """Wait for a child this executor started (tests and the foreground CLI use it)."""
        process = self._children.get(pid)
        if process is None:
            return None
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
