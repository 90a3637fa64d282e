"""Whose hours and closures a person declares: a site's manager for their own site, a Caf
coordinator for any site of their Caf (« 🕘 Horaires du site », from 🏢 Réseau, for a site
that has no manager).

The use cases of bot/services/hours.py and bot/services/closures.py take the site
explicitly and check it here. What they raise for the Caf is told to its coordinators, but
not to the coordinator who did it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.models import Member, Partner
from bot.domain.permissions import Action, decide
from bot.domain.signals import Signal
from bot.services import notify, signal_notices
from bot.ui.screens import inbox as inbox_screen
from storage import partners
from storage.db import Conn, Tx

OWN_SITE = 0  # what a manager's buttons and typed answers carry: the site is theirs


class NotYourSite(Exception):
    """The site named is not one this person declares for (another Caf's or site's)."""


def is_coordinator(member: Member) -> bool:
    return decide(member.actor, Action.MANAGE_NETWORK) is None


def may_declare(member: Member, site: Partner, action: Action = Action.MANAGE_HOURS) -> bool:
    """A coordinator of the site's Caf, or one of the site's own managers."""
    if is_coordinator(member):
        return site.caf_id == member.caf.id
    return (
        member.partner is not None
        and member.partner.id == site.id
        and decide(member.actor, action) is None
    )


def check(member: Member, site: Partner, action: Action = Action.MANAGE_HOURS) -> None:
    if not may_declare(member, site, action):
        raise NotYourSite(f"site {site.id} is not declared by person {member.person.id}")


async def site_for(conn: Conn, member: Member, site_id: int) -> Partner:
    """The site a button or a typed answer names: `OWN_SITE` (or its own number) is the
    person's own, any other number a site of the coordinator's Caf (NotYourSite
    otherwise)."""
    if site_id == OWN_SITE or (member.partner is not None and site_id == member.partner.id):
        if member.partner is None:
            raise NotYourSite("no site of one's own")
        return member.partner
    site = await partners.get(conn, site_id) if is_coordinator(member) else None
    if site is None or site.caf_id != member.caf.id:
        raise NotYourSite(f"site {site_id} is not one of this coordinator's Caf")
    return site


async def announce(tx: Tx, member: Member, signal: Signal, *, tz: ZoneInfo, now: datetime) -> None:
    """The Caf's coordinators told of a new signal (as `signal_notices.announce`), but the
    coordinator who raised it by declaring for a site."""
    if not is_coordinator(member):
        await signal_notices.announce(tx, member.caf, signal, tz=tz, now=now)
        return
    view = await signal_notices.view(tx, signal, thread=False)
    text, markup = inbox_screen.new_signal_notice(view, tz=tz, now=now)
    await notify.to_coordinators(
        tx,
        member.caf,
        kind="signal_new",
        key=f"signal:{signal.id}:new",
        text=text,
        now=now,
        markup=markup,
        exclude_person_id=member.person.id,
    )
