"""The RL Zoo's Atari hyper-parameters (``presets/zoo_atari.yaml``): each algorithm's defaults, as package data."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def package_yaml(name: str) -> dict[str, Any]:
    """A YAML data file shipped in ``retroml/presets/``."""
    return yaml.safe_load((resources.files("retroml") / "presets" / name).read_text(encoding="utf-8"))


# Each algorithm's RL Zoo Atari hyper-parameters, as the data file spells them (``lin_2.5e-4``).
ZOO_ATARI_DEFAULTS: dict[str, dict[str, Any]] = package_yaml("zoo_atari.yaml")
# Every algorithm-specific name: a setting of one algorithm that another lacks is refused by name.
HYPERPARAMETERS = frozenset(name for defaults in ZOO_ATARI_DEFAULTS.values() for name in defaults)
