"""The whole run config (:class:`RunConfig`), its errors as sentences, and its YAML (``config.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from retroml.config.sections import GameConfig, RecordingConfig, RenderConfig, Section
from retroml.config.train import ALGOS, TRAIN_CLASSES, PPOConfig, TrainConfig, TrainSettings
from retroml.config.zoo import parse_yaml
from retroml.errors import InvalidInputError

DEFAULT_MILESTONES = [0, 1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


class RunConfig(Section):
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
        elif problem["type"] in ("int_parsing", "int_from_float", "float_parsing"):
            # "Input should be a valid integer, unable to parse string as an integer" says it for a programmer.
            kind = "a number" if problem["type"] == "float_parsing" else "a whole number"
            reason = f"{str(problem['input'])[:32]!r} is not {kind}"
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


def load_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a YAML file, or an :class:`InvalidInputError` saying what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInputError(f"cannot read config file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text; save it as UTF-8 and try again") from None
    try:
        data = parse_yaml(text)
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
