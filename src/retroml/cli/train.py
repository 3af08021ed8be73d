"""``retroml train`` and ``retroml sweep``: compose a config (:func:`retroml.config.compose`) and start runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from retroml.cli.common import (
    Where,
    app,
    console,
    fail,
    follow,
    literal,
    parse_steps,
    percent,
    score,
    speed,
    status_text,
    where_options,
)
from retroml.config import ALGOS, SETTING_DESCRIPTIONS, compose, load_yaml
from retroml.errors import RetroMLError
from retroml.games import get_game
from retroml.runs.model import ENDED_STATUSES, estimate_sentence

if TYPE_CHECKING:
    from retroml.runs.service import RunService

# The help of the options that set a config value is that setting's description in the config schema.
AlgoOption = Annotated[str | None, typer.Option(help=SETTING_DESCRIPTIONS["train.algo"])]
StepsOption = Annotated[
    str | None, typer.Option(help=f"{SETTING_DESCRIPTIONS['train.total_timesteps']} E.g. 2_000_000, 2M or 2e6.")
]
EnvsOption = Annotated[int | None, typer.Option(help=SETTING_DESCRIPTIONS["train.n_envs"])]
GameOption = Annotated[str | None, typer.Option(help=SETTING_DESCRIPTIONS["game.id"])]
DeviceOption = Annotated[str | None, typer.Option(help=SETTING_DESCRIPTIONS["train.device"])]
FastOption = Annotated[bool, typer.Option("--fast", help=f"Fast Mode. {SETTING_DESCRIPTIONS['fast_mode']}")]


@app.command()
@where_options
def train(
    game: GameOption = None,
    algo: AlgoOption = None,
    steps: StepsOption = None,
    envs: EnvsOption = None,
    seed: Annotated[int | None, typer.Option(help=SETTING_DESCRIPTIONS["train.seed"])] = None,
    device: DeviceOption = None,
    name: Annotated[str | None, typer.Option(help=SETTING_DESCRIPTIONS["name"])] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config file.")] = None,
    preset: Annotated[str | None, typer.Option(help="Start from a preset (see `retroml presets`).")] = None,
    fast: FastOption = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: section.key=value (repeatable).")] = None,
    render_only: Annotated[
        bool, typer.Option("--render-only", help="Render the journey of --run-id; no training.")
    ] = False,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Run to render with --render-only.")] = None,
    detach: Annotated[bool, typer.Option("--detach", help="Start the run and return at once.")] = False,
    *,
    where: Where,
) -> None:
    """Train an agent (or, with --render-only, render the journey of an existing run)."""
    try:
        if render_only:
            if not run_id:
                raise fail("--render-only needs --run-id RUN (the run whose journey to render)")
            from retroml.cli.render import render_with_progress  # its command registers in its module

            render_with_progress(where.service(), run_id, None, None, None, None)
            return
        if algo is not None and algo not in ALGOS:
            raise fail(f"--algo '{algo}' is not one of {', '.join(ALGOS)}")
        flags = {"algo": algo, "total_timesteps": parse_steps(steps), "n_envs": envs, "seed": seed, "device": device}
        fields = {"name": name, "fast_mode": True if fast else None, "game": {"id": game}, "train": flags}
        file = load_yaml(config) if config is not None else None
        run_config = compose(preset, file=file, fields=fields, overrides=set_ or [])
        service = where.service()
        estimate = service.training_estimate(run_config)
        console.print(estimate_sentence(estimate), highlight=False)
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
@where_options
def calibrate(
    game: GameOption = None,
    algo: AlgoOption = None,
    envs: EnvsOption = None,
    device: DeviceOption = None,
    preset: Annotated[str | None, typer.Option(help="Measure the kind of run a preset starts.")] = None,
    *,
    where: Where,
) -> None:
    """Measure this machine's training speed for a kind of run (a short real training), for the estimates."""
    from retroml.runs.train_probe import probe

    if algo is not None and algo not in ALGOS:
        raise fail(f"--algo '{algo}' is not one of {', '.join(ALGOS)}")
    try:
        fields = {"game": {"id": game}, "train": {"algo": algo, "n_envs": envs, "device": device}}
        run_config = compose(preset, fields=fields)
        service = where.service()
        console.print(f"measuring {run_config.train.algo.upper()} on this machine (a short real training)…")
        steps_per_sec = probe(service.home, run_config)
        estimate = service.training_estimate(run_config)
    except RetroMLError as error:
        raise fail(str(error)) from None
    console.print(f"{steps_per_sec:,.0f} timesteps/s. {estimate_sentence(estimate)}", highlight=False)


@app.command()
@where_options
def sweep(
    games: Annotated[str, typer.Option(help="Comma-separated game ids, e.g. pong,breakout,space_invaders.")],
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds, e.g. 0,1,2.")] = "0",
    algo: AlgoOption = None,
    steps: StepsOption = None,
    envs: EnvsOption = None,
    preset: Annotated[str | None, typer.Option(help="Start each run from a preset.")] = None,
    fast: FastOption = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: section.key=value (repeatable).")] = None,
    wait: Annotated[bool, typer.Option(help="Follow the runs until they all end.")] = True,
    *,
    where: Where,
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
                train = {"seed": seed_value, "algo": algo, "total_timesteps": parse_steps(steps), "n_envs": envs}
                fields = {
                    "name": f"{label}-{game_id}-seed{seed_value}",
                    "game": {"id": game_id},
                    "train": train,
                    "fast_mode": True if fast else None,
                }
                configs.append(compose(preset, fields=fields, overrides=set_ or []))
        service = where.service()
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
        shown = (status_text(run), percent(run.progress), speed(run), score(run.score_mean), run.host or "")
        table.add_row(run_id, run.game, str(seed), *shown)
    return table
