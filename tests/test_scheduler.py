"""Scheduled work: due rows in a real SQLite file, run by `Scheduler` as the clock moves.

Time is a `ManualClock`: nothing here sleeps to wait for a due time. Only the PTB tests
wait (a few 50 ms ticks of the real job queue) for the periodic job to fire.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from telegram.ext import Application, ApplicationBuilder

from bot.clock import ManualClock
from bot.jobs.scheduler import PermanentJobError, Scheduler
from bot.sandbox.bot_api import TOKEN, FakeBotApi
from storage import scheduled
from storage.db import Database
from storage.scheduled import ScheduledJob
from storage.setup import open_storage

KIND = "reminder"


class Recorder:
    """A handler that remembers the keys it ran, optionally failing first."""

    def __init__(self, failures: int = 0, exc: Exception | None = None) -> None:
        self.ran: list[str] = []
        self.payloads: list[dict[str, object]] = []
        self.failures = failures
        self.exc = exc or ValueError("secret payload text 06 12 34 56 78")

    async def __call__(self, job: ScheduledJob) -> None:
        await asyncio.sleep(0)  # let a concurrent run_due interleave
        self.ran.append(job.key)
        self.payloads.append(job.payload)
        if self.failures:
            self.failures -= 1
            raise self.exc


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def scheduler(db: Database, clock: ManualClock, recorder: Recorder) -> Scheduler:
    s = Scheduler(db, clock, max_attempts=3)
    s.register(KIND, recorder)
    return s


async def add(
    db: Database, clock: ManualClock, key: str, in_: timedelta = timedelta(0), kind: str = KIND
) -> bool:
    return await scheduled.schedule(
        db, kind=kind, key=key, due_at=clock.now() + in_, payload={"n": 1}, now=clock.now()
    )


async def status(db: Database, key: str) -> str:
    job = await scheduled.get(db, key)
    assert job is not None
    return job.status


# ------------------------------------------------------------------------------ due times
async def test_runs_once_when_due(
    db: Database, clock: ManualClock, scheduler: Scheduler, recorder: Recorder
) -> None:
    assert await add(db, clock, "r:1", timedelta(hours=1))
    assert await scheduler.run_due() == 0
    assert recorder.ran == []

    clock.advance(minutes=59, seconds=59)
    assert await scheduler.run_due() == 0
    clock.advance(seconds=1)
    assert await scheduler.run_due() == 1
    assert await scheduler.run_due() == 0
    clock.advance(days=1)
    assert await scheduler.run_due() == 0

    assert recorder.ran == ["r:1"]
    assert recorder.payloads == [{"n": 1}]
    job = await scheduled.get(db, "r:1")
    assert job is not None
    assert (job.status, job.attempts, job.done_at) == ("done", 0, clock.now() - timedelta(days=1))


async def test_concurrent_run_due_never_runs_a_job_twice(
    db: Database, clock: ManualClock, scheduler: Scheduler, recorder: Recorder
) -> None:
    for i in range(5):
        await add(db, clock, f"r:{i}")
    counts = await asyncio.gather(scheduler.run_due(), scheduler.run_due(), scheduler.run_due())
    assert sum(counts) == 5
    assert sorted(recorder.ran) == [f"r:{i}" for i in range(5)]


async def test_batches_until_nothing_is_due(db: Database, clock: ManualClock) -> None:
    recorder = Recorder()
    s = Scheduler(db, clock, batch_size=2)
    s.register(KIND, recorder)
    for i in range(5):
        await add(db, clock, f"r:{i}", timedelta(seconds=i))
    await add(db, clock, "later", timedelta(minutes=1))
    clock.advance(seconds=10)
    assert await s.run_due() == 5
    assert recorder.ran == [f"r:{i}" for i in range(5)]  # soonest first


# ------------------------------------------------------------------------------ scheduling
async def test_scheduling_a_key_twice_keeps_one_row(
    db: Database, clock: ManualClock, scheduler: Scheduler, recorder: Recorder
) -> None:
    assert await add(db, clock, "r:1", timedelta(hours=1))
    assert not await add(db, clock, "r:1", timedelta(minutes=5))
    assert await db.fetch_value("SELECT COUNT(*) FROM scheduled_jobs") == 1
    [job] = await scheduled.pending(db)
    assert job.due_at == clock.now() + timedelta(hours=1)  # the first schedule wins

    clock.advance(hours=1)
    assert await scheduler.run_due() == 1
    assert not await add(db, clock, "r:1")  # a key is for ever: done work is not redone
    clock.advance(hours=1)
    assert await scheduler.run_due() == 0
    assert recorder.ran == ["r:1"]


async def test_reschedule_moves_pending_work_only(
    db: Database, clock: ManualClock, scheduler: Scheduler, recorder: Recorder
) -> None:
    now = clock.now()
    assert await scheduled.reschedule(
        db, kind=KIND, key="r:new", due_at=now + timedelta(hours=2), now=now
    )
    await add(db, clock, "r:1", timedelta(hours=1))
    assert await scheduled.reschedule(
        db, kind=KIND, key="r:1", due_at=now + timedelta(minutes=10), now=now
    )
    assert [job.key for job in await scheduled.pending(db, KIND)] == ["r:1", "r:new"]
    assert await scheduled.pending(db, "other") == []

    clock.advance(minutes=10)
    assert await scheduler.run_due() == 1
    assert recorder.ran == ["r:1"]
    # Done work is not revived by a reschedule.
    assert not await scheduled.reschedule(
        db, kind=KIND, key="r:1", due_at=clock.now(), now=clock.now()
    )
    assert await scheduler.run_due() == 0
    clock.advance(hours=2)
    assert await scheduler.run_due() == 1
    assert recorder.ran == ["r:1", "r:new"]


async def test_cancel_prevents_running(
    db: Database, clock: ManualClock, scheduler: Scheduler, recorder: Recorder
) -> None:
    await add(db, clock, "r:1", timedelta(hours=1))
    assert await scheduled.cancel(db, "r:1", clock.now())
    assert not await scheduled.cancel(db, "r:1", clock.now())
    assert not await scheduled.cancel(db, "r:unknown", clock.now())
    assert not await scheduled.reschedule(
        db, kind=KIND, key="r:1", due_at=clock.now(), now=clock.now()
    )
    clock.advance(hours=2)
    assert await scheduler.run_due() == 0
    assert recorder.ran == []
    assert await status(db, "r:1") == "cancelled"


# ------------------------------------------------------------------------------ failures
async def test_failing_handler_is_retried_with_backoff_then_failed(
    db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(failures=99)
    s = Scheduler(db, clock, max_attempts=3, retry_delay=timedelta(minutes=1))
    s.register(KIND, recorder)
    await add(db, clock, "r:1")

    with caplog.at_level(logging.DEBUG):
        assert await s.run_due() == 1  # attempt 1 fails: retry in 1 min
        assert await s.run_due() == 0
        clock.advance(seconds=59)
        assert await s.run_due() == 0
        clock.advance(seconds=1)
        assert await s.run_due() == 1  # attempt 2 fails: retry in 2 min
        clock.advance(minutes=1)
        assert await s.run_due() == 0
        clock.advance(minutes=1)
        assert await s.run_due() == 1  # attempt 3 fails: that was the last
        clock.advance(days=1)
        assert await s.run_due() == 0

    assert len(recorder.ran) == 3
    job = await scheduled.get(db, "r:1")
    assert job is not None
    assert (job.status, job.attempts) == ("failed", 3)
    assert job.last_error is not None and job.last_error.startswith("ValueError at ")
    assert "secret" not in job.last_error
    assert "06 12" not in caplog.text and "secret" not in caplog.text
    assert "ValueError" in caplog.text


async def test_a_retry_that_succeeds_is_done(db: Database, clock: ManualClock) -> None:
    recorder = Recorder(failures=1)
    s = Scheduler(db, clock)
    s.register(KIND, recorder)
    await add(db, clock, "r:1")
    assert await s.run_due() == 1
    assert await status(db, "r:1") == "pending"
    clock.advance(minutes=1)
    assert await s.run_due() == 1
    assert await status(db, "r:1") == "done"
    assert recorder.ran == ["r:1", "r:1"]


async def test_permanent_error_fails_at_once(db: Database, clock: ManualClock) -> None:
    recorder = Recorder(failures=1, exc=PermanentJobError("site withdrawn"))
    s = Scheduler(db, clock, max_attempts=5)
    s.register(KIND, recorder)
    await add(db, clock, "r:1")
    assert await s.run_due() == 1
    job = await scheduled.get(db, "r:1")
    assert job is not None
    assert (job.status, job.attempts) == ("failed", 1)
    assert job.last_error is not None and "site withdrawn" in job.last_error


async def test_hung_handler_times_out_and_is_retried(db: Database, clock: ManualClock) -> None:
    async def hang(job: ScheduledJob) -> None:
        await asyncio.sleep(10)

    s = Scheduler(db, clock, handler_timeout=0.05)
    s.register(KIND, hang)
    await add(db, clock, "r:1")
    assert await s.run_due() == 1
    job = await scheduled.get(db, "r:1")
    assert job is not None
    assert (job.status, job.attempts) == ("pending", 1)
    assert job.last_error is not None and job.last_error.startswith("TimeoutError")


async def test_unknown_kind_is_failed(
    db: Database, clock: ManualClock, scheduler: Scheduler, recorder: Recorder
) -> None:
    await add(db, clock, "m:1", kind="mystery")
    await add(db, clock, "r:1")
    assert await scheduler.run_due() == 1
    job = await scheduled.get(db, "m:1")
    assert job is not None
    assert job.status == "failed"
    assert job.last_error == "unknown kind 'mystery'"
    assert recorder.ran == ["r:1"]


def test_register_twice_is_refused(db: Database, clock: ManualClock) -> None:
    s = Scheduler(db, clock)
    s.register(KIND, Recorder())
    with pytest.raises(ValueError):
        s.register(KIND, Recorder())


# ------------------------------------------------------------------------------ crashes
async def test_running_rows_are_recovered_after_a_crash(
    db: Database, db_path: Path, clock: ManualClock
) -> None:
    await add(db, clock, "r:1")
    [claimed] = await scheduled.claim_due(db, clock.now(), 10)  # then the process "dies"
    assert claimed.status == "running"

    restarted = await open_storage(db_path)
    try:
        recorder = Recorder()
        s = Scheduler(restarted, clock)
        s.register(KIND, recorder)
        assert await s.run_due() == 0  # still 'running': not claimable
        assert await s.recover() == 1
        assert await s.run_due() == 1
        assert await s.run_due() == 0
        assert await s.recover() == 0
        assert recorder.ran == ["r:1"]
        assert await status(restarted, "r:1") == "done"
    finally:
        await restarted.close()


# ------------------------------------------------------------------------------ PTB
@pytest.fixture
async def make_app(fake: FakeBotApi) -> AsyncIterator[Callable[[], Application]]:  # type: ignore[type-arg]
    """Builds started Applications against the fake Bot API; stops them at teardown."""
    apps: list[Application] = []  # type: ignore[type-arg]

    def build() -> Application:  # type: ignore[type-arg]
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        apps.append(app)
        return app

    yield build
    for app in apps:
        await stop(app)


async def stop(app: Application) -> None:  # type: ignore[type-arg]
    if app.running:
        await app.stop()
    await app.shutdown()


class Runs:
    """The keys the periodic job ran, and a way to wait for the next ones."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._changed = asyncio.Event()

    async def handler(self, job: ScheduledJob) -> None:
        self.keys.append(job.key)
        self._changed.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.keys) < count:
                self._changed.clear()
                await self._changed.wait()


