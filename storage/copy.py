"""Copying the bot's whole database from one engine to the other (`python -m bot
copy-database`): a SQLite deployment into an empty PostgreSQL database, or PostgreSQL into a
new SQLite file (a copy to take home).

- The source is read in one consistent snapshot (SQLite: one read transaction, which WAL
  keeps whole while the bot goes on writing; PostgreSQL: one `REPEATABLE READ` read-only
  transaction), so a copy taken while the bot runs is the database as it was at one moment.
- The target is written in one transaction, table by table in the order of their foreign
  keys (the taxonomy first: triggers check visits' codes against it), in batches, ids kept;
  the row counts are checked inside that transaction, so a mismatch writes nothing.
- PostgreSQL's identity sequences are then set past the copied ids: a new row never takes
  an id the copy brought. A PostgreSQL target takes the writers' lock for the whole copy
  (storage/postgres.py `WRITER_LOCK`): a bot started on it meanwhile waits.
- Refused, with one French line (`CopyRefused`): a target holding any row of the bot's
  tables (the taxonomy excepted, which `python -m bot migrate` fills from code), a schema
  version other than the source's, a SQLite target that exists already.
- The instances' lease and heartbeats (`RUNTIME_TABLES`) are not copied: they describe
  the source's processes, not the Caf's data.

Both engines store times as ISO 8601 text and flags as 0/1 integers (storage/postgres.py),
so a value goes across as it is; it is only coerced to the target column's type (`bigint`,
`text`, `bytea`), which SQLite does not enforce.
"""

from __future__ import annotations

import sqlite3
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from storage import db as sqlite_engine
from storage import postgres
from storage.db import redacted

BATCH = 5_000
# Filled from code when a database opens (storage/taxonomy.py), so present in a target the
# operator migrated first: replaced by the source's rows, never a reason to refuse.
REFERENCE_TABLES = ("taxonomy_options",)
# PostgreSQL's schema version (SQLite's is `PRAGMA user_version`): not data.
BOOKKEEPING_TABLES = frozenset({"schema_version"})
# Which processes run and which one is in charge (storage/lease.py): the source's processes,
# not data. Not copied (a copied lease or heartbeat would hold back the first instance on
# the target); a target holding any is refused like one holding data: a bot runs on it.
RUNTIME_TABLES = frozenset({"leases", "instances"})

Row = tuple[Any, ...]


class CopyRefused(Exception):
    """The copy cannot start (nothing was written): one line for the operator."""


class CopyFailed(Exception):
    """The copy went wrong (its transaction rolled back): one line for the operator."""


@dataclass(frozen=True)
class Copied:
    source: str  # printable: a path, or an address without its password
    target: str
    schema: int
    counts: dict[str, int]  # table → rows copied, in the order copied
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def is_postgres(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


# ------------------------------------------------------------------------------ the order
def dependency_order(tables: Sequence[str], references: dict[str, set[str]]) -> list[str]:
    """`tables` so that each comes after the tables it refers to (the reference tables
    first); alphabetical among equals, for a stable output."""
    done: list[str] = [t for t in REFERENCE_TABLES if t in tables]
    left = sorted(set(tables) - set(done))
    while left:
        ready = [t for t in left if references.get(t, set()) - {t} <= set(done)]
        if not ready:
            raise CopyFailed(f"références circulaires entre les tables : {', '.join(left)}")
        done += ready
        left = [t for t in left if t not in ready]
    return done


# PostgreSQL's column types → the type SQLite's `typeof` names for a value that fits as is.
_SQLITE_TYPES = {"bigint": "integer", "text": "text", "bytea": "blob"}


def _coerced(table: str, row: Row, wrong: dict[int, tuple[str, str]]) -> Row:
    values = list(row)
    for index, (column, kind) in wrong.items():
        try:
            values[index] = _coerce(values[index], kind)
        except (ValueError, UnicodeDecodeError):
            raise CopyFailed(  # the value itself is not shown: it may be anything
                f"table {table}, colonne {column} : une valeur n'est pas du type {kind} "
                "attendu : copie annulée, rien n'a été écrit"
            ) from None
    return tuple(values)


def _coerce(value: Any, kind: str) -> Any:
    """A SQLite value as the PostgreSQL column `kind` takes it (SQLite types loosely); a
    value that would change (a fraction into an integer, a word) raises ValueError."""
    if value is None:
        return None
    if kind == "bigint" and not isinstance(value, int):
        whole = int(value)  # ValueError for a word
        if whole != value and str(whole) != value:
            raise ValueError(value)
        return whole
    if kind == "text" and not isinstance(value, str):
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)
    if kind == "bytea" and isinstance(value, str):
        return value.encode("utf-8")
    return value


