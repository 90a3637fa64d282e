"""Contract of storage/hours.py, through its functions only: every declared schedule kept with
the one it replaces, the one in force on a day, those to come, and one draft a person.
"""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.domain.models import Partner
from bot.domain.opening_hours import WeeklySchedule, parse_periods
from storage import hours
from storage.db import Database
from tests.storage.world import TODAY, Network, Staff


def week(text: str, days: range = range(5)) -> WeeklySchedule:
    schedule = WeeklySchedule.closed()
    for day in days:
        schedule = schedule.with_day(day, parse_periods(text))
    return schedule


FULL = week("9h-12h / 14h-17h")
MORNINGS = week("9h-12h")
TWO_MORNINGS = week("9h-12h", range(2))  # below the convention's minimum


async def declare(
    db: Database, clock: ManualClock, site: Partner, schedule: WeeklySchedule, days: int, by: int
) -> hours.Declaration:
    async with db.transaction() as tx:
        return await hours.declare(
            tx,
            partner_id=site.id,
            schedule=schedule,
            effective_from=TODAY + timedelta(days=days),
            by=by,
            now=clock.now(),
        )


async def test_a_declaration_keeps_its_schedule_author_and_compliance(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    assert await hours.in_force(db, network.ham.id, TODAY) is None
    first = await declare(db, clock, network.ham, FULL, 0, staff.manager.id)
    assert first.schedule == FULL
    assert first.before_schedule is None
    assert (first.half_days, first.minutes, first.compliant) == (10, 30 * 60, True)
    assert first.declared_by_name == "Marc"
    assert first.declared_at == clock.now()
    assert await hours.get(db, first.id) == first
    assert await hours.get(db, first.id + 1000) is None

    second = await declare(db, clock, network.ham, TWO_MORNINGS, 0, staff.manager.id)
    assert second.before_schedule == FULL  # what it replaces, on its first day
    assert (second.half_days, second.minutes, second.compliant) == (2, 6 * 60, False)


async def test_the_schedule_in_force_is_the_latest_started_and_the_next_ones_wait(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    now_in_force = await declare(db, clock, network.ham, FULL, -10, staff.manager.id)
    later = await declare(db, clock, network.ham, MORNINGS, 7, staff.manager.id)
    latest = await declare(db, clock, network.ham, FULL, 30, staff.manager.id)

    assert await hours.in_force(db, network.ham.id, TODAY) == now_in_force
    assert await hours.in_force(db, network.ham.id, TODAY + timedelta(days=7)) == later
    assert [d.id for d in await hours.upcoming(db, network.ham.id, TODAY)] == [later.id, latest.id]
    assert await hours.latest_declared(db, network.ham.id) == latest
    assert [d.id for d in await hours.history(db, network.ham.id, limit=2)] == [latest.id, later.id]
    assert await hours.in_force(db, network.albert.id, TODAY) is None
    assert await hours.latest_declared(db, network.albert.id) is None


async def test_a_caf_reads_the_hours_in_force_of_its_own_sites_only(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    await declare(db, clock, network.ham, MORNINGS, -3, staff.manager.id)
    ham_now = await declare(db, clock, network.ham, FULL, -1, staff.manager.id)
    await declare(db, clock, network.ham, MORNINGS, 5, staff.manager.id)
    albert_now = await declare(db, clock, network.albert, FULL, 0, staff.manager.id)
    await declare(db, clock, network.laon, FULL, 0, staff.manager.id)

    assert await hours.in_force_for_caf(db, network.somme.id, TODAY) == {
        network.ham.id: ham_now,
        network.albert.id: albert_now,
    }


async def test_a_person_has_one_draft_whose_revision_counts_its_saves(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    person = staff.manager.id
    assert await hours.draft(db, person) is None
    first = await hours.save_draft(
        db,
        person_id=person,
        partner_id=network.ham.id,
        schedule=MORNINGS,
        effective_from=None,
        now=clock.now(),
    )
    assert (first.schedule, first.effective_from, first.partner_id) == (
        MORNINGS,
        None,
        network.ham.id,
    )
    clock.advance(timedelta(minutes=5))
    second = await hours.save_draft(
        db,
        person_id=person,
        partner_id=network.ham.id,
        schedule=FULL,
        effective_from=TODAY + timedelta(days=7),
        now=clock.now(),
    )
    assert second.revision == first.revision + 1
    assert (second.schedule, second.effective_from) == (FULL, TODAY + timedelta(days=7))
    assert second.updated_at == clock.now()
    assert await hours.draft(db, person) == second

    assert await hours.drop_draft(db, person)
    assert not await hours.drop_draft(db, person)  # a double tap drops it once
    assert await hours.draft(db, person) is None
