"""One instance in charge (bot/jobs/leadership.py): the lease is taken, renewed, lost, taken
over and released; Telegram's overall cap is shared among the live instances
(bot/shared_rate.py). On both engines; the lease's deadlines run on the database's clock,
so the takeovers here use leases of a fraction of a second and wait them out for real.

The command line's refusal to poll beside another instance is in
tests/e2e/test_instances.py; the multi-process kill test is another file's."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application, prepare, stop_outbox
from bot.clock import ManualClock
from bot.jobs import leadership as leadership_job
from bot.jobs.leadership import LEASE_NAME, AnotherInstance, Leadership
from bot.sandbox.bot_api import FakeBotApi
from bot.shared_rate import SharedRateLimiter
from storage import lease
from storage.db import Database
from storage.postgres import PostgresDatabase
from tests.conftest import START, make_settings
from tests.postgres import engine_database, pg_cluster  # noqa: F401 - the session's cluster

LOGGER = "bot.jobs.leadership"


@pytest.fixture(params=["sqlite", "postgresql"])
async def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """One database for several instances of this process."""
    async with engine_database(request.param, tmp_path / "shared.sqlite3", request) as database:
        yield database


class Work:
    """What an instance runs while it leads: a flag, and the moments it changed."""

    def __init__(self) -> None:
        self.running = False
        self.changes: list[tuple[str, float]] = []

    async def take(self) -> None:
        self.running = True
        self.changes.append(("take", time.monotonic()))

    async def lose(self) -> None:
        self.running = False
        self.changes.append(("lose", time.monotonic()))


def instance(
    db: Database, name: str, *, seconds: float = 0.6, mode: str = "webhook"
) -> tuple[Leadership, Work]:
    work = Work()
    return (
        Leadership(
            db,
            name=name,
            mode=mode,
            lease_seconds=seconds,
            on_take=work.take,
            on_lose=work.lose,
            retry_seconds=0.05,
        ),
        work,
    )


async def until(condition: Any, within: float = 5.0) -> float:
    """Waits (real time) for `condition()`; returns how long it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


def kill(leader: Leadership) -> None:
    """The instance dies without a word: its loop stops, its lease and row stay."""
    assert leader._task is not None
    leader._task.cancel()


