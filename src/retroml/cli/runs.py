"""``retroml runs …``: list, show and control runs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Column, Table

from retroml.cli.common import (
    DbOption,
    HomeOption,
    JsonOption,
    Where,
    console,
    fail,
    follow,
    literal,
    number_column,
    parse_steps,
    percent,
    print_json,
    run_action,
    runs_app,
    score,
    service_for,
    speed,
    status_text,
    where_options,
)
from retroml.errors import RetroMLError
from retroml.runs.model import Run, RunStatus, duration_text

if TYPE_CHECKING:
    from retroml.runs.service import RunService


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
        number_column(header)
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
            status_text(run),
            percent(run.progress),
            f"{run.timesteps:,}",
            str(run.episodes),
            score(run.score_mean),
            score(run.score_best),
            speed(run),
            duration_text(run.training_seconds),
        )
    console.print(table)


@runs_app.command("show")
def runs_show(run_id: str, home: HomeOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """A run's status, progress, milestones, legs, lineage and files."""
    service, run = run_action("get", run_id, Where(home, db))
    if as_json:
        print_json(run, Run)
        return
    fields: dict[str, object] = {
        "run_id": run.run_id,
        "name": run.name,
        "game": run.game,
        "algo": run.algo,
        "device": _device(service, run_id),
        "status": status_text(run) + (" (Fast Mode)" if run.fast_mode else ""),
        "executor": run.executor,
        "host": run.host,
        "pid": run.pid if run.active else None,
        "progress": f"{percent(run.progress)} ({run.timesteps:,} of {run.total_timesteps:,} timesteps, "
        f"from {run.start_timesteps:,})",
        "leg": f"{run.leg}, from {run.leg_start_timesteps:,} timesteps, {percent(run.leg_progress)} done",
        "episodes": run.episodes,
        "score_mean": score(run.score_mean) or None,
        "score_best": score(run.score_best) or None,
        "steps_per_sec": speed(run) or None,
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
        "milestone",
        number_column("timesteps"),
        "state",
        number_column("episodes"),
        number_column("mean score"),
        title="milestones",
    )
    for milestone in run.milestones:
        milestones.add_row(
            milestone.label,
            f"{milestone.timesteps:,}",
            "reached" if milestone.reached else "planned",
            "" if milestone.episodes is None else str(milestone.episodes),
            score(milestone.score_mean),
        )
    console.print(milestones)
    legs = Table("leg", number_column("from timesteps"), number_column("budget"), "from checkpoint", title="legs")
    for leg in run.legs:
        legs.add_row(str(leg.leg), f"{leg.start_timesteps:,}", f"{leg.budget:,}", leg.from_checkpoint or "")
    console.print(legs)
    console.print(f"[bold]folder[/bold]: {literal(service.paths(run_id).root)}", highlight=False)
    for artifact in service.artifacts(run_id):
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
    service, _run = run_action("stop", run_id, Where(home, db))
    run = service.wait(run_id, timeout=120)
    console.print(f"run {run_id} {run.status}")


@runs_app.command("pause")
def runs_pause(run_id: str, home: HomeOption = None, db: DbOption = None) -> None:
    """Freeze a running run (SIGSTOP); `resume` continues it."""
    run_action("pause", run_id, Where(home, db))
    console.print(f"run {run_id} paused")


@runs_app.command("resume")
def runs_resume(run_id: str, home: HomeOption = None, db: DbOption = None) -> None:
    """Continue a paused run."""
    run_action("resume", run_id, Where(home, db))
    console.print(f"run {run_id} running")


@runs_app.command("continue")
@where_options
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
    *,
    where: Where,
) -> None:
    """Train an ended run further as a new leg; timesteps and milestones keep counting."""
    if finish and more is not None:
        raise fail("choose --finish (train what is left) or --more N (train N more), not both")
    if more is None:
        service, run = run_action("continue_run", run_id, where, mode="finish")
    else:
        steps = parse_steps(more, "--more")
        service, run = run_action("continue_run", run_id, where, mode="more", steps=steps)
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
    service, run = run_action(
        "branch",
        run_id,
        Where(home, db),
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
    run_action("delete", run_id, Where(home, db))
    console.print(f"deleted {run_id}")


@runs_app.command("logs")
def runs_logs(
    run_id: str,
    tail: Annotated[int, typer.Option(help="Lines.")] = 50,
    home: HomeOption = None,
    db: DbOption = None,
) -> None:
    """The end of a run's train.log."""
    _service, lines = run_action("logs", run_id, Where(home, db), tail=tail)
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
