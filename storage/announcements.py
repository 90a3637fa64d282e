"""Announcements (news and must-read notices) and their recipients' read receipts.

Sending is two steps in one transaction: the recipients are fixed (the audience resolved at
that moment) and one outbox row is written per recipient, kind `broadcast:<id>`, so the
outbox's own guarantees (exactly once, resumed after a crash, Telegram's pace) apply.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.domain.broadcasts import Reader
from bot.domain.models import Announcement
from storage import audiences, outbox
from storage.db import Conn, Tx
from storage.outbox import OutboxItem, OutboxStatus
from storage.timefmt import to_db


def _announcement(row: sqlite3.Row) -> Announcement:
    data = dict(row)
    data["audience_json"] = data.pop("audience")
    return Announcement.model_validate(data)


async def create(
    conn: Conn,
    *,
    caf_id: int,
    author_id: int,
    body: str,
    media_kind: str | None,
    media_file_id: str | None,
    media_name: str | None,
    now: datetime,
) -> Announcement:
    new_id = await conn.execute(
        "INSERT INTO announcements (caf_id, author_id, body, media_kind, media_file_id,"
        " media_name, created_at, updated_at) VALUES (:caf, :author, :body, :mk, :mf, :mn,"
        " :now, :now)",
        {
            "caf": caf_id,
            "author": author_id,
            "body": body,
            "mk": media_kind,
            "mf": media_file_id,
            "mn": media_name,
            "now": to_db(now),
        },
    )
    found = await get(conn, int(new_id or 0))
    assert found is not None
    return found


async def get(conn: Conn, announcement_id: int) -> Announcement | None:
    row = await conn.fetch_one(
        "SELECT * FROM announcements WHERE id = :id", {"id": announcement_id}
    )
    return _announcement(row) if row else None


async def update(conn: Conn, announcement_id: int, now: datetime, **fields: object) -> None:
    allowed = {
        "audience",
        "must_read",
        "status",
        "scheduled_for",
        "progress_chat_id",
        "progress_message_id",
        "sent_at",
    }
    if not fields or not set(fields) <= allowed:
        raise ValueError(f"not updatable: {sorted(set(fields) - allowed)}")
    values = {
        key: to_db(value) if isinstance(value, datetime) else value for key, value in fields.items()
    }
    # Column names come from the fixed set above, never from input.
    assignments = ", ".join(f"{key} = :{key}" for key in values)
    await conn.execute(
        f"UPDATE announcements SET {assignments}, updated_at = :now WHERE id = :id",
        {**values, "now": to_db(now), "id": announcement_id},
    )


async def recent(conn: Conn, caf_id: int, *, limit: int = 8) -> list[Announcement]:
    rows = await conn.fetch_all(
        "SELECT * FROM announcements WHERE caf_id = :caf AND status != 'cancelled'"
        " ORDER BY id DESC LIMIT :limit",
        {"caf": caf_id, "limit": limit},
    )
    return [_announcement(row) for row in rows]


async def in_progress(conn: Conn) -> list[Announcement]:
    rows = await conn.fetch_all("SELECT * FROM announcements WHERE status = 'sending'")
    return [_announcement(row) for row in rows]


async def send(
    tx: Tx,
    announcement: Announcement,
    *,
    text: str,
    reply_markup: str | None,
    now: datetime,
) -> int:
    """Fixes the recipients and writes one outbox row each; returns how many.

    People Telegram already told us are unreachable get their row marked so at once: they
    count in the report, and no call is wasted on them.
    """
    people = await audiences.people_of(
        tx, announcement.caf_id, announcement.audience, exclude_person_id=announcement.author_id
    )
    await tx.executemany(
        "INSERT INTO announcement_recipients (announcement_id, person_id) VALUES (:a, :p)"
        " ON CONFLICT DO NOTHING",
        [{"a": announcement.id, "p": person.id} for person in people],
    )
    await outbox.enqueue_many(
        tx,
        (
            OutboxItem(
                kind=announcement.kind,
                dedup_key=f"{announcement.kind}:p{person.id}",
                chat_id=person.telegram_user_id or 0,
                person_id=person.id,
                text=text,
                reply_markup=reply_markup,
                media_kind=announcement.media_kind,
                media=announcement.media_file_id,
                media_name=announcement.media_name,
            )
            for person in people
        ),
        now,
    )
    await tx.execute(
        "UPDATE outbox SET status = 'unreachable', last_error = 'bloqué auparavant',"
        " updated_at = :now WHERE kind = :kind AND status = 'pending' AND person_id IN"
        " (SELECT id FROM people WHERE unreachable_since IS NOT NULL)",
        {"kind": announcement.kind, "now": to_db(now)},
    )
    await update(tx, announcement.id, now, status="sending", sent_at=now)
    return len(people)


async def progress(conn: Conn, announcement: Announcement) -> dict[OutboxStatus, int]:
    return await outbox.counts(conn, kind=announcement.kind)


async def retry_failed(tx: Tx, announcement: Announcement, now: datetime) -> int:
    """Puts the failed messages back in the queue (not the unreachable ones)."""
    rows = await tx.fetch_all(
        "UPDATE outbox SET status = 'pending', attempts = 0, not_before = :now,"
        " updated_at = :now WHERE kind = :kind AND status = 'failed' RETURNING id",
        {"kind": announcement.kind, "now": to_db(now)},
    )
    if rows:
        await update(tx, announcement.id, now, status="sending")
    return len(rows)


async def mark_read(conn: Conn, announcement_id: int, person_id: int, now: datetime) -> bool | None:
    """True when this tap recorded the reading, False if already read, None if not a recipient."""
    row = await conn.fetch_one(
        "SELECT read_at FROM announcement_recipients WHERE announcement_id = :a AND person_id = :p",
        {"a": announcement_id, "p": person_id},
    )
    if row is None:
        return None
    if row["read_at"] is not None:
        return False
    await conn.execute(
        "UPDATE announcement_recipients SET read_at = :now"
        " WHERE announcement_id = :a AND person_id = :p AND read_at IS NULL",
        {"a": announcement_id, "p": person_id, "now": to_db(now)},
    )
    return True


async def readers(conn: Conn, announcement_id: int) -> list[Reader]:
    rows = await conn.fetch_all(
        "SELECT r.person_id, p.display_name, s.name AS partner, r.read_at, p.telegram_user_id"
        " FROM announcement_recipients r JOIN people p ON p.id = r.person_id"
        " LEFT JOIN partners s ON s.id = p.partner_id WHERE r.announcement_id = :a"
        " ORDER BY s.name, p.display_name",
        {"a": announcement_id},
    )
    return [Reader.model_validate(dict(row)) for row in rows]


async def next_reminder_round(tx: Tx, announcement_id: int) -> int:
    value = await tx.fetch_value(
        "SELECT MAX(reminded) FROM announcement_recipients WHERE announcement_id = :a",
        {"a": announcement_id},
    )
    return int(value or 0) + 1


async def note_reminded(tx: Tx, announcement_id: int, person_ids: list[int], round_: int) -> None:
    await tx.executemany(
        "UPDATE announcement_recipients SET reminded = :r WHERE announcement_id = :a"
        " AND person_id = :p",
        [{"r": round_, "a": announcement_id, "p": pid} for pid in person_ids],
    )
