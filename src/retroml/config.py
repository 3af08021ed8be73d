"""The run configuration: one Pydantic model, frozen into each run's ``config.yaml``.

``train`` is one class per algorithm (:class:`PPOConfig`, :class:`A2CConfig`, :class:`DQNConfig`,
:class:`QRDQNConfig`), chosen by ``train.algo``, so each holds only the hyper-parameters its algorithm has.
Those left unset take the RL Zoo's Atari defaults (``presets/zoo_atari.yaml``, the ``atari`` entry of
rl-baselines3-zoo ``hyperparams/<algo>.yml``), filled in when the config is built, so the written
``config.yaml`` shows every value the run really used. The presets are data too (``presets/presets.yaml``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    Tag,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from retroml.engine.devices import check_device_spelling
from retroml.errors import InvalidInputError
from retroml.games import get_game

Algo = Literal["ppo", "a2c", "dqn", "qrdqn"]
Layout = Literal["single", "grid", "analytics"]
Resolution = Literal["640x480", "854x480", "1280x720", "1920x1080"]
ALGOS: tuple[str, ...] = ("ppo", "a2c", "dqn", "qrdqn")
ON_POLICY = ("ppo", "a2c")

# A budget beyond this would train for weeks on a CPU; it is a typo, not a plan.
MAX_TIMESTEPS = 1_000_000_000
DEFAULT_MILESTONES = [0, 1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


def _package_yaml(name: str) -> dict[str, Any]:
    """A YAML data file shipped in ``retroml/presets/``."""
    return yaml.safe_load((resources.files("retroml") / "presets" / name).read_text(encoding="utf-8"))


# Each algorithm's RL Zoo Atari hyper-parameters, as the data file spells them (``lin_2.5e-4``).
ZOO_ATARI_DEFAULTS: dict[str, dict[str, Any]] = _package_yaml("zoo_atari.yaml")
# Every algorithm-specific name: a setting of one algorithm that another lacks is refused by name.
HYPERPARAMETERS = frozenset(name for defaults in ZOO_ATARI_DEFAULTS.values() for name in defaults)


@dataclass(frozen=True)
class Schedule:
    """A value over a leg, as the RL Zoo spells it: ``lin_2.5e-4`` anneals from 2.5e-4 to 0, ``2.5e-4`` is constant.

    ``const_2.5e-4`` is constant too. The engine turns it into SB3's own schedule
    (:func:`retroml.engine.algos.sb3_value`).
    """

    initial: float
    linear: bool = False

    def spelled(self, bare_is_linear: bool) -> str | float:
        """The shortest spelling that reads back as this schedule (a bare number when it can be)."""
        if self.linear == bare_is_linear:
            return self.initial
        return f"{'lin' if self.linear else 'const'}_{self.initial!r}"


_SCHEDULE = re.compile(r"^(?:(?P<kind>lin|const)_)?(?P<number>[^_].*)$")


def parse_schedule(value: Any, bare_is_linear: bool = False) -> Schedule:
    """The one reader of a schedule: ``lin_X``, ``const_X`` or a number (``Schedule`` passes through).

    :param bare_is_linear: what a bare number means. PPO's ``learning_rate`` and ``clip_range`` were
        always annealed linearly, and configs written before schedules were spelled out say a bare
        number there; it keeps that meaning, so those configs train the same model.
    """
    if isinstance(value, Schedule):
        return value
    match = _SCHEDULE.match(str(value).strip()) if not isinstance(value, bool) else None
    try:
        initial = float(match["number"]) if match else math.nan
    except ValueError:
        initial = math.nan
    if match is None or math.isnan(initial):
        raise ValueError(f"'{value}' is not a schedule; write a number such as 2.5e-4, or lin_2.5e-4 to anneal it to 0")
    if not 0 < initial <= 1:
        raise ValueError(f"'{value}' must start above 0 and at most at 1")
    linear = match["kind"] == "lin" if match["kind"] else bare_is_linear
    return Schedule(initial, linear)


_SCHEDULE_SCHEMA = WithJsonSchema(
    {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^(lin|const)_[0-9.eE+-]+$"}]}
)
# A bare number is constant, as in the RL Zoo.
ConstantByDefault = Annotated[
    Schedule, PlainValidator(parse_schedule), PlainSerializer(lambda s: s.spelled(False)), _SCHEDULE_SCHEMA
]
# A bare number anneals to 0: the meaning PPO's learning rate and clip range always had here.
LinearByDefault = Annotated[
    Schedule,
    PlainValidator(lambda value: parse_schedule(value, bare_is_linear=True)),
    PlainSerializer(lambda s: s.spelled(True)),
    _SCHEDULE_SCHEMA,
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class GameConfig(_Section):
    """The game and how the emulator is presented to the agent (the DQN-paper Atari protocol)."""

    id: str = Field("pong", description="Game id from `retroml games` (pong, breakout …).")
    frameskip: int = Field(4, ge=1, le=8, description="Emulator frames per agent action.")
    noop_max: int = Field(
        30, ge=0, le=100, description="Up to this many no-op actions at each reset, so episodes start differently."
    )
    terminal_on_life_loss: bool = Field(
        True,
        description="End the training episode when a life is lost (the game goes on); "
        "episode statistics still count the whole game.",
    )
    repeat_action_probability: float = Field(
        0.0, ge=0.0, le=1.0, description="Sticky actions (0 = the classic deterministic protocol)."
    )

    @field_validator("id")
    @classmethod
    def _known_game(cls, value: str) -> str:
        return get_game(value).id


_ZOO = "empty: the RL Zoo's Atari value"
_ALGO_HELP = "The learning algorithm: ppo, a2c, dqn or qrdqn; it chooses which hyper-parameters the section has."
# The Zoo's replay values assume a 10M-step budget; left empty, they shrink to a tenth of a shorter one.
_SCALED_TO_BUDGET = ("buffer_size", "learning_starts")


class TrainConfig(_Section):
    """What every algorithm's ``train`` section has: the budget, the machine, checkpoints.

    Each algorithm's class adds its hyper-parameters; one left empty takes the RL Zoo Atari default
    (``presets/zoo_atari.yaml``) when the config is built.
    """

    algo: Algo = Field("ppo", description=_ALGO_HELP)
    total_timesteps: int = Field(
        1_000_000,
        gt=0,
        le=MAX_TIMESTEPS,
        description="Environment steps (agent actions, summed over the environments) of this leg.",
    )
    n_envs: int | None = Field(None, ge=1, le=256, description=f"Parallel emulators in the vector env ({_ZOO}).")
    learning_rate: ConstantByDefault | None = Field(
        None,
        description="Optimiser step size: lin_X anneals it linearly from X to 0, a number keeps it constant "
        f"(PPO reads a number as lin_X, its meaning before schedules; const_X keeps it) ({_ZOO}).",
    )
    gamma: float | None = Field(None, gt=0, le=1, description=f"Discount factor ({_ZOO}).")
    seed: int = Field(0, ge=0, description="Seeds the environments and the network initialisation.")
    n_threads: int = Field(0, ge=0, le=256, description="PyTorch CPU threads (0 = one per core).")
    device: str = Field(
        "auto",
        description="auto (a CUDA GPU when torch sees one, else the CPU), cpu, cuda or cuda:N; playback always "
        "runs on the CPU, so a GPU run's checkpoints and journey work on any machine.",
    )
    checkpoint_every_sec: int = Field(300, ge=1, description="How often latest.zip is refreshed, in seconds.")
    keep_last: int = Field(2, ge=0, description="Timestamped rolling checkpoints kept besides latest.zip.")
    metrics_every_steps: int = Field(
        1000, ge=1, description="Metrics row interval of the DQN family (PPO and A2C log every rollout)."
    )
    keep_replay_buffer: bool = Field(
        True,
        description="DQN family: save the replay buffer with the checkpoint at the end of each leg and reload it "
        "on continue; off, a continued leg waits learning_starts timesteps again before it learns.",
    )

    # Hyper-parameters each class derives itself when left empty (they depend on other values).
    _derived: ClassVar[frozenset[str]] = frozenset()

    @field_validator("device")
    @classmethod
    def _device_spelling(cls, value: str) -> str:
        # Only the spelling: whether this machine has the GPU is checked when a run is created
        # (engine.devices.resolve_device), so a GPU run's config still reads on a CPU-only machine.
        return check_device_spelling(value)

    @model_validator(mode="before")
    @classmethod
    def _zoo_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        algo = data.get("algo")
        if not isinstance(algo, str) or algo not in ZOO_ATARI_DEFAULTS:
            algo = cls.model_fields["algo"].default  # the class's own Literal then names the choices
        for name, value in data.items():
            if name in HYPERPARAMETERS and name not in cls.model_fields and value is not None:
                raise ValueError(f"{name} does not apply to {algo}")
        given = {name: value for name, value in data.items() if value is not None}
        defaults = {name: value for name, value in ZOO_ATARI_DEFAULTS[algo].items() if name not in cls._derived}
        return defaults | given

    def hyperparameter_names(self) -> list[str]:
        """The SB3 constructor arguments this algorithm's config holds (its Zoo entry but ``n_envs``)."""
        return [name for name in ZOO_ATARI_DEFAULTS[self.algo] if name != "n_envs"]


