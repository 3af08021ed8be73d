"""The run configuration: one Pydantic model, frozen into each run's ``config.yaml``.

Hyper-parameters left unset take the RL Zoo's Atari defaults for the chosen algorithm
(rl-baselines3-zoo ``hyperparams/<algo>.yml``, ``atari`` entry), filled in when the config is built,
so the written ``config.yaml`` shows every value the run really used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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

# rl-baselines3-zoo hyperparams for the ``atari`` entry of each algorithm. DQN/QR-DQN keep a
# 100k replay buffer (the Zoo's value for DQN), which is 2.8 GB of frames at most.
ZOO_ATARI_DEFAULTS: dict[str, dict[str, Any]] = {
    "ppo": {
        "n_envs": 8,
        "n_steps": 128,
        "batch_size": 256,
        "n_epochs": 4,
        "learning_rate": 2.5e-4,
        "clip_range": 0.1,
        "ent_coef": 0.01,
        "vf_coef": 0.5,
        "gamma": 0.99,
        "gae_lambda": 0.95,
    },
    "a2c": {
        "n_envs": 16,
        "n_steps": 5,
        "learning_rate": 7e-4,
        "ent_coef": 0.01,
        "vf_coef": 0.25,
        "gamma": 0.99,
        "gae_lambda": 1.0,
    },
    "dqn": {
        "n_envs": 1,
        "batch_size": 32,
        "learning_rate": 1e-4,
        "gamma": 0.99,
        "buffer_size": 100_000,
        "learning_starts": 100_000,
        "target_update_interval": 1000,
        "train_freq": 4,
        "gradient_steps": 1,
        "exploration_fraction": 0.1,
        "exploration_final_eps": 0.01,
    },
    "qrdqn": {
        "n_envs": 1,
        "batch_size": 32,
        "learning_rate": 5e-5,
        "gamma": 0.99,
        "buffer_size": 100_000,
        "learning_starts": 100_000,
        "target_update_interval": 10_000,
        "train_freq": 4,
        "gradient_steps": 1,
        "exploration_fraction": 0.025,
        "exploration_final_eps": 0.01,
    },
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class GameConfig(_Section):
    """The game and how the emulator is presented to the agent (the DQN-paper Atari protocol).

    :param id: game id from ``retroml games`` (``pong``, ``breakout`` …).
    :param frameskip: emulator frames per agent action.
    :param noop_max: up to this many no-op actions at each reset, so episodes start differently.
    :param terminal_on_life_loss: end the *training* episode when a life is lost (the game goes on);
        episode statistics still count the whole game.
    :param repeat_action_probability: sticky actions (0 = the classic deterministic protocol).
    """

    id: str = "pong"
    frameskip: int = Field(4, ge=1, le=8)
    noop_max: int = Field(30, ge=0, le=100)
    terminal_on_life_loss: bool = True
    repeat_action_probability: float = Field(0.0, ge=0.0, le=1.0)

    @field_validator("id")
    @classmethod
    def _known_game(cls, value: str) -> str:
        return get_game(value).id


class TrainConfig(_Section):
    """The learning algorithm and its hyper-parameters; ``None`` means the RL Zoo Atari default.

    :param algo: ppo, a2c, dqn or qrdqn.
    :param total_timesteps: environment steps (agent actions, summed over envs) of this leg.
    :param n_envs: parallel emulators in the native vector env.
    :param n_steps: rollout length per env (PPO/A2C).
    :param batch_size: minibatch size; for PPO it must divide ``n_envs * n_steps``.
    :param n_epochs: passes over each rollout (PPO).
    :param learning_rate: optimiser step size (PPO anneals it linearly to 0, as the Zoo does).
    :param clip_range: PPO ratio clip (annealed linearly, as the Zoo does).
    :param ent_coef: entropy bonus weight.
    :param vf_coef: value loss weight.
    :param gamma: discount factor.
    :param gae_lambda: GAE lambda (PPO/A2C).
    :param buffer_size / learning_starts / target_update_interval / train_freq / gradient_steps /
        exploration_fraction / exploration_final_eps: the DQN-family settings.
    :param seed: seeds the environments and the network initialisation.
    :param n_threads: PyTorch CPU threads (0 = one per core).
    :param device: ``auto`` (a CUDA GPU when torch sees one, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``;
        playback always runs on the CPU, so a GPU run's checkpoints and journey work on any machine.
    :param checkpoint_every_sec: how often ``latest.zip`` is refreshed.
    :param keep_last: how many timestamped rolling checkpoints to keep besides ``latest.zip``.
    :param metrics_every_steps: metrics row interval for the DQN family (PPO/A2C log every rollout).
    :param keep_replay_buffer: DQN family: save the replay buffer with the checkpoint at the end of
        each leg and reload it on ``continue`` (its size is logged before training); off, a continued
        leg waits ``learning_starts`` timesteps again before it learns.
    """

    algo: Algo = "ppo"
    total_timesteps: int = Field(1_000_000, gt=0, le=MAX_TIMESTEPS)
    n_envs: int | None = Field(None, ge=1, le=256)
    n_steps: int | None = Field(None, ge=1)
    # SB3 normalises each minibatch's advantages: one sample has no spread (its assertion, issue #440).
    batch_size: int | None = Field(None, ge=2)
    n_epochs: int | None = Field(None, ge=1)
    learning_rate: float | None = Field(None, gt=0, le=1)
    clip_range: float | None = Field(None, gt=0, le=1)
    ent_coef: float | None = Field(None, ge=0)
    vf_coef: float | None = Field(None, ge=0)
    gamma: float | None = Field(None, gt=0, le=1)
    gae_lambda: float | None = Field(None, gt=0, le=1)
    buffer_size: int | None = Field(None, ge=1)
    learning_starts: int | None = Field(None, ge=0)
    target_update_interval: int | None = Field(None, ge=1)
    train_freq: int | None = Field(None, ge=1)
    gradient_steps: int | None = Field(None, ge=1)
    exploration_fraction: float | None = Field(None, ge=0, le=1)
    exploration_final_eps: float | None = Field(None, ge=0, le=1)
    seed: int = Field(0, ge=0)
    n_threads: int = Field(0, ge=0, le=256)
    device: str = "auto"
    checkpoint_every_sec: int = Field(300, ge=1)
    keep_last: int = Field(2, ge=0)
    metrics_every_steps: int = Field(1000, ge=1)
    keep_replay_buffer: bool = True

    @field_validator("device")
    @classmethod
    def _device_spelling(cls, value: str) -> str:
        # Only the spelling: whether this machine has the GPU is checked when a run is created
        # (engine.devices.resolve_device), so a GPU run's config still reads on a CPU-only machine.
        return check_device_spelling(value)

    @model_validator(mode="after")
    def _fill_zoo_defaults(self) -> TrainConfig:
        applicable = ZOO_ATARI_DEFAULTS[self.algo]
        batch_chosen = self.batch_size is not None
        for name, value in applicable.items():
            if getattr(self, name) is None:
                if name in _SCALED_TO_BUDGET:
                    # The Zoo's values assume a 10M-step budget; a short run must still learn.
                    value = min(value, max(self.total_timesteps // 10, 1))
                object.__setattr__(self, name, value)
        for name in _ALGO_SPECIFIC:
            if name not in applicable and getattr(self, name) is not None:
                raise ValueError(f"{name} does not apply to {self.algo}")
        if self.algo == "ppo":
            rollout = (self.n_envs or 1) * (self.n_steps or 1)
            if not batch_chosen and rollout % (self.batch_size or 1) != 0:
                object.__setattr__(self, "batch_size", _dividing_batch(rollout, self.batch_size or 2))
            if rollout % (self.batch_size or 1) != 0:
                raise ValueError(f"batch_size {self.batch_size} must divide n_envs × n_steps = {rollout}")
        return self


def _dividing_batch(rollout: int, preferred: int) -> int:
    """The largest minibatch of at least 2 samples, at most ``preferred``, that divides ``rollout``.

    3 envs × 128 steps = 384 samples do not split into the Zoo's 256: PPO takes 192 instead of
    refusing a batch size the user never chose. A rollout with no such divisor keeps ``preferred``
    (the divide rule then says why).
    """
    return next((size for size in range(min(preferred, rollout), 1, -1) if rollout % size == 0), preferred)


_SCALED_TO_BUDGET = ("buffer_size", "learning_starts")
_ALGO_SPECIFIC = (
    "n_steps",
    "batch_size",
    "n_epochs",
    "clip_range",
    "ent_coef",
    "vf_coef",
    "gae_lambda",
    "buffer_size",
    "learning_starts",
    "target_update_interval",
    "train_freq",
    "gradient_steps",
    "exploration_fraction",
    "exploration_final_eps",
)


def foreign_hyperparameters(algo: str) -> frozenset[str]:
    """The algorithm-specific settings that do not apply to ``algo`` (``n_steps`` for DQN …)."""
    return frozenset(_ALGO_SPECIFIC) - set(ZOO_ATARI_DEFAULTS[algo])


class RecordingConfig(_Section):
    """Live milestone clips and the training time-lapse, recorded while training (never on the hot path).

    :param enabled: record a clip at each milestone.
    :param fps: clip frame rate.
    :param crf: H.264 quality (lower is better and bigger; 18-28 is sensible).
    :param milestone_clip_seconds: length of each milestone clip.
    :param timelapse_fps: at most this many frames per wall-clock second, taken while the envs step, for
        the training time-lapse (0 = off).
        The picture is the agent's view of training env 0 — the newest 84×84 grey frame of its
        observation — because ale-py's native vector env gives no colour frames.
    :param timelapse_segment_minutes: the captured frames go into a new part file every this many minutes,
        so a stopped or crashed run loses at most the part being written.
    """

    enabled: bool = True
    fps: int = Field(30, ge=1, le=120)
    crf: int = Field(23, ge=0, le=51)
    milestone_clip_seconds: float = Field(10.0, ge=0, le=600)
    timelapse_fps: float = Field(0.0, ge=0, le=10)
    timelapse_segment_minutes: float = Field(10.0, gt=0, le=24 * 60)


class RenderConfig(_Section):
    """The learning-journey video.

    :param auto: render the journey automatically when training ends successfully.
    :param length: target length, e.g. ``90s``, ``3m``, ``1h30m``, ``10h``.
    :param layout: ``single`` (one game, big), ``grid`` (several milestones side by side) or ``analytics``
        (1280×720: the game beside what the policy computes — action probabilities, value, activations).
    :param resolution: output size, ``WIDTHxHEIGHT``.
    :param fps: frame rate; every rate plays the 60 Hz console at its real speed (30 shows every
        second frame, 24 two of every five).
    :param crf: H.264 quality (lower is better and bigger).
    :param preset: x264 speed preset; ``ultrafast`` renders about twice as fast as ``veryfast`` and, at the
        same crf, keeps the frames closer to the game (files about twice as large, still a few MB a minute).
    :param weighting: ``equal`` time per milestone, or ``later`` milestones shown longer.
    :param min_play_seconds: play each milestone gets at least, after its title card; a length too
        short for every milestone shows an evenly spread subset (always the first and the last).
    :param playback: ``deterministic`` policy, or ``sampled`` actions (ε-greedy for DQN) for variety.
    :param stuck_seconds: an episode with no reward for this long is reset (the HUD says so).
    :param still_seconds: an episode whose screen has not changed for this long is reset too (an agent
        that waits forever, such as one that never serves in Breakout).
    :param epsilon: share of the agent's steps played as a random action instead of the policy's, so a
        deterministic policy cannot freeze (the ε-greedy evaluation of the DQN papers does the same, with
        0.05 in Mnih et al. 2015; 0.01 changes what a viewer sees less).
    :param seed: seed of the playback games and of those random actions (same seed, same video).
    """

    auto: bool = False
    length: str = "3m"
    layout: Layout = "single"
    resolution: Resolution = "640x480"
    fps: int = Field(30, ge=10, le=60)
    crf: int = Field(23, ge=0, le=51)
    preset: str = Field("ultrafast", pattern=r"^(ultrafast|superfast|veryfast|faster|fast|medium|slow)$")
    weighting: Literal["equal", "later"] = "equal"
    min_play_seconds: float = Field(4.0, ge=0, le=600)
    playback: Literal["deterministic", "sampled"] = "deterministic"
    stuck_seconds: float = Field(20.0, gt=0, le=3600)
    still_seconds: float = Field(3.0, gt=0, le=3600)
    epsilon: float = Field(0.01, ge=0, le=1)
    seed: int = Field(0, ge=0)

    @field_validator("length")
    @classmethod
    def _valid_length(cls, value: str) -> str:
        parse_duration(value)
        return value


class RunConfig(_Section):
    """Everything a run needs; saved once as the run's frozen ``config.yaml``.

    :param name: human name (default ``<game>-<algo>-<yyyymmdd-hhmm>``).
    :param fast_mode: train at full speed with no live recording and render the journey at the end.
    """

    name: str | None = Field(None, max_length=120)
    game: GameConfig = GameConfig()
    train: TrainConfig = TrainConfig()
    milestones_pct: list[int] = Field(default_factory=lambda: list(DEFAULT_MILESTONES))
    recording: RecordingConfig = RecordingConfig()
    render: RenderConfig = RenderConfig()
    fast_mode: bool = False

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


PRESETS: dict[str, dict[str, Any]] = {
    "quick_test": {
        "title": "Quick test",
        "description": f"100k PPO steps on Pong, to see the whole pipeline: {expected_wall_text('ppo', 100_000)}.",
        "config": {
            "game": {"id": "pong"},
            "train": {"algo": "ppo", "total_timesteps": 100_000},
            "render": {"length": "1m"},
        },
    },
    "ppo_standard": {
        "title": "PPO standard",
        "description": "10M PPO steps with the RL Zoo's Atari settings: the agent learns Breakout well; "
        f"{expected_wall_text('ppo', 10_000_000)}.",
        "config": {"game": {"id": "breakout"}, "train": {"algo": "ppo", "total_timesteps": 10_000_000}},
    },
    "dqn": {
        "title": "DQN",
        "description": "2M DQN steps with a replay buffer: slower per step, often better sample efficiency; "
        f"{expected_wall_text('dqn', 2_000_000)}.",
        "config": {"game": {"id": "pong"}, "train": {"algo": "dqn", "total_timesteps": 2_000_000}},
    },
    "epic_5h": {
        "title": "Epic 5-hour",
        "description": "20M PPO steps rendered as a 5-hour learning journey, in Fast Mode; training "
        f"{expected_wall_text('ppo', 20_000_000)}.",
        "config": {
            "game": {"id": "breakout"},
            "train": {"algo": "ppo", "total_timesteps": 20_000_000},
            "fast_mode": True,
            "render": {"length": "5h"},
        },
    },
    "epic_10h": {
        "title": "Epic 10-hour",
        "description": "The 'watch an AI learn for 10 hours' format: 40M PPO steps, a 10-hour journey; training "
        f"{expected_wall_text('ppo', 40_000_000)}.",
        "config": {
            "game": {"id": "breakout"},
            "train": {"algo": "ppo", "total_timesteps": 40_000_000},
            "fast_mode": True,
            "render": {"length": "10h"},
        },
    },
}


def validation_problems(error: ValidationError) -> list[tuple[str, str]]:
    """Each refused value as ``(setting, sentence)``: the dotted setting (``train.batch_size``) and a
    sentence that names it (``train.batch_size: Input should be greater than or equal to 2``).

    The one formatter of config errors: the CLI joins the sentences, the web API puts each one at
    the form field the setting came from.
    """
    problems = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "config"
        reason = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            reason = "is not a known setting"
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

    When the fields choose an algorithm, the preset's and the file's settings that do not apply to it
    (a DQN preset's ``buffer_size`` under PPO) are dropped; what the fields and overrides set is
    validated, never dropped.
    """
    try:
        data: dict[str, Any] = preset_config(preset) if preset else {}
    except InvalidInputError as error:
        raise ComposeError(str(error), [("preset", str(error))]) from None
    if file:
        data = merge(data, file)
    chosen = _without_none(fields or {})
    algo = chosen.get("train", {}).get("algo")
    if isinstance(data.get("train"), dict) and algo in ZOO_ATARI_DEFAULTS:
        for key in foreign_hyperparameters(algo) & set(data["train"]):
            del data["train"][key]
    data = merge(data, chosen)
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
    """A named starting point: ``retroml train --preset ID``, the presets of the New run form.

    :param id: the name to ask for it by (``quick_test``).
    :param title: its human title ("Quick test").
    :param description: one line on what it trains and how long that takes.
    :param config: its own settings, which flags, form fields and ``--set`` override.
    :param effective: the full config those settings give, every default filled in.
    """

    id: str
    title: str
    description: str
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
