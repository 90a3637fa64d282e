"""Contract of storage/people.py, through its functions only: a person registered through an
invitation comes back with their site and Caf, is listed by site or Caf, revoked, and
counted per site."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.models import Person
from bot.domain.permissions import LabelStatus, PersonStatus, Role
from storage import people
from storage.db import Database
from tests.storage import world
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


# ------------------------------------------------------------------------------ several sites
async def test_a_person_belongs_to_the_site_of_their_invitation_and_may_be_given_more(
    db: Database, clock: ManualClock, network: Network, cast: dict[str, Person]
) -> None:
    agnes = cast["Agnès"]
    assert await people.sites_of(db, agnes.id) == [network.ham]
    assert await people.sites_of(db, cast["Corinne"].id) == []  # a coordinator has no site
    member = await people.member(db, agnes.id)
    assert member is not None and member.site_count == 1 and not member.actor.several_sites
    assert await people.add_site(db, agnes.id, network.albert.id, clock.now())
    assert not await people.add_site(db, agnes.id, network.albert.id, clock.now())
    # By name: France Services Albert before Mairie de Ham.
    assert await people.sites_of(db, agnes.id) == [network.albert, network.ham]
    member = await people.member_by_telegram_id(db, 7003)
    assert member is not None and member.site_count == 2 and member.actor.several_sites
    # Where she works now has not changed.
    assert member.person.partner_id == network.ham.id and member.partner == network.ham


async def test_a_person_of_two_sites_is_listed_counted_and_a_manager_at_both(
    db: Database, clock: ManualClock, network: Network, cast: dict[str, Person]
) -> None:
    await people.add_site(db, cast["Marc"].id, network.albert.id, clock.now())
    albert = await people.list_for_partner(db, network.albert.id)
    assert [p.display_name for p in albert] == ["Marc", "Bruno"]
    assert await people.count_active_by_partner(db, network.somme.id) == {
        network.ham.id: 3,
        network.albert.id: 2,
    }
    assert await people.sites_with_manager(db, network.somme.id) == {
        network.ham.id,
        network.albert.id,
    }


async def test_the_current_site_is_one_of_theirs_and_remembers_the_day_it_was_chosen(
    db: Database, clock: ManualClock, network: Network, cast: dict[str, Person]
) -> None:
    agnes = cast["Agnès"]
    await people.set_current_site(db, agnes.id, network.albert.id, date(2026, 11, 26))
    unchanged = await people.get(db, agnes.id)
    assert unchanged is not None and unchanged.partner_id == network.ham.id  # not hers
    assert unchanged.site_chosen_on is None
    await people.add_site(db, agnes.id, network.albert.id, clock.now())
    await people.set_current_site(db, agnes.id, network.albert.id, date(2026, 11, 26))
    member = await people.member(db, agnes.id)
    assert member is not None and member.partner == network.albert
    assert member.person.site_chosen_on == date(2026, 11, 26)
    assert member.actor.label is LabelStatus.ACTIVE
    # Another Caf's site is never hers.
    await people.set_current_site(db, agnes.id, network.laon.id, None)
    still = await people.get(db, agnes.id)
    assert still is not None and still.partner_id == network.albert.id


async def test_removing_a_site_never_removes_the_current_one(
    db: Database, clock: ManualClock, network: Network, cast: dict[str, Person]
) -> None:
    agnes = cast["Agnès"]
    await people.add_site(db, agnes.id, network.albert.id, clock.now())
    await people.remove_site(db, agnes.id, network.ham.id)  # where she works now: kept
    assert await people.sites_of(db, agnes.id) == [network.albert, network.ham]
    await people.remove_site(db, agnes.id, network.albert.id)
    assert await people.sites_of(db, agnes.id) == [network.ham]


async def test_setting_the_sites_keeps_those_kept_and_forgets_the_day_chosen(
    db: Database, clock: ManualClock, network: Network, cast: dict[str, Person]
) -> None:
    agnes = cast["Agnès"]
    await people.add_site(db, agnes.id, network.albert.id, clock.now())
    await people.set_current_site(db, agnes.id, network.ham.id, date(2026, 11, 26))
    clock.advance(timedelta(days=3))
    await people.set_sites(db, agnes.id, {network.albert.id}, network.albert.id, clock.now())
    member = await people.member(db, agnes.id)
    assert member is not None and member.partner == network.albert and member.site_count == 1
    assert member.person.site_chosen_on is None
    assert await people.list_for_partner(db, network.ham.id) == [cast["Marc"], cast["Zoé"]]
    await people.set_sites(
        db, agnes.id, {network.albert.id, network.ham.id}, network.ham.id, clock.now()
    )
    again = await people.member(db, agnes.id)
    assert again is not None and again.partner == network.ham and again.site_count == 2
    with pytest.raises(ValueError, match="current site"):
        await people.set_sites(db, agnes.id, {network.ham.id}, network.albert.id, clock.now())


async def test_a_role_changes_between_agent_and_manager_never_for_a_coordinator(
    db: Database, network: Network, cast: dict[str, Person]
) -> None:
    await people.set_role(db, cast["Agnès"].id, Role.MANAGER)
    promoted = await people.get(db, cast["Agnès"].id)
    assert promoted is not None and promoted.role is Role.MANAGER
    assert await people.sites_with_manager(db, network.somme.id) == {network.ham.id}
    await people.set_role(db, cast["Bruno"].id, Role.MANAGER)
    assert await people.sites_with_manager(db, network.somme.id) == {
        network.ham.id,
        network.albert.id,
    }
    await people.set_role(db, cast["Agnès"].id, Role.AGENT)
    back = await people.get(db, cast["Agnès"].id)
    assert back is not None and back.role is Role.AGENT
    await people.set_role(db, cast["Corinne"].id, Role.AGENT)
    corinne = await people.get(db, cast["Corinne"].id)
    assert corinne is not None and corinne.role is Role.COORDINATOR


async def test_a_revoked_person_comes_back_where_the_new_invitation_says(
    db: Database, clock: ManualClock, network: Network, cast: dict[str, Person]
) -> None:
    agnes = cast["Agnès"]
    await people.add_site(db, agnes.id, network.albert.id, clock.now())
    await people.set_current_site(db, agnes.id, network.albert.id, date(2026, 11, 26))
    await people.set_status(db, agnes.id, PersonStatus.REVOKED, clock.now())
    clock.advance(timedelta(days=10))
    async with db.transaction() as tx:
        _, invitation = await world.invite(tx, clock.now(), Role.MANAGER, network.albert)
        await people.reactivate(tx, agnes.id, invitation, clock.now())
    member = await people.member(db, agnes.id)
    assert member is not None
    person = member.person
    assert (person.status, person.role, person.partner_id) == (
        PersonStatus.ACTIVE,
        Role.MANAGER,
        network.albert.id,
    )
    assert person.revoked_at is None and person.site_chosen_on is None
    assert person.joined_at == agnes.joined_at  # the same person, history kept
    assert member.site_count == 1 and await people.sites_of(db, agnes.id) == [network.albert]
