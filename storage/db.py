"""The SQLite database: one connection per process, pragmas set once, numbered migrations.

Writes go through `Database.transaction()`, which takes an asyncio lock and opens the
transaction with `BEGIN IMMEDIATE`, so a read-then-write never meets `SQLITE_BUSY` halfway.
Reads take the same lock: the connection is shared, and a read must never see another
coroutine's uncommitted writes.

The main connection runs its statements on the event loop's thread. A tap's statements are
indexed lookups and one-row writes of a few microseconds each; sending each of them to a
worker thread and back (aiosqlite) cost more than the statement itself, about 16 hops an
update (benchmarks/README.md, update throughput). Two waits could block the loop for long,
so they do not run on it: a write transaction's COMMIT, which waits for the disk (fsync,
`synchronous=FULL`: a confirmed visit survives a power cut), runs in a worker thread of its
own, one hop a transaction; and waiting for another process's lock: SQLite's own busy wait
is off (`busy_timeout=0`) and `SQLITE_BUSY` is retried here with `asyncio.sleep`, up to
`busy_timeout` seconds, so the loop keeps serving while a `backup` or the CLI holds the
lock. Long reads (a Caf's quarter) go to `report_read`, a second, read-only connection in
aiosqlite's thread.

A transaction that only records where someone is in a flow (a visit's step) may be opened
with `durable=False`: it commits at once, without waiting for the disk (`synchronous=NORMAL`,
which in WAL mode survives the bot being killed, and after a power cut loses at most such
last steps, never corrupts). Every other transaction, and anything someone is told was
saved, is durable: the next durable COMMIT also makes the earlier steps durable.

Repository functions accept a `Conn`: the `Database` itself (each call is its own short
transaction) or the `Tx` of a running transaction (to compose several writes atomically).

`connect(location)` picks the engine: a file path is this SQLite database; a
`postgresql://…` address is storage/postgres.py's `PostgresDatabase`, a subclass with the
same `Conn`, `transaction()`, `read()` and `report_read()`, so nothing above storage/ knows
which engine runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.resources
import logging
import os
import re
import sqlite3
import stat
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

Params = Mapping[str, Any] | Sequence[Any]
BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")


# The database holds people's names and their Telegram accounts: its file, its WAL and
# shared-memory files and its backups are for the bot's own user, whatever the umask.
OWNER_ONLY = 0o600


def create_owner_only(path: Path) -> bool:
    """Creates `path` empty with mode 0600, before anything is written to it (SQLite takes an
    empty file for an empty database); True if it was created. An existing file is
    tightened to 0600 instead (a database made by an older version under umask 022)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError:
        owner_only(path)
        return False
    try:
        os.fchmod(fd, OWNER_ONLY)  # the umask may only remove bits; say it explicitly anyway
    finally:
        os.close(fd)
    return True


def owner_only(path: Path) -> None:
    """`path` readable and writable by its owner only, if it exists and is ours to change."""
    try:
        status = path.stat()
        if stat.S_ISREG(status.st_mode) and status.st_mode & 0o077:
            path.chmod(OWNER_ONLY)
    except FileNotFoundError:
        pass
    except PermissionError:  # someone else's file (a copy read as root): theirs to set
        log.warning("Droits de %s inchangés : le fichier n'est pas au bot", path)


def sidecars(path: Path) -> tuple[Path, ...]:
    """SQLite's companions of a database file: its WAL, shared memory and rollback journal."""
    return tuple(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))


class DatabaseTooNew(Exception):
    """The database was written by a newer version of the bot: refuse rather than corrupt it."""


class Conn(Protocol):
    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None: ...
    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]: ...
    async def fetch_value(self, sql: str, params: Params = ()) -> Any: ...
    async def execute(self, sql: str, params: Params = ()) -> int | None: ...
    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...


class Tx:
    """The main connection while a transaction is open (the lock is held).

    Each statement runs at once on the event loop's thread (see the module's docstring);
    only `SQLITE_BUSY` is waited for, asynchronously."""

    def __init__(self, db: Database, *, in_thread: bool = False) -> None:
        self._db = db
        self._in_thread = in_thread

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        return await self._db._run(_fetch_one, sql, params, in_thread=self._in_thread)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return await self._db._run(_fetch_all, sql, params, in_thread=self._in_thread)

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int | None:
        """Runs one statement; returns the last inserted row id (None when nothing was)."""
        return await self._db._run(_execute, sql, params, in_thread=self._in_thread)

    async def execute_count(self, sql: str, params: Params = ()) -> int:
        """Runs one statement; returns how many rows it changed."""
        return await self._db._run(_execute_count, sql, params, in_thread=self._in_thread)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._db._run(_executemany, sql, rows, in_thread=self._in_thread)

    async def executemany_count(self, sql: str, rows: Iterable[Params]) -> int:
        """Runs one statement for each of `rows`; returns how many rows they changed in all
        (an `INSERT … ON CONFLICT DO NOTHING` counts the rows it inserted)."""
        return await self._db._run(_executemany_count, sql, rows, in_thread=self._in_thread)


