"""What capturing the training time-lapse costs training: steps/s with capture at 2 fps vs without.

PPO trainings on Breakout with the same settings and budget, in pairs of "without" and "with" (the
order flipping every pair) so that a machine getting busier or quieter affects both alike. Milestone
clips are off in both, so the only difference is ``recording.timelapse_fps``. Training steps/s come
from the metrics' own clock (first to last rollout), as in ``recording_overhead.py``; the end-of-run
wait for the writer is not training.

    python benchmarks/timelapse_overhead.py [--steps 16384] [--repeats 3] [--fps 2]
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import benchmark_parser, print_table, save_results

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
    run_id = service.create(config).run_id
    assert service.wait(run_id, timeout=3600).status == "completed", service.logs(run_id)
    rows = service.metrics(run_id)
    first, last = rows[0], rows[-1]
    rate = (last["timesteps"] - first["timesteps"]) / (last["wall_time"] - first["wall_time"])
    parts = service.raw_store.artifacts(run_id, ["timelapse_part"])
    return rate, sum(part["meta"]["frames"] for part in parts)


def main() -> None:
    parser = benchmark_parser(__doc__.splitlines()[0], steps=16_384, repeats=3)
    parser.add_argument("--fps", type=float, default=2.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="retroml-timelapse-bench-"))
    off: list[float] = []
    on: list[float] = []
    frames: list[int] = []
    try:
        for repeat in range(args.repeats):
            # without, with; then with, without: whatever the order itself does cancels out over pairs.
            for capture in (False, True) if repeat % 2 == 0 else (True, False):
                rate, written = steps_per_sec(work / f"{capture}{repeat}", args.steps, args.fps if capture else 0)
                if capture:
                    on.append(rate)
                    frames.append(written)
                else:
                    off.append(rate)
            print(f"repeat {repeat + 1}: {off[-1]:,.0f} vs {on[-1]:,.0f} steps/s ({frames[-1]} frames)", flush=True)
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
    # The median of the pairs shrugs off one pair that another process on the machine disturbed.
    median = statistics.median(pair_ratios)
    pairs = ", ".join(f"{pair:.3f}" for pair in pair_ratios)
    print(f"ratio with/without: {ratio:.3f} of the means, {median:.3f} median of the pairs "
          f"(cost {100 * (1 - median):.1f} %); per pair: {pairs}")  # fmt: skip
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
            "cost": 1 - median,
            "pair_ratios": pair_ratios,
            "median_pair_ratio": median,
        },
    )
    print(f"results: {saved}")


if __name__ == "__main__":
    main()
