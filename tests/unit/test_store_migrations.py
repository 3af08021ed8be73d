"""Schema versions of the store (``retroml.migrations``), on SQLite and on a real PostgreSQL (``db_url``).

A new database is made at the head revision; one made by an older RetroML, before schema versions,
is upgraded with its rows; several processes opening a new home at once all succeed; a new or
up-to-date database costs no Alembic import.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from retroml import migrations
from retroml.errors import RetroMLError
from retroml.store import Store, metadata


def _url(home: Path, db_url: str | None) -> str:
    return db_url or f"sqlite:///{home / 'retroml.db'}"


def _differences(url: str) -> list[object]:
    """What Alembic's autogenerate would change to make the database match the store's tables."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def test_head_is_the_newest_revision_in_the_package() -> None:
    with sqlalchemy.create_engine("sqlite://").connect() as connection:
        script = ScriptDirectory.from_config(migrations.alembic_config(connection))
    assert script.get_heads() == [migrations.HEAD]


def test_a_new_database_is_made_at_the_head_revision_and_reports_it(home: Path, db_url: str | None) -> None:
    store = Store(home, db_url)
    assert store.schema_version == migrations.HEAD
    with store.engine.connect() as connection:  # the stamp written without Alembic is the one it reads
        assert MigrationContext.configure(connection).get_current_revision() == migrations.HEAD
    assert _differences(_url(home, db_url)) == []
    store.dispose()


def test_the_revisions_alone_build_the_store_s_tables(home: Path, db_url: str | None) -> None:
    """New databases are made by create_all: the revisions must make the very same tables."""
    engine = sqlalchemy.create_engine(_url(home, db_url))
    with engine.begin() as connection:
        command.upgrade(migrations.alembic_config(connection), "head")
    engine.dispose()
    assert _differences(_url(home, db_url)) == []
    assert Store(home, db_url).schema_version == migrations.HEAD


# The tables as the first RetroML made them (2b8ec9a): 32-bit counts and ids, and without the columns
# added since (runs.train_seconds, metrics.score_best, metrics.superseded) or any index.
OLD_SCHEMA = """
CREATE TABLE runs (
    run_id VARCHAR(32) NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, game VARCHAR(64) NOT NULL,
    algo VARCHAR(16) NOT NULL, status VARCHAR(16) NOT NULL, fast_mode BOOLEAN NOT NULL, created_at FLOAT NOT NULL,
    started_at FLOAT, ended_at FLOAT, heartbeat_at FLOAT, pid INTEGER, pid_started_at FLOAT, host VARCHAR(255),
    executor VARCHAR(16) NOT NULL, leg INTEGER NOT NULL, leg_start_timesteps INTEGER NOT NULL,
    total_timesteps INTEGER NOT NULL, timesteps INTEGER NOT NULL, episodes INTEGER NOT NULL, score_mean FLOAT,
    score_best FLOAT, steps_per_sec FLOAT, parent_run_id VARCHAR(32), parent_checkpoint VARCHAR(500),
    changes JSON, legs JSON, exit_code INTEGER, message TEXT, render_progress FLOAT
);
CREATE TABLE metrics (
    id {serial} NOT NULL PRIMARY KEY, run_id VARCHAR(32) NOT NULL, leg INTEGER NOT NULL, timesteps INTEGER NOT NULL,
    episodes INTEGER NOT NULL, score_mean FLOAT, score_max FLOAT, episode_length FLOAT, steps_per_sec FLOAT,
    loss FLOAT, policy_loss FLOAT, value_loss FLOAT, entropy FLOAT, explained_variance FLOAT, learning_rate FLOAT,
    exploration_rate FLOAT, wall_time FLOAT NOT NULL, created_at FLOAT NOT NULL
);
CREATE TABLE artifacts (
    id {serial} NOT NULL PRIMARY KEY, run_id VARCHAR(32) NOT NULL, kind VARCHAR(16) NOT NULL,
    path VARCHAR(500) NOT NULL, milestone_pct INTEGER, timesteps INTEGER, episodes INTEGER, leg INTEGER,
    size_bytes INTEGER, duration_sec FLOAT, meta JSON, created_at FLOAT NOT NULL, UNIQUE (path)
);
CREATE TABLE events (
    id {serial} NOT NULL PRIMARY KEY, run_id VARCHAR(32) NOT NULL, kind VARCHAR(16) NOT NULL, payload JSON NOT NULL,
    created_at FLOAT NOT NULL
);
INSERT INTO runs (run_id, name, game, algo, status, fast_mode, created_at, executor, leg, leg_start_timesteps,
    total_timesteps, timesteps, episodes, score_best)
    VALUES ('run-old', 'old pong', 'pong', 'ppo', 'completed', {false}, 1.0, 'local', 1, 0, 4096, 4096, 7, -19.0);
INSERT INTO metrics (run_id, leg, timesteps, episodes, score_mean, wall_time, created_at)
    VALUES ('run-old', 1, 2048, 3, -20.5, 9.5, 1.0);
INSERT INTO artifacts (run_id, kind, path, milestone_pct, timesteps, size_bytes, created_at)
    VALUES ('run-old', 'checkpoint', 'runs/run-old/checkpoints/milestone_100pct_4096.zip', 100, 4096, 1234, 1.0);
INSERT INTO events (run_id, kind, payload, created_at) VALUES ('run-old', 'status', '{{"status": "completed"}}', 1.0);
"""


