"""The ``train`` section: one class per algorithm, chosen by ``train.algo`` (a discriminated union).

Each class holds only its algorithm's hyper-parameters, so a setting of another algorithm is refused
by name; those left unset take the RL Zoo's Atari defaults (:mod:`retroml.config.zoo`) when it is built.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    Tag,
    TypeAdapter,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from retroml.config.budget import MAX_TIMESTEPS
from retroml.config.schedules import ConstantByDefault, LinearByDefault
from retroml.config.sections import Section
from retroml.config.zoo import HYPERPARAMETERS, ZOO_ATARI_DEFAULTS

Algo = Literal["ppo", "a2c", "dqn", "qrdqn"]
ALGOS: tuple[str, ...] = ("ppo", "a2c", "dqn", "qrdqn")
ON_POLICY = ("ppo", "a2c")

_ZOO = "empty: the RL Zoo's Atari value"
_ALGO_HELP = "The learning algorithm: ppo, a2c, dqn or qrdqn; it chooses which hyper-parameters the section has."
# The Zoo's replay values assume a 10M-step budget; left empty, they shrink to a tenth of a shorter one.
_SCALED_TO_BUDGET = ("buffer_size", "learning_starts")

_DEVICE_SPELLING = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def check_device_spelling(asked: str) -> str:
    """``asked`` lower-cased and trimmed, or a :class:`ValueError` naming the valid spellings of ``train.device``."""
    device = asked.strip().lower()
    if not _DEVICE_SPELLING.match(device):
        raise ValueError(f"must be auto, cpu, cuda or cuda:N (N a GPU number, e.g. cuda:0), not '{asked}'")
    return device


class TrainConfig(Section):
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
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seeds the environments and the network initialisation.")
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


class _EverySettingSchema:
    """Pydantic's ``WithJsonSchema(_train_json_schema())``, but made when a JSON schema is asked for (the
    OpenAPI schema), not at import: the five JSON schemas took ~12 ms, as long as building the five classes,
    in every process that imports the config, and only the web app shows them."""

    def __get_pydantic_json_schema__(self, _schema: CoreSchema, _handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return _train_json_schema()


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
        _EverySettingSchema(),
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
