"""New hours' first day, run by the scheduler when it falls due (bot/app.py registers it).

Declaring hours for a later day (bot/services/hours.py `declare`) books one row per
declaration, at the morning hour (`NOTIFY_HOUR`) of that day in the Caf's zone. The Caf's
coordinators (and its group) and the site's people are then told « Les nouveaux horaires
de … s'appliquent à partir d'aujourd'hui ». Hours replaced before that day send nothing;
the outbox's keys (one per declaration and person) refuse a second row, so a run repeated
after a crash sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.services import hours
from storage.db import Database
from storage.scheduled import ScheduledJob

KIND = hours.IN_EFFECT_KIND


async def run(job: ScheduledJob, *, db: Database, wake: Callable[[], None]) -> None:
    if await hours.tell_in_effect(db, int(job.payload["declaration"]), job.due_at):
        wake()
