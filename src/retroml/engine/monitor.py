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
from retroml.store import PatientWriter, Store

logger = logging.getLogger(__name__)

HEARTBEAT_SEC = 2.0
LOG_EVERY_SEC = 10.0
# Steps/s and the ETA average over at least this long and at least this many whole collect+update
# cycles. Short enough that the one-off start (layouts and thread counts measured in the first
# updates, DQN's fast steps before learning_starts) leaves the number within seconds; a 30 s window
# kept it, and a 37 s run on CI's shared cores showed 0.57-0.89x its real pace from 25 % to the end.
SPEED_WINDOW_SEC = 10.0
SPEED_WINDOW_CYCLES = 3

MilestoneHook = Callable[[int, int, Path], None]
# (frame, timesteps, episodes, score_mean, wall time): one time-lapse frame and what training knew then.
FrameHook = Callable[[np.ndarray, int, int, float | None, float], None]


@dataclass
class Leg:
    """The stretch of training one process does: a run's first leg, or a ``continue`` after it.

    :param index: 1 for the first leg.
    :param start_timesteps: absolute timesteps when the leg starts (the counter never resets).
    :param budget: timesteps this leg trains for.
    :param milestone_targets: the milestones this leg saves: {planned %: absolute timesteps}.
    :param episodes_before / score_best_before / score_mean_before / seconds_before: what earlier
        legs of the run had counted, so scores, episodes and training time carry across legs.
    """

    index: int
    start_timesteps: int
    budget: int
    milestone_targets: dict[int, int] = field(default_factory=dict)
    episodes_before: int = 0
    score_best_before: float | None = None
    score_mean_before: float | None = None
    seconds_before: float = 0.0


