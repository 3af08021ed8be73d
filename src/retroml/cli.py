"""``retroml``: the command-line face. It parses, calls ``runs.service`` and shows progress; nothing more.

Errors a user can cause come back as one sentence on stderr and exit code 2.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from retroml.config import ALGOS, PRESETS, apply_assignment, build_config, load_yaml, merge, preset_config
from retroml.errors import RetroMLError
from retroml.games import all_games, get_game

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Train Atari agents and film their learning journey."
)
runs_app = typer.Typer(no_args_is_help=True, help="List and control runs.")
app.add_typer(runs_app, name="runs")
console = Console()
errors = Console(stderr=True, soft_wrap=True)

HomeOption = Annotated[Path | None, typer.Option("--home", help="Data home (default: $RETROML_HOME or ./outputs).")]
DbOption = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store (default: <home>/retroml.db).")]


def fail(message: str) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=2)


ExecutorOption = Annotated[
    str, typer.Option("--executor", help="Where runs and renders go: local processes or a ray cluster.")
]
RayAddressOption = Annotated[
    str | None, typer.Option("--ray-address", help="Ray cluster host:port (default: $RAY_ADDRESS or auto).")
]


def service_for(home: Path | None, db: str | None, executor: str = "local", ray_address: str | None = None) -> Any:
    from retroml.runs.service import RunService, make_executor

    return RunService(home, db, executor=make_executor(executor, ray_address))


def parse_steps(text: str | None) -> int | None:
    """``2_000_000``, ``2000000``, ``2e6``, ``500k`` or ``2M`` as an int."""
    if text is None:
        return None
    cleaned = text.strip().lower().replace("_", "").replace(",", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(cleaned[-1:], 1)
    if scale != 1:
        cleaned = cleaned[:-1]
    try:
        value = float(cleaned) * scale
    except ValueError:
        raise fail(f"--steps '{text}' is not a number of timesteps (e.g. 500000, 500k, 2M)") from None
    if value != int(value):
        raise fail(f"--steps '{text}' must be a whole number of timesteps")
    return int(value)


@app.command()
def games() -> None:
    """The game catalogue: id, title, difficulty, number of actions."""
    from retroml.games import action_meanings

    table = Table("id", "title", "difficulty", "actions", "description")
    for game in all_games():
        table.add_row(game.id, game.title, game.difficulty, str(len(action_meanings(game.id))), game.description)
    console.print(table)


@app.command()
def presets() -> None:
    """The ready-made training presets (``retroml train --preset NAME``)."""
    table = Table("preset", "title", "game", "algo", "timesteps", "description")
    for key, preset in PRESETS.items():
        config = build_config(preset["config"])
        table.add_row(
            key,
            preset["title"],
            config.game.id,
            config.train.algo,
            f"{config.train.total_timesteps:,}",
            preset["description"],
        )
    console.print(table)


@app.command()
def train(
    game: Annotated[str | None, typer.Option(help="Game id (see `retroml games`).")] = None,
    algo: Annotated[str | None, typer.Option(help=f"One of {', '.join(ALGOS)}.")] = None,
    steps: Annotated[str | None, typer.Option(help="Total timesteps, e.g. 2_000_000 or 2M.")] = None,
    envs: Annotated[int | None, typer.Option(help="Parallel environments.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
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
                }.items()
                if value is not None
            }
            or None,
        }
        data = merge(data, {key: value for key, value in flags.items() if value is not None})
        for assignment in set_ or []:
            data = apply_assignment(data, assignment)
        if algo and "train" in data:
            _drop_foreign_hyperparameters(data["train"])
        if "game" in data and "id" in data["game"]:
            get_game(str(data["game"]["id"]))
        run_config = build_config(data)
        service = service_for(home, db, executor, ray_address)
        row = service.create(run_config)
    except RetroMLError as error:
        raise fail(str(error)) from None
    mode = " in Fast Mode" if run_config.fast_mode else ""
    console.print(
        f"started [bold]{row['run_id']}[/bold] ({row['name']}){mode}; log: {service.paths(row['run_id']).log}"
    )
    if detach:
        return
    follow(service, row["run_id"])


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
                train = {"seed": seed_value, "algo": algo, "total_timesteps": parse_steps(steps), "n_envs": envs}
                flags = {"game": {"id": game_id}, "train": {k: v for k, v in train.items() if v is not None}}
                data = merge(data, {**flags, "name": f"{label}-{game_id}-seed{seed_value}"})
                if fast:
                    data["fast_mode"] = True
                for assignment in set_ or []:
                    data = apply_assignment(data, assignment)
                if algo:
                    _drop_foreign_hyperparameters(data["train"])
                configs.append(build_config(data))
        service = service_for(home, db, executor, ray_address)
        run_ids = [service.create(config)["run_id"] for config in configs]
    except RetroMLError as error:
        raise fail(str(error)) from None
    console.print(f"started {len(run_ids)} runs ({label}) on the {service.executor.name} executor")
    if not wait:
        console.print(_sweep_table(service, run_ids))
        return
    from rich.live import Live

    with Live(_sweep_table(service, run_ids), console=console, refresh_per_second=1) as live:
        while any(service.get(run_id)["status"] in ("queued", "running", "paused", "rendering") for run_id in run_ids):
            time.sleep(2.0)
            live.update(_sweep_table(service, run_ids))
        live.update(_sweep_table(service, run_ids))


def _sweep_table(service: Any, run_ids: list[str]) -> Table:
    table = Table("run_id", "game", "seed", "status", "progress", "steps/s", "mean score", "host")
    for run_id in run_ids:
        row = service.get(run_id)
        seed = service.config(run_id).train.seed
        speed = f"{row['steps_per_sec']:,.0f}" if row.get("steps_per_sec") else ""
        score = f"{row['score_mean']:.2f}" if row.get("score_mean") is not None else ""
        progress = f"{100 * service.progress(row):.0f} %"
        table.add_row(run_id, row["game"], str(seed), row["status"], progress, speed, score, row.get("host") or "")
    return table


def _drop_foreign_hyperparameters(train: dict[str, Any]) -> None:
    """A preset's PPO settings must not leak into a run whose --algo says DQN."""
    from retroml.config import ZOO_ATARI_DEFAULTS

    keep = {
        "algo",
        "total_timesteps",
        "n_envs",
        "seed",
        "n_threads",
        "checkpoint_every_sec",
        "keep_last",
        "metrics_every_steps",
        "learning_rate",
        "gamma",
        *ZOO_ATARI_DEFAULTS[train["algo"]],
    }
    for key in list(train):
        if key not in keep:
            del train[key]


