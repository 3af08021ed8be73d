"""Where the CPU goes while training: torch's threads during rollouts and during gradient updates.

Two phases take turns. A rollout runs the policy on a handful of observations between two steps of the
native env, whose own C++ threads emulate the games; an update runs forward and backward passes on
minibatches. torch's OpenMP threads spin for a while after each parallel region, and on a busy machine
(2 cores shared with the emulator threads, or with other work) a barrier waits for a thread that is not
even scheduled: measured on this 2-core machine under load, one torch thread did a PPO minibatch update
2.6× faster than two, a batch-of-8 forward pass 9-19× faster. On an idle machine two threads win the update.
No fixed number is right everywhere, so each phase *measures*: it tries one thread and all of them,
keeps the faster (a moving average of seconds per call), and re-tries the other now and then, because
the load of a shared machine changes. The thread count does not change what is computed, only how
fast, so learning is the same.

The algorithm classes below are SB3's with that placement and with rollouts under
``torch.inference_mode`` (SB3 uses ``no_grad``; inference mode also skips autograd's version counters).
They also compute updates the faster way :mod:`retroml.engine.fast_updates` describes (the same
arithmetic). They save exactly what SB3's classes save, so a stock ``PPO.load()`` / ``DQN.load()`` reads their
checkpoints without RetroML.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from sb3_contrib import QRDQN
from stable_baselines3 import A2C, DQN, PPO

from retroml.engine.fast_updates import keep_freed_memory, layout_trials, speed_up

# A phase re-measures the thread count it is not using after this many calls (PPO updates every 1,024
# steps, DQN every 4), then twice as late each time the measurement confirms the choice: a probe of
# the wrong count costs one slow call, and a shown steps/s must not jump with every probe.
PROBE_EVERY = 64
MAX_PROBE_INTERVAL = 1024
# Weight of the newest call in the moving average of seconds per call.
SMOOTHING = 0.3


class PhaseThreads:
    """Chooses torch's thread count for one phase (rollouts or updates) by timing its calls.

    :param most: the largest thread count to try (the run's ``train.n_threads``, or one per core).
    :param probe_every: calls between two measurements of the count not in use.
    """

    def __init__(self, most: int, probe_every: int = PROBE_EVERY) -> None:
        self.candidates = sorted({1, max(1, most)})
        self.probe_every = probe_every
        self.seconds_per_call: dict[int, float] = {}
        self.calls = 0
        self._warm = False
        self.chosen: int | None = None
        self._probe_interval = probe_every
        self._next_probe = probe_every

    def best(self) -> int:
        """The count in use: the faster one once both were measured (the most threads before that)."""
        return self.chosen if self.chosen is not None else self.candidates[-1]

    def next_count(self) -> int:
        unmeasured = [count for count in self.candidates if count not in self.seconds_per_call]
        if unmeasured:
            return unmeasured[0]
        if self.chosen is not None and self.calls >= self._next_probe and len(self.candidates) > 1:
            return next(count for count in self.candidates if count != self.chosen)
        return self.best()

    def record(self, count: int, seconds: float) -> None:
        if not self._warm:
            # The first call builds oneDNN's kernels and the buffers: it would blame the first count.
            self._warm = True
            return
        self.calls += 1
        previous = self.seconds_per_call.get(count)
        probe = self.chosen is not None and count != self.chosen
        # A probe's last measurement is old news (the machine's load changes): it is replaced, not blended.
        self.seconds_per_call[count] = (
            seconds if previous is None or probe else (1 - SMOOTHING) * previous + SMOOTHING * seconds
        )
        if len(self.seconds_per_call) < len(self.candidates):
            return
        if self.chosen is None:
            self.chosen = min(self.seconds_per_call, key=self.seconds_per_call.__getitem__)
        elif probe:
            # The choice changes only here, never because the count in use had a slow spell against an
            # old number of the other: a slow count costs one slow call per probe, so a probe that
            # confirms the choice doubles the wait before the next one, and one that changes it starts over.
            if self.seconds_per_call[count] < self.seconds_per_call[self.chosen]:
                self.chosen = count
                self._probe_interval = self.probe_every
            else:
                self._probe_interval = min(MAX_PROBE_INTERVAL, 2 * self._probe_interval)
            self._next_probe = self.calls + self._probe_interval

    @contextmanager
    def timed(self) -> Iterator[int]:
        """Run the block with the chosen thread count, time it and restore the previous count."""
        count = self.next_count()
        previous = torch.get_num_threads()
        torch.set_num_threads(count)
        trials = layout_trials()
        started = time.perf_counter()
        try:
            yield count
        finally:
            # A call in which the convolutions still timed their layouts says little of this count.
            if layout_trials() == trials:
                self.record(count, time.perf_counter() - started)
            torch.set_num_threads(previous)


class ThreadPlacementMixin:
    """Rollouts and updates each on their measured thread count; rollouts under inference mode."""

    rollout_threads: PhaseThreads
    update_threads: PhaseThreads

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        most = torch.get_num_threads()
        self.rollout_threads = PhaseThreads(most)
        self.update_threads = PhaseThreads(most)

    def _setup_model(self) -> None:
        super()._setup_model()  # type: ignore[misc]
        speed_up(self.policy)  # type: ignore[attr-defined]
        keep_freed_memory()

    def collect_rollouts(self, *args: Any, **kwargs: Any) -> Any:
        with self.rollout_threads.timed(), torch.inference_mode():
            return super().collect_rollouts(*args, **kwargs)  # type: ignore[misc]

    def train(self, *args: Any, **kwargs: Any) -> None:
        with self.update_threads.timed():
            super().train(*args, **kwargs)  # type: ignore[misc]

    def _excluded_save_params(self) -> list[str]:
        # Machine state, not model state: a checkpoint stays readable by stock SB3.
        return [*super()._excluded_save_params(), "rollout_threads", "update_threads"]  # type: ignore[misc]


class PlacedPPO(ThreadPlacementMixin, PPO):
    """SB3's ``PPO`` with measured thread placement (see the module docstring)."""


class PlacedA2C(ThreadPlacementMixin, A2C):
    """SB3's ``A2C`` with measured thread placement (see the module docstring)."""


class PlacedDQN(ThreadPlacementMixin, DQN):
    """SB3's ``DQN`` with measured thread placement (see the module docstring)."""


class PlacedQRDQN(ThreadPlacementMixin, QRDQN):
    """sb3-contrib's ``QRDQN`` with measured thread placement (see the module docstring)."""
