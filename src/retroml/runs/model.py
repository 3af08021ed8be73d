"""The run as one typed model: its status, what may be done to it, and what every face shows of it.

The store keeps rows; :meth:`Run.from_row` turns a row (and the run's milestone checkpoints) into a
:class:`Run` that carries progress, speed, ETA, training time, scores and milestones, computed here
once. The service returns ``Run``s, the web API publishes them as its response model, and the CLI
and the desktop app display their fields: no face computes a progress, an ETA or a status set.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from retroml import milestones
from retroml.formatting import duration_text  # the faces import it from here, with the run

if TYPE_CHECKING:
    from retroml.runs.train_estimate import TrainingEstimate


class RunStatus(StrEnum):
    """Where a run is in its life: ``queued → running ⇄ paused → completed | failed | stopped | interrupted``.

    ``rendering`` is a run whose video is being made (after training, or asked for later).
    """

    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    RENDERING = "rendering"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"


ACTIVE_STATUSES = frozenset({RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.RENDERING})
ENDED_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.STOPPED, RunStatus.INTERRUPTED})


class Action(StrEnum):
    """What a person can ask of a run."""

    START = "start"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    CONTINUE = "continue"
    BRANCH = "branch"
    RENDER = "render"
    CANCEL_RENDER = "cancel_render"
    DELETE = "delete"


# The transition table: from which statuses each action is allowed. A queued run that was never
# launched (created with start=False) is not active: it may be started or deleted.
ALLOWED: dict[Action, frozenset[RunStatus]] = {
    Action.START: frozenset({RunStatus.QUEUED}),
    Action.STOP: frozenset({RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.RENDERING}),
    Action.PAUSE: frozenset({RunStatus.RUNNING}),
    Action.RESUME: frozenset({RunStatus.PAUSED}),
    Action.CONTINUE: ENDED_STATUSES,
    Action.BRANCH: frozenset(RunStatus),
    Action.RENDER: ENDED_STATUSES,
    Action.CANCEL_RENDER: frozenset({RunStatus.RENDERING}),
    Action.DELETE: ENDED_STATUSES | {RunStatus.QUEUED},
}

_REFUSALS: dict[Action, str] = {
    Action.START: "use `retroml runs continue {run_id}` to train it further",
    Action.STOP: "there is nothing to stop",
    Action.PAUSE: "only a running run can pause",
    Action.RESUME: "only a paused run can resume",
    Action.CONTINUE: "wait for it to end or stop it first",
    Action.BRANCH: "",
    Action.RENDER: "render its video once it has ended",
    Action.CANCEL_RENDER: "only a video being rendered can be cancelled",
    Action.DELETE: "stop it before deleting it",
}

# Launched queued runs (waiting for a cluster node) are active: they can be stopped, not started.
_LAUNCHED_QUEUED_REFUSE = frozenset({Action.START, Action.DELETE})
# What needs a checkpoint to start from: a run that failed before its first has none of them.
_NEEDS_CHECKPOINT = frozenset({Action.CONTINUE, Action.BRANCH, Action.RENDER})


def refusal(action: Action, run_id: str, status: RunStatus, launched: bool, has_checkpoint: bool = True) -> str | None:
    """Why ``action`` is not allowed on a run in ``status`` (one sentence), or ``None`` if it is.

    ``has_checkpoint``: whether the run saved any checkpoint (a failed run without one would only fail again).
    """
    waiting_for_node = status is RunStatus.QUEUED and launched and action in _LAUNCHED_QUEUED_REFUSE
    if status is RunStatus.FAILED and not has_checkpoint and action in _NEEDS_CHECKPOINT:
        return (
            f"run {run_id} failed before it saved a checkpoint, so there is nothing to {action.value}; "
            "start a new run with other settings"
        )
    if status in ALLOWED[action] and not waiting_for_node:
        return None
    if action is Action.START and status in ACTIVE_STATUSES:
        return f"run {run_id} is already {status.value}; stop it first"
    if status is RunStatus.QUEUED and not launched:
        return f"run {run_id} has not started yet: start it first"
    return f"run {run_id} is {status.value}: {_REFUSALS[action].format(run_id=run_id)}"


# Errors the libraries raise, as a person would say them: (words in the raw error, plain sentence).
_PLAIN_FAILURES: tuple[tuple[str, str], ...] = (
    (
        "`batch_size` must be greater than 1",
        "Training could not start: PPO needs minibatches of at least 2 samples. "
        "Start a new run with train.batch_size of 2 or more (or leave it empty to let RetroML choose).",
    ),
    (
        "out of memory",
        "Training ran out of memory. Start a new run with fewer environments or a smaller train.buffer_size.",
    ),
)


def failure_text(message: str | None) -> str | None:
    """A failed run's message in plain words: known library errors become a sentence saying what to do."""
    if not message:
        return message
    for words, sentence in _PLAIN_FAILURES:
        if words.lower() in message.lower():
            return sentence
    return message


def estimate_sentence(estimate: TrainingEstimate) -> str:
    """The training estimate as the CLI and the desktop dialog say it before Start."""
    return f"Estimated training time: {estimate.text} ({estimate.device}; {estimate.note})"


