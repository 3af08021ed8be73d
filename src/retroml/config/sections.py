"""The plain sections of a run's config: the game, the live recording, the journey video."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from retroml.config.budget import parse_duration
from retroml.games import get_game

Layout = Literal["single", "grid", "analytics"]
Resolution = Literal["640x480", "854x480", "1280x720", "1920x1080"]


# Every section refuses an unknown setting by name and validates a value assigned after it is built.
class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class GameConfig(Section):
    """The game and how the emulator is presented to the agent (the DQN-paper Atari protocol)."""

    id: str = Field("pong", description="Game id from `retroml games` (pong, breakout …).")
    frameskip: int = Field(4, ge=1, le=8, description="Emulator frames per agent action.")
    noop_max: int = Field(
        30, ge=0, le=100, description="Up to this many no-op actions at each reset, so episodes start differently."
    )
    terminal_on_life_loss: bool = Field(
        True,
        description="End the training episode when a life is lost (the game goes on); "
        "episode statistics still count the whole game.",
    )
    repeat_action_probability: float = Field(
        0.0, ge=0.0, le=1.0, description="Sticky actions (0 = the classic deterministic protocol)."
    )

    @field_validator("id")
    @classmethod
    def _known_game(cls, value: str) -> str:
        return get_game(value).id


class RecordingConfig(Section):
    """Live milestone clips and the training time-lapse, recorded while training (never on the hot path)."""

    enabled: bool = Field(True, description="Record a clip at each milestone.")
    fps: int = Field(30, ge=1, le=120, description="Clip frame rate.")
    crf: int = Field(23, ge=0, le=51, description="H.264 quality (lower is better and bigger; 18-28 is sensible).")
    milestone_clip_seconds: float = Field(10.0, ge=0, le=600, description="Length of each milestone clip.")
    timelapse_fps: float = Field(
        0.0,
        ge=0,
        le=10,
        description="At most this many frames per wall-clock second, taken while the envs step, for the training "
        "time-lapse (0 = off). The picture is the agent's view of training env 0 (its newest 84×84 grey frame), "
        "because ale-py's native vector env gives no colour frames.",
    )
    timelapse_segment_minutes: float = Field(
        10.0,
        gt=0,
        le=24 * 60,
        description="The captured frames go into a new part file every this many minutes, so a stopped or "
        "crashed run loses at most the part being written.",
    )


class RenderConfig(Section):
    """The learning-journey video."""

    auto: bool = Field(False, description="Render the journey automatically when training ends successfully.")
    length: str = Field("3m", description="Target length, e.g. 90s, 3m, 1h30m, 10h.")
    layout: Layout = Field(
        "single",
        description="single (one game, big), grid (several milestones side by side) or analytics (1280×720: the "
        "game beside what the policy computes — action probabilities, value, activations).",
    )
    resolution: Resolution = Field("640x480", description="Output size, WIDTHxHEIGHT.")
    fps: int = Field(
        30,
        ge=10,
        le=60,
        description="Frame rate; every rate plays the 60 Hz console at its real speed (30 shows every second "
        "frame, 24 two of every five).",
    )
    crf: int = Field(23, ge=0, le=51, description="H.264 quality (lower is better and bigger).")
    preset: str = Field(
        "ultrafast",
        pattern=r"^(ultrafast|superfast|veryfast|faster|fast|medium|slow)$",
        description="x264 speed preset; ultrafast renders about twice as fast as veryfast and, at the same crf, "
        "keeps the frames closer to the game (files about twice as large, still a few MB a minute).",
    )
    weighting: Literal["equal", "later"] = Field(
        "equal", description="equal time per milestone, or later milestones shown longer."
    )
    min_play_seconds: float = Field(
        4.0,
        ge=0,
        le=600,
        description="Play each milestone gets at least, after its title card; a length too short for every "
        "milestone shows an evenly spread subset (always the first and the last).",
    )
    playback: Literal["deterministic", "sampled"] = Field(
        "deterministic", description="deterministic policy, or sampled actions (ε-greedy for DQN) for variety."
    )
    stuck_seconds: float = Field(
        20.0, gt=0, le=3600, description="An episode with no reward for this long is reset (the HUD says so)."
    )
    still_seconds: float = Field(
        3.0,
        gt=0,
        le=3600,
        description="An episode whose screen has not changed for this long is reset too (an agent that waits "
        "forever, such as one that never serves in Breakout).",
    )
    epsilon: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Share of the agent's steps played as a random action instead of the policy's, so a "
        "deterministic policy cannot freeze (ε-greedy evaluation as in the DQN papers, which use 0.05; 0.01 "
        "changes what a viewer sees less).",
    )
    seed: int = Field(
        0, ge=0, description="Seed of the playback games and of those random actions (same seed, same video)."
    )

    @field_validator("length")
    @classmethod
    def _valid_length(cls, value: str) -> str:
        parse_duration(value)
        return value
