"""``retroml games`` and ``retroml presets``: what there is to train."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from retroml.cli.common import (
    JsonOption,
    app,
    console,
    print_json,
)
from retroml.config import Preset, all_presets
from retroml.games import Game, action_count, all_games

if TYPE_CHECKING:
    pass


@app.command()
def games(as_json: JsonOption = False) -> None:
    """The game catalogue: id, title, difficulty, number of actions."""
    if as_json:
        print_json(all_games(), tuple[Game, ...])
        return
    table = Table("id", "title", "difficulty", "actions", "description")
    for game in all_games():
        table.add_row(game.id, game.title, game.difficulty, str(action_count(game.id)), game.description)
    console.print(table)


@app.command()
def presets(as_json: JsonOption = False) -> None:
    """The ready-made training presets (``retroml train --preset NAME``)."""
    if as_json:
        print_json(all_presets(), list[Preset])
        return
    table = Table("preset", "title", "game", "algo", "timesteps", "description")
    for preset in all_presets():
        config = preset.effective
        table.add_row(
            preset.id,
            preset.title,
            config.game.id,
            config.train.algo,
            f"{config.train.total_timesteps:,}",
            preset.description,
        )
    console.print(table)
