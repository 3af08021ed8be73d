"""The game catalogue."""

import pytest

from retroml.errors import InvalidInputError
from retroml.games import action_meanings, all_games, get_game


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
