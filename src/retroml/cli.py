"""``retroml``: the command-line face. It parses, calls ``runs.service`` and shows progress; nothing more.

Errors a user can cause come back as one sentence on stderr and exit code 2.
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Column, Table
from rich.text import Text

from pydantic import TypeAdapter

from retroml.config import (
    ALGOS, Preset, all_presets, apply_assignment, build_config, foreign_hyperparameters, load_yaml, merge,
    parse_budget, parse_duration, preset_config,
)  # fmt: skip
from retroml.errors import RetroMLError
from retroml.games import Game, all_games, get_game
from retroml.runs.model import ENDED_STATUSES, Run, RunStatus, duration_text

if TYPE_CHECKING:
    from retroml.runs.service import RunService

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Train Atari agents and film their learning journey."
)
runs_app = typer.Typer(no_args_is_help=True, help="List and control runs.")
app.add_typer(runs_app, name="runs")
console = Console()
errors = Console(stderr=True, soft_wrap=True)

HomeOption = Annotated[Path | None, typer.Option("--home", help="Data home (default: $RETROML_HOME or ./outputs).")]
DbOption = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store (default: <home>/retroml.db).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts and jq) instead of a table.")]


def print_json(value: object, shape: Any) -> None:
    """``value`` as JSON, serialised by its own typed model (``shape``): the fields the web API publishes."""
    typer.echo(TypeAdapter(shape).dump_json(value, indent=2).decode())


def shown(text: object) -> str:
    """``text`` on one line as typed: control characters (an escape sequence, a newline) as ``\\x1b``, ``\\n``."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in str(text))


def literal(text: object) -> str:
    """``text`` inside rich markup, shown literally: a run named ``[/bold]`` is a name, not a tag."""
    return escape(shown(text))


def fail(message: str) -> typer.Exit:
    errors.print(Text.assemble(("error:", "red"), " " + shown(message)), highlight=False)
    return typer.Exit(code=2)


ExecutorOption = Annotated[
    str, typer.Option("--executor", help="Where runs and renders go: local processes or a ray cluster.")
]
RayAddressOption = Annotated[
    str | None, typer.Option("--ray-address", help="Ray cluster host:port (default: $RAY_ADDRESS or auto).")
]


def service_for(
    home: Path | None, db: str | None, executor: str = "local", ray_address: str | None = None
) -> RunService:
    from retroml.runs.service import RunService, make_executor

    return RunService(home, db, executor=make_executor(executor, ray_address))


def parse_steps(text: str | None, flag: str = "--steps") -> int | None:
    """A budget flag through :func:`retroml.config.parse_budget` (``500k``, ``2.5M``, ``2e6``); ``flag`` names it."""
    if text is None:
        return None
    try:
        return parse_budget(text, flag)
    except RetroMLError as error:
        raise fail(str(error)) from None


@app.command()
def games(as_json: JsonOption = False) -> None:
    """The game catalogue: id, title, difficulty, number of actions."""
    from retroml.games import action_meanings

    if as_json:
        print_json(all_games(), tuple[Game, ...])
        return
    table = Table("id", "title", "difficulty", "actions", "description")
    for game in all_games():
        table.add_row(game.id, game.title, game.difficulty, str(len(action_meanings(game.id))), game.description)
    console.print(table)


@app.command()
def presets(as_json: JsonOption = False) -> None:
    """The ready-made training presets (``retroml train --preset NAME``)."""
    if as_json:
        print_json(all_presets(), list[Preset])
        return
    table = Table("preset", "title", "game", "algo", "timesteps", "description")
    for preset in all_presets():
        config = preset.effective
        table.add_row(
            preset.id,
            preset.title,
            config.game.id,
            config.train.algo,
            f"{config.train.total_timesteps:,}",
            preset.description,
        )
    console.print(table)


