"""The store on each database it supports: the home's SQLite file and a real PostgreSQL server.

``db_url`` (tests/conftest.py) runs every test once per database; the PostgreSQL one is a fresh database
on a throwaway server started for the session.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import Column, Float, Integer, String
from tests.conftest import PostgresServer

from retroml.errors import InvalidInputError
from retroml.store import PatientWriter, Store

GIB = 2**30


def _run_row(run_id: str, **values: object) -> dict[str, object]:
    return {
        "run_id": run_id, "name": f"pong {run_id}", "game": "pong", "algo": "ppo", "status": "queued",
        "created_at": time.time(), "total_timesteps": 10_000, **values,
    }  # fmt: skip


def _metrics_row(timesteps: int, **values: object) -> dict[str, object]:
    return {"leg": 1, "timesteps": timesteps, "episodes": timesteps // 1000, "wall_time": 1.0, **values}


@pytest.fixture
def store(tmp_path: Path, db_url: str | None) -> Store:
    home = tmp_path / "home"
    home.mkdir()
    return Store(home, db_url)


def test_a_run_its_metrics_artifacts_and_events_round_trip(store: Store) -> None:
    store.insert_run(_run_row("run-a"))
    store.update_run("run-a", status="running", pid=4242, started_at=time.time())
    for steps in (256, 512, 768):
        store.add_metrics("run-a", _metrics_row(steps, score_mean=-20.5 + steps / 256))
    assert store.supersede_metrics("run-a", after_timesteps=512) == 1
    store.add_artifact("run-a", "clip", "runs/run-a/videos/clip.mp4", size_bytes=1234, meta={"poster": "p.jpg"})
    store.add_artifact("run-a", "clip", "runs/run-a/videos/clip.mp4", size_bytes=999)  # same path: replaced

    run = store.get_run("run-a")
    assert run is not None and (run["status"], run["pid"], run["executor"], run["fast_mode"]) == (
        "running", 4242, "local", False)  # fmt: skip
    assert [row["timesteps"] for row in store.metrics("run-a")] == [256, 512]
    assert store.metrics_at("run-a", 700)["score_mean"] == -18.5  # type: ignore[index]
    [clip] = store.artifacts("run-a", ["clip"])
    assert clip["size_bytes"] == 999 and store.get_artifact(clip["id"]) == clip
    kinds = [(row["kind"], row["payload"].get("status")) for row in store.events("run-a")]
    assert kinds == [("status", "queued"), ("status", "running"), *[("metrics", None)] * 3, *[("artifact", None)] * 2]
    ids = [row["id"] for row in store.events()]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [row["id"] for row in store.events(after_id=ids[3])] == ids[4:]

    store.delete_run("run-a")
    assert store.get_run("run-a") is None and store.list_runs() == [] and store.metrics("run-a") == []
    assert store.events(after_id=ids[-1])[0]["kind"] == "deleted"


def test_long_runs_and_large_videos_fit(store: Store) -> None:
    """Ten billion timesteps and a 5 GiB journey: past 32 bits, which PostgreSQL's INTEGER would refuse."""
    store.insert_run(_run_row("run-big", total_timesteps=10_000_000_000))
    store.update_run("run-big", timesteps=9_000_000_000, episodes=3_000_000_000)
    store.add_metrics("run-big", _metrics_row(9_000_000_000))
    store.add_artifact("run-big", "journey", "runs/run-big/videos/journey.mp4", size_bytes=5 * GIB, timesteps=9 * 10**9)
    run = store.get_run("run-big")
    assert run is not None and (run["total_timesteps"], run["timesteps"]) == (10_000_000_000, 9_000_000_000)
    assert store.metrics("run-big")[0]["timesteps"] == 9_000_000_000
    assert store.artifacts("run-big")[0]["size_bytes"] == 5 * GIB


def test_a_metric_that_is_not_a_number_is_kept_as_empty(store: Store) -> None:
    """NaN and infinity are no JSON: the event carries null (PostgreSQL refuses them in JSON outright)."""
    store.insert_run(_run_row("run-nan"))
    store.add_metrics("run-nan", _metrics_row(256, loss=float("nan"), explained_variance=float("-inf")))
    payload = store.events("run-nan")[-1]["payload"]
    assert payload["loss"] is None and payload["explained_variance"] is None
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload


