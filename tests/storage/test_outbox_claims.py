"""Outbox claims on PostgreSQL by several processes: two senders never claim the same row
(storage/outbox.py `claim_batch`, `FOR UPDATE SKIP LOCKED`), even without the lease.

PostgreSQL only: SQLite has one writer at a time, and one process sends."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.clock import ManualClock
from storage import outbox
from storage.db import Database
from storage.outbox import OutboxItem
from storage.postgres import PostgresDatabase


@pytest.fixture(autouse=True)
def postgres_only(engine: str) -> None:
    if engine != "postgresql":
        pytest.skip("claims by several processes: PostgreSQL only")


async def fill(db: Database, clock: ManualClock, chats: int) -> None:
    items = [
        OutboxItem(kind="broadcast", dedup_key=f"b:{chat}", chat_id=chat, text="x")
        for chat in range(1, chats + 1)
    ]
    async with db.transaction() as tx:
        await outbox.enqueue_many(tx, items, now=clock.now())


async def test_two_concurrent_claimers_get_disjoint_rows(db: Database, clock: ManualClock) -> None:
    await fill(db, clock, 300)
    assert isinstance(db, PostgresDatabase)
    other = PostgresDatabase(db.url)  # a second process's pool
    await other.open(migrate=False)
    try:
        claimed: list[list[int]] = [[], []]

        async def claimer(conn: Database, into: list[int]) -> None:
            while batch := await outbox.claim_batch(conn, clock.now(), 7):
                into.extend(row.id for row in batch)

        await asyncio.gather(claimer(db, claimed[0]), claimer(other, claimed[1]))
    finally:
        await other.close()
    assert claimed[0] and claimed[1], "both claimers took part"
    assert not set(claimed[0]) & set(claimed[1])
    assert len(claimed[0]) + len(claimed[1]) == 300


async def test_a_row_locked_by_another_claimer_is_skipped_not_waited_for(
    db: Database, clock: ManualClock
) -> None:
    await fill(db, clock, 3)
    assert isinstance(db, PostgresDatabase)
    raw = await asyncpg.connect(db.url)
    try:
        async with raw.transaction():
            # Another claimer, mid-transaction, holds the oldest row.
            first = await raw.fetchval("SELECT MIN(id) FROM outbox")
            await raw.execute("SELECT id FROM outbox WHERE id = $1 FOR UPDATE", first)
            batch = await asyncio.wait_for(outbox.claim_batch(db, clock.now(), 10), 5)
    finally:
        await raw.close()
    assert sorted(row.id for row in batch) == [first + 1, first + 2]
    again = await outbox.claim_batch(db, clock.now(), 10)
    assert [row.id for row in again] == [first]
