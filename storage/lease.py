"""Named leases with a deadline, and the running instances' heartbeats (migration 0021).

Several bot processes may share one database; one of them at a time does the work that
must not be done twice (bot/jobs/leadership.py). It holds the lease named for that work
until its deadline and renews it before; once the deadline has passed, anyone may take it.

Every deadline and heartbeat is computed by the DATABASE's clock, in the statement itself
(PostgreSQL's `clock_timestamp()`, SQLite's own 'now'), never by a bot's `Clock`: instances
on different hosts, or each on a clock of its own as the tests' child bots are, then compare
times on one clock. They are whole milliseconds since 1970.

Each function is one statement, atomic on its own: on PostgreSQL none takes the writers'
advisory lock (storage/postgres.py), so a long write transaction elsewhere never holds up a
renewal. Pass a `Tx` to make several of them one transaction (a start-up check).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.db import Conn

# Now, in milliseconds since 1970, by each engine's clock (the one place they differ here).
_NOW = {
    False: "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
    True: "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)",
}


def on_postgres(conn: object) -> bool:
    """Whether `conn` (a `Database` or a `Tx`) is PostgreSQL's: its classes live in
    storage/postgres.py, imported only when a PostgreSQL database is opened."""
    return any(cls.__module__ == "storage.postgres" for cls in type(conn).__mro__)


def _now(conn: Conn) -> str:
    return _NOW[on_postgres(conn)]


@dataclass(frozen=True, slots=True)
class Instance:
    """A running instance as it last reported itself."""

    name: str
    mode: str  # 'polling' or 'webhook'
    host: str
    pid: int
    started_at: int
    heartbeat_at: int
    age_ms: int  # how long ago its last heartbeat was, by the database's clock


@dataclass(frozen=True, slots=True)
class Holder:
    name: str
    deadline_in_ms: int  # ≤ 0: expired


async def acquire(
    conn: Conn, name: str, holder: str, seconds: float, *, replacing: str | None = None
) -> bool:
    """Takes the lease for `seconds`, or extends it when `holder` has it already; True if
    `holder` now has it. Refused while someone else's deadline has not passed, unless that
    someone is `replacing` (an instance known to be dead)."""
    now = _now(conn)
    row = await conn.fetch_one(
        "INSERT INTO leases (name, holder, taken_at, deadline)"
        f" VALUES (:name, :holder, {now}, {now} + :ms)"
        " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
        " taken_at = CASE WHEN leases.holder = excluded.holder THEN leases.taken_at"
        " ELSE excluded.taken_at END, deadline = excluded.deadline"
        " WHERE leases.holder = excluded.holder OR leases.deadline <= excluded.taken_at"
        " OR leases.holder = :replacing"
        " RETURNING holder",
        {"name": name, "holder": holder, "ms": round(seconds * 1000), "replacing": replacing},
    )
    return row is not None


async def renew(conn: Conn, name: str, holder: str, seconds: float) -> bool:
    """Moves the deadline `seconds` from now if `holder` still has the lease: False when it
    has passed to someone else (or was released)."""
    now = _now(conn)
    row = await conn.fetch_one(
        f"UPDATE leases SET deadline = {now} + :ms"
        " WHERE name = :name AND holder = :holder RETURNING holder",
        {"name": name, "holder": holder, "ms": round(seconds * 1000)},
    )
    return row is not None


async def release(conn: Conn, name: str, holder: str) -> bool:
    """Gives the lease up at once (a clean stop): the next taker need not wait."""
    row = await conn.fetch_one(
        "DELETE FROM leases WHERE name = :name AND holder = :holder RETURNING holder",
        {"name": name, "holder": holder},
    )
    return row is not None


async def holder(conn: Conn, name: str) -> Holder | None:
    """Who holds the lease and for how much longer (None: nobody ever, or released)."""
    row = await conn.fetch_one(
        f"SELECT holder, deadline - {_now(conn)} AS left_ms FROM leases WHERE name = :name",
        {"name": name},
    )
    return None if row is None else Holder(row["holder"], int(row["left_ms"]))


async def heartbeat(conn: Conn, name: str, *, mode: str, host: str, pid: int) -> None:
    """The instance is alive (registers it the first time)."""
    now = _now(conn)
    await conn.fetch_one(
        "INSERT INTO instances (name, mode, host, pid, started_at, heartbeat_at)"
        f" VALUES (:name, :mode, :host, :pid, {now}, {now})"
        " ON CONFLICT (name) DO UPDATE SET mode = excluded.mode, host = excluded.host,"
        " pid = excluded.pid, heartbeat_at = excluded.heartbeat_at RETURNING name",
        {"name": name, "mode": mode, "host": host, "pid": pid},
    )


def _columns(conn: Conn) -> str:
    return f"name, mode, host, pid, started_at, heartbeat_at, {_now(conn)} - heartbeat_at AS age_ms"


def _instance(row: Any) -> Instance:
    return Instance(
        name=row["name"],
        mode=row["mode"],
        host=row["host"],
        pid=int(row["pid"]),
        started_at=int(row["started_at"]),
        heartbeat_at=int(row["heartbeat_at"]),
        age_ms=int(row["age_ms"]),
    )


async def instances(conn: Conn, *, within_seconds: float) -> list[Instance]:
    """The instances heard from in the last `within_seconds` (a heartbeat ahead of the
    database's clock, from a clock that ran ahead, counts as recent), by name."""
    rows = await conn.fetch_all(
        f"SELECT {_columns(conn)} FROM instances"
        f" WHERE heartbeat_at > {_now(conn)} - :ms ORDER BY name",
        {"ms": round(within_seconds * 1000)},
    )
    return [_instance(row) for row in rows]


async def instance(conn: Conn, name: str) -> Instance | None:
    """The instance of that name, however long ago it was heard from."""
    row = await conn.fetch_one(
        f"SELECT {_columns(conn)} FROM instances WHERE name = :name", {"name": name}
    )
    return None if row is None else _instance(row)


async def forget(conn: Conn, name: str) -> bool:
    """The instance stopped (or is known dead): it no longer counts."""
    row = await conn.fetch_one(
        "DELETE FROM instances WHERE name = :name RETURNING name", {"name": name}
    )
    return row is not None


async def forget_silent(conn: Conn, *, for_seconds: float) -> int:
    """Drops the instances not heard from for `for_seconds` (killed ones leave a row)."""
    rows = await conn.fetch_all(
        f"DELETE FROM instances WHERE heartbeat_at < {_now(conn)} - :ms RETURNING name",
        {"ms": round(for_seconds * 1000)},
    )
    return len(rows)
