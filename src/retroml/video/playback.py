"""A checkpoint playing one game, as a stream of video frames at the console's real speed.

The agent sees exactly what it saw in training — ale-py's native preprocessing (frame-skip 4 with
the last two frames max-pooled, 84×84 grey by area interpolation, a stack of 4, random no-ops and
FIRE on reset) — rebuilt here around one emulator, because the native vector env gives no colour
frames. The viewer sees the console at its real speed at any frame rate: the Atari runs at 60 Hz, so
30 fps shows every second emulator frame, 60 fps each one and 24 fps two of every five.

What the agent plays is the policy's choice with three evaluation-protocol guards, none of which
exists in training: FIRE after a lost life in games that wait for it (SB3's ``FireResetEnv`` presses
it on every reset, and a life lost is a reset there), a small ε of random actions so a deterministic
policy cannot freeze, and a new game when nothing is happening (no reward, or a still screen).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np

from retroml.config import GameConfig, RenderConfig
from retroml.video.frames import Frame, Inspection, Inspector

EMULATOR_HZ = 60
# ale-py's default episode cap (108,000 emulator frames = 30 minutes of play), as in training.
MAX_EPISODE_FRAMES = 108_000
# A playback made without render settings plays as a render with the defaults does (same seed, same frames).
RENDER_DEFAULTS = RenderConfig()


@dataclass
class Episode:
    """A finished (or cut) playback episode, as recorded in the manifest."""

    episode: int
    score: float
    frames: int
    end: str  # "game over" | "time limit" | "stuck" | "cut"


@dataclass
class Playback:
    """A policy playing one emulator.

    :param game: the run's game settings (the same as in training).
    :param policy: an SB3 model (``predict``) or ``None`` for uniformly random actions.
    :param seed: seeds the emulator, the no-op starts and any sampling: same seed, same frames.
    :param sampled: sample actions (PPO/A2C from the policy distribution, DQN ε-greedy) instead of
        taking the most likely one.
    :param stuck_seconds: reset an episode in which no reward happened for this long.
    :param still_seconds: reset an episode whose screen has not changed for this long.
    :param epsilon: probability of a uniformly random action in place of the policy's at each agent
        step, drawn from the playback's own seeded generator.
    :param fps: video frame rate (30 shows every second frame of the 60 Hz console).
    :param inspector: chooses the actions in place of ``policy.predict`` (the same choice) and keeps
        what the network computed for each, for the analytics layout; ``None`` costs nothing.
    """

    game: GameConfig
    policy: Any
    seed: int = 0
    sampled: bool = False
    stuck_seconds: float = RENDER_DEFAULTS.stuck_seconds
    still_seconds: float = RENDER_DEFAULTS.still_seconds
    epsilon: float = RENDER_DEFAULTS.epsilon
    fps: int = 30
    inspector: Inspector | None = None
    episodes: list[Episode] = field(default_factory=list)

    def __post_init__(self) -> None:
        from ale_py.env import AtariEnv

        self._env = AtariEnv(
            game=self.game.id,
            frameskip=1,
            repeat_action_probability=self.game.repeat_action_probability,
            full_action_space=False,
            max_num_frames_per_episode=MAX_EPISODE_FRAMES,
        )
        self._env.reset(seed=self.seed)
        self.ale = self._env.ale
        self.action_set = list(self._env._action_set)
        self.meanings = self._env.get_action_meanings()
        # FireResetEnv's test: FIRE is the second action of the game's minimal set.
        self.waits_for_fire = len(self.meanings) >= 3 and self.meanings[1] == "FIRE"
        self._rng = np.random.default_rng(self.seed)
        self._stack = np.zeros((4, 84, 84), dtype=np.uint8)
        self._grey = [np.zeros((210, 160), dtype=np.uint8), np.zeros((210, 160), dtype=np.uint8)]
        self._inspection: Inspection | None = None
        self._greedy = greedy_actor(self.policy)
        if self.sampled and self.policy is not None:
            import torch

            torch.manual_seed(self.seed)

    def frames(self) -> Iterator[Frame]:
        """Video frames forever (the caller takes as many as it needs); episodes restart by themselves."""
        episode, best_finished = 0, float("-inf")
        emulator_frame = 0
        note = ""
        stuck_limit = int(self.stuck_seconds * self.fps)
        still_limit = int(self.still_seconds * self.fps)
        while True:
            episode += 1
            score, episode_frame, quiet_frames, still_frames = 0.0, 0, 0.0, 0
            self._reset_game()
            lives, screen = self.ale.lives(), self.ale.getScreenRGB()
            while True:
                action = self._act(fire=self.ale.lives() < lives)
                lives = self.ale.lives()
                reward, ended = 0.0, ""
                for skip in range(self.game.frameskip):
                    reward += self.ale.act(action)
                    emulator_frame += 1
                    if skip >= self.game.frameskip - 2:
                        self.ale.getScreenGrayscale(self._grey[skip - self.game.frameskip + 2])
                    # A video frame each time fps/60 of the emulator's frames add up to one more: real
                    # speed at any rate (24 fps shows 2 of 5 frames, 30 every second, 60 each one).
                    if emulator_frame * self.fps // EMULATOR_HZ > (emulator_frame - 1) * self.fps // EMULATOR_HZ:
                        shown, screen = screen, self.ale.getScreenRGB()
                        still_frames = still_frames + 1 if np.array_equal(shown, screen) else 0
                        best = max(best_finished, score + reward)
                        yield Frame(screen, episode, score + reward, best, episode_frame, note, self._inspection)
                        episode_frame += 1
                    if self.ale.game_over():
                        ended = "time limit" if self.ale.getEpisodeFrameNumber() >= MAX_EPISODE_FRAMES else "game over"
                        break
                score += reward
                quiet_frames = 0 if reward else quiet_frames + self.game.frameskip * self.fps / EMULATOR_HZ
                if not ended and quiet_frames >= stuck_limit:
                    ended, note = "stuck", f"no reward for {self.stuck_seconds:g} s"
                elif not ended and still_frames >= still_limit:
                    ended, note = "stuck", f"screen still for {self.still_seconds:g} s"
                elif ended:
                    note = ""
                if ended:
                    self.episodes.append(Episode(episode, score, episode_frame, ended))
                    best_finished = max(best_finished, score)
                    break
                self._observe()

    def cut(self, episode: int, score: float, frames: int) -> None:
        """Record the episode on screen when the segment ends as ``cut``."""
        self.episodes.append(Episode(episode, score, frames, "cut"))

    def close(self) -> None:
        self._env.close()

    # The training preprocessing -------------------------------------------------------------
    def _reset_game(self) -> None:
        self.ale.reset_game()
        noops = int(self._rng.integers(1, self.game.noop_max + 1)) if self.game.noop_max > 0 else 0
        for _ in range(noops):
            self.ale.act(self.action_set[0])
        if self.waits_for_fire:
            self.ale.act(self.action_set[1])
        self.ale.getScreenGrayscale(self._grey[1])
        self._grey[0][:] = self._grey[1]
        self._stack[:] = 0
        self._observe()

    def _observe(self) -> None:
        pooled = np.maximum(self._grey[0], self._grey[1])
        self._stack[:-1] = self._stack[1:]
        self._stack[-1] = cv2.resize(pooled, (84, 84), interpolation=cv2.INTER_AREA)

    def _act(self, fire: bool = False) -> Any:
        """The ALE action to play next (an ``ale_py.Action``); ``fire`` after a lost life."""
        if self.policy is None:
            return self.action_set[int(self._rng.integers(len(self.action_set)))]
        value_based = _is_value_based(self.policy)
        # Sampled DQN keeps its ε-greedy 0.05; the guard ε applies to every policy.
        explore = max(self.epsilon, 0.05 if self.sampled and value_based else 0.0)
        replaced: int | None = None
        if fire and self.waits_for_fire:
            replaced = 1
        elif explore and self._rng.random() < explore:
            replaced = int(self._rng.integers(len(self.action_set)))
        if replaced is not None:
            if self.inspector is not None:
                self._inspection = replace(self.inspector.inspect(self._stack), action=replaced)
            return self.action_set[replaced]
        deterministic = not self.sampled or value_based
        if self.inspector is not None:
            self._inspection = self.inspector.inspect(self._stack, deterministic=deterministic)
            return self.action_set[self._inspection.action]
        if deterministic and self._greedy is not None:
            return self.action_set[self._greedy(self._stack)]
        action, _ = self.policy.predict(self._stack, deterministic=deterministic)
        return self.action_set[int(action)]


def load_playback_policy(algo: str, checkpoint: Path) -> Any:
    """The policy saved in ``checkpoint``, on one CPU thread (renders run several in parallel)."""
    import torch

    from retroml.engine.algos import load_policy

    torch.set_num_threads(1)
    return load_policy(algo, checkpoint)


def greedy_actor(model: Any) -> Callable[[np.ndarray], int] | None:
    """The action ``model.predict(stack, deterministic=True)`` chooses, computed at about 0.7× its cost.

    ``predict`` spends a third of a batch-1 call around the network: checks of the observation,
    a copy to a tensor, and for PPO/A2C a probability distribution built only to take its mode. Here
    the uint8 stack goes in as it is, under ``torch.inference_mode``, and the action is the argmax of
    the logits (PPO/A2C), the Q-values (DQN) or the quantiles' mean (QR-DQN): the same choice. ``None``
    for anything else (a random policy, a test's stand-in), which then plays through ``predict``.
    """
    policy = getattr(model, "policy", None)
    if policy is None or not getattr(policy, "normalize_images", True):
        return None
    import torch
    from stable_baselines3.common.distributions import CategoricalDistribution
    from stable_baselines3.common.policies import ActorCriticPolicy

    scores: Callable[[Any], Any]
    if isinstance(policy, ActorCriticPolicy) and isinstance(policy.action_dist, CategoricalDistribution):

        def scores(observation: Any) -> Any:
            features = policy.extract_features(observation, policy.pi_features_extractor)
            return policy.action_net(policy.mlp_extractor.forward_actor(cast("torch.Tensor", features)))

    elif hasattr(policy, "q_net"):
        scores = policy.q_net
    elif hasattr(policy, "quantile_net"):

        def scores(observation: Any) -> Any:
            return policy.quantile_net(observation).mean(dim=1)

    else:
        return None
    policy.set_training_mode(False)

    def act(stack: np.ndarray) -> int:
        with torch.inference_mode():
            return int(scores(torch.from_numpy(stack).unsqueeze(0)).argmax(dim=1)[0])

    return act


def _is_value_based(policy: Any) -> bool:
    return hasattr(policy, "q_net") or hasattr(policy, "quantile_net")