async def test_attach_fires_jobs_across_a_restart(
    make_app: Callable[[], Application],  # type: ignore[type-arg]
    db_path: Path,
    clock: ManualClock,
) -> None:
    first_db = await open_storage(db_path)
    runs = Runs()
    try:
        await add(first_db, clock, "r:now")
        await add(first_db, clock, "r:later", timedelta(hours=1))
        app = make_app()
        await app.initialize()
        await app.start()
        first = Scheduler(first_db, clock)
        first.register(KIND, runs.handler)
        await first.attach(app, interval_seconds=0.05)
        await first.attach(app, interval_seconds=0.05)  # again: still one periodic job
        assert app.job_queue is not None
        assert len(app.job_queue.jobs()) == 1
        await runs.wait_for(1)
        await asyncio.sleep(0.15)  # a few more ticks: the later one is not due
        assert runs.keys == ["r:now"]
        await stop(app)
        # The process dies while running a job scheduled meanwhile.
        await add(first_db, clock, "r:crashed")
        assert [job.key for job in await scheduled.claim_due(first_db, clock.now(), 10)] == [
            "r:crashed"
        ]
    finally:
        await first_db.close()

    clock.advance(hours=2)
    second_db = await open_storage(db_path)
    try:
        app = make_app()
        await app.initialize()
        await app.start()
        second = Scheduler(second_db, clock)
        second.register(KIND, runs.handler)
        await second.attach(app, interval_seconds=0.05)
        await runs.wait_for(3)
        for _ in range(1000):  # each job is marked done once its handler has returned
            if not await scheduled.pending(second_db):
                break
            await asyncio.sleep(0.01)
        await stop(app)
        assert sorted(runs.keys) == ["r:crashed", "r:later", "r:now"]
        assert await scheduled.pending(second_db) == []
        assert (
            await second_db.fetch_value("SELECT COUNT(*) FROM scheduled_jobs WHERE status = 'done'")
            == 3
        )
    finally:
        await second_db.close()
