"""The SQLite database: one connection per process, pragmas set once, numbered migrations.

Writes go through `Database.transaction()`, which takes an asyncio lock and opens the
transaction with `BEGIN IMMEDIATE`, so a read-then-write never meets `SQLITE_BUSY` halfway.
Reads take the same lock: the connection is shared, and a read must never see another
coroutine's uncommitted writes.

Repository functions accept a `Conn`: the `Database` itself (each call is its own short
transaction) or the `Tx` of a running transaction (to compose several writes atomically).
"""

from __future__ import annotations

import asyncio
import importlib.resources
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

log = logging.getLogger(__name__)

Params = Mapping[str, Any] | Sequence[Any]
BUSY_TIMEOUT_MS = 5000


class DatabaseTooNew(Exception):
    """The database was written by a newer version of the bot: refuse rather than corrupt it."""


class Conn(Protocol):
    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None: ...
    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]: ...
    async def fetch_value(self, sql: str, params: Params = ()) -> Any: ...
    async def execute(self, sql: str, params: Params = ()) -> int | None: ...
    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...


class Tx:
    """The connection while a transaction is open (the lock is held)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int | None:
        """Runs one statement; returns the last inserted row id (None when nothing was)."""
        async with self._conn.execute(sql, params) as cursor:
            return cursor.lastrowid if cursor.rowcount > 0 else None

    async def execute_count(self, sql: str, params: Params = ()) -> int:
        """Runs one statement; returns how many rows it changed."""
        async with self._conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        # A second, read-only connection for long reports (see `report_read`).
        self._report_conn: aiosqlite.Connection | None = None
        self._report_lock = asyncio.Lock()

    async def open(self, *, migrate: bool = True) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            for pragma in (
                "PRAGMA journal_mode=WAL",
                "PRAGMA foreign_keys=ON",
                f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
                "PRAGMA synchronous=FULL",
            ):
                await conn.execute(pragma)
            self._conn = conn
            if migrate:
                await self.migrate()
        except BaseException:
            # A refused or unreadable database must not leave a connection (and its thread).
            self._conn = None
            await conn.close()
            raise

    async def close(self) -> None:
        if self._report_conn is not None:
            await self._report_conn.close()
            self._report_conn = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("Database is not open")
        return self._conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self.conn)
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A consistent read of several statements (a deferred transaction, lock held)."""
        async with self._lock:
            await self.conn.execute("BEGIN")
            try:
                yield Tx(self.conn)
            finally:
                await self.conn.execute("COMMIT")

    @asynccontextmanager
    async def report_read(self) -> AsyncIterator[Tx]:
        """A consistent read for long reports (a Caf's quarter, an Excel file), on a second,
        read-only connection: counting a quarter takes most of a second, and on the main
        connection every other person's tap would wait behind it. WAL lets this reader and
        the main connection's writes proceed side by side."""
        async with self._report_lock:
            if self._report_conn is None:
                self.conn  # noqa: B018 - refuses to open a reader on a closed database
                reader = await aiosqlite.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
                )
                reader.row_factory = sqlite3.Row
                await reader.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                self._report_conn = reader
            await self._report_conn.execute("BEGIN")
            try:
                yield Tx(self._report_conn)
            finally:
                await self._report_conn.execute("COMMIT")

    # The Conn protocol: each call alone is atomic.
    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._lock:
            return await Tx(self.conn).fetch_one(sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._lock:
            return await Tx(self.conn).fetch_all(sql, params)

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        async with self._lock:
            return await Tx(self.conn).fetch_value(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int | None:
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    # Migrations
    async def schema_version(self) -> int:
        return int(await self.fetch_value("PRAGMA user_version"))

    async def migrate(self) -> list[int]:
        """Applies the numbered migrations not yet applied; returns their numbers."""
        migrations = available_migrations()
        latest = max(migrations, default=0)
        current = await self.schema_version()
        if current > latest:
            raise DatabaseTooNew(
                f"La base {self.path} est au schéma {current}, plus récent que celui de ce "
                f"programme ({latest}) : mettez le bot à jour plutôt que de l'ouvrir."
            )
        applied = []
        for number in sorted(n for n in migrations if n > current):
            async with self.transaction() as tx:
                for statement in split_statements(migrations[number]):
                    await tx.execute(statement)
                await tx.execute(f"PRAGMA user_version = {number}")
            log.info("Migration %04d appliquée", number)
            applied.append(number)
        return applied


_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def available_migrations() -> dict[int, str]:
    folder = importlib.resources.files("storage") / "migrations"
    found = {}
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found[int(match.group(1))] = entry.read_text(encoding="utf-8")
    return found


def split_statements(script: str) -> list[str]:
    """Splits a SQL script into complete statements (triggers keep their inner semicolons).

    `executescript` would COMMIT first and break the migration's atomicity, hence this.
    """
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if not buffer and line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    leftover = [line for line in buffer.splitlines() if line.strip()]
    if leftover and not all(line.strip().startswith("--") for line in leftover):
        raise ValueError(f"Instruction SQL incomplète en fin de migration : {buffer[:80]!r}")
    return statements


@asynccontextmanager
async def open_database(path: Path, *, migrate: bool = True) -> AsyncIterator[Database]:
    db = Database(path)
    await db.open(migrate=migrate)
    try:
        yield db
    finally:
        await db.close()
