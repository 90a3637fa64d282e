"""Scheduled broadcasts: a programmed announcement leaves when it falls due.

The coordinator's « 🗓 Programmer » (bot/services/broadcasts.py `schedule`) arms the
broadcast's one due row (`send_job_key`), at an instant chosen in the coordinator's Caf's
zone and stored in UTC; cancelling the programming cancels that row, programming again
re-arms it. The scheduler (bot/jobs/scheduler.py), registered by bot/app.py, runs `run` when
it is due. The scheduler may run a job twice (after a crash): the service sends only an
announcement still programmed, so the second run does nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.clock import Clock
from bot.services import broadcasts
from storage.db import Database
from storage.scheduled import ScheduledJob

KIND = broadcasts.SEND_KIND


async def run(job: ScheduledJob, *, db: Database, clock: Clock, wake: Callable[[], None]) -> None:
    """The scheduler's handler: the announcement leaves now (once), and the outbox wakes."""
    if await broadcasts.send_due(db, int(job.payload["announcement"]), clock.now()):
        wake()
