"""Contract of storage/events.py, through its functions only: an event comes back as it was
created, its Caf lists it (latest first, an abandoned draft left out), its audience is
invited once, answers are counted, the waiting list is served first come first served, and
attendance is recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.audience import Audience, AudienceKind
from bot.domain.events import Answer, Event, EventKind
from bot.domain.models import Caf, Person
from storage import events
from storage.db import Database
from tests.storage.world import Network, Staff


async def new_event(
    db: Database,
    clock: ManualClock,
    caf: Caf,
    *,
    title: str = "Journée annuelle de formation",
    in_days: int = 30,
    capacity: int | None = None,
) -> Event:
    starts_at = clock.now() + timedelta(days=in_days)
    async with db.transaction() as tx:
        return await events.create(
            tx,
            caf_id=caf.id,
            kind=EventKind.TRAINING_DAY,
            title=title,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=7),
            place="Maison des associations, Amiens",
            visio_url=None,
            capacity=capacity,
            rsvp_deadline=starts_at - timedelta(days=2),
            created_by=None,
            now=clock.now(),
        )


async def published(db: Database, clock: ManualClock, event: Event) -> list[int]:
    """Publishes the event and invites its audience; the people invited."""
    async with db.transaction() as tx:
        await events.set_fields(tx, event.id, clock.now(), status="published")
        return await events.invite_audience(tx, event)


async def answer(db: Database, event: Event, person: Person, status: Answer, now: datetime) -> None:
    async with db.transaction() as tx:
        await events.set_answer(tx, event.id, person.id, status, now)


async def test_an_event_comes_back_as_it_was_created_as_a_draft_for_everyone(
    db: Database, clock: ManualClock, network: Network
) -> None:
    event = await new_event(db, clock, network.somme, capacity=20)
    assert await events.get(db, event.id) == event
    assert (event.caf_id, event.kind, event.title, event.capacity) == (
        network.somme.id,
        EventKind.TRAINING_DAY,
        "Journée annuelle de formation",
        20,
    )
    assert event.starts_at == clock.now() + timedelta(days=30)
    assert event.rsvp_deadline == event.starts_at - timedelta(days=2)
    assert (event.status, event.cancelled_at) == ("draft", None)
    assert event.audience == Audience(AudienceKind.ALL)
    assert event.created_at == event.updated_at == clock.now()
    assert await events.get(db, event.id + 1) is None


async def test_a_caf_lists_its_own_events_latest_first_without_abandoned_drafts(
    db: Database, clock: ManualClock, network: Network
) -> None:
    soon = await new_event(db, clock, network.somme, title="Comité", in_days=10)
    later = await new_event(db, clock, network.somme, title="Formation", in_days=40)
    abandoned = await new_event(db, clock, network.somme, title="Réunion", in_days=20)
    called_off = await new_event(db, clock, network.somme, title="Visite", in_days=5)
    await new_event(db, clock, network.aisne, title="Ailleurs")
    async with db.transaction() as tx:
        await events.set_fields(tx, abandoned.id, clock.now(), status="cancelled")
        await events.set_fields(
            tx, called_off.id, clock.now(), status="cancelled", cancelled_at=clock.now()
        )
    listed = await events.for_caf(db, network.somme.id)
    assert [e.id for e in listed] == [later.id, soon.id, called_off.id]
    assert [e.id for e in await events.for_caf(db, network.somme.id, limit=2)] == [
        later.id,
        soon.id,
    ]


async def test_set_fields_changes_the_audience_and_status_and_refuses_other_fields(
    db: Database, clock: ManualClock, network: Network
) -> None:
    event = await new_event(db, clock, network.somme)
    clock.advance(timedelta(minutes=5))
    chosen = Audience(AudienceKind.PARTNERS, frozenset({network.ham.id}))
    async with db.transaction() as tx:
        await events.set_fields(tx, event.id, clock.now(), audience=chosen.to_json())
    changed = await events.get(db, event.id)
    assert changed is not None
    assert changed.audience == chosen and changed.updated_at == clock.now()
    with pytest.raises(ValueError):
        await events.set_fields(db, event.id, clock.now(), title="Autre")
    with pytest.raises(ValueError):
        await events.set_fields(db, event.id, clock.now())


async def test_the_audience_is_invited_once_and_coordinators_are_not(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    people = staff.by_name()
    event = await new_event(db, clock, network.somme)
    invited = await published(db, clock, event)
    somme = {people[name].id for name in ("Marc", "Agnès", "Bruno")}
    assert set(invited) == somme
    async with db.transaction() as tx:  # a redelivered publication
        assert set(await events.invite_audience(tx, event)) == somme
    everyone = await events.invitations(db, event.id)
    assert sorted(i.person_id for i in everyone) == sorted(somme)
    assert {i.status for i in everyone} == {Answer.INVITED}
    agnes = await events.invitation(db, event.id, people["Agnès"].id)
    assert agnes is not None
    assert (agnes.display_name, agnes.partner, agnes.telegram_user_id) == (
        "Agnès",
        "Mairie de Ham",
        people["Agnès"].telegram_user_id,
    )
    assert (agnes.answered_at, agnes.waiting_since, agnes.attended) == (None, None, None)
    assert await events.invitation(db, event.id, people["Corinne"].id) is None
    assert await events.invitation(db, event.id, people["Lucie"].id) is None


async def test_an_audience_of_chosen_sites_invites_their_people_only(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    people = staff.by_name()
    event = await new_event(db, clock, network.somme)
    albert = Audience(AudienceKind.PARTNERS, frozenset({network.albert.id}))
    async with db.transaction() as tx:
        await events.set_fields(tx, event.id, clock.now(), audience=albert.to_json())
    fresh = await events.get(db, event.id)
    assert fresh is not None
    assert await published(db, clock, fresh) == [people["Bruno"].id]


async def test_answers_are_counted_and_the_waiting_list_is_served_first_come(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    people = staff.by_name()
    event = await new_event(db, clock, network.somme, capacity=1)
    await published(db, clock, event)
    marc, agnes, bruno = people["Marc"], people["Agnès"], people["Bruno"]
    await answer(db, event, agnes, Answer.GOING, clock.now())
    clock.advance(timedelta(minutes=1))
    await answer(db, event, bruno, Answer.WAITING, clock.now())
    clock.advance(timedelta(minutes=1))
    await answer(db, event, marc, Answer.WAITING, clock.now())
    assert await events.counts(db, event.id) == {
        Answer.INVITED: 0,
        Answer.GOING: 1,
        Answer.WAITING: 2,
        Answer.DECLINED: 0,
    }
    waiting = await events.invitations(db, event.id, Answer.WAITING)
    assert [i.person_id for i in waiting] == [bruno.id, marc.id]
    assert waiting[0].waiting_since == clock.now() - timedelta(minutes=1)

    clock.advance(timedelta(minutes=1))
    await answer(db, event, agnes, Answer.DECLINED, clock.now())
    async with db.transaction() as tx:
        assert await events.promote_first_waiting(tx, event.id, clock.now()) == bruno.id
    promoted = await events.invitation(db, event.id, bruno.id)
    assert promoted is not None
    assert (promoted.status, promoted.waiting_since) == (Answer.GOING, None)
    declined = await events.invitation(db, event.id, agnes.id)
    assert declined is not None and declined.answered_at == clock.now()
    async with db.transaction() as tx:
        assert await events.promote_first_waiting(tx, event.id, clock.now()) == marc.id
        assert await events.promote_first_waiting(tx, event.id, clock.now()) is None
    assert (await events.counts(db, event.id))[Answer.GOING] == 2


async def test_attendance_is_recorded_and_counted_per_event(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    people = staff.by_name()
    event = await new_event(db, clock, network.somme)
    other = await new_event(db, clock, network.somme, title="Comité")
    for e in (event, other):
        await published(db, clock, e)
        for name in ("Marc", "Agnès"):
            await answer(db, e, people[name], Answer.GOING, clock.now())
    async with db.transaction() as tx:
        await events.set_attended(tx, event.id, people["Marc"].id, True)
        await events.set_attended(tx, event.id, people["Agnès"].id, False)
    assert await events.attended_count(db, event.id) == 1
    assert await events.attended_count(db, other.id) == 0
    going = await events.invitations(db, event.id, Answer.GOING)
    assert {i.display_name: i.attended for i in going} == {"Marc": True, "Agnès": False}
    async with db.transaction() as tx:
        await events.set_attended(tx, event.id, people["Marc"].id, None)
    marc = await events.invitation(db, event.id, people["Marc"].id)
    assert marc is not None and marc.attended is None
    assert await events.attended_count(db, event.id) == 0
