"""A notice of termination taking effect, run by the scheduler on its date (bot/app.py
registers it).

Recording a notice (bot/services/termination.py `record`) books one row keyed per notice,
at the Caf's morning hour (`NOTIFY_HOUR`) of the effective date in the Caf's zone;
withdrawing it cancels that row. The use case does nothing for a notice withdrawn or already
taken effect, so a run repeated after a crash changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.services import termination
from storage.db import Database
from storage.scheduled import ScheduledJob

KIND = termination.KIND


async def run(job: ScheduledJob, *, db: Database, wake: Callable[[], None]) -> None:
    if await termination.take_effect(db, int(job.payload["termination"]), job.due_at):
        wake()