class OnPolicyConfig(TrainConfig):
    """What PPO and A2C share: a rollout of ``n_steps`` per environment and an actor-critic loss."""

    n_steps: int | None = Field(None, ge=1, description=f"Rollout length per environment ({_ZOO}).")
    ent_coef: float | None = Field(None, ge=0, description=f"Entropy bonus weight ({_ZOO}).")
    vf_coef: float | None = Field(None, ge=0, description=f"Value loss weight ({_ZOO}).")
    gae_lambda: float | None = Field(None, gt=0, le=1, description=f"GAE lambda ({_ZOO}).")


class PPOConfig(OnPolicyConfig):
    """PPO's ``train`` section; its learning rate and clip range anneal linearly to 0, as the Zoo's do."""

    algo: Literal["ppo"] = Field("ppo", description=_ALGO_HELP)
    learning_rate: LinearByDefault | None = Field(
        None, description=f"Optimiser step size; a number anneals linearly to 0, const_X keeps it ({_ZOO})."
    )
    # SB3 normalises each minibatch's advantages: one sample has no spread (its assertion, issue #440).
    batch_size: int | None = Field(
        None,
        ge=2,
        description="Minibatch size; it must divide n_envs × n_steps (empty: the largest up to the Zoo's "
        "that divides it).",
    )
    n_epochs: int | None = Field(None, ge=1, description=f"Passes over each rollout ({_ZOO}).")
    clip_range: LinearByDefault | None = Field(
        None, description=f"Policy ratio clip; a number anneals linearly to 0, const_X keeps it ({_ZOO})."
    )

    _derived: ClassVar[frozenset[str]] = frozenset({"batch_size"})

    @model_validator(mode="after")
    def _batch_divides_rollout(self) -> PPOConfig:
        rollout = (self.n_envs or 1) * (self.n_steps or 1)
        if self.batch_size is None:
            zoo = int(ZOO_ATARI_DEFAULTS["ppo"]["batch_size"])
            object.__setattr__(self, "batch_size", _dividing_batch(rollout, zoo))
        if rollout % (self.batch_size or 1) != 0:
            raise ValueError(f"batch_size {self.batch_size} must divide n_envs × n_steps = {rollout}")
        return self