# ------------------------------------------------------------------------------ SQLite
class _SqliteFile:
    """A SQLite database file, read in one snapshot or written in one transaction."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def tables(self) -> dict[str, list[str]]:
        names = [
            row[0]
            for row in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        return {
            name: [row[1] for row in self.conn.execute(f'PRAGMA table_info("{name}")')]
            for name in names
        }

    def count(self, table: str) -> int:
        return int(self.conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])

    def batches(self, table: str, columns: Sequence[str]) -> Iterator[list[Row]]:
        listed = ", ".join(f'"{c}"' for c in columns)
        with closing(self.conn.execute(f'SELECT {listed} FROM "{table}"')) as cursor:
            while batch := cursor.fetchmany(BATCH):
                yield batch  # tuples: the connection has no row factory

    def mistyped(self, table: str, kinds: dict[str, str]) -> dict[int, tuple[str, str]]:
        """The columns (by position) holding a value of a type other than the PostgreSQL
        column's, with that type: usually none, and the rows go across untouched (one pass
        of SQLite over the table instead of a Python call per value)."""
        checks = [
            f"SUM(typeof(\"{column}\") NOT IN ('null', '{_SQLITE_TYPES[kind]}'))"
            if kind in _SQLITE_TYPES
            else "1"
            for column, kind in kinds.items()
        ]
        row = self.conn.execute(f'SELECT {", ".join(checks)} FROM "{table}"').fetchone()
        return {
            index: (column, kind)
            for index, ((column, kind), wrong) in enumerate(zip(kinds.items(), row, strict=True))
            if wrong
        }

    def highest_ids(self, tables: dict[str, list[str]]) -> dict[str, int]:
        highest = {}
        for table, columns in tables.items():
            if "id" in columns:
                row = self.conn.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"').fetchone()
                highest[table] = int(row[0])
        return highest


def _open_source_sqlite(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise CopyRefused(f"base introuvable : {path}")
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
        conn.execute("BEGIN")  # the snapshot starts at the first read
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise CopyRefused(f"la base {path} est illisible ({exc})") from None
    return conn


# ------------------------------------------------------------------------------ PostgreSQL
@asynccontextmanager
async def _postgres(url: str) -> AsyncIterator[postgres.PostgresDatabase]:
    db = postgres.PostgresDatabase(url, pool_size=2)
    try:
        await db.open(migrate=False)
    except sqlite3.OperationalError as exc:  # unreachable: one line, password left out
        raise CopyRefused(str(exc)) from None
    try:
        yield db
    finally:
        await db.close()


async def _pg_version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))


async def _pg_tables(conn: asyncpg.Connection) -> dict[str, dict[str, str]]:
    """Table → column → type, in the columns' order."""
    rows = await conn.fetch(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
        " AND t.table_name = c.table_name"
        " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
        " ORDER BY c.table_name, c.ordinal_position"
    )
    tables: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["table_name"] not in BOOKKEEPING_TABLES:
            tables.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
    return tables


async def _pg_references(conn: asyncpg.Connection) -> dict[str, set[str]]:
    rows = await conn.fetch(
        "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent"
        " FROM pg_constraint WHERE contype = 'f'"
        " AND connamespace = current_schema()::regnamespace"
    )
    references: dict[str, set[str]] = {}
    for row in rows:
        references.setdefault(row["child"].strip('"'), set()).add(row["parent"].strip('"'))
    return references


def _copied(types: dict[str, dict[str, str]]) -> list[str]:
    return [table for table in types if table not in RUNTIME_TABLES]


async def _pg_count(conn: asyncpg.Connection, table: str) -> int:
    return int(await conn.fetchval(f'SELECT COUNT(*) FROM "{table}"'))


