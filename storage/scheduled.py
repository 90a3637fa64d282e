"""Scheduled work as due rows: what `bot.jobs.scheduler.Scheduler` picks up.

Why rows and not PTB jobs: PTB's job queue lives in memory, so a reminder scheduled there
is lost on restart. Here every piece of work is a row with a unique `key`, and one periodic
job claims the rows that are due. Tests move time by moving the clock.

Life of a row::

    pending --claim_due--> running --finish--> done
       ^                      |--fail(retry_at)--> pending (attempts + 1)
       |                      |--fail(None)------> failed  (attempts + 1)
       |                      '--recover_running (after a crash)--> pending
       '--cancel--> cancelled (only while pending)

Idempotent scheduling: `schedule` is insert-or-ignore (the first schedule of a key wins,
whatever its state now), `reschedule` is insert-or-move (a still pending row gets the new
due time; a row already running, done, cancelled or failed is left alone), `rearm` is
insert-or-revive (the row is pending at the new time whatever became of it: for work that
is armed, cancelled and armed again, and whose handler checks by itself that it is wanted).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from bot.domain.models import Model
from storage.db import Conn, Database
from storage.timefmt import to_db

JobStatus = Literal["pending", "running", "done", "cancelled", "failed"]


class ScheduledJob(Model):
    id: int
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    status: JobStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None


def _job(row: sqlite3.Row) -> ScheduledJob:
    data = dict(row)
    data["payload"] = json.loads(data["payload"])
    return ScheduledJob.model_validate(data)


def _payload(payload: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(payload or {}), ensure_ascii=False, sort_keys=True)


async def schedule(
    conn: Conn,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    payload: Mapping[str, Any] | None = None,
    now: datetime,
) -> bool:
    """Adds the work unless its key exists (whatever its state); True when it was added.

    Safe to call again on a redelivered update or at every start-up: the first call wins.
    """
    new_id = await conn.execute(
        "INSERT INTO scheduled_jobs (kind, key, due_at, payload, created_at, updated_at)"
        " VALUES (:kind, :key, :due, :payload, :now, :now) ON CONFLICT (key) DO NOTHING",
        {
            "kind": kind,
            "key": key,
            "due": to_db(due_at),
            "payload": _payload(payload),
            "now": to_db(now),
        },
    )
    return new_id is not None


async def reschedule(
    conn: Conn,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    payload: Mapping[str, Any] | None = None,
    now: datetime,
) -> bool:
    """Adds the work, or moves it to `due_at` if it is still pending.

    True when the work is now pending at `due_at`; False when it already ran, is running,
    was cancelled or failed (those are left alone: moving them would run the work twice or
    revive what someone cancelled). `payload` is only stored when the row is new.
    """
    row = await conn.fetch_one(
        "INSERT INTO scheduled_jobs (kind, key, due_at, payload, created_at, updated_at)"
        " VALUES (:kind, :key, :due, :payload, :now, :now)"
        " ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at,"
        " updated_at = excluded.updated_at WHERE scheduled_jobs.status = 'pending'"
        " RETURNING id",
        {
            "kind": kind,
            "key": key,
            "due": to_db(due_at),
            "payload": _payload(payload),
            "now": to_db(now),
        },
    )
    return row is not None


async def rearm(
    conn: Conn,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    payload: Mapping[str, Any] | None = None,
    now: datetime,
) -> None:
    """Adds the work, or makes its row pending again at `due_at` whatever became of it.

    For work that can be cancelled and then wanted again (a programmed broadcast taken back
    to draft, then programmed anew): a `reschedule` would leave a cancelled or done row
    alone and the work would never run. Only for handlers that check by themselves whether
    the work is still wanted, since a row revived while it runs runs again at `due_at`
    (`finish` and `fail` then leave it pending). Attempts and the last error start afresh;
    `payload` replaces the stored one.
    """
    await conn.execute(
        "INSERT INTO scheduled_jobs (kind, key, due_at, payload, created_at, updated_at)"
        " VALUES (:kind, :key, :due, :payload, :now, :now)"
        " ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, due_at = excluded.due_at,"
        " payload = excluded.payload, status = 'pending', attempts = 0, last_error = NULL,"
        " done_at = NULL, updated_at = excluded.updated_at",
        {
            "kind": kind,
            "key": key,
            "due": to_db(due_at),
            "payload": _payload(payload),
            "now": to_db(now),
        },
    )


async def cancel(conn: Conn, key: str, now: datetime) -> bool:
    """Cancels pending work; True if it was pending (running work cannot be stopped here)."""
    row = await conn.fetch_one(
        "UPDATE scheduled_jobs SET status = 'cancelled', updated_at = :now, done_at = :now"
        " WHERE key = :key AND status = 'pending' RETURNING id",
        {"key": key, "now": to_db(now)},
    )
    return row is not None


async def get(conn: Conn, key: str) -> ScheduledJob | None:
    row = await conn.fetch_one("SELECT * FROM scheduled_jobs WHERE key = :key", {"key": key})
    return _job(row) if row else None


async def pending(conn: Conn, kind: str | None = None) -> list[ScheduledJob]:
    """Pending work, soonest first (all kinds, or one)."""
    rows = await conn.fetch_all(
        "SELECT * FROM scheduled_jobs WHERE status = 'pending'"
        " AND (kind = :kind OR :kind IS NULL) ORDER BY due_at, id",
        {"kind": kind},
    )
    return [_job(row) for row in rows]


async def claim_due(db: Database, now: datetime, limit: int) -> list[ScheduledJob]:
    """Moves up to `limit` due pending rows to 'running' and returns them, soonest first.

    One `BEGIN IMMEDIATE` transaction: two callers at the same instant (two ticks, two
    processes) never claim the same row, which is what keeps a job from running twice.
    """
    async with db.transaction() as tx:
        rows = await tx.fetch_all(
            "UPDATE scheduled_jobs SET status = 'running', updated_at = :now"
            " WHERE id IN (SELECT id FROM scheduled_jobs WHERE status = 'pending'"
            " AND due_at <= :now ORDER BY due_at, id LIMIT :limit) RETURNING *",
            {"now": to_db(now), "limit": limit},
        )
    # RETURNING gives no order guarantee.
    return sorted((_job(row) for row in rows), key=lambda job: (job.due_at, job.id))


async def finish(conn: Conn, job_id: int, now: datetime) -> bool:
    """Marks a running job done; False if it was not running (e.g. recovered meanwhile)."""
    row = await conn.fetch_one(
        "UPDATE scheduled_jobs SET status = 'done', updated_at = :now, done_at = :now"
        " WHERE id = :id AND status = 'running' RETURNING id",
        {"id": job_id, "now": to_db(now)},
    )
    return row is not None


async def fail(
    conn: Conn, job_id: int, error: str, now: datetime, retry_at: datetime | None
) -> bool:
    """Records a failed run: back to pending at `retry_at`, or 'failed' for good when None.

    `error` must not contain the payload or user text: it is kept in the database and shown
    to whoever looks at failed jobs.
    """
    if retry_at is None:
        sql = (
            "UPDATE scheduled_jobs SET status = 'failed', attempts = attempts + 1,"
            " last_error = :error, updated_at = :now, done_at = :now"
            " WHERE id = :id AND status = 'running' RETURNING id"
        )
        params: dict[str, Any] = {"id": job_id, "error": error, "now": to_db(now)}
    else:
        sql = (
            "UPDATE scheduled_jobs SET status = 'pending', attempts = attempts + 1,"
            " last_error = :error, due_at = :retry, updated_at = :now"
            " WHERE id = :id AND status = 'running' RETURNING id"
        )
        params = {"id": job_id, "error": error, "now": to_db(now), "retry": to_db(retry_at)}
    return await conn.fetch_one(sql, params) is not None


async def recover_running(conn: Conn, now: datetime) -> int:
    """Puts rows a crash left 'running' back to pending; returns how many.

    Call once at start-up, before the first claim: a row is 'running' only while a process
    runs its handler, so at start-up any such row belongs to a process that died. Its work
    runs again (at least once, not exactly once: handlers must be idempotent).
    """
    rows = await conn.fetch_all(
        "UPDATE scheduled_jobs SET status = 'pending', updated_at = :now"
        " WHERE status = 'running' RETURNING id",
        {"now": to_db(now)},
    )
    return len(rows)


async def purge_done(conn: Conn, kind: str, before: datetime) -> None:
    """Forgets `kind`'s rows done before `before`: for work whose keys never come back (an
    hourly run's key holds its hour), the row's idempotency is no longer needed."""
    await conn.execute(
        "DELETE FROM scheduled_jobs WHERE kind = :kind AND status = 'done' AND done_at < :before",
        {"kind": kind, "before": to_db(before)},
    )