# The statements themselves, run by `Database._run` on the main connection. Each closes its
# cursor at once: an unfinished SELECT would otherwise keep its statement open.
def _fetch_one(conn: sqlite3.Connection, sql: str, params: Params) -> sqlite3.Row | None:
    cursor = conn.execute(sql, params)
    try:
        row: sqlite3.Row | None = cursor.fetchone()  # the connection's row_factory
        return row
    finally:
        cursor.close()


def _fetch_all(conn: sqlite3.Connection, sql: str, params: Params) -> list[sqlite3.Row]:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _execute(conn: sqlite3.Connection, sql: str, params: Params) -> int | None:
    cursor = conn.execute(sql, params)
    try:
        return cursor.lastrowid if cursor.rowcount > 0 else None
    finally:
        cursor.close()


def _execute_count(conn: sqlite3.Connection, sql: str, params: Params) -> int:
    cursor = conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        cursor.close()


def _executemany(conn: sqlite3.Connection, sql: str, rows: Iterable[Params]) -> None:
    conn.executemany(sql, rows).close()


def _executemany_count(conn: sqlite3.Connection, sql: str, rows: Iterable[Params]) -> int:
    cursor = conn.executemany(sql, rows)
    try:
        return cursor.rowcount  # summed over the rows by sqlite3
    finally:
        cursor.close()


def _is_busy(error: sqlite3.OperationalError) -> bool:
    """Another connection holds a lock, or is recovering the WAL after the last one closed
    (SQLITE_BUSY_RECOVERY, at open): waiting helps. Python reports SQLite's extended codes,
    hence the mask. Not SQLITE_BUSY_SNAPSHOT: a read transaction that saw an older state
    cannot write, however long it waits."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None or code == sqlite3.SQLITE_BUSY_SNAPSHOT:
        return False
    return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class ReportTx:
    """The read-only report connection while its read is open (aiosqlite's thread)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int | None:
        async with self._conn.execute(sql, params) as cursor:  # read-only: SQLite refuses writes
            return cursor.lastrowid if cursor.rowcount > 0 else None

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)


