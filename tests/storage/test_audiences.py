"""Contract of storage/audiences.py, through its functions only: who a broadcast's or an
invitation's audience reaches in a Caf, at the moment it is asked."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.domain.audience import Audience, AudienceKind
from bot.domain.permissions import LabelStatus, PersonStatus, Role
from storage import audiences, partners, people
from storage.db import Database
from tests.storage.world import Network, Staff


async def reached(
    network: Network, audience: Audience, *, exclude: int | None = None, coordinators: bool = True
) -> list[int]:
    """The ids reached in the Somme, checked against the count of the same audience."""
    db, caf_id = network.db, network.somme.id
    found = await audiences.people_of(
        db, caf_id, audience, exclude_person_id=exclude, with_coordinators=coordinators
    )
    count = await audiences.count(
        db, caf_id, audience, exclude_person_id=exclude, with_coordinators=coordinators
    )
    assert count == len(found)
    return [p.id for p in found]


async def test_everyone_means_every_active_person_of_the_caf_and_no_other(
    network: Network, staff: Staff
) -> None:
    ids = await reached(network, Audience(AudienceKind.ALL))
    assert ids == [
        staff.coordinator.id,
        staff.manager.id,
        staff.agent.id,
        staff.albert_agent.id,
    ]  # in the order they joined; the Aisne's people are not among them


async def test_the_author_can_be_left_out_and_coordinators_too(
    network: Network, staff: Staff
) -> None:
    everyone = Audience(AudienceKind.ALL)
    without_author = await reached(network, everyone, exclude=staff.coordinator.id)
    assert staff.coordinator.id not in without_author and len(without_author) == 3
    assert staff.coordinator.id not in await reached(network, everyone, coordinators=False)


async def test_managers_agents_and_chosen_sites_reach_their_roles_only(
    network: Network, staff: Staff
) -> None:
    assert await reached(network, Audience(AudienceKind.MANAGERS)) == [staff.manager.id]
    assert await reached(network, Audience(AudienceKind.AGENTS)) == [
        staff.agent.id,
        staff.albert_agent.id,
    ]
    ham = Audience(AudienceKind.PARTNERS, frozenset({network.ham.id}))
    assert await reached(network, ham) == [staff.manager.id, staff.agent.id]
    # A site of another Caf chosen by a forged audience reaches nobody of it.
    laon = Audience(AudienceKind.PARTNERS, frozenset({network.laon.id}))
    assert await reached(network, laon) == []
    assert await reached(network, Audience(AudienceKind.PARTNERS)) == []


async def test_revoked_people_and_a_withdrawn_sites_people_are_not_reached(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    await people.set_status(db, staff.agent.id, PersonStatus.REVOKED, clock.now())
    albert = network.albert.id
    await partners.set_label(
        db,
        albert,
        status=LabelStatus.WITHDRAWN,
        reason="Fin de convention",
        now=clock.now(),
        by=None,
    )
    ids = await reached(network, Audience(AudienceKind.ALL))
    assert ids == [staff.coordinator.id, staff.manager.id]


async def test_whoever_joins_later_is_reached_when_it_is_asked_again(
    network: Network, staff: Staff
) -> None:
    agents = Audience(AudienceKind.AGENTS)
    before = await reached(network, agents)
    newcomer = await network.join(Role.AGENT, network.ham, 7010, "Nina")
    assert await reached(network, agents) == [*before, newcomer.id]
