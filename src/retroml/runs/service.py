"""``RunService``: create, start, stop, pause, resume, continue, branch and delete runs.

The CLI, the web app and the desktop app all go through this class (and its ``renders``, the
:class:`~retroml.runs.render_service.RenderService` of the videos); none of them spawns a process,
touches a run folder or reads the store itself. A run's truth is its row in the store (mirrored to ``run.json``);
whenever a run is read, a run marked active whose process has died is marked ``interrupted``.
"""

from __future__ import annotations

import io
import logging
import shutil
import signal
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.exc import DBAPIError

from retroml.config import (
    MAX_TIMESTEPS,
    RunConfig,
    apply_assignment,
    build_config,
    read_config,
    to_yaml,
)
from retroml.disk import disk_is_full
from retroml.engine.checkpoints import checkpoint_damage, latest_timesteps, newest_loadable
from retroml.errors import ConflictError, DamagedCheckpointError, InvalidInputError, NotFoundError, RetroMLError
from retroml.paths import RunPaths, inside, open_in_home, resolve_home, run_paths
from retroml.runs.executors import PENDING_HOST, TRAIN_JOB, Executor, LocalExecutor
from retroml.runs.model import ACTIVE_STATUSES, ENDED_STATUSES, Action, Run, RunStatus
from retroml.runs.reindex import ReindexResult, has_run_folders, open_store, reindex
from retroml.runs.render_service import RenderService, read_render_request
from retroml.store import Store

if TYPE_CHECKING:
    from retroml.runs.train_estimate import TrainingEstimate

logger = logging.getLogger(__name__)

# How long a run's status and its process may disagree before the process's state is written back.
REPAIR_GRACE_SEC = 0.5
ContinueMode = Literal["finish", "more"]


def is_active(row: dict[str, Any]) -> bool:
    """Whether a process works (or a cluster run waits to work) on a store row's run now."""
    return RunStatus(row["status"]) in ACTIVE_STATUSES and (bool(row.get("pid")) or row.get("host") == PENDING_HOST)


def new_run_id() -> str:
    return f"run-{uuid.uuid4().hex[:8]}"


def default_name(config: RunConfig) -> str:
    return f"{config.game.id}-{config.train.algo}-{datetime.now():%Y%m%d-%H%M}"


