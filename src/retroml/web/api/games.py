"""``/api/games``: the catalogue, and a small frame of each game for the run cards.

A game is answered as :class:`retroml.games.Game` itself: its fields are the schema.
"""

from __future__ import annotations

import io
from functools import lru_cache

from fastapi import APIRouter, Response

from retroml.games import Game, all_games, get_game

router = APIRouter(tags=["games"])

# About two seconds of attract mode: the first frames of most ROMs are black.
THUMBNAIL_FRAMES = 120
THUMBNAIL_WIDTH = 80


@router.get("/games", response_model=list[Game])
def list_games() -> tuple[Game, ...]:
    """Every single-player game ale-py ships, featured ones first."""
    return all_games()


@router.get("/games/{game_id}/thumbnail", responses={200: {"content": {"image/png": {}}}})
def game_thumbnail(game_id: str) -> Response:
    """A PNG frame of the game (unknown ids: 422 with a suggestion)."""
    png = _thumbnail(get_game(game_id).id)
    return Response(content=png, media_type="image/png", headers={"Cache-Control": "max-age=86400"})


@lru_cache(maxsize=128)
def _thumbnail(game_id: str) -> bytes:
    from ale_py import ALEInterface, LoggerMode, roms
    from PIL import Image

    ale = ALEInterface()
    ale.setLoggerMode(LoggerMode.Error)
    rom = roms.get_rom_path(game_id)
    assert rom is not None, f"ale-py lists {game_id} but ships no ROM for it"
    ale.loadROM(rom)
    for _ in range(THUMBNAIL_FRAMES):
        ale.act(ale.getMinimalActionSet()[0])
    image = Image.fromarray(ale.getScreenRGB())
    height = round(image.height * THUMBNAIL_WIDTH / image.width)
    buffer = io.BytesIO()
    image.resize((THUMBNAIL_WIDTH, height)).save(buffer, format="PNG")
    return buffer.getvalue()
