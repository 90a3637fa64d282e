"""Nightly clean-up, run by the scheduler: nothing is kept longer than it serves.

Wrong-code records only serve to slow guessing (a day is plenty); a visit left half-filled
for longer than DRAFT_MAX_AGE_HOURS is abandoned (it holds codes only, never text) and deleted
the next night, as every abandoned draft; free
texts older than RETENTION_MONTHS are purged and people revoked that long ago erased
(bot/jobs/retention.py). Nothing here messages anyone: what people should read goes out
with the morning run (bot/jobs/morning.py).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Settings
from bot.jobs import morning, retention
from storage import scheduled, visits
from storage.db import Database
from storage.scheduled import ScheduledJob
from storage.timefmt import to_db

KIND = "housekeeping"
RUN_AT = time(3, 0)


def next_run(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), RUN_AT, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), RUN_AT, tzinfo=tz)
    return candidate


async def ensure_scheduled(db: Database, clock: Clock, tz: ZoneInfo) -> None:
    """At start-up: the next night's run exists (idempotent: one key a night)."""
    due = next_run(clock.now(), tz)
    await scheduled.schedule(
        db, kind=KIND, key=f"{KIND}:{due.date().isoformat()}", due_at=due, now=clock.now()
    )


async def run(job: ScheduledJob, *, db: Database, clock: Clock, settings: Settings) -> None:
    now = clock.now()
    async with db.transaction() as tx:
        await tx.execute(
            "DELETE FROM invitation_failures WHERE at < :cut",
            {"cut": to_db(now - timedelta(days=1))},
        )
        # Abandoned the night before (or by their agent) first, so that a draft left open
        # keeps its buttons saying « abandonnée » for a day before it is deleted.
        await visits.delete_abandoned_drafts(tx)
        # 24 runs of the morning job a day: a week of them is enough to look back on.
        await scheduled.purge_done(tx, morning.KIND, now - timedelta(days=7))
        await visits.abandon_stale_drafts(
            tx, now - timedelta(hours=settings.draft_max_age_hours), now
        )
    await retention.run(db, now, settings.retention_months)
    await ensure_scheduled(db, clock, settings.tz)
