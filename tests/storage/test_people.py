"""Contract of storage/people.py, through its functions only: a person registered through an
invitation comes back with their site and Caf, is listed by site or Caf, revoked, and
counted per site."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.models import Person
from bot.domain.permissions import LabelStatus, PersonStatus, Role
from storage import people
from storage.db import Database
from tests.storage.world import Network, Staff


@pytest.fixture
async def cast(network: Network, staff: Staff) -> dict[str, Person]:
    """The network's staff, and Zoé: Ham has a manager, Marc, and two agents, Agnès and Zoé;
    Albert an agent, Bruno; the Somme a coordinator, Corinne; the Aisne a coordinator, Odile,
    and Laon an agent, Lucie."""
    zoe = await network.join(Role.AGENT, network.ham, 7010, "Zoé")
    return {**staff.by_name(), "Zoé": zoe}


async def test_a_person_takes_the_role_caf_and_site_of_their_invitation(
    db: Database, clock: ManualClock, network: Network, cast: dict[str, Person]
) -> None:
    marc = cast["Marc"]
    assert (marc.role, marc.caf_id, marc.partner_id, marc.status) == (
        Role.MANAGER,
        network.somme.id,
        network.ham.id,
        PersonStatus.ACTIVE,
    )
    assert marc.joined_at == marc.last_seen_at == clock.now() and marc.revoked_at is None
    assert await people.get(db, marc.id) == marc

    member = await people.member_by_telegram_id(db, 7002)  # Marc joined second
    assert member is not None and member.person == marc
    assert member.partner == network.ham and member.caf == network.somme
    assert member.actor.label is LabelStatus.ACTIVE
    coordinator = await people.member(db, cast["Corinne"].id)
    assert coordinator is not None and coordinator.partner is None
    assert coordinator.caf == network.somme
    assert await people.member_by_telegram_id(db, 9999) is None
    assert await people.member(db, 9999) is None


async def test_last_seen_is_written_at_most_once_an_hour(
    db: Database, clock: ManualClock, cast: dict[str, Person]
) -> None:
    marc = cast["Marc"]
    clock.advance(minutes=59)
    await people.touch(db, marc, clock.now())
    unchanged = await people.get(db, marc.id)
    assert unchanged is not None and unchanged.last_seen_at == marc.last_seen_at
    clock.advance(minutes=1)
    await people.touch(db, marc, clock.now())
    seen = await people.get(db, marc.id)
    assert seen is not None and seen.last_seen_at == clock.now()


async def test_a_site_lists_its_managers_first_then_by_name(
    db: Database, clock: ManualClock, network: Network, cast: dict[str, Person]
) -> None:
    ham = await people.list_for_partner(db, network.ham.id)
    assert [p.display_name for p in ham] == ["Marc", "Agnès", "Zoé"]
    await people.set_status(db, cast["Zoé"].id, PersonStatus.REVOKED, clock.now())
    assert [p.display_name for p in await people.list_for_partner(db, network.ham.id)] == [
        "Marc",
        "Agnès",
    ]
    everyone = await people.list_for_partner(db, network.ham.id, active_only=False)
    assert [p.display_name for p in everyone] == ["Marc", "Agnès", "Zoé"]


async def test_a_caf_lists_its_people_by_name_and_role(
    db: Database, clock: ManualClock, network: Network, cast: dict[str, Person]
) -> None:
    somme = await people.list_for_caf(db, network.somme.id)
    assert [p.display_name for p in somme] == ["Agnès", "Bruno", "Corinne", "Marc", "Zoé"]
    coordinators = await people.list_for_caf(db, network.somme.id, role=Role.COORDINATOR)
    assert [p.id for p in coordinators] == [cast["Corinne"].id]
    await people.set_status(db, cast["Corinne"].id, PersonStatus.REVOKED, clock.now())
    assert await people.list_for_caf(db, network.somme.id, role=Role.COORDINATOR) == []
    kept = await people.list_for_caf(db, network.somme.id, role=Role.COORDINATOR, active_only=False)
    assert [p.id for p in kept] == [cast["Corinne"].id]
    aisne = await people.list_for_caf(db, network.aisne.id)
    assert [p.display_name for p in aisne] == ["Lucie", "Odile"]


async def test_revoking_dates_it_and_reactivating_clears_the_date(
    db: Database, clock: ManualClock, cast: dict[str, Person]
) -> None:
    agnes = cast["Agnès"]
    clock.advance(timedelta(days=2))
    await people.set_status(db, agnes.id, PersonStatus.REVOKED, clock.now())
    revoked = await people.get(db, agnes.id)
    assert revoked is not None
    assert revoked.status is PersonStatus.REVOKED and revoked.revoked_at == clock.now()
    await people.set_status(db, agnes.id, PersonStatus.ACTIVE, clock.now())
    back = await people.get(db, agnes.id)
    assert back is not None and back.status is PersonStatus.ACTIVE and back.revoked_at is None


async def test_active_people_are_counted_per_site_and_managed_sites_named(
    db: Database, clock: ManualClock, network: Network, cast: dict[str, Person]
) -> None:
    assert await people.count_active_by_partner(db, network.somme.id) == {
        network.ham.id: 3,
        network.albert.id: 1,
    }
    assert await people.sites_with_manager(db, network.somme.id) == {network.ham.id}
    await people.set_status(db, cast["Marc"].id, PersonStatus.REVOKED, clock.now())
    assert await people.count_active_by_partner(db, network.somme.id) == {
        network.ham.id: 2,
        network.albert.id: 1,
    }
    assert await people.sites_with_manager(db, network.somme.id) == set()
    assert await people.count_active_by_partner(db, network.aisne.id) == {network.laon.id: 1}
