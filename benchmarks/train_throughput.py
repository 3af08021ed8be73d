"""PPO training speed: RetroML's native vector env against SB3's stock Atari pipeline, in one run.

Both train PPO with the same RL Zoo Atari hyper-parameters, game, budget, 8 envs and torch threads:
- RetroML: ``AtariNativeVecEnv`` (ale-py's C++ ``AtariVectorEnv``) + RetroML's run monitor callback;
- stock: ``make_atari_env`` (AtariWrapper) + ``VecFrameStack(4)`` + ``SubprocVecEnv``.
Also printed: the env-only ceiling (random actions, no learning) of each env, and how each run's
wall time splits between collecting rollouts and the gradient updates. Rounds alternate the two so
the shared machine's noise hits both. Usage: ``python benchmarks/train_throughput.py [--steps 32768]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import ale_py
import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import SubprocVecEnv, VecEnv, VecFrameStack

from retroml import milestones
from retroml.config import build_config
from retroml.engine.algos import hyperparameters
from retroml.engine.envs import AtariNativeVecEnv
from retroml.engine.monitor import Leg, RunMonitor
from retroml.paths import run_paths
from retroml.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_table, save_results

gym.register_envs(ale_py)
N_ENVS = 8


class PhaseTimer(BaseCallback):
    """Splits wall time between rollout collection and the updates that follow each rollout."""

    def __init__(self) -> None:
        super().__init__()
        self.rollout_sec = 0.0
        self._mark = 0.0

    def _on_rollout_start(self) -> None:
        self._mark = time.perf_counter()

    def _on_rollout_end(self) -> None:
        self.rollout_sec += time.perf_counter() - self._mark

    def _on_step(self) -> bool:
        return True


def stock_env(game_title: str, seed: int) -> VecEnv:
    env = make_atari_env(f"{game_title}NoFrameskip-v4", n_envs=N_ENVS, seed=seed, vec_env_cls=SubprocVecEnv)
    return VecFrameStack(env, n_stack=4)


def retroml_env(game: str, seed: int) -> VecEnv:
    return AtariNativeVecEnv(build_config({"game": {"id": game}}).game, N_ENVS, seed=seed)


def train_speed(kind: str, game: str, game_title: str, steps: int, seed: int) -> dict[str, float]:
    config = build_config({"game": {"id": game}, "train": {"algo": "ppo", "total_timesteps": steps, "seed": seed}})
    env = retroml_env(game, seed) if kind == "retroml" else stock_env(game_title, seed)
    model = PPO("CnnPolicy", env, seed=seed, device="cpu", verbose=0, **hyperparameters(config.train))
    timer = PhaseTimer()
    callbacks: list[BaseCallback] = [timer]
    if kind == "retroml":
        # The real run callback (metrics, heartbeats, milestones) writing to a real store.
        home = Path(tempfile.mkdtemp(prefix="retroml-bench-"))
        store = Store(home)
        paths = run_paths(home, "run-bench")
        paths.make()
        store.insert_run({"run_id": "run-bench", "name": "bench", "game": game, "algo": "ppo", "status": "running",
                          "created_at": time.time(), "total_timesteps": steps, "legs": []})
        leg = Leg(1, 0, steps, milestones.pending(config.milestones_pct, 0, steps, reached=[]))
        callbacks.append(RunMonitor(store, "run-bench", paths, config, leg, threading.Event()))
    started = time.perf_counter()
    model.learn(steps, callback=callbacks)
    elapsed = time.perf_counter() - started
    env.close()
    return {"steps_per_sec": model.num_timesteps / elapsed, "rollout_share": timer.rollout_sec / elapsed}


def env_ceiling(kind: str, game: str, game_title: str, steps: int) -> float:
    env = retroml_env(game, 0) if kind == "retroml" else stock_env(game_title, 0)
    env.reset()
    rng = np.random.default_rng(0)
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    started = time.perf_counter()
    for _ in range(steps // N_ENVS):
        env.step(rng.integers(0, n_actions, size=N_ENVS))
    elapsed = time.perf_counter() - started
    env.close()
    return steps / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=32_768)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--game", default="breakout")
    args = parser.parse_args()
    title = "".join(part.capitalize() for part in args.game.split("_"))
    torch.set_num_threads(torch.get_num_threads())
    results: dict[str, list[dict[str, float]]] = {"retroml": [], "stock": []}
    for round_index in range(args.rounds):
        for kind in ("retroml", "stock") if round_index % 2 == 0 else ("stock", "retroml"):
            results[kind].append(train_speed(kind, args.game, title, args.steps, seed=round_index))
            print(f"round {round_index + 1} {kind}: {results[kind][-1]['steps_per_sec']:.0f} steps/s", flush=True)
    ceilings = {kind: env_ceiling(kind, args.game, title, 16_384) for kind in ("retroml", "stock")}

    def median(kind: str, key: str) -> float:
        return statistics.median(result[key] for result in results[kind])

    speed = {kind: median(kind, "steps_per_sec") for kind in results}
    ratio = speed["retroml"] / speed["stock"]
    rows: list[list[Any]] = [
        [kind, f"{speed[kind]:.0f}", f"{ceilings[kind]:.0f}", f"{100 * median(kind, 'rollout_share'):.0f} %",
         f"{100 * (1 - median(kind, 'rollout_share')):.0f} %"]
        for kind in ("retroml", "stock")
    ]
    print_table(["pipeline", "PPO steps/s", "env-only steps/s", "rollouts", "updates"], rows)
    print(f"RetroML / stock PPO steps/s: {ratio:.2f}× (target ≥ 1.15×)")
    save_results("train_throughput", {
        "game": args.game, "steps": args.steps, "rounds": args.rounds, "n_envs": N_ENVS,
        "torch_threads": torch.get_num_threads(), "runs": results, "ceiling_steps_per_sec": ceilings,
        "ratio": ratio,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
