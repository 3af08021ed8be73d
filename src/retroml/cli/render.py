"""``retroml render``: a run's journey, a comparison, a time-lapse or highlights, with progress."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from retroml.cli.common import (
    Where,
    app,
    console,
    fail,
    where_options,
)
from retroml.config import parse_duration
from retroml.errors import RetroMLError
from retroml.runs.model import duration_text


@app.command()
@where_options
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
    *,
    where: Where,
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
    if compare:
        from retroml.video.renders import check_layout

        try:
            check_layout("compare", run_ids[1:])
        except RetroMLError as error:
            raise fail(str(error)) from None
    elif len(run_ids) != 1:
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
        service = where.service()
    except RetroMLError as error:
        raise fail(str(error)) from None
    render_with_progress(service, run_ids[0], length, layout, workers, music, run_ids[1:])


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


def render_with_progress(
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
        estimate = service.renders.journey_estimate(run_id, length=length, layout=layout, workers=workers)
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
            video = service.renders.render(
                run_id,
                length=length,
                layout=layout,
                workers=workers,
                music=music,
                progress=report,
                compare_with=compare_with or (),
            )
    except RetroMLError as error:
        raise fail(str(error)) from None
    except KeyboardInterrupt:
        raise fail("render cancelled; no video was written") from None
    console.print(f"video: {video}")


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
