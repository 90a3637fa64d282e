"""What a coordinator or a site's manager may reach in the network, checked on every use.

A coordinator reaches every site and person of their own Caf; a manager, their own site and
its agents only. Ids come from buttons and typed answers' context: an id out of reach (forged,
of another Caf, a manager's colleague) is `NotTheirs`, which a screen answers as a stale
button, exactly like forged data.
"""

from __future__ import annotations

from bot.domain.models import Member, Partner, Person
from bot.domain.permissions import Action, Role, decide
from storage import partners, people
from storage.db import Conn


class NotTheirs(LookupError):
    """The site or person named is not one this member may act on (or does not exist)."""


def is_coordinator(member: Member) -> bool:
    return decide(member.actor, Action.MANAGE_NETWORK) is None


async def own_partner(conn: Conn, member: Member, partner_id: int) -> Partner:
    """The site if this member may manage it."""
    partner = await partners.get(conn, partner_id)
    if partner is None or partner.caf_id != member.caf.id:
        raise NotTheirs("not a partner of this Caf")
    if not is_coordinator(member) and partner.id != member.person.partner_id:
        raise NotTheirs("not the manager's site")
    return partner


async def own_person(conn: Conn, member: Member, person_id: int) -> Person:
    """The person if this member may manage them: a manager, their own site's agents only."""
    person = await people.get(conn, person_id)
    if person is None or person.caf_id != member.caf.id:
        raise NotTheirs("not a person of this Caf")
    if not is_coordinator(member) and (
        person.partner_id != member.person.partner_id or person.role is not Role.AGENT
    ):
        raise NotTheirs("managers manage their site's agents only")
    return person
