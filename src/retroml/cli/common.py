"""What every command shares: the Typer apps, the options, one-sentence errors, and how a run reads on a terminal.

The values all come from the run model and the config schema; this module only lays them out.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import TypeAdapter
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Column
from rich.text import Text

from retroml.config import parse_budget
from retroml.errors import RetroMLError
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


@dataclass(frozen=True)
class Where:
    """Where runs live and go: ``--home``, ``--db``, ``--executor`` and ``--ray-address`` as one value."""

    home: Path | None = None
    db: str | None = None
    executor: str = "local"
    ray_address: str | None = None

    def service(self) -> RunService:
        """The run service over that home and store, launching on that executor (opened now, not before)."""
        return service_for(self.home, self.db, self.executor, self.ray_address)


Command = TypeVar("Command", bound=Callable[..., Any])
_WHERE_OPTIONS = (
    inspect.Parameter("home", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=HomeOption),
    inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=DbOption),
    inspect.Parameter("executor", inspect.Parameter.KEYWORD_ONLY, default="local", annotation=ExecutorOption),
    inspect.Parameter("ray_address", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=RayAddressOption),
)


def where_options(command: Command) -> Command:
    """Give a command that starts runs the options ``--home --db --executor --ray-address`` (last in its
    help, in that order), handed to it as its ``where: Where`` parameter.

    Typer reads a command's options from its signature; this one is the command's own without ``where``,
    then the four options.
    """
    own = inspect.signature(command, eval_str=True)

    @functools.wraps(command)
    def with_where(
        *args: Any, home: Path | None, db: str | None, executor: str, ray_address: str | None, **kwargs: Any
    ) -> Any:
        return command(*args, where=Where(home, db, executor, ray_address), **kwargs)

    parameters = [parameter for name, parameter in own.parameters.items() if name != "where"]
    with_where.__signature__ = own.replace(parameters=[*parameters, *_WHERE_OPTIONS])  # type: ignore[attr-defined]
    return with_where  # type: ignore[return-value]


def parse_steps(text: str | None, flag: str = "--steps") -> int | None:
    """A budget flag through :func:`retroml.config.parse_budget` (``500k``, ``2.5M``, ``2e6``); ``flag`` names it."""
    if text is None:
        return None
    try:
        return parse_budget(text, flag)
    except RetroMLError as error:
        raise fail(str(error)) from None


# How a run's fields read on a terminal; the values themselves all come from the Run model.
def status_text(run: Run) -> str:
    return f"{run.status}{' ⚡' if run.fast_mode else ''}"


def percent(fraction: float) -> str:
    return f"{100 * fraction:.0f} %"


def speed(run: Run) -> str:
    return f"{run.steps_per_sec:,.0f}" if run.steps_per_sec else ""


def score(score: float | None) -> str:
    return "" if score is None else f"{score:.2f}"


def number_column(header: str) -> Column:
    return Column(header, justify="right")


def eta_text(run: Run) -> str:
    if run.eta_seconds is not None:
        return f"ETA {duration_text(run.eta_seconds)}"
    if run.status is RunStatus.RENDERING and run.render_progress is not None:
        return f"rendering the journey {percent(run.render_progress)}"
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
                    speed=f"{speed(run)} steps/s" if run.steps_per_sec else "",
                    eta=eta_text(run),
                    episodes=run.episodes,
                    score=score(run.score_mean) or "–",
                )
                if run.status in ENDED_STATUSES:
                    break
                time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping: saving a checkpoint …")
        service.stop(run_id)
        run = service.wait(run_id, timeout=120)
    print_outcome(service, run)


def print_outcome(service: RunService, run: Run) -> None:
    paths = service.paths(run.run_id)
    folder = literal(paths.root)
    console.print(f"run {run.run_id} {run.status} at {run.timesteps:,} timesteps; folder: {folder}", highlight=False)
    if run.message:
        console.print(literal(run.message), highlight=False)
    for video in service.renders.videos(run_id=run.run_id, kinds=("journey",)):
        console.print(f"journey: {literal(service.home / video['path'])}", highlight=False)
    if run.status is RunStatus.FAILED:
        raise typer.Exit(code=1)


def run_action(action: str, run_id: str, where: Where, **kwargs: Any) -> Any:
    """The service and what its ``action`` on ``run_id`` returned; a refusal is one sentence and exit 2."""
    try:
        service = where.service()
        return service, getattr(service, action)(run_id, **kwargs)
    except RetroMLError as error:
        raise fail(str(error)) from None
