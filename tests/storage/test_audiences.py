"""Contract of storage/audiences.py, through its functions only: who a broadcast's or an
invitation's audience reaches in a Caf, at the moment it is asked."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.clock import ManualClock
from bot.domain.audience import Audience, AudienceKind
from bot.domain.models import Caf, Partner, Person
from bot.domain.permissions import LabelStatus, PersonStatus, Role
from storage import audiences, partners, people
from storage.db import Database
from tests.storage import network_world
from tests.storage.network_world import Network


@dataclass
class Somme:
    network: Network
    coordinator: Person
    ham_manager: Person
    ham_agent: Person
    albert_agent: Person
    laon_agent: Person  # the Aisne's


@pytest.fixture
async def somme(db: Database, clock: ManualClock) -> Somme:
    world = await network_world.build(db, clock.now())

    async def join(role: Role, caf: Caf, partner: Partner | None, tg: int, name: str) -> Person:
        return await network_world.join(
            db,
            clock.now(),
            role=role,
            caf=caf,
            partner=partner,
            telegram_user_id=tg,
            name=name,
        )

    return Somme(
        world,
        await join(Role.COORDINATOR, world.somme, None, 9001, "Corinne"),
        await join(Role.MANAGER, world.somme, world.ham, 9002, "Marc"),
        await join(Role.AGENT, world.somme, world.ham, 9003, "Agnès"),
        await join(Role.AGENT, world.somme, world.albert, 9004, "Alain"),
        await join(Role.AGENT, world.aisne, world.laon, 9005, "Louise"),
    )


async def reached(
    db: Database,
    somme: Somme,
    audience: Audience,
    *,
    exclude_person_id: int | None = None,
    with_coordinators: bool = True,
) -> list[int]:
    """The ids reached in the Somme, checked against the count of the same audience."""
    caf_id = somme.network.somme.id
    exclude, coordinators = exclude_person_id, with_coordinators
    found = await audiences.people_of(
        db, caf_id, audience, exclude_person_id=exclude, with_coordinators=coordinators
    )
    count = await audiences.count(
        db, caf_id, audience, exclude_person_id=exclude, with_coordinators=coordinators
    )
    assert count == len(found)
    return [p.id for p in found]


async def test_everyone_means_every_active_person_of_the_caf_and_no_other(
    db: Database, somme: Somme
) -> None:
    ids = await reached(db, somme, Audience(AudienceKind.ALL))
    assert ids == [
        somme.coordinator.id,
        somme.ham_manager.id,
        somme.ham_agent.id,
        somme.albert_agent.id,
    ]  # in the order they joined; the Aisne's agent is not among them


async def test_the_author_can_be_left_out_and_coordinators_too(db: Database, somme: Somme) -> None:
    everyone = Audience(AudienceKind.ALL)
    without_author = await reached(db, somme, everyone, exclude_person_id=somme.coordinator.id)
    assert somme.coordinator.id not in without_author and len(without_author) == 3
    assert somme.coordinator.id not in await reached(db, somme, everyone, with_coordinators=False)


async def test_managers_agents_and_chosen_sites_reach_their_roles_only(
    db: Database, somme: Somme
) -> None:
    assert await reached(db, somme, Audience(AudienceKind.MANAGERS)) == [somme.ham_manager.id]
    assert await reached(db, somme, Audience(AudienceKind.AGENTS)) == [
        somme.ham_agent.id,
        somme.albert_agent.id,
    ]
    ham = Audience(AudienceKind.PARTNERS, frozenset({somme.network.ham.id}))
    assert await reached(db, somme, ham) == [somme.ham_manager.id, somme.ham_agent.id]
    # A site of another Caf chosen by a forged audience reaches nobody of it.
    laon = Audience(AudienceKind.PARTNERS, frozenset({somme.network.laon.id}))
    assert await reached(db, somme, laon) == []
    assert await reached(db, somme, Audience(AudienceKind.PARTNERS)) == []


async def test_revoked_people_and_a_withdrawn_sites_people_are_not_reached(
    db: Database, clock: ManualClock, somme: Somme
) -> None:
    await people.set_status(db, somme.ham_agent.id, PersonStatus.REVOKED, clock.now())
    await partners.set_label(
        db,
        somme.network.albert.id,
        status=LabelStatus.WITHDRAWN,
        reason="Fin de convention",
        now=clock.now(),
        by=None,
    )
    ids = await reached(db, somme, Audience(AudienceKind.ALL))
    assert ids == [somme.coordinator.id, somme.ham_manager.id]


async def test_whoever_joins_later_is_reached_when_it_is_asked_again(
    db: Database, clock: ManualClock, somme: Somme
) -> None:
    agents = Audience(AudienceKind.AGENTS)
    before = await reached(db, somme, agents)
    newcomer = await network_world.join(
        db,
        clock.now(),
        role=Role.AGENT,
        caf=somme.network.somme,
        partner=somme.network.ham,
        telegram_user_id=9010,
        name="Nina",
    )
    assert await reached(db, somme, agents) == [*before, newcomer.id]