class SpeedMeter:
    """Timesteps per second over whole collect+update cycles: the last ``window_sec`` of them, and at
    least ``window_cycles`` cycles when they are longer.

    Marked at the start of every rollout (after the previous update), so a rollout is never
    measured without its update: a window inside either one would read 3-4x off.
    """

    def __init__(self, window_sec: float = SPEED_WINDOW_SEC, window_cycles: int = SPEED_WINDOW_CYCLES) -> None:
        self.window_sec = window_sec
        self.window_cycles = window_cycles
        self.marks: deque[tuple[float, int]] = deque()

    def mark(self, now: float, timesteps: int) -> None:
        self.marks.append((now, timesteps))
        # Keep the newest mark that is at least a window old, so the span covers the whole window,
        # and never fewer than window_cycles cycles (window_cycles + 1 marks).
        while len(self.marks) > self.window_cycles + 1 and now - self.marks[1][0] >= self.window_sec:
            self.marks.popleft()

    @property
    def steps_per_sec(self) -> float | None:
        if len(self.marks) < 2:
            return None
        (first_time, first_steps), (last_time, last_steps) = self.marks[0], self.marks[-1]
        if last_time <= first_time:
            return None
        return (last_steps - first_steps) / (last_time - first_time)


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
    :param writer: where the writes go (a busy database delays them, never ends training).
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
        writer: PatientWriter | None = None,
    ) -> None:
        super().__init__(verbose=0)
        self.store = store
        self.writes = writer or PatientWriter(store)
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
        self.best_score: float | None = leg.score_best_before
        self.scores_since_metrics: list[float] = []
        self.started = time.monotonic()
        self._last_heartbeat = 0.0
        self._last_log = time.monotonic()
        self._last_checkpoint = time.monotonic()
        self._last_metrics_steps = leg.start_timesteps
        self._updates_seen = 0
        self.speed = SpeedMeter()

    # SB3 hooks -------------------------------------------------------------------------------
    def _on_training_start(self) -> None:
        self.started = time.monotonic()
        self._updates_seen = _updates(self.model)
        self._save_due_milestones()

    def _on_rollout_start(self) -> None:
        # A rollout starts right after the previous update: a whole cycle ends here, and the
        # logger holds the losses of the update that has just run.
        self.speed.mark(time.monotonic(), self.num_timesteps)
        if self._update_due():
            self._write_metrics()

    def _on_training_end(self) -> None:
        self.speed.mark(time.monotonic(), self.num_timesteps)
        if _updates(self.model) > self._updates_seen or self.num_timesteps > self._last_metrics_steps:
            self._write_metrics()

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
        return not self.stop_requested.is_set()

    def _update_due(self) -> bool:
        """A metrics row after every update (PPO/A2C) or every ``metrics_every_steps`` (DQN family)."""
        if self.config.train.algo in ON_POLICY:
            return _updates(self.model) > self._updates_seen
        # The DQN family updates every few steps and may not learn at all yet (learning_starts).
        return self.num_timesteps - self._last_metrics_steps >= self.config.train.metrics_every_steps

    # bookkeeping -----------------------------------------------------------------------------
    def _count_episode(self, score: float, length: int) -> None:
        self.episodes += 1
        self.recent_scores.append(score)
        self.recent_lengths.append(length)
        self.scores_since_metrics.append(score)
        self.best_score = score if self.best_score is None else max(self.best_score, score)

    @property
    def score_mean(self) -> float | None:
        """Mean of the last 100 episodes; until this leg finishes one, what the run had before."""
        return float(np.mean(self.recent_scores)) if self.recent_scores else self.leg.score_mean_before

    @property
    def steps_per_sec(self) -> float | None:
        return self.speed.steps_per_sec

    @property
    def train_seconds(self) -> float:
        """Training time over all legs of the run."""
        return self.leg.seconds_before + time.monotonic() - self.started

    def _save_due_milestones(self) -> None:
        # The leg's last milestone waits for the end of training (the worker saves it): reached in
        # the middle of the last rollout, it would miss the update that follows and so not hold the
        # run's final weights.
        end = self.leg.start_timesteps + self.leg.budget
        while (
            self.pending_milestones
            and self.num_timesteps >= self.pending_milestones[0][1]
            and self.pending_milestones[0][1] < end
        ):
            milestone_pct, _target = self.pending_milestones.pop(0)
            self.save_milestone(milestone_pct)

    def save_milestone(self, milestone_pct: int) -> Path:
        path = self.paths.checkpoints / milestone_name(milestone_pct, self.num_timesteps)
        size = save_atomic(self.model, path)
        self.writes.add_artifact(
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

    def heartbeat(self, now: float | None = None) -> None:
        """Tell the store this process is alive, with the latest progress."""
        now = time.monotonic() if now is None else now
        self._last_heartbeat = now
        self.writes.update_run(
            self.run_id,
            heartbeat_at=time.time(),
            timesteps=self.num_timesteps,
            episodes=self.episodes,
            score_mean=self.score_mean,
            score_best=self.best_score,
            steps_per_sec=self.steps_per_sec,
            train_seconds=self.train_seconds,
        )
        if now - self._last_log >= LOG_EVERY_SEC:
            self._last_log = now
            done = self.num_timesteps - self.leg.start_timesteps
            logger.info(
                "timesteps %d (%.1f %% of leg %d), %s steps/s, episodes %d, mean score %s",
                self.num_timesteps,
                100.0 * min(done / self.leg.budget, 1.0),
                self.leg.index,
                "n/a" if self.steps_per_sec is None else f"{self.steps_per_sec:.0f}",
                self.episodes,
                "n/a" if self.score_mean is None else f"{self.score_mean:.2f}",
            )

    def _write_metrics(self) -> None:
        self._updates_seen = _updates(self.model)
        values: dict[str, Any] = dict(self.model.logger.name_to_value)
        entropy_loss = values.get("train/entropy_loss")
        row = {
            "leg": self.leg.index,
            "timesteps": self.num_timesteps,
            "episodes": self.episodes,
            "score_mean": self.score_mean,
            "score_max": max(self.scores_since_metrics) if self.scores_since_metrics else None,
            "score_best": self.best_score,
            "episode_length": float(np.mean(self.recent_lengths)) if self.recent_lengths else None,
            "steps_per_sec": self.steps_per_sec,
            "loss": _number(values.get("train/loss")),
            "policy_loss": _number(values.get("train/policy_gradient_loss") or values.get("train/policy_loss")),
            "value_loss": _number(values.get("train/value_loss")),
            "entropy": None if entropy_loss is None else -float(entropy_loss),
            "explained_variance": _number(values.get("train/explained_variance")),
            "learning_rate": _number(values.get("train/learning_rate")),
            "exploration_rate": _number(values.get("rollout/exploration_rate")),
            "wall_time": self.train_seconds,
        }
        self.scores_since_metrics = []
        self._last_metrics_steps = self.num_timesteps
        self.writes.add_metrics(self.run_id, row)


def _updates(model: Any) -> int:
    """How many gradient updates SB3 has made (its own counter, saved with the model)."""
    return int(getattr(model, "_n_updates", 0))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if np.isnan(number) else number
