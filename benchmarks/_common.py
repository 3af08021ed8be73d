"""Shared bits of the benchmarks: their common options, where results go, how tables print, game names and
the GPU switch."""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import platform
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

RESULTS = Path(__file__).parent / "results"


def benchmark_parser(
    description: str | None,
    *,
    steps: int | None = None,
    rounds: int | None = None,
    repeats: int | None = None,
    game: str | None = None,
    device: str | None = None,
    kinds: Sequence[str] | None = None,
) -> argparse.ArgumentParser:
    """The parser of a benchmark with the options the benchmarks share, each added when given its default.

    :param steps: ``--steps``, the timesteps each measurement trains or plays.
    :param rounds: ``--rounds``, how many times the alternatives are timed in rotated order.
    :param repeats: ``--repeats``, how many times one measurement is repeated.
    :param game: ``--game``, the game id.
    :param device: ``--device``: ``cpu``, or ``cuda[:N]`` for the GPU comparison.
    :param kinds: ``--kinds``, the pipelines a comparison times (all of these by default), comma-separated.
    """
    parser = argparse.ArgumentParser(description=description)
    if steps is not None:
        parser.add_argument("--steps", type=int, default=steps)
    if rounds is not None:
        parser.add_argument("--rounds", type=int, default=rounds)
    if repeats is not None:
        parser.add_argument("--repeats", type=int, default=repeats)
    if game is not None:
        parser.add_argument("--game", default=game)
    if device is not None:
        parser.add_argument("--device", default=device, help="cpu, or cuda[:N] for the GPU comparison")
    if kinds is not None:
        parser.add_argument("--kinds", default=",".join(kinds), help=f"pipelines to time, among {', '.join(kinds)}")
    return parser


def save_results(name: str, data: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` with the machine and date alongside the numbers."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": platform.platform(),
        "cpus": __import__("os").cpu_count(),
        **data,
    }
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return path


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """A GitHub-markdown table, ready to paste into the README."""
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


def game_title(game: str) -> str:
    """``space_invaders`` → ``SpaceInvaders``: the name of the game in gymnasium's Atari ids."""
    return "".join(part.capitalize() for part in game.split("_"))


def in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a new Python process, as a run trains in its own: what one pipeline sets for its
    process (torch's threads, the C library's memory policy) does not carry over to the next one measured."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def cuda_skipped(device: str) -> bool:
    """True (after saying so) when ``device`` asks for a GPU this machine does not have."""
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        print(f"skipped: --device {device} needs a CUDA GPU and torch {torch.__version__} sees none")
        return True
    return False


class PhaseTimer(BaseCallback):
    """Splits wall time between collecting experience (rollouts) and the gradient updates after it."""

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


def run_monitor(config: Any, steps: int) -> BaseCallback:
    """RetroML's real run callback (metrics, heartbeats, milestones) writing to a real store in a temp home."""
    from retroml import milestones
    from retroml.engine.monitor import Leg, RunMonitor
    from retroml.paths import run_paths
    from retroml.store import Store

    home = Path(tempfile.mkdtemp(prefix="retroml-bench-"))
    store = Store(home)
    paths = run_paths(home, "run-bench")
    paths.make()
    store.insert_run(
        {
            "run_id": "run-bench",
            "name": "bench",
            "game": config.game.id,
            "algo": config.train.algo,
            "status": "running",
            "created_at": time.time(),
            "total_timesteps": steps,
            "legs": [],
        }
    )
    leg = Leg(1, 0, steps, milestones.pending(config.milestones_pct, 0, steps, reached=[]))
    return RunMonitor(store, "run-bench", paths, config, leg, threading.Event())
