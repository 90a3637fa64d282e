"""A throwaway PostgreSQL cluster for the tests: `initdb` and `pg_ctl` in a temporary
folder (in memory, /dev/shm, where there is one), listening on a Unix socket in that folder
only (no TCP), stopped and deleted at the end.

One cluster per test process (each pytest-xdist worker has its own). The migrations run
once, into a template database (at the first test); each test gets a fresh copy of it
(`CREATE DATABASE … TEMPLATE`: about 20 ms in memory, on a cluster that never syncs).

Binaries are looked for on PATH, then in /usr/lib/postgresql/*/bin (Debian's `postgresql`
package). Without them the PostgreSQL tests are skipped with the reason, except when the
environment variable CI is set: CI must run them (.ci/run installs the package).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from storage.db import Database
from storage.setup import open_storage

TEMPLATE = "pnc_template"


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, newest version first."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent  # a link's folder may hold only those two
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    for folder in sorted(versions, key=lambda f: _version(f.parent.name), reverse=True):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def unavailable(reason: str) -> None:
    """Skips, or fails under CI (where the PostgreSQL tests must run)."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL requis en CI : {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL absent : {reason}")


@dataclass
class Cluster:
    folder: Path
    bin: Path
    as_user: list[str]  # `runuser -u postgres --` when the tests run as root
    counter: Iterator[int] = field(default_factory=itertools.count)
    templated: bool = False

    @property
    def socket(self) -> str:
        return str(self.folder)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket}"

    def run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / tool), *args],
            check=True,
            capture_output=True,
            cwd=self.folder,
        )

    def start(self) -> None:
        data = self.folder / "data"
        self.run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self.run(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
            "-o",
            f"-k {self.socket} -c listen_addresses= -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off",
        )

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    async def create_template(self) -> None:
        # C collation: text sorts byte by byte, as SQLite's does (storage/postgres.py).
        await self.admin(f"CREATE DATABASE {TEMPLATE} LOCALE 'C' TEMPLATE template0")
        db = await open_storage(self.url(TEMPLATE))  # migrated and taxonomy synced
        await db.close()

    async def fresh_database(self) -> str:
        """A new database, a copy of the migrated template; its address."""
        if not self.templated:  # the first test migrates it, on its own event loop
            await self.create_template()
            self.templated = True
        name = f"test_{next(self.counter)}"
        await self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return self.url(name)

    async def empty_database(self) -> str:
        """A new database with no schema at all (as an operator creates it); its address."""
        name = f"empty_{next(self.counter)}"
        await self.admin(f"CREATE DATABASE {name} LOCALE 'C' TEMPLATE template0")
        return self.url(name)

    async def drop(self, url: str) -> None:
        name = urllib.parse.urlsplit(url).path.lstrip("/")
        await self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    async def admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


@asynccontextmanager
async def engine_database(
    engine: str, sqlite_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    """A migrated database on `engine`: the SQLite file `sqlite_path`, or a fresh copy of the
    template on this process's cluster (the `pg_cluster` fixture), dropped afterwards."""
    if engine == "sqlite":
        database = await open_storage(sqlite_path)
        try:
            yield database
        finally:
            await database.close()
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    url = await cluster.fresh_database()
    database = await open_storage(url)
    try:
        yield database
    finally:
        await database.close()
        await cluster.drop(url)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """This test process's cluster, started at the first test that needs it."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


PREFIX = "pnc-pg-"
OWNER_FILE = "owner.pid"


def stop_orphans(parent: Path, binaries: Path) -> None:
    """Stops and deletes the clusters of test processes that died without stopping theirs
    (a test run killed): their servers would otherwise run on, in memory, for ever."""
    for folder in parent.glob(f"{PREFIX}*"):
        try:
            owner = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # being created, or not ours to judge
        try:
            os.kill(owner, 0)
            continue  # its process is alive
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # another account's
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        with contextlib.suppress(subprocess.CalledProcessError):  # its server already gone
            Cluster(folder, binaries, as_user).stop()


def start_cluster() -> Cluster:
    binaries = find_binaries()
    if binaries is None:
        unavailable("initdb et pg_ctl introuvables (apt-get install postgresql)")
        raise AssertionError  # unreachable: unavailable() skips or fails
    # In memory where the system has it: the disk may be busy with others' work, and a
    # database copied per test then costs half a second instead of milliseconds.
    memory = Path("/dev/shm")
    in_memory = memory.is_dir() and os.access(memory, os.W_OK)
    parent = memory if in_memory else Path(tempfile.gettempdir())
    stop_orphans(parent, binaries)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
    (folder / OWNER_FILE).write_text(str(os.getpid()))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: the cluster runs as the postgres account
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("tests lancés en root sans compte « postgres »")
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(folder, binaries, as_user)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
