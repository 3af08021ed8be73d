"""ale-py's native C++ vector environment (``AtariVectorEnv``) behind Stable-Baselines3's ``VecEnv``.

The native env does the DQN-paper preprocessing in C++ threads (frame-skip 4 with max-pooling, 84×84
grey, a stack of 4, no-op starts, FIRE on reset), which is what makes it faster than SB3's
``make_atari_env`` + ``VecFrameStack`` + ``SubprocVecEnv``.

Two rewards are kept apart: the agent learns from the clipped sign of the reward (as in the DQN
paper), while ``info["episode"]`` carries the real, unclipped game score over all lives — what a
person means by "score" — and is only emitted when the *game* is over, not when a life is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from ale_py.vector_env import AtariVectorEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from retroml.config import GameConfig


class AtariNativeVecEnv(VecEnv):
    """SB3 ``VecEnv`` over ``ale_py.vector_env.AtariVectorEnv``.

    :param game: game settings (id, frame-skip, no-op starts, life-loss termination, sticky actions).
    :param n_envs: number of emulators stepped together.
    :param seed: base seed; emulator ``i`` is seeded with ``seed + i``.
    :param clip_reward: give the agent ``sign(reward)`` instead of the raw reward.
    :param n_threads: C++ worker threads of the native env (0 = one per core).
    """

    def __init__(
        self, game: GameConfig, n_envs: int, seed: int = 0, clip_reward: bool = True, n_threads: int = 0
    ) -> None:
        self.game = game
        self._env = AtariVectorEnv(
            game.id,
            n_envs,
            num_threads=n_threads,
            frameskip=game.frameskip,
            noop_max=game.noop_max,
            repeat_action_probability=game.repeat_action_probability,
            # life_loss_info ends the training episode on a life loss but lets the game go on;
            # the native env's episodic_life would reset the whole game instead.
            life_loss_info=game.terminal_on_life_loss,
            reward_clipping=False,
            autoreset_mode="SameStep",
        )
        super().__init__(n_envs, self._env.single_observation_space, self._env.single_action_space)
        self.render_mode = None
        self.clip_reward = clip_reward
        self._seed = seed
        self._actions: np.ndarray = np.zeros(n_envs, dtype=np.int64)
        self._lives = np.zeros(n_envs, dtype=np.int64)
        self._score = np.zeros(n_envs, dtype=np.float64)
        self._length = np.zeros(n_envs, dtype=np.int64)

    def reset(self) -> np.ndarray:
        obs, info = self._env.reset(seed=int(self._seed))
        self._lives = np.asarray(info["lives"], dtype=np.int64).copy()
        self._score[:] = 0.0
        self._length[:] = 0
        self._reset_infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)

    def step_wait(self) -> VecEnvStepReturn:
        obs, reward, terminated, truncated, info = self._env.step(self._actions)
        reward = np.asarray(reward, dtype=np.float64)
        self._score += reward
        self._length += 1
        lives = np.asarray(info["lives"], dtype=np.int64)
        done = np.logical_or(terminated, truncated)
        # With same-step autoreset, a finished game has already been reset: its lives are back to
        # full. A lost life (game goes on) is the only termination where the count went down.
        life_lost = np.logical_and(terminated, lives < self._lives)
        game_over = np.logical_and(done, np.logical_not(life_lost))
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for index in np.flatnonzero(done):
            final = info["final_obs"][index] if "final_obs" in info else obs[index]
            infos[index]["terminal_observation"] = final
            infos[index]["TimeLimit.truncated"] = bool(truncated[index] and not terminated[index])
        for index in np.flatnonzero(game_over):
            infos[index]["episode"] = {"r": float(self._score[index]), "l": int(self._length[index])}
            self._score[index] = 0.0
            self._length[index] = 0
        self._lives = lives.copy()
        agent_reward = np.sign(reward) if self.clip_reward else reward
        return obs, agent_reward.astype(np.float32), done, infos

    def close(self) -> None:
        self._env.close()

    def action_meanings(self) -> list[str]:
        from retroml.games import action_meanings

        return list(action_meanings(self.game.id))

    # The rest of the VecEnv interface: the native env has no per-emulator Python objects.
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        if attr_name == "render_mode":
            return [None for _ in self._indices(indices)]
        raise AttributeError(f"AtariNativeVecEnv has no per-env attribute '{attr_name}'")

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(f"AtariNativeVecEnv cannot set per-env attribute '{attr_name}'")

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        raise AttributeError(f"AtariNativeVecEnv has no per-env method '{method_name}'")

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._indices(indices)]

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        if seed is not None:
            self._seed = seed
        return [self._seed + index for index in range(self.num_envs)]

    def _indices(self, indices: VecEnvIndices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return indices
