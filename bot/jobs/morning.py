"""The morning run, at NOTIFY_HOUR (local) each day, through the scheduler: what people
should read at work.

In order: the indicators' transmission (bot/jobs/transmission.py: periods to validate,
reminders, lateness), the conventions' renewal reminders (bot/jobs/renewal.py) and the
action plan's reminders (bot/jobs/action_reminders.py). Each writes its messages to the
outbox with keys that refuse a second row, so a run repeated after a crash sends nothing
twice. The next morning's run is booked first, so a failure retries this one and never
loses tomorrow's.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Settings
from bot.jobs import action_reminders, renewal, transmission
from storage import scheduled
from storage.db import Database
from storage.scheduled import ScheduledJob

KIND = "morning"


def next_run(now: datetime, tz: ZoneInfo, hour: int) -> datetime:
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), time(hour), tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=tz)
    return candidate


async def ensure_scheduled(db: Database, clock: Clock, settings: Settings) -> None:
    """The next morning's run exists (idempotent: one key a day)."""
    due = next_run(clock.now(), settings.tz, settings.notify_hour)
    await scheduled.schedule(
        db, kind=KIND, key=f"{KIND}:{due.date().isoformat()}", due_at=due, now=clock.now()
    )


async def run(job: ScheduledJob, *, db: Database, clock: Clock, settings: Settings) -> None:
    now = clock.now()
    await ensure_scheduled(db, clock, settings)
    # Booked first: a failure below retries this run and never loses tomorrow's.
    await transmission.run_transmission(db, now)
    await renewal.send_reminders(db, now)
    await action_reminders.send_reminders(db, now)