def follow(service: Any, run_id: str) -> None:
    """Show a run's progress until it ends; Ctrl-C stops it with a checkpoint."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} steps"),
        TextColumn("{task.fields[speed]}"),
        TimeRemainingColumn(),
        TextColumn("episodes {task.fields[episodes]}"),
        TextColumn("mean {task.fields[score]}"),
    )
    row = service.get(run_id)
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(row["status"], total=_leg_budget(row), speed="", episodes=0, score="–")
            while True:
                row = service.get(run_id)
                done = service.progress(row) * _leg_budget(row)
                score = "–" if row["score_mean"] is None else f"{row['score_mean']:.1f}"
                speed = f"{row['steps_per_sec']:.0f} steps/s" if row["steps_per_sec"] else ""
                progress.update(
                    task, completed=done, description=row["status"], speed=speed, episodes=row["episodes"], score=score
                )
                if row["status"] in ("completed", "failed", "stopped", "interrupted"):
                    break
                time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping: saving a checkpoint …")
        service.stop(run_id)
        row = service.wait(run_id, timeout=120)
    _print_outcome(service, row)


def _leg_budget(row: dict[str, Any]) -> int:
    return max(int(row["total_timesteps"]) - int(row["leg_start_timesteps"]), 1)


def _print_outcome(service: Any, row: dict[str, Any]) -> None:
    paths = service.paths(row["run_id"])
    console.print(f"run {row['run_id']} {row['status']} at {row['timesteps']:,} timesteps; folder: {paths.root}")
    if row.get("message"):
        console.print(row["message"])
    for video in service.videos(run_id=row["run_id"], kinds=("journey",)):
        console.print(f"journey: {service.home / video['path']}")
    if row["status"] == "failed":
        raise typer.Exit(code=1)


@runs_app.command("list")
def runs_list(
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    game: Annotated[str | None, typer.Option(help="Only runs of this game.")] = None,
    home: HomeOption = None,
    db: DbOption = None,
) -> None:
    """All runs, newest first."""
    service = service_for(home, db)
    table = Table("run_id", "name", "game", "algo", "status", "progress", "timesteps", "episodes", "mean score")
    for row in service.list_runs(status=status, game=game):
        score = "" if row["score_mean"] is None else f"{row['score_mean']:.2f}"
        table.add_row(
            row["run_id"],
            row["name"],
            row["game"],
            row["algo"],
            row["status"] + (" ⚡" if row["fast_mode"] else ""),
            f"{100 * service.progress(row):.0f} %",
            f"{row['timesteps']:,}",
            str(row["episodes"]),
            score,
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
def runs_show(run_id: str, home: HomeOption = None, db: DbOption = None) -> None:
    """A run's status, lineage, checkpoints and videos."""
    service, row = _run_action("get", run_id, home, db)
    for key in (
        "run_id",
        "name",
        "game",
        "algo",
        "status",
        "fast_mode",
        "timesteps",
        "total_timesteps",
        "episodes",
        "score_mean",
        "score_best",
        "steps_per_sec",
        "leg",
        "parent_run_id",
        "parent_checkpoint",
        "changes",
        "pid",
        "host",
        "message",
    ):
        if row.get(key) is not None:
            console.print(f"[bold]{key}[/bold]: {row[key]}", highlight=False)
    console.print(f"[bold]progress[/bold]: {100 * service.progress(row):.1f} %")
    console.print(f"[bold]folder[/bold]: {service.paths(run_id).root}")
    for artifact in service.store.artifacts(run_id):
        console.print(f"  {artifact['kind']:<10} {artifact['path']}", highlight=False)


