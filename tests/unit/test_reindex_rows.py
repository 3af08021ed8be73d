"""A run folder gives back exactly the rows a lost index held, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from retroml.runs.reindex import reindex
from retroml.store import Store, artifacts, events, metrics, runs


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in row.items() if key != "id"} for row in rows]


def _what_the_index_holds(store: Store) -> tuple[Any, ...]:
    return store.get_run("run-a"), _without_ids(store.metrics("run-a")), _without_ids(store.artifacts("run-a"))


def test_a_lost_index_comes_back_from_its_folder_superseded_rows_hidden(tmp_path: Path, db_url: str | None) -> None:
    home = tmp_path / "home"
    (home / "runs" / "run-a").mkdir(parents=True)
    store = Store(home, db_url)
    legs = [{"leg": 1, "start_timesteps": 0, "budget": 10_000}, {"leg": 2, "start_timesteps": 256, "budget": 9_744}]
    store.insert_run({"run_id": "run-a", "name": "pong a", "game": "pong", "algo": "ppo", "status": "running",
                      "created_at": time.time(), "total_timesteps": 10_000, "legs": legs})  # fmt: skip
    for steps in (256, 512, 768):
        store.add_metrics("run-a", {"leg": 1, "timesteps": steps, "episodes": 1, "wall_time": 1.0, "loss": 0.5})
    assert store.supersede_metrics("run-a", after_timesteps=256) == 2  # a leg restarted from 256 after a crash
    store.add_metrics("run-a", {"leg": 2, "timesteps": 512, "episodes": 2, "wall_time": 2.0})
    store.add_artifact("run-a", "checkpoint", "runs/run-a/checkpoints/milestone_50pct_512.zip", milestone_pct=50,
                       timesteps=512, leg=2, meta={"score_mean": -20.5})  # fmt: skip
    store.update_run("run-a", status="completed", timesteps=512)
    before = _what_the_index_holds(store)
    last_event_seen = store.events(limit=1000)[-1]["id"]
    with store.engine.begin() as connection:  # the index is lost: every row goes
        for table in (metrics, artifacts, events, runs):
            connection.execute(delete(table))

    first = reindex(store, home)
    assert (first.runs, first.new, first.skipped) == (1, 1, ())
    assert _what_the_index_holds(store) == before
    assert [row["timesteps"] for row in store.metrics("run-a")] == [256, 512]
    # Event ids go on above the lost ones, also for the events written after the rebuild.
    store.add_metrics("run-a", {"leg": 2, "timesteps": 768, "episodes": 3, "wall_time": 3.0})
    assert min(row["id"] for row in store.events("run-a")) > last_event_seen

    again = reindex(store, home)
    assert (again.runs, again.new) == (1, 0)
    assert len(store.metrics("run-a")) == 3 and len(store.artifacts("run-a")) == 1