def test_a_database_made_by_an_older_retroml_gets_the_new_columns(tmp_path: Path, db_url: str | None) -> None:
    home = tmp_path / "home"
    home.mkdir()
    engine = sqlalchemy.create_engine(db_url or f"sqlite:///{home / 'retroml.db'}")
    old = sqlalchemy.MetaData()  # the runs and metrics tables as the first RetroML made them
    old_runs = sqlalchemy.Table(
        "runs", old,
        *(Column(name, String(32), primary_key=name == "run_id") for name in ("run_id", "name", "game", "algo")),
        Column("status", String(16)),
        Column("created_at", Float), Column("total_timesteps", Integer),
    )  # fmt: skip
    old_metrics = sqlalchemy.Table(
        "metrics", old, Column("id", Integer, primary_key=True), Column("run_id", String(32)),
        *(Column(name, Integer) for name in ("leg", "timesteps", "episodes")), Column("wall_time", Float),
        Column("created_at", Float),
    )  # fmt: skip
    old.create_all(engine)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.insert(old_runs).values(
            run_id="run-old", name="old pong", game="pong", algo="ppo", status="completed", created_at=1.0,
            total_timesteps=2048,
        ))  # fmt: skip
        connection.execute(sqlalchemy.insert(old_metrics).values(
            run_id="run-old", leg=1, timesteps=2048, episodes=3, wall_time=9.5, created_at=1.0,
        ))  # fmt: skip
    engine.dispose()

    store = Store(home, db_url)
    run = store.get_run("run-old")
    assert run is not None
    assert (run["executor"], run["leg"], run["timesteps"], run["fast_mode"]) == ("local", 1, 0, False)
    assert [(row["timesteps"], row["superseded"]) for row in store.metrics("run-old")] == [(2048, False)]
    # The old 32-bit counts were widened: a long run's step count fits.
    store.update_run("run-old", total_timesteps=10_000_000_000)
    store.add_metrics("run-old", _metrics_row(9_000_000_000))
    assert [row["timesteps"] for row in store.metrics("run-old")] == [2048, 9_000_000_000]


def test_a_reader_following_the_events_of_concurrent_writers_misses_none(store: Store) -> None:
    """Four writers at once; a reader that resumes after the last id it saw must still see every event."""
    writers, each = 4, 40
    for index in range(writers):
        store.insert_run(_run_row(f"run-{index}"))
    seen: list[int] = []
    done = threading.Event()
    start = store.events()[-1]["id"]

    def follow() -> None:
        after = start
        while True:
            finished = done.is_set()
            batch = store.events(after_id=after)
            seen.extend(row["id"] for row in batch)
            after = batch[-1]["id"] if batch else after
            if finished and not batch:
                return

    def write(run_id: str) -> None:
        for steps in range(each):
            store.add_metrics(run_id, _metrics_row(steps))

    reader = threading.Thread(target=follow)
    reader.start()
    threads = [threading.Thread(target=write, args=(f"run-{index}",)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reader.join(timeout=60)
    metrics_events = [row["id"] for row in store.events(limit=10_000) if row["kind"] == "metrics"]
    assert len(metrics_events) == writers * each
    assert seen == metrics_events


def test_the_trainers_writes_wait_out_a_lock_and_then_land_in_order(tmp_path: Path, db_url: str | None) -> None:
    """A backup tool holds the database longer than the trainer's lock wait: writes wait, none fail or go lost."""
    home = tmp_path / "home"
    home.mkdir()
    store = Store(home, db_url, busy_timeout_ms=200)
    store.insert_run(_run_row("run-l"))
    writes = PatientWriter(store)
    writes.add_metrics("run-l", _metrics_row(256))
    with _locked(store):
        writes.add_metrics("run-l", _metrics_row(512))
        writes.update_run("run-l", timesteps=512)
        assert writes.waiting == 2
    assert writes.close(timeout=30)
    assert [row["timesteps"] for row in store.metrics("run-l")] == [256, 512]
    assert store.get_run("run-l")["timesteps"] == 512  # type: ignore[index]


class _locked:
    """Holds an exclusive lock as a backup tool would: SQLite's whole file, PostgreSQL's tables."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> None:
        url = self.store.engine.url
        if url.get_backend_name() == "sqlite":
            import sqlite3

            self.connection: object = sqlite3.connect(str(url.database), isolation_level=None)
            self.connection.execute("BEGIN EXCLUSIVE")  # type: ignore[attr-defined]
        else:
            import psycopg

            self.connection = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
            self.connection.execute("LOCK TABLE runs, metrics, events IN ACCESS EXCLUSIVE MODE")  # type: ignore[attr-defined]
        time.sleep(0.5)

    def __exit__(self, *_exc: object) -> None:
        self.connection.commit()  # type: ignore[attr-defined]
        self.connection.close()  # type: ignore[attr-defined]


def test_the_trainers_writes_wait_out_a_restarting_postgresql_server(tmp_path: Path) -> None:
    """The database server restarts under a training (an upgrade, a failover): its writes wait, then land."""
    server = PostgresServer()
    store: Store | None = None
    try:
        server.start()
        store = Store(tmp_path, server.create_database("restarting"), busy_timeout_ms=200)
        store.insert_run(_run_row("run-r"))
        writes = PatientWriter(store)
        writes.add_metrics("run-r", _metrics_row(256))
        server.stop()
        writes.add_metrics("run-r", _metrics_row(512))
        writes.update_run("run-r", timesteps=512)
        assert writes.waiting == 2
        server.start()
        assert writes.close(timeout=30)
        assert [row["timesteps"] for row in store.metrics("run-r")] == [256, 512]
        assert store.get_run("run-r")["timesteps"] == 512  # type: ignore[index]
    finally:
        if store is not None:
            store.dispose()
        server.remove()


def test_text_with_a_nul_character_is_one_clear_sentence_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    """PostgreSQL's text cannot hold NUL (SQLite's can): a name or filter with one is refused, not a driver error."""
    store = Store(tmp_path, postgres_url)
    with pytest.raises(InvalidInputError, match="NUL character"):
        store.insert_run(_run_row("run-n", name="pong\x00"))
    with pytest.raises(InvalidInputError, match="NUL character"):
        store.list_runs(game="pong\x00")
    assert store.list_runs() == [] and store.get_run("run-n") is None
