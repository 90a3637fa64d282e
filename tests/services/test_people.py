"""bot/services/people.py as the bot or the command line would call it: who reaches whom
when a person has several sites, and what a manager's changes leave of another partner's
sites (tests/storage/world.py's network: Ham and Albert in the Somme, Laon in the Aisne)."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.domain.models import Member, Partner, Person
from bot.domain.permissions import Role
from bot.domain.person_sites import CannotChange, Unchangeable
from bot.services import people as service
from bot.services.network import NotTheirs
from storage import audit, outbox, people
from storage.db import Database
from tests.storage import world
from tests.storage.world import Network, Staff


async def member(db: Database, who: Person) -> Member:
    found = await people.member(db, who.id)
    assert found is not None
    return found


@pytest.fixture
async def network(db: Database, clock: ManualClock) -> Network:
    return await world.build(db, clock)


@pytest.fixture
async def staff(network: Network) -> Staff:
    return await world.staff(network)


@pytest.fixture
async def peronne(network: Network) -> Partner:
    async with network.db.transaction() as tx:
        return await world.add_site(
            tx, network.somme.id, "Médiathèque de Péronne", "Péronne", network.now
        )


async def test_a_manager_of_two_sites_moves_an_agent_and_leaves_another_partners_site(
    db: Database, clock: ManualClock, network: Network, staff: Staff, peronne: Partner
) -> None:
    corinne = await member(db, staff.coordinator)
    agnes = staff.agent
    await service.add_site(db, corinne, staff.manager.id, network.albert.id, clock.now())
    await service.add_site(db, corinne, agnes.id, peronne.id, clock.now())
    marc = await member(db, staff.manager)
    assert marc.site_count == 2

    moved = await service.move(db, marc, agnes.id, network.albert.id, clock.now())
    assert moved.member is not None and moved.member.partner == network.albert
    # Péronne is not Marc's: she keeps it.
    assert await people.sites_of(db, agnes.id) == [network.albert, peronne]
    assert moved.card is not None and moved.card.back_to == network.ham.id  # Marc's site now

    # Taken off his last site of hers, she is out of his reach: no card to show him.
    removed = await service.remove_site(db, marc, agnes.id, network.albert.id, clock.now())
    assert removed.card is None
    assert removed.member is not None and removed.member.partner == peronne
    with pytest.raises(NotTheirs):
        await service.card(db, marc, agnes.id)
    actions = [entry.action for entry in await audit.list_for_caf(db, network.somme.id)]
    assert actions.count("person.site_added") == 2
    assert "person.moved" in actions and "person.site_removed" in actions


async def test_a_manager_reaches_agents_of_their_sites_only_and_changes_no_role(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    marc = await member(db, staff.manager)
    with pytest.raises(NotTheirs):  # Bruno is Albert's, not one of Marc's sites
        await service.placing(db, marc, staff.albert_agent.id)
    with pytest.raises(NotTheirs):
        await service.change_role(db, marc, staff.agent.id, Role.MANAGER, clock.now())
    with pytest.raises(NotTheirs):  # Albert is not Marc's to place people at
        await service.add_site(db, marc, staff.agent.id, network.albert.id, clock.now())
    with pytest.raises(NotTheirs):  # another Caf's site, even for the coordinator
        await service.add_site(
            db, await member(db, staff.coordinator), staff.agent.id, network.laon.id, clock.now()
        )
    choice = await service.placing(db, marc, staff.agent.id)
    assert choice.sites == [network.ham] and not choice.by_coordinator


async def test_each_change_tells_the_person_once_with_their_new_menu(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    corinne = await member(db, staff.coordinator)
    changed = await service.change_role(db, corinne, staff.agent.id, Role.MANAGER, clock.now())
    assert changed.member is not None and changed.member.person.role is Role.MANAGER
    with pytest.raises(CannotChange) as again:
        await service.change_role(db, corinne, staff.agent.id, Role.MANAGER, clock.now())
    assert again.value.why is Unchangeable.UNCHANGED
    pending = await outbox.claim_batch(db, clock.now(), limit=10)
    [notice] = [row for row in pending if row.person_id == staff.agent.id]
    assert "responsable de site" in notice.text
    assert notice.reply_markup is not None and "Horaires et fermetures" in notice.reply_markup
