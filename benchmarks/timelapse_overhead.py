"""What capturing the training time-lapse costs training: steps/s with capture at 2 fps vs without.

PPO trainings on Breakout with the same settings and budget, alternating "without" and "with" so that
a machine getting busier or quieter affects both alike. Milestone clips are off in both, so the only
difference is ``recording.timelapse_fps``. Training steps/s come from the metrics' own clock (first to
last rollout), as in ``recording_overhead.py``; the end-of-run wait for the writer is not training.

    python benchmarks/timelapse_overhead.py [--steps 16384] [--repeats 3] [--fps 2]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_table, save_results

N_ENVS = 8


def steps_per_sec(home: Path, steps: int, timelapse_fps: float) -> tuple[float, int]:
    """Train through RunService; returns (steps/s while training, time-lapse frames written)."""
    from retroml.config import build_config
    from retroml.runs.service import RunService

    service = RunService(home)
    config = build_config(
        {
            "game": {"id": "breakout"},
            "train": {"algo": "ppo", "total_timesteps": steps, "n_envs": N_ENVS},
            "recording": {"enabled": False, "timelapse_fps": timelapse_fps},
        }
    )
    run_id = service.create(config)["run_id"]
    assert service.wait(run_id, timeout=3600)["status"] == "completed", service.logs(run_id)
    rows = service.metrics(run_id)
    first, last = rows[0], rows[-1]
    rate = (last["timesteps"] - first["timesteps"]) / (last["wall_time"] - first["wall_time"])
    parts = service.store.artifacts(run_id, ["timelapse_part"])
    return rate, sum(part["meta"]["frames"] for part in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=16_384)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fps", type=float, default=2.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="retroml-timelapse-bench-"))
    off: list[float] = []
    on: list[float] = []
    frames: list[int] = []
    try:
        for repeat in range(args.repeats):
            off.append(steps_per_sec(work / f"off{repeat}", args.steps, 0)[0])
            rate, written = steps_per_sec(work / f"on{repeat}", args.steps, args.fps)
            on.append(rate)
            frames.append(written)
            print(f"repeat {repeat + 1}: {off[-1]:,.0f} vs {on[-1]:,.0f} steps/s ({written} frames)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = statistics.mean(on) / statistics.mean(off)
    pair_ratios = [with_capture / without for with_capture, without in zip(on, off, strict=True)]
    print_table(
        ["training", "steps/s (mean)", "runs (steps/s)", "time-lapse frames"],
        [
            ["without time-lapse", f"{statistics.mean(off):,.0f}", ", ".join(f"{rate:,.0f}" for rate in off), 0],
            [f"with time-lapse at {args.fps:g} fps", f"{statistics.mean(on):,.0f}",
             ", ".join(f"{rate:,.0f}" for rate in on), ", ".join(str(count) for count in frames)],
        ],
    )  # fmt: skip
    print(f"ratio with/without: {ratio:.3f} (cost {100 * (1 - ratio):.1f} %); per pair: "
          + ", ".join(f"{pair:.3f}" for pair in pair_ratios))  # fmt: skip
    saved = save_results(
        "timelapse_overhead",
        {
            "steps": args.steps,
            "repeats": args.repeats,
            "timelapse_fps": args.fps,
            "without": off,
            "with": on,
            "frames": frames,
            "ratio": ratio,
            "cost": 1 - ratio,
            "pair_ratios": pair_ratios,
        },
    )
    print(f"results: {saved}")


if __name__ == "__main__":
    main()
