"""An event's reminders, run by the scheduler when each falls due (bot/app.py registers it).

Publishing an event (bot/services/events.py `publish`) books its reminders as scheduled
work, each at the morning hour (`NOTIFY_HOUR`) of its day in the event's Caf's zone: the
participants 7 days and the day before, those who have not answered 2 days before the
answer deadline. The text shows the event's hours in its Caf's zone too. A cancelled
event's are cancelled with it; one found cancelled or gone when due sends nothing. The
outbox's keys (one per event, reminder and person) refuse a second row, so a run repeated
after a crash sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.services import events
from storage.db import Database
from storage.scheduled import ScheduledJob

KIND = events.REMINDER_KIND


async def run(job: ScheduledJob, *, db: Database, wake: Callable[[], None]) -> None:
    await events.send_reminder(
        db, int(job.payload["event"]), str(job.payload["reminder"]), job.due_at
    )
    wake()
