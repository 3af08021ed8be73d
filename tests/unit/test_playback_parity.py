"""The journey shows the agent what training showed it: playback's preprocessing matches the native env.

Playback (``video/playback.py``) re-implements the DQN-paper preprocessing in Python (frame-skip with
max-pooling of the last two frames, 84×84 area-resized grey, a stack of 4, FIRE on reset) so it can
show every emulator frame; training sees ale-py's C++ ``AtariVectorEnv``. If the two drifted apart, a
checkpoint would play a journey on pixels it never learned from. This pins them together, pixel for
pixel, on real games.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

import numpy as np
import pytest

from retroml.config import GameConfig
from retroml.engine.envs import AtariNativeVecEnv
from retroml.video.playback import Playback


class _RecordingPolicy:
    """Plays seeded random actions and keeps the observation it was shown before each one.

    ``lives`` reads the playing emulator's life count: playback presses FIRE after a lost life (a
    playback rule training does not have), so the two action streams are compared up to the first one.
    """

    def __init__(self, n_actions: int, seed: int) -> None:
        self._rng = np.random.default_rng(seed)
        self._n = n_actions
        self.seen: list[np.ndarray] = []
        self.actions: list[int] = []
        self.lives: Callable[[], int] = lambda: 0
        self._first_lives: int | None = None
        self._stopped = False

    def predict(self, observation: np.ndarray, deterministic: bool = True) -> tuple[int, None]:
        lives = self.lives()
        self._first_lives = lives if self._first_lives is None else self._first_lives
        self._stopped = self._stopped or lives < self._first_lives
        if self._stopped:  # a life was lost: stop recording for good, play on
            return int(self._rng.integers(self._n)), None
        self.seen.append(observation.copy())
        self.actions.append(int(self._rng.integers(self._n)))
        return self.actions[-1], None


@pytest.mark.parametrize("game_id", ["pong", "breakout", "space_invaders"])
def test_playback_sees_the_pixels_the_native_training_env_produces(game_id: str) -> None:
    # No no-op starts and no sticky actions: both emulators then follow the actions alone.
    game = GameConfig(id=game_id, noop_max=0, terminal_on_life_loss=False)
    native = AtariNativeVecEnv(game, 1, seed=7, n_threads=1)
    observation = native.reset()
    probe = Playback(game=game, policy=None)
    policy = _RecordingPolicy(len(probe.action_set), seed=11)
    probe.close()
    playback = Playback(game=game, policy=policy, seed=7, epsilon=0.0, fps=60)
    policy.lives = playback.ale.lives
    # 60 fps shows every emulator frame: 4 video frames per agent step; play ~150 agent steps.
    for _ in islice(playback.frames(), 4 * 150):
        pass
    playback.close()
    assert len(policy.seen) >= 20

    for step, (seen, action) in enumerate(zip(policy.seen, policy.actions, strict=True)):
        assert seen.shape == observation[0].shape == (4, 84, 84) and seen.dtype == observation.dtype == np.uint8
        assert np.array_equal(seen, observation[0]), f"{game_id}: step {step} differs by up to " + str(
            int(np.abs(seen.astype(int) - observation[0].astype(int)).max())
        )
        native.step_async(np.array([action]))
        observation, _, done, _ = native.step_wait()
        if done[0]:
            break
    native.close()