class Leg(BaseModel):
    """One stretch of training by one process: the first leg, or a ``continue`` after it."""

    leg: int
    start_timesteps: int = Field(description="Absolute timesteps when the leg started.")
    budget: int = Field(description="Timesteps this leg trains for.")
    from_checkpoint: str | None = Field(None, description="The checkpoint it started from (relative to the home).")
    created_at: float | None = None
    device: str | None = Field(None, description="The device it trained on (cpu, cuda:0), once its process started.")


class Milestone(BaseModel):
    """A milestone of the run's plan: reached (a checkpoint exists) or still planned."""

    pct: float = Field(description="Percent of the run's whole budget, from its absolute timesteps.")
    label: str = Field(description='How the percentage is shown: "10 %", "2.5 %".')
    timesteps: int = Field(description="Absolute timesteps: where it was saved, or where it is planned.")
    reached: bool
    checkpoint: str | None = Field(None, description="The checkpoint file (relative to the home) once reached.")
    episodes: int | None = None
    score_mean: float | None = None


class Run(BaseModel):
    """A run as every face shows it."""

    run_id: str
    name: str
    game: str
    algo: str
    status: RunStatus
    fast_mode: bool
    executor: str
    host: str | None = None
    pid: int | None = None
    message: str | None = None
    exit_code: int | None = None
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    heartbeat_at: float | None = None
    render_progress: float | None = None
    parent_run_id: str | None = None
    parent_checkpoint: str | None = None
    changes: dict[str, Any] | None = None
    legs: list[Leg]
    leg: int = Field(description="The index of the current (or last) leg, 1 for the first.")
    start_timesteps: int = Field(description="Timesteps the run started from (a branch starts at its checkpoint).")
    leg_start_timesteps: int
    total_timesteps: int = Field(description="The absolute timesteps the run is planned to end at.")
    timesteps: int
    episodes: int
    score_mean: float | None = Field(None, description="Mean score of the last 100 training episodes.")
    score_best: float | None = Field(None, description="Best game score of any training episode, all legs.")
    progress: float = Field(description="Fraction of the run's whole budget done, 0..1.")
    leg_progress: float = Field(description="Fraction of the current leg done, 0..1.")
    steps_per_sec: float | None = Field(
        None,
        description="While training: timesteps per second over recent whole collect+update cycles; after: the average.",
    )
    eta_seconds: float | None = Field(None, description="Seconds until the run's budget is done, while it trains.")
    training_seconds: float = Field(description="Wall-clock seconds spent training, over all legs.")
    remaining_timesteps: int = Field(description="What `continue` in 'finish' mode would train.")
    run_budget: int = Field(description="The budget the run was created with: the default of 'train N more'.")
    milestones: list[Milestone]
    actions: list[Action] = Field(description="What may be done to the run now; faces enable buttons from it.")
    has_checkpoint: bool = Field(
        False, description="Whether the run saved any checkpoint (continue, branch and render need one)."
    )
    device: str | None = Field(None, description="The device the latest leg trained on (cpu, cuda:0), once it started.")

    @property
    def launched(self) -> bool:
        return bool(self.pid) or self.host == "ray:pending"

    @property
    def active(self) -> bool:
        """Whether a process works (or a cluster run waits to work) on the run now."""
        return self.status in ACTIVE_STATUSES and self.launched

    def refusal(self, action: Action) -> str | None:
        return refusal(action, self.run_id, self.status, self.launched, self.has_checkpoint)

    # How a face words the run's figures: the rule (live or average, measuring or unknown) is here once;
    # a table cell and a sentence pass their own short or long words.
    def speed_text(self, unit: str = " steps/s", average: str = " on average") -> str:
        """The recent pace while the run trains, its average over all legs otherwise (never a stale live value).

        ``measuring…`` while training before the first measure, ``—`` for a run that never measured one.
        """
        training = self.status is RunStatus.RUNNING
        if self.steps_per_sec is None:
            return "measuring…" if training else "—"
        return f"{self.steps_per_sec:,.0f}{unit}" + ("" if training else average)

    def eta_text(self, measuring: str = "measuring…") -> str:
        """The time left while the run trains (``measuring`` until its speed is known), else ``—``."""
        if self.eta_seconds is not None:
            return duration_text(self.eta_seconds)
        return measuring if self.status is RunStatus.RUNNING else "—"

    def score_texts(self) -> tuple[str, str] | None:
        """The mean of the last 100 episodes and the best episode as shown (``—`` each until known); ``None``
        before any episode ended."""
        if self.score_mean is None and self.score_best is None:
            return None
        mean = f"{self.score_mean:.1f}" if self.score_mean is not None else "—"
        best = f"{self.score_best:g}" if self.score_best is not None else "—"
        return mean, best

    def leg_at(self, timesteps: int) -> int:
        """The leg that trained up to ``timesteps`` (a clip or checkpoint saved then belongs to it)."""
        return max((leg.leg for leg in self.legs if leg.start_timesteps < timesteps), default=1)

    @classmethod
    def from_row(
        cls,
        row: dict[str, Any],
        checkpoints: Iterable[dict[str, Any]] = (),
        milestones_pct: Sequence[int] = (),
        now: float | None = None,
    ) -> Run:
        """The run of a store row; ``checkpoints`` are its checkpoint artifacts, ``milestones_pct`` its plan."""
        now = time.time() if now is None else now
        status = RunStatus(row["status"])
        legs = [Leg.model_validate(leg) for leg in row.get("legs") or []]
        origin = milestones.origin(row)
        total = int(row["total_timesteps"])
        timesteps = int(row["timesteps"])
        leg_start = int(row["leg_start_timesteps"])
        leg_budget = max(total - leg_start, 1)
        running = status is RunStatus.RUNNING
        trained_seconds = float(row.get("train_seconds") or 0.0)
        speed = row.get("steps_per_sec") if running else _average(row, origin, trained_seconds)
        eta = max(total - timesteps, 0) / speed if running and speed else None
        launched = bool(row.get("pid")) or row.get("host") == "ray:pending"
        checkpoints = list(checkpoints)
        has_checkpoint = bool(checkpoints)
        message = failure_text(row.get("message")) if status is RunStatus.FAILED else row.get("message")
        return cls(
            **{key: row.get(key) for key in _COPIED},
            message=message,
            has_checkpoint=has_checkpoint,
            device=next((leg.device for leg in reversed(legs) if leg.device), None),
            status=status,
            fast_mode=bool(row.get("fast_mode")),
            executor=row.get("executor") or "local",
            legs=legs,
            leg=int(row["leg"]),
            start_timesteps=origin,
            leg_start_timesteps=leg_start,
            total_timesteps=total,
            timesteps=timesteps,
            episodes=int(row.get("episodes") or 0),
            progress=_fraction(timesteps - origin, total - origin),
            leg_progress=_fraction(timesteps - leg_start, leg_budget),
            steps_per_sec=speed or None,
            eta_seconds=eta,
            training_seconds=trained_seconds,
            remaining_timesteps=max(total - timesteps, 0),
            run_budget=legs[0].budget if legs else max(total - origin, 1),
            milestones=_milestones(checkpoints, milestones_pct, origin, total, timesteps),
            actions=[
                action for action in Action if refusal(action, row["run_id"], status, launched, has_checkpoint) is None
            ],
        )