async def _pg_identities(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND column_name = 'id' AND is_identity = 'YES' ORDER BY table_name"
    )
    return [row[0] for row in rows]


def _schema_mismatch(source: dict[str, list[str]], target: dict[str, list[str]]) -> str | None:
    """What of the target's tables and columns the source lacks, or has more, if anything."""
    if set(source) != set(target):
        missing = sorted(set(target) - set(source))
        extra = sorted(set(source) - set(target))
        return (
            f"tables différentes (absentes de la source : {', '.join(missing) or '-'} ; "
            f"absentes de la cible : {', '.join(extra) or '-'})"
        )
    for table, columns in target.items():
        if set(columns) != set(source[table]):
            return f"colonnes différentes dans la table {table}"
    return None


# ------------------------------------------------------------------------------ SQLite → PG
async def sqlite_to_postgres(source: Path, target_url: str) -> Copied:
    """Copies the SQLite database `source` (which the bot may be using) into the empty
    PostgreSQL database at `target_url`, creating its schema if it has none."""
    started = time.monotonic()
    shown_target = redacted(target_url)
    with closing(_open_source_sqlite(source)) as conn:
        reader = _SqliteFile(conn, source)
        version = reader.version()
        latest = max(postgres.available_migrations())
        if version == 0:
            raise CopyRefused(f"{source} n'est pas une base du bot (schéma 0)")
        if version != latest:
            hint = (
                "mettez-la à jour d'abord (python -m bot migrate)"
                if version < latest
                else "mettez le bot à jour d'abord"
            )
            raise CopyRefused(
                f"la base {source} est au schéma {version}, ce programme au schéma {latest} : "
                f"{hint}"
            )
        source_tables = reader.tables()
        async with _postgres(target_url) as db:
            async with db.pool.acquire() as pg:
                target_version = await _pg_version(pg)
            if target_version == 0:
                await db.migrate()  # the schema, as `python -m bot migrate` makes it
            elif target_version != version:
                raise CopyRefused(
                    f"la base cible {shown_target} est au schéma {target_version}, la source "
                    f"{source} au schéma {version} : copiez dans une base neuve"
                )
            async with db.pool.acquire() as pg, pg.transaction():
                await pg.execute(f"SELECT pg_advisory_xact_lock({postgres.WRITER_LOCK})")
                types = await _pg_tables(pg)
                mismatch = _schema_mismatch(source_tables, {t: list(c) for t, c in types.items()})
                if mismatch:
                    raise CopyRefused(f"schémas incompatibles : {mismatch}")
                await _refuse_filled_postgres(pg, types, shown_target)
                order = dependency_order(_copied(types), await _pg_references(pg))
                counts: dict[str, int] = {}
                for table in order:
                    if table in REFERENCE_TABLES:
                        await pg.execute(f'DELETE FROM "{table}"')
                    columns = list(types[table])
                    wrong = reader.mistyped(table, types[table])
                    copied = 0
                    for batch in reader.batches(table, columns):
                        records = [_coerced(table, row, wrong) for row in batch] if wrong else batch
                        await pg.copy_records_to_table(table, records=records, columns=columns)
                        copied += len(records)
                    counts[table] = copied
                    _check(table, copied, reader.count(table), await _pg_count(pg, table))
                highest = reader.highest_ids(source_tables)
                for table in await _pg_identities(pg):
                    top = highest.get(table, 0)
                    await pg.execute(
                        "SELECT setval(pg_get_serial_sequence($1, 'id'), $2, $3)",
                        f'"{table}"',
                        max(top, 1),
                        top > 0,
                    )
        conn.execute("COMMIT")
    return Copied(str(source), shown_target, version, counts, time.monotonic() - started)


async def _refuse_filled_postgres(
    pg: asyncpg.Connection, types: dict[str, dict[str, str]], shown: str
) -> None:
    filled = [
        table
        for table in sorted(types)
        if table not in REFERENCE_TABLES
        and await pg.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")')
    ]
    if filled:
        raise CopyRefused(
            f"la base cible {shown} n'est pas vide ({_some(filled)}) : copiez dans une base "
            "neuve (createdb --locale=C), rien n'a été écrit"
        )