class RunService:
    """The operations on runs, over one data home.

    :param home: the data home (``None``: ``$RETROML_HOME`` or ``./outputs``).
    :param db_url: SQLAlchemy URL of the store (``None``: ``<home>/retroml.db``).
    :param executor: where training processes run (default: this machine).
    :param reindex_on_open: rebuild an empty index from the run folders (a lost or unreadable database).

    ``renders`` is the :class:`~retroml.runs.render_service.RenderService` of the same home: the videos,
    renders and their estimates.
    """

    def __init__(
        self,
        home: str | Path | None = None,
        db_url: str | None = None,
        executor: Executor | None = None,
        reindex_on_open: bool = True,
    ) -> None:
        self.home = resolve_home(home)
        self._store = open_store(self.home, db_url)
        self.executor: Executor = executor or LocalExecutor()
        self._executors: dict[str, Executor] = {self.executor.name: self.executor}
        self.renders = RenderService(self, self._store)
        if reindex_on_open and not self._store.has_runs() and has_run_folders(self.home):
            result = self.reindex()
            logger.warning(
                "the run index had no runs: rebuilt it from %s, %d runs recovered in %.1f s",
                self.home / "runs", result.new, result.seconds,
            )  # fmt: skip

    def reindex(self, progress: Callable[[int, int, str], None] | None = None) -> ReindexResult:
        """Put the runs of ``<home>/runs`` the index lacks back in it (see :mod:`retroml.runs.reindex`).

        A run that was active when the index was lost and whose process is gone then reads as ``interrupted``.
        """
        result = reindex(self._store, self.home, progress)
        for row in self._store.list_runs():
            self._reconcile(row)
        return result

    def executor_for(self, row: dict[str, Any]) -> Executor:
        """The executor that launched ``row`` (a local service still controls cluster runs, and back)."""
        name = row.get("executor") or "local"
        if name not in self._executors:
            if name == "ray":
                from retroml.runs.ray_executor import RayExecutor

                try:
                    self._executors[name] = RayExecutor()
                except InvalidInputError as error:
                    logger.warning("%s; judging run %s by its heartbeat", error, row["run_id"])
                    return LocalExecutor()
            else:
                self._executors[name] = LocalExecutor()
        return self._executors[name]

    # reading ---------------------------------------------------------------------------------
    def get(self, run_id: str) -> Run:
        """The run, with a dead process shown as ``interrupted``; unknown ids raise NotFoundError."""
        return self._run(self._row(run_id))

    def list_runs(self, status: str | None = None, game: str | None = None) -> list[Run]:
        rows = [self._reconcile(row) for row in self._store.list_runs(game=game)]
        return [self._run(row) for row in rows if status is None or row["status"] == status]

    def _row(self, run_id: str) -> dict[str, Any]:
        row = self._store.get_run(run_id)
        if row is None:
            raise NotFoundError(f"there is no run '{run_id}' (`retroml runs list` shows the runs)")
        return self._reconcile(row)

    def _run(self, row: dict[str, Any]) -> Run:
        checkpoints = self._store.artifacts(row["run_id"], ["checkpoint"])
        try:
            milestones_pct = read_config(run_paths(self.home, row["run_id"]).config).milestones_pct
        except (OSError, InvalidInputError):
            milestones_pct = []
        return Run.from_row(row, checkpoints, milestones_pct)

    def allowed_row(self, action: Action, run_id: str) -> dict[str, Any]:
        """The run's store row, once ``action`` is allowed on it now (else the one sentence, as ConflictError)."""
        row = self._row(run_id)
        why = self._run(row).refusal(action)
        if why is not None:
            raise ConflictError(why)
        return row

    def _reconcile(self, row: dict[str, Any]) -> dict[str, Any]:
        if is_active(row) and not self.executor_for(row).is_alive(row):
            # Re-read: the process may have written its final status just before it exited.
            fresh = self._store.get_run(row["run_id"]) or row
            full = disk_is_full(self.home)
            if fresh["status"] == RunStatus.RENDERING:
                # Training had ended before the render began: the run keeps the status it had.
                previous = read_render_request(run_paths(self.home, row["run_id"])).get("previous_status", "completed")
                message = "the journey render ended before it finished; render it again"
                if full:
                    message = (
                        f"the journey render ended while the disk holding {self.home} was full; "
                        "free some space, then render it again"
                    )
                fresh = self._repair(fresh, status=previous, render_progress=None, message=message)
            elif fresh["status"] in ACTIVE_STATUSES:
                message = "the training process ended without saying so; `retroml runs continue` resumes it"
                if full:
                    message = (
                        f"the training process ended while the disk holding {self.home} was full; "
                        "free some space, then `retroml runs continue` resumes it"
                    )
                fresh = self._repair(fresh, status=RunStatus.INTERRUPTED, ended_at=time.time(), message=message)
            return fresh
        if row["status"] in (RunStatus.RUNNING, RunStatus.PAUSED) and self._process_disagrees(row):
            # The process's real state wins: a pause whose store write failed must not show "running".
            time.sleep(REPAIR_GRACE_SEC)  # a pause or resume may be between its store write and its signal
            fresh = self._store.get_run(row["run_id"]) or row
            if fresh["status"] == row["status"] and self._process_disagrees(fresh):
                real = RunStatus.RUNNING if row["status"] == RunStatus.PAUSED else RunStatus.PAUSED
                fresh = self._repair(fresh, status=real)
            return fresh
        return row

    def _repair(self, row: dict[str, Any], **values: Any) -> dict[str, Any]:
        """Write a status repair and return the row as repaired; a read never fails because the write did.

        On a full disk (or a database that cannot be written now) the repair is shown, not stored, and
        is tried again at the next read.
        """
        try:
            self._store.update_run(row["run_id"], **values)
        except (DBAPIError, OSError) as error:
            logger.warning("could not record the status of run %s (%s); showing it unrecorded", row["run_id"], error)
            return {**row, **values}
        return self._store.get_run(row["run_id"]) or {**row, **values}

    def _process_disagrees(self, row: dict[str, Any]) -> bool:
        frozen = self.executor_for(row).is_frozen(row)
        return frozen is not None and frozen != (row["status"] == RunStatus.PAUSED)

    def paths(self, run_id: str) -> RunPaths:
        self._row(run_id)
        return run_paths(self.home, run_id)

    def config(self, run_id: str) -> RunConfig:
        return read_config(self.paths(run_id).config)

    def metrics(self, run_id: str, since_id: int = 0) -> list[dict[str, Any]]:
        """The run's metrics rows after ``since_id`` (rows a later leg superseded left out), oldest first."""
        self._row(run_id)
        return self._store.metrics(run_id, since_id)

    def events(self, run_id: str, after_id: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        """The run's stored events after ``after_id``, oldest first (not reconciled: a stream polls this)."""
        return self._store.events(run_id, after_id, limit)

    def artifacts(self, run_id: str, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """The files the run recorded (checkpoints, clips, journeys, time-lapse parts), oldest first."""
        self._row(run_id)
        return self._store.artifacts(run_id, kinds)

    @property
    def raw_store(self) -> Store:
        """The store itself, for tests and benchmarks that write rows a training process would.

        Faces never use it: they read runs, metrics, events and files through the methods above.
        """
        return self._store

    def close(self) -> None:
        """Close the store's connections (the service opens new ones when used again)."""
        self._store.dispose()

    def logs(self, run_id: str, tail: int = 200) -> list[str]:
        """The last ``tail`` lines of the run's ``train.log`` (never through a symbolic link)."""
        try:
            handle = open_in_home(self.home, self.paths(run_id).log)
        except FileNotFoundError:
            return []
        with io.TextIOWrapper(handle, encoding="utf-8", errors="replace") as text:
            return [line.rstrip("\n") for line in deque(text, maxlen=max(tail, 0))]

    def config_text(self, run_id: str) -> str:
        """The run's ``config.yaml`` as written at creation (never through a symbolic link)."""
        path = self.paths(run_id).config
        try:
            with open_in_home(self.home, path) as handle:
                return handle.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            raise NotFoundError(f"run {run_id} has no config.yaml") from None

    # creating and starting ---------------------------------------------------------------------
    def create(self, config: RunConfig, start: bool = True, lineage: dict[str, Any] | None = None) -> Run:
        """Create a run folder with its frozen ``config.yaml``, index it, and (by default) start it."""
        # Here, not in the trainer: a GPU the machines that train lack is refused before a run exists.
        self.executor.check_device(config.train.device)
        run_id = new_run_id()
        name = config.name or default_name(config)
        config = config.model_copy(update={"name": name})
        paths = run_paths(self.home, run_id)
        paths.make()
        paths.config.write_text(to_yaml(config), encoding="utf-8")
        lineage = lineage or {}
        start_timesteps = int(lineage.get("start_timesteps", 0))
        leg = {
            "leg": 1,
            "budget": config.train.total_timesteps,
            "start_timesteps": start_timesteps,
            "from_checkpoint": lineage.get("from_checkpoint"),
            "created_at": time.time(),
        }
        self._store.insert_run(
            {
                "run_id": run_id,
                "name": name,
                "game": config.game.id,
                "algo": config.train.algo,
                "status": RunStatus.QUEUED,
                "fast_mode": config.fast_mode,
                "created_at": time.time(),
                "executor": self.executor.name,
                "leg": 1,
                "leg_start_timesteps": start_timesteps,
                "total_timesteps": start_timesteps + config.train.total_timesteps,
                "timesteps": start_timesteps,
                "episodes": 0,
                "train_seconds": 0.0,
                "parent_run_id": lineage.get("parent_run_id"),
                "parent_checkpoint": lineage.get("from_checkpoint"),
                "changes": lineage.get("changes"),
                "legs": [leg],
            }
        )
        logger.info("created run %s (%s)", run_id, name)
        if start:
            return self.start(run_id)
        return self.get(run_id)

    def start(self, run_id: str) -> Run:
        """Launch the training process of a queued run."""
        self.allowed_row(Action.START, run_id)
        paths = run_paths(self.home, run_id)
        launch = self.executor.launch(self.home, run_id, self._store.url, paths.log, TRAIN_JOB)
        waiting = "waiting for a cluster node with free CPUs" if launch.pid is None else None
        self._store.update_run(
            run_id,
            status=RunStatus.RUNNING if launch.pid else RunStatus.QUEUED,
            message=waiting,
            pid=launch.pid,
            pid_started_at=launch.pid_started_at,
            host=launch.host,
            executor=launch.executor,
            started_at=time.time(),
            heartbeat_at=time.time(),
            steps_per_sec=None,
        )
        return self.get(run_id)

    # controlling -----------------------------------------------------------------------------
    def stop(self, run_id: str) -> Run:
        """Ask the training process to save a checkpoint and stop (SIGTERM)."""
        row = self.allowed_row(Action.STOP, run_id)
        if row["status"] == RunStatus.QUEUED and not row.get("pid"):
            if row.get("host") == PENDING_HOST:
                self.executor_for(row).send_signal(row, signal.SIGTERM)
            self._store.update_run(run_id, status=RunStatus.STOPPED, ended_at=time.time(), host=None)
            return self.get(run_id)
        self.executor_for(row).send_signal(row, signal.SIGTERM)
        if row["status"] == RunStatus.PAUSED:
            # A stopped (SIGSTOP) process only handles SIGTERM once it runs again.
            self.executor_for(row).send_signal(row, signal.SIGCONT)
        return self.get(run_id)

    def pause(self, run_id: str) -> Run:
        row = self.allowed_row(Action.PAUSE, run_id)
        # The store first: if it is busy the process is not touched, and both still agree.
        self._store.update_run(run_id, status=RunStatus.PAUSED)
        self._signal_or_undo(row, signal.SIGSTOP)
        return self.get(run_id)

    def resume(self, run_id: str) -> Run:
        row = self.allowed_row(Action.RESUME, run_id)
        self._store.update_run(run_id, status=RunStatus.RUNNING, heartbeat_at=time.time())
        self._signal_or_undo(row, signal.SIGCONT)
        return self.get(run_id)

    def _signal_or_undo(self, row: dict[str, Any], signum: int) -> None:
        """Send ``signum``; if it cannot be sent, the store gets back the status it had."""
        try:
            self.executor_for(row).send_signal(row, signum)
        except RetroMLError:
            self._store.update_run(row["run_id"], status=row["status"])
            raise

    def wait(self, run_id: str, timeout: float = 600.0, poll: float = 0.5) -> Run:
        """Block until the run reaches a final status (or ``timeout`` seconds pass)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get(run_id)
            if run.status in ENDED_STATUSES or time.monotonic() >= deadline:
                return run
            time.sleep(poll)

    # further training ------------------------------------------------------------------------
    def continue_run(self, run_id: str, mode: ContinueMode = "finish", steps: int | None = None) -> Run:
        """Train the run further from its latest checkpoint, as a new leg.

        ``finish`` trains what is left of the planned budget; ``more`` extends the budget by ``steps``
        (default: the budget the run was created with). Milestones already reached stay; the rest are
        planned over the new total. A run stopped before its first checkpoint starts over from where it
        began.
        """
        row = self.allowed_row(Action.CONTINUE, run_id)
        run = self._run(row)
        start_checkpoint, start_timesteps, note = self._continue_from(run)
        if mode == "more":
            steps = run.run_budget if steps is None else steps
            _check_budget(steps)
            total = run.total_timesteps + steps
        elif mode == "finish":
            total = run.total_timesteps
            if start_timesteps >= total:
                raise InvalidInputError(
                    f"run {run_id} has trained its whole budget of {total - run.start_timesteps:,} timesteps; "
                    f"train more with `retroml runs continue {run_id} --more {run.run_budget:_}`"
                )
        else:
            raise InvalidInputError(f"continue is 'finish' or 'more', not '{mode}'")
        hidden = self._store.supersede_metrics(run_id, start_timesteps)
        if hidden:
            logger.info("run %s: %d metrics rows past %d timesteps superseded", run_id, hidden, start_timesteps)
        leg_index = run.leg + 1
        legs = [
            *(row.get("legs") or []),
            {
                "leg": leg_index,
                "budget": total - start_timesteps,
                "start_timesteps": start_timesteps,
                "from_checkpoint": start_checkpoint,
                "note": note,
                "created_at": time.time(),
            },
        ]
        self._store.update_run(
            run_id,
            status=RunStatus.QUEUED,
            leg=leg_index,
            leg_start_timesteps=start_timesteps,
            total_timesteps=total,
            timesteps=start_timesteps,
            legs=legs,
            ended_at=None,
            exit_code=None,
            message=None,
            pid=None,
        )
        started = self.start(run_id)
        if note is None:
            return started
        self._store.update_run(run_id, message=note)
        return self.get(run_id)

    def _continue_from(self, run: Run) -> tuple[str | None, int, str | None]:
        """The checkpoint the next leg starts from, its timesteps, and a note if it is not ``latest.zip``.

        A damaged ``latest.zip`` gives way to the newest rolling or milestone checkpoint that loads
        (the note says so); if none loads, one sentence names the file and what to do.
        """
        paths = run_paths(self.home, run.run_id)
        latest = paths.latest_checkpoint
        if not latest.exists():
            # Stopped before its first checkpoint: the leg starts over from where the run began.
            return (run.legs[0].from_checkpoint if run.legs else None), run.start_timesteps, None
        damage = checkpoint_damage(latest)
        if damage is None:
            return str(latest.relative_to(self.home)), latest_timesteps(latest), None
        shown = latest.relative_to(paths.root)
        fallback = newest_loadable(paths.checkpoints)
        if fallback is None:
            raise DamagedCheckpointError(
                f"{shown} of run {run.run_id} is damaged ({damage}) and no other checkpoint of it loads; "
                "start a new run, or branch from another run with `retroml runs branch`"
            )
        note = (
            f"{shown} is damaged ({damage}); continuing from {fallback.path.relative_to(paths.root)} "
            f"({fallback.timesteps:,} timesteps) instead"
        )
        logger.warning("run %s: %s", run.run_id, note)
        return str(fallback.path.relative_to(self.home)), fallback.timesteps, note

    def branch(
        self,
        run_id: str,
        from_milestone_pct: float,
        overrides: list[str] | None = None,
        steps: int | None = None,
        name: str | None = None,
        start: bool = True,
    ) -> Run:
        """A new run that starts from a milestone checkpoint of ``run_id``, with settings changed.

        ``from_milestone_pct`` is the milestone as the run shows it (its percentage of the run's budget).
        """
        parent = self.get(run_id)
        reached = [milestone for milestone in parent.milestones if milestone.reached and milestone.checkpoint]
        nearest = min(reached, key=lambda milestone: abs(milestone.pct - from_milestone_pct), default=None)
        if nearest is None or abs(nearest.pct - from_milestone_pct) > 0.5 or nearest.checkpoint is None:
            shown = ", ".join(milestone.label for milestone in reached) or "none yet"
            raise InvalidInputError(
                f"run {run_id} has no checkpoint at the {from_milestone_pct:g} % milestone (reached: {shown})"
            )
        damage = checkpoint_damage(inside(self.home, nearest.checkpoint))
        if damage is not None:
            others = ", ".join(milestone.label for milestone in reached if milestone is not nearest) or "none"
            raise DamagedCheckpointError(
                f"{nearest.checkpoint} is damaged ({damage}); branch from another milestone (reached: {others})"
            )
        parent_config = self.config(run_id)
        data = parent_config.model_dump(mode="json", exclude_none=True)
        data["name"] = name or f"{parent.name}-branch-{nearest.label.replace(' ', '')}"
        changes: dict[str, Any] = {}
        for assignment in overrides or []:
            data = apply_assignment(data, assignment)
            key, _, value = assignment.partition("=")
            changes[key.strip()] = value.strip()
        if steps is not None:
            _check_budget(steps)
            data["train"]["total_timesteps"] = steps
            changes["train.total_timesteps"] = steps
        config = build_config(data)
        if config.train.algo != parent_config.train.algo:
            raise InvalidInputError(
                f"a branch keeps the parent's algorithm ({parent_config.train.algo}); start a new run instead"
            )
        lineage = {
            "parent_run_id": run_id,
            "from_checkpoint": nearest.checkpoint,
            "start_timesteps": nearest.timesteps,
            "changes": changes,
        }
        return self.create(config, start=start, lineage=lineage)

    # estimates and this machine ----------------------------------------------------------
    def training_estimate(self, config: RunConfig, probe: bool = False) -> TrainingEstimate:
        """How long ``config`` trains on this machine, from what earlier runs measured here (before Start).

        Refuses a GPU this machine lacks in the sentence :meth:`create` would. With ``probe`` (a form
        asking), a first guess starts a short probe of this machine, unless a run is training: it
        would slow the run and measure a busy machine.
        """
        # Only a probe needs to know whether a run trains: a plain estimate (every keystroke of a form) reads no runs.
        probe = probe and not any(run.active for run in self.list_runs())
        from retroml.runs.train_estimate import estimate_training  # the commands that only read runs skip it

        return estimate_training(self.home, config, probe=probe)

    def system_status(self) -> dict[str, Any]:
        """CPU, memory and disk of this machine, and the runs training now."""
        import os

        import psutil

        disk = psutil.disk_usage(str(self.home))
        memory = psutil.virtual_memory()
        return {
            "cpu_percent": psutil.cpu_percent(interval=None),
            "cpu_count": os.cpu_count() or 1,
            "memory_total": memory.total,
            "memory_used": memory.total - memory.available,
            "memory_percent": memory.percent,
            "disk_total": disk.total,
            "disk_free": disk.free,
            "disk_percent": disk.percent,
            "gpu": None,
            "home": str(self.home),
            "running_runs": [run.run_id for run in self.list_runs() if run.status in ACTIVE_STATUSES],
        }

    # removing --------------------------------------------------------------------------------
    def delete(self, run_id: str) -> None:
        """Remove a run's folder and its rows; refused while it is active."""
        self.allowed_row(Action.DELETE, run_id)
        shutil.rmtree(run_paths(self.home, run_id).root, ignore_errors=True)
        self._store.delete_run(run_id)


def make_executor(name: str = "local", ray_address: str | None = None) -> Executor:
    """The executor a face asked for: ``local`` processes or a ``ray`` cluster (at ``ray_address``)."""
    if name == "local":
        if ray_address:
            raise InvalidInputError("--ray-address needs --executor ray")
        return LocalExecutor()
    if name == "ray":
        from retroml.runs.ray_executor import RayExecutor

        return RayExecutor(ray_address)
    raise InvalidInputError(f"--executor must be local or ray, not '{name}'")


def _check_budget(steps: int) -> None:
    if steps <= 0 or steps > MAX_TIMESTEPS:
        raise InvalidInputError(f"a number of timesteps must be between 1 and {MAX_TIMESTEPS:,}, not {steps:,}")
