"""Every video a run can be made into, behind one call: the faces name a layout, this picks the renderer.

``single``, ``grid`` and ``analytics`` are journeys (one segment per milestone); ``compare`` puts the
same milestones of 2-4 runs side by side; ``highlights`` cuts the best moments into a trailer;
``timelapse`` replays the whole training from the frames captured while it ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import ValidationError

from retroml.config import RenderConfig, describe_validation_error
from retroml.errors import InvalidInputError
from retroml.store import Store

VideoLayout = Literal["single", "grid", "analytics", "compare", "highlights", "timelapse"]
VIDEO_LAYOUTS: tuple[str, ...] = get_args(VideoLayout)
JOURNEY_LAYOUTS = ("single", "grid", "analytics")
DEFAULT_LENGTHS: dict[str, str] = {"highlights": "60s", "timelapse": "5m"}


def check_layout_name(layout: str) -> None:
    """Refuse a layout no renderer draws."""
    if layout not in VIDEO_LAYOUTS:
        raise InvalidInputError(f"layout must be one of {', '.join(VIDEO_LAYOUTS)}, not '{layout}'")


def render_settings(base: RenderConfig, length: str | None, layout: str | None) -> tuple[RenderConfig, str]:
    """``base`` (a run's ``render`` section) with the asked length and layout, and the layout to render.

    A layout that is not a journey keeps ``base.layout`` in the settings and gets its own default length.
    """
    layout = layout or base.layout
    check_layout_name(layout)
    changes = {"length": length or DEFAULT_LENGTHS.get(layout), "layout": layout if layout in JOURNEY_LAYOUTS else None}
    try:
        updated = {key: value for key, value in changes.items() if value is not None}
        return RenderConfig.model_validate({**base.model_dump(), **updated}), layout
    except ValidationError as error:
        raise InvalidInputError(describe_validation_error(error)) from None


def check_layout(layout: str, compare_with: Sequence[str] = ()) -> None:
    """Refuse a layout no renderer draws, a comparison of too few or too many runs (the run and ``compare_with``),
    and other runs given to anything but ``compare``."""
    check_layout_name(layout)
    if layout == "compare":
        from retroml.video.compare import check_run_count

        check_run_count(1 + len(compare_with))
    if layout != "compare" and compare_with:
        raise InvalidInputError(f"other runs are only used by the compare layout, not by '{layout}'")


def render_video(
    store: Store,
    run_id: str,
    settings: RenderConfig,
    layout: str,
    compare_with: Sequence[str] = (),
    workers: int | None = None,
    music: Path | None = None,
    progress: Any = None,
    runner: Any = None,
) -> Path:
    """Render ``run_id`` in ``layout`` (journey settings, such as length and fps, from ``settings``)."""
    check_layout(layout, compare_with)
    pool: dict[str, Any] = {} if runner is None else {"runner": runner}
    if layout in JOURNEY_LAYOUTS:
        from retroml.video.journey import render_run_journey

        settings = settings.model_copy(update={"layout": layout})
        return render_run_journey(store, run_id, settings, workers=workers, music=music, progress=progress, **pool)
    if layout == "compare":
        from retroml.video.compare import render_compare

        runs = [run_id, *compare_with]
        return render_compare(store, runs, settings, workers=workers, music=music, progress=progress, **pool)
    if layout == "highlights":
        from retroml.video.highlights import render_highlights

        return render_highlights(store, run_id, settings.length, settings, workers=workers, progress=progress, **pool)
    from retroml.video.timelapse_render import render_timelapse

    return render_timelapse(store, run_id, settings.length, settings, progress=progress)
