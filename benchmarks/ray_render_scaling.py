"""Journey render throughput on Ray (1 and 2 workers) against the local process pool, in one run.

Trains a tiny Breakout run, starts a one-node Ray cluster on 127.0.0.1 (2 CPUs), then renders the
same journey's segments four ways — local pool with 1 and 2 workers, Ray tasks with 1 and 2 in
flight — and times the join separately. Prints finished frames/s and ratios, and projects the wall
time of a 10-hour journey on N nodes from the per-worker figure and the join cost.

    python benchmarks/ray_render_scaling.py [--length 2m]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_table, save_results

os.environ.setdefault("RAY_AUTH_MODE", "token")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

TEN_HOURS_FRAMES = 10 * 3600 * 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def timed_render(service: Any, run_id: str, length: str, runner: Any, workers: int) -> dict[str, float]:
    """Render the segments with ``runner``, then join them; seconds of each phase."""
    from retroml.config import RenderConfig
    from retroml.video.encoder import join_segments
    from retroml.video.journey import plan_journey

    work = service.paths(run_id).videos / f".bench-{time.monotonic_ns()}"
    work.mkdir(parents=True)
    plan = plan_journey(service.raw_store, run_id, RenderConfig(length=length), work, threads=1)
    started = time.perf_counter()
    for _result in runner(plan.segments, workers, lambda: None):
        pass
    rendered = time.perf_counter()
    join_segments([Path(segment.output) for segment in plan.segments], work / "joined.mp4")
    joined = time.perf_counter()
    shutil.rmtree(work)
    return {"frames": plan.frames, "render_sec": rendered - started, "join_sec": joined - rendered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", default="2m", help="journey length rendered by each configuration")
    args = parser.parse_args()
    ray_cli = shutil.which("ray")
    if ray_cli is None:
        sys.exit("this benchmark needs the cluster extra: pip install 'retroml[cluster]'")
    home = Path(tempfile.mkdtemp(prefix="retroml-ray-bench-"))
    port = free_port()
    address = f"127.0.0.1:{port}"
    start = [ray_cli, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats"]  # fmt: skip
    try:
        service, run_id = train_tiny_run(home)
        subprocess.run(start, check=True, capture_output=True, timeout=180)
        from retroml.runs.ray_executor import RayExecutor
        from retroml.video.pipeline import run_in_pool

        ray_runner = RayExecutor(address).segment_runner()
        # Warm-up: Ray starts its worker processes (and they import torch) on first use.
        timed_render(service, run_id, "10s", ray_runner, 2)
        configurations = [("local pool", 1, run_in_pool), ("local pool", 2, run_in_pool),
                          ("Ray tasks", 1, ray_runner), ("Ray tasks", 2, ray_runner)]  # fmt: skip
        results = []
        for name, workers, runner in configurations:
            timing = timed_render(service, run_id, args.length, runner, workers)
            fps = timing["frames"] / timing["render_sec"]
            results.append({"executor": name, "workers": workers, **timing, "frames_per_sec": fps})
            print(f"{name} × {workers}: {fps:,.0f} frames/s, join {timing['join_sec']:.2f} s", flush=True)
    finally:
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=180)
        shutil.rmtree(home, ignore_errors=True)

    local = {row["workers"]: row["frames_per_sec"] for row in results if row["executor"] == "local pool"}
    rows = []
    for row in results:
        ratio = row["frames_per_sec"] / local[row["workers"]]
        row["ratio_vs_local_same_workers"] = ratio
        rows.append([row["executor"], row["workers"], f"{row['frames_per_sec']:,.0f}",
                     f"{row['frames_per_sec'] / row['workers']:,.0f}", f"{ratio:.2f}×",
                     f"{row['join_sec']:.2f} s"])  # fmt: skip
    print_table(["executor", "workers", "frames/s", "frames/s per worker", "vs local pool", "join"], rows)

    ray_two = next(row for row in results if row["executor"] == "Ray tasks" and row["workers"] == 2)
    per_worker = ray_two["frames_per_sec"] / 2
    join_per_frame = ray_two["join_sec"] / ray_two["frames"]
    projection = []
    for nodes in (1, 2, 4, 8):
        workers = nodes * 2
        render = TEN_HOURS_FRAMES / (per_worker * workers)
        join = TEN_HOURS_FRAMES * join_per_frame
        projection.append({"nodes": nodes, "workers": workers, "render_min": render / 60, "join_min": join / 60})
    print("\nProjected 10-hour 640×480 journey (2-CPU nodes, per-worker speed of Ray × 2, join measured):")
    print_table(["nodes", "workers", "render", "join", "total"],
                [[p["nodes"], p["workers"], f"{p['render_min']:.0f} min", f"{p['join_min']:.1f} min",
                  f"{p['render_min'] + p['join_min']:.0f} min"] for p in projection])  # fmt: skip
    saved = save_results("ray_render_scaling", {"length": args.length, "results": results, "projection": projection})
    print(f"\nresults: {saved}")


if __name__ == "__main__":
    main()
