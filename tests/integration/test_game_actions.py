"""The recorded minimal action sets (``retroml/game_actions.py``) against ALE itself, every game."""

from __future__ import annotations

import importlib.metadata

import pytest

from retroml import game_actions
from retroml.games import all_games, loaded_minimal_action_set


@pytest.mark.expensive
def test_every_games_recorded_action_set_is_what_ale_gives_after_loading_its_rom() -> None:
    if game_actions.ALE_PY_VERSION != importlib.metadata.version("ale-py"):
        pytest.skip("the table is of another ale-py: regenerate it with scripts/gen_game_actions.py")
    assert sorted(game_actions.MINIMAL_ACTION_SETS) == sorted(game.id for game in all_games())
    wrong = {
        game_id: (recorded, loaded)
        for game_id, recorded in game_actions.MINIMAL_ACTION_SETS.items()
        if (loaded := loaded_minimal_action_set(game_id)) != recorded
    }
    assert not wrong, f"regenerate with scripts/gen_game_actions.py; recorded vs ALE: {wrong}"
