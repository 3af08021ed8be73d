"""Does RetroML's PPO really learn? 500k steps on Breakout must beat a random policy 3×.

Trains a real run through ``RunService`` (RL Zoo Atari PPO settings, 8 envs), then plays a random
policy on the same native vector env for as many finished games, and compares the last-100-episode
mean real game scores. One seed is one sample of a noisy process (the same seed also takes another path
when the machine's load changes the measured thread counts and gradient layouts, and so the float
rounding); ``--seed`` trains another. Usage:
``python benchmarks/learning_check.py [--steps 500000] [--game breakout] [--seed 0]``.
"""

from __future__ import annotations

import sys
import tempfile
import time

import numpy as np

from retroml.config import GameConfig, build_config
from retroml.engine.envs import AtariNativeVecEnv
from retroml.runs.service import RunService

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import benchmark_parser, print_table, save_results


def random_policy_mean(game: str, episodes: int, seed: int = 123) -> float:
    """Mean real score of ``episodes`` finished games under uniformly random actions."""
    env = AtariNativeVecEnv(GameConfig(id=game), n_envs=8, seed=seed)
    env.reset()
    rng = np.random.default_rng(seed)
    scores: list[float] = []
    while len(scores) < episodes:
        _obs, _reward, _done, infos = env.step(rng.integers(0, env.action_space.n, size=env.num_envs))
        scores.extend(info["episode"]["r"] for info in infos if "episode" in info)
    env.close()
    return float(np.mean(scores[:episodes]))


def main() -> int:
    parser = benchmark_parser(__doc__, steps=500_000, game="breakout")
    parser.add_argument("--seed", type=int, default=0, help="the run's train.seed (results of seed N > 0 saved apart)")
    parser.add_argument("--home", default=None, help="keep the run here (default: a temporary folder)")
    args = parser.parse_args()
    home = args.home or tempfile.mkdtemp(prefix="retroml-learning-")
    service = RunService(home)
    config = build_config(
        {
            "game": {"id": args.game},
            "train": {"algo": "ppo", "total_timesteps": args.steps, "seed": args.seed},
            "recording": {"enabled": False},
            "milestones_pct": [0, 50, 100],
        }
    )
    started = time.monotonic()
    run = service.create(config)
    run = service.wait(run.run_id, timeout=6 * 3600, poll=5.0)
    minutes = (time.monotonic() - started) / 60
    if run.status != "completed" or run.score_mean is None:
        print(f"training ended {run.status} with mean score {run.score_mean}: {run.message}")
        return 1
    trained = run.score_mean
    random_mean = random_policy_mean(args.game, 100)
    ratio = trained / random_mean if random_mean > 0 else float("inf")
    print_table(
        ["game", "PPO steps", "trained mean (last 100)", "random mean (100)", "ratio", "minutes"],
        [[args.game, f"{args.steps:,}", f"{trained:.2f}", f"{random_mean:.2f}", f"{ratio:.1f}×", f"{minutes:.1f}"]],
    )
    save_results(
        "learning_check" if args.seed == 0 else f"learning_check_seed{args.seed}",
        {
            "game": args.game,
            "seed": args.seed,
            "steps": args.steps,
            "trained_mean_last100": trained,
            "random_mean_100": random_mean,
            "ratio": ratio,
            "minutes": minutes,
            "run_id": run.run_id,
            "episodes": run.episodes,
            "passed": ratio >= 3.0,
        },
    )
    print("PASS" if ratio >= 3.0 else "FAIL", f"(target ≥ 3×; run {run.run_id} in {home})")
    return 0 if ratio >= 3.0 else 1


if __name__ == "__main__":
    sys.exit(main())
