"""Journey render speed: finished video frames/s per worker, against the stock RL Zoo way, in one run.

Ours: ``render_segment`` (policy playing at real console speed, HUD, H.264 through PyAV) on one
core at 640×480 and 1280×720, the analytics layout (1280×720) and the compare layout (2 and 4 panes,
640×480), then the process pool with 1 and 2 workers on a whole journey.
Stock: RL Zoo's ``record_video`` approach — ``make_atari_env`` + ``VecFrameStack`` +
``VecVideoRecorder`` (frames kept in a list, written by moviepy through an ffmpeg subprocess at the
end), the policy predicting each step, raw 160×210 frames and no HUD. Both on one torch thread.
Prints frames/s, the per-core ratio and the projected wall time of a 10-hour 30 fps journey here.
Start-up is counted as a long render pays it: the stock recorder's imports and model are made before
its clock starts, so ours renders a 30-frame segment first (imports, oneDNN's kernels) — a worker of a
10-hour journey pays that once, not per segment; loading the checkpoint, the env and the encoder stay
inside every measured segment. The 10-hour projection fits a line through two whole journeys
(2× and 4× ``--frames``, 2 workers): a fixed part (pool start-up, title cards, join, poster) and a
part per frame, so a short journey's start-up is not multiplied by 600.
Everything is also counted in CPU-seconds of this process and its finished children (the journey's
pool workers, moviepy's ffmpeg): on a shared machine another job's load changes the wall time of a
render, much less the CPU time it needs, so the ratios and the CPU-based projection are the ones to
compare between runs.

Benchmark-only dependency: ``pip install moviepy`` (SB3's recorder needs it; RetroML does not).

    python benchmarks/render_speed.py [--frames 1800] [--preset ultrafast]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_table, save_results

TEN_HOURS_FRAMES = 10 * 3600 * 30


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (moviepy's ffmpeg is a child)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Measure:
    """Wall and CPU seconds of a block."""

    def __enter__(self) -> Measure:
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = cpu_seconds() - self.cpu


def train_tiny_run(home: Path) -> tuple[Any, str]:
    from retroml.config import build_config
    from retroml.runs.service import RunService

    service = RunService(home)
    config = build_config(
        {
            "game": {"id": "breakout"},
            "train": {"algo": "ppo", "total_timesteps": 4096, "n_envs": 8, "n_steps": 64, "batch_size": 128},
            "recording": {"enabled": False},
        }
    )
    run_id = service.create(config).run_id
    assert service.wait(run_id, timeout=600).status == "completed", service.logs(run_id)
    return service, run_id


def ours_per_worker(
    checkpoint: Path,
    frames: int,
    width: int,
    height: int,
    work: Path,
    layout: str = "single",
    panes: int = 1,
    preset: str = "veryfast",
) -> dict[str, float]:
    """One segment in this process: ``panes`` copies of the checkpoint in ``layout``."""
    from retroml.config import GameConfig
    from retroml.video.frames import MilestoneLabel
    from retroml.video.segment import PaneSpec, SegmentSpec, render_segment

    label = MilestoneLabel(100, 4096, 10, 1.0)
    curve = tuple((step, 0.5 + step / 4096) for step in range(0, 4097, 512))
    spec = SegmentSpec(
        index=0, output=str(work / f"ours_{layout}_{panes}_{width}.mp4"), game=GameConfig(id="breakout"),
        game_title="Breakout", algo="ppo",
        panes=tuple(
            PaneSpec(str(checkpoint), label, algo="ppo", caption=f"run {index + 1}", curve=curve)
            for index in range(panes)
        ),
        title_frames=0, play_frames=frames, width=width, height=height, threads=1, layout=layout, preset=preset,
    )  # fmt: skip
    with Measure() as measure:
        render_segment(spec)
    return {"fps": frames / measure.wall, "fps_per_cpu_sec": frames / measure.cpu}


def ours_journey(service: Any, run_id: str, frames: int, workers: int, preset: str) -> dict[str, float]:
    """A whole journey; the pool's workers are finished children when it returns, so their CPU counts."""
    from retroml.config import RenderConfig
    from retroml.video.journey import render_run_journey

    seconds = frames // 30
    with Measure() as measure:
        render_run_journey(
            service.raw_store, run_id, RenderConfig(length=f"{seconds}s", preset=preset), workers=workers
        )
    return {"fps": seconds * 30 / measure.wall, "fps_per_cpu_sec": seconds * 30 / measure.cpu}


