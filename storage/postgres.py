"""The PostgreSQL engine, behind the same `Database`, `Tx` and `Conn` as SQLite's.

Chosen by `DATABASE_URL=postgresql://…` (storage/db.py `connect`), through asyncpg and a
small pool of connections. The repositories do not know which engine runs:

- statements are SQLite's text, translated once each by storage/dialect.py (placeholders,
  `RETURNING id` for `execute`'s new row id, planner hints);
- rows are read by column name and by index, as `sqlite3.Row`s are; `numeric` values
  (a `SUM` of `BIGINT`s, an `AVG`) come back as `int` when whole, `float` otherwise, as
  SQLite gives them;
- a broken constraint raises `sqlite3.IntegrityError`, as SQLite does, so that a caller
  catching it needs no second branch. One difference stays: after a failed statement
  PostgreSQL refuses the rest of its transaction, where SQLite carries on; no caller
  catches a failed statement to go on in the same transaction (keep it so);
- `transaction()` serialises writers as SQLite's `BEGIN IMMEDIATE` does, with a
  transaction-level advisory lock: one write transaction at a time, across every process
  sharing the database, so a read-then-write inside it sees everything committed before.
  `durable=False` commits without waiting for the disk (`synchronous_commit = off`, which
  never corrupts and, after a crash, may lose only such last steps); `in_thread` has no
  meaning here (asyncpg never blocks the loop);
- `read()` and `report_read()` are consistent snapshots (`REPEATABLE READ`), which
  PostgreSQL serves beside the writers without waiting for them;
- the schema is the same tables and columns as SQLite's (tests/test_schema_parity.py),
  from migrations of its own in storage/migrations/postgresql/, numbered as SQLite's. Times
  stay ISO 8601 text and flags 0/1 integers, so comparisons and orders behave alike; text
  sorts as SQLite's does when the database's collation is "C" (`createdb --locale=C`,
  checked when it opens).
"""

from __future__ import annotations

import asyncio
import importlib.resources
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn, cast

import asyncpg

from storage.db import Database, DatabaseTooNew, Params, Tx, redacted
from storage.dialect import Statement, translate

log = logging.getLogger(__name__)

# The advisory lock every write transaction takes (any constant: the bot's own).
WRITER_LOCK = 0x504E43  # "PNC"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_STATUS_COUNT = re.compile(r"(\d+)$")


def available_migrations() -> dict[int, str]:
    folder = importlib.resources.files("storage") / "migrations" / "postgresql"
    found = {}
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found[int(match.group(1))] = entry.read_text(encoding="utf-8")
    return found


def _numeric(text: str) -> int | float:
    """`numeric` as SQLite would give it: whole numbers as `int`."""
    try:
        return int(text)
    except ValueError:  # a fraction, an exponent, NaN
        return float(text)


async def _setup_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text"
    )


def _count(status: str) -> int:
    """The rows a command changed, from its status (`UPDATE 3`, `INSERT 0 1`)."""
    match = _STATUS_COUNT.search(status)
    return int(match.group(1)) if match else 0


def _integrity(error: asyncpg.IntegrityConstraintViolationError) -> NoReturn:
    raise sqlite3.IntegrityError(str(error)) from error


class PgTx(Tx):
    """One pooled connection, inside a transaction (or alone: each statement its own)."""

    def __init__(self, db: PostgresDatabase, conn: asyncpg.Connection) -> None:
        self._pg = db
        self._conn = conn

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        statement = self._pg.statement(sql)
        try:
            row = await self._conn.fetchrow(statement.sql, *statement.arguments(params))
        except asyncpg.IntegrityConstraintViolationError as error:
            _integrity(error)
        return cast("sqlite3.Row | None", row)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        statement = self._pg.statement(sql)
        try:
            rows = await self._conn.fetch(statement.sql, *statement.arguments(params))
        except asyncpg.IntegrityConstraintViolationError as error:
            _integrity(error)
        return cast("list[sqlite3.Row]", rows)

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int | None:
        """Runs one statement; returns the new row's id for an INSERT into a table with an
        `id` (None when nothing was inserted), else how many rows changed (None for none),
        as SQLite's engine answers (its callers only compare it with None)."""
        statement = self._pg.statement(sql)
        arguments = statement.arguments(params)
        try:
            if statement.returns_id:
                rows = await self._conn.fetch(statement.sql, *arguments)
                return int(rows[-1][0]) if rows else None
            changed = _count(await self._conn.execute(statement.sql, *arguments))
        except asyncpg.IntegrityConstraintViolationError as error:
            _integrity(error)
        return changed if changed > 0 else None

    async def execute_count(self, sql: str, params: Params = ()) -> int:
        statement = self._pg.statement(sql)
        try:
            if statement.returns_id:
                return len(await self._conn.fetch(statement.sql, *statement.arguments(params)))
            return _count(await self._conn.execute(statement.sql, *statement.arguments(params)))
        except asyncpg.IntegrityConstraintViolationError as error:
            _integrity(error)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        statement = self._pg.statement(sql)
        sql_text = statement.sql
        if statement.returns_id:  # no id is answered here
            sql_text = sql_text.removesuffix(" RETURNING id")
        try:
            await self._conn.executemany(sql_text, [statement.arguments(row) for row in rows])
        except asyncpg.IntegrityConstraintViolationError as error:
            _integrity(error)

    async def executemany_count(self, sql: str, rows: Iterable[Params]) -> int:
        statement = self._pg.statement(sql)
        changed = 0
        try:
            for row in rows:  # asyncpg's executemany says nothing of what each row did
                arguments = statement.arguments(row)
                if statement.returns_id:
                    changed += len(await self._conn.fetch(statement.sql, *arguments))
                else:
                    changed += _count(await self._conn.execute(statement.sql, *arguments))
        except asyncpg.IntegrityConstraintViolationError as error:
            _integrity(error)
        return changed


