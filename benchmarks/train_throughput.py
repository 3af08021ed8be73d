"""PPO training speed: RetroML against SB3's stock Atari pipeline, in one run.

Both train PPO with the same RL Zoo Atari hyper-parameters, game, budget, 8 envs and torch threads:
- retroml: what a run does — ``AtariNativeVecEnv`` (ale-py's C++ ``AtariVectorEnv``), the model from
  ``engine.algos.build_model`` (SB3's PPO with measured torch thread placement and inference-mode
  rollouts, :mod:`retroml.engine.thread_placement`) and RetroML's run monitor callback;
- retroml-sb3: the same env and callback with SB3's own ``PPO`` class (what RetroML did before the
  thread placement: the gain of that lever, measured in the same run);
- stock: ``make_atari_env`` (AtariWrapper) + ``VecFrameStack(4)`` + ``SubprocVecEnv``.
Also printed: the env-only ceiling (random actions, no learning) of each env, and how each run's wall
time splits between collecting rollouts and the gradient updates. Each training runs in a fresh
process, as a run does: what one pipeline sets for its process does not carry over to the next. Rounds
rotate the order so the
shared machine's noise hits every pipeline. ``--device cuda`` runs the same comparison on a GPU (and
says it was skipped on a machine without one).
Usage: ``python benchmarks/train_throughput.py [--steps 32768] [--rounds 2] [--device cpu]``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

import ale_py
import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import SubprocVecEnv, VecEnv, VecFrameStack

from retroml.config import RunConfig, build_config
from retroml.engine.algos import build_model, hyperparameters
from retroml.engine.envs import AtariNativeVecEnv

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    PhaseTimer,
    benchmark_parser,
    cuda_skipped,
    game_title,
    in_fresh_process,
    print_table,
    run_monitor,
    save_results,
)

gym.register_envs(ale_py)
N_ENVS = 8
KINDS = ("retroml", "retroml-sb3", "stock")


def stock_env(game: str, seed: int) -> VecEnv:
    env = make_atari_env(f"{game_title(game)}NoFrameskip-v4", n_envs=N_ENVS, seed=seed, vec_env_cls=SubprocVecEnv)
    return VecFrameStack(env, n_stack=4)


def make_model(kind: str, config: RunConfig, device: str) -> BaseAlgorithm:
    if kind == "stock":
        env = stock_env(config.game.id, config.train.seed)
        return PPO("CnnPolicy", env, seed=config.train.seed, device=device, verbose=0, **hyperparameters(config.train))
    env = AtariNativeVecEnv(config.game, N_ENVS, seed=config.train.seed)
    if kind == "retroml":
        return build_model(config.train, env, None)
    return PPO("CnnPolicy", env, seed=config.train.seed, device=device, verbose=0, **hyperparameters(config.train))


def train_speed(kind: str, game: str, steps: int, seed: int, device: str) -> dict[str, Any]:
    config = build_config(
        {
            "game": {"id": game},
            "train": {"algo": "ppo", "total_timesteps": steps, "seed": seed, "n_envs": N_ENVS, "device": device},
        }
    )
    model = make_model(kind, config, device)
    timer = PhaseTimer()
    callbacks: list[BaseCallback] = [timer]
    if kind != "stock":
        callbacks.append(run_monitor(config, steps))
    started = time.perf_counter()
    model.learn(steps, callback=callbacks)
    elapsed = time.perf_counter() - started
    assert model.env is not None
    model.env.close()
    result: dict[str, Any] = {
        "steps_per_sec": model.num_timesteps / elapsed,
        "rollout_share": timer.rollout_sec / elapsed,
    }
    for phase in ("rollout_threads", "update_threads"):
        if hasattr(model, phase):
            result[phase] = {str(count): seconds for count, seconds in getattr(model, phase).seconds_per_call.items()}
    return result


def env_ceiling(kind: str, game: str, steps: int) -> float:
    native = kind != "stock"
    env = AtariNativeVecEnv(build_config({"game": {"id": game}}).game, N_ENVS) if native else stock_env(game, 0)
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
    parser = benchmark_parser(__doc__, steps=32_768, rounds=2, game="breakout", device="cpu", kinds=KINDS)
    args = parser.parse_args()
    if cuda_skipped(args.device):
        return 0
    kinds = [kind for kind in args.kinds.split(",") if kind]
    results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for round_index in range(args.rounds):
        # Each round starts with a different pipeline, so none always runs first (or last).
        shift = round_index % len(kinds)
        for kind in kinds[shift:] + kinds[:shift]:
            results[kind].append(in_fresh_process(train_speed, kind, args.game, args.steps, round_index, args.device))
            print(f"round {round_index + 1} {kind}: {results[kind][-1]['steps_per_sec']:.0f} steps/s", flush=True)
    env_kinds = [kind for kind in ("retroml", "stock") if any(k.startswith(kind) for k in kinds)]
    ceilings = {kind: env_ceiling(kind, args.game, 16_384) for kind in env_kinds}

    def median(kind: str, key: str) -> float:
        return statistics.median(result[key] for result in results[kind])

    speed = {kind: median(kind, "steps_per_sec") for kind in kinds}
    rows: list[list[Any]] = [
        [
            kind,
            f"{speed[kind]:.0f}",
            f"{ceilings.get(kind.split('-')[0], 0):.0f}",
            f"{100 * median(kind, 'rollout_share'):.0f} %",
            f"{100 * (1 - median(kind, 'rollout_share')):.0f} %",
        ]
        for kind in kinds
    ]
    print_table(["pipeline", f"PPO steps/s ({args.device})", "env-only steps/s", "rollouts", "updates"], rows)
    ratios = {kind: speed[kind] / speed["stock"] for kind in kinds if kind != "stock" and "stock" in speed}
    for kind, ratio in ratios.items():
        print(f"{kind} / stock PPO steps/s: {ratio:.2f}× (target for retroml ≥ 1.5×)")
    suffix = "" if args.device == "cpu" else "_" + args.device.replace(":", "")
    save_results(
        f"train_throughput{suffix}",
        {
            "game": args.game,
            "steps": args.steps,
            "rounds": args.rounds,
            "n_envs": N_ENVS,
            "device": args.device,
            "torch_threads": torch.get_num_threads(),
            "runs": results,
            "ceiling_steps_per_sec": ceilings,
            "ratio": ratios.get("retroml"),
            "ratios": ratios,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
