"""Events and the invitations to them: answers (upserts), waiting list, attendance.

The models (`Event`, `Invitation`) are bot/domain/events.py's.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.domain.events import Answer, Event, EventKind, Invitation
from storage import audiences
from storage.db import Conn, Tx
from storage.timefmt import to_db


def _event(row: sqlite3.Row) -> Event:
    data = dict(row)
    data["audience_json"] = data.pop("audience")
    return Event.model_validate(data)


async def create(
    conn: Conn,
    *,
    caf_id: int,
    kind: EventKind,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    place: str | None,
    visio_url: str | None,
    capacity: int | None,
    rsvp_deadline: datetime,
    created_by: int,
    now: datetime,
) -> Event:
    new_id = await conn.execute(
        "INSERT INTO events (caf_id, kind, title, starts_at, ends_at, place, visio_url,"
        " capacity, rsvp_deadline, created_by, created_at, updated_at) VALUES (:caf, :kind,"
        " :title, :start, :end, :place, :visio, :capacity, :deadline, :by, :now, :now)",
        {
            "caf": caf_id,
            "kind": kind.value,
            "title": title,
            "start": to_db(starts_at),
            "end": to_db(ends_at),
            "place": place,
            "visio": visio_url,
            "capacity": capacity,
            "deadline": to_db(rsvp_deadline),
            "by": created_by,
            "now": to_db(now),
        },
    )
    found = await get(conn, int(new_id or 0))
    assert found is not None
    return found


async def get(conn: Conn, event_id: int) -> Event | None:
    row = await conn.fetch_one("SELECT * FROM events WHERE id = :id", {"id": event_id})
    return _event(row) if row else None


async def for_caf(conn: Conn, caf_id: int, *, limit: int = 10) -> list[Event]:
    """The Caf's events, latest first; an abandoned draft (cancelled, never published) is not
    listed, a cancelled event is."""
    rows = await conn.fetch_all(
        "SELECT * FROM events WHERE caf_id = :caf"
        " AND NOT (status = 'cancelled' AND cancelled_at IS NULL)"
        " ORDER BY starts_at DESC LIMIT :limit",
        {"caf": caf_id, "limit": limit},
    )
    return [_event(row) for row in rows]


async def set_fields(conn: Conn, event_id: int, now: datetime, **fields: object) -> None:
    allowed = {"audience", "status", "cancelled_at"}
    if not fields or not set(fields) <= allowed:
        raise ValueError(f"not updatable: {sorted(set(fields) - allowed)}")
    values = {k: to_db(v) if isinstance(v, datetime) else v for k, v in fields.items()}
    assignments = ", ".join(f"{key} = :{key}" for key in values)  # keys from the fixed set
    await conn.execute(
        f"UPDATE events SET {assignments}, updated_at = :now WHERE id = :id",
        {**values, "now": to_db(now), "id": event_id},
    )


async def invite_audience(tx: Tx, event: Event) -> list[int]:
    """Invites the audience's people (coordinators organise, they are not invited)."""
    people = await audiences.people_of(tx, event.caf_id, event.audience, with_coordinators=False)
    await tx.executemany(
        "INSERT INTO event_invitations (event_id, person_id) VALUES (:e, :p)"
        " ON CONFLICT DO NOTHING",
        [{"e": event.id, "p": person.id} for person in people],
    )
    return [person.id for person in people]


_SELECT_INVITATION = (
    "SELECT i.*, p.display_name, s.name AS partner, p.telegram_user_id"
    " FROM event_invitations i JOIN people p ON p.id = i.person_id"
    " LEFT JOIN partners s ON s.id = p.partner_id"
)


async def invitation(conn: Conn, event_id: int, person_id: int) -> Invitation | None:
    row = await conn.fetch_one(
        f"{_SELECT_INVITATION} WHERE i.event_id = :e AND i.person_id = :p",
        {"e": event_id, "p": person_id},
    )
    return Invitation.model_validate(dict(row)) if row else None


async def invitations(conn: Conn, event_id: int, status: Answer | None = None) -> list[Invitation]:
    rows = await conn.fetch_all(
        f"{_SELECT_INVITATION} WHERE i.event_id = :e AND (i.status = :status OR :status IS NULL)"
        # NULLS FIRST: SQLite's order, which PostgreSQL's default reverses.
        " ORDER BY i.waiting_since NULLS FIRST, s.name NULLS FIRST, p.display_name",
        {"e": event_id, "status": status.value if status else None},
    )
    return [Invitation.model_validate(dict(row)) for row in rows]


async def counts(conn: Conn, event_id: int) -> dict[Answer, int]:
    rows = await conn.fetch_all(
        "SELECT status, COUNT(*) AS n FROM event_invitations WHERE event_id = :e GROUP BY status",
        {"e": event_id},
    )
    found = {Answer(r["status"]): int(r["n"]) for r in rows}
    return {answer: found.get(answer, 0) for answer in Answer}


async def attended_count(conn: Conn, event_id: int) -> int:
    return int(
        await conn.fetch_value(
            "SELECT COUNT(*) FROM event_invitations WHERE event_id = :e AND attended = 1",
            {"e": event_id},
        )
    )


async def set_answer(tx: Tx, event_id: int, person_id: int, status: Answer, now: datetime) -> None:
    await tx.execute(
        "UPDATE event_invitations SET status = :status, answered_at = :now,"
        " waiting_since = CASE WHEN :status = 'waiting' THEN :now ELSE NULL END"
        " WHERE event_id = :e AND person_id = :p",
        {"status": status.value, "now": to_db(now), "e": event_id, "p": person_id},
    )


async def promote_first_waiting(tx: Tx, event_id: int, now: datetime) -> int | None:
    """The first on the waiting list takes the freed place; their person id."""
    row = await tx.fetch_one(
        "SELECT person_id FROM event_invitations WHERE event_id = :e AND status = 'waiting'"
        " ORDER BY waiting_since, person_id LIMIT 1",
        {"e": event_id},
    )
    if row is None:
        return None
    await tx.execute(
        "UPDATE event_invitations SET status = 'going', waiting_since = NULL"
        " WHERE event_id = :e AND person_id = :p",
        {"e": event_id, "p": row["person_id"]},
    )
    return int(row["person_id"])


async def set_attended(tx: Tx, event_id: int, person_id: int, attended: bool | None) -> None:
    await tx.execute(
        "UPDATE event_invitations SET attended = :a WHERE event_id = :e AND person_id = :p",
        {"a": None if attended is None else int(attended), "e": event_id, "p": person_id},
    )
