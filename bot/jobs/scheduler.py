"""Runs scheduled work (storage/scheduled.py) when it falls due, from one periodic PTB job.

Why one periodic job rather than one PTB job per reminder: PTB's job queue is in memory,
so its jobs vanish on restart; the due rows in the database do not. The periodic job only
asks the database "what is due by the clock's now?", so a restarted bot rebuilds everything
from the database, and tests move time with a `ManualClock` and call `run_due` directly.

Guarantees: a row is claimed (pending → running) in one `BEGIN IMMEDIATE` transaction, so
two `run_due` at the same instant never run a job twice. But a crash between the handler's
effect and `finish` runs the job again after restart (`recover_running`): delivery is at
least once, and handlers must be idempotent — e.g. write their effect with a unique key
(the outbox row per recipient, a UNIQUE constraint) or check whether it is already done.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram.error import TelegramError

from bot.clock import Clock
from bot.context import BotApp
from storage import scheduled
from storage.db import Database
from storage.scheduled import ScheduledJob

log = logging.getLogger(__name__)

Handler = Callable[[ScheduledJob], Awaitable[None]]

JOB_NAME = "scheduled-jobs"


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help (the job is failed at once).

    Its message is stored as the job's last error: keep user data out of it.
    """


class Scheduler:
    """Claims due rows by the injected clock and runs each one's handler, by kind.

    A handler that raises is retried `retry_delay × attempts` later (1 min, 2 min, …) until
    it has failed `max_attempts` times; then the row is 'failed' and stays for inspection.
    A handler that runs longer than `handler_timeout` seconds counts as failed, so a hung
    call cannot stall every other reminder. Exceptions are logged by type and place only:
    their message may quote the payload or user text, which never goes to the logs.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        batch_size: int = 100,
        max_attempts: int = 5,
        retry_delay: timedelta = timedelta(minutes=1),
        handler_timeout: float | None = 120.0,
    ) -> None:
        if batch_size < 1 or max_attempts < 1:
            raise ValueError("batch_size and max_attempts must be at least 1")
        self.db = db
        self.clock = clock
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.handler_timeout = handler_timeout
        self._handlers: dict[str, Handler] = {}
        self._tick_lock = asyncio.Lock()

    def register(self, kind: str, handler: Handler) -> None:
        """Declares who runs the rows of `kind`; once per kind, before the first tick."""
        if kind in self._handlers:
            raise ValueError(f"a handler is already registered for {kind!r}")
        self._handlers[kind] = handler

    async def run_due(self) -> int:
        """Runs every job due by now, batch after batch; returns how many handlers ran.

        Jobs retried by this very call are due later (now + retry_delay), so it ends.
        """
        ran = 0
        while True:
            jobs = await scheduled.claim_due(self.db, self.clock.now(), self.batch_size)
            for job in jobs:
                ran += await self._run_one(job)
            if len(jobs) < self.batch_size:
                return ran

    async def _run_one(self, job: ScheduledJob) -> int:
        handler = self._handlers.get(job.kind)
        if handler is None:
            log.error("Tâche planifiée #%d : aucun gestionnaire pour %r", job.id, job.kind)
            await scheduled.fail(
                self.db, job.id, f"unknown kind {job.kind!r}", self.clock.now(), None
            )
            return 0
        try:
            if self.handler_timeout is None:
                await handler(job)
            else:
                await asyncio.wait_for(handler(job), timeout=self.handler_timeout)
        except asyncio.CancelledError:
            # Shutting down mid-job: the row stays 'running' and start-up recovers it.
            raise
        except Exception as exc:
            await self._failed(job, exc)
        else:
            await scheduled.finish(self.db, job.id, self.clock.now())
        return 1

    async def _failed(self, job: ScheduledJob, exc: Exception) -> None:
        error = describe(exc)
        attempts = job.attempts + 1
        now = self.clock.now()
        retry_at = None
        if attempts < self.max_attempts and not isinstance(exc, PermanentJobError):
            retry_at = now + self.retry_delay * attempts
        if retry_at is None:
            log.error(
                "Tâche planifiée #%d (%s) abandonnée après %d essai(s) : %s",
                job.id,
                job.kind,
                attempts,
                error,
            )
        else:
            log.warning(
                "Tâche planifiée #%d (%s) en échec (essai %d/%d), reprise à %s : %s",
                job.id,
                job.kind,
                attempts,
                self.max_attempts,
                retry_at.isoformat(timespec="seconds"),
                error,
            )
        await scheduled.fail(self.db, job.id, error, now, retry_at)

    async def recover(self) -> int:
        """Start-up: rows a crashed process left 'running' become pending again."""
        count = await scheduled.recover_running(self.db, self.clock.now())
        if count:
            log.warning("%d tâche(s) planifiée(s) interrompue(s) reprise(s)", count)
        return count

    async def attach(
        self,
        application: BotApp,
        interval_seconds: float = 5.0,
    ) -> None:
        """Recovers interrupted rows, then runs `run_due` every `interval_seconds` via PTB.

        Call once at start-up, with the database open and before the first tick (e.g. from
        `post_init`). Calling it again replaces the periodic job rather than adding one.
        """
        job_queue = application.job_queue
        if job_queue is None:
            raise RuntimeError("PTB's job queue is missing: install python-telegram-bot[job-queue]")
        await self.recover()
        for old in job_queue.get_jobs_by_name(JOB_NAME):
            old.schedule_removal()
        job_queue.run_repeating(
            self._tick,
            interval=interval_seconds,
            first=0,
            name=JOB_NAME,
            # A late tick still runs (once); an overlapping one returns at once (_tick).
            job_kwargs={"coalesce": True, "misfire_grace_time": None, "max_instances": 2},
        )

    async def _tick(self, context: Any) -> None:
        """The periodic job; skips quietly while the previous tick is still working."""
        if self._tick_lock.locked():
            return
        async with self._tick_lock:
            await self.run_due()


def describe(exc: BaseException) -> str:
    """The exception's type and where it was raised, without its message.

    Messages may quote the payload or user text (pydantic quotes input values), so only
    Telegram's own error messages, which never do, are kept.
    """
    name = type(exc).__qualname__
    if isinstance(exc, TelegramError | PermanentJobError):
        name = f"{name}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        name += f" at {Path(last.filename).name}:{last.lineno} in {last.name}"
    return name
