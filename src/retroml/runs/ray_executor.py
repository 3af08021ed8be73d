"""``RayExecutor``: training and render processes placed on a Ray cluster instead of this machine.

Ray does the scheduling: each run becomes a detached, named Ray actor that asks for the CPUs the run
needs (its ``train.n_threads``, or the render workers) and, once a node grants them, starts the same
worker process a local run would start (``python -m retroml.runs.train_job …``) on that node. The
worker writes its status, heartbeats, metrics and checkpoints to the shared data home and store, so
the faces see a cluster run exactly like a local one. Stop, pause and resume reach the process as
signals through its actor; a node lost with its actor makes the run ``interrupted``.

Needs the ``cluster`` extra (``pip install retroml[cluster]``) and a running cluster
(``ray start --head``); the address comes from ``--ray-address``, ``RAY_ADDRESS`` or ``auto``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retroml.engine.devices import check_device_spelling
from retroml.errors import InvalidInputError
from retroml.runs.executors import PENDING_HOST, TRAIN_JOB, Launch, worker_command, worker_environment

if TYPE_CHECKING:
    from retroml.video.pipeline import SegmentRunner

logger = logging.getLogger(__name__)

NAMESPACE = "retroml"
# An actor that answers no call in this long is on a node that is gone or hung.
CALL_TIMEOUT_SEC = 10.0


class RunProcess:
    """The Ray actor behind one run: starts the worker process on its node and relays signals to it.

    :param module: the job module (``retroml.runs.train_job`` or ``retroml.runs.render_job``).
    :param home: the shared data home.
    :param run_id: the run.
    :param db_url: the store URL, passed to the process in its environment (never on its command line).
    :param log_path: the run's ``train.log`` on the shared home (appended to).
    """

    def __init__(self, module: str, home: str, run_id: str, db_url: str, log_path: str) -> None:
        import psutil

        from retroml.paths import open_in_home

        with open_in_home(Path(home), Path(log_path), "ab") as log:
            self.process = subprocess.Popen(
                worker_command(module, Path(home), run_id),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=worker_environment(db_url),
            )
        self.started_at = psutil.Process(self.process.pid).create_time()
        threading.Thread(target=self._end_with_process, daemon=True).start()

    def _end_with_process(self) -> None:
        """When the process exits, so does the actor: its CPUs go back to the cluster."""
        import ray

        self.process.wait()
        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    def describe(self) -> dict[str, Any]:
        import ray

        return {
            "pid": self.process.pid,
            "pid_started_at": self.started_at,
            "host": socket.gethostname(),
            "node_id": ray.get_runtime_context().get_node_id(),
        }

    def poll(self) -> int | None:
        """The process's exit code, or ``None`` while it runs."""
        return self.process.poll()

    def send_signal(self, signum: int) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signum)


