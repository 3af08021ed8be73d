"""How long the non-training commands take to answer, against importing the libraries they are built on.

Each command runs as a fresh process (``python -m retroml.cli …``) against a temporary home holding
one run that was created but never started; the reference is ``python -c "import typer, rich,
sqlalchemy, pydantic"``. The best of ``--repeats`` wall-clock times counts (the least disturbed by
other work on the machine), each round running every command once. The goal (issue 16): every command
here within 2× the reference, which means none of them loads torch or Stable-Baselines3, and none but
the ``games`` table (which loads every ROM to count its actions) loads ale-py.

    python benchmarks/cli_startup.py [--repeats 5]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import benchmark_parser, print_table, save_results

REFERENCE = "import typer, rich, sqlalchemy, pydantic"
GOAL_RATIO = 2.0


def seconds(command: list[str]) -> float:
    """The wall-clock time of one run of ``command`` (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def best_seconds(commands: dict[str, list[str]], repeats: int) -> dict[str, float]:
    """The shortest time of each command over ``repeats`` rounds; each round runs every command once,
    so a machine getting busier or quieter affects them all alike."""
    best = dict.fromkeys(commands, float("inf"))
    for _ in range(repeats):
        for name, command in commands.items():
            best[name] = min(best[name], seconds(command))
    return best


def created_run(home: Path) -> str:
    """A run in ``home`` that exists (folder, config, index) but never trained."""
    from retroml.config import build_config
    from retroml.runs.service import RunService

    config = build_config({"game": {"id": "pong"}, "train": {"algo": "ppo", "total_timesteps": 10_000}})
    return RunService(home).create(config, start=False).run_id


def main() -> None:
    parser = benchmark_parser(__doc__.splitlines()[0], repeats=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="retroml-startup-") as folder:
        home = Path(folder) / "home"
        run_id = created_run(home)
        cli = [sys.executable, "-m", "retroml.cli"]
        commands = {
            "reference": [sys.executable, "-c", REFERENCE],
            "--help": [*cli, "--help"],
            "runs list": [*cli, "runs", "list", "--home", str(home)],
            "runs list --json": [*cli, "runs", "list", "--json", "--home", str(home)],
            "runs show": [*cli, "runs", "show", run_id, "--home", str(home)],
            "games --json": [*cli, "games", "--json"],
            "games": [*cli, "games"],
            "presets": [*cli, "presets"],
        }
        best = best_seconds(commands, args.repeats)
    reference = best.pop("reference")
    rows = [[f"`{REFERENCE}`", f"{reference:.2f}", "1.00", ""]]
    for name, value in best.items():
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
                name: {"seconds": round(value, 3), "ratio": round(value / reference, 2)} for name, value in best.items()
            },
            "goal_ratio": GOAL_RATIO,
        },
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