async def test_one_instance_leads_and_another_takes_over_when_it_dies(
    shared_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    a, work_a = instance(shared_db, "a")
    b, work_b = instance(shared_db, "b")
    await a.start()
    await b.start()
    assert a.leading and work_a.running, "alone, it leads before start() returns"
    assert not b.leading and not work_b.running
    await asyncio.sleep(1.0)  # several renewals: it keeps the lease, the other waits
    assert a.leading and not b.leading
    assert [c for c, _ in work_a.changes] == ["take"]
    kill(a)
    died = time.monotonic()
    await until(lambda: work_b.running)
    took = time.monotonic() - died
    assert 0.3 < took < 0.6 + 0.3, f"taken over after {took:.2f} s (lease 0.6 s)"
    found = await lease.holder(shared_db, LEASE_NAME)
    assert found is not None and found.name == "b"
    assert "Leadership taken by a" in caplog.text and "Leadership taken by b" in caplog.text
    await b.stop()


async def test_a_clean_stop_releases_the_lease_for_an_immediate_takeover(
    shared_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    a, work_a = instance(shared_db, "a", seconds=30)
    b, work_b = instance(shared_db, "b", seconds=30)
    await a.start()
    await b.start()
    await a.stop()
    assert not work_a.running and work_a.changes[-1][0] == "lose"
    assert "Leadership released by a" in caplog.text
    assert "Leadership lost" not in caplog.text
    await until(lambda: work_b.running, within=2)  # not the 30 s of the lease
    assert [i.name for i in await lease.instances(shared_db, within_seconds=60)] == ["b"]
    await b.stop()
    assert await lease.holder(shared_db, LEASE_NAME) is None
    assert await lease.instances(shared_db, within_seconds=60) == []


async def test_a_leader_that_finds_its_lease_taken_stops_its_work_at_once(
    shared_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    a, work_a = instance(shared_db, "a", seconds=0.9)
    await a.start()
    assert work_a.running
    # Frozen long enough (a paused VM) for its lease to pass to another.
    await shared_db.fetch_one(
        "UPDATE leases SET holder = 'b' WHERE name = :n RETURNING holder", {"n": LEASE_NAME}
    )
    waited = await until(lambda: not work_a.running)
    assert waited < 0.9 / 3 + 0.2
    assert "Leadership lost by a" in caplog.text
    await a.stop()


async def test_a_leader_cut_off_from_the_database_stops_before_its_lease_ends(
    shared_db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    a, work_a = instance(shared_db, "a", seconds=0.9)
    await a.start()
    renewed = time.monotonic()

    async def unreachable(*args: Any, **kwargs: Any) -> bool:
        raise OSError("connexion refusée")

    monkeypatch.setattr(lease, "renew", unreachable)
    await until(lambda: not work_a.running)
    stopped = time.monotonic() - renewed
    # Stopped by two thirds of the lease after the last renewal: before anyone may take it.
    assert stopped < 0.9, stopped
    assert "Leadership lost by a" in caplog.text
    monkeypatch.undo()
    await until(lambda: work_a.running)  # the database is back: it leads again
    await a.stop()


async def test_a_leader_killed_on_this_host_is_replaced_at_once(
    shared_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()  # a pid that no longer exists (reaped)
    await lease.heartbeat(
        shared_db, "killed", mode="webhook", host=leadership_job.HOST, pid=gone.pid
    )
    assert await lease.acquire(shared_db, LEASE_NAME, "killed", 60)
    b, work_b = instance(shared_db, "b", seconds=60)
    await b.start()
    if not leadership_job.HOST_KNOWN:
        pytest.skip("no /proc: only the deadline tells a dead leader")
    assert work_b.running, "not the 60 s of the dead one's lease"
    assert "killed arrêtée sans rendre la main" in caplog.text
    await b.stop()


async def test_polling_refuses_to_start_beside_a_live_instance(shared_db: Database) -> None:
    web, _ = instance(shared_db, "web-1", seconds=30)
    await web.start()
    other_web, _ = instance(shared_db, "web-0", seconds=30)
    await other_web.start()  # webhooks: as many as wanted
    assert web.leading and not other_web.leading
    await other_web.stop()
    poller, _ = instance(shared_db, "poller", seconds=30, mode="polling")
    with pytest.raises(AnotherInstance, match="« web-1 » \\(mode webhook\\)"):
        await poller.start()
    assert not poller.leading
    twin, _ = instance(shared_db, "web-1", seconds=30)
    # The same name in the same process is the same instance (a harness restarting its
    # bot); another process of that name is refused (tests/e2e/test_instances.py).
    await twin.start()
    await twin.stop()
    await web.stop()
    alone, _ = instance(shared_db, "poller", seconds=30, mode="polling")
    await alone.start()
    assert alone.leading
    late, _ = instance(shared_db, "web-2", seconds=30)
    with pytest.raises(AnotherInstance, match="« poller » tourne en long polling"):
        await late.start()  # a webhook would cut the poller off
    await alone.stop()


# ------------------------------------------------------------------------ the shared cap
async def test_the_send_cap_is_shared_by_the_live_instances(
    shared_db: Database, fake: FakeBotApi, tmp_path: Path
) -> None:
    apps = []
    for name in ("web-a", "web-b"):
        settings = make_settings(
            fake,
            tmp_path / "unused.sqlite3",
            instance_name=name,
            telegram_max_rate=30,
            lease_seconds=1.5,
        )
        app = build_application(settings, db=shared_db, clock=ManualClock(START))
        app.bot_data["mode"] = "webhook"
        await app.initialize()
        await prepare(app)
        apps.append(app)
    limiters = [app.bot.rate_limiter for app in apps]
    assert all(isinstance(limiter, SharedRateLimiter) for limiter in limiters)
    shares = [limiter for limiter in limiters if isinstance(limiter, SharedRateLimiter)]
    await until(lambda: all(limiter.rate == 15 for limiter in shares))
    # One of them leads: it alone has the outbox sender and the scheduler.
    assert sorted("outbox" in app.bot_data for app in apps) == [False, True]
    assert sorted("scheduler" in app.bot_data for app in apps) == [False, True]
    follower = next(app for app in apps if "outbox" not in app.bot_data)
    follower.bot_data["services"].wake_outbox()  # harmless where no sender runs
    leader = next(app for app in apps if "outbox" in app.bot_data)
    await stop_outbox(leader)
    await leader.shutdown()
    await until(lambda: "outbox" in follower.bot_data, within=3)  # released: taken at once
    await until(lambda: shares[apps.index(follower)].rate == 30, within=12)
    await stop_outbox(follower)
    await follower.shutdown()


async def test_a_share_of_the_cap_is_what_passes_in_a_second() -> None:
    limiter = SharedRateLimiter(100, max_retries=0)
    calls: list[float] = []

    async def call() -> bool:
        calls.append(time.monotonic())
        return True

    async def send(n: int) -> float:
        calls.clear()
        started = time.monotonic()
        await asyncio.gather(
            *(
                limiter.process_request(call, (), {}, "sendMessage", {"chat_id": i}, None)
                for i in range(n)
            )
        )
        return time.monotonic() - started

    assert await send(100) < 0.5  # alone: the whole cap at once
    limiter.share(2)
    assert limiter.rate == 50
    # PTB's own overall limiter, replaced (tests/test_telegram_max_rate.py reads it too).
    assert limiter._base_limiter is not None and limiter._base_limiter.max_rate == 50
    took = await send(100)  # half the cap: 50 at once, then 50 a second
    assert 0.8 < took < 1.6, took
    # Calls that name no chat are not counted, as in PTB's own limiter.
    limiter.share(4)
    await asyncio.gather(
        *(limiter.process_request(call, (), {}, "getMe", {}, None) for _ in range(100))
    )
    slow = SharedRateLimiter(0.5, max_retries=0)  # below one a second still works
    assert slow.rate == 0.5
    assert slow._base_limiter is not None and slow._base_limiter.time_period == 2


async def test_a_leader_keeps_its_lease_while_every_connection_of_the_bot_is_busy(
    shared_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Updates waiting for the writers' lock may hold every connection of the bot's pool
    for longer than the lease: the renewal has a connection of its own (PostgreSQL)."""
    if not isinstance(shared_db, PostgresDatabase):
        pytest.skip("SQLite's one connection is never held by a waiting update")
    caplog.set_level(logging.INFO, LOGGER)
    lease_db = await shared_db.for_background()
    a, work_a = instance(lease_db, "a", seconds=0.6)
    try:
        await a.start()
        assert a.leading
        held = [await shared_db.pool.acquire() for _ in range(shared_db.pool.get_max_size())]
        try:
            await asyncio.sleep(1.5)  # more than twice the lease
            assert a.leading and work_a.running
        finally:
            for conn in held:
                await shared_db.pool.release(conn)
        assert "Leadership lost" not in caplog.text
        await a.stop()
    finally:
        await lease_db.close()