class PostgresDatabase(Database):
    """The `Database` of a PostgreSQL server (see the module's docstring)."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        super().__init__(Path(redacted(url)))
        self.url = url
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._tables_with_id: frozenset[str] = frozenset()
        self._statements: dict[str, Statement] = {}
        self._writers = asyncio.Lock()

    def __str__(self) -> str:
        return redacted(self.url)

    async def open(self, *, migrate: bool = True) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=self._pool_size, init=_setup_connection
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # One line for the operator, as SQLite's engine gives for a file it cannot open.
            raise sqlite3.OperationalError(f"PostgreSQL injoignable ({self}) : {exc}") from None
        try:
            collation = await self._pool.fetchval(
                "SELECT datcollate FROM pg_database WHERE datname = current_database()"
            )
            if collation not in ("C", "POSIX"):
                log.warning(
                    "La base PostgreSQL trie le texte selon %s : créez-la en « C » "
                    "(createdb --locale=C) pour les mêmes tris que SQLite",
                    collation,
                )
            if migrate:
                await self.migrate()
            await self._learn_tables()
        except BaseException:
            await self._pool.close()
            self._pool = None
            raise

    async def for_background(self) -> PostgresDatabase:
        """A pool of one connection of its own: the main pool's may all be held by updates
        waiting for the writers' lock, and a lease renewal must not queue behind them."""
        own = PostgresDatabase(self.url, pool_size=1)
        await own.open(migrate=False)
        return own

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("Database is not open")
        return self._pool

    @property
    def conn(self) -> sqlite3.Connection:
        raise RuntimeError("PostgreSQL : pas de connexion SQLite")

    async def _learn_tables(self) -> None:
        rows = await self.pool.fetch(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND column_name = 'id'"
        )
        self._tables_with_id = frozenset(row[0] for row in rows)
        self._statements.clear()

    def statement(self, sql: str) -> Statement:
        found = self._statements.get(sql)
        if found is None:
            found = translate(sql, self._tables_with_id)
            self._statements[sql] = found
        return found

    @asynccontextmanager
    async def transaction(
        self, *, durable: bool = True, in_thread: bool = False
    ) -> AsyncIterator[Tx]:
        # This process's writers wait their turn before taking a connection, so that those
        # waiting never hold the whole pool: reads (and other processes) go on beside them.
        async with self._writers, self.pool.acquire() as conn, conn.transaction():
            await conn.execute(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")
            if not (durable and self.fsync):
                await conn.execute("SET LOCAL synchronous_commit = off")
            yield PgTx(self, conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            yield PgTx(self, conn)

    @asynccontextmanager
    async def report_read(self) -> AsyncIterator[Tx]:  # type: ignore[override]
        async with (
            self.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield PgTx(self, conn)

    # The Conn protocol: each call alone is atomic.
    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self.pool.acquire() as conn:
            return await PgTx(self, conn).fetch_one(sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self.pool.acquire() as conn:
            return await PgTx(self, conn).fetch_all(sql, params)

    # Migrations: the version is one row of `schema_version` (SQLite: `user_version`).
    async def schema_version(self) -> int:
        async with self.pool.acquire() as conn:
            return await self._version(conn)

    @staticmethod
    async def _version(conn: asyncpg.Connection) -> int:
        exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
        if not exists:
            return 0
        return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))

    async def migrate(self) -> list[int]:
        """Applies the numbered migrations not yet applied, each in its transaction, under
        the writers' lock (two instances starting together migrate once)."""
        migrations = available_migrations()
        latest = max(migrations, default=0)
        applied = []
        async with self.pool.acquire() as conn:
            while True:
                async with conn.transaction():
                    await conn.execute(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")
                    current = await self._version(conn)
                    if current > latest:
                        raise DatabaseTooNew(
                            f"La base {self} est au schéma {current}, plus récent que celui "
                            f"de ce programme ({latest}) : mettez le bot à jour plutôt que "
                            "de l'ouvrir."
                        )
                    if current == latest:
                        break
                    number = min(n for n in migrations if n > current)
                    if current == 0:
                        await conn.execute(
                            "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"
                        )
                    await conn.execute(migrations[number])  # the whole script, one transaction
                    await conn.execute("DELETE FROM schema_version")
                    await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", number)
                log.info("Migration PostgreSQL %04d appliquée", number)
                applied.append(number)
        if applied:
            await self._learn_tables()
        return applied
