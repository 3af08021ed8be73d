"""Are the steps/s and ETA a run shows true? Each algorithm trains a real run while a stopwatch watches.

The watcher polls the run as a face does (``RunService.get`` every 0.5 s) and records the time, the
timesteps and the steps/s and ETA the run shows. Afterwards:
- real pace: timesteps over stopwatch seconds from a quarter of the run to its end;
- shown/real: each steps/s shown after the first quarter, divided by the real pace (min, median, max);
- ETA error: the finish predicted at a quarter of the run against the moment it really finished,
  as a fraction of the time that was left.
Usage: ``python benchmarks/speed_truth.py [--steps 40000] [--algos ppo,a2c,dqn]`` (results in
``results/speed_truth_<algos>.json``).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retroml.config import build_config
from retroml.engine.monitor import SPEED_WINDOW_SEC
from retroml.runs.service import RunService

sys.path.insert(0, str(Path(__file__).parent))
from _common import benchmark_parser, print_table, save_results


@dataclass(frozen=True)
class Sample:
    wall: float
    timesteps: int
    steps_per_sec: float | None
    eta_seconds: float | None


def watch(service: RunService, run_id: str, poll: float = 0.5) -> list[Sample]:
    """Poll the run until it ends; the samples taken while it was running."""
    samples = []
    while True:
        run = service.get(run_id)
        if run.status != "running":
            if run.status in ("completed", "failed", "stopped", "interrupted"):
                return samples
        else:
            samples.append(Sample(time.monotonic(), run.timesteps, run.steps_per_sec, run.eta_seconds))
        time.sleep(poll)


def speed_truth(samples: list[Sample], start: int, total: int, window: float = SPEED_WINDOW_SEC) -> dict[str, float]:
    """Shown steps/s against the stopwatch from a quarter of the run on, and the ETA error at a quarter.

    Each steps/s shown is compared with the stopwatch's pace over the whole rest of the run and over
    the ``window`` seconds before it (what the run averages over: on a shared machine the pace moves).
    """
    quarter = start + (total - start) // 4
    after = [sample for sample in samples if sample.timesteps >= quarter]
    first = after[0]
    finished = next((sample for sample in after if sample.timesteps >= total), after[-1])
    real = (finished.timesteps - first.timesteps) / (finished.wall - first.wall)
    shown = [sample for sample in after if sample.steps_per_sec and sample.timesteps < total]
    ratios = [sample.steps_per_sec / real for sample in shown if sample.steps_per_sec]
    local = []
    for sample in shown:
        earlier = [other for other in samples if other.wall <= sample.wall - window]
        if earlier and sample.steps_per_sec and sample.timesteps > earlier[-1].timesteps:
            pace = (sample.timesteps - earlier[-1].timesteps) / (sample.wall - earlier[-1].wall)
            local.append(sample.steps_per_sec / pace)
    predicted = next(sample for sample in after if sample.eta_seconds is not None)
    left = finished.wall - predicted.wall
    assert predicted.eta_seconds is not None
    return {
        "real_steps_per_sec": real,
        "shown_over_real_min": min(ratios),
        "shown_over_real_median": statistics.median(ratios),
        "shown_over_real_max": max(ratios),
        "shown_over_window_min": min(local, default=float("nan")),
        "shown_over_window_max": max(local, default=float("nan")),
        "eta_error": abs(predicted.wall + predicted.eta_seconds - finished.wall) / left,
        "samples": len(shown),
    }


CONFIGS: dict[str, dict[str, Any]] = {
    "ppo": {"algo": "ppo", "n_envs": 8},
    "a2c": {"algo": "a2c", "n_envs": 8},
    "dqn": {"algo": "dqn", "n_envs": 4, "buffer_size": 20_000},
}


def main() -> None:
    parser = benchmark_parser(__doc__, steps=40_000, game="breakout")
    parser.add_argument("--algos", default="ppo,a2c,dqn")
    args = parser.parse_args()
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as home:
        service = RunService(home)
        for algo in args.algos.split(","):
            train = {**CONFIGS[algo], "total_timesteps": args.steps}
            config = build_config({"game": {"id": args.game}, "train": train, "recording": {"enabled": False}})
            run = service.create(config)
            samples = watch(service, run.run_id)
            truth = speed_truth(samples, run.start_timesteps, run.total_timesteps)
            final = service.get(run.run_id)
            truth["average_shown_after"] = final.steps_per_sec or 0.0
            results[algo] = truth
            rows.append(
                [
                    algo.upper(),
                    f"{truth['real_steps_per_sec']:.0f}",
                    f"{truth['shown_over_real_min']:.2f} / {truth['shown_over_real_median']:.2f} / "
                    f"{truth['shown_over_real_max']:.2f}",
                    f"{truth['shown_over_window_min']:.2f} / {truth['shown_over_window_max']:.2f}",
                    f"{100 * truth['eta_error']:.0f} %",
                    f"{truth['average_shown_after']:.0f}",
                ]
            )
    print_table(["algo", "real steps/s (stopwatch)", "shown / real: min / median / max",
                 f"shown / stopwatch over the {SPEED_WINDOW_SEC:.0f} s before: min / max", "ETA error at 25 %",
                 "average shown when done"], rows)  # fmt: skip
    save_results(f"speed_truth_{'_'.join(results)}", {"steps": args.steps, "game": args.game, "results": results})


if __name__ == "__main__":
    main()
