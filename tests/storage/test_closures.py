"""Contract of storage/closures.py, through its functions only: a closure declared once for
its days, listed while it lasts, soonest first, and cancelled once.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.clock import ManualClock
from bot.domain.models import Partner
from storage import closures
from storage.closures import Closure
from storage.db import Database
from tests.storage.world import TODAY, Network, Staff


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


async def close(network: Network, site: Partner, start: int, end: int) -> tuple[Closure, bool]:
    """The site closed for holidays from `start` to `end` days after today, no note, no author."""
    async with network.db.transaction() as tx:
        return await closures.declare(
            tx,
            partner_id=site.id,
            start=day(start),
            end=day(end),
            reason="conges",
            note=None,
            by=None,
            now=network.now,
        )


async def test_a_closure_is_declared_once_for_the_same_days(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    async with db.transaction() as tx:
        closure, new = await closures.declare(
            tx,
            partner_id=network.ham.id,
            start=day(3),
            end=day(5),
            reason="conges",
            note="Travaux",
            by=staff.manager.id,
            now=clock.now(),
        )
    assert new
    assert (closure.start_date, closure.end_date, closure.days) == (day(3), day(5), 3)
    assert (closure.reason, closure.note, closure.declared_by) == (
        "conges",
        "Travaux",
        staff.manager.id,
    )
    assert closure.declared_at == clock.now()
    assert closure.cancelled_at is None
    assert await closures.get(db, closure.id) == closure

    again, new = await close(network, network.ham, 3, 5)  # a double tap
    assert not new and again == closure
    _, new = await close(network, network.ham, 3, 6)  # other days: another closure
    assert new
    _, new = await close(network, network.albert, 3, 5)  # another site
    assert new
    assert await closures.get(db, closure.id + 1000) is None


async def test_closures_ahead_are_listed_soonest_first_until_their_last_day(
    db: Database, network: Network
) -> None:
    later, _ = await close(network, network.ham, 20, 21)
    soon, _ = await close(network, network.ham, 2, 2)
    today, _ = await close(network, network.ham, 0, 0)
    await close(network, network.albert, 1, 1)

    assert [c.id for c in await closures.upcoming(db, network.ham.id, TODAY)] == [
        today.id,
        soon.id,
        later.id,
    ]
    assert [c.id for c in await closures.upcoming(db, network.ham.id, day(1))] == [
        soon.id,
        later.id,
    ]
    assert [c.id for c in await closures.upcoming(db, network.ham.id, TODAY, limit=1)] == [today.id]
    assert await closures.count_since(db, network.ham.id, day(3)) == 1


async def test_a_caf_lists_the_closures_of_its_own_sites(db: Database, network: Network) -> None:
    ham, _ = await close(network, network.ham, 1, 2)
    albert, _ = await close(network, network.albert, 4, 4)
    await close(network, network.laon, 1, 1)

    found = await closures.upcoming_for_caf(db, network.somme.id, TODAY)
    assert {site: [c.id for c in listed] for site, listed in found.items()} == {
        network.ham.id: [ham.id],
        network.albert.id: [albert.id],
    }


async def test_a_closure_is_cancelled_once_and_its_days_can_be_declared_again(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    closure, _ = await close(network, network.ham, 3, 5)
    clock.advance(timedelta(hours=1))
    assert await closures.cancel(db, closure.id, by=staff.manager.id, now=clock.now())
    assert not await closures.cancel(db, closure.id, by=staff.manager.id, now=clock.now())

    cancelled = await closures.get(db, closure.id)
    assert cancelled is not None
    assert (cancelled.cancelled_at, cancelled.cancelled_by) == (clock.now(), staff.manager.id)
    assert await closures.upcoming(db, network.ham.id, TODAY) == []
    assert await closures.count_since(db, network.ham.id, TODAY) == 0

    again, new = await close(network, network.ham, 3, 5)
    assert new and again.id != closure.id
