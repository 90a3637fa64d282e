"""Contract of storage/signals.py, through its functions only: a signal raised once per key,
the Caf's inbox of its open signals (oldest first, filtered, paged, scoped to the Caf), a
status that moves forward once, and the exchange kept in order.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.domain.models import Partner, Person
from bot.domain.signals import Signal, SignalKind, SignalStatus
from storage import signals
from storage.db import Database
from tests.storage.world import Network, Staff


async def signal(
    network: Network, site: Partner, kind: SignalKind = SignalKind.DIFFICULTY, **about: Any
) -> tuple[Signal, bool]:
    """A signal of the site (a difficulty unless told), raised by nobody unless `about` names
    its reporter_id (or its dedup_key, its ref_id) a minute after the previous one, so that
    their order is their age."""
    network.clock.advance(timedelta(minutes=1))
    async with network.db.transaction() as tx:
        return await signals.raise_signal(
            tx,
            caf_id=site.caf_id,
            partner_id=site.id,
            kind=kind,
            reporter_id=about.pop("reporter_id", None),
            category="autre",
            urgency="normale",
            description="Connexion impossible.",
            now=network.now,
            **about,
        )


async def move(
    network: Network, s: Signal, status: SignalStatus, by: Person, resolution: str | None = None
) -> bool:
    """The signal moved on from the status it was read with."""
    async with network.db.transaction() as tx:
        return await signals.set_status(
            tx,
            s.id,
            status=status,
            expected=s.status,
            by=by.id,
            now=network.now,
            resolution=resolution,
        )


async def test_a_signal_is_raised_once_per_key_and_read_back_with_its_names(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    first, new = await signal(
        network, network.ham, reporter_id=staff.manager.id, dedup_key="text:1:2"
    )
    assert new
    raised_at = clock.now()
    again, new_again = await signal(
        network, network.ham, reporter_id=staff.manager.id, dedup_key="text:1:2"
    )
    assert not new_again and again.id == first.id
    stored = await signals.get(db, first.id)
    assert stored == first
    assert (stored.kind, stored.status, stored.caf_id) == (
        SignalKind.DIFFICULTY,
        SignalStatus.OPEN,
        network.somme.id,
    )
    assert (stored.partner_name, stored.site, stored.reporter_name) == (
        "Mairie de Ham",
        "Mairie de Ham (Ham)",
        "Marc",
    )
    assert stored.created_at == raised_at  # the first time, not the repeat's
    assert await signals.get(db, first.id + 100) is None


async def test_signals_without_a_key_are_each_new(network: Network) -> None:
    one, _ = await signal(network, network.ham)
    two, new = await signal(network, network.ham)
    assert new and one.id != two.id
    assert one.reporter_name is None


async def test_the_inbox_lists_the_cafs_open_signals_oldest_first_filtered_and_paged(
    db: Database, network: Network, staff: Staff
) -> None:
    oldest, _ = await signal(network, network.ham, reporter_id=staff.manager.id)
    training, _ = await signal(network, network.albert, SignalKind.TRAINING)
    newest, _ = await signal(
        network, network.ham, SignalKind.TRAINING, reporter_id=staff.manager.id
    )
    await signal(network, network.laon)  # another Caf's
    closed, _ = await signal(network, network.ham, reporter_id=staff.manager.id)
    assert await move(network, closed, SignalStatus.RESOLVED, staff.manager, resolution="Fait.")

    items, total = await signals.inbox(db, network.somme.id, limit=10)
    assert [s.id for s in items] == [oldest.id, training.id, newest.id] and total == 3
    items, total = await signals.inbox(db, network.somme.id, limit=2, offset=2)
    assert [s.id for s in items] == [newest.id] and total == 3
    _, total = await signals.inbox(db, network.somme.id, limit=0)
    assert total == 3

    items, total = await signals.inbox(db, network.somme.id, kind=SignalKind.TRAINING, limit=10)
    assert [s.id for s in items] == [training.id, newest.id] and total == 2
    items, total = await signals.inbox(
        db, network.somme.id, kind=SignalKind.TRAINING, partner_id=network.ham.id, limit=10
    )
    assert [s.id for s in items] == [newest.id] and total == 1

    assert await signals.open_counts(db, network.somme.id) == {
        SignalKind.DIFFICULTY: 1,
        SignalKind.TRAINING: 2,
    }
    assert await signals.partners_with_open(db, network.somme.id) == [
        (network.ham.id, "Mairie de Ham (Ham)", 2),
        (network.albert.id, "France Services Albert (Albert)", 1),
    ]


async def test_a_status_moves_forward_once_from_the_state_expected(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    s, _ = await signal(network, network.ham, reporter_id=staff.manager.id)
    assert await move(network, s, SignalStatus.ACKNOWLEDGED, staff.manager)
    assert not await move(network, s, SignalStatus.ACKNOWLEDGED, staff.manager)  # someone was first
    acknowledged = await signals.get(db, s.id)
    assert acknowledged is not None
    assert acknowledged.status is SignalStatus.ACKNOWLEDGED
    assert (acknowledged.acknowledged_at, acknowledged.acknowledged_by) == (
        clock.now(),
        staff.manager.id,
    )
    clock.advance(timedelta(hours=1))
    assert await move(
        network, acknowledged, SignalStatus.RESOLVED, staff.manager, resolution="Réglé."
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
        await move(network, resolved, SignalStatus.OPEN, staff.manager)


async def test_closing_an_open_signal_acknowledges_it_too(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    s, _ = await signal(network, network.ham, reporter_id=staff.manager.id)
    assert await move(network, s, SignalStatus.RESOLVED, staff.manager, resolution="Sans suite.")
    resolved = await signals.get(db, s.id)
    assert resolved is not None
    assert resolved.acknowledged_at == resolved.resolved_at == clock.now()
    assert resolved.acknowledged_by == resolved.resolved_by == staff.manager.id


async def test_the_exchange_is_kept_in_order_with_its_authors(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    s, _ = await signal(network, network.ham, reporter_id=staff.manager.id)
    other, _ = await signal(network, network.ham, reporter_id=staff.manager.id)
    async with db.transaction() as tx:
        first, second = [
            await signals.add_message(
                tx, s.id, author_id=staff.manager.id, from_caf=from_caf, body=body, now=clock.now()
            )
            for from_caf, body in ((False, "Toujours bloqué."), (True, "Videz le cache."))
        ]
    assert second > first > 0
    thread = await signals.messages(db, s.id)
    assert [(m.id, m.body, m.from_caf, m.author_name) for m in thread] == [
        (first, "Toujours bloqué.", False, "Marc"),
        (second, "Videz le cache.", True, "Marc"),
    ]
    assert await signals.messages(db, other.id) == []


async def test_a_persons_own_signals_at_their_site_newest_first(
    db: Database, network: Network, staff: Staff
) -> None:
    mine = [(await signal(network, network.ham, reporter_id=staff.manager.id))[0] for _ in range(3)]
    await signal(network, network.ham)  # nobody's
    await signal(network, network.albert, reporter_id=staff.manager.id)  # another site
    found = await signals.for_reporter_site(db, staff.manager.id, network.ham.id)
    assert [s.id for s in found] == [s.id for s in reversed(mine)]
    found = await signals.for_reporter_site(db, staff.manager.id, network.ham.id, limit=2)
    assert [s.id for s in found] == [mine[2].id, mine[1].id]


async def test_a_signal_is_found_by_what_it_is_about(db: Database, network: Network) -> None:
    closure, _ = await signal(network, network.ham, SignalKind.CLOSURE, ref_id=41)
    await signal(network, network.ham, SignalKind.HOURS, ref_id=41)
    found = await signals.by_ref(db, SignalKind.CLOSURE, 41)
    assert found is not None and found.id == closure.id
    assert await signals.by_ref(db, SignalKind.CLOSURE, 42) is None
