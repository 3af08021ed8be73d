"""The SB3 callback that connects a training process to its run: metrics, heartbeats, checkpoints.

It runs inside the training loop, so everything it does per step is O(n_envs) bookkeeping; database
writes happen once per rollout (PPO/A2C) or every ``metrics_every_steps`` (DQN family), heartbeats
every few seconds, checkpoints only at milestones and every ``checkpoint_every_sec``, and a
time-lapse frame (one 84×84 copy) at most ``recording.timelapse_fps`` times per second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from retroml.config import ON_POLICY, RunConfig
from retroml.engine.checkpoints import milestone_name, save_atomic, save_rolling
from retroml.paths import RunPaths
from retroml.store import Store

logger = logging.getLogger(__name__)

HEARTBEAT_SEC = 2.0
LOG_EVERY_SEC = 10.0

MilestoneHook = Callable[[int, int, Path], None]
# (frame, timesteps, episodes, score_mean, wall time): one time-lapse frame and what training knew then.
FrameHook = Callable[[np.ndarray, int, int, float | None, float], None]


@dataclass
class Leg:
    """The stretch of training one process does: a run's first leg, or a ``continue`` after it.

    :param index: 1 for the first leg.
    :param start_timesteps: absolute timesteps when the leg starts (the counter never resets).
    :param budget: timesteps this leg trains for; milestones are percentages of it.
    :param episodes_before: finished episodes counted by earlier legs.
    """

    index: int
    start_timesteps: int
    budget: int
    episodes_before: int = 0
    milestone_targets: dict[int, int] = field(default_factory=dict)

    def plan_milestones(self, milestones_pct: list[int]) -> None:
        # A continued leg starts where the previous one ended, whose 100 % is this leg's 0 %.
        wanted = [pct for pct in milestones_pct if pct > 0 or self.index == 1]
        self.milestone_targets = {pct: self.start_timesteps + (self.budget * pct) // 100 for pct in wanted}


class RunMonitor(BaseCallback):
    """Writes a run's metrics, heartbeat and checkpoints while SB3 trains; stops on request.

    :param store: the run store the metrics and heartbeats go to.
    :param run_id: the run being trained.
    :param paths: the run's folder.
    :param config: the run's frozen config.
    :param leg: the leg being trained.
    :param stop_requested: set (by the SIGTERM handler) to end training after the current step.
    :param on_milestone: called with (milestone %, timesteps, checkpoint path) after each milestone
        save; the live clip recorder hooks in here (it must return at once).
    :param on_frame: called at most ``recording.timelapse_fps`` times per wall-clock second with the
        newest frame of training env 0's observation; the time-lapse capture hooks in here (it must
        return at once).
    """

    def __init__(
        self,
        store: Store,
        run_id: str,
        paths: RunPaths,
        config: RunConfig,
        leg: Leg,
        stop_requested: threading.Event,
        on_milestone: MilestoneHook | None = None,
        on_frame: FrameHook | None = None,
    ) -> None:
        super().__init__(verbose=0)
        self.store = store
        self.run_id = run_id
        self.paths = paths
        self.config = config
        self.leg = leg
        self.stop_requested = stop_requested
        self.on_milestone = on_milestone
        self.on_frame = on_frame if config.recording.timelapse_fps > 0 else None
        self._frame_every = 1.0 / config.recording.timelapse_fps if config.recording.timelapse_fps > 0 else 0.0
        self._next_frame = 0.0
        self.pending_milestones = sorted(leg.milestone_targets.items(), key=lambda item: item[1])
        self.episodes = leg.episodes_before
        self.recent_scores: deque[float] = deque(maxlen=100)
        self.recent_lengths: deque[int] = deque(maxlen=100)
        self.best_score: float | None = None
        self.scores_since_metrics: list[float] = []
        self.started = time.monotonic()
        self._last_heartbeat = 0.0
        self._last_log = time.monotonic()
        self._last_checkpoint = time.monotonic()
        self._last_metrics_steps = leg.start_timesteps
        self._speed_mark = (time.monotonic(), leg.start_timesteps)
        self.steps_per_sec = 0.0

    # SB3 hooks -------------------------------------------------------------------------------
    def _on_training_start(self) -> None:
        self._save_due_milestones()

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            episode = info.get("episode")
            if episode is not None:
                self._count_episode(float(episode["r"]), int(episode["l"]))
        self._save_due_milestones()
        now = time.monotonic()
        if self.on_frame is not None and now >= self._next_frame:
            self._next_frame = now + self._frame_every
            self._capture_frame()
        if now - self._last_heartbeat >= HEARTBEAT_SEC:
            self.heartbeat(now)
        if now - self._last_checkpoint >= self.config.train.checkpoint_every_sec:
            save_rolling(self.model, self.paths.checkpoints, self.config.train.keep_last)
            self._last_checkpoint = now
        if (
            self.config.train.algo not in ON_POLICY
            and self.num_timesteps - self._last_metrics_steps >= self.config.train.metrics_every_steps
        ):
            self._write_metrics()
        return not self.stop_requested.is_set()

    def _on_rollout_end(self) -> None:
        if self.config.train.algo in ON_POLICY:
            self._write_metrics()

    # bookkeeping -----------------------------------------------------------------------------
    def _count_episode(self, score: float, length: int) -> None:
        self.episodes += 1
        self.recent_scores.append(score)
        self.recent_lengths.append(length)
        self.scores_since_metrics.append(score)
        self.best_score = score if self.best_score is None else max(self.best_score, score)

    @property
    def score_mean(self) -> float | None:
        return float(np.mean(self.recent_scores)) if self.recent_scores else None

    def _save_due_milestones(self) -> None:
        while self.pending_milestones and self.num_timesteps >= self.pending_milestones[0][1]:
            milestone_pct, _target = self.pending_milestones.pop(0)
            self.save_milestone(milestone_pct)

    def save_milestone(self, milestone_pct: int) -> Path:
        path = self.paths.checkpoints / milestone_name(milestone_pct, self.num_timesteps)
        size = save_atomic(self.model, path)
        self.store.add_artifact(
            self.run_id,
            "checkpoint",
            str(path.relative_to(self.store.home)),
            milestone_pct=milestone_pct,
            timesteps=self.num_timesteps,
            episodes=self.episodes,
            leg=self.leg.index,
            size_bytes=size,
            meta={"score_mean": self.score_mean, "score_best": self.best_score},
        )
        logger.info("milestone %d %% saved at %d timesteps (%s)", milestone_pct, self.num_timesteps, path.name)
        if self.on_milestone is not None:
            self.on_milestone(milestone_pct, self.num_timesteps, path)
        return path

    def _capture_frame(self) -> None:
        observation = self.locals.get("new_obs")
        if observation is None or self.on_frame is None:
            return
        # The native env gives only (n_envs, stack, 84, 84) grey stacks, no colour frames: the newest
        # frame of env 0's stack is what the agent saw last. Copied: a queue pickles it later, on its
        # own thread, when the observation buffer may already hold the next step.
        frame = np.array(observation[0, -1], dtype=np.uint8, copy=True)
        self.on_frame(frame, self.num_timesteps, self.episodes, self.score_mean, time.time())

    def _measure_speed(self, now: float) -> None:
        mark_time, mark_steps = self._speed_mark
        if now - mark_time >= 1.0:
            self.steps_per_sec = (self.num_timesteps - mark_steps) / (now - mark_time)
            self._speed_mark = (now, self.num_timesteps)

    def heartbeat(self, now: float | None = None) -> None:
        """Tell the store this process is alive, with the latest progress."""
        now = time.monotonic() if now is None else now
        self._measure_speed(now)
        self._last_heartbeat = now
        self.store.update_run(
            self.run_id,
            heartbeat_at=time.time(),
            timesteps=self.num_timesteps,
            episodes=self.episodes,
            score_mean=self.score_mean,
            score_best=self.best_score,
            steps_per_sec=self.steps_per_sec,
        )
        if now - self._last_log >= LOG_EVERY_SEC:
            self._last_log = now
            done = self.num_timesteps - self.leg.start_timesteps
            logger.info(
                "timesteps %d (%.1f %% of leg %d), %.0f steps/s, episodes %d, mean score %s",
                self.num_timesteps,
                100.0 * min(done / self.leg.budget, 1.0),
                self.leg.index,
                self.steps_per_sec,
                self.episodes,
                "n/a" if self.score_mean is None else f"{self.score_mean:.2f}",
            )

    def _write_metrics(self) -> None:
        self._measure_speed(time.monotonic())
        values: dict[str, Any] = dict(self.model.logger.name_to_value)
        entropy_loss = values.get("train/entropy_loss")
        row = {
            "leg": self.leg.index,
            "timesteps": self.num_timesteps,
            "episodes": self.episodes,
            "score_mean": self.score_mean,
            "score_max": max(self.scores_since_metrics) if self.scores_since_metrics else None,
            "episode_length": float(np.mean(self.recent_lengths)) if self.recent_lengths else None,
            "steps_per_sec": self.steps_per_sec or None,
            "loss": _number(values.get("train/loss")),
            "policy_loss": _number(values.get("train/policy_gradient_loss") or values.get("train/policy_loss")),
            "value_loss": _number(values.get("train/value_loss")),
            "entropy": None if entropy_loss is None else -float(entropy_loss),
            "explained_variance": _number(values.get("train/explained_variance")),
            "learning_rate": _number(values.get("train/learning_rate")),
            "exploration_rate": _number(values.get("rollout/exploration_rate")),
            "wall_time": time.monotonic() - self.started,
        }
        self.scores_since_metrics = []
        self._last_metrics_steps = self.num_timesteps
        self.store.add_metrics(self.run_id, row)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if np.isnan(number) else number
