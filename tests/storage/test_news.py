"""Contract of storage/news.py, through its functions only: what reached one person — the
broadcasts they got with their read receipt, and the coming events they are invited to."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.domain.audience import Audience, AudienceKind
from bot.domain.events import Answer, EventKind
from bot.domain.models import Announcement, Person
from storage import announcements, events, news
from storage.db import Database
from tests.storage.world import Staff

TEXT_ONLY = dict.fromkeys(("media_kind", "media_file_id", "media_name"))


async def sent(
    db: Database,
    clock: ManualClock,
    author: Person,
    body: str,
    *,
    must_read: bool = False,
    audience: Audience | None = None,
) -> Announcement:
    assert author.caf_id is not None
    async with db.transaction() as tx:
        a = await announcements.create(
            tx, caf_id=author.caf_id, author_id=author.id, body=body, now=clock.now(), **TEXT_ONLY
        )
        fields: dict[str, object] = {"must_read": int(must_read)}
        if audience is not None:
            fields["audience"] = audience.to_json()
        await announcements.update(tx, a.id, clock.now(), **fields)
        fresh = await announcements.get(tx, a.id)
        assert fresh is not None
        await announcements.send(tx, fresh, text=body, reply_markup=None, now=clock.now())
    clock.advance(timedelta(minutes=1))
    return fresh


async def test_a_person_finds_what_they_got_newest_first_with_their_receipts(
    db: Database, clock: ManualClock, staff: Staff
) -> None:
    first = await sent(db, clock, staff.coordinator, "Première")
    notice = await sent(db, clock, staff.coordinator, "Consigne", must_read=True)
    managers = Audience(AudienceKind.MANAGERS)
    await sent(db, clock, staff.coordinator, "Aux responsables", audience=managers)
    await sent(db, clock, staff.aisne_coordinator, "Dans l'Aisne")
    async with db.transaction() as tx:  # a draft reaches nobody
        await announcements.create(
            tx, caf_id=notice.caf_id, author_id=None, body="Brouillon", now=clock.now(), **TEXT_ONLY
        )
    agent = staff.agent.id
    assert await news.count_received(db, agent) == 2
    got = await news.received(db, agent, limit=10)
    assert [(a.body, read_at) for a, read_at in got] == [("Consigne", None), ("Première", None)]
    assert [a.body for a, _ in await news.received(db, agent, limit=1, offset=1)] == ["Première"]
    assert [a.id for a in await news.unread(db, agent)] == [notice.id]
    assert await news.count_received(db, staff.manager.id) == 3
    # Read: no longer awaited, the receipt's time kept.
    await announcements.mark_read(db, notice.id, agent, clock.now())
    assert await news.unread(db, agent) == []
    found = await news.receipt(db, agent, notice.id)
    assert found is not None and found[1] == clock.now()
    receipt = await news.receipt(db, agent, first.id)
    assert receipt is not None and receipt[1] is None
    # Nothing of what another got, nor of another Caf.
    assert await news.receipt(db, staff.laon_agent.id, first.id) is None
    assert await news.receipt(db, staff.coordinator.id, first.id) is None  # its author
    assert await news.count_received(db, staff.laon_agent.id) == 1


async def test_a_person_finds_the_coming_events_they_are_invited_to_with_their_answer(
    db: Database, clock: ManualClock, staff: Staff
) -> None:
    now = clock.now()

    async def event(title: str, days: int, *, publish: bool = True) -> int:
        async with db.transaction() as tx:
            created = await events.create(
                tx,
                caf_id=staff.coordinator.caf_id or 0,
                kind=EventKind.TRAINING_DAY,
                title=title,
                starts_at=now + timedelta(days=days),
                ends_at=now + timedelta(days=days, hours=3),
                place=None,
                visio_url=None,
                capacity=None,
                rsvp_deadline=now + timedelta(days=days - 1),
                created_by=staff.coordinator.id,
                now=now,
            )
            if publish:
                await events.set_fields(tx, created.id, now, status="published")
                await events.invite_audience(tx, created)
        return created.id

    later, sooner = await event("Comité", 20), await event("Formation", 10)
    await event("Brouillon", 5, publish=False)
    async with db.transaction() as tx:
        await events.set_answer(tx, sooner, staff.agent.id, Answer.GOING, now)
    coming = await news.coming_events(db, staff.agent.id, now)
    assert [(e.title, answer) for e, answer in coming] == [
        ("Formation", Answer.GOING),
        ("Comité", Answer.INVITED),
    ]
    found = await news.invitation(db, staff.agent.id, later)
    assert found is not None and found[1] is Answer.INVITED
    assert await news.invitation(db, staff.laon_agent.id, later) is None  # another Caf
    assert await news.coming_events(db, staff.coordinator.id, now) == []  # organisers
    # Over once it has ended; cancelled, it is no longer one to answer.
    assert [
        e.title for e, _ in await news.coming_events(db, staff.agent.id, now + timedelta(days=15))
    ] == ["Comité"]
    async with db.transaction() as tx:
        await events.set_fields(tx, later, now, status="cancelled", cancelled_at=now)
    assert await news.invitation(db, staff.agent.id, later) is None
