"""Contract of storage/outbox.py: the durable queue of messages, through its functions only.

Written against the repository's public functions so that another engine behind them must
pass the same tests: exactly one row per key, claims that never hand a row out twice, one
message in flight per chat, and every outcome written back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from storage import outbox
from storage.db import Database
from storage.outbox import OutboxItem, OutboxStatus


async def enqueue(
    db: Database, clock: ManualClock, key: str, chat_id: int, text: str = "a"
) -> bool:
    async with db.transaction() as tx:
        return await outbox.enqueue(
            tx, kind="notice", dedup_key=key, chat_id=chat_id, text=text, now=clock.now()
        )


async def test_a_key_is_enqueued_once_alone_or_in_a_batch(db: Database, clock: ManualClock) -> None:
    now = clock.now()
    async with db.transaction() as tx:
        first = await outbox.enqueue(tx, kind="n", dedup_key="k:5", chat_id=5, text="a", now=now)
        again = await outbox.enqueue(tx, kind="n", dedup_key="k:5", chat_id=5, text="b", now=now)
        many = await outbox.enqueue_many(
            tx,
            [
                OutboxItem(kind="broadcast", dedup_key="k:5", chat_id=5, text="c"),
                OutboxItem(kind="broadcast", dedup_key="b:6", chat_id=6, text="d"),
                OutboxItem(kind="broadcast", dedup_key="b:7", chat_id=7, text="e"),
            ],
            now,
        )
        none = await outbox.enqueue_many(tx, [], now)
    assert (first, again, many, none) == (True, False, 2, 0)
    counts = await outbox.counts(db)
    assert counts[OutboxStatus.PENDING] == 3
    assert (await outbox.counts(db, kind="broadcast"))[OutboxStatus.PENDING] == 2
    assert set(counts) == set(OutboxStatus)  # every status is counted, zero or not


async def test_a_message_rolls_back_with_the_fact_it_announces(
    db: Database, clock: ManualClock
) -> None:
    class Refused(Exception):
        pass

    with pytest.raises(Refused):
        async with db.transaction() as tx:
            await outbox.enqueue(tx, kind="n", dedup_key="k", chat_id=5, text="a", now=clock.now())
            raise Refused
    assert (await outbox.counts(db))[OutboxStatus.PENDING] == 0
    assert await enqueue(db, clock, "k", 5)  # the key is free again


async def test_a_claim_takes_each_chat_s_oldest_due_row_once(
    db: Database, clock: ManualClock
) -> None:
    for key, chat in [("a1", 1), ("a2", 1), ("b1", 2), ("c1", 3)]:
        await enqueue(db, clock, key, chat, text=key)

    first = await outbox.claim_batch(db, clock.now(), 10)
    assert [(m.chat_id, m.text) for m in first] == [(1, "a1"), (2, "b1"), (3, "c1")]
    assert all(m.status is OutboxStatus.SENDING for m in first)
    # Chat 1's second message waits for its first: one in flight per chat.
    assert await outbox.claim_batch(db, clock.now(), 10) == []
    assert await outbox.due_chats(db, clock.now(), [1, 2, 3]) == set()

    assert await outbox.mark_sent(db, first[0].id, 501, clock.now())
    assert not await outbox.mark_sent(db, first[0].id, 502, clock.now())  # once
    second = await outbox.claim_batch(db, clock.now(), 10)
    assert [m.text for m in second] == ["a2"]
    sent = await outbox.get(db, first[0].id)
    assert sent is not None
    assert (sent.status, sent.telegram_message_id, sent.sent_at) == (
        OutboxStatus.SENT,
        501,
        clock.now(),
    )


async def test_a_claim_leaves_out_the_chats_being_paced_and_respects_its_limit(
    db: Database, clock: ManualClock
) -> None:
    for chat in (1, 2, 3, 4):
        await enqueue(db, clock, f"k{chat}", chat)
    assert await outbox.due_chats(db, clock.now(), [2, 9]) == {2}
    claimed = await outbox.claim_batch(db, clock.now(), 2, exclude_chat_ids=[1])
    assert [m.chat_id for m in claimed] == [2, 3]
    assert await outbox.due_chats(db, clock.now(), []) == set()


async def test_a_retry_waits_its_turn_and_counts_an_attempt_a_release_does_not(
    db: Database, clock: ManualClock
) -> None:
    await enqueue(db, clock, "k", 5)
    [row] = await outbox.claim_batch(db, clock.now(), 10)
    later = clock.now() + timedelta(seconds=30)
    assert await outbox.mark_retry(db, row.id, "NetworkError", later, clock.now())
    assert await outbox.claim_batch(db, clock.now(), 10) == []  # not before its time
    clock.advance(seconds=30)
    [again] = await outbox.claim_batch(db, clock.now(), 10)
    assert (again.id, again.attempts, again.last_error) == (row.id, 1, "NetworkError")

    assert await outbox.release(db, again.id, clock.now(), error="RetryAfter")
    [third] = await outbox.claim_batch(db, clock.now(), 10)
    assert (third.attempts, third.last_error) == (1, "RetryAfter")
    assert await outbox.mark_failed(db, third.id, "BadRequest", clock.now())
    failed = await outbox.get(db, third.id)
    assert failed is not None
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 2)
    # Outcomes apply only to a row in flight.
    assert not await outbox.mark_retry(db, third.id, "x", clock.now(), clock.now())
    assert not await outbox.release(db, third.id, clock.now())


async def test_rows_in_flight_at_a_crash_go_back_to_the_queue(
    db: Database, clock: ManualClock
) -> None:
    for chat in (1, 2):
        await enqueue(db, clock, f"k{chat}", chat)
    await outbox.claim_batch(db, clock.now(), 10)
    assert await outbox.recover_in_flight(db, clock.now()) == 2
    counts = await outbox.counts(db)
    assert (counts[OutboxStatus.PENDING], counts[OutboxStatus.SENDING]) == (2, 0)
    assert len(await outbox.claim_batch(db, clock.now(), 10)) == 2


async def test_an_unreachable_chat_takes_its_other_pending_rows_with_it(
    db: Database, clock: ManualClock
) -> None:
    for key, chat in [("a1", 1), ("a2", 1), ("a3", 1), ("b1", 2)]:
        await enqueue(db, clock, key, chat)
    first = await outbox.claim_batch(db, clock.now(), 10)
    blocked = next(m for m in first if m.chat_id == 1)
    assert await outbox.mark_unreachable(db, blocked.id, "Forbidden", clock.now()) == 2
    counts = await outbox.counts(db)
    assert counts[OutboxStatus.UNREACHABLE] == 3
    assert [m.chat_id for m in await outbox.claim_batch(db, clock.now(), 10)] == []
