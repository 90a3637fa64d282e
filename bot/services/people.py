"""The network's people: a site's team or the Caf's coordination, one person's card, taking a
person's access away, and changing a person's role or sites (audited, the person told, with
the menu they have from then on).

Who reaches whom: a coordinator, every person of their Caf; a site's manager, the agents of
any of their own sites (bot/services/network.py's `own_person` for coordinators, and here
the manager's several sites). A coordinator places people at any site of the Caf and changes
their role (agent ↔ manager); a manager places their agents among their own sites and does
not change roles: managers are created by the Caf, by invitation as by promotion (the
partner designates its referents, the Caf records them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.models import Caf, Member, Partner, Person
from bot.domain.permissions import LabelStatus, PersonStatus, Role
from bot.domain.person_sites import (
    CannotChange,
    Unchangeable,
    check_changeable,
    check_joinable,
    check_role_change,
    current_after,
    sites_after_move,
    sites_after_removal,
)
from bot.services import audit, links, notify
from bot.services.network import NotTheirs, is_coordinator, own_partner, own_person
from bot.ui import menus
from bot.ui.screens import network as screen
from storage import partners, pending, people
from storage import visits as visit_store
from storage.db import Conn, Database, Tx

__all__ = ["CannotChange", "Unchangeable"]


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
    partner: Partner | None  # the site they work at now
    by_coordinator: bool
    is_self: bool
    sites: list[Partner]  # every site they belong to, by name
    may_place: bool  # the viewer may change their sites (a manager needs two sites of theirs)
    back_to: int | None  # the site whose people « ⬅️ Retour » shows (None: the coordination)


@dataclass(frozen=True)
class SitesChoice:
    """The sites a person may be placed at by this viewer, and those they belong to."""

    person: Person
    sites: list[Partner]
    theirs: frozenset[int]
    by_coordinator: bool


@dataclass(frozen=True)
class Changed:
    """A change made: the person as they now are (for their command list), and their card
    (None when a manager has just placed them out of their reach, at another partner's site)."""

    member: Member | None
    card: PersonCard | None
    site: Partner | None = None  # the site moved to, added or removed


# ------------------------------------------------------------------------------ reach
async def _reach(conn: Conn, by: Member) -> list[Partner]:
    """The sites `by` places people at: the Caf's for a coordinator, their own for a manager."""
    if is_coordinator(by):
        return await partners.list_for_caf(conn, by.caf.id)
    return await people.sites_of(conn, by.person.id)


async def _person(conn: Conn, by: Member, person_id: int) -> Person:
    """The person if `by` may manage them: a manager, the agents of any of their sites."""
    if is_coordinator(by):
        return await own_person(conn, by, person_id)
    person = await people.get(conn, person_id)
    if person is None or person.caf_id != by.caf.id or person.role is not Role.AGENT:
        raise NotTheirs("managers manage their sites' agents only")
    mine = {site.id for site in await people.sites_of(conn, by.person.id)}
    if not mine & {site.id for site in await people.sites_of(conn, person.id)}:
        raise NotTheirs("not an agent of the manager's sites")
    return person


async def _for_role(conn: Conn, by: Member, person_id: int) -> Person:
    """The person whose role `by` may change: the Caf designates managers, not a manager."""
    if not is_coordinator(by):
        raise NotTheirs("roles are changed by the Caf's coordinators")
    return await own_person(conn, by, person_id)


async def _site(conn: Conn, by: Member, partner_id: int) -> Partner:
    """A site of `by`'s reach, or NotTheirs (another Caf's, another partner's, forged)."""
    site = next((p for p in await _reach(conn, by) if p.id == partner_id), None)
    if site is None:
        raise NotTheirs("not a site this member places people at")
    return site


# ------------------------------------------------------------------------------ reading
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


async def card(conn: Conn, member: Member, person_id: int) -> PersonCard:
    person = await _person(conn, member, person_id)
    coordinator = is_coordinator(member)
    partner = await partners.get(conn, person.partner_id) if person.partner_id else None
    return PersonCard(
        person,
        partner,
        coordinator,
        person.id == member.person.id,
        await people.sites_of(conn, person.id),
        may_place=coordinator or member.site_count > 1,
        back_to=person.partner_id if coordinator else member.person.partner_id,
    )


async def role_question(db: Database, by: Member, person_id: int, role: Role) -> PersonCard:
    """The person whose role `by` may make `role`, to confirm it (coordinators only)."""
    check_role_change(await _for_role(db, by, person_id), role)
    return await card(db, by, person_id)


async def placing(db: Database, by: Member, person_id: int) -> SitesChoice:
    """The sites `by` may place the person at (not withdrawn, but those they keep), with the
    person's own, for « 🏠 Changer de site » and « 🗂 Ses sites »."""
    person = await _person(db, by, person_id)
    check_changeable(person)
    theirs = frozenset(site.id for site in await people.sites_of(db, person.id))
    shown = [
        site
        for site in await _reach(db, by)
        if site.id in theirs or site.label_status is not LabelStatus.WITHDRAWN
    ]
    return SitesChoice(person, shown, theirs, is_coordinator(by))


# ------------------------------------------------------------------------------ revoking
async def revocable(conn: Conn, member: Member, person_id: int) -> Person:
    """The person whose access this member may take away now (to confirm it)."""
    person = await _person(conn, member, person_id)
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
        await links.cancel_made_by(tx, by, person.id, now)  # their links go with them
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


# ------------------------------------------------------------------------------ role and sites
async def change_role(
    db: Database, by: Member, person_id: int, role: Role, now: datetime
) -> Changed:
    """Agent ↔ manager (coordinators only): audited, the person told with their new menu."""
    async with db.transaction() as tx:
        person = await _for_role(tx, by, person_id)
        check_role_change(person, role)
        await people.set_role(tx, person.id, role)
        if role is Role.AGENT:
            # An agent invites nobody: the links they made as a manager go with the role.
            await links.cancel_made_by(tx, by, person.id, now)
        await audit.record(
            tx, by, "person.role_changed", now, ("person", person.id), details={"role": role.value}
        )
        return await _told(tx, by, person, "role", now)


async def move(db: Database, by: Member, person_id: int, partner_id: int, now: datetime) -> Changed:
    """🏠 The person works at `partner_id` from now on, and there only (of `by`'s sites)."""
    async with db.transaction() as tx:
        person = await _person(tx, by, person_id)
        check_changeable(person)
        site = await _site(tx, by, partner_id)
        check_joinable(site)
        theirs = {p.id for p in await people.sites_of(tx, person.id)}
        reach = {p.id for p in await _reach(tx, by)}
        sites = sites_after_move(theirs, reach, site.id)
        if sites == theirs and person.partner_id == site.id:
            raise CannotChange(Unchangeable.UNCHANGED)
        await people.set_sites(tx, person.id, sites, site.id, now)
        await audit.record(
            tx, by, "person.moved", now, ("person", person.id), details={"partner": site.id}
        )
        return await _told(tx, by, person, "sites", now, site)


async def add_site(
    db: Database, by: Member, person_id: int, partner_id: int, now: datetime
) -> Changed:
    """🗂 The person works at `partner_id` too; where they work now does not change."""
    async with db.transaction() as tx:
        person = await _person(tx, by, person_id)
        check_changeable(person)
        site = await _site(tx, by, partner_id)
        check_joinable(site)
        theirs = {p.id for p in await people.sites_of(tx, person.id)}
        if site.id in theirs:
            raise CannotChange(Unchangeable.UNCHANGED)
        current = current_after(person.partner_id, theirs | {site.id})
        await people.set_sites(tx, person.id, theirs | {site.id}, current, now)
        await audit.record(
            tx, by, "person.site_added", now, ("person", person.id), details={"partner": site.id}
        )
        return await _told(tx, by, person, "sites", now, site)


async def remove_site(
    db: Database, by: Member, person_id: int, partner_id: int, now: datetime
) -> Changed:
    """🗂 The person no longer works at `partner_id`; they always keep one site at least."""
    async with db.transaction() as tx:
        person = await _person(tx, by, person_id)
        check_changeable(person)
        site = await _site(tx, by, partner_id)
        theirs = {p.id for p in await people.sites_of(tx, person.id)}
        sites = sites_after_removal(theirs, site.id)
        await people.set_sites(tx, person.id, sites, current_after(person.partner_id, sites), now)
        await audit.record(
            tx,
            by,
            "person.site_removed",
            now,
            ("person", person.id),
            details={"partner": site.id},
        )
        return await _told(tx, by, person, "sites", now, site)


async def _told(
    tx: Tx, by: Member, before: Person, what: str, now: datetime, site: Partner | None = None
) -> Changed:
    """The person told what changed, by whom (their role), with the menu they now have."""
    after = await people.member(tx, before.id)
    assert after is not None  # changed in this very transaction
    sites = await people.sites_of(tx, before.id)
    coordinator = is_coordinator(by)
    if what == "role":
        text = screen.role_notice(after, by_coordinator=coordinator)
    else:
        text = screen.sites_notice(after, sites, by_coordinator=coordinator)
    await notify.to_person(
        tx,
        after.person,
        kind=f"person_{what}",
        # What they now are is in the key: two changes in the same instant are two notices.
        key=f"person:{before.id}:{what}:{_state(after, sites)}:{now.isoformat()}",
        text=text,
        now=now,
        markup=menus.main_menu(after.actor),
    )
    try:
        shown: PersonCard | None = await card(tx, by, before.id)
    except NotTheirs:
        shown = None
    return Changed(after, shown, site)


def _state(member: Member, sites: list[Partner]) -> str:
    return "-".join([member.person.role.value, *(str(site.id) for site in sites)])
