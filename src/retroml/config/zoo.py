"""The RL Zoo's Atari hyper-parameters (``presets/zoo_atari.yaml``): each algorithm's defaults, as package data.

Here too the one YAML reader of the config package (:func:`parse_yaml`), for this file, the presets and each
run's ``config.yaml``.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

# libyaml's parser where PyYAML was built with it (its wheels are): the documents ``yaml.safe_load`` reads, read
# about ten times faster. The pure-Python one took 7-11 ms for each of these small files and for each run's
# config.yaml: more than all the config classes, on every command that reads a run.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """What ``yaml.safe_load(text)`` gives (the same values, the same errors), through libyaml when PyYAML has it."""
    return yaml.load(text, Loader=_SAFE_LOADER)


def package_yaml(name: str) -> dict[str, Any]:
    """A YAML data file shipped in ``retroml/presets/``."""
    return parse_yaml((resources.files("retroml") / "presets" / name).read_text(encoding="utf-8"))


# Each algorithm's RL Zoo Atari hyper-parameters, as the data file spells them (``lin_2.5e-4``).
ZOO_ATARI_DEFAULTS: dict[str, dict[str, Any]] = package_yaml("zoo_atari.yaml")
# Every algorithm-specific name: a setting of one algorithm that another lacks is refused by name.
HYPERPARAMETERS = frozenset(name for defaults in ZOO_ATARI_DEFAULTS.values() for name in defaults)
