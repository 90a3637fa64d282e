"""The world the storage contract tests share (tests/storage/world.py): the network of two
Cafs and three sites (here in place of tests/conftest.py's `network`, which a bot needs),
the people who joined it, and the Somme's coordinator alone.

Every contract test that uses `db` runs on both engines: SQLite (a file in the test's
folder) and PostgreSQL (a fresh database of a throwaway cluster, tests/postgres.py). The
environment variable PNC_TEST_ENGINES (e.g. `sqlite`) narrows the engines. On SQLite alone
run the modules in SQLITE_ONLY, which test the SQLite engine itself, and the tests named
`test_migration_…`, which mend the data of an older SQLite database (a PostgreSQL database
starts at the latest schema: copied into, never upgraded from before #19)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.domain.models import Person
from storage.db import Database
from tests.postgres import engine_database, pg_cluster  # noqa: F401 - the session's cluster
from tests.storage import world
from tests.storage.world import Network, Staff

ENGINES = tuple(os.environ.get("PNC_TEST_ENGINES", "sqlite,postgresql").split(","))
# Modules about SQLite's own engine (its pragmas, locks, files): not a contract.
SQLITE_ONLY = {"test_db"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db" not in metafunc.fixturenames:
        return
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    sqlite_only = module in SQLITE_ONLY or metafunc.function.__name__.startswith("test_migration_")
    engines = ("sqlite",) if sqlite_only else ENGINES
    metafunc.parametrize("engine", engines, indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
async def db(engine: str, db_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    async with engine_database(engine, db_path, request) as database:
        yield database


@pytest.fixture
async def network(db: Database, clock: ManualClock) -> Network:
    return await world.build(db, clock)


@pytest.fixture
async def staff(network: Network) -> Staff:
    return await world.staff(network)


@pytest.fixture
def corinne(staff: Staff) -> Person:
    return staff.coordinator
