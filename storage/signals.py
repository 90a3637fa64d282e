"""Signals from partners to their Caf, and the Caf's inbox of them.

The models (`Signal`, `SignalMessage`) are bot/domain/signals.py's, so that screens can
name them; they are re-exported here for the callers that know them by this module.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.domain.signals import Signal as Signal
from bot.domain.signals import SignalKind, SignalStatus
from bot.domain.signals import SignalMessage as SignalMessage
from storage.db import Conn
from storage.timefmt import to_db

_SELECT = (
    "SELECT s.id, s.caf_id, s.partner_id, s.kind, s.reporter_id, s.category, s.urgency,"
    " s.description, s.ref_id, s.status, s.created_at, s.acknowledged_at, s.acknowledged_by,"
    " s.resolved_at, s.resolved_by, s.resolution, p.name AS partner_name,"
    " p.city AS partner_city, r.display_name AS reporter_name"
    " FROM signals s JOIN partners p ON p.id = s.partner_id"
    " LEFT JOIN people r ON r.id = s.reporter_id"
)


def _signal(row: sqlite3.Row) -> Signal:
    return Signal.model_validate(dict(row))


async def raise_signal(
    conn: Conn,
    *,
    caf_id: int,
    partner_id: int,
    kind: SignalKind,
    reporter_id: int | None,
    now: datetime,
    category: str | None = None,
    urgency: str | None = None,
    description: str | None = None,
    ref_id: int | None = None,
    dedup_key: str | None = None,
) -> tuple[Signal, bool]:
    """The signal, and False when `dedup_key` had already raised it (nothing new)."""
    new_id = await conn.execute(
        "INSERT INTO signals (caf_id, partner_id, kind, reporter_id, category, urgency,"
        " description, ref_id, created_at, dedup_key) VALUES (:caf, :p, :kind, :reporter,"
        " :category, :urgency, :description, :ref, :now, :key) ON CONFLICT (dedup_key) DO NOTHING",
        {
            "caf": caf_id,
            "p": partner_id,
            "kind": kind.value,
            "reporter": reporter_id,
            "category": category,
            "urgency": urgency,
            "description": description,
            "ref": ref_id,
            "now": to_db(now),
            "key": dedup_key,
        },
    )
    if new_id is None:
        row = await conn.fetch_one(f"{_SELECT} WHERE s.dedup_key = :key", {"key": dedup_key})
        assert row is not None
        return _signal(row), False
    signal = await get(conn, new_id)
    assert signal is not None
    return signal, True


async def get(conn: Conn, signal_id: int) -> Signal | None:
    row = await conn.fetch_one(f"{_SELECT} WHERE s.id = :id", {"id": signal_id})
    return _signal(row) if row else None


async def by_ref(conn: Conn, kind: SignalKind, ref_id: int) -> Signal | None:
    row = await conn.fetch_one(
        f"{_SELECT} WHERE s.kind = :kind AND s.ref_id = :ref ORDER BY s.id LIMIT 1",
        {"kind": kind.value, "ref": ref_id},
    )
    return _signal(row) if row else None


def _inbox_filter(kind: SignalKind | None, partner_id: int | None) -> str:
    where = " WHERE s.caf_id = :caf AND s.status != 'resolved'"
    if kind is not None:
        where += " AND s.kind = :kind"
    if partner_id is not None:
        where += " AND s.partner_id = :partner"
    return where


async def inbox(
    conn: Conn,
    caf_id: int,
    *,
    kind: SignalKind | None = None,
    partner_id: int | None = None,
    limit: int,
    offset: int = 0,
) -> tuple[list[Signal], int]:
    """Open and acknowledged signals of the Caf, oldest first; and their total."""
    params = {
        "caf": caf_id,
        "kind": kind.value if kind else None,
        "partner": partner_id,
        "limit": limit,
        "offset": offset,
    }
    where = _inbox_filter(kind, partner_id)
    rows = await conn.fetch_all(
        f"{_SELECT}{where} ORDER BY s.created_at, s.id LIMIT :limit OFFSET :offset", params
    )
    total = await conn.fetch_value(f"SELECT COUNT(*) FROM signals s{where}", params)
    return [_signal(row) for row in rows], int(total)


async def partners_with_open(conn: Conn, caf_id: int) -> list[tuple[int, str, int]]:
    """(partner id, site, open signals) for the inbox's site filter, busiest first."""
    rows = await conn.fetch_all(
        "SELECT p.id, p.name, p.city, COUNT(*) AS n FROM signals s JOIN partners p"
        " ON p.id = s.partner_id WHERE s.caf_id = :caf AND s.status != 'resolved'"
        " GROUP BY p.id ORDER BY n DESC, p.name",
        {"caf": caf_id},
    )
    return [
        (int(r["id"]), f"{r['name']} ({r['city']})" if r["city"] else r["name"], int(r["n"]))
        for r in rows
    ]


