"""``/api/presets``: named starting points for the New run form, and each algorithm's defaults."""

from __future__ import annotations

from typing import Any, get_args

from fastapi import APIRouter

from retroml.config import ALGOS, MAX_TIMESTEPS, PRESETS, ZOO_ATARI_DEFAULTS, Layout, RunConfig, build_config
from retroml.video.renders import VIDEO_LAYOUTS

router = APIRouter(tags=["presets"])


@router.get("/presets")
def list_presets() -> list[dict[str, Any]]:
    """Each preset with its raw settings and the full config they give (every default filled in)."""
    return [
        {
            "id": key,
            "title": preset["title"],
            "description": preset["description"],
            "config": preset["config"],
            "effective": build_config(preset["config"]).model_dump(mode="json", exclude_none=True),
        }
        for key, preset in PRESETS.items()
    ]


@router.get("/defaults")
def defaults() -> dict[str, Any]:
    """What the form needs to mirror the server's validation: algorithms, limits and default values."""
    config = RunConfig()
    return {
        "algos": list(ALGOS),
        "n_envs": {algo: ZOO_ATARI_DEFAULTS[algo]["n_envs"] for algo in ALGOS},
        "zoo": ZOO_ATARI_DEFAULTS,
        "max_timesteps": MAX_TIMESTEPS,
        "layouts": list(get_args(Layout)),
        "video_layouts": list(VIDEO_LAYOUTS),
        "recording": config.recording.model_dump(mode="json"),
        "render": config.render.model_dump(mode="json"),
    }
