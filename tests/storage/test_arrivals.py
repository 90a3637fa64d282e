"""Contract of storage/arrivals.py: new agents held for the Caf's next notice, the first of a
batch named, and taken all at once, each Caf its own."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.domain.signals import NEW_AGENT_TOPIC, SignalKind
from storage import arrivals
from storage import signals as signal_store
from storage.db import Database
from tests.storage.world import Network, Staff


async def training_need(db: Database, network: Network, reporter: int, caf_id: int) -> int:
    async with db.transaction() as tx:
        signal, _ = await signal_store.raise_signal(
            tx,
            caf_id=caf_id,
            partner_id=network.ham.id if caf_id == network.somme.id else network.laon.id,
            kind=SignalKind.TRAINING,
            reporter_id=reporter,
            category=NEW_AGENT_TOPIC,
            dedup_key=f"new_agent:{reporter}",
            now=network.now,
        )
    return signal.id


async def test_new_agents_are_held_per_caf_and_taken_once(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    somme, aisne = network.somme.id, network.aisne.id
    first = await training_need(db, network, staff.agent.id, somme)
    second = await training_need(db, network, staff.albert_agent.id, somme)
    laon = await training_need(db, network, staff.laon_agent.id, aisne)
    start = clock.now()
    assert await arrivals.hold(db, somme, first, clock.now()) == (first, start)
    clock.advance(minutes=2)
    assert await arrivals.hold(db, somme, second, clock.now()) == (first, start)
    assert await arrivals.hold(db, somme, second, clock.now()) == (first, start)  # again
    assert await arrivals.hold(db, aisne, laon, clock.now()) == (laon, clock.now())

    assert await arrivals.take(db, somme) == [first, second]
    assert await arrivals.take(db, somme) == []  # told once
    # The next one held starts a batch of its own.
    clock.advance(minutes=1)
    assert await arrivals.hold(db, somme, second, clock.now()) == (second, clock.now())
    assert await arrivals.take(db, aisne) == [laon]