def _some(tables: list[str]) -> str:
    return ", ".join(tables[:5]) + (f" et {len(tables) - 5} autre(s)" if len(tables) > 5 else "")


def _check(table: str, copied: int, in_source: int, in_target: int) -> None:
    if not copied == in_source == in_target:
        raise CopyFailed(
            f"table {table} : {in_source} ligne(s) dans la source, {copied} copiée(s), "
            f"{in_target} dans la cible : copie annulée, rien n'a été écrit"
        )


# ------------------------------------------------------------------------------ PG → SQLite
async def postgres_to_sqlite(source_url: str, target: Path) -> Copied:
    """Copies the PostgreSQL database at `source_url` into a new SQLite file `target`
    (owner-only, like every database file of the bot), removed again if the copy fails."""
    started = time.monotonic()
    shown_source = redacted(source_url)
    _refuse_existing(target)
    async with (
        _postgres(source_url) as db,
        db.pool.acquire() as pg,
        pg.transaction(isolation="repeatable_read", readonly=True),
    ):
        version = await _pg_version(pg)
        latest = max(sqlite_engine.available_migrations())
        if version != latest:
            raise CopyRefused(
                f"la base {shown_source} est au schéma {version}, ce programme au schéma "
                f"{latest} : copiez avec la version du bot qui la sert"
            )
        types = await _pg_tables(pg)
        order = dependency_order(_copied(types), await _pg_references(pg))
        try:  # the file did not exist: whatever is there after a failure is ours
            await _create_sqlite(target)
            counts = await _fill_sqlite(pg, target, types, order)
        except BaseException:
            _remove(target)
            raise
    return Copied(shown_source, str(target), version, counts, time.monotonic() - started)


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise CopyRefused(f"{target} existe déjà : choisissez un autre fichier")


def _remove(target: Path) -> None:
    for path in (target, *sqlite_engine.sidecars(target)):
        path.unlink(missing_ok=True)


async def _create_sqlite(target: Path) -> None:
    """The new file, owner-only, with the bot's schema (its migrations)."""
    fresh = sqlite_engine.Database(target)
    fresh.fsync = False
    try:
        await fresh.open(migrate=True)
    except sqlite3.DatabaseError as exc:
        raise CopyRefused(f"création impossible de {target} : {exc}") from None
    finally:
        await fresh.close()


async def _fill_sqlite(
    pg: asyncpg.Connection, target: Path, types: dict[str, dict[str, str]], order: list[str]
) -> dict[str, int]:
    counts: dict[str, int] = {}
    with closing(sqlite3.connect(target, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        writer = _SqliteFile(conn, target)
        mismatch = _schema_mismatch(
            {t: list(c) for t, c in types.items()},
            {t: c for t, c in writer.tables().items() if t not in BOOKKEEPING_TABLES},
        )
        if mismatch:
            raise CopyRefused(f"schémas incompatibles : {mismatch}")
        conn.execute("BEGIN IMMEDIATE")
        for table in order:
            columns = list(types[table])
            listed = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            insert = f'INSERT INTO "{table}" ({listed}) VALUES ({marks})'
            copied = 0
            cursor = await pg.cursor(f'SELECT {listed} FROM "{table}"')
            while batch := await cursor.fetch(BATCH):
                conn.executemany(insert, [tuple(record) for record in batch])
                copied += len(batch)
            counts[table] = copied
            _check(table, copied, await _pg_count(pg, table), writer.count(table))
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise CopyFailed(f"références brisées dans la copie (table {problems[0][0]})")
        conn.execute("COMMIT")
    return counts


# ------------------------------------------------------------------------------ either way
async def copy_database(source: str | Path, target: str | Path) -> Copied:
    """SQLite → PostgreSQL or PostgreSQL → SQLite, by the shapes of the two locations."""
    if not is_postgres(source) and is_postgres(target):
        return await sqlite_to_postgres(Path(source), str(target))
    if is_postgres(source) and not is_postgres(target):
        return await postgres_to_sqlite(str(source), Path(target))
    if is_postgres(source):
        raise CopyRefused(
            "de PostgreSQL à PostgreSQL : utilisez pg_dump et pg_restore (voir deploy/README.md)"
        )
    raise CopyRefused("de SQLite à SQLite : utilisez python -m bot backup FICHIER")
