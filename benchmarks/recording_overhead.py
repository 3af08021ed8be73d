"""What live milestone clips cost training, against SB3's stock VecVideoRecorder, in one run.

Four PPO trainings on Breakout with the same settings and budget:

- RetroML, no recording (what Fast Mode trains with);
- RetroML, live clips at every milestone (a low-priority recorder process films the checkpoint);
- stock SB3, no recording (``make_atari_env`` + ``VecFrameStack`` + ``SubprocVecEnv``);
- stock SB3 with ``VecVideoRecorder`` on the training env, a clip of the same length at the same
  milestones (it captures on the training loop and encodes with moviepy before training goes on).

Training steps/s come from the timesteps trained and the training time (RetroML: the metrics'
own clock; the end-of-run wait for the last clips is not training). Benchmark-only dependency:
``pip install moviepy``.

    python benchmarks/recording_overhead.py [--steps 40000] [--clip-seconds 10]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import ale_py
import gymnasium as gym

from _common import benchmark_parser, print_table, save_results

# At import, so that SubprocVecEnv's workers (which import this module) know the ALE ids too.
gym.register_envs(ale_py)

MILESTONES = [0, 1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
N_ENVS = 8


def retroml_steps_per_sec(home: Path, steps: int, clip_seconds: float) -> tuple[float, int]:
    """Train through RunService; returns (steps/s while training, clips written)."""
    from retroml.config import build_config
    from retroml.runs.service import RunService

    service = RunService(home)
    recording = {"enabled": clip_seconds > 0, "milestone_clip_seconds": clip_seconds}
    config = build_config(
        {
            "game": {"id": "breakout"},
            "train": {"algo": "ppo", "total_timesteps": steps, "n_envs": N_ENVS},
            "recording": recording,
        }
    )
    run_id = service.create(config).run_id
    assert service.wait(run_id, timeout=3600).status == "completed", service.logs(run_id)
    rows = service.metrics(run_id)
    first, last = rows[0], rows[-1]
    rate = (last["timesteps"] - first["timesteps"]) / (last["wall_time"] - first["wall_time"])
    clips = [video for video in service.renders.videos(run_id) if video["kind"] == "clip"]
    return rate, len(clips)


def stock_steps_per_sec(work: Path, steps: int, clip_seconds: float) -> float:
    """SB3's own pipeline, optionally with VecVideoRecorder filming env 0 at each milestone."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import SubprocVecEnv, VecFrameStack, VecVideoRecorder

    env: Any = make_atari_env(
        "BreakoutNoFrameskip-v4", n_envs=N_ENVS, seed=0, vec_env_cls=SubprocVecEnv,
        env_kwargs={"render_mode": "rgb_array"} if clip_seconds else None,
    )  # fmt: skip
    env = VecFrameStack(env, n_stack=4)
    if clip_seconds:
        # One vec-env step is N_ENVS timesteps; a clip of clip_seconds at the env's 30 fps metadata.
        starts = {steps * pct // 100 // N_ENVS for pct in MILESTONES}
        env = VecVideoRecorder(
            env, str(work / "stock"), record_video_trigger=lambda step: step in starts,
            video_length=int(clip_seconds * 30), name_prefix="stock",
        )  # fmt: skip
    model = PPO("CnnPolicy", env, device="cpu", seed=0, n_steps=128, n_epochs=4, batch_size=256,
                learning_rate=2.5e-4, clip_range=0.1, ent_coef=0.01, vf_coef=0.5)  # fmt: skip
    started = time.perf_counter()
    model.learn(total_timesteps=steps)
    elapsed = time.perf_counter() - started
    env.close()
    return model.num_timesteps / elapsed


def main() -> None:
    parser = benchmark_parser(__doc__.splitlines()[0], steps=40_000)
    parser.add_argument("--clip-seconds", type=float, default=10.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="retroml-recording-bench-"))
    try:
        ours_off, _ = retroml_steps_per_sec(work / "off", args.steps, 0)
        ours_on, clips = retroml_steps_per_sec(work / "on", args.steps, args.clip_seconds)
        stock_off = stock_steps_per_sec(work, args.steps, 0)
        stock_on = stock_steps_per_sec(work, args.steps, args.clip_seconds)
        stock_clips = len(list((work / "stock").glob("*.mp4")))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ours_cost = 1 - ours_on / ours_off
    stock_cost = 1 - stock_on / stock_off
    print_table(
        ["training", "no recording", "with milestone clips", "clips", "cost of recording"],
        [
            ["RetroML (live recorder process)", f"{ours_off:,.0f} steps/s", f"{ours_on:,.0f} steps/s", clips,
             f"{100 * ours_cost:.1f} %"],
            ["stock SB3 (VecVideoRecorder)", f"{stock_off:,.0f} steps/s", f"{stock_on:,.0f} steps/s", stock_clips,
             f"{100 * stock_cost:.1f} %"],
        ],
    )  # fmt: skip
    saved = save_results(
        "recording_overhead",
        {
            "steps": args.steps,
            "clip_seconds": args.clip_seconds,
            "retroml_off": ours_off,
            "retroml_on": ours_on,
            "retroml_clips": clips,
            "retroml_cost": ours_cost,
            "stock_off": stock_off,
            "stock_on": stock_on,
            "stock_clips": stock_clips,
            "stock_cost": stock_cost,
        },
    )
    print(f"results: {saved}")


if __name__ == "__main__":
    main()
