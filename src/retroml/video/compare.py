"""Two to four runs of one game side by side at the same milestones: PPO against DQN, or seed against seed.

Each segment plays the checkpoints the runs saved at the same percentage of their budgets. Every pane
is seeded alike, so all start from the same game state and differ only by what their agents learned.
The segments render and join like a journey's, and the video is filed under the first run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from retroml.config import GameConfig, RenderConfig, read_config
from retroml.errors import InvalidInputError, NotFoundError
from retroml.paths import run_paths
from retroml.store import Store
from retroml.video import pipeline
from retroml.video.frames import MilestoneLabel
from retroml.video.labels import milestone_labels
from retroml.video.plan import RenderPlan, SegmentMaker, allocate, length_frames, screen_time
from retroml.video.segment import PaneSpec

MIN_RUNS, MAX_RUNS = 2, 4


@dataclass(frozen=True)
class ComparedRun:
    """One run of a comparison: who it is and the milestone checkpoints it saved.

    :param checkpoints: milestone checkpoints by ``milestone_pct`` in the run's current plan
        (``latest.zip`` is no milestone and is left out: runs are matched by the share of their budgets
        they had trained).
    """

    run_id: str
    name: str
    algo: str
    game: GameConfig
    checkpoints: dict[float, tuple[Path, MilestoneLabel]]


def compare_name(game: str, run_ids: Sequence[str], length: str) -> str:
    return f"{game}__compare__{'__vs__'.join(run_ids)}__{length}.mp4"


def check_run_count(count: int) -> None:
    """Refuse a comparison of fewer or more runs than its panes can show."""
    if not MIN_RUNS <= count <= MAX_RUNS:
        raise InvalidInputError(f"a comparison takes {MIN_RUNS} to {MAX_RUNS} runs, not {count}")


def load_compared_runs(store: Store, run_ids: Sequence[str]) -> list[ComparedRun]:
    """The runs to compare, or a one-sentence refusal of a comparison that cannot be made."""
    check_run_count(len(run_ids))
    if len(set(run_ids)) != len(run_ids):
        raise InvalidInputError("each run can appear only once in a comparison")
    runs = []
    for run_id in run_ids:
        row = store.get_run(run_id)
        if row is None:
            raise NotFoundError(f"there is no run {run_id}")
        paths = run_paths(store.home, run_id)
        config = read_config(paths.config)
        checkpoints = {
            label.milestone_pct: (path, label)
            for path, label in milestone_labels(store, run_id, paths)
            if label.milestone
        }
        runs.append(ComparedRun(run_id, str(row["name"]), config.train.algo, config.game, checkpoints))
    first = runs[0]
    for other in runs[1:]:
        if other.game.id != first.game.id:
            raise InvalidInputError(
                f"can't compare {first.game.id} with {other.game.id}: runs side by side must play the same game"
            )
        if other.game != first.game:
            raise InvalidInputError(
                f"can't compare {first.run_id} with {other.run_id}: they play {first.game.id} with different "
                "game settings (frame skip, sticky actions or no-op starts), so their panes could not start alike"
            )
    for run in runs:
        if not run.checkpoints:
            raise InvalidInputError(f"run {run.run_id} has no milestone checkpoint yet, so there is nothing to compare")
    return runs


def common_milestones(runs: Sequence[ComparedRun]) -> list[float]:
    """The milestones (``milestone_pct``) every run saved a checkpoint at, in order."""
    shared = set(runs[0].checkpoints).intersection(*(run.checkpoints for run in runs[1:]))
    if not shared:
        names = ", ".join(run.run_id for run in runs)
        raise InvalidInputError(
            f"runs {names} saved no milestone at the same percentage of their budgets, so there is nothing to compare"
        )
    return sorted(shared)


def plan_compare(
    runs: Sequence[ComparedRun], settings: RenderConfig, output_dir: Path, work_dir: Path, threads: int = 1
) -> RenderPlan:
    """One segment per common milestone, each with a title card and one pane per run (in the order given)."""
    milestones = common_milestones(runs)
    total = length_frames(settings.length, settings.fps)
    if total < 2 * len(milestones):
        shortest = 2 * len(milestones) / settings.fps
        raise InvalidInputError(
            f"a {settings.length} comparison is too short for {len(milestones)} milestones; ask for at least "
            f"{shortest:.0f}s"
        )
    # "later": the last milestone gets three times the screen time of the first, as in a journey.
    shares = allocate(total, screen_time(settings, len(milestones)))
    first = runs[0]
    make = SegmentMaker(settings, work_dir, threads, first.game, first.algo)
    segments = []
    for index, (milestone_pct, frames) in enumerate(zip(milestones, shares, strict=True)):
        panes = tuple(
            PaneSpec(str(run.checkpoints[milestone_pct][0]), run.checkpoints[milestone_pct][1], run.algo, run.name)
            for run in runs
        )
        segments.append(make.titled(index, panes, frames, layout="compare"))
    output = output_dir / compare_name(first.game.id, [run.run_id for run in runs], settings.length)
    return RenderPlan(first.run_id, settings, segments, output, work_dir)


def render_compare(
    store: Store,
    run_ids: Sequence[str],
    settings: RenderConfig,
    workers: int | None = None,
    music: Path | None = None,
    progress: pipeline.Progress | None = None,
    runner: pipeline.SegmentRunner = pipeline.run_in_pool,
) -> Path:
    """Render ``run_ids`` (2 to 4 runs of one game) side by side at their common milestones.

    Returns the MP4, written with its JSON manifest and poster JPEG in the first run's ``videos/`` and
    recorded there as a ``journey`` whose ``meta`` says ``"layout": "compare"`` and lists the runs.
    """
    runs = load_compared_runs(store, list(run_ids))
    work_dir = pipeline.render_work_dir(store, runs[0].run_id)
    count = pipeline.worker_count(workers)
    plan = plan_compare(runs, settings, work_dir.parent, work_dir, threads=pipeline.encoder_threads(count))
    extra = {"layout": "compare", "runs": [run.run_id for run in runs]}
    return pipeline.render_video(store, plan, count, music, progress, runner, extra)