def stock_recorder(frames: int, work: Path) -> dict[str, float]:
    """RL Zoo's record_video: VecVideoRecorder on an SB3 Atari env, policy predicting each step."""
    import ale_py
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack, VecVideoRecorder

    gym.register_envs(ale_py)
    env = make_atari_env("BreakoutNoFrameskip-v4", n_envs=1, seed=0, env_kwargs={"render_mode": "rgb_array"})
    env = VecFrameStack(env, n_stack=4)
    model = PPO("CnnPolicy", env, device="cpu", seed=0)
    recorder = VecVideoRecorder(env, str(work / "stock"), record_video_trigger=lambda step: step == 0,
                                video_length=frames - 1, name_prefix="stock")  # fmt: skip
    with Measure() as measure:
        obs = recorder.reset()
        for _ in range(frames):
            action, _ = model.predict(obs, deterministic=True)
            obs, _reward, _done, _info = recorder.step(action)
        recorder.close()
    assert any((work / "stock").glob("*.mp4")), "the stock recorder wrote no video"
    return {"fps": frames / measure.wall, "fps_per_cpu_sec": frames / measure.cpu}


def ten_hours_minutes(
    short: dict[str, float], long: dict[str, float], frames_short: int, frames_long: int, key: str
) -> float:
    """Minutes for a 10-hour journey on the line through two journeys' seconds (wall or CPU, by ``key``)."""
    seconds_short, seconds_long = frames_short / short[key], frames_long / long[key]
    per_frame = max(0.0, (seconds_long - seconds_short) / (frames_long - frames_short))
    fixed = max(0.0, seconds_long - per_frame * frames_long)
    return (fixed + per_frame * TEN_HOURS_FRAMES) / 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1800, help="frames per measurement (1800 = 60 s of video)")
    parser.add_argument("--preset", default=None, help="x264 preset of our renders (default: render.preset's default)")
    args = parser.parse_args()
    import torch

    from retroml.config import RenderConfig

    preset = args.preset or RenderConfig().preset

    torch.set_num_threads(1)
    home = Path(tempfile.mkdtemp(prefix="retroml-render-bench-"))
    work = home / "work"
    work.mkdir()
    try:
        service, run_id = train_tiny_run(home)
        checkpoint = service.paths(run_id).checkpoints / "latest.zip"
        stock = stock_recorder(args.frames, work)
        ours_per_worker(checkpoint, 30, 640, 480, work, preset=preset)  # start-up, as the stock side's
        ours_480 = ours_per_worker(checkpoint, args.frames, 640, 480, work, preset=preset)
        ours_720 = ours_per_worker(checkpoint, args.frames, 1280, 720, work, preset=preset)
        analytics = ours_per_worker(checkpoint, args.frames, 1280, 720, work, layout="analytics", preset=preset)
        compare_2 = ours_per_worker(checkpoint, args.frames, 640, 480, work, layout="compare", panes=2, preset=preset)
        compare_4 = ours_per_worker(checkpoint, args.frames, 640, 480, work, layout="compare", panes=4, preset=preset)
        # Whole journeys (15 segments, title cards, join, poster), 4× the frames so start-up is amortised;
        # the 2× one with 2 workers gives the fixed part of the line to 10 hours.
        journey_1 = ours_journey(service, run_id, 4 * args.frames, 1, preset)
        journey_2_short = ours_journey(service, run_id, 2 * args.frames, 2, preset)
        journey_2 = ours_journey(service, run_id, 4 * args.frames, 2, preset)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    def row(name: str, pixels: int, result: dict[str, float]) -> list[str]:
        return [
            name, f"{result['fps']:,.0f}", f"{result['fps_per_cpu_sec']:,.0f}",
            f"{result['fps_per_cpu_sec'] / stock['fps_per_cpu_sec']:.2f}×",
            f"{result['fps_per_cpu_sec'] * pixels / 1e6:,.0f}",
        ]  # fmt: skip

    rows = [
        row("stock: VecVideoRecorder + moviepy (ffmpeg), raw 160×210 frames", 160 * 210, stock),
        row("RetroML segment, 640×480 with HUD", 640 * 480, ours_480),
        row("RetroML segment, 1280×720 with HUD", 1280 * 720, ours_720),
        row("RetroML analytics, 1280×720 (probabilities, value, activations, curve)", 1280 * 720, analytics),
        row("RetroML compare, 2 panes, 640×480", 640 * 480, compare_2),
        row("RetroML compare, 4 panes, 640×480", 640 * 480, compare_4),
    ]
    print(f"x264 preset of our renders: {preset}")
    print_table(["render (1 worker)", "frames/s", "frames per CPU-s", "per core vs stock", "Mpixel per CPU-s"], rows)
    print(f"\nanalytics costs {ours_720['fps_per_cpu_sec'] / analytics['fps_per_cpu_sec']:.2f}× a plain 1280×720 frame")
    pane_frames = (2 * compare_2["fps_per_cpu_sec"], 4 * compare_4["fps_per_cpu_sec"])
    print(f"compare: {pane_frames[0]:,.0f} (2 panes) and {pane_frames[1]:,.0f} (4 panes) pane-frames per CPU-s")
    print(
        f"\nwhole journey, 640×480: 1 worker {journey_1['fps']:,.0f} frames/s, 2 workers {journey_2['fps']:,.0f}"
        f" frames/s; {journey_1['fps_per_cpu_sec']:,.0f} and {journey_2['fps_per_cpu_sec']:,.0f} frames per CPU-s"
    )
    projected_min = ten_hours_minutes(journey_2_short, journey_2, 2 * args.frames, 4 * args.frames, "fps")
    # Two workers on two cores that are theirs: the CPU-seconds a journey needs, spread over both.
    projected_cpu_min = (
        ten_hours_minutes(journey_2_short, journey_2, 2 * args.frames, 4 * args.frames, "fps_per_cpu_sec") / 2
    )
    print(f"\nscaling 1 → 2 workers (wall): {journey_2['fps'] / journey_1['fps']:.2f}×")
    print(f"projected 10-hour 30 fps 640×480 journey with 2 workers, from its CPU-seconds: {projected_cpu_min:.0f} min")
    print(f"the same from this run's wall time (the machine's load included): {projected_min:.0f} min")
    saved = save_results(
        "render_speed" if preset == RenderConfig().preset else f"render_speed_{preset}",
        {
            "frames": args.frames,
            "preset": preset,
            "stock": stock,
            "ours_640x480": ours_480,
            "ours_1280x720": ours_720,
            "analytics_1280x720": analytics,
            "compare_2_panes_640x480": compare_2,
            "compare_4_panes_640x480": compare_4,
            "journey_1_worker": journey_1,
            "journey_2_workers": journey_2,
            "journey_2_workers_half_length": journey_2_short,
            "ratio_per_core_640x480": ours_480["fps_per_cpu_sec"] / stock["fps_per_cpu_sec"],
            "ratio_per_core_1280x720": ours_720["fps_per_cpu_sec"] / stock["fps_per_cpu_sec"],
            "scaling_2_workers": journey_2["fps"] / journey_1["fps"],
            "projected_10h_minutes_2_workers": projected_min,
            "projected_10h_minutes_2_workers_from_cpu": projected_cpu_min,
            "load_average_1min": os.getloadavg()[0],
            "cpus": os.cpu_count(),
        },
    )
    print(f"results: {saved}")


if __name__ == "__main__":
    main()
