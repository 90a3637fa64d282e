"""📍 Where a person of several sites works today: their sites to choose from, and the choice
(their current site, which visits, figures and permissions follow, and the local day they
said so: they are asked once a day). bot/domain/person_sites.py says when to ask."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.models import Member, Partner
from bot.domain.permissions import LabelStatus
from bot.services import audit
from bot.services.network import NotTheirs
from storage import people
from storage.db import Database


class SiteWithdrawn(Exception):
    """The site chosen has lost its label since the question was shown."""


@dataclass(frozen=True)
class Chosen:
    before: Member
    after: Member
    partner: Partner
    again: bool  # that very site was chosen today already: nothing changed (a double tap)


def today(member: Member, now: datetime) -> date:
    """The local day in the person's Caf: the day the question is asked for."""
    return now.astimezone(member.caf.zone).date()


async def sites(db: Database, member: Member) -> list[Partner]:
    """The person's sites they may work at (a withdrawn site is no longer one), by name."""
    return [
        site
        for site in await people.sites_of(db, member.person.id)
        if site.label_status is not LabelStatus.WITHDRAWN
    ]


async def choose(db: Database, member: Member, partner_id: int, now: datetime) -> Chosen:
    """The person works at `partner_id` today; a change of site is audited."""
    day = today(member, now)
    async with db.transaction() as tx:
        before = await people.member(tx, member.person.id)
        assert before is not None  # the person behind this very update
        site = next(
            (p for p in await people.sites_of(tx, before.person.id) if p.id == partner_id), None
        )
        if site is None:
            raise NotTheirs("not one of the person's sites")
        if site.label_status is LabelStatus.WITHDRAWN:
            raise SiteWithdrawn(site.name)
        again = before.person.partner_id == site.id and before.person.site_chosen_on == day
        if not again:
            await people.set_current_site(tx, before.person.id, site.id, day)
        if before.person.partner_id != site.id:
            await audit.record(tx, before, "person.site_chosen", now, ("partner", site.id))
        after = await people.member(tx, before.person.id)
        assert after is not None
    return Chosen(before, after, site, again)
