"""DQN training speed: RetroML against SB3's stock DQN Atari pipeline, in one run.

Both train DQN with the same RL Zoo Atari hyper-parameters (one env, ``train_freq`` 4, one gradient
step of 32 transitions, target update every 1,000 steps), game, budget, replay buffer and
``learning_starts``:
- retroml: what a run does — ``AtariNativeVecEnv`` with one emulator, the model from
  ``engine.algos.build_model`` (SB3's DQN with measured torch thread placement and inference-mode
  rollouts, :mod:`retroml.engine.thread_placement`) and RetroML's run monitor callback;
- retroml-sb3: the same env and callback with SB3's own ``DQN`` class (the gain of the placement);
- stock: ``make_atari_env`` (AtariWrapper, one env in a ``DummyVecEnv``) + ``VecFrameStack(4)``.
The budget counts the steps before ``learning_starts`` too, as a run does; the table splits each
run's wall time between collecting steps and the gradient updates. Each training runs in a fresh
process, as a run does. Rounds rotate the order so the
shared machine's noise hits every pipeline. ``--device cuda`` runs the same comparison on a GPU (and
says it was skipped on a machine without one).
Usage: ``python benchmarks/dqn_throughput.py [--steps 20000] [--learning-starts 2000] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import ale_py
import gymnasium as gym
import torch
from stable_baselines3 import DQN
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import VecEnv, VecFrameStack

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
KINDS = ("retroml", "retroml-sb3", "stock")


def make_model(kind: str, config: RunConfig, device: str) -> BaseAlgorithm:
    train = config.train
    if kind == "retroml":
        return build_model(train, AtariNativeVecEnv(config.game, 1, seed=train.seed), None)
    env: VecEnv
    if kind == "retroml-sb3":
        env = AtariNativeVecEnv(config.game, 1, seed=train.seed)
    else:
        env = VecFrameStack(make_atari_env(f"{game_title(config.game.id)}NoFrameskip-v4", n_envs=1, seed=train.seed), 4)
    return DQN("CnnPolicy", env, seed=train.seed, device=device, verbose=0, **hyperparameters(train))


def train_speed(kind: str, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    config = build_config(
        {
            "game": {"id": args.game},
            "train": {
                "algo": "dqn",
                "total_timesteps": args.steps,
                "seed": seed,
                "device": args.device,
                "buffer_size": args.buffer_size,
                "learning_starts": args.learning_starts,
            },
        }
    )
    model = make_model(kind, config, args.device)
    timer = PhaseTimer()
    callbacks: list[BaseCallback] = [timer]
    if kind != "stock":
        callbacks.append(run_monitor(config, args.steps))
    started = time.perf_counter()
    model.learn(args.steps, callback=callbacks)
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


def main() -> int:
    parser = benchmark_parser(__doc__, steps=20_000, rounds=2, game="breakout", device="cpu", kinds=KINDS)
    parser.add_argument("--learning-starts", type=int, default=2_000)
    parser.add_argument("--buffer-size", type=int, default=100_000, help="the RL Zoo's DQN replay buffer")
    args = parser.parse_args()
    if cuda_skipped(args.device):
        return 0
    kinds = [kind for kind in args.kinds.split(",") if kind]
    results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for round_index in range(args.rounds):
        shift = round_index % len(kinds)
        for kind in kinds[shift:] + kinds[:shift]:
            results[kind].append(in_fresh_process(train_speed, kind, args, round_index))
            print(f"round {round_index + 1} {kind}: {results[kind][-1]['steps_per_sec']:.0f} steps/s", flush=True)

    def median(kind: str, key: str) -> float:
        return statistics.median(result[key] for result in results[kind])

    speed = {kind: median(kind, "steps_per_sec") for kind in kinds}
    rows: list[list[Any]] = [
        [
            kind,
            f"{speed[kind]:.0f}",
            f"{100 * median(kind, 'rollout_share'):.0f} %",
            f"{100 * (1 - median(kind, 'rollout_share')):.0f} %",
        ]
        for kind in kinds
    ]
    print_table(["pipeline", f"DQN steps/s ({args.device})", "collecting", "updates"], rows)
    ratios = {kind: speed[kind] / speed["stock"] for kind in kinds if kind != "stock" and "stock" in speed}
    for kind, ratio in ratios.items():
        print(f"{kind} / stock DQN steps/s: {ratio:.2f}× (target for retroml ≥ 1.3×)")
    suffix = "" if args.device == "cpu" else "_" + args.device.replace(":", "")
    save_results(
        f"dqn_throughput{suffix}",
        {
            "game": args.game,
            "steps": args.steps,
            "learning_starts": args.learning_starts,
            "buffer_size": args.buffer_size,
            "rounds": args.rounds,
            "device": args.device,
            "torch_threads": torch.get_num_threads(),
            "runs": results,
            "ratio": ratios.get("retroml"),
            "ratios": ratios,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