class Database:
    def __init__(self, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_MS / 1000) -> None:
        self.path = path
        # How long a statement waits for another connection's lock before failing.
        self.busy_timeout = busy_timeout
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._durable = True  # the connection's synchronous level: FULL (True) or NORMAL
        # False for a throwaway database (the demo's): no commit waits for the disk, so that
        # seeding a thousand visits one transaction each takes seconds, not tens of seconds.
        self.fsync = True
        # The thread that waits for COMMIT's fsync (see the module's docstring).
        self._committer: concurrent.futures.ThreadPoolExecutor | None = None
        # A second, read-only connection for long reports (see `report_read`).
        self._report_conn: aiosqlite.Connection | None = None
        self._report_lock = asyncio.Lock()

    async def open(self, *, migrate: bool = True) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            create_owner_only(self.path)
        except OSError as exc:  # as SQLite itself would refuse it: one line for the operator
            raise sqlite3.OperationalError(f"création impossible : {exc.strerror}") from None
        # timeout=0: SQLite must not wait for a lock on the loop's thread (see `_run`).
        # check_same_thread=False: COMMIT runs in `_committer`; `_lock` keeps the uses apart.
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=0, check_same_thread=False)
        try:
            conn.row_factory = sqlite3.Row
            self._conn = conn
            self._committer = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="sqlite-commit"
            )
            for pragma in (
                "PRAGMA journal_mode=WAL",
                "PRAGMA foreign_keys=ON",
                "PRAGMA synchronous=FULL",
            ):
                await self._run(_execute, pragma, ())
            self._durable = True
            # SQLite gives its -wal and -shm files the database's mode; ones left by an
            # older version, made under a looser umask, are tightened too.
            for companion in sidecars(self.path):
                owner_only(companion)
            if migrate:
                await self.migrate()
        except BaseException:
            # A refused or unreadable database must not leave a connection open.
            self._conn = None
            conn.close()
            self._stop_committer()
            raise

    async def for_background(self) -> Database:
        """A handle for short statements that must not wait behind the bot's own (the
        leader's lease, renewed on time under any load), to close after use if it is not
        this one. SQLite's: this one, whose statements run one at a time and briefly."""
        return self

    async def close(self) -> None:
        if self._report_conn is not None:
            await self._report_conn.close()
            self._report_conn = None
        self._stop_committer()  # a COMMIT still in its thread ends before the connection
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _stop_committer(self) -> None:
        if self._committer is not None:
            self._committer.shutdown(wait=True)
            self._committer = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("Database is not open")
        return self._conn

    async def _run(self, statement: Callable[..., T], *args: Any, in_thread: bool = False) -> T:
        """Runs `statement(connection, *args)` now (`in_thread`: in the committer thread);
        while another connection holds the lock (`SQLITE_BUSY`), retries it after short
        asynchronous sleeps, for `busy_timeout`."""
        conn = self.conn
        deadline = None
        pause = 0.001
        while True:
            try:
                if not in_thread:
                    return statement(conn, *args)
                assert self._committer is not None
                job = self._committer.submit(statement, conn, *args)
                try:
                    return await asyncio.wrap_future(job)
                except asyncio.CancelledError:
                    # A started statement goes on in its thread: let it end (milliseconds of
                    # fsync) before the way out touches the connection (a ROLLBACK).
                    concurrent.futures.wait([job])
                    raise
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
                now = time.monotonic()
                deadline = deadline or now + self.busy_timeout
                if now >= deadline:
                    raise
            await asyncio.sleep(min(pause, max(0.0, deadline - now)))
            pause = min(pause * 2, 0.05)

    @asynccontextmanager
    async def transaction(
        self, *, durable: bool = True, in_thread: bool = False
    ) -> AsyncIterator[Tx]:
        """A write transaction; `durable=False` only for a flow's progress (see the module's
        docstring): its COMMIT does not wait for the disk, and runs on the loop.
        `in_thread`: its statements run in the committer thread too, for a statement that
        reads many rows (milliseconds: the loop keeps serving meanwhile)."""
        durable = durable and self.fsync
        async with self._lock:
            if durable is not self._durable:  # SQLite refuses the change inside a transaction
                level = "FULL" if durable else "NORMAL"
                await self._run(_execute, f"PRAGMA synchronous={level}", ())
                self._durable = durable
            await self._run(_execute, "BEGIN IMMEDIATE", ())
            try:
                yield Tx(self, in_thread=in_thread)
            except BaseException:
                if self.conn.in_transaction:  # SQLite may have rolled back on its own
                    self.conn.execute("ROLLBACK")
                raise
            else:
                try:
                    await self._run(_execute, "COMMIT", (), in_thread=durable or in_thread)
                except BaseException:
                    # A refused COMMIT leaves the transaction open: never carry it over.
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A consistent read of several statements (a deferred transaction, lock held)."""
        async with self._lock:
            await self._run(_execute, "BEGIN", ())
            try:
                yield Tx(self)
            finally:
                if self.conn.in_transaction:
                    await self._run(_execute, "COMMIT", ())

    @asynccontextmanager
    async def report_read(self) -> AsyncIterator[ReportTx]:
        """A consistent read for long reports (a Caf's quarter, an Excel file), on a second,
        read-only connection in aiosqlite's worker thread: counting a quarter takes most of
        a second, and on the main connection every other person's tap would wait behind
        it. WAL lets this reader and the main connection's writes proceed side by side."""
        async with self._report_lock:
            if self._report_conn is None:
                self.conn  # noqa: B018 - refuses to open a reader on a closed database
                reader = await aiosqlite.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
                )
                reader.row_factory = sqlite3.Row
                await reader.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
                self._report_conn = reader
            await self._report_conn.execute("BEGIN")
            try:
                yield ReportTx(self._report_conn)
            finally:
                await self._report_conn.execute("COMMIT")

    # The Conn protocol: each call alone is atomic.
    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._lock:
            return await self._run(_fetch_one, sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._lock:
            return await self._run(_fetch_all, sql, params)

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

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
                # Read again under the write lock: another process opening the same file at
                # the same moment (two commands, two instances) may have applied it since.
                if int(await tx.fetch_value("PRAGMA user_version")) >= number:
                    continue
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


_QUERY_PASSWORD = re.compile(r"((?:^|&)password=)[^&]*")


def redacted(url: str) -> str:
    """The address without its password, to show or log: in its user part
    (`user:PASSWORD@host`) or its query (`?password=PASSWORD`, as asyncpg also reads it)."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = _QUERY_PASSWORD.sub(r"\1***", parts.query)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=query))


def connect(location: Path | str) -> Database:
    """The database at `location`, not opened yet: a PostgreSQL address
    (`postgresql://…`, storage/postgres.py) or a SQLite file's path."""
    if isinstance(location, str) and location.startswith(("postgresql://", "postgres://")):
        from storage.postgres import PostgresDatabase  # asyncpg only when PostgreSQL runs

        return PostgresDatabase(location)
    return Database(Path(location))


@asynccontextmanager
async def open_database(path: Path | str, *, migrate: bool = True) -> AsyncIterator[Database]:
    db = connect(path)
    await db.open(migrate=migrate)
    try:
        yield db
    finally:
        await db.close()
