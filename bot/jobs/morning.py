"""The morning run of each Caf, at NOTIFY_HOUR in the Caf's zone each day, through the
scheduler: what people should read at work.

A Caf of La Réunion hears at 9 h in Saint-Denis, one of the mainland at 9 h in Paris. The job
runs every hour on the hour and does each Caf's last morning that came (today's from
NOTIFY_HOUR on, else yesterday's) if it is not done yet (the day is marked done in `kv`). One
hourly job rather than one a Caf: a Caf added while the bot runs is served without anything
to book, and a run late after a stop catches up at once on every Caf whose morning was missed,
as a single daily job did.

In order: the indicators' transmission (bot/jobs/transmission.py: periods to validate,
reminders, lateness), the conventions' renewal reminders (bot/jobs/renewal.py) and the
action plan's reminders (bot/jobs/action_reminders.py). Each writes its messages to the
outbox with keys that refuse a second row, so a run repeated after a crash sends nothing
twice. The next hour's run is booked first, so a failure retries this one and never loses
the next.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Settings
from bot.jobs import action_reminders, renewal, transmission
from storage import cafs, kv, scheduled
from storage.db import Database
from storage.scheduled import ScheduledJob

KIND = "morning"


def next_run(now: datetime) -> datetime:
    """The next full hour (UTC: every zone of France is a whole number of hours from it)."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def morning_due(now: datetime, zone: ZoneInfo, hour: int, done_on: str | None) -> date | None:
    """The Caf's local day whose morning is due now, or None (done already).

    The last morning that came is today's once the local hour has reached `hour`, else
    yesterday's; it is due until done, so a morning missed while the bot was stopped comes
    as soon as it is back, whatever the hour, as the single daily job used to."""
    local = now.astimezone(zone)
    last = local.date() if local.hour >= hour else local.date() - timedelta(days=1)
    if done_on is not None and date.fromisoformat(done_on) >= last:
        return None
    return last


async def ensure_scheduled(db: Database, clock: Clock, settings: Settings) -> None:
    """The next hourly run exists (idempotent: one key an hour)."""
    due = next_run(clock.now())
    await scheduled.schedule(
        db, kind=KIND, key=f"{KIND}:{due.strftime('%Y-%m-%dT%H')}", due_at=due, now=clock.now()
    )


async def run(job: ScheduledJob, *, db: Database, clock: Clock, settings: Settings) -> None:
    now = clock.now()
    await ensure_scheduled(db, clock, settings)
    for caf in await cafs.list_all(db):
        mark = f"{KIND}:{caf.id}"
        day = morning_due(now, caf.zone, settings.notify_hour, await kv.get(db, mark))
        if day is None:
            continue
        await transmission.run_transmission(db, now, caf_id=caf.id)
        await renewal.send_reminders(db, now, caf_id=caf.id)
        await action_reminders.send_reminders(db, now, caf_id=caf.id)
        # Marked once done: a failure above retries the whole morning, and the outbox's keys
        # keep what was already queued from going twice.
        await kv.put(db, mark, day.isoformat())
