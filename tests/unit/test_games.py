"""The game catalogue."""

import importlib.metadata
import subprocess
import sys

import pytest

from retroml import game_actions
from retroml.errors import InvalidInputError
from retroml.games import (
    action_count,
    action_meanings,
    all_games,
    get_game,
    loaded_minimal_action_set,
    minimal_action_set,
)


def test_every_ale_rom_is_trainable_and_the_six_are_featured_first() -> None:
    games = all_games()
    assert len(games) >= 100
    assert [game.id for game in games[:6]] == [
        "pong",
        "breakout",
        "space_invaders",
        "frogger",
        "ms_pacman",
        "asteroids",
    ]
    assert all(game.featured and game.description for game in games[:6])
    assert get_game("Ms-Pacman").title == "Ms. Pac-Man"
    assert get_game("montezuma_revenge").title == "Montezuma Revenge"


def test_unknown_game_sentence() -> None:
    with pytest.raises(InvalidInputError) as caught:
        get_game("breakot")
    assert str(caught.value) == "unknown game 'breakot' — did you mean 'breakout'? (`retroml games` lists all)"


def test_action_meanings_are_the_games_own() -> None:
    assert action_meanings("breakout") == ("NOOP", "FIRE", "RIGHT", "LEFT")
    assert len(action_meanings("ms_pacman")) == 9


def test_listing_every_game_with_its_action_count_loads_no_rom() -> None:
    # The table of minimal action sets answers for the installed ale-py: ale_py is not even imported.
    script = (
        "import sys; from retroml.games import action_count, all_games; "
        "counts = [action_count(game.id) for game in all_games()]; print(len(counts), 'ale_py' in sys.modules)"
    )
    listed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert listed.stdout.split() == [str(len(all_games())), "False"]


def test_the_recorded_action_sets_are_what_ale_says_after_loading_the_rom() -> None:
    # All 104 are checked by tests/integration/test_game_actions.py; here the ones users train most.
    assert game_actions.ALE_PY_VERSION == importlib.metadata.version("ale-py")
    for game_id in ("pong", "breakout", "ms_pacman"):
        assert minimal_action_set(game_id) == loaded_minimal_action_set(game_id)
    assert action_count("ms_pacman") == 9


def test_another_ale_py_version_is_asked_by_loading_the_rom(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(game_actions, "ALE_PY_VERSION", "0.0.0")
    monkeypatch.setitem(game_actions.MINIMAL_ACTION_SETS, "breakout", (0,))
    minimal_action_set.cache_clear()
    try:
        assert minimal_action_set("breakout") == (0, 1, 3, 4)
    finally:
        minimal_action_set.cache_clear()