async def open_counts(conn: Conn, caf_id: int) -> dict[SignalKind, int]:
    rows = await conn.fetch_all(
        "SELECT kind, COUNT(*) AS n FROM signals WHERE caf_id = :caf AND status != 'resolved'"
        " GROUP BY kind",
        {"caf": caf_id},
    )
    return {SignalKind(r["kind"]): int(r["n"]) for r in rows}


async def for_reporter_site(
    conn: Conn, person_id: int, partner_id: int, *, limit: int = 10
) -> list[Signal]:
    """The person's own signals (those raised for them too), newest first."""
    rows = await conn.fetch_all(
        f"{_SELECT} WHERE s.reporter_id = :p AND s.partner_id = :site"
        " ORDER BY s.id DESC LIMIT :limit",
        {"p": person_id, "site": partner_id, "limit": limit},
    )
    return [_signal(row) for row in rows]


async def set_status(
    conn: Conn,
    signal_id: int,
    *,
    status: SignalStatus,
    expected: SignalStatus,
    by: int,
    now: datetime,
    resolution: str | None = None,
) -> bool:
    """Moves the signal from `expected` to `status`; False when someone moved it first."""
    if status is SignalStatus.ACKNOWLEDGED:
        sql = (
            "UPDATE signals SET status = 'acknowledged', acknowledged_at = :now,"
            " acknowledged_by = :by WHERE id = :id AND status = :expected RETURNING id"
        )
    elif status is SignalStatus.RESOLVED:
        sql = (
            "UPDATE signals SET status = 'resolved', resolved_at = :now, resolved_by = :by,"
            " resolution = :resolution, acknowledged_at = COALESCE(acknowledged_at, :now),"
            " acknowledged_by = COALESCE(acknowledged_by, :by)"
            " WHERE id = :id AND status = :expected RETURNING id"
        )
    else:
        raise ValueError("a signal does not go back to open")
    row = await conn.fetch_one(
        sql,
        {
            "now": to_db(now),
            "by": by,
            "id": signal_id,
            "expected": expected.value,
            "resolution": resolution,
        },
    )
    return row is not None


async def add_message(
    conn: Conn, signal_id: int, *, author_id: int, from_caf: bool, body: str, now: datetime
) -> int:
    new_id = await conn.execute(
        "INSERT INTO signal_messages (signal_id, author_id, from_caf, body, at)"
        " VALUES (:s, :a, :caf, :body, :now)",
        {"s": signal_id, "a": author_id, "caf": int(from_caf), "body": body, "now": to_db(now)},
    )
    return int(new_id or 0)


async def messages(conn: Conn, signal_id: int) -> list[SignalMessage]:
    rows = await conn.fetch_all(
        "SELECT m.*, p.display_name AS author_name FROM signal_messages m"
        " LEFT JOIN people p ON p.id = m.author_id WHERE m.signal_id = :s ORDER BY m.id",
        {"s": signal_id},
    )
    return [SignalMessage.model_validate(dict(row)) for row in rows]
