"""How the desktop names a video: its kind (journey, clip, comparison, highlights, time-lapse) and its title."""

from __future__ import annotations

from typing import Any

from retroml.runs.model import Run, VideoKind, duration_text

# The videos a run can be rendered into (``retroml render`` layouts), as the render controls name them.
VIDEO_NAMES = {
    "single": "journey",
    "grid": "journey, grid",
    "analytics": "journey, analytics",
    "compare": "comparison",
    "highlights": "highlights",
    "timelapse": "training time-lapse",
}


# The kinds a video can be filtered by: a clip, or what its render layout made.
KINDS = tuple(str(kind) for kind in VideoKind)


def video_title(video: dict[str, Any], runs: dict[str, Run]) -> str:
    """Run name, then what the video is: a clip says its milestone as the run shows it now and, after a
    continue, its leg; so two legs' clips at the same planned percentage never read the same."""
    run = runs.get(video["run_id"])
    length = duration_text(float(video.get("duration_sec") or 0))
    if video["kind"] == "clip":
        label = video.get("milestone_label")
        if label is None and video.get("milestone_pct") is not None:
            label = f"{video['milestone_pct']} %"
        what = f"clip at {label}" if label is not None else "clip"
        timesteps = video.get("timesteps")
        if run is not None and timesteps is not None and len(run.legs) > 1:
            what += f" · leg {video.get('leg') or run.leg_at(int(timesteps))}"
        if timesteps is not None:
            what += f"\n{int(timesteps):,} steps"  # a line of its own: the poster is narrow
    else:
        layout = (video.get("meta") or {}).get("layout", "single")
        what = VIDEO_NAMES.get(layout, "journey")
    return f"{run.name if run else video['run_id']}\n{what} · {length}"


def group_order(video: dict[str, Any]) -> tuple[int, int, float]:
    """Within a run: rendered videos first (newest first), then clips in training order."""
    if video["kind"] == "clip":
        return (1, int(video.get("timesteps") or 0), 0.0)
    return (0, 0, -float(video.get("created_at") or 0))


def estimate_text(estimate: dict[str, Any]) -> str:
    """How long, how big and which milestones a journey render will be, before it starts."""
    source = "measured on this machine" if estimate["measured"] else "a first guess until this machine has rendered one"
    seconds = float(estimate["expected_render_seconds"])
    time = "under a second" if seconds < 1 else f"about {duration_text(seconds)}"
    text = (
        f"{duration_text(float(estimate['seconds']))} of video in {estimate['segments']} segments: {time} to render "
        f"and {estimate['expected_bytes'] / 1e6:,.1f} MB on disk ({source})."
    )
    return f"{text} The journey {estimate['note']}." if estimate.get("note") else text
