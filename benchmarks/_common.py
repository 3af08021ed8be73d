"""Shared bits of the benchmarks: where results go and how tables print."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def save_results(name: str, data: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` with the machine and date alongside the numbers."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name, "date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.platform(),
        "cpus": __import__("os").cpu_count(), **data,
    }
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return path


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """A GitHub-markdown table, ready to paste into the README."""
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
