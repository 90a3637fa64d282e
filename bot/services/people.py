"""The network's people: a site's team or the Caf's coordination, one person's card, and
taking a person's access away (audited, the person told, their open visit dropped)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.models import Caf, Member, Partner, Person
from bot.domain.permissions import PersonStatus, Role
from bot.services import audit, notify
from bot.services.network import NotTheirs, is_coordinator, own_partner, own_person
from bot.ui.screens import network as screen
from storage import partners, pending, people
from storage import visits as visit_store
from storage.db import Conn, Database


class AlreadyRevoked(Exception):
    """The person's access was taken away already (a double tap, another coordinator)."""


@dataclass(frozen=True)
class Team:
    """A site's people, revoked ones included, or (without a site) the Caf's coordinators."""

    caf: Caf
    partner: Partner | None
    people: list[Person]
    by_coordinator: bool


@dataclass(frozen=True)
class PersonCard:
    person: Person
    partner: Partner | None
    by_coordinator: bool
    is_self: bool


async def team(db: Database, member: Member, partner_id: int | None) -> Team:
    """`partner_id` None: the Caf's coordination (coordinators only)."""
    coordinator = is_coordinator(member)
    if partner_id is None:
        if not coordinator:
            raise NotTheirs("the coordination is the coordinators'")
        everyone = await people.list_for_caf(
            db, member.caf.id, role=Role.COORDINATOR, active_only=False
        )
        return Team(member.caf, None, everyone, coordinator)
    partner = await own_partner(db, member, partner_id)
    everyone = await people.list_for_partner(db, partner.id, active_only=False)
    return Team(member.caf, partner, everyone, coordinator)


async def card(db: Database, member: Member, person_id: int) -> PersonCard:
    person = await own_person(db, member, person_id)
    partner = await partners.get(db, person.partner_id) if person.partner_id else None
    return PersonCard(person, partner, is_coordinator(member), person.id == member.person.id)


async def revocable(conn: Conn, member: Member, person_id: int) -> Person:
    """The person whose access this member may take away now (to confirm it)."""
    person = await own_person(conn, member, person_id)
    if person.status is PersonStatus.REVOKED:
        raise AlreadyRevoked(person.display_name)
    if person.id == member.person.id:
        raise NotTheirs("one does not revoke oneself")
    return person


async def revoke(db: Database, by: Member, person_id: int, now: datetime) -> Member | None:
    """Takes the person's access away; returns them as they now are (None once erased).

    Their typed question and their open visit are dropped, and they are told, in the
    same transaction."""
    async with db.transaction() as tx:
        person = await revocable(tx, by, person_id)
        await people.set_status(tx, person.id, PersonStatus.REVOKED, now)
        await pending.clear(tx, person.id)
        await visit_store.abandon_open(tx, person.id, now)
        await audit.record(tx, by, "person.revoked", now, ("person", person.id))
        text, menu = screen.revoked_notice(by.caf)
        await notify.to_person(
            tx,
            person,
            kind="access_revoked",
            key=f"revoked:{person.id}:{now.isoformat()}",
            text=text,
            now=now,
            markup=menu,
        )
    return await people.member(db, person.id)
