"""Both engines' migrations give the same schema: the same numbers, tables, columns (name,
type family, NOT NULL) and named indexes; and `python -m bot migrate` builds a PostgreSQL
database from DATABASE_URL as it builds the SQLite file (tests/postgres.py's cluster)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from storage import postgres
from storage.db import Database, available_migrations, open_database
from tests.postgres import Cluster, pg_cluster  # noqa: F401 - the session's cluster

ROOT = Path(__file__).resolve().parent.parent
# Type families: SQLite's INTEGER is PostgreSQL's BIGINT (both 64 bits).
FAMILY = {"integer": "integer", "bigint": "integer", "text": "text"}
# The PostgreSQL engine's own bookkeeping (SQLite keeps the version in `user_version`).
PG_ONLY = {"schema_version"}

Schema = dict[str, dict[str, tuple[str, bool]]]


async def sqlite_schema(db: Database) -> tuple[Schema, set[str]]:
    schema: Schema = {}
    for table in await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ):
        columns = await db.fetch_all(f"PRAGMA table_info({table['name']})")
        schema[table["name"]] = {
            c["name"]: (FAMILY[c["type"].lower()], bool(c["notnull"] or c["pk"])) for c in columns
        }
    indexes = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    )
    return schema, {row["name"] for row in indexes}


async def postgres_schema(db: Database) -> tuple[Schema, set[str]]:
    schema: Schema = {}
    for c in await db.fetch_all(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
    ):
        if c["table_name"] not in PG_ONLY:
            schema.setdefault(c["table_name"], {})[c["column_name"]] = (
                FAMILY[c["data_type"]],
                c["is_nullable"] == "NO",
            )
    # Indexes made by CREATE INDEX, not those behind a PRIMARY KEY or UNIQUE constraint.
    indexes = await db.fetch_all(
        "SELECT i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_namespace n ON n.oid = i.relnamespace"
        " WHERE n.nspname = current_schema()"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"
    )
    return schema, {row["name"] for row in indexes}


def test_both_engines_have_the_same_migrations() -> None:
    assert sorted(postgres.available_migrations()) == sorted(available_migrations())


async def test_both_engines_migrate_to_the_same_tables_columns_and_indexes(
    tmp_path: Path,
    pg_cluster: Cluster,  # noqa: F811
) -> None:
    async with open_database(tmp_path / "parity.sqlite3") as lite:
        expected, expected_indexes = await sqlite_schema(lite)
        version = await lite.schema_version()
    url = await pg_cluster.empty_database()
    async with open_database(url) as pg:
        found, found_indexes = await postgres_schema(pg)
        assert await pg.schema_version() == version
    assert sorted(found) == sorted(expected)
    for table, columns in expected.items():
        assert found[table] == columns, table
    assert found_indexes == expected_indexes


def test_the_migrate_command_builds_a_postgresql_database_from_its_url(
    tmp_path: Path,
    pg_cluster: Cluster,  # noqa: F811
) -> None:
    import asyncio

    url = asyncio.run(pg_cluster.empty_database())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "TELEGRAM_"))}
    env |= {"DATABASE_URL": url, "DATABASE_PATH": str(tmp_path / "unused.sqlite3")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    latest = max(available_migrations())
    assert result.returncode == 0, result.stderr
    assert f"Base à jour (schéma {latest})" in result.stdout
    assert not (tmp_path / "unused.sqlite3").exists()  # PostgreSQL, not the file

    async def version() -> int:
        async with open_database(url, migrate=False) as db:
            return await db.schema_version()

    assert asyncio.run(version()) == latest