@app.command()
def train(
    game: Annotated[str | None, typer.Option(help="Game id (see `retroml games`).")] = None,
    algo: Annotated[str | None, typer.Option(help=f"One of {', '.join(ALGOS)}.")] = None,
    steps: Annotated[str | None, typer.Option(help="Total timesteps, e.g. 2_000_000 or 2M.")] = None,
    envs: Annotated[int | None, typer.Option(help="Parallel environments.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    device: Annotated[
        str | None, typer.Option(help="auto (a CUDA GPU if torch sees one, else the CPU), cpu, cuda or cuda:N.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Run name.")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config file.")] = None,
    preset: Annotated[str | None, typer.Option(help="Start from a preset (see `retroml presets`).")] = None,
    fast: Annotated[
        bool, typer.Option("--fast", help="Fast Mode: no live recording, journey rendered at the end.")
    ] = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: section.key=value (repeatable).")] = None,
    render_only: Annotated[
        bool, typer.Option("--render-only", help="Render the journey of --run-id; no training.")
    ] = False,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Run to render with --render-only.")] = None,
    detach: Annotated[bool, typer.Option("--detach", help="Start the run and return at once.")] = False,
    home: HomeOption = None,
    db: DbOption = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Train an agent (or, with --render-only, render the journey of an existing run)."""
    try:
        if render_only:
            if not run_id:
                raise fail("--render-only needs --run-id RUN (the run whose journey to render)")
            _render(service_for(home, db, executor, ray_address), run_id, None, None, None, None)
            return
        if algo is not None and algo not in ALGOS:
            raise fail(f"--algo '{algo}' is not one of {', '.join(ALGOS)}")
        data: dict[str, Any] = preset_config(preset) if preset else {}
        if config is not None:
            data = merge(data, load_yaml(config))
        if algo:
            _drop_foreign_hyperparameters(data, algo)
        flags: dict[str, Any] = {
            "name": name,
            "fast_mode": True if fast else None,
            "game": {"id": game} if game else None,
            "train": {
                key: value
                for key, value in {
                    "algo": algo,
                    "total_timesteps": parse_steps(steps),
                    "n_envs": envs,
                    "seed": seed,
                    "device": device,
                }.items()
                if value is not None
            }
            or None,
        }
        data = merge(data, {key: value for key, value in flags.items() if value is not None})
        for assignment in set_ or []:
            data = apply_assignment(data, assignment)
        if isinstance(data.get("game"), dict) and "id" in data["game"]:
            get_game(str(data["game"]["id"]))
        run_config = build_config(data)
        service = service_for(home, db, executor, ray_address)
        estimate = service.training_estimate(run_config)
        console.print(
            f"Estimated training time: {estimate.text} ({estimate.device}; {estimate.note})", highlight=False
        )
        run = service.create(run_config)
    except RetroMLError as error:
        raise fail(str(error)) from None
    mode = " in Fast Mode" if run.fast_mode else ""
    log = literal(service.paths(run.run_id).log)
    console.print(f"started [bold]{run.run_id}[/bold] ({literal(run.name)}){mode}; log: {log}", highlight=False)
    if detach:
        return
    follow(service, run.run_id)


@app.command()
def sweep(
    games: Annotated[str, typer.Option(help="Comma-separated game ids, e.g. pong,breakout,space_invaders.")],
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds, e.g. 0,1,2.")] = "0",
    algo: Annotated[str | None, typer.Option(help=f"One of {', '.join(ALGOS)}.")] = None,
    steps: Annotated[str | None, typer.Option(help="Total timesteps of each run, e.g. 2M.")] = None,
    envs: Annotated[int | None, typer.Option(help="Parallel environments of each run.")] = None,
    preset: Annotated[str | None, typer.Option(help="Start each run from a preset.")] = None,
    fast: Annotated[bool, typer.Option("--fast", help="Fast Mode for every run.")] = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: section.key=value (repeatable).")] = None,
    wait: Annotated[bool, typer.Option(help="Follow the runs until they all end.")] = True,
    home: HomeOption = None,
    db: DbOption = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Start one run per game × seed (on a Ray cluster with --executor ray) and follow them."""
    try:
        game_ids = [get_game(game.strip()).id for game in games.split(",") if game.strip()]
        seed_values = [int(seed) for seed in seeds.split(",") if seed.strip()]
    except ValueError:
        raise fail(f"--seeds must be integers separated by commas, not '{seeds}'") from None
    except RetroMLError as error:
        raise fail(str(error)) from None
    if algo is not None and algo not in ALGOS:
        raise fail(f"--algo '{algo}' is not one of {', '.join(ALGOS)}")
    label = f"sweep-{time.strftime('%Y%m%d-%H%M')}"
    try:
        configs = []
        for game_id in game_ids:
            for seed_value in seed_values:
                data: dict[str, Any] = preset_config(preset) if preset else {}
                if algo:
                    _drop_foreign_hyperparameters(data, algo)
                train = {"seed": seed_value, "algo": algo, "total_timesteps": parse_steps(steps), "n_envs": envs}
                flags = {"game": {"id": game_id}, "train": {k: v for k, v in train.items() if v is not None}}
                data = merge(data, {**flags, "name": f"{label}-{game_id}-seed{seed_value}"})
                if fast:
                    data["fast_mode"] = True
                for assignment in set_ or []:
                    data = apply_assignment(data, assignment)
                configs.append(build_config(data))
        service = service_for(home, db, executor, ray_address)
        run_ids = [service.create(config).run_id for config in configs]
    except RetroMLError as error:
        raise fail(str(error)) from None
    console.print(f"started {len(run_ids)} runs ({label}) on the {service.executor.name} executor")
    if not wait:
        console.print(_sweep_table(service, run_ids))
        return
    from rich.live import Live

    with Live(_sweep_table(service, run_ids), console=console, refresh_per_second=1) as live:
        while any(service.get(run_id).status not in ENDED_STATUSES for run_id in run_ids):
            time.sleep(2.0)
            live.update(_sweep_table(service, run_ids))
        live.update(_sweep_table(service, run_ids))


def _sweep_table(service: RunService, run_ids: list[str]) -> Table:
    table = Table("run_id", "game", "seed", "status", "progress", "steps/s", "mean score", "host")
    for run_id in run_ids:
        run = service.get(run_id)
        seed = service.config(run_id).train.seed
        shown = (_status(run), _percent(run.progress), _speed(run), _score(run.score_mean), run.host or "")
        table.add_row(run_id, run.game, str(seed), *shown)
    return table


def _drop_foreign_hyperparameters(data: dict[str, Any], algo: str) -> None:
    """A preset's or config file's PPO settings must not leak into a run whose --algo says DQN.

    Called before the flags and ``--set`` are applied: what the user sets there is validated, never dropped.
    """
    train = data.get("train")
    if isinstance(train, dict):
        for key in foreign_hyperparameters(algo) & set(train):
            del train[key]


# How a run's fields read on a terminal; the values themselves all come from the Run model.
def _status(run: Run) -> str:
    return f"{run.status}{' ⚡' if run.fast_mode else ''}"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.0f} %"


def _speed(run: Run) -> str:
    return f"{run.steps_per_sec:,.0f}" if run.steps_per_sec else ""


def _score(score: float | None) -> str:
    return "" if score is None else f"{score:.2f}"


def _number(header: str) -> Column:
    return Column(header, justify="right")


def _eta(run: Run) -> str:
    if run.eta_seconds is not None:
        return f"ETA {duration_text(run.eta_seconds)}"
    if run.status is RunStatus.RENDERING and run.render_progress is not None:
        return f"rendering the journey {_percent(run.render_progress)}"
    return ""


def follow(service: RunService, run_id: str) -> None:
    """Show a run's progress through its whole budget until it ends; Ctrl-C stops it with a checkpoint."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[steps]}"),
        TextColumn("{task.fields[speed]}"),
        TextColumn("{task.fields[eta]}"),
        TextColumn("episodes {task.fields[episodes]}"),
        TextColumn("mean {task.fields[score]}"),
    )
    run = service.get(run_id)
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(str(run.status), total=1.0, steps="", speed="", eta="", episodes=0, score="–")
            while True:
                run = service.get(run_id)
                progress.update(
                    task,
                    completed=run.progress,
                    description=str(run.status),
                    steps=f"{run.timesteps:,}/{run.total_timesteps:,} steps",
                    speed=f"{_speed(run)} steps/s" if run.steps_per_sec else "",
                    eta=_eta(run),
                    episodes=run.episodes,
                    score=_score(run.score_mean) or "–",
                )
                if run.status in ENDED_STATUSES:
                    break
                time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping: saving a checkpoint …")
        service.stop(run_id)
        run = service.wait(run_id, timeout=120)
    _print_outcome(service, run)


def _print_outcome(service: RunService, run: Run) -> None:
    paths = service.paths(run.run_id)
    folder = literal(paths.root)
    console.print(f"run {run.run_id} {run.status} at {run.timesteps:,} timesteps; folder: {folder}", highlight=False)
    if run.message:
        console.print(literal(run.message), highlight=False)
    for video in service.videos(run_id=run.run_id, kinds=("journey",)):
        console.print(f"journey: {literal(service.home / video['path'])}", highlight=False)
    if run.status is RunStatus.FAILED:
        raise typer.Exit(code=1)


@runs_app.command("list")
def runs_list(
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    game: Annotated[str | None, typer.Option(help="Only runs of this game.")] = None,
    home: HomeOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """All runs, newest first (⚡: Fast Mode)."""
    if status is not None and status not in set(RunStatus):
        raise fail(f"--status '{status}' is not one of {', '.join(RunStatus)}")
    try:
        service = service_for(home, db)
    except RetroMLError as error:
        raise fail(str(error)) from None
    if as_json:
        print_json(service.list_runs(status=status, game=game), list[Run])
        return
    numbers = [
        _number(header)
        for header in ("progress", "timesteps", "episodes", "mean score", "best score", "steps/s", "training time")
    ]
    # The id and status never wrap, so a narrow terminal still shows which run is which.
    table = Table(
        Column("run_id", no_wrap=True), "name", "game", "algo", Column("status", no_wrap=True), *numbers,
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
    )  # fmt: skip
    for run in service.list_runs(status=status, game=game):
        table.add_row(
            run.run_id,
            literal(run.name),
            run.game,
            run.algo,
            _status(run),
            _percent(run.progress),
            f"{run.timesteps:,}",
            str(run.episodes),
            _score(run.score_mean),
            _score(run.score_best),
            _speed(run),
            duration_text(run.training_seconds),
        )
    console.print(table)


def _run_action(
    action: str, run_id: str, home: Path | None, db: str | None, executor: str = "local",
    ray_address: str | None = None, **kwargs: Any,
) -> Any:
    try:
        service = service_for(home, db, executor, ray_address)
        return service, getattr(service, action)(run_id, **kwargs)
    except RetroMLError as error:
        raise fail(str(error)) from None


@runs_app.command("show")
def runs_show(run_id: str, home: HomeOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """A run's status, progress, milestones, legs, lineage and files."""
    service, run = _run_action("get", run_id, home, db)
    if as_json:
        print_json(run, Run)
        return
    fields: dict[str, object] = {
        "run_id": run.run_id,
        "name": run.name,
        "game": run.game,
        "algo": run.algo,
        "device": _device(service, run_id),
        "status": _status(run) + (" (Fast Mode)" if run.fast_mode else ""),
        "executor": run.executor,
        "host": run.host,
        "pid": run.pid if run.active else None,
        "progress": f"{_percent(run.progress)} ({run.timesteps:,} of {run.total_timesteps:,} timesteps, "
        f"from {run.start_timesteps:,})",
        "leg": f"{run.leg}, from {run.leg_start_timesteps:,} timesteps, {_percent(run.leg_progress)} done",
        "episodes": run.episodes,
        "score_mean": _score(run.score_mean) or None,
        "score_best": _score(run.score_best) or None,
        "steps_per_sec": _speed(run) or None,
        "eta": duration_text(run.eta_seconds) if run.eta_seconds is not None else None,
        "training_time": duration_text(run.training_seconds),
        "remaining_timesteps": f"{run.remaining_timesteps:,}",
        "run_budget": f"{run.run_budget:,} (a good N for `retroml runs continue {run.run_id} --more N`)",
        "parent_run_id": run.parent_run_id,
        "parent_checkpoint": run.parent_checkpoint,
        "changes": run.changes or None,
        "message": run.message,
        "actions": ", ".join(run.actions) or "none now",
    }
    for key, value in fields.items():
        if value is not None:
            console.print(f"[bold]{key}[/bold]: {literal(value)}", highlight=False)
    milestones = Table(
        "milestone", _number("timesteps"), "state", _number("episodes"), _number("mean score"), title="milestones"
    )
    for milestone in run.milestones:
        milestones.add_row(
            milestone.label,
            f"{milestone.timesteps:,}",
            "reached" if milestone.reached else "planned",
            "" if milestone.episodes is None else str(milestone.episodes),
            _score(milestone.score_mean),
        )
    console.print(milestones)
    legs = Table("leg", _number("from timesteps"), _number("budget"), "from checkpoint", title="legs")
    for leg in run.legs:
        legs.add_row(str(leg.leg), f"{leg.start_timesteps:,}", f"{leg.budget:,}", leg.from_checkpoint or "")
    console.print(legs)
    console.print(f"[bold]folder[/bold]: {literal(service.paths(run_id).root)}", highlight=False)
    for artifact in service.store.artifacts(run_id):
        console.print(f"  {artifact['kind']:<10} {literal(artifact['path'])}", highlight=False)


def _device(service: RunService, run_id: str) -> str | None:
    """The device the run's config asks for (``auto`` resolves on the machine that trains it)."""
    try:
        return service.config(run_id).train.device
    except RetroMLError:
        return None


@runs_app.command("stop")
def runs_stop(run_id: str, home: HomeOption = None, db: DbOption = None) -> None:
    """Save a checkpoint and stop a run."""
    service, _run = _run_action("stop", run_id, home, db)
    run = service.wait(run_id, timeout=120)
    console.print(f"run {run_id} {run.status}")


@runs_app.command("pause")
def runs_pause(run_id: str, home: HomeOption = None, db: DbOption = None) -> None:
    """Freeze a running run (SIGSTOP); `resume` continues it."""
    _run_action("pause", run_id, home, db)
    console.print(f"run {run_id} paused")


@runs_app.command("resume")
def runs_resume(run_id: str, home: HomeOption = None, db: DbOption = None) -> None:
    """Continue a paused run."""
    _run_action("resume", run_id, home, db)
    console.print(f"run {run_id} running")


@runs_app.command("continue")
def runs_continue(
    run_id: str,
    finish: Annotated[
        bool, typer.Option("--finish", help="Train what is left of the run's planned budget (the default).")
    ] = False,
    more: Annotated[
        str | None,
        typer.Option(
            "--more",
            metavar="N",
            help="Extend the run's total by N timesteps, e.g. 500k or 2M; its own budget "
            "(run_budget in `retroml runs show`) is a good N.",
        ),
    ] = None,
    detach: Annotated[bool, typer.Option("--detach", help="Start the new leg and return at once.")] = False,
    home: HomeOption = None,
    db: DbOption = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Train an ended run further as a new leg; timesteps and milestones keep counting."""
    if finish and more is not None:
        raise fail("choose --finish (train what is left) or --more N (train N more), not both")
    if more is None:
        service, run = _run_action("continue_run", run_id, home, db, executor, ray_address, mode="finish")
    else:
        steps = parse_steps(more, "--more")
        service, run = _run_action("continue_run", run_id, home, db, executor, ray_address, mode="more", steps=steps)
    console.print(
        f"run {run_id} leg {run.leg}: training from {run.leg_start_timesteps:,} to {run.total_timesteps:,} timesteps"
    )
    if run.message:  # e.g. the checkpoint it falls back to when latest.zip is damaged
        console.print(literal(run.message), highlight=False)
    if not detach:
        follow(service, run_id)


@runs_app.command("branch")
def runs_branch(
    run_id: str,
    from_checkpoint: Annotated[
        float, typer.Option("--from-checkpoint", help="The milestone to start from, as `runs show` labels it: 10, 2.5.")
    ],
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: section.key=value.")] = None,
    steps: Annotated[str | None, typer.Option(help="Timesteps of the new run.")] = None,
    name: Annotated[str | None, typer.Option(help="Name of the new run.")] = None,
    detach: Annotated[bool, typer.Option("--detach")] = False,
    home: HomeOption = None,
    db: DbOption = None,
) -> None:
    """A new run from a milestone checkpoint of RUN, with changed settings; lineage is kept."""
    service, run = _run_action(
        "branch",
        run_id,
        home,
        db,
        from_milestone_pct=from_checkpoint,
        overrides=set_ or [],
        steps=parse_steps(steps),
        name=name,
    )
    console.print(
        f"started [bold]{run.run_id}[/bold] ({literal(run.name)}), branched from {run_id} at {from_checkpoint:g} % "
        f"({run.start_timesteps:,} timesteps)"
    )
    if not detach:
        follow(service, run.run_id)


@runs_app.command("delete")
def runs_delete(
    run_id: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    home: HomeOption = None,
    db: DbOption = None,
) -> None:
    """Delete a run with its checkpoints and videos."""
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete {run_id} and all its files?"):
        raise typer.Exit(code=1)
    _run_action("delete", run_id, home, db)
    console.print(f"deleted {run_id}")


@runs_app.command("logs")
def runs_logs(
    run_id: str,
    tail: Annotated[int, typer.Option(help="Lines.")] = 50,
    home: HomeOption = None,
    db: DbOption = None,
) -> None:
    """The end of a run's train.log."""
    _service, lines = _run_action("logs", run_id, home, db, tail=tail)
    for line in lines:
        console.print(line, highlight=False, markup=False)


@runs_app.command("reindex")
def runs_reindex(home: HomeOption = None, db: DbOption = None) -> None:
    """Rebuild the run index from the run folders (after retroml.db was lost); indexed runs stay as they are."""
    from retroml.runs.service import RunService

    columns = (TextColumn("[bold]reindexing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[run]}"))
    try:
        service = RunService(home, db, reindex_on_open=False)
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("reindex", total=None, run="")

            def report(done: int, total: int, run_id: str) -> None:
                bar.update(task, completed=done, total=total, run=f"{run_id} (Ctrl-C stops; done runs stay)")

            result = service.reindex(report)
    except RetroMLError as error:
        raise fail(str(error)) from None
    for skipped in result.skipped:
        console.print(f"skipped {skipped}", highlight=False, markup=False, soft_wrap=True)
    runs = "run" if result.runs == 1 else "runs"
    sentence = f"Reindexed {result.runs} {runs} ({result.new} new) from {service.home / 'runs'}"
    console.print(sentence, highlight=False, markup=False, soft_wrap=True)


@app.command()
def render(
    run_ids: Annotated[list[str], typer.Argument(help="The run (with --compare: 2 to 4 runs).", show_default=False)],
    length: Annotated[str | None, typer.Option(help="Target length: 90s, 3m, 1h30m, 10h.")] = None,
    layout: Annotated[str | None, typer.Option(help="single, grid or analytics.")] = None,
    compare: Annotated[bool, typer.Option("--compare", help="The runs side by side at matching milestones.")] = False,
    timelapse: Annotated[
        str | None, typer.Option(help="A time-lapse of the whole training of this length (e.g. 5m).")
    ] = None,
    highlights: Annotated[str | None, typer.Option(help="A trailer of the best moments of this length (60s).")] = None,
    workers: Annotated[int | None, typer.Option(help="Parallel segment renderers (default: cores).")] = None,
    music: Annotated[Path | None, typer.Option(help="Audio track, looped or cut to the video length.")] = None,
    home: HomeOption = None,
    db: DbOption = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Render a video of a run: its learning journey, a comparison, a time-lapse or highlights.

    Segments render in parallel (as Ray tasks with --executor ray).
    """
    kinds = {"--compare": compare, "--timelapse": timelapse, "--highlights": highlights}
    chosen = [name for name, given in kinds.items() if given]
    if len(chosen) > 1:
        raise fail(f"choose one of {' and '.join(chosen)}")
    if chosen and layout:
        raise fail(f"--layout is for journeys; {chosen[0]} has its own")
    if compare and not 2 <= len(run_ids) <= 4:
        raise fail(f"--compare takes 2 to 4 runs, not {len(run_ids)}")
    if not compare and len(run_ids) != 1:
        raise fail("give one run (several only with --compare)")
    for flag, duration in {"--length": length, "--timelapse": timelapse, "--highlights": highlights}.items():
        if duration is not None:
            try:
                parse_duration(duration)
            except ValueError as error:
                raise fail(f"{flag}: {error}") from None
    if music is not None:
        _check_music(music)
    if timelapse:
        layout, length = "timelapse", timelapse
    elif highlights:
        layout, length = "highlights", highlights
    elif compare:
        layout = "compare"
    try:
        service = service_for(home, db, executor, ray_address)
    except RetroMLError as error:
        raise fail(str(error)) from None
    _render(service, run_ids[0], length, layout, workers, music, run_ids[1:])


def _check_music(music: Path) -> None:
    """Refuse a music file PyAV cannot play now, not after minutes of rendering."""
    import av

    if not music.is_file():
        raise fail(f"--music {music} is not a file")
    try:
        with av.open(str(music)) as source:
            playable = bool(source.streams.audio)
    except (av.error.FFmpegError, OSError, UnicodeError):
        playable = False
    if not playable:
        raise fail(f"--music {music} is not an audio file RetroML can play (an MP3, OGG, WAV or M4A)")


def _render(
    service: Any,
    run_id: str,
    length: str | None,
    layout: str | None,
    workers: int | None,
    music: Path | None,
    compare_with: list[str] | None = None,
) -> None:
    columns = (
        TextColumn("[bold]rendering"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
    )
    try:
        estimate = service.journey_estimate(run_id, length, layout, workers)
        if estimate is not None:
            console.print(
                f"{estimate['segments']} segments, {estimate['frames']:,} frames ({estimate['seconds']:,.0f} s of "
                f"video): expect about {estimate['expected_bytes'] / 1e6:,.0f} MB in about "
                f"{duration_text(estimate['expected_render_seconds'])}"
            )
            if estimate["note"]:
                console.print(f"The journey {estimate['note']}.", markup=False)
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("render", total=1.0, detail="")

            def report(fraction: float, detail: str) -> None:
                progress.update(task, completed=fraction, detail=detail)

            signal.signal(signal.SIGTERM, _interrupt)
            video = service.render(
                run_id, length=length, layout=layout, workers=workers, music=music, progress=report,
                compare_with=compare_with or (),
            )
    except RetroMLError as error:
        raise fail(str(error)) from None
    except KeyboardInterrupt:
        raise fail("render cancelled; no video was written") from None
    console.print(f"video: {video}")


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Address to bind; anything but 127.0.0.1 needs a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    home: HomeOption = None,
    db: DbOption = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(help="Another name the browser reaches the server by (a DNS name, a proxy); repeatable."),
    ] = None,
) -> None:
    """Start the web app (http://127.0.0.1:8000)."""
    _check_address(host, port)
    from retroml.web.server import serve

    try:
        serve(
            host=host,
            port=port,
            service=service_for(home, db, executor, ray_address),
            allowed_hosts=allowed_host or [],
        )
    except RetroMLError as error:
        raise fail(str(error)) from None


def _check_address(host: str, port: int) -> None:
    """A port number and a host that is an address of this machine (the server says when the port is taken)."""
    if not 1 <= port <= 65535:
        raise fail(f"--port {port} is not a port; give a number from 1 to 65535")
    refused = f"--host '{host}' is not an address of this machine; use 127.0.0.1 (this machine only) or 0.0.0.0"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if re.fullmatch(r"[\d.]*", host):  # 256.1.1.1 is no address; a DNS lookup of it could only time out
            raise fail(refused) from None
    try:
        family, kind, _proto, _name, address = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe:
            probe.bind((address[0], 0))
    except (OSError, UnicodeError):
        raise fail(refused) from None


@app.command()
def desktop(home: HomeOption = None, db: DbOption = None) -> None:
    """Start the desktop app."""
    displays = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    if sys.platform.startswith("linux") and not any(os.environ.get(name) for name in displays):
        # Without one Qt aborts the process (exit 134) instead of raising anything catchable.
        raise fail("the desktop app needs a display (DISPLAY is not set); start it on a desktop or use `retroml ui`")
    try:
        from retroml.desktop.app import run_desktop
    except ImportError as error:
        # Not a missing module of ours: Qt's own system libraries (libEGL, libxkbcommon) may be absent.
        raise fail(f"the desktop app cannot start here: Qt could not load ({error})") from None
    raise typer.Exit(code=run_desktop(home=home, db=db))


def main() -> None:
    """The ``retroml`` command. A full disk met anywhere (a config, a checkpoint, the index) ends in the one
    sentence every face gives for it, not a traceback."""
    from retroml.disk import is_disk_full

    try:
        app()
    except Exception as error:
        if not is_disk_full(error):
            raise
        where = getattr(error, "filename", None) or os.getcwd()
        errors.print(Text.assemble(("error:", "red"), f" The disk holding {shown(where)} is full: free some space, "
                                   "then try again."), highlight=False)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
