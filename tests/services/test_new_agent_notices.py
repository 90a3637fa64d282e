"""bot/services/signal_notices.py: the agents who join together are told to the Caf in one
notice, armed by the first, pushed back by the others, and never stranded by a notice that
failed or is running."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.domain import invitations as rules
from bot.domain.models import Person
from bot.domain.permissions import Role
from bot.domain.signals import NEW_AGENT_TOPIC, Signal, SignalKind
from bot.services import signal_notices
from storage import cafs, scheduled
from storage import signals as signal_store
from storage.db import Database
from tests.storage import world
from tests.storage.world import Network

KIND = signal_notices.NEW_AGENTS_KIND


async def arrives(db: Database, network: Network, agent: Person) -> Signal:
    """The agent's training need raised and held, as /start does it."""
    caf = await cafs.get(db, network.somme.id)
    assert caf is not None
    async with db.transaction() as tx:
        signal, _ = await signal_store.raise_signal(
            tx,
            caf_id=caf.id,
            partner_id=network.ham.id,
            kind=SignalKind.TRAINING,
            reporter_id=agent.id,
            category=NEW_AGENT_TOPIC,
            dedup_key=f"new_agent:{agent.id}",
            now=network.now,
        )
        assert await signal_notices.hold_new_agent(tx, caf, signal, network.now)
    return signal


async def notices(db: Database) -> list[str]:
    rows = await db.fetch_all("SELECT text FROM outbox WHERE kind = 'signal_new' ORDER BY id")
    return [str(row["text"]) for row in rows]


async def test_one_notice_for_the_agents_who_join_within_minutes(
    db: Database, clock: ManualClock
) -> None:
    network = await world.build(db, clock)
    await network.join(Role.COORDINATOR, network.somme, 7001, "Corinne")
    agents = [await network.join(Role.AGENT, network.ham, 7100 + n, f"A{n}") for n in range(3)]
    first = await arrives(db, network, agents[0])
    [job] = await scheduled.pending(db, KIND)
    assert job.due_at == clock.now() + rules.NEW_AGENTS_QUIET
    clock.advance(minutes=4)
    await arrives(db, network, agents[1])
    clock.advance(minutes=4)
    await arrives(db, network, agents[2])
    [job] = await scheduled.pending(db, KIND)  # the same one, pushed back
    assert job.key == f"{KIND}:{network.somme.id}:{first.id}"
    assert job.due_at == clock.now() + rules.NEW_AGENTS_QUIET

    assert await signal_notices.announce_new_agents(db, network.somme.id, clock.now()) == 1
    [text] = await notices(db)
    assert "3 nouveaux agents à former" in text and "A0" in text and "A2" in text
    assert await signal_notices.announce_new_agents(db, network.somme.id, clock.now()) == 0


async def test_a_notice_that_failed_for_good_strands_no_one(
    db: Database, clock: ManualClock
) -> None:
    network = await world.build(db, clock)
    await network.join(Role.COORDINATOR, network.somme, 7001, "Corinne")
    ada = await network.join(Role.AGENT, network.ham, 7101, "Ada")
    bea = await network.join(Role.AGENT, network.ham, 7102, "Béa")
    await arrives(db, network, ada)
    clock.advance(rules.NEW_AGENTS_QUIET)
    [job] = await scheduled.claim_due(db, clock.now(), 10)
    assert await scheduled.fail(db, job.id, "ConnectionError", clock.now(), None)

    clock.advance(minutes=1)
    await arrives(db, network, bea)
    [again] = await scheduled.pending(db, KIND)
    assert again.key != job.key
    assert await signal_notices.announce_new_agents(db, network.somme.id, clock.now()) == 1
    [text] = await notices(db)
    assert "2 nouveaux agents à former" in text and "Ada" in text and "Béa" in text


async def test_nobody_to_tell_holds_nothing(db: Database, clock: ManualClock) -> None:
    network = await world.build(db, clock)
    agent = await network.join(Role.AGENT, network.ham, 7101, "Ada")
    caf = await cafs.get(db, network.somme.id)
    assert caf is not None
    async with db.transaction() as tx:
        signal, _ = await signal_store.raise_signal(
            tx,
            caf_id=caf.id,
            partner_id=network.ham.id,
            kind=SignalKind.TRAINING,
            reporter_id=agent.id,
            category=NEW_AGENT_TOPIC,
            dedup_key=f"new_agent:{agent.id}",
            now=clock.now(),
        )
        assert not await signal_notices.hold_new_agent(tx, caf, signal, clock.now())
    assert await scheduled.pending(db, KIND) == []
    assert await signal_notices.announce_new_agents(db, network.somme.id, clock.now()) == 0