class RayExecutor:
    """Places runs on a Ray cluster (see the module docstring).

    :param address: the cluster (``host:port``); ``None``: ``$RAY_ADDRESS`` or ``auto``.

    A training run asks Ray for the GPU its ``train.device`` needs (:func:`gpus_wanted`), so it is placed
    on a node that has one; renders never ask for a GPU (playback runs on the CPU).
    """

    name = "ray"

    def __init__(self, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise InvalidInputError(
                "the Ray executor needs the cluster extra: pip install 'retroml[cluster]'"
            ) from None
        self.ray: Any = ray
        self.address = address or os.environ.get("RAY_ADDRESS") or "auto"
        if not ray.is_initialized():
            _check_reachable(self.address)
            try:
                ray.init(address=self.address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError) as error:
                raise InvalidInputError(
                    f"cannot reach a Ray cluster at {self.address} ({error}); start one with `ray start --head`"
                ) from None
        self.actor_class: Any = ray.remote(RunProcess)

    def launch(self, home: Path, run_id: str, db_url: str, log_path: Path, module: str) -> Launch:
        """Submit the run's actor; it starts as soon as a node has the CPUs it asks for."""
        name = actor_name(run_id)
        self._discard(name)
        actor = self.actor_class.options(
            name=name,
            namespace=NAMESPACE,
            lifetime="detached",
            num_cpus=_cpus_wanted(home, run_id, module),
            num_gpus=gpus_wanted(_device_asked(home, run_id), self.cluster_gpus()) if module == TRAIN_JOB else 0,
            max_restarts=0,
            max_concurrency=4,  # poll and signal calls answer while the process runs
        ).remote(module, str(home), run_id, db_url, str(log_path))
        try:
            placed = self.ray.get(actor.describe.remote(), timeout=2.0)
        except self.ray.exceptions.GetTimeoutError:
            logger.info("run %s waits for a Ray node with free CPUs", run_id)
            return Launch(pid=None, pid_started_at=None, host=PENDING_HOST, executor=self.name)
        return Launch(placed["pid"], placed["pid_started_at"], placed["host"], self.name)

    def send_signal(self, row: dict[str, Any], signum: int) -> None:
        actor = self._actor(row["run_id"])
        if actor is None:
            return
        try:
            self.ray.get(actor.send_signal.remote(signum), timeout=CALL_TIMEOUT_SEC)
        except self.ray.exceptions.GetTimeoutError:
            if signum == signal.SIGTERM:
                # Still waiting for a node (or its node is gone): nothing started, nothing to save.
                self.ray.kill(actor)
        except self.ray.exceptions.RayActorError:
            pass

    def is_alive(self, row: dict[str, Any]) -> bool:
        actor = self._actor(row["run_id"])
        if actor is None:
            return False
        try:
            exit_code = self.ray.get(actor.poll.remote(), timeout=CALL_TIMEOUT_SEC)
        except self.ray.exceptions.GetTimeoutError:
            # Pending placement is alive; a hung node is judged by the worker's heartbeat.
            return not row.get("pid") or time.time() - (row.get("heartbeat_at") or 0.0) < 60.0
        except self.ray.exceptions.RayActorError:
            return False
        return exit_code is None

    def is_frozen(self, row: dict[str, Any]) -> bool | None:
        return None  # a pause on a cluster node is what the store says it is

    def cluster_gpus(self) -> float:
        """GPUs of the whole cluster (0 on a CPU-only cluster)."""
        return float(self.ray.cluster_resources().get("GPU", 0))

    def check_device(self, device: str) -> None:
        """Refuse a GPU run the cluster has no GPU for (one sentence); the node that trains it picks the GPU."""
        try:
            asked = check_device_spelling(device)
        except ValueError as error:
            raise InvalidInputError(f"device {error}") from None
        if asked.startswith("cuda:") and asked != "cuda:0":
            raise InvalidInputError(
                f"on a Ray cluster each run gets the one GPU Ray gives it, not {asked}; ask for cuda or auto"
            )
        if asked.startswith("cuda") and self.cluster_gpus() < 1:
            raise InvalidInputError(
                f"the Ray cluster at {self.address} has no GPU for device {asked}; use --device cpu or auto, "
                "or add a node with a GPU (`ray start --num-gpus 1 …`)"
            )

    def cluster_cpus(self) -> int:
        """CPUs of the whole cluster: the default number of journey segments rendered at once."""
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def render_workers(self) -> int:
        """As many segments at once as the cluster has CPUs."""
        return self.cluster_cpus()

    def segment_runner(self) -> SegmentRunner:
        """Render journey segments as Ray tasks (one CPU each, at most ``workers`` in flight).

        Each task runs ``retroml.video.segment.render_segment`` on whatever node has a free CPU and
        writes its segment file under the data home, which on a cluster is a shared path.
        """
        from retroml.video.segment import render_segment

        ray = self.ray
        task = ray.remote(num_cpus=1, max_retries=1)(render_segment)

        def run(segments: Sequence[Any], workers: int, tick: Callable[[], None]) -> Iterator[dict[str, Any]]:
            waiting = list(segments)
            running: list[Any] = []
            try:
                while waiting or running:
                    while waiting and len(running) < workers:
                        running.append(task.remote(waiting.pop(0)))
                    done, running = ray.wait(running, num_returns=1, timeout=1.0)
                    for reference in done:
                        yield ray.get(reference)
                    tick()
            except BaseException:
                for reference in running:
                    ray.cancel(reference, force=True)
                raise

        return run

    def _actor(self, run_id: str) -> Any:
        try:
            return self.ray.get_actor(actor_name(run_id), namespace=NAMESPACE)
        except ValueError:
            return None

    def _discard(self, name: str) -> None:
        """A finished run's actor keeps its name until killed; a new leg or render reuses it."""
        try:
            self.ray.kill(self.ray.get_actor(name, namespace=NAMESPACE))
        except ValueError:
            return
        deadline = time.monotonic() + CALL_TIMEOUT_SEC
        while time.monotonic() < deadline:
            try:
                self.ray.get_actor(name, namespace=NAMESPACE)
            except ValueError:
                return
            time.sleep(0.1)


def _check_reachable(address: str) -> None:
    """Fail in a second, not after Ray's minutes of retries, when nothing listens at ``host:port``."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" or a ray:// URL: Ray finds and checks it
    try:
        socket.create_connection((host, int(port)), timeout=3.0).close()
    except OSError:
        raise InvalidInputError(
            f"no Ray cluster answers at {address}; start one with `ray start --head --port {port}`"
        ) from None


def actor_name(run_id: str) -> str:
    return f"retroml-{run_id}"


def gpus_wanted(device: str, cluster_gpus: float) -> float:
    """The GPUs a training run asks Ray for: one for ``cuda``/``cuda:N``, one for ``auto`` on a cluster
    that has GPUs, none for ``cpu``. Ray then shows the run's process just that GPU (as ``cuda:0``)."""
    if device == "cpu":
        return 0.0
    if device == "auto":
        return 1.0 if cluster_gpus >= 1 else 0.0
    return 1.0


def _device_asked(home: Path, run_id: str) -> str:
    from retroml.config import read_config
    from retroml.paths import run_paths

    return read_config(run_paths(home, run_id).config).train.device


def _cpus_wanted(home: Path, run_id: str, module: str) -> float:
    """The CPUs a run asks Ray for: its torch threads when set, else one."""
    from retroml.config import read_config
    from retroml.paths import run_paths

    config = read_config(run_paths(home, run_id).config)
    if module == TRAIN_JOB:
        return float(config.train.n_threads or 1)
    return 1.0
