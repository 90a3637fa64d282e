"""Contract of storage/announcements.py, through its functions only (and the outbox's, where
a broadcast's messages wait): a draft, its sending to the recipients fixed at that moment,
the read receipts and the reminder rounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.audience import Audience, AudienceKind
from bot.domain.models import Announcement, Person
from bot.domain.permissions import Role
from storage import announcements, outbox, scheduled
from storage.db import Database, available_migrations, split_statements
from storage.outbox import OutboxStatus
from tests.storage.world import Network, Staff

TEXT_ONLY = dict.fromkeys(("media_kind", "media_file_id", "media_name"))  # no media


async def draft(
    db: Database, clock: ManualClock, author: Person, body: str = "Nouvelle procédure"
) -> Announcement:
    assert author.caf_id is not None
    async with db.transaction() as tx:
        return await announcements.create(
            tx, caf_id=author.caf_id, author_id=author.id, body=body, now=clock.now(), **TEXT_ONLY
        )


async def send(db: Database, clock: ManualClock, a: Announcement) -> int:
    async with db.transaction() as tx:
        fresh = await announcements.get(tx, a.id)
        assert fresh is not None
        return await announcements.send(tx, fresh, text="Texte", reply_markup=None, now=clock.now())


async def test_a_draft_is_for_everyone_without_receipts_until_changed(
    db: Database, clock: ManualClock, staff: Staff
) -> None:
    a = await draft(db, clock, staff.coordinator)
    assert (a.status, a.must_read, a.audience, a.body) == (
        "draft",
        False,
        Audience(AudienceKind.ALL),
        "Nouvelle procédure",
    )
    assert a.kind == f"broadcast:{a.id}"
    managers = Audience(AudienceKind.MANAGERS)
    await announcements.update(db, a.id, clock.now(), audience=managers.to_json(), must_read=1)
    changed = await announcements.get(db, a.id)
    assert changed is not None
    assert (changed.audience, changed.must_read) == (managers, True)
    with pytest.raises(ValueError):
        await announcements.update(db, a.id, clock.now(), body="Autre texte")
    assert await announcements.get(db, a.id + 100) is None


async def test_recent_lists_a_cafs_own_newest_first_without_the_abandoned(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    first, dropped, last = [await draft(db, clock, staff.coordinator) for _ in range(3)]
    await announcements.update(db, dropped.id, clock.now(), status="cancelled")
    await draft(db, clock, staff.aisne_coordinator)
    somme = network.somme.id
    assert [a.id for a in await announcements.recent(db, somme)] == [last.id, first.id]
    assert [a.id for a in await announcements.recent(db, somme, limit=1)] == [last.id]


async def test_sending_fixes_the_recipients_and_queues_one_message_each_once(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    a = await draft(db, clock, staff.coordinator)
    assert await send(db, clock, a) == 3  # everyone of the Somme but the author
    sent = await announcements.get(db, a.id)
    assert sent is not None
    assert (sent.status, sent.sent_at) == ("sending", clock.now())
    assert [s.id for s in await announcements.in_progress(db)] == [a.id]
    assert (await announcements.progress(db, sent))[OutboxStatus.PENDING] == 3
    # Sent again (a redelivered update): nobody gets a second message.
    await send(db, clock, a)
    assert sum((await announcements.progress(db, sent)).values()) == 3
    readers = await announcements.readers(db, a.id)
    assert sorted(r.person_id for r in readers) == sorted(
        p.id for p in (staff.manager, staff.agent, staff.albert_agent)
    )
    # Someone who joins afterwards is not among its recipients.
    await network.join(Role.AGENT, network.ham, 7010, "Nina")
    assert len(await announcements.readers(db, a.id)) == 3


async def test_a_person_known_to_be_unreachable_is_marked_so_at_once(
    db: Database, clock: ManualClock, staff: Staff
) -> None:
    async with db.transaction() as tx:
        await outbox.enqueue(
            tx,
            kind="notice",
            dedup_key="notice:1",
            chat_id=7003,
            person_id=staff.agent.id,
            text="Bonjour",
            now=clock.now(),
        )
    [claimed] = await outbox.claim_batch(db, clock.now(), 10)
    await outbox.mark_unreachable(db, claimed.id, "Forbidden", clock.now())
    a = await draft(db, clock, staff.coordinator)
    await send(db, clock, a)
    counts = await announcements.progress(db, a)
    assert (counts[OutboxStatus.PENDING], counts[OutboxStatus.UNREACHABLE]) == (2, 1)


async def test_failed_messages_are_queued_again_but_not_the_others(
    db: Database, clock: ManualClock, staff: Staff
) -> None:
    a = await draft(db, clock, staff.coordinator)
    await send(db, clock, a)
    first, second, third = await outbox.claim_batch(db, clock.now(), 10)
    await outbox.mark_failed(db, first.id, "Bad Request", clock.now())
    await outbox.mark_sent(db, second.id, 41, clock.now())
    await outbox.mark_failed(db, third.id, "Bad Request", clock.now())
    await announcements.update(db, a.id, clock.now(), status="sent")
    later = clock.now() + timedelta(minutes=5)
    async with db.transaction() as tx:
        assert await announcements.retry_failed(tx, a, later) == 2
    counts = await announcements.progress(db, a)
    assert (counts[OutboxStatus.PENDING], counts[OutboxStatus.SENT]) == (2, 1)
    again = await announcements.get(db, a.id)
    assert again is not None and again.status == "sending"
    async with db.transaction() as tx:
        assert await announcements.retry_failed(tx, a, later) == 0


async def test_a_reading_is_recorded_once_and_only_for_a_recipient(
    db: Database, clock: ManualClock, staff: Staff
) -> None:
    a = await draft(db, clock, staff.coordinator)
    await announcements.update(db, a.id, clock.now(), must_read=1)
    await send(db, clock, a)
    assert await announcements.mark_read(db, a.id, staff.agent.id, clock.now()) is True
    assert await announcements.mark_read(db, a.id, staff.agent.id, clock.now()) is False
    assert await announcements.mark_read(db, a.id, staff.coordinator.id, clock.now()) is None
    assert await announcements.mark_read(db, a.id, staff.aisne_coordinator.id, clock.now()) is None
    readers = await announcements.readers(db, a.id)
    # By site, then by name: Albert's before Ham's.
    assert [(r.display_name, r.partner) for r in readers] == [
        ("Bruno", "France Services Albert"),
        ("Agnès", "Mairie de Ham"),
        ("Marc", "Mairie de Ham"),
    ]
    assert {r.display_name: r.read_at for r in readers} == {
        "Bruno": None,
        "Agnès": clock.now(),
        "Marc": None,
    }


async def test_reminder_rounds_count_up_for_those_reminded(
    db: Database, clock: ManualClock, staff: Staff
) -> None:
    a = await draft(db, clock, staff.coordinator)
    await send(db, clock, a)
    async with db.transaction() as tx:
        assert await announcements.next_reminder_round(tx, a.id) == 1
        await announcements.note_reminded(tx, a.id, [staff.agent.id], 1)
        assert await announcements.next_reminder_round(tx, a.id) == 2


async def test_migration_0012_mends_a_programming_that_lost_its_sending_job(
    db: Database, clock: ManualClock, staff: Staff
) -> None:
    """Before the fix, a broadcast programmed, cancelled and programmed again after its first
    time stayed « scheduled » with its job done. Times far from any date the suite runs on,
    since a migration reads the real clock."""
    key = "broadcast:{}:send".format
    future, past = datetime(2999, 1, 4, 8, tzinfo=UTC), datetime(2001, 1, 4, 8, tzinfo=UTC)
    stuck_ahead, stuck_gone, healthy = [await draft(db, clock, staff.coordinator) for _ in range(3)]
    # The two stuck ones: their job ran (as a no-op) at their first time, then they were
    # programmed again, for a time still ahead or already gone.
    for a in (stuck_ahead, stuck_gone):
        await scheduled.schedule(
            db, kind="broadcast_send", key=key(a.id), due_at=clock.now(), now=clock.now()
        )
    for claimed in await scheduled.claim_due(db, clock.now(), 10):
        await scheduled.finish(db, claimed.id, clock.now())
    await scheduled.schedule(
        db, kind="broadcast_send", key=key(healthy.id), due_at=future, now=clock.now()
    )
    for a, when in ((stuck_ahead, future), (stuck_gone, past), (healthy, future)):
        await announcements.update(db, a.id, clock.now(), status="scheduled", scheduled_for=when)
    async with db.transaction() as tx:
        for statement in split_statements(available_migrations()[12]):
            if not statement.startswith("CREATE INDEX"):
                await tx.execute(statement)
    ahead = await scheduled.get(db, key(stuck_ahead.id))
    assert ahead is not None
    assert (ahead.status, ahead.due_at, ahead.payload) == (
        "pending",
        future,
        {"announcement": stuck_ahead.id},
    )
    gone = await announcements.get(db, stuck_gone.id)
    assert gone is not None and (gone.status, gone.scheduled_for) == ("draft", None)
    left = await scheduled.get(db, key(stuck_gone.id))
    assert left is not None and left.status == "done"
    still = await announcements.get(db, healthy.id)
    assert still is not None and (still.status, still.scheduled_for) == ("scheduled", future)
    assert [j.key for j in await scheduled.pending(db)] == [key(stuck_ahead.id), key(healthy.id)]