@runs_app.command("stop")
def runs_stop(run_id: str, home: HomeOption = None, db: DbOption = None) -> None:
    """Save a checkpoint and stop a run."""
    service, _row = _run_action("stop", run_id, home, db)
    row = service.wait(run_id, timeout=120)
    console.print(f"run {run_id} {row['status']}")


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
    steps: Annotated[str, typer.Option(help="More timesteps to train.")],
    detach: Annotated[bool, typer.Option("--detach")] = False,
    home: HomeOption = None,
    db: DbOption = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Train a finished or stopped run further: a new leg, timesteps keep counting."""
    service, row = _run_action("continue_run", run_id, home, db, executor, ray_address, steps=parse_steps(steps))
    console.print(f"run {run_id} leg {row['leg']} started from {row['leg_start_timesteps']:,} timesteps")
    if not detach:
        follow(service, run_id)


@runs_app.command("branch")
def runs_branch(
    run_id: str,
    from_checkpoint: Annotated[int, typer.Option("--from-checkpoint", help="Milestone % to start from.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: section.key=value.")] = None,
    steps: Annotated[str | None, typer.Option(help="Timesteps of the new run.")] = None,
    name: Annotated[str | None, typer.Option(help="Name of the new run.")] = None,
    detach: Annotated[bool, typer.Option("--detach")] = False,
    home: HomeOption = None,
    db: DbOption = None,
) -> None:
    """A new run from a milestone checkpoint of RUN, with changed settings; lineage is kept."""
    service, row = _run_action(
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
        f"started [bold]{row['run_id']}[/bold] ({row['name']}), branched from {run_id} at {from_checkpoint} %"
    )
    if not detach:
        follow(service, row["run_id"])


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
                f"{_duration(estimate['expected_render_seconds'])}"
            )
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


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Address to bind; anything but 127.0.0.1 needs a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    home: HomeOption = None,
    db: DbOption = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Start the web app (http://127.0.0.1:8000)."""
    try:
        from retroml.web.server import serve
    except ImportError as error:
        raise fail(f"the web app is not available in this install ({error})") from None
    try:
        serve(host=host, port=port, service=service_for(home, db, executor, ray_address))
    except RetroMLError as error:
        raise fail(str(error)) from None


@app.command()
def desktop(home: HomeOption = None, db: DbOption = None) -> None:
    """Start the desktop app."""
    try:
        from retroml.desktop.app import run_desktop
    except ImportError as error:
        raise fail(f"the desktop app is not available in this install ({error})") from None
    raise typer.Exit(code=run_desktop(home=home, db=db))


if __name__ == "__main__":
    app()
