"""``/api/presets``: named starting points for the New run form, and each algorithm's defaults.

The config parts of both answers are the config schema's own classes (:class:`Preset`, :class:`RunConfig`,
:class:`RecordingConfig`, :class:`RenderConfig`), so a field added there reaches the form's types.
"""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter
from pydantic import BaseModel, Field

from retroml.config import (
    ALGOS,
    MAX_TIMESTEPS,
    SETTING_DESCRIPTIONS,
    Algo,
    Layout,
    Preset,
    RecordingConfig,
    RenderConfig,
    RunConfig,
    all_presets,
    zoo_defaults,
)
from retroml.video.renders import DEFAULT_LENGTHS, VIDEO_LAYOUTS, VideoLayout

router = APIRouter(tags=["presets"])


class Defaults(BaseModel):
    """What the forms show beside their fields: algorithms, default values, limits and each setting's help.

    The forms check nothing themselves: the server reads what is typed and names each refused field.
    """

    algos: list[Algo]
    n_envs: dict[Algo, int] = Field(description="Each algorithm's default number of parallel emulators.")
    zoo: dict[Algo, dict[str, int | float]] = Field(description="RL Zoo's Atari hyper-parameters of each algorithm.")
    max_timesteps: int
    layouts: list[Layout] = Field(description="The journey layouts.")
    video_layouts: list[VideoLayout] = Field(description="Every video a run can be rendered into.")
    video_lengths: dict[VideoLayout, str] = Field(
        description="The default length of the videos that do not take the run's journey length."
    )
    recording: RecordingConfig
    render: RenderConfig
    descriptions: dict[str, str] = Field(
        description="Each setting's description in the config schema by dotted name (train.n_envs): the form's help."
    )


@router.get("/presets", response_model=list[Preset])
def list_presets() -> list[Preset]:
    """Each preset with its raw settings and the full config they give (every default filled in)."""
    return all_presets()


@router.get("/defaults", response_model=Defaults)
def defaults() -> Defaults:
    """What the forms show beside their fields: algorithms, default values, limits and each setting's help."""
    config = RunConfig()
    zoo = {algo: zoo_defaults(algo) for algo in ALGOS}
    return Defaults(
        algos=list(ALGOS),
        n_envs={algo: zoo[algo]["n_envs"] for algo in ALGOS},
        zoo=zoo,
        max_timesteps=MAX_TIMESTEPS,
        layouts=list(get_args(Layout)),
        video_layouts=list(VIDEO_LAYOUTS),
        video_lengths=DEFAULT_LENGTHS,
        recording=config.recording,
        render=config.render,
        descriptions=SETTING_DESCRIPTIONS,
    )
