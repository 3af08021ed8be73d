"""Secrets stay with their owner: no DB password on a worker's command line, no web token in its
environment, and a new home, database and run folder no other local user can read.

The PostgreSQL case uses the session's throwaway server (``postgres_url``, tests/conftest.py).
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from tests.integration.conftest import tiny_config, wait_until

from retroml.config import build_config
from retroml.runs.model import RunStatus
from retroml.runs.service import RunService
from retroml.store import DB_ENV_VAR
from retroml.web.auth import TOKEN_ENV_VAR


def _proc(pid: int, name: str) -> list[str]:
    return [part.decode() for part in Path(f"/proc/{pid}/{name}").read_bytes().split(b"\0") if part]


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_worker_gets_the_db_url_by_environment_and_never_the_web_token(
    tmp_path: Path, database: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = None
    if database == "postgresql":
        # A password in the URL, as a user may write it; the test server trusts any, so the run really trains.
        url = str(request.getfixturevalue("postgres_url")).replace("://retroml@", "://retroml:s3cret-pw@")
        assert "s3cret-pw" in url
    monkeypatch.setenv(TOKEN_ENV_VAR, "web-token-for-the-server-only")
    service = RunService(tmp_path / "home", url)
    run = service.create(build_config(tiny_config("pong", 100_000, recording={"enabled": False})))
    assert run.pid is not None
    command, environment = _proc(run.pid, "cmdline"), _proc(run.pid, "environ")
    assert not any("s3cret-pw" in part or service.raw_store.url in part for part in command), command
    assert "--db" not in command
    assert f"{DB_ENV_VAR}={service.raw_store.url}" in environment
    assert not any(part.startswith(f"{TOKEN_ENV_VAR}=") for part in environment)
    # The worker found its store through the environment: its first checkpoint is in the index.
    wait_until(lambda: any(milestone.reached for milestone in service.get(run.run_id).milestones), timeout=180)
    service.stop(run.run_id)
    assert service.wait(run.run_id, timeout=120).status is RunStatus.STOPPED, service.logs(run.run_id, tail=20)
    # What the worker wrote (log, checkpoints, TensorBoard files) is the owner's too.
    written = list(service.paths(run.run_id).root.rglob("*"))
    assert any(path.suffix == ".zip" for path in written)
    assert [path for path in written if not _private(path)] == []


def test_a_new_home_its_database_and_runs_are_the_owner_s(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    service = RunService(home)
    run = service.create(build_config(tiny_config("pong", 1000)), start=False)
    folder = service.paths(run.run_id).root
    for path in (home, home / "runs", home / "retroml.db", folder, folder / "config.yaml", folder / "run.json"):
        assert _private(path), f"{path} is {oct(stat.S_IMODE(path.stat().st_mode))}"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "retroml.db").stat().st_mode) == 0o600
    for sub in folder.iterdir():
        assert _private(sub), f"{sub} is {oct(stat.S_IMODE(sub.stat().st_mode))}"
