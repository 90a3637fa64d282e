"""The outbox: messages that are not direct replies, one durable row per recipient.

Why a table rather than sending at once: a notification is written in the same transaction
as the fact it announces (a label suspended, a signal to the Caf), so either both exist or
neither does, and a crash, a flood limit or a blocked user never loses or doubles it.
`bot/jobs/outbox_sender.py` drains the table at Telegram's limits.

Life of a row: 'pending' → (claimed) 'sending' → 'sent' | 'failed' | 'unreachable', or back
to 'pending' for a retry. Exactly once: `dedup_key` is UNIQUE, so announcing the same fact
twice (a redelivered update, a double tap, a re-run scheduled job) stores one row; a row is
claimed in one `BEGIN IMMEDIATE` transaction, so it is sent by one drain only. The one place
a duplicate can come from is a crash while a row was 'sending' (Telegram may have delivered
it): `recover_in_flight` puts those back to 'pending' at start-up, knowingly.

Messages to one chat leave in order: only the oldest unfinished row of a chat can be
claimed, and only when no other row of that chat is in flight (a "label suspended" must
never overtake the "label restored" written before it, even across a retry).

Every "now" comes from the caller (the injectable clock); times are stored by `to_db`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.models import Model
from storage.db import Conn, Database, Tx
from storage.lease import on_postgres
from storage.timefmt import to_db


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


class OutboxMessage(Model):
    """One row of the outbox: one message to one chat."""

    id: int
    kind: str
    dedup_key: str
    person_id: int | None
    chat_id: int
    text: str
    reply_markup: str | None
    status: OutboxStatus
    attempts: int
    last_error: str | None
    telegram_message_id: int | None
    not_before: datetime
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    # One file with the message: 'photo' / 'document' (a Telegram file id in `media`) or
    # 'generated' (`media` is the file's text, e.g. an .ics, named `media_name`).
    media_kind: str | None = None
    media: str | None = None
    media_name: str | None = None

    @property
    def is_group(self) -> bool:
        """Groups and channels have negative chat ids (Telegram's own convention)."""
        return self.chat_id < 0


class OutboxItem(Model):
    """A message to enqueue (what `enqueue_many` takes, e.g. one per broadcast recipient)."""

    kind: str
    dedup_key: str
    chat_id: int
    text: str
    person_id: int | None = None
    reply_markup: str | None = None
    media_kind: str | None = None
    media: str | None = None
    media_name: str | None = None


Markup = Mapping[str, Any] | str | None

_INSERT = (
    "INSERT INTO outbox (kind, dedup_key, person_id, chat_id, text, reply_markup, status,"
    " attempts, not_before, created_at, updated_at, media_kind, media, media_name)"
    " VALUES (:kind, :dedup_key, :person_id, :chat_id, :text, :reply_markup, 'pending', 0,"
    " :now, :now, :now, :media_kind, :media, :media_name)"
    " ON CONFLICT (dedup_key) DO NOTHING"
)


def _markup_json(markup: Markup) -> str | None:
    """The stored form of a keyboard: JSON text (a dict is dumped; a string is checked)."""
    if markup is None:
        return None
    if isinstance(markup, str):
        json.loads(markup)  # a broken keyboard must fail the caller, not the sender later
        return markup
    return json.dumps(markup, ensure_ascii=False, separators=(",", ":"))


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage.model_validate(dict(row))


async def enqueue(
    tx: Conn,
    *,
    kind: str,
    dedup_key: str,
    chat_id: int,
    text: str,
    person_id: int | None = None,
    reply_markup: Markup = None,
    now: datetime,
    media_kind: str | None = None,
    media: str | None = None,
    media_name: str | None = None,
) -> bool:
    """Adds one message, in the caller's transaction; False if `dedup_key` is already there.

    Pass the `Tx` of the transaction that stores the fact being announced, so that a
    rollback takes the message with it.
    """
    row_id = await tx.execute(
        _INSERT,
        {
            "kind": kind,
            "dedup_key": dedup_key,
            "person_id": person_id,
            "chat_id": chat_id,
            "text": text,
            "reply_markup": _markup_json(reply_markup),
            "now": to_db(now),
            "media_kind": media_kind,
            "media": media,
            "media_name": media_name,
        },
    )
    return row_id is not None


async def enqueue_many(tx: Tx, rows: Iterable[OutboxItem], now: datetime) -> int:
    """Adds many messages in one `executemany` (a broadcast); returns how many were new."""
    stamp = to_db(now)
    params = [
        {
            "kind": item.kind,
            "dedup_key": item.dedup_key,
            "person_id": item.person_id,
            "chat_id": item.chat_id,
            "text": item.text,
            "reply_markup": _markup_json(item.reply_markup),
            "now": stamp,
            "media_kind": item.media_kind,
            "media": item.media,
            "media_name": item.media_name,
        }
        for item in rows
    ]
    if not params:
        return 0
    return await tx.executemany_count(_INSERT, params)


async def get(conn: Conn, outbox_id: int) -> OutboxMessage | None:
    row = await conn.fetch_one("SELECT * FROM outbox WHERE id = :id", {"id": outbox_id})
    return _message(row) if row else None


# The oldest unfinished row of each chat, when it is pending (not in flight) and due.
_HEADS = (
    "SELECT o.id FROM outbox o"
    " JOIN (SELECT MIN(id) AS id FROM outbox WHERE status IN ('pending', 'sending')"
    "       GROUP BY chat_id) head ON head.id = o.id"
    " WHERE o.status = 'pending' AND o.not_before <= :now"
)


async def claim_batch(
    db: Database, now: datetime, limit: int, *, exclude_chat_ids: Collection[int] = ()
) -> list[OutboxMessage]:
    """Moves up to `limit` due rows to 'sending', at most one per chat, oldest first.

    One transaction, so a row is claimed once. `exclude_chat_ids` are chats the sender is
    still pacing (it sent to them a moment ago): leaving them out keeps a busy chat from
    holding up a batch meant for everyone else.

    In the committer thread: finding each chat's oldest row reads every unfinished row
    (6.5 ms with 10,000 queued), too long to hold the event loop at each batch.

    On PostgreSQL the rows are also locked as they are chosen, skipping any another claimer
    holds (`FOR UPDATE SKIP LOCKED`): two senders, even without the leader's lease
    (bot/jobs/leadership.py), never claim the same row. SQLite has one writer at a time.
    """
    skip_locked = " FOR UPDATE OF o SKIP LOCKED" if on_postgres(db) else ""
    async with db.transaction(in_thread=True) as tx:
        rows = await tx.fetch_all(
            "UPDATE outbox SET status = 'sending', updated_at = :now WHERE id IN ("
            f"{_HEADS} AND o.chat_id NOT IN (SELECT value FROM json_each(:excluded))"
            f" ORDER BY o.id LIMIT :limit{skip_locked}) RETURNING *",
            {"now": to_db(now), "excluded": json.dumps(sorted(exclude_chat_ids)), "limit": limit},
        )
    return sorted((_message(row) for row in rows), key=lambda m: m.id)


async def due_chats(conn: Conn, now: datetime, among: Collection[int]) -> set[int]:
    """Which of these chats have a message that could be claimed now (ignoring pacing)."""
    if not among:
        return set()
    rows = await conn.fetch_all(
        f"SELECT DISTINCT o.chat_id FROM outbox o WHERE o.id IN ({_HEADS})"
        " AND o.chat_id IN (SELECT value FROM json_each(:among))",
        {"now": to_db(now), "among": json.dumps(sorted(among))},
    )
    return {int(row["chat_id"]) for row in rows}


async def mark_sent(db: Conn, outbox_id: int, message_id: int | None, now: datetime) -> bool:
    """Records the delivery and Telegram's message id (to edit or delete it later)."""
    changed = await db.fetch_one(
        "UPDATE outbox SET status = 'sent', telegram_message_id = :m, sent_at = :now,"
        " updated_at = :now WHERE id = :id AND status = 'sending' RETURNING id",
        {"m": message_id, "now": to_db(now), "id": outbox_id},
    )
    return changed is not None


async def mark_retry(
    db: Conn, outbox_id: int, error: str, not_before: datetime, now: datetime
) -> bool:
    """A failed try worth retrying: back to 'pending' not before `not_before`, attempts + 1."""
    changed = await db.fetch_one(
        "UPDATE outbox SET status = 'pending', attempts = attempts + 1, last_error = :error,"
        " not_before = :not_before, updated_at = :now"
        " WHERE id = :id AND status = 'sending' RETURNING id",
        {"error": error, "not_before": to_db(not_before), "now": to_db(now), "id": outbox_id},
    )
    return changed is not None


async def release(db: Conn, outbox_id: int, now: datetime, *, error: str | None = None) -> bool:
    """Back to 'pending' without counting an attempt: the message was not at fault.

    For Telegram's flood control (`RetryAfter`) and for rows claimed but not yet tried
    when the sender stops.
    """
    changed = await db.fetch_one(
        "UPDATE outbox SET status = 'pending', last_error = COALESCE(:error, last_error),"
        " updated_at = :now WHERE id = :id AND status = 'sending' RETURNING id",
        {"error": error, "now": to_db(now), "id": outbox_id},
    )
    return changed is not None


async def mark_failed(db: Conn, outbox_id: int, error: str, now: datetime) -> bool:
    """Gives up on a row (a message Telegram refuses, or too many failed tries)."""
    changed = await db.fetch_one(
        "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = :error,"
        " updated_at = :now WHERE id = :id AND status = 'sending' RETURNING id",
        {"error": error, "now": to_db(now), "id": outbox_id},
    )
    return changed is not None


async def mark_unreachable(db: Database, outbox_id: int, error: str, now: datetime) -> int:
    """The recipient blocked the bot (or the chat is gone): stop trying them at all.

    Marks the row, notes `people.unreachable_since` for its person, and marks that
    person's (and that chat's) other pending rows unreachable too: each would only meet the
    same 403. Returns how many other rows were marked.
    """
    stamp = to_db(now)
    async with db.transaction() as tx:
        row = await tx.fetch_one(
            "UPDATE outbox SET status = 'unreachable', attempts = attempts + 1,"
            " last_error = :error, updated_at = :now WHERE id = :id"
            " RETURNING person_id, chat_id",
            {"error": error, "now": stamp, "id": outbox_id},
        )
        if row is None:
            return 0
        person_id, chat_id = row["person_id"], row["chat_id"]
        if person_id is not None:
            await tx.execute(
                "UPDATE people SET unreachable_since = COALESCE(unreachable_since, :now)"
                " WHERE id = :p",
                {"now": stamp, "p": person_id},
            )
        return await tx.execute_count(
            "UPDATE outbox SET status = 'unreachable', last_error = :error, updated_at = :now"
            " WHERE status = 'pending' AND (chat_id = :chat OR person_id = :p)",
            {"error": error, "now": stamp, "chat": chat_id, "p": person_id},
        )


async def recover_in_flight(db: Conn, now: datetime) -> int:
    """At start-up: rows left 'sending' by a crash go back to 'pending'.

    Telegram may or may not have delivered them: sending again is the only duplicate the
    outbox allows, preferred to losing a message. No attempt is counted.
    """
    rows = await db.fetch_all(
        "UPDATE outbox SET status = 'pending', updated_at = :now WHERE status = 'sending'"
        " RETURNING id",
        {"now": to_db(now)},
    )
    return len(rows)


async def counts(db: Conn, kind: str | None = None) -> dict[OutboxStatus, int]:
    """Rows by status (every status present, zeros included), of one kind or all."""
    rows = await db.fetch_all(
        "SELECT status, COUNT(*) AS n FROM outbox WHERE kind = :kind OR :kind IS NULL"
        " GROUP BY status",
        {"kind": kind},
    )
    found = {OutboxStatus(row["status"]): int(row["n"]) for row in rows}
    return {status: found.get(status, 0) for status in OutboxStatus}


async def clear_unreachable(db: Conn, person_id: int) -> bool:
    """The person wrote to the bot again: they can be reached. True if they were not."""
    changed = await db.fetch_one(
        "UPDATE people SET unreachable_since = NULL"
        " WHERE id = :p AND unreachable_since IS NOT NULL RETURNING id",
        {"p": person_id},
    )
    return changed is not None


async def unreachable_since(db: Conn, person_id: int) -> datetime | None:
    value = await db.fetch_value(
        "SELECT unreachable_since FROM people WHERE id = :p", {"p": person_id}
    )
    return datetime.fromisoformat(value) if value else None
