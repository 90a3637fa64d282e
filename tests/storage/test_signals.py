"""Contract of storage/signals.py, through its functions only: a signal raised once per key,
the Caf's inbox of its open signals (oldest first, filtered, paged, scoped to the Caf), a
status that moves forward once, and the exchange kept in order.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.models import Partner, Person
from bot.domain.signals import Signal, SignalKind, SignalStatus
from storage import signals
from storage.db import Database
from tests.storage import sites_world
from tests.storage.sites_world import Sites


@pytest.fixture
async def sites(db: Database, clock: ManualClock) -> Sites:
    return await sites_world.build(db, clock.now())


async def signal(
    db: Database,
    clock: ManualClock,
    site: Partner,
    kind: SignalKind = SignalKind.DIFFICULTY,
    *,
    reporter: int | None = None,
    key: str | None = None,
    ref: int | None = None,
) -> tuple[Signal, bool]:
    """A signal raised a minute after the previous one, so their order is their age."""
    clock.advance(timedelta(minutes=1))
    async with db.transaction() as tx:
        return await signals.raise_signal(
            tx,
            caf_id=site.caf_id,
            partner_id=site.id,
            kind=kind,
            reporter_id=reporter,
            category="autre",
            urgency="normale",
            description="Connexion impossible.",
            ref_id=ref,
            dedup_key=key,
            now=clock.now(),
        )


async def move(
    db: Database,
    clock: ManualClock,
    s: Signal,
    status: SignalStatus,
    by: Person,
    resolution: str | None = None,
) -> bool:
    async with db.transaction() as tx:
        return await signals.set_status(
            tx,
            s.id,
            status=status,
            expected=s.status,
            by=by.id,
            now=clock.now(),
            resolution=resolution,
        )


async def test_a_signal_is_raised_once_per_key_and_read_back_with_its_names(
    db: Database, clock: ManualClock, sites: Sites
) -> None:
    first, new = await signal(db, clock, sites.ham, reporter=sites.manager.id, key="text:1:2")
    assert new
    raised_at = clock.now()
    again, new_again = await signal(db, clock, sites.ham, reporter=sites.manager.id, key="text:1:2")
    assert not new_again and again.id == first.id
    stored = await signals.get(db, first.id)
    assert stored == first
    assert (stored.kind, stored.status, stored.caf_id) == (
        SignalKind.DIFFICULTY,
        SignalStatus.OPEN,
        sites.caf.id,
    )
    assert (stored.partner_name, stored.site, stored.reporter_name) == (
        "Mairie de Ham",
        "Mairie de Ham (Ham)",
        "Marc",
    )
    assert stored.created_at == raised_at  # the first time, not the repeat's
    assert await signals.get(db, first.id + 100) is None


async def test_signals_without_a_key_are_each_new(
    db: Database, clock: ManualClock, sites: Sites
) -> None:
    one, _ = await signal(db, clock, sites.ham)
    two, new = await signal(db, clock, sites.ham)
    assert new and one.id != two.id
    assert one.reporter_name is None


async def test_the_inbox_lists_the_cafs_open_signals_oldest_first_filtered_and_paged(
    db: Database, clock: ManualClock, sites: Sites
) -> None:
    oldest, _ = await signal(db, clock, sites.ham, reporter=sites.manager.id)
    training, _ = await signal(db, clock, sites.albert, SignalKind.TRAINING)
    newest, _ = await signal(db, clock, sites.ham, SignalKind.TRAINING, reporter=sites.manager.id)
    await signal(db, clock, sites.laon)  # another Caf's
    closed, _ = await signal(db, clock, sites.ham, reporter=sites.manager.id)
    assert await move(db, clock, closed, SignalStatus.RESOLVED, sites.manager, resolution="Fait.")

    items, total = await signals.inbox(db, sites.caf.id, limit=10)
    assert [s.id for s in items] == [oldest.id, training.id, newest.id] and total == 3
    items, total = await signals.inbox(db, sites.caf.id, limit=2, offset=2)
    assert [s.id for s in items] == [newest.id] and total == 3
    _, total = await signals.inbox(db, sites.caf.id, limit=0)
    assert total == 3

    items, total = await signals.inbox(db, sites.caf.id, kind=SignalKind.TRAINING, limit=10)
    assert [s.id for s in items] == [training.id, newest.id] and total == 2
    items, total = await signals.inbox(
        db, sites.caf.id, kind=SignalKind.TRAINING, partner_id=sites.ham.id, limit=10
    )
    assert [s.id for s in items] == [newest.id] and total == 1

    assert await signals.open_counts(db, sites.caf.id) == {
        SignalKind.DIFFICULTY: 1,
        SignalKind.TRAINING: 2,
    }
    assert await signals.partners_with_open(db, sites.caf.id) == [
        (sites.ham.id, "Mairie de Ham (Ham)", 2),
        (sites.albert.id, "France Services Albert (Albert)", 1),
    ]


async def test_a_status_moves_forward_once_from_the_state_expected(
    db: Database, clock: ManualClock, sites: Sites
) -> None:
    s, _ = await signal(db, clock, sites.ham, reporter=sites.manager.id)
    assert await move(db, clock, s, SignalStatus.ACKNOWLEDGED, sites.manager)
    assert not await move(
        db, clock, s, SignalStatus.ACKNOWLEDGED, sites.manager
    )  # someone was first
    acknowledged = await signals.get(db, s.id)
    assert acknowledged is not None
    assert acknowledged.status is SignalStatus.ACKNOWLEDGED
    assert (acknowledged.acknowledged_at, acknowledged.acknowledged_by) == (
        clock.now(),
        sites.manager.id,
    )
    clock.advance(timedelta(hours=1))
    assert await move(
        db, clock, acknowledged, SignalStatus.RESOLVED, sites.manager, resolution="Réglé."
    )
    resolved = await signals.get(db, s.id)
    assert resolved is not None
    assert (resolved.status, resolved.resolution, resolved.resolved_at) == (
        SignalStatus.RESOLVED,
        "Réglé.",
        clock.now(),
    )
    assert resolved.acknowledged_at == acknowledged.acknowledged_at  # kept
    with pytest.raises(ValueError):
        await move(db, clock, resolved, SignalStatus.OPEN, sites.manager)


async def test_closing_an_open_signal_acknowledges_it_too(
    db: Database, clock: ManualClock, sites: Sites
) -> None:
    s, _ = await signal(db, clock, sites.ham, reporter=sites.manager.id)
    assert await move(db, clock, s, SignalStatus.RESOLVED, sites.manager, resolution="Sans suite.")
    resolved = await signals.get(db, s.id)
    assert resolved is not None
    assert resolved.acknowledged_at == resolved.resolved_at == clock.now()
    assert resolved.acknowledged_by == resolved.resolved_by == sites.manager.id


async def test_the_exchange_is_kept_in_order_with_its_authors(
    db: Database, clock: ManualClock, sites: Sites
) -> None:
    s, _ = await signal(db, clock, sites.ham, reporter=sites.manager.id)
    other, _ = await signal(db, clock, sites.ham, reporter=sites.manager.id)
    async with db.transaction() as tx:
        first = await signals.add_message(
            tx,
            s.id,
            author_id=sites.manager.id,
            from_caf=False,
            body="Toujours bloqué.",
            now=clock.now(),
        )
        second = await signals.add_message(
            tx,
            s.id,
            author_id=sites.manager.id,
            from_caf=True,
            body="Videz le cache.",
            now=clock.now(),
        )
    assert second > first > 0
    thread = await signals.messages(db, s.id)
    assert [(m.id, m.body, m.from_caf, m.author_name) for m in thread] == [
        (first, "Toujours bloqué.", False, "Marc"),
        (second, "Videz le cache.", True, "Marc"),
    ]
    assert await signals.messages(db, other.id) == []


async def test_a_persons_own_signals_at_their_site_newest_first(
    db: Database, clock: ManualClock, sites: Sites
) -> None:
    mine = [(await signal(db, clock, sites.ham, reporter=sites.manager.id))[0] for _ in range(3)]
    await signal(db, clock, sites.ham)  # nobody's
    await signal(db, clock, sites.albert, reporter=sites.manager.id)  # another site
    found = await signals.for_reporter_site(db, sites.manager.id, sites.ham.id)
    assert [s.id for s in found] == [s.id for s in reversed(mine)]
    found = await signals.for_reporter_site(db, sites.manager.id, sites.ham.id, limit=2)
    assert [s.id for s in found] == [mine[2].id, mine[1].id]


async def test_a_signal_is_found_by_what_it_is_about(
    db: Database, clock: ManualClock, sites: Sites
) -> None:
    closure, _ = await signal(db, clock, sites.ham, SignalKind.CLOSURE, ref=41)
    await signal(db, clock, sites.ham, SignalKind.HOURS, ref=41)
    found = await signals.by_ref(db, SignalKind.CLOSURE, 41)
    assert found is not None and found.id == closure.id
    assert await signals.by_ref(db, SignalKind.CLOSURE, 42) is None
