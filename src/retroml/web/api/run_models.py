"""Request and response bodies of ``/api/runs``, and how a :class:`TrainingConfig` becomes a :class:`RunConfig`.

Runs are answered as :class:`retroml.runs.model.Run` (one run with its lineage as :class:`RunWithBranches`), its
frozen settings as :class:`retroml.config.RunConfig`.

The body is flat where the form is flat (``game``, ``algo``, ``total_timesteps`` …) and nested where
the config is (``recording``, ``render``). Validation is :class:`RunConfig`'s own, so the web app
refuses exactly what the CLI and the desktop app refuse; each problem is reported at the body field
the user typed it in.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)  # fmt: skip

from retroml.config import (
    MAX_TIMESTEPS,
    SETTING_DESCRIPTIONS,
    Algo,
    ComposeError,
    Layout,
    RunConfig,
    compose,
    parse_budget,
    parse_duration,
)
from retroml.engine.devices import resolve_device
from retroml.errors import InvalidInputError
from retroml.runs.model import Run, RunStatus
from retroml.runs.service import ContinueMode
from retroml.video.renders import VideoLayout
from retroml.web.errors import FieldError

# Train settings the body has at its top level; the rest reach the config through ``overrides``.
TOP_LEVEL_TRAIN_FIELDS = ("algo", "total_timesteps", "n_envs", "seed", "n_threads", "device")
FORM_SUBFIELDS = ("enabled", "milestone_clip_seconds", "timelapse_fps", "auto", "length", "layout")


# The New run form sends a few short settings; bounding them keeps one request from costing
# minutes of YAML parsing (the body as a whole is capped by the guard too).
MAX_OVERRIDES = 64
Override = Annotated[str, Field(max_length=1000)]


def _budget_text(value: object) -> object:
    """A budget sent as the text the user typed (``2.5M``, ``100k``, ``20,000``), read by ``config.parse_budget``:
    the grammar and the sentences of the CLI and the desktop app, never a rounding of the browser's own."""
    if not isinstance(value, str):
        return value
    if len(value) > 64:
        raise ValueError("a budget is at most 64 characters long")
    try:
        return parse_budget(value, "budget")
    except InvalidInputError as error:
        raise ValueError(str(error)) from None


# Timesteps as a whole number or as text in the budget grammar.
Budget = Annotated[
    int,
    BeforeValidator(_budget_text),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 64, "examples": ["2.5M"]}]}),
]


# A New run form field as typed (" 8 ", "2.5M"): the config reads it in :func:`to_run_config`, so every
# problem of the form is found at once, each at its field, with the sentences the CLI and the desktop give.
Typed = Annotated[str, Field(max_length=64)]


class _Body(BaseModel):
    # JSON has no NaN or Infinity, but Python's parser reads them; no setting means either.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RecordingBody(_Body):
    """Live milestone clips; ignored (forced off) in Fast Mode."""

    enabled: bool = Field(True, description=SETTING_DESCRIPTIONS["recording.enabled"])
    milestone_clip_seconds: float | Typed = Field(
        10.0, description=SETTING_DESCRIPTIONS["recording.milestone_clip_seconds"]
    )
    timelapse_fps: float = Field(0.0, description=SETTING_DESCRIPTIONS["recording.timelapse_fps"])


class RenderBody(_Body):
    """The learning-journey video: rendered automatically at the end (always in Fast Mode), its length and layout."""

    auto: bool = Field(False, description=SETTING_DESCRIPTIONS["render.auto"])
    length: str = Field("3m", description=SETTING_DESCRIPTIONS["render.length"])
    layout: Layout = Field("single", description=SETTING_DESCRIPTIONS["render.layout"])


class TrainingConfig(_Body):
    """What the New run form sends.

    :param preset: a preset id from ``/api/presets``; the other fields override it.
    :param fast_mode: full speed, no live recording, journey rendered at the end (recording is forced off).
    :param overrides: advanced ``section.key=value`` settings, as ``retroml train --set``.
    """

    preset: str | None = None
    game: str | None = Field(None, description=SETTING_DESCRIPTIONS["game.id"])
    algo: Algo | None = Field(None, description=SETTING_DESCRIPTIONS["train.algo"])
    total_timesteps: int | Typed | None = Field(None, description=SETTING_DESCRIPTIONS["train.total_timesteps"])
    n_envs: int | Typed | None = Field(None, description=SETTING_DESCRIPTIONS["train.n_envs"])
    seed: int | Typed | None = Field(None, description=SETTING_DESCRIPTIONS["train.seed"])
    n_threads: int | Typed | None = Field(None, description=SETTING_DESCRIPTIONS["train.n_threads"])
    device: str | None = Field(
        None, max_length=16, description="auto, cpu, cuda or cuda:N (the choices of /api/estimates/devices)."
    )
    name: str | None = Field(None, max_length=200, description=SETTING_DESCRIPTIONS["name"])
    fast_mode: bool = Field(False, description=SETTING_DESCRIPTIONS["fast_mode"])
    recording: RecordingBody | None = None
    render: RenderBody | None = None
    overrides: list[Override] = Field(default_factory=list, max_length=MAX_OVERRIDES)


