"""The data a render passes between its parts: what a checkpoint is, a frame played, what the policy computed.

Plain records with no behaviour beyond their own text, so the playback (``playback``), the painters
(``hud``, ``story``, ``analytics``) and the segment renderer (``segment``) all import them from here
and none of those needs another to know what a frame is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from retroml import milestones


@dataclass(frozen=True)
class MilestoneLabel:
    """What a checkpoint is, for the HUD and the title card (all from the run's files and metrics).

    :param milestone_pct: where the checkpoint lies in the run's current plan, in percent
        (:func:`retroml.milestones.percent` of its timesteps), not the percentage in its file name: a
        run trained "N more" reads its first leg as 0 … 50 % and its second as 60 … 100 %.
    :param timesteps: timesteps trained when it was saved.
    :param training_episodes: training episodes finished by then.
    :param training_score_mean: mean score of the last training episodes then (``None`` before any).
    :param milestone: saved at a planned milestone (``latest.zip`` is not).
    :param untrained: no update had changed the weights yet (the initial ones).
    """

    milestone_pct: float
    timesteps: int
    training_episodes: int
    training_score_mean: float | None
    milestone: bool = True
    untrained: bool = False

    @property
    def pct_text(self) -> str:
        """``10 %``, ``2.5 %`` or ``untrained``."""
        return "untrained" if self.untrained else milestones.label(self.milestone_pct)

    @property
    def trained_text(self) -> str:
        """``10 % trained`` or ``untrained`` (the HUD's first line)."""
        return self.pct_text if self.untrained else f"{self.pct_text} trained"

    def title_line(self) -> str:
        """``10 % — 200,000 steps — mean score 4.2`` (the title card's main line)."""
        score = (
            "no episode finished yet"
            if self.training_score_mean is None
            else (f"mean score {self.training_score_mean:,.1f}")
        )
        return f"{self.pct_text} — {self.timesteps:,} steps — {score}"


@dataclass(frozen=True)
class Inspection:
    """What the policy computed for one observation: the one that chose the action on screen.

    :param observation: the 4×84×84 uint8 frame stack the policy saw (as in training).
    :param action: index (in the game's action-meaning order) of the action played.
    :param scores: one number per action: probabilities (PPO/A2C, summing to 1) or Q-values (DQN,
        QR-DQN as the mean of the quantiles).
    :param value: V(s) from the critic (PPO/A2C) or the largest Q-value (DQN/QR-DQN).
    :param activations: per convolution layer, its output's mean over channels (height × width).
    """

    observation: np.ndarray
    action: int
    scores: np.ndarray
    value: float
    activations: tuple[np.ndarray, ...]


class Inspector(Protocol):
    """Chooses a playback's actions and keeps what the network computed (``analytics.PolicyInspector``)."""

    def inspect(self, observation: np.ndarray, deterministic: bool = True) -> Inspection: ...


@dataclass
class Frame:
    """One video frame and what the HUD must say about it.

    :param rgb: the console screen, 210×160×3.
    :param episode: playback episode number, starting at 1.
    :param score: the game score of this episode so far (unclipped, over all lives).
    :param best: the best episode score of this playback: the finished episodes' and this one's so far
        (never below ``score``; in a first Pong game it is the score, negative as it is).
    :param episode_frame: video frames since this episode started (0 on its first frame).
    :param note: why the last episode ended early, shown with the NEW EPISODE label ("" if it did not).
    :param inspection: what the policy computed for the observation that chose the action being played
        (only with an ``inspector``; the frames of one agent step share the same object).
    """

    rgb: np.ndarray
    episode: int
    score: float
    best: float
    episode_frame: int
    note: str = ""
    inspection: Inspection | None = None
