"""The game catalogue: every ROM that ale-py ships, by a short snake_case id (``pong``, ``ms_pacman``).

ale-py bundles the ROMs in its wheel, so nothing is downloaded. Six games are featured with a title,
a difficulty and a one-line description; the rest get a title made from their id.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from retroml import game_actions
from retroml.errors import InvalidInputError


@dataclass(frozen=True)
class Game:
    """One trainable Atari game.

    :param id: short id used everywhere (``space_invaders``); the ale-py ROM name.
    :param title: human title ("Space Invaders").
    :param difficulty: how hard it is for an RL agent: easy, medium, hard, or "unrated".
    :param description: one line on what the agent has to learn ("" for games not featured).
    :param featured: shown first in the pickers.
    """

    id: str
    title: str
    difficulty: str
    description: str
    featured: bool


_FEATURED: dict[str, tuple[str, str, str]] = {
    "pong": ("Pong", "easy", "Return the ball past the CPU paddle; first to 21 wins."),
    "breakout": ("Breakout", "easy", "Bounce the ball to break the wall of bricks, one paddle, five lives."),
    "space_invaders": ("Space Invaders", "medium", "Shoot the descending alien rows before they land."),
    "frogger": ("Frogger", "medium", "Hop the frog across traffic and a river of logs to its home."),
    "ms_pacman": ("Ms. Pac-Man", "hard", "Eat every pellet in the maze while four ghosts hunt you."),
    "asteroids": ("Asteroids", "hard", "Rotate, thrust and shoot to split asteroids without a collision."),
}


# ale-py ships these ROMs for its multi-agent mode only; loading them single-player makes ALE exit the
# process (checked on ale-py 0.12.1 by loading every ROM in a subprocess).
_MULTIPLAYER_ONLY = frozenset({"combat", "joust", "maze_craze", "warlords"})


def _title_from_id(game_id: str) -> str:
    return " ".join(part.capitalize() for part in game_id.split("_"))


def _rom_ids() -> set[str]:
    """The ROM ids ale-py ships, read from its ``roms/md5.json`` as ``ale_py.roms.get_all_rom_ids`` does.

    Read without importing ``ale_py``: that loads numpy and gymnasium (about half a second), which a
    command that only lists runs or checks a game id has no use for.
    """
    spec = importlib.util.find_spec("ale_py")
    assert spec is not None and spec.origin is not None, "ale-py is a dependency of retroml"
    hashes = json.loads((Path(spec.origin).parent / "roms" / "md5.json").read_text())
    return {name.split(".")[0] for name in hashes}


@cache
def all_games() -> tuple[Game, ...]:
    """Every single-player game ale-py ships, featured ones first (in the order above), then alphabetical."""
    rom_ids = _rom_ids() - _MULTIPLAYER_ONLY
    featured = [
        Game(game_id, title, difficulty, description, True)
        for game_id, (title, difficulty, description) in _FEATURED.items()
        if game_id in rom_ids
    ]
    others = [
        Game(game_id, _title_from_id(game_id), "unrated", "", False) for game_id in sorted(rom_ids - _FEATURED.keys())
    ]
    return (*featured, *others)


def get_game(game_id: str) -> Game:
    """The game with this id, or an :class:`InvalidInputError` suggesting the closest id."""
    normalised = game_id.strip().lower().replace("-", "_").replace(" ", "_")
    for game in all_games():
        if game.id == normalised:
            return game
    ids = [game.id for game in all_games()]
    import difflib  # only for a mistyped id: the commands that start quickly do not pay its import

    close = difflib.get_close_matches(normalised, ids, n=1)
    hint = f" — did you mean '{close[0]}'?" if close else ""
    raise InvalidInputError(f"unknown game '{game_id}'{hint} (`retroml games` lists all)")


@cache
def action_meanings(game_id: str) -> tuple[str, ...]:
    """The names of this game's minimal action set, in the order the agent's action index uses."""
    from ale_py import Action

    return tuple(Action(index).name for index in minimal_action_set(game_id))


def action_count(game_id: str) -> int:
    """How many actions the agent chooses from in this game (its minimal action set), without ``ale_py``."""
    return len(minimal_action_set(game_id))


@cache
def minimal_action_set(game_id: str) -> tuple[int, ...]:
    """ALE's action indices of this game's minimal action set.

    Read from :mod:`retroml.game_actions`, what the installed ale-py answered when the table was made:
    loading a ROM takes ALE about 0.2 s, so listing the 104 games by loading each took 20 s. Another
    ale-py version, or a game the table lacks, is asked by loading its ROM.
    """
    game = get_game(game_id).id
    if _ale_py_version() == game_actions.ALE_PY_VERSION and game in game_actions.MINIMAL_ACTION_SETS:
        return game_actions.MINIMAL_ACTION_SETS[game]
    return loaded_minimal_action_set(game)


def loaded_minimal_action_set(game_id: str) -> tuple[int, ...]:
    """The minimal action set as ALE gives it after loading the game's ROM (what the table records)."""
    from ale_py import ALEInterface, LoggerMode, roms

    ale = ALEInterface()
    ale.setLoggerMode(LoggerMode.Error)
    rom = roms.get_rom_path(game_id)
    assert rom is not None, f"ale-py lists {game_id} but ships no ROM for it"
    ale.loadROM(rom)
    return tuple(action.value for action in ale.getMinimalActionSet())


@cache
def _ale_py_version() -> str:
    import importlib.metadata  # ~20 ms to import (email, zipfile …): paid only by the commands that ask

    return importlib.metadata.version("ale-py")
