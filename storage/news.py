"""What reached one person (📰 Actualités): the broadcasts they were a recipient of, with
their read receipt, and the coming events they are invited to, with their answer.

The reader's side only: broadcasts are written by storage/announcements.py, events and
answers by storage/events.py.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.domain.events import Answer, Event
from bot.domain.models import Announcement
from storage.db import Conn
from storage.timefmt import to_db

# A broadcast reaches its recipients once it leaves (sending, then sent).
_RECEIVED = (
    " FROM announcement_recipients r JOIN announcements a ON a.id = r.announcement_id"
    " WHERE r.person_id = :p AND a.status IN ('sending', 'sent')"
)


def _received(row: sqlite3.Row) -> tuple[Announcement, datetime | None]:
    data = dict(row)
    data["audience_json"] = data.pop("audience")
    read_at = data.pop("read_at")
    return Announcement.model_validate(data), (datetime.fromisoformat(read_at) if read_at else None)


async def count_received(conn: Conn, person_id: int) -> int:
    return int(await conn.fetch_value(f"SELECT COUNT(*){_RECEIVED}", {"p": person_id}))


async def received(
    conn: Conn, person_id: int, *, limit: int, offset: int = 0
) -> list[tuple[Announcement, datetime | None]]:
    """The broadcasts the person got, newest first, each with when they read it (a
    must-read notice they acknowledged) or None."""
    rows = await conn.fetch_all(
        f"SELECT a.*, r.read_at{_RECEIVED} ORDER BY a.sent_at DESC, a.id DESC"
        " LIMIT :limit OFFSET :offset",
        {"p": person_id, "limit": limit, "offset": offset},
    )
    return [_received(row) for row in rows]


async def unread(conn: Conn, person_id: int) -> list[Announcement]:
    """The must-read notices the person got and has not acknowledged, oldest first."""
    rows = await conn.fetch_all(
        f"SELECT a.*, r.read_at{_RECEIVED} AND a.must_read = 1 AND r.read_at IS NULL"
        " ORDER BY a.sent_at, a.id",
        {"p": person_id},
    )
    return [_received(row)[0] for row in rows]


async def receipt(
    conn: Conn, person_id: int, announcement_id: int
) -> tuple[Announcement, datetime | None] | None:
    """One broadcast the person got, with their read receipt; None if they did not get it."""
    row = await conn.fetch_one(
        f"SELECT a.*, r.read_at{_RECEIVED} AND a.id = :a", {"p": person_id, "a": announcement_id}
    )
    return _received(row) if row else None


def _invited(row: sqlite3.Row) -> tuple[Event, Answer]:
    data = dict(row)
    data["audience_json"] = data.pop("audience")
    answer = Answer(data.pop("answer"))
    return Event.model_validate(data), answer


_INVITED = (
    "SELECT e.*, i.status AS answer FROM event_invitations i JOIN events e ON e.id = i.event_id"
    " WHERE i.person_id = :p AND e.status = 'published'"
)


async def coming_events(
    conn: Conn, person_id: int, now: datetime, *, limit: int = 10
) -> list[tuple[Event, Answer]]:
    """The published events the person is invited to that have not ended, soonest first,
    each with their answer."""
    rows = await conn.fetch_all(
        f"{_INVITED} AND e.ends_at > :now ORDER BY e.starts_at, e.id LIMIT :limit",
        {"p": person_id, "now": to_db(now), "limit": limit},
    )
    return [_invited(row) for row in rows]


async def invitation(conn: Conn, person_id: int, event_id: int) -> tuple[Event, Answer] | None:
    """A published event the person is invited to, with their answer; None otherwise."""
    row = await conn.fetch_one(f"{_INVITED} AND e.id = :e", {"p": person_id, "e": event_id})
    return _invited(row) if row else None