class A2CConfig(OnPolicyConfig):
    """A2C's ``train`` section (the Zoo's TF-style RMSprop is set by the engine)."""

    algo: Literal["a2c"] = Field("a2c", description=_ALGO_HELP)


class DQNConfig(TrainConfig):
    """The DQN family's ``train`` section (DQN and QR-DQN): a replay buffer and ε-greedy exploration."""

    algo: Literal["dqn", "qrdqn"] = Field("dqn", description=_ALGO_HELP)

    batch_size: int | None = Field(None, ge=2, description=f"Minibatch size ({_ZOO}).")
    buffer_size: int | None = Field(
        None, ge=1, description="Replay buffer transitions (empty: the Zoo's, at most a tenth of the budget)."
    )
    learning_starts: int | None = Field(
        None, ge=0, description="Timesteps before learning starts (empty: the Zoo's, at most a tenth of the budget)."
    )
    target_update_interval: int | None = Field(
        None, ge=1, description=f"Timesteps between target network updates ({_ZOO})."
    )
    train_freq: int | None = Field(None, ge=1, description=f"Timesteps between gradient updates ({_ZOO}).")
    gradient_steps: int | None = Field(None, ge=1, description=f"Gradient steps per update ({_ZOO}).")
    exploration_fraction: float | None = Field(
        None, ge=0, le=1, description=f"Share of the budget over which ε falls to its final value ({_ZOO})."
    )
    exploration_final_eps: float | None = Field(None, ge=0, le=1, description=f"Final ε of exploration ({_ZOO}).")

    _derived: ClassVar[frozenset[str]] = frozenset(_SCALED_TO_BUDGET)

    @model_validator(mode="after")
    def _replay_fits_the_budget(self) -> DQNConfig:
        for name in _SCALED_TO_BUDGET:
            if getattr(self, name) is None:
                zoo = int(ZOO_ATARI_DEFAULTS[self.algo][name])
                object.__setattr__(self, name, min(zoo, max(self.total_timesteps // 10, 1)))
        return self


TRAIN_CLASSES: dict[str, type[TrainConfig]] = {
    "ppo": PPOConfig,
    "a2c": A2CConfig,
    "dqn": DQNConfig,
    "qrdqn": DQNConfig,
}


def _algo_of(data: Any) -> str:
    """The tag of a ``train`` section: its ``algo`` (PPO when it says none, the schema's default)."""
    algo = data.get("algo") if isinstance(data, dict) else getattr(data, "algo", None)
    return "ppo" if algo is None else str(algo)


def _train_json_schema() -> dict[str, Any]:
    """One schema of every algorithm's settings (each once, with its description) for the OpenAPI schema.

    The web app's types need no class per algorithm, and one schema keeps the generated types from
    repeating the settings the classes share.
    """
    properties: dict[str, Any] = {}
    classes: list[type[TrainConfig]] = [TrainConfig, *TRAIN_CLASSES.values()]
    for cls in classes:
        for name, schema in cls.model_json_schema()["properties"].items():
            properties.setdefault(name, schema)
    return {"title": "TrainConfig", "description": TrainConfig.__doc__, "type": "object", "properties": properties}


# The discriminated union itself: train.algo chooses the class (PPO when the section names none).
_TRAIN_UNION: TypeAdapter[PPOConfig | A2CConfig | DQNConfig] = TypeAdapter(
    Annotated[
        Annotated[PPOConfig, Tag("ppo")]
        | Annotated[A2CConfig, Tag("a2c")]
        | Annotated[DQNConfig, Tag("dqn")]
        | Annotated[DQNConfig, Tag("qrdqn")],
        Discriminator(_algo_of),
    ]
)
if TYPE_CHECKING:
    TrainSettings = PPOConfig | A2CConfig | DQNConfig
else:
    # RunConfig.train validates through the union and is dumped by its own class; to Pydantic the field's
    # type is opaque, so the OpenAPI schema holds only the one schema of every algorithm's settings, and
    # the generated types do not repeat the settings the classes share.
    TrainSettings = Annotated[
        Any,
        PlainValidator(_TRAIN_UNION.validate_python),
        PlainSerializer(lambda train, info: train.model_dump(mode=info.mode, exclude_none=info.exclude_none)),
        WithJsonSchema(_train_json_schema()),
    ]


def _dividing_batch(rollout: int, preferred: int) -> int:
    """The largest minibatch of at least 2 samples, at most ``preferred``, that divides ``rollout``.

    3 envs × 128 steps = 384 samples do not split into the Zoo's 256: PPO takes 192 instead of
    refusing a batch size the user never chose. A rollout with no such divisor keeps ``preferred``
    (the divide rule then says why).
    """
    return next((size for size in range(min(preferred, rollout), 1, -1) if rollout % size == 0), preferred)


def zoo_defaults(algo: str) -> dict[str, Any]:
    """``algo``'s RL Zoo defaults as a written config says them (for the forms: numbers, not schedules)."""
    train = TRAIN_CLASSES[algo].model_validate({"algo": algo, "total_timesteps": MAX_TIMESTEPS})
    return train.model_dump(mode="json", include=set(ZOO_ATARI_DEFAULTS[algo]))


class RecordingConfig(_Section):
    """Live milestone clips and the training time-lapse, recorded while training (never on the hot path)."""

    enabled: bool = Field(True, description="Record a clip at each milestone.")
    fps: int = Field(30, ge=1, le=120, description="Clip frame rate.")
    crf: int = Field(23, ge=0, le=51, description="H.264 quality (lower is better and bigger; 18-28 is sensible).")
    milestone_clip_seconds: float = Field(10.0, ge=0, le=600, description="Length of each milestone clip.")
    timelapse_fps: float = Field(
        0.0,
        ge=0,
        le=10,
        description="At most this many frames per wall-clock second, taken while the envs step, for the training "
        "time-lapse (0 = off). The picture is the agent's view of training env 0 (its newest 84×84 grey frame), "
        "because ale-py's native vector env gives no colour frames.",
    )
    timelapse_segment_minutes: float = Field(
        10.0,
        gt=0,
        le=24 * 60,
        description="The captured frames go into a new part file every this many minutes, so a stopped or "
        "crashed run loses at most the part being written.",
    )


class RenderConfig(_Section):
    """The learning-journey video."""

    auto: bool = Field(False, description="Render the journey automatically when training ends successfully.")
    length: str = Field("3m", description="Target length, e.g. 90s, 3m, 1h30m, 10h.")
    layout: Layout = Field(
        "single",
        description="single (one game, big), grid (several milestones side by side) or analytics (1280×720: the "
        "game beside what the policy computes — action probabilities, value, activations).",
    )
    resolution: Resolution = Field("640x480", description="Output size, WIDTHxHEIGHT.")
    fps: int = Field(
        30,
        ge=10,
        le=60,
        description="Frame rate; every rate plays the 60 Hz console at its real speed (30 shows every second "
        "frame, 24 two of every five).",
    )
    crf: int = Field(23, ge=0, le=51, description="H.264 quality (lower is better and bigger).")
    preset: str = Field(
        "ultrafast",
        pattern=r"^(ultrafast|superfast|veryfast|faster|fast|medium|slow)$",
        description="x264 speed preset; ultrafast renders about twice as fast as veryfast and, at the same crf, "
        "keeps the frames closer to the game (files about twice as large, still a few MB a minute).",
    )
    weighting: Literal["equal", "later"] = Field(
        "equal", description="equal time per milestone, or later milestones shown longer."
    )
    min_play_seconds: float = Field(
        4.0,
        ge=0,
        le=600,
        description="Play each milestone gets at least, after its title card; a length too short for every "
        "milestone shows an evenly spread subset (always the first and the last).",
    )
    playback: Literal["deterministic", "sampled"] = Field(
        "deterministic", description="deterministic policy, or sampled actions (ε-greedy for DQN) for variety."
    )
    stuck_seconds: float = Field(
        20.0, gt=0, le=3600, description="An episode with no reward for this long is reset (the HUD says so)."
    )
    still_seconds: float = Field(
        3.0,
        gt=0,
        le=3600,
        description="An episode whose screen has not changed for this long is reset too (an agent that waits "
        "forever, such as one that never serves in Breakout).",
    )
    epsilon: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Share of the agent's steps played as a random action instead of the policy's, so a "
        "deterministic policy cannot freeze (ε-greedy evaluation as in the DQN papers, which use 0.05; 0.01 "
        "changes what a viewer sees less).",
    )
    seed: int = Field(
        0, ge=0, description="Seed of the playback games and of those random actions (same seed, same video)."
    )

    @field_validator("length")
    @classmethod
    def _valid_length(cls, value: str) -> str:
        parse_duration(value)
        return value


class RunConfig(_Section):
    """Everything a run needs; saved once as the run's frozen ``config.yaml``."""

    name: str | None = Field(
        None, max_length=120, description="Human name of the run (default: <game>-<algo>-<yyyymmdd-hhmm>)."
    )
    game: GameConfig = Field(GameConfig(), description="The game and the emulator protocol.")
    train: TrainSettings = Field(
        PPOConfig(), description="The algorithm (train.algo) and its hyper-parameters, the budget, checkpoints."
    )
    milestones_pct: list[int] = Field(
        default_factory=lambda: list(DEFAULT_MILESTONES),
        description="Percentages of the budget at which a milestone checkpoint (and clip) is taken.",
    )
    recording: RecordingConfig = Field(RecordingConfig(), description="Live clips and the time-lapse.")
    render: RenderConfig = Field(RenderConfig(), description="The learning-journey video.")
    fast_mode: bool = Field(
        False, description="Train at full speed with no live recording and render the journey at the end."
    )

    @field_validator("milestones_pct")
    @classmethod
    def _valid_milestones(cls, value: list[int]) -> list[int]:
        if any(pct < 0 or pct > 100 for pct in value):
            raise ValueError("every milestone must be between 0 and 100 %")
        return sorted(set(value))

    @model_validator(mode="after")
    def _fast_mode_rules(self) -> RunConfig:
        if self.fast_mode:
            object.__setattr__(self.recording, "enabled", False)
            object.__setattr__(self.recording, "milestone_clip_seconds", 0.0)
            object.__setattr__(self.recording, "timelapse_fps", 0.0)
            object.__setattr__(self.render, "auto", True)
        return self


def _setting_descriptions() -> dict[str, str]:
    sections: dict[str, list[type[BaseModel]]] = {
        "game": [GameConfig],
        "train": [TrainConfig, *TRAIN_CLASSES.values()],
        "recording": [RecordingConfig],
        "render": [RenderConfig],
    }
    found = {name: field.description or "" for name, field in RunConfig.model_fields.items() if name not in sections}
    for section, classes in sections.items():
        for cls in classes:
            for name, field in cls.model_fields.items():
                found.setdefault(f"{section}.{name}", field.description or "")
    return found


# Each setting's ``Field(description=...)`` by dotted name (``train.n_envs``): the help every face shows
# (the CLI's option help, the web form's help lines through /api/defaults, the OpenAPI schema).
SETTING_DESCRIPTIONS: dict[str, str] = _setting_descriptions()

_BUDGET = re.compile(r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)(?P<suffix>[kmb]?)$")
_BUDGET_SUFFIXES = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def parse_budget(text: str, label: str = "total timesteps") -> int:
    """A budget in timesteps: ``100000``, ``1_000_000``, ``20,000``, ``100k``, ``2.5M``, ``2e6``.

    The one budget grammar of every face (the CLI's ``--steps``/``--more``, the desktop dialogs).
    The value must be a whole number from 1 to ``MAX_TIMESTEPS`` (the limit ``TrainConfig`` sets);
    anything else is one :class:`InvalidInputError` sentence that starts with ``label``.
    """
    cleaned = text.strip().lower().replace("_", "").replace(",", "").replace(" ", "")
    match = _BUDGET.match(cleaned)
    limit = f"{MAX_TIMESTEPS:,}"
    if match is None:
        if cleaned.lstrip("+-") in ("inf", "infinity"):
            if cleaned.startswith("-"):
                raise InvalidInputError(f"{label} '{text}' must be positive")
            raise InvalidInputError(f"{label} '{text}' is more than the {limit} timesteps a run can train")
        raise InvalidInputError(
            f"{label} '{text}' is not a number of timesteps; write a whole number up to {limit}, "
            "e.g. 500000, 500k, 2.5M or 2e6"
        )
    # Decimal, not float: 1e400 stays a number to compare, and 2.5M is exactly 2,500,000.
    number = Decimal(match["number"])
    if number <= 0:
        raise InvalidInputError(f"{label} '{text}' must be positive")
    # The exponent first: 1e999999k would overflow Decimal's arithmetic before the comparison.
    value = number * _BUDGET_SUFFIXES[match["suffix"]] if number.adjusted() < 12 else number
    if value > MAX_TIMESTEPS:
        raise InvalidInputError(f"{label} '{text}' is more than the {limit} timesteps a run can train")
    if value < 1 or value != value.to_integral_value():
        raise InvalidInputError(f"{label} '{text}' must be a whole number of timesteps")
    return int(value)


_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_duration(text: str) -> float:
    """Seconds in a duration like ``45s``, ``3m``, ``1h30m`` or a bare number of seconds."""
    cleaned = text.strip().lower().replace(" ", "")
    try:
        seconds = float(cleaned)
    except ValueError:
        match = _DURATION.match(cleaned)
        if not cleaned or not match or not any(match.groups()):
            raise ValueError(f"'{text}' is not a duration; write e.g. 90s, 3m, 1h30m or 10h") from None
        hours, minutes, secs = (float(part) if part else 0.0 for part in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if not math.isfinite(seconds) or seconds <= 0 or seconds > 24 * 3600:
        raise ValueError(f"duration '{text}' must be more than 0 and at most 24h")
    return seconds


# Timesteps per second on the reference machine (2 CPU cores, quiet, torch CPU build, each algorithm's
# default environments): PPO from benchmarks/learning_check.py (500k steps in 21.6 min), A2C and DQN
# from benchmarks/speed_truth.py (450 and 237; DQN measured with 4 envs), QR-DQN guessed 10 % under DQN.
# The first guess of runs.train_estimate before a machine has measured itself, and the presets' CPU times.
REFERENCE_STEPS_PER_SEC = {"ppo": 386.0, "a2c": 450.0, "dqn": 237.0, "qrdqn": 215.0}
REFERENCE_CORES = 2
# Not measured (no GPU here): PPO's update is 70-75 % of its CPU wall time; ~10x faster on a mid-range
# GPU with the emulators unchanged gives ~2.5x the CPU rate.
GPU_SPEEDUP_GUESS = 2.5


def _about(seconds: float) -> str:
    return f"{max(round(seconds / 60), 1)} min" if seconds < 90 * 60 else f"{round(seconds / 3600)} h"


def expected_wall_text(algo: str, timesteps: int) -> str:
    """``about 4 min on a 2-core CPU, about 2 min on a GPU (estimated)``: what a preset says it takes."""
    cpu = timesteps / REFERENCE_STEPS_PER_SEC[algo]
    return (
        f"about {_about(cpu)} on a {REFERENCE_CORES}-core CPU, "
        f"about {_about(cpu / GPU_SPEEDUP_GUESS)} on a GPU (estimated)"
    )


def _load_presets() -> dict[str, dict[str, Any]]:
    presets = _package_yaml("presets.yaml")
    for preset in presets.values():
        train = preset["config"]["train"]
        preset["description"] = preset["description"].format(
            wall=expected_wall_text(train["algo"], train["total_timesteps"])
        )
    return presets


# Each preset: its title, a one-line description (with the expected training time) and its own settings.
PRESETS: dict[str, dict[str, Any]] = _load_presets()


def validation_problems(error: ValidationError) -> list[tuple[str, str]]:
    """Each refused value as ``(setting, sentence)``: the dotted setting (``train.batch_size``) and a
    sentence that names it (``train.batch_size: Input should be greater than or equal to 2``).

    The one formatter of config errors: the CLI joins the sentences, the web API puts each one at
    the form field the setting came from.
    """
    problems = []
    for problem in error.errors():
        loc = list(problem["loc"])
        if loc[:1] == ["train"] and len(loc) > 1 and loc[1] in ALGOS:
            del loc[1]  # the union's tag: train.dqn.batch_size is train.batch_size
        reason = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            reason = "is not a known setting"
        elif problem["type"] == "union_tag_invalid":
            loc.append("algo")
            reason = f"Input should be {', '.join(map(repr, ALGOS[:-1]))} or {ALGOS[-1]!r}"
        field = ".".join(str(part) for part in loc) or "config"
        problems.append((field, f"{field}: {reason}"))
    return problems


def describe_validation_error(error: ValidationError) -> str:
    """One sentence per problem: the field's dotted name and the reason."""
    return "; ".join(sentence for _field, sentence in validation_problems(error))


def build_config(data: dict[str, Any]) -> RunConfig:
    """Validate ``data`` into a :class:`RunConfig`, or raise one readable :class:`InvalidInputError`."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as error:
        raise InvalidInputError(f"invalid config — {describe_validation_error(error)}") from None


class ComposeError(InvalidInputError):
    """A config that could not be composed: every problem as ``(where, sentence)``.

    ``where`` is ``preset``, ``overrides`` or the dotted setting refused (``game.id``, ``train.batch_size``),
    so the web form puts each sentence at its field; ``str(error)`` is the one sentence a terminal shows.
    """

    def __init__(self, message: str, problems: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.problems = problems


def compose(
    preset: str | None = None,
    *,
    file: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
    overrides: Sequence[str] = (),
) -> RunConfig:
    """The one way every face builds a run's config: preset → config file → the face's fields → overrides.

    :param preset: a preset id (its settings are the base), or ``None``.
    :param file: the mapping of a YAML config file (``retroml train --config``), over the preset.
    :param fields: what the face's own fields say (flags, form fields), nested as the config is;
        ``None`` values are left out, so an empty field keeps the preset's value.
    :param overrides: ``section.key=value`` assignments (``--set``, the forms' Overrides), applied last.
    :raises ComposeError: with each problem and where it came from.

    A setting the chosen algorithm does not have (``n_steps`` under DQN), wherever it comes from, is
    refused by name: ``train`` is the algorithm's own class.
    """
    try:
        data: dict[str, Any] = preset_config(preset) if preset else {}
    except InvalidInputError as error:
        raise ComposeError(str(error), [("preset", str(error))]) from None
    if file:
        data = merge(data, file)
    data = merge(data, _without_none(fields or {}))
    game = data.get("game")
    if isinstance(game, dict) and "id" in game:
        try:
            get_game(str(game["id"]))
        except InvalidInputError as error:
            raise ComposeError(str(error), [("game.id", str(error))]) from None
    for assignment in overrides:
        try:
            data = apply_assignment(data, assignment)
        except InvalidInputError as error:
            raise ComposeError(str(error), [("overrides", str(error))]) from None
    try:
        return RunConfig.model_validate(data)
    except ValidationError as error:
        message = f"invalid config — {describe_validation_error(error)}"
        raise ComposeError(message, validation_problems(error)) from None


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without its ``None`` values (and without sections left empty by that)."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _without_none(value)
            if value:
                kept[key] = value
        elif value is not None:
            kept[key] = value
    return kept


def preset_config(preset: str) -> dict[str, Any]:
    """The raw config dict of a preset (a copy, safe to modify)."""
    if preset not in PRESETS:
        raise InvalidInputError(f"unknown preset '{preset}'; presets: {', '.join(PRESETS)}")
    return _deep_copy(PRESETS[preset]["config"])


class Preset(BaseModel):
    """A named starting point: ``retroml train --preset ID``, the presets of the New run form."""

    id: str = Field(description="The name to ask for it by (quick_test).")
    title: str = Field(description="Its human title (Quick test).")
    description: str = Field(description="One line on what it trains and how long that takes.")
    config: dict[str, Any] = Field(description="The preset's own settings; flags and form fields override them.")
    effective: RunConfig = Field(description="The full config they give, every default filled in.")


def all_presets() -> list[Preset]:
    """Every preset, in the order the pickers show them."""
    return [
        Preset(
            id=key,
            title=preset["title"],
            description=preset["description"],
            config=_deep_copy(preset["config"]),
            effective=build_config(preset["config"]),
        )
        for key, preset in PRESETS.items()
    ]


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {key: _deep_copy(value) if isinstance(value, dict) else value for key, value in data.items()}


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated section by section with ``override`` (nested dicts merge, values replace)."""
    merged = _deep_copy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_assignment(data: dict[str, Any], assignment: str) -> dict[str, Any]:
    """Apply one ``section.key=value`` override (value parsed as YAML: ``1e-4``, ``true``, ``[0, 50]``)."""
    if "=" not in assignment:
        raise InvalidInputError(f"'{assignment}' is not an override; write it as section.key=value")
    dotted, _, raw = assignment.partition("=")
    keys = [key for key in dotted.strip().split(".") if key]
    if not keys:
        raise InvalidInputError(f"'{assignment}' names no setting; write it as section.key=value")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    section = getattr(RunConfig.model_fields.get(keys[0]), "default", None)
    if len(keys) == 1 and isinstance(section, BaseModel) and not isinstance(value, dict):
        example = f"{keys[0]}.{next(iter(type(section).model_fields))}=…"
        raise InvalidInputError(f"'{assignment}' replaces the whole {keys[0]} section; set one setting, e.g. {example}")
    override: dict[str, Any] = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        override = {key: override}
    return merge(data, override)


def load_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a YAML file, or an :class:`InvalidInputError` saying what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInputError(f"cannot read config file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text; save it as UTF-8 and try again") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise InvalidInputError(f"{path} is not valid YAML{line}; fix it and try again") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path} must hold a mapping of sections (game:, train: …), not a list or value")
    return data


def to_yaml(config: RunConfig) -> str:
    """The config as the YAML written to ``config.yaml``: every value, including filled-in defaults."""
    return yaml.safe_dump(config.model_dump(mode="json", exclude_none=True), sort_keys=False)


def read_config(path: Path) -> RunConfig:
    """Load a run's frozen ``config.yaml``."""
    return build_config(load_yaml(path))
