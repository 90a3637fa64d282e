"""Contract of storage/trainings.py: a person's training history (from a training day's
attendance, an upsert; by hand), who is trained, the new agent's need it closes, the Caf's
export rows, and compliance's untrained people, through public functions only."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.compliance import SiteFacts
from bot.domain.events import EventKind
from bot.domain.signals import SignalKind
from storage import compliance, trainings
from storage import events as event_store
from storage import signals as signal_store
from tests.storage.world import Network, Staff


async def a_training_day(network: Network, staff: Staff) -> int:
    start = network.now - timedelta(days=2)
    async with network.db.transaction() as tx:
        event = await event_store.create(
            tx,
            caf_id=network.somme.id,
            kind=EventKind.TRAINING_DAY,
            title="Journée annuelle",
            starts_at=start,
            ends_at=start + timedelta(hours=6),
            place=None,
            visio_url=None,
            capacity=None,
            rsvp_deadline=start - timedelta(days=2),
            created_by=staff.coordinator.id,
            now=network.now,
        )
    return event.id


async def mark(network: Network, staff: Staff, event_id: int, attended: bool | None) -> None:
    async with network.db.transaction() as tx:
        await trainings.record_event(
            tx,
            caf_id=network.somme.id,
            person_id=staff.agent.id,
            event_id=event_id,
            title="Journée annuelle",
            on_date=date(2026, 11, 24),
            attended=attended,
            by=staff.coordinator.id,
            now=network.now,
        )


async def test_attendance_is_one_row_per_event_updated_then_removed(
    network: Network, staff: Staff
) -> None:
    event_id = await a_training_day(network, staff)
    assert await trainings.of_person(network.db, staff.agent.id) == []
    await mark(network, staff, event_id, True)
    await mark(network, staff, event_id, True)  # marked again: still one row
    [row] = await trainings.of_person(network.db, staff.agent.id)
    assert (row.title, row.on_date, row.attended, row.by_hand) == (
        "Journée annuelle",
        date(2026, 11, 24),
        True,
        False,
    )
    assert await trainings.is_trained(network.db, staff.agent.id)
    await mark(network, staff, event_id, False)
    [row] = await trainings.of_person(network.db, staff.agent.id)
    assert not row.attended and not await trainings.is_trained(network.db, staff.agent.id)
    await mark(network, staff, event_id, None)
    assert await trainings.of_person(network.db, staff.agent.id) == []


async def test_a_training_by_hand_and_the_history_latest_first(
    network: Network, staff: Staff
) -> None:
    event_id = await a_training_day(network, staff)
    await mark(network, staff, event_id, False)
    async with network.db.transaction() as tx:
        await trainings.add(
            tx,
            caf_id=network.somme.id,
            person_id=staff.agent.id,
            title="Sécurité des données",
            on_date=date(2026, 11, 25),
            by=staff.coordinator.id,
            now=network.now,
        )
    history = await trainings.of_person(network.db, staff.agent.id)
    assert [(t.title, t.by_hand) for t in history] == [
        ("Sécurité des données", True),
        ("Journée annuelle", False),
    ]
    assert await trainings.is_trained(network.db, staff.agent.id)
    assert await trainings.of_person(network.db, staff.manager.id) == []
    [first, second] = await trainings.records(network.db, network.somme.id)
    assert (first.person, first.site, first.attended, first.recorded_by) == (
        "Agnès",
        "Mairie de Ham",
        False,
        "Corinne",
    )
    assert second.title == "Sécurité des données" and second.by_hand
    assert await trainings.records(network.db, network.aisne.id) == []


async def test_the_new_agent_need_is_found_and_blocked_until_trained(
    network: Network, staff: Staff
) -> None:
    async with network.db.transaction() as tx:
        need, _ = await signal_store.raise_signal(
            tx,
            caf_id=network.somme.id,
            partner_id=network.ham.id,
            kind=SignalKind.TRAINING,
            reporter_id=staff.agent.id,
            category="nouvel_agent",
            dedup_key=f"new_agent:{staff.agent.id}",
            now=network.now,
        )
        other, _ = await signal_store.raise_signal(
            tx,
            caf_id=network.somme.id,
            partner_id=network.ham.id,
            kind=SignalKind.TRAINING,
            reporter_id=staff.agent.id,
            category="visio",
            now=network.now,
        )
    assert await trainings.open_new_agent_need(network.db, staff.agent.id) == need.id
    assert await trainings.open_new_agent_need(network.db, staff.manager.id) is None
    assert await trainings.untrained_new_agent(network.db, need.id)
    assert not await trainings.untrained_new_agent(network.db, other.id)
    await mark(network, staff, await a_training_day(network, staff), True)
    assert not await trainings.untrained_new_agent(network.db, need.id)


async def test_compliance_reads_each_site_s_untrained_people(
    network: Network, staff: Staff
) -> None:
    def untrained(facts: list[SiteFacts]) -> dict[str, list[str]]:
        return {f.name: [p.name for p in f.untrained] for f in facts}

    facts = await compliance.site_facts(network.db, network.somme, now=network.now)
    assert untrained(facts) == {
        "France Services Albert": ["Bruno"],
        "Mairie de Ham": ["Agnès", "Marc"],
    }
    await mark(network, staff, await a_training_day(network, staff), True)
    facts = await compliance.site_facts(network.db, network.somme, now=network.now)
    assert untrained(facts)["Mairie de Ham"] == ["Marc"]
