"""Layers import downward only: faces (cli, web, desktop) → runs → engine, video → the bottom.

The bottom is ``config``, ``store``, ``games``, ``migrations`` and the small shared modules at the
package top (``calibration``, ``milestones``, ``paths``, ``formatting``, ...). Every import counts,
at module level or inside a function (a late import to keep start-up fast is still a dependency),
and so does one only made for type checking. ``engine/`` also never imports ``video/``: the training
loop gets its frame and milestone hooks from the job.
"""

from __future__ import annotations

import ast
from pathlib import Path

import retroml

PACKAGE = Path(retroml.__file__).parent

# The rank of each layer: a module may import its own layer or a lower one.
LAYERS = {"cli": 3, "web": 3, "desktop": 3, "runs": 2, "engine": 1, "video": 1}
BOTTOM = 0
# Same rank, still one way.
FORBIDDEN = {("engine", "video")}
# Known exceptions, each with its reason; the list only shrinks.
ALLOWED: set[tuple[str, str]] = set()


def layer_of(module: str) -> str:
    """``retroml.runs.model`` → ``runs``; a module at the package top (or a bottom package) → itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def rank(layer: str) -> int:
    return LAYERS.get(layer, BOTTOM)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every ``retroml`` module the file imports, with its line, wherever the import statement is."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            if source == "retroml":
                # ``from retroml import milestones`` imports the module ``retroml.milestones``.
                found += [(node.lineno, f"retroml.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, source))
    return [(line, module) for line, module in found if module.split(".")[0] == "retroml"]


def upward_imports() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = layer_of(module_name(path))
        for line, module in imported_modules(path):
            target = layer_of(module)
            if (own, module) in ALLOWED:
                continue
            if rank(target) > rank(own) or (own, target) in FORBIDDEN:
                where = path.relative_to(PACKAGE.parent)
                problems.append(f"{where}:{line} ({own or 'top'}) imports {module} ({target})")
    return problems


def test_no_module_imports_a_layer_above_its_own() -> None:
    problems = upward_imports()
    assert not problems, "upward imports:\n" + "\n".join(problems)


def test_the_check_sees_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    source = PACKAGE / "video" / "labels.py"
    modules = {module for _, module in imported_modules(source)}
    assert "retroml.engine.checkpoints" in modules and "retroml.milestones" in modules
    live = {module for _, module in imported_modules(PACKAGE / "video" / "live.py")}
    assert "retroml.video.labels" in live  # imported inside a function there
    assert layer_of("retroml.runs.model") == "runs" and rank("runs") > rank("video")
    assert rank(layer_of("retroml.formatting")) == BOTTOM
