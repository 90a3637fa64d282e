"""Opt-in: runs the end-to-end and service tests on PostgreSQL instead of SQLite, without
touching them (issue #19, item 4). CI runs it after the default suite (on SQLite):

    .venv/bin/python -m pytest -n 2 --dist loadfile -p tests.postgres_everywhere \\
        tests/services tests/e2e

Every SQLite path the bot or a fixture opens (`storage.db.connect`, which
`storage.setup.open_storage` and bot/app.py use) becomes a database of this process's
throwaway cluster (tests/postgres.py; each pytest-xdist worker has its own), copied from the
migrated template (`CREATE DATABASE … TEMPLATE`, milliseconds), the same path the same
database (a restart finds its data), dropped when the test ends. A bot started as a child
process (`bot_process`: the crash, kill, log, webhook and instances tests) is given that
database's address in `DATABASE_URL`, so it runs on PostgreSQL too.

What stays on SQLite alone is listed by name in `SQLITE_ONLY` below, with the reason, and
deselected: tests of SQLite's file and locks themselves, tests that read SQLite's own
statements (`PRAGMA`, `total_changes()`), the authorisation matrix (it snapshots the SQLite
file per cell), the demo (a SQLite file of its own, deleted to reset) and the command-line
children of tests/cli_runner.py (given `DATABASE_PATH` only). A few tests that also read the
SQLite file's bytes for a secret (test_signals, test_network, test_yearly_visit) run here,
their file check then empty: the data itself is checked through the bot on both engines.
A test that fails here for reading SQLite itself joins `SQLITE_ONLY`; one that fails for
SQL that PostgreSQL refuses shows a portability bug, fixed in storage/ (storage/dialect.py
or the repository), pinned by a contract test in tests/storage/.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

import storage.db
import storage.setup
from storage.postgres import PostgresDatabase
from tests.postgres import TEMPLATE, Cluster, start_cluster

T = TypeVar("T")

# Deselected under this plugin, by module: a test's name (all its parameters), or "*" for
# the whole module, and why.
SQLITE_ONLY: dict[str, dict[str, str]] = {
    "tests/e2e/test_authorisation_matrix.py": {
        "*": "compares each cell's SQLite file with a copy of the pristine world's",
    },
    "tests/e2e/test_demo_server.py": {
        "test_the_demo_command_serves_the_page_contract_and_stops_on_ctrl_c": (
            "the `demo` child reads the SQLite file the test seeded"
        ),
        "test_a_reset_reseeds_from_scratch_and_empties_the_chats": (
            "the demo resets by deleting its SQLite file"
        ),
        "test_the_demo_database_is_reused_unless_reset": (
            "the demo resets by deleting its SQLite file"
        ),
    },
    "tests/e2e/test_faults.py": {
        "test_saves_wait_for_a_lock_held_by_another_process_and_a_backup": (
            "another process holds SQLite's write lock on the file; `backup` copies the file"
        ),
        "test_a_lock_longer_than_the_busy_timeout_shows_an_error_and_keeps_the_draft": (
            "another process holds SQLite's write lock past the busy timeout"
        ),
    },
    "tests/e2e/test_cross_cutting.py": {
        "test_forged_callback_is_refused_and_changes_nothing": "counts SQLite's total_changes()",
    },
    "tests/e2e/test_signals.py": {
        "test_each_signal_is_refused_to_the_roles_the_permission_table_excludes": (
            "counts SQLite's total_changes()"
        ),
    },
    "tests/e2e/test_visit.py": {
        "test_no_free_text_reaches_a_visit": (
            "reads SQLite's PRAGMA table_info (tests/test_schema_parity.py gives PostgreSQL"
            " the same columns)"
        ),
    },
    "tests/e2e/test_broadcast.py": {
        "test_must_read_receipts_are_counted_once_and_the_silent_are_reminded": (
            "a tests/cli_runner.py child, given DATABASE_PATH only"
        ),
    },
    "tests/e2e/test_trainings.py": {
        "test_the_caf_exports_its_records_as_csv_without_formulas": (
            "a tests/cli_runner.py child, given DATABASE_PATH only"
        ),
    },
}

_state: dict[str, Cluster] = {}
_databases: dict[str, str] = {}  # resolved path → the database's name, for this test
_sqlite_connect = storage.db.connect


class _Admin:
    """One connection to the cluster's `postgres` database, on an event loop of its own
    thread: `connect` is synchronous and runs inside the test's loop. A database is made in
    milliseconds (no `createdb` process per test), and dropped while the next test runs."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.conn: asyncpg.Connection = self._wait(asyncpg.connect(cluster.url("postgres")))
        self.lock = self._wait(self._make_lock())
        self.drops: list[concurrent.futures.Future[None]] = []

    @staticmethod
    async def _make_lock() -> asyncio.Lock:
        return asyncio.Lock()  # of the admin loop: one statement at a time on its connection

    def _wait(self, job: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(job, self.loop).result()

    async def _execute(self, sql: str) -> None:
        async with self.lock:
            await self.conn.execute(sql)

    def create(self) -> str:
        name = f"path_{next(self.cluster.counter)}"
        self._wait(self._execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY"))
        return name

    def drop_later(self, name: str) -> None:
        sql = f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        self.drops.append(asyncio.run_coroutine_threadsafe(self._execute(sql), self.loop))

    def close(self) -> None:
        for drop in self.drops:
            drop.result()  # a failed drop fails the session's end
        self._wait(self.conn.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


_admin: dict[str, _Admin] = {}


def _sqlite_only(nodeid: str) -> str | None:
    """Why the test stays on SQLite, or None."""
    module, _, name = nodeid.split("[", 1)[0].partition("::")
    listed = SQLITE_ONLY.get(module, {})
    return listed.get("*") or listed.get(name.rsplit("::", 1)[-1])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept = [item for item in items if _sqlite_only(item.nodeid) is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session", autouse=True)
def _postgres_cluster() -> Iterator[Cluster]:
    """This process's cluster, at its first test (an xdist controller starts none); skipped,
    or failed under CI, without PostgreSQL's binaries (tests/postgres.py)."""
    cluster = start_cluster()
    try:
        asyncio.run(cluster.create_template())  # no event loop runs in a sync fixture
        _admin["admin"] = _Admin(cluster)
        yield cluster
    finally:
        admin = _admin.pop("admin", None)
        if admin is not None:
            admin.close()
        cluster.stop()


@pytest.fixture(autouse=True)
def _children_on_postgres(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bot started as a child process opens the test's database through DATABASE_URL."""
    if "bot_process" in request.fixturenames:
        path: Path = request.getfixturevalue("db_path")
        monkeypatch.setenv("DATABASE_URL", _url_for(path))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield  # the test's fixtures have closed their connections, and killed its children
    admin = _admin.get("admin")
    if admin is not None:
        for name in _databases.values():
            admin.drop_later(name)
    _databases.clear()


def _url_for(path: Path | str) -> str:
    key = str(Path(path).resolve())
    admin = _admin["admin"]
    if key not in _databases:
        _databases[key] = admin.create()
    return admin.cluster.url(_databases[key])


def _connect(location: Path | str) -> storage.db.Database:
    if isinstance(location, str) and location.startswith(("postgresql://", "postgres://")):
        return _sqlite_connect(location)
    return PostgresDatabase(_url_for(location))


storage.db.connect = _connect
storage.setup.connect = _connect  # imported by name there
