"""How long the non-training commands take to answer, against importing the libraries they are built on.

Each command runs as a fresh process (``python -m retroml.cli …``) against a temporary home holding
one run that was created but never started; the reference is ``python -c "import typer, rich,
sqlalchemy, pydantic"``. The best of ``--repeats`` wall-clock times counts (the least disturbed by
other work on the machine). The goal (issue 16): every command here within 2× the reference, which
means none of them loads torch, Stable-Baselines3 or ale-py.

    python benchmarks/cli_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_table, save_results

REFERENCE = "import typer, rich, sqlalchemy, pydantic"
GOAL_RATIO = 2.0


def best_seconds(command: list[str], repeats: int) -> float:
    """The shortest wall-clock time of ``repeats`` runs of ``command`` (which must succeed)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def created_run(home: Path) -> str:
    """A run in ``home`` that exists (folder, config, index) but never trained."""
    from retroml.config import build_config
    from retroml.runs.service import RunService

    config = build_config({"game": {"id": "pong"}, "train": {"algo": "ppo", "total_timesteps": 10_000}})
    return RunService(home).create(config, start=False).run_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="retroml-startup-") as folder:
        home = Path(folder) / "home"
        run_id = created_run(home)
        cli = [sys.executable, "-m", "retroml.cli"]
        commands = {
            "--help": [*cli, "--help"],
            "runs list": [*cli, "runs", "list", "--home", str(home)],
            "runs list --json": [*cli, "runs", "list", "--json", "--home", str(home)],
            "runs show": [*cli, "runs", "show", run_id, "--home", str(home)],
            "games": [*cli, "games"],
            "presets": [*cli, "presets"],
        }
        reference = best_seconds([sys.executable, "-c", REFERENCE], args.repeats)
        seconds = {name: best_seconds(command, args.repeats) for name, command in commands.items()}
    rows = [[f"`{REFERENCE}`", f"{reference:.2f}", "1.00", ""]]
    for name, value in seconds.items():
        within = "yes" if value <= GOAL_RATIO * reference else "NO"
        rows.append([f"`retroml {name}`", f"{value:.2f}", f"{value / reference:.2f}", within])
    print_table(["command", "best s", "× reference", f"≤ {GOAL_RATIO:g}×"], rows)
    path = save_results(
        "cli_startup",
        {
            "repeats": args.repeats,
            "reference": REFERENCE,
            "reference_seconds": round(reference, 3),
            "commands": {
                name: {"seconds": round(value, 3), "ratio": round(value / reference, 2)}
                for name, value in seconds.items()
            },
            "goal_ratio": GOAL_RATIO,
        },
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