_COPIED = (
    "run_id", "name", "game", "algo", "host", "pid", "exit_code", "created_at", "started_at",
    "ended_at", "heartbeat_at", "render_progress", "parent_run_id", "parent_checkpoint", "changes",
    "score_mean", "score_best",
)  # fmt: skip


def _fraction(done: int, budget: int) -> float:
    return min(max(done / max(budget, 1), 0.0), 1.0)


def _average(row: dict[str, Any], origin: int, trained_seconds: float) -> float | None:
    """A run that is not training shows its average pace over all legs."""
    if trained_seconds <= 0:
        return None
    return max(int(row["timesteps"]) - origin, 0) / trained_seconds


def _milestones(
    checkpoints: Iterable[dict[str, Any]], milestones_pct: Sequence[int], origin: int, total: int, timesteps: int
) -> list[Milestone]:
    reached = sorted(
        (artifact for artifact in checkpoints if artifact.get("milestone_pct") is not None),
        key=lambda artifact: int(artifact["timesteps"]),
    )
    found = []
    for artifact in reached:
        pct = milestones.percent(int(artifact["timesteps"]), origin, total)
        meta = artifact.get("meta") or {}
        found.append(
            Milestone(
                pct=pct,
                label=milestones.label(pct),
                timesteps=int(artifact["timesteps"]),
                reached=True,
                checkpoint=artifact["path"],
                episodes=artifact.get("episodes"),
                score_mean=meta.get("score_mean"),
            )
        )
    done = [milestone.timesteps for milestone in found]
    for pct, target in milestones.pending(milestones_pct, origin, total, done).items():
        found.append(Milestone(pct=float(pct), label=milestones.label(pct), timesteps=target, reached=False))
    return found


class VideoKind(StrEnum):
    """What a video is, as every face names, filters and badges it.

    The store files a clip as ``clip`` and every render as ``journey``; the render's layout says
    which of these it made.
    """

    JOURNEY = "journey"
    CLIP = "clip"
    COMPARISON = "comparison"
    HIGHLIGHTS = "highlights"
    TIMELAPSE = "time-lapse"


_KIND_OF_LAYOUT = {
    "compare": VideoKind.COMPARISON,
    "highlights": VideoKind.HIGHLIGHTS,
    "timelapse": VideoKind.TIMELAPSE,
}
# The files of an upload pack beside a rendered video (retroml.video.upload_pack), by name.
PACK_FILES = ("chapters", "webvtt", "thumbnail", "description")


def video_kind(artifact: dict[str, Any]) -> VideoKind:
    """The kind of a video artifact: a clip, or what its render layout made (journeys of any layout are journeys)."""
    if artifact["kind"] == "clip":
        return VideoKind.CLIP
    return _KIND_OF_LAYOUT.get((artifact.get("meta") or {}).get("layout", "single"), VideoKind.JOURNEY)
