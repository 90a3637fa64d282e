"""Opt-in: runs any tests on PostgreSQL instead of SQLite, without touching them.

    .venv/bin/python -m pytest -p tests.postgres_everywhere tests/services tests/e2e/test_visit.py

Every SQLite path the bot or a fixture opens (`storage.db.connect`, which
`storage.setup.open_storage` and bot/app.py use) becomes a fresh database of this process's
throwaway cluster (tests/postgres.py), the same path the same database (a restart finds its
data). What it cannot reach: a test that builds `Database(path)` itself, a bot or command
line started as a child process (it opens the SQLite file), and a test that sends SQLite's
own statements (`PRAGMA …`, `total_changes()`). A first step towards the end-to-end suite on
both engines (issue #19, item 4), until tests/conftest.py chooses the engine itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import storage.db
import storage.setup
from storage.postgres import PostgresDatabase
from tests.postgres import TEMPLATE, Cluster, start_cluster

_state: dict[str, Cluster] = {}
_databases: dict[str, str] = {}
_sqlite_connect = storage.db.connect


def pytest_sessionstart(session: pytest.Session) -> None:
    cluster = start_cluster()
    asyncio.run(cluster.create_template())  # no event loop runs yet
    _state["cluster"] = cluster


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    cluster = _state.pop("cluster", None)
    if cluster is not None:
        cluster.stop()


def _url_for(path: Path | str) -> str:
    key = str(Path(path).resolve())
    if key not in _databases:
        cluster = _state["cluster"]
        name = f"path_{len(_databases)}"
        # Synchronous: `connect` is, and runs inside the tests' event loop.
        cluster.run("createdb", "-h", cluster.socket, "-U", "postgres", "-T", TEMPLATE, name)
        _databases[key] = cluster.url(name)
    return _databases[key]


def _connect(location: Path | str) -> storage.db.Database:
    if isinstance(location, str) and location.startswith(("postgresql://", "postgres://")):
        return _sqlite_connect(location)
    return PostgresDatabase(_url_for(location))


storage.db.connect = _connect
storage.setup.connect = _connect  # imported by name there
