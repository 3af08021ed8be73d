"""``retroml``: the command-line face. It parses, calls ``runs.service`` and shows progress; nothing more.

Errors a user can cause come back as one sentence on stderr and exit code 2. Each group of commands is a
module of this package (catalogue, train, runs, render, apps); importing the package registers them all.
"""

from __future__ import annotations

import os

# Pydantic looks for plugins in the entry points of every installed package the first time a model is
# built: ~40 ms of each command's start-up on a machine with torch, Ray and their kin installed. RetroML
# uses no Pydantic plugin; a user who sets the variable keeps their choice.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")

from rich.text import Text

# Each module registers its commands, in the order `retroml --help` lists them.
# isort: off
from retroml.cli import catalogue, train, render, apps, runs  # noqa: F401

# isort: on
from retroml.cli.common import app, errors, shown

__all__ = ["app", "main"]


def main() -> None:
    """The ``retroml`` command. A full disk met anywhere (a config, a checkpoint, the index) ends in the one
    sentence every face gives for it, not a traceback."""
    from retroml.disk import is_disk_full

    try:
        app()
    except Exception as error:
        if not is_disk_full(error):
            raise
        where = getattr(error, "filename", None) or os.getcwd()
        errors.print(
            Text.assemble(
                ("error:", "red"), f" The disk holding {shown(where)} is full: free some space, then try again."
            ),
            highlight=False,
        )
        raise SystemExit(1) from None
