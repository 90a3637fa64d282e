"""The notice of the new agents who joined together: one message to the Caf for a batch.

Each agent's arrival holds their training need (bot/services/signal_notices.py
`hold_new_agent`) and arms or pushes back one due row of kind `KIND` per batch; when it falls
due, the scheduler (registered by bot/app.py) runs `run`. A second run (after a crash) finds
nothing held any more and sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.clock import Clock
from bot.services import signal_notices
from storage.db import Database
from storage.scheduled import ScheduledJob

KIND = signal_notices.NEW_AGENTS_KIND


async def run(job: ScheduledJob, *, db: Database, clock: Clock, wake: Callable[[], None]) -> None:
    """The scheduler's handler: the Caf hears of its new agents now (once); the outbox wakes."""
    if await signal_notices.announce_new_agents(db, int(job.payload["caf"]), clock.now()):
        wake()