def _make_old_database(url: str) -> None:
    engine = sqlalchemy.create_engine(url)
    postgresql = engine.dialect.name == "postgresql"
    script = OLD_SCHEMA.format(serial="SERIAL" if postgresql else "INTEGER", false="false" if postgresql else "0")
    with engine.begin() as connection:
        for statement in filter(str.strip, script.split(";")):
            connection.exec_driver_sql(statement)
    engine.dispose()


def test_a_database_made_before_schema_versions_is_upgraded_with_its_rows(home: Path, db_url: str | None) -> None:
    _make_old_database(_url(home, db_url))

    store = Store(home, db_url)
    assert store.schema_version == migrations.HEAD
    run = store.get_run("run-old")
    assert run is not None and (run["name"], run["timesteps"], run["train_seconds"]) == ("old pong", 4096, None)
    [row] = store.metrics("run-old")
    assert (row["timesteps"], row["score_mean"], row["superseded"], row["score_best"]) == (2048, -20.5, False, None)
    assert [artifact["size_bytes"] for artifact in store.artifacts("run-old")] == [1234]
    assert [event["payload"] for event in store.events("run-old")] == [{"status": "completed"}]
    assert _differences(_url(home, db_url)) == []

    # Past 32 bits now: a ten-billion-step run, a 5 GiB video, ids numbered from near 2**40 after a rebuild.
    store.update_run("run-old", total_timesteps=10_000_000_000)
    store.add_metrics("run-old", {"leg": 2, "timesteps": 9_000_000_000, "episodes": 1, "wall_time": 1.0})
    store.add_artifact("run-old", "journey", "runs/run-old/videos/journey.mp4", size_bytes=5 * 2**30)
    assert [row["timesteps"] for row in store.metrics("run-old")] == [2048, 9_000_000_000]
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as connection:
            kinds = connection.exec_driver_sql("SELECT DISTINCT data_type FROM pg_sequences").scalars().all()
        assert kinds == ["bigint"]
    store.dispose()


def test_a_database_made_just_before_schema_versions_is_only_stamped(home: Path, db_url: str | None) -> None:
    engine = sqlalchemy.create_engine(_url(home, db_url))
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.insert(metadata.tables["runs"]).values(
            run_id="run-new", name="pong", game="pong", algo="ppo", status="queued", created_at=time.time(),
            total_timesteps=10_000, fast_mode=False, executor="local", leg=1, leg_start_timesteps=0, timesteps=0,
            episodes=0,
        ))  # fmt: skip
    engine.dispose()
    store = Store(home, db_url)
    assert store.schema_version == migrations.HEAD
    assert [run["run_id"] for run in store.list_runs()] == ["run-new"]
    store.dispose()


OPENER = """
import sys, time
from pathlib import Path
from retroml.store import Store
home, ready, go, url = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4] or None
ready.touch()
while not go.exists():
    time.sleep(0.001)
store = Store(home, url)
store.insert_run({"run_id": f"run-{sys.argv[5]}", "name": "pong", "game": "pong", "algo": "ppo",
                  "status": "queued", "created_at": time.time(), "total_timesteps": 10_000})
print(store.schema_version)
"""


def test_processes_opening_a_new_home_at_once_all_succeed(home: Path, tmp_path: Path, db_url: str | None) -> None:
    """The server, a trainer and a render open the same new home at the same moment: one migrates, all work."""
    count = 3
    go = tmp_path / "go"
    readies = [tmp_path / f"ready-{index}" for index in range(count)]
    commands = [
        [sys.executable, "-c", OPENER, str(home), str(ready), str(go), db_url or "", str(index)]
        for index, ready in enumerate(readies)
    ]
    processes = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for args in commands]
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready in readies) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
        assert stdout.split() == [migrations.HEAD]
    store = Store(home, db_url)
    assert sorted(run["run_id"] for run in store.list_runs()) == [f"run-{index}" for index in range(count)]
    store.dispose()


def test_a_database_upgraded_by_a_newer_retroml_is_refused_with_a_sentence(home: Path) -> None:
    Store(home).dispose()
    engine = sqlalchemy.create_engine(_url(home, None))
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'a-future-one'")
    engine.dispose()
    with pytest.raises(RetroMLError, match=r"upgraded by a newer RetroML \(schema a-future-one"):
        Store(home)


def test_opening_a_new_or_an_up_to_date_store_does_not_load_alembic(home: Path) -> None:
    """Every CLI command opens the store: making a new database or reading an up-to-date one needs no Alembic."""
    probe = (
        "import json, sys; from pathlib import Path; from retroml.store import Store; "
        "Store(Path(sys.argv[1])).dispose(); store = Store(Path(sys.argv[1])); "
        "print(json.dumps([store.schema_version, 'alembic' in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(home)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [migrations.HEAD, False]
