"""Invitation links as things one can see and cancel: a Caf's or a site's live links, and
cancelling one, in the bot and at the command line.

A coordinator sees and cancels every link of their Caf; a site's manager, the agent links of
their own site(s) only; the server's operator (`by` None), any. A link out of reach is
`NotTheirs`, answered like a stale button. Revoking or erasing a person cancels the links
they made (`cancel_made_by`, inside those use cases' transactions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import invitations as rules
from bot.domain.invitations import InvitationLink
from bot.domain.models import Caf, Member, Partner
from bot.domain.permissions import Role
from bot.services import audit
from bot.services.network import NotTheirs, is_coordinator, own_partner
from storage import cafs, invitations, partners
from storage.db import Conn, Database, Tx


class NotLive(Exception):
    """The link was cancelled, has expired or is used up already (a double tap, a colleague)."""

    def __init__(self, link: InvitationLink) -> None:
        super().__init__(link.id)
        self.link = link


class UnknownLink(LookupError):
    """No link has this number (the command line)."""


@dataclass(frozen=True)
class Links:
    """The live links of a Caf (`partner` None) or of one of its sites, newest first."""

    caf: Caf
    partner: Partner | None
    links: list[InvitationLink]
    by_coordinator: bool


async def listing(
    db: Database,
    by: Member | None,
    partner_id: int | None,
    now: datetime,
    *,
    caf: Caf | None = None,
) -> Links:
    """The live links of `by`'s Caf, or of its site `partner_id`; the operator (`by` None)
    names the Caf. A manager sees their own site's agent links only."""
    async with db.read() as conn:
        if by is None:
            assert caf is not None
            return await _operator_listing(conn, caf, partner_id, now)
        coordinator = is_coordinator(by)
        if partner_id is None and not coordinator:
            raise NotTheirs("the Caf's links are the coordinators'")
        partner = await own_partner(conn, by, partner_id) if partner_id is not None else None
        found = await invitations.live_links(
            conn,
            caf_id=by.caf.id,
            now=now,
            partner_id=partner_id,
            role=None if coordinator else Role.AGENT,
        )
    return Links(by.caf, partner, found, coordinator)


async def _operator_listing(conn: Conn, caf: Caf, partner_id: int | None, now: datetime) -> Links:
    partner = None
    if partner_id is not None:
        partner = await _site_of(conn, caf, partner_id)
    found = await invitations.live_links(conn, caf_id=caf.id, now=now, partner_id=partner_id)
    return Links(caf, partner, found, by_coordinator=True)


async def _site_of(conn: Conn, caf: Caf, partner_id: int) -> Partner:
    partner = await partners.get(conn, partner_id)
    if partner is None or partner.caf_id != caf.id:
        raise NotTheirs("not a site of this Caf")
    return partner


async def _reachable(
    conn: Conn, by: Member | None, invitation_id: int, listed_in: int | None
) -> InvitationLink:
    """The link if `by` may cancel it: their Caf's (a coordinator), an agent link of their
    own site (a manager); any for the operator. `listed_in`: the site whose list the tap
    came from (None: the Caf's), which the link must be on."""
    link = await invitations.link(conn, invitation_id)
    if link is None:
        raise UnknownLink(invitation_id) if by is None else NotTheirs("no such link")
    if by is None:
        return link
    if link.caf_id != by.caf.id:
        raise NotTheirs("not a link of this Caf")
    if listed_in is not None and link.partner_id != listed_in:
        raise NotTheirs("not a link of that site's list")
    if not is_coordinator(by):
        if listed_in is None:
            raise NotTheirs("the Caf's list is the coordinators'")
        if link.role is not Role.AGENT or link.partner_id is None:
            raise NotTheirs("managers cancel their site's agent links only")
        await own_partner(conn, by, link.partner_id)
    return link


async def cancellable(
    db: Database,
    by: Member | None,
    invitation_id: int,
    now: datetime,
    *,
    listed_in: int | None = None,
) -> InvitationLink:
    """The link `by` may cancel now (to confirm it); NotLive when there is nothing left to
    cancel. `listed_in`: the site whose list it was picked from (None: the Caf's)."""
    link = await _reachable(db, by, invitation_id, listed_in)
    if not rules.is_live(link, now):
        raise NotLive(link)
    return link


async def cancel(
    db: Database,
    by: Member | None,
    invitation_id: int,
    now: datetime,
    *,
    listed_in: int | None = None,
) -> InvitationLink:
    """Cancels a live link, audited: its code is then refused (« annulé »). Those who
    joined through it stay. Returns the link as it was. `listed_in`: as `cancellable`."""
    async with db.transaction() as tx:
        link = await _reachable(tx, by, invitation_id, listed_in)
        if not await invitations.cancel(tx, link.id, now):
            raise NotLive(link)
        details = {"role": link.role.value, "partner": link.partner_id, "uses_left": link.uses_left}
        await audit.record(
            tx,
            by,
            "invitation.cancelled",
            now,
            ("invitation", link.id),
            caf_id=link.caf_id,
            details=details,
        )
    return link


async def cancel_made_by(tx: Tx, by: Member | None, person_id: int, now: datetime) -> int:
    """Inside the revocation or the erasure of `person_id`: the live links they made are
    cancelled with them, each audited in the same transaction. How many."""
    cancelled = await invitations.cancel_made_by(tx, person_id, now)
    for link in cancelled:
        details = {"maker": person_id, "role": link.role.value, "partner": link.partner_id}
        on = ("invitation", link.id)
        await audit.record(
            tx, by, "invitation.cancelled", now, on, caf_id=link.caf_id, details=details
        )
    return len(cancelled)


async def caf_named(db: Database, name_or_id: str) -> Caf | None:
    """The command line's `--caf`: a Caf's name (any case) or its number."""
    if name_or_id.isdigit():
        found = await cafs.get(db, int(name_or_id))
        if found is not None:
            return found
    return await cafs.get_by_name(db, name_or_id)
