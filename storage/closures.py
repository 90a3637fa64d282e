"""Exceptional closures of a site (Article 4): declared, listed, cancelled."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

from bot.domain.models import Model
from storage.db import Conn
from storage.timefmt import date_to_db, to_db


class Closure(Model):
    id: int
    partner_id: int
    start_date: date
    end_date: date
    reason: str
    note: str | None
    declared_by: int | None
    declared_at: datetime
    cancelled_at: datetime | None
    cancelled_by: int | None

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


def _closure(row: sqlite3.Row) -> Closure:
    return Closure.model_validate(dict(row))


async def declare(
    conn: Conn,
    *,
    partner_id: int,
    start: date,
    end: date,
    reason: str,
    note: str | None,
    by: int | None,
    now: datetime,
) -> tuple[Closure, bool]:
    """The closure, and False when the same dates were already declared (a double tap)."""
    new_id = await conn.execute(
        "INSERT INTO closures (partner_id, start_date, end_date, reason, note, declared_by,"
        " declared_at) VALUES (:p, :start, :end, :reason, :note, :by, :now)"
        " ON CONFLICT DO NOTHING",
        {
            "p": partner_id,
            "start": date_to_db(start),
            "end": date_to_db(end),
            "reason": reason,
            "note": note,
            "by": by,
            "now": to_db(now),
        },
    )
    if new_id is None:
        row = await conn.fetch_one(
            "SELECT * FROM closures WHERE partner_id = :p AND start_date = :start"
            " AND end_date = :end AND cancelled_at IS NULL",
            {"p": partner_id, "start": date_to_db(start), "end": date_to_db(end)},
        )
        assert row is not None
        return _closure(row), False
    closure = await get(conn, new_id)
    assert closure is not None
    return closure, True


async def get(conn: Conn, closure_id: int) -> Closure | None:
    row = await conn.fetch_one("SELECT * FROM closures WHERE id = :id", {"id": closure_id})
    return _closure(row) if row else None


async def upcoming(conn: Conn, partner_id: int, today: date, *, limit: int = 20) -> list[Closure]:
    """Closures not cancelled that end today or later, soonest first."""
    rows = await conn.fetch_all(
        "SELECT * FROM closures WHERE partner_id = :p AND cancelled_at IS NULL"
        " AND end_date >= :today ORDER BY start_date, id LIMIT :limit",
        {"p": partner_id, "today": date_to_db(today), "limit": limit},
    )
    return [_closure(row) for row in rows]


async def upcoming_for_caf(conn: Conn, caf_id: int, today: date) -> dict[int, list[Closure]]:
    rows = await conn.fetch_all(
        "SELECT c.* FROM closures c JOIN partners p ON p.id = c.partner_id"
        " WHERE p.caf_id = :caf AND c.cancelled_at IS NULL AND c.end_date >= :today"
        " ORDER BY c.partner_id, c.start_date, c.id",
        {"caf": caf_id, "today": date_to_db(today)},
    )
    found: dict[int, list[Closure]] = {}
    for row in rows:
        found.setdefault(int(row["partner_id"]), []).append(_closure(row))
    return found


async def count_since(conn: Conn, partner_id: int, since: date) -> int:
    return int(
        await conn.fetch_value(
            "SELECT COUNT(*) FROM closures WHERE partner_id = :p AND cancelled_at IS NULL"
            " AND end_date >= :since",
            {"p": partner_id, "since": date_to_db(since)},
        )
    )


async def cancel(conn: Conn, closure_id: int, *, by: int, now: datetime) -> bool:
    """True when this call cancelled it (False: already cancelled)."""
    row = await conn.fetch_one(
        "UPDATE closures SET cancelled_at = :now, cancelled_by = :by"
        " WHERE id = :id AND cancelled_at IS NULL RETURNING id",
        {"now": to_db(now), "by": by, "id": closure_id},
    )
    return row is not None
