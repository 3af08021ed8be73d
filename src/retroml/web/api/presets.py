"""``/api/presets``: named starting points for the New run form, and each algorithm's defaults.

The config parts of both answers are the config schema's own classes (:class:`RunConfig`,
:class:`RecordingConfig`, :class:`RenderConfig`), so a field added there reaches the form's types.
"""

from __future__ import annotations

from typing import Any, get_args

from fastapi import APIRouter
from pydantic import BaseModel, Field

from retroml.config import (
    ALGOS,
    MAX_TIMESTEPS,
    PRESETS,
    ZOO_ATARI_DEFAULTS,
    Algo,
    Layout,
    RecordingConfig,
    RenderConfig,
    RunConfig,
    build_config,
)
from retroml.video.renders import VIDEO_LAYOUTS, VideoLayout

router = APIRouter(tags=["presets"])


class Preset(BaseModel):
    """A named starting point of the New run form."""

    id: str
    title: str
    description: str
    config: dict[str, Any] = Field(description="The preset's own settings; the form's fields override them.")
    effective: RunConfig = Field(description="The full config they give, every default filled in.")


class Defaults(BaseModel):
    """What the form needs to mirror the server's validation: algorithms, limits and default values."""

    algos: list[Algo]
    n_envs: dict[Algo, int] = Field(description="Each algorithm's default number of parallel emulators.")
    zoo: dict[Algo, dict[str, int | float]] = Field(description="RL Zoo's Atari hyper-parameters of each algorithm.")
    max_timesteps: int
    layouts: list[Layout] = Field(description="The journey layouts.")
    video_layouts: list[VideoLayout] = Field(description="Every video a run can be rendered into.")
    recording: RecordingConfig
    render: RenderConfig


@router.get("/presets", response_model=list[Preset])
def list_presets() -> list[Preset]:
    """Each preset with its raw settings and the full config they give (every default filled in)."""
    return [
        Preset(
            id=key,
            title=preset["title"],
            description=preset["description"],
            config=preset["config"],
            effective=build_config(preset["config"]),
        )
        for key, preset in PRESETS.items()
    ]


@router.get("/defaults", response_model=Defaults)
def defaults() -> Defaults:
    """What the form needs to mirror the server's validation: algorithms, limits and default values."""
    config = RunConfig()
    return Defaults(
        algos=list(ALGOS),
        n_envs={algo: ZOO_ATARI_DEFAULTS[algo]["n_envs"] for algo in ALGOS},
        zoo=ZOO_ATARI_DEFAULTS,
        max_timesteps=MAX_TIMESTEPS,
        layouts=list(get_args(Layout)),
        video_layouts=list(VIDEO_LAYOUTS),
        recording=config.recording,
        render=config.render,
    )
