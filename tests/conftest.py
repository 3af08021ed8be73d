"""A real PostgreSQL for the tests that run against both stores.

One throwaway cluster per test session (Debian's ``postgresql``: ``initdb`` and ``pg_ctl`` on a free
port of 127.0.0.1, in a temporary folder), a fresh database per test, stopped at the end. PostgreSQL
refuses to run as root, so as root (CI) the server runs as the ``postgres`` user (``nobody`` where there
is none) via ``runuser``, in a folder that user owns.

``db_url`` is the fixture to ask for: parametrized over ``sqlite`` (``None``: the home's own
``retroml.db``) and ``postgresql`` (the URL of a fresh database).
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL_HINT = "scripts/test.sh installs it: the Debian package postgresql and the Python package psycopg[binary]"


class PostgresServer:
    """A throwaway PostgreSQL cluster in its own temporary folder, on a free port of 127.0.0.1.

    :meth:`stop` and :meth:`start` again keep its data (a restarted server); :meth:`remove` ends it.
    """

    user = "retroml"

    def __init__(self) -> None:
        binaries = _server_binaries()
        if binaries is None:
            _unavailable("no PostgreSQL server (initdb, pg_ctl) is installed")
        assert binaries is not None
        if importlib.util.find_spec("psycopg") is None:
            _unavailable("the PostgreSQL driver psycopg is not installed")
        self.binaries = binaries
        self.as_user: list[str] = []
        self.folder = Path(tempfile.mkdtemp(prefix="retroml-pg-"))
        if os.geteuid() == 0:
            owner = next((name for name in ("postgres", "nobody") if _user_exists(name)), None)
            if owner is None or not shutil.which("runuser"):
                _unavailable("running as root with neither a postgres nor a nobody user (or no runuser)")
            assert owner is not None
            entry = pwd.getpwnam(owner)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
            self.as_user = ["runuser", "-u", owner, "--"]
        self.data = self.folder / "data"
        self.port = _free_port()
        # trust for the local user "retroml"; no fsync (a crash loses nothing the tests keep)
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        # TCP on the loopback only, the socket in our folder (Debian's /var/run/postgresql may not exist).
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self._admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self._admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @property
    def _admin(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres"

    def _run(self, program: str, *arguments: str) -> None:
        command = [*self.as_user, str(self.binaries / program), *arguments]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.folder)
        if done.returncode != 0:
            pytest.fail(f"{program} {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}", pytrace=False)


def _server_binaries() -> Path | None:
    """The folder with initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[4]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _unavailable(reason: str) -> None:
    """No PostgreSQL here: a skip on a developer's machine, a failure in CI (which must test both stores)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; {INSTALL_HINT}", pytrace=False)
    pytest.skip(f"{reason}; {INSTALL_HINT}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session (started on first use, about 2 s)."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    name = f"test_{os.getpid()}_{next(_databases)}"
    yield postgres_server.create_database(name)
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """Each store: ``None`` for the home's SQLite file, else the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
