"""Contract of storage/lease.py: a named lease one holder at a time, until its deadline by
the database's clock, and the instances' heartbeats. Both engines (tests/storage/conftest.py).

Deadlines run on the database's clock, which no test can move: the expiries here are a few
tens of milliseconds long, and the tests wait them out for real."""

from __future__ import annotations

import asyncio

from storage import lease
from storage.db import Database

LEASE = "leader"


async def test_one_holder_at_a_time_until_the_deadline(db: Database) -> None:
    assert await lease.acquire(db, LEASE, "a", 60)
    assert not await lease.acquire(db, LEASE, "b", 60)
    assert await lease.acquire(db, LEASE, "a", 60)  # its own: extended
    found = await lease.holder(db, LEASE)
    assert found is not None and found.name == "a"
    assert 59_000 < found.deadline_in_ms <= 60_000
    assert await lease.renew(db, LEASE, "a", 60)
    assert not await lease.renew(db, LEASE, "b", 60)


async def test_an_expired_lease_passes_to_the_next_and_the_old_holder_cannot_renew(
    db: Database,
) -> None:
    assert await lease.acquire(db, LEASE, "a", 0.05)
    await asyncio.sleep(0.1)
    found = await lease.holder(db, LEASE)
    assert found is not None and found.deadline_in_ms <= 0
    assert await lease.acquire(db, LEASE, "b", 60)
    assert not await lease.renew(db, LEASE, "a", 60)
    holder = await lease.holder(db, LEASE)
    assert holder is not None and holder.name == "b"


async def test_a_released_lease_is_free_at_once_and_only_its_holder_releases_it(
    db: Database,
) -> None:
    assert await lease.acquire(db, LEASE, "a", 60)
    assert not await lease.release(db, LEASE, "b")
    assert await lease.release(db, LEASE, "a")
    assert await lease.holder(db, LEASE) is None
    assert await lease.acquire(db, LEASE, "b", 60)
    assert not await lease.renew(db, LEASE, "a", 60)


async def test_a_holder_known_dead_is_replaced_before_its_deadline(db: Database) -> None:
    assert await lease.acquire(db, LEASE, "a", 60)
    assert not await lease.acquire(db, LEASE, "b", 60, replacing="c")
    assert await lease.acquire(db, LEASE, "b", 60, replacing="a")
    holder = await lease.holder(db, LEASE)
    assert holder is not None and holder.name == "b"


async def test_leases_are_independent_by_name(db: Database) -> None:
    assert await lease.acquire(db, "one", "a", 60)
    assert await lease.acquire(db, "two", "b", 60)
    assert not await lease.acquire(db, "one", "b", 60)


async def test_many_concurrent_takers_get_one_holder(db: Database) -> None:
    won = await asyncio.gather(*(lease.acquire(db, LEASE, f"i{n}", 60) for n in range(8)))
    assert sum(won) == 1


async def test_heartbeats_tell_the_live_instances(db: Database) -> None:
    await lease.heartbeat(db, "web-1", mode="webhook", host="h", pid=10)
    await lease.heartbeat(db, "web-2", mode="webhook", host="h", pid=11)
    live = await lease.instances(db, within_seconds=60)
    assert [(i.name, i.mode, i.pid) for i in live] == [
        ("web-1", "webhook", 10),
        ("web-2", "webhook", 11),
    ]
    assert all(0 <= i.age_ms < 60_000 and i.started_at == i.heartbeat_at for i in live)
    await asyncio.sleep(0.1)
    await lease.heartbeat(db, "web-1", mode="polling", host="h2", pid=12)
    recent = await lease.instances(db, within_seconds=0.05)
    assert [(i.name, i.mode, i.host, i.pid) for i in recent] == [("web-1", "polling", "h2", 12)]
    assert recent[0].heartbeat_at > recent[0].started_at  # a heartbeat keeps the start
    assert await lease.forget_silent(db, for_seconds=0.05) == 1  # web-2
    assert await lease.forget(db, "web-1")
    assert not await lease.forget(db, "web-1")
    assert await lease.instances(db, within_seconds=60) == []
