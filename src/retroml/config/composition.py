"""Composing a run's config the one way every face does: preset → config file → fields → overrides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from retroml.config.presets import deep_copy, preset_config
from retroml.config.run import RunConfig, describe_validation_error, validation_problems
from retroml.errors import InvalidInputError
from retroml.games import get_game


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


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated section by section with ``override`` (nested dicts merge, values replace)."""
    merged = deep_copy(base)
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
