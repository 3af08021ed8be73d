"""Which checkpoints of a run a video shows, each with what it had learned by then (a :class:`MilestoneLabel`).

The labels come from the store (the checkpoint's artifact row, else the metrics at its timesteps)
and place each checkpoint in the run's current plan. A damaged checkpoint is left out with a warning.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from retroml import milestones
from retroml.engine.checkpoints import checkpoint_damage, latest_timesteps, list_milestones
from retroml.errors import DamagedCheckpointError, NotFoundError
from retroml.paths import RunPaths
from retroml.store import Store
from retroml.video.frames import MilestoneLabel

logger = logging.getLogger(__name__)


def milestone_labels(store: Store, run_id: str, paths: RunPaths) -> list[tuple[Path, MilestoneLabel]]:
    """The run's milestone checkpoints in training order, then ``latest.zip`` if it was saved further on.

    Each comes with what it had learned (from the store) and where it lies in the run's current plan.
    """
    saved, latest = _labelled_checkpoints(store, run_id, paths)
    if latest is not None and (not saved or latest[1].timesteps > saved[-1][1].timesteps):
        return [*saved, latest]
    return saved


@dataclass(frozen=True)
class Weights:
    """What a checkpoint's policy is, cheaply: a digest of its tensors and whether SB3 had updated them.

    The digest covers the records of the ``policy.pth`` member (torch's own zip: the tensors' bytes
    and the pickled layout of the state dict), not the whole file, which also holds the timesteps,
    the optimiser and the exploration rate. Measured with torch 2.13: identical weights give identical
    records, saved in one process or several. torch's ``.data/serialization_id`` is left out: today
    it is derived from the other records, but an id made at random would make every checkpoint look new.
    """

    digest: str
    updated: bool

    @classmethod
    def of(cls, checkpoint: Path) -> Weights:
        """The weights of ``checkpoint``, read once per file version: a render estimate asked while the
        user types plans the journey again and again, and checkpoints are only ever replaced by rename."""
        stat = checkpoint.stat()
        return _weights_of(str(checkpoint), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1024)
def _weights_of(checkpoint: str, _mtime_ns: int, _size: int) -> Weights:
    digest = hashlib.blake2b(digest_size=16)
    with zipfile.ZipFile(checkpoint) as archive:
        data = json.loads(archive.read("data"))
        with zipfile.ZipFile(io.BytesIO(archive.read("policy.pth"))) as policy:
            for record in policy.infolist():
                name = record.filename.split("/", 1)[-1]
                if name != ".data/serialization_id":
                    digest.update(name.encode())
                    digest.update(policy.read(record))
    # SB3 counts gradient steps in ``_n_updates``; a checkpoint without it is not called untrained.
    return Weights(digest.hexdigest(), int(data.get("_n_updates", 1)) > 0)


def journey_checkpoints(store: Store, run_id: str, paths: RunPaths) -> list[tuple[Path, MilestoneLabel]]:
    """What a journey shows: each set of weights the run had, once, in training order, ending on its final ones.

    Milestones saved before an update hold the same weights (PPO before its first rollout ends, DQN
    before ``learning_starts``) and would play the same game frame for frame, so consecutive identical
    checkpoints are one segment, labelled by the last of them (the furthest point of training that
    still had these weights) and called "untrained" if no update had been made yet.
    A2C and the DQN family save the 100 % milestone in their last step, before that step's update:
    ``latest.zip``, saved after it at the same timesteps, then takes the milestone's place.
    """
    saved, latest = _labelled_checkpoints(store, run_id, paths)
    shown = [(path, label, Weights.of(path)) for path, label in saved]
    if latest is not None:
        path, label = latest
        weights = Weights.of(path)
        if shown and weights.digest == shown[-1][2].digest:
            pass  # the last milestone shows the final weights already, under its planned percentage
        elif not shown or label.timesteps > shown[-1][1].timesteps:
            shown.append((path, label, weights))
        elif label.timesteps == shown[-1][1].timesteps:
            shown[-1] = (path, shown[-1][1], weights)
        # An older latest.zip (a leg killed before refreshing it) holds weights the milestones passed.
    journey: list[tuple[Path, MilestoneLabel]] = []
    for index, (path, label, weights) in enumerate(shown):
        if index + 1 < len(shown) and shown[index + 1][2].digest == weights.digest:
            continue
        journey.append((path, replace(label, untrained=not weights.updated)))
    return journey


def _labelled_checkpoints(
    store: Store, run_id: str, paths: RunPaths
) -> tuple[list[tuple[Path, MilestoneLabel]], tuple[Path, MilestoneLabel] | None]:
    """The milestone checkpoints in training order and ``latest.zip`` (if any), labelled from the store."""
    row = store.get_run(run_id)
    if row is None:
        raise NotFoundError(f"there is no run {run_id}")
    origin, total = milestones.origin(row), int(row["total_timesteps"])
    saved = {Path(artifact["path"]).name: artifact for artifact in store.artifacts(run_id, ["checkpoint"])}

    def labelled(path: Path, file_pct: int | None, timesteps: int) -> tuple[Path, MilestoneLabel]:
        # The file name's percentage is what was planned when it was saved; it only finds the artifact.
        artifact = next(
            (row for row in saved.values() if (row["timesteps"], row["milestone_pct"]) == (timesteps, file_pct)), {}
        )
        metrics = store.metrics_at(run_id, timesteps) or {}
        episodes = artifact.get("episodes")
        if episodes is None:
            episodes = metrics.get("episodes") or 0
        score = (artifact.get("meta") or {}).get("score_mean")
        if score is None and episodes:
            score = metrics.get("score_mean")
        pct = milestones.percent(timesteps, origin, total)
        return path, MilestoneLabel(pct, timesteps, int(episodes), score, milestone=file_pct is not None)

    milestone_files = list_milestones(paths.checkpoints)
    latest = paths.latest_checkpoint
    files = [checkpoint.path for checkpoint in milestone_files] + ([latest] if latest.is_file() else [])
    damaged = {path: why for path in files if (why := checkpoint_damage(path)) is not None}
    for path, why in damaged.items():
        logger.warning("skipping %s: it is damaged (%s)", path.relative_to(store.home), why)
    if files and len(damaged) == len(files):
        names = ", ".join(f"{path.name} ({why})" for path, why in damaged.items())
        raise DamagedCheckpointError(
            f"none of the checkpoints of run {run_id} loads ({names}), so there is nothing to render; train a new run"
        )
    found = [
        labelled(checkpoint.path, checkpoint.milestone_pct, checkpoint.timesteps)
        for checkpoint in milestone_files
        if checkpoint.path not in damaged
    ]
    if not latest.is_file() or latest in damaged:
        return found, None
    return found, labelled(latest, None, latest_timesteps(latest))