class ContinueBody(_Body):
    """Train a run further, as a new leg: ``finish`` its planned budget, or train ``steps`` ``more``."""

    mode: ContinueMode = Field(
        "finish", description="finish: train what is left of the plan (the run's remaining_timesteps); more: extend it."
    )
    steps: Budget | None = Field(
        None, gt=0, le=MAX_TIMESTEPS, description="With 'more': timesteps to add (default: the run's run_budget)."
    )

    @field_validator("steps")
    @classmethod
    def _steps_only_with_more(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("mode") == "finish":
            raise ValueError("'finish' trains what is left of the planned budget; send steps only with mode 'more'")
        return value


class BranchBody(_Body):
    from_milestone_pct: float = Field(
        ge=0, description="The parent's milestone to start from, as the run shows it (its pct, e.g. 50 or 2.5)."
    )
    overrides: list[Override] = Field(
        default_factory=list, max_length=MAX_OVERRIDES, description="Changed settings, as section.key=value."
    )
    steps: Budget | None = Field(
        None, gt=0, le=MAX_TIMESTEPS, description="Budget of the branch (default: the parent's)."
    )
    name: str | None = Field(None, max_length=200)


class RenderRequest(_Body):
    """A video of a run: a journey (``single``, ``grid``, ``analytics``), a ``compare`` with other runs,
    ``highlights`` or a ``timelapse`` of the training."""

    length: str | None = Field(None, description="Target length, e.g. 90s, 3m, 1h30m (default: the run's).")
    layout: VideoLayout | None = None
    compare_with: list[str] = Field(default_factory=list, description="Other runs (compare layout: 1 to 3).")
    workers: int | None = Field(None, ge=1, le=256)

    @field_validator("length")
    @classmethod
    def _valid_length(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


class RenderEstimate(BaseModel):
    """What a journey render will make, before it starts."""

    segments: int
    frames: int
    seconds: float = Field(description="Length of the video.")
    expected_bytes: int
    expected_render_seconds: float
    workers: int
    measured: bool = Field(description="The time and size come from this machine's earlier renders of this kind.")
    note: str | None = Field(None, description="Said when a short journey shows a subset of the milestones.")


class Metric(BaseModel):
    """One metrics row of a run (a column of the store's ``metrics`` table each; a test keeps them equal)."""

    id: int
    run_id: str
    leg: int
    timesteps: int
    episodes: int
    score_mean: float | None = Field(description="Mean score of the last 100 training episodes.")
    score_max: float | None = Field(description="Best episode since the previous row.")
    score_best: float | None = Field(description="Best episode of the whole run so far.")
    episode_length: float | None
    steps_per_sec: float | None
    loss: float | None
    policy_loss: float | None
    value_loss: float | None
    entropy: float | None
    explained_variance: float | None
    learning_rate: float | None
    exploration_rate: float | None
    wall_time: float
    created_at: float
    superseded: bool = Field(description="Past the checkpoint a later leg restarted from (never listed).")


class RunLogs(BaseModel):
    """The last lines of a run's ``train.log``."""

    run_id: str
    lines: list[str]


class BranchSummary(BaseModel):
    """A run branched from another, as its parent's page lists it."""

    run_id: str
    name: str
    status: RunStatus


class RunWithBranches(Run):
    """A run and the runs branched from it."""

    branches: list[BranchSummary]


def to_run_config(body: TrainingConfig) -> RunConfig:
    """The form composed as every face composes a config; a refused value raises :class:`FieldError`."""
    train = {name: getattr(body, name) for name in TOP_LEVEL_TRAIN_FIELDS}
    problems: list[tuple[str, str]] = []
    if isinstance(body.total_timesteps, str):
        try:
            train["total_timesteps"] = parse_budget(body.total_timesteps, "budget")
        except InvalidInputError as error:
            problems.append(("total_timesteps", str(error)))
            train["total_timesteps"] = None
    fields: dict[str, Any] = {
        "name": body.name.strip() if body.name and body.name.strip() else None,
        "game": {"id": body.game},
        "train": train,
        "recording": body.recording.model_dump() if body.recording else None,
        "render": body.render.model_dump() if body.render else None,
        "fast_mode": True if body.fast_mode else None,  # off keeps what the preset says
    }
    try:
        config = compose(body.preset, fields=fields, overrides=body.overrides)
    except ComposeError as error:
        # Each sentence names its setting (train.batch_size: …): typed in Overrides, nothing else would.
        problems += [(_body_field(where, body), sentence) for where, sentence in error.problems]
    if problems:
        raise FieldError(problems)
    try:
        # A GPU this machine lacks is refused at the form's Device field (service.create would refuse it too).
        resolve_device(config.train.device)
    except InvalidInputError as error:
        raise FieldError([("device", str(error))]) from None
    return config


def _body_field(setting: str, body: TrainingConfig) -> str:
    """The body field a config error belongs to (``train.n_envs`` → ``n_envs``)."""
    parts = setting.split(".")
    if parts[:1] in (["game"], ["preset"]):
        return parts[0]
    if parts[:1] == ["train"]:
        if len(parts) > 1 and parts[1] in TOP_LEVEL_TRAIN_FIELDS:
            return parts[1]
        overridden = any(assignment.strip().startswith("train.") for assignment in body.overrides)
        # A model-level train error (batch_size must divide n_envs × n_steps) is about the env count
        # unless the user changed the rollout settings themselves.
        return "overrides" if overridden else "n_envs"
    if parts[:1] in (["recording"], ["render"]) and len(parts) > 1 and parts[1] in FORM_SUBFIELDS:
        return ".".join(parts[:2])
    if parts[:1] == ["name"]:
        return "name"
    return "overrides"
