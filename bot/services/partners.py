"""The Caf's sites: the network's overview and each site's card, adding sites (one typed in
the bot; many from a file: bot/services/site_import.py), editing them, and their label
certificate.

Each change is one transaction with its audit record. `by` is the coordinator acting, or
None for the server's operator at the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import offload
from bot.domain import renewal, site_identity
from bot.domain.models import Caf, Member, Partner, Person
from bot.domain.permissions import LabelStatus
from bot.domain.site_identity import SiteIdentityError
from bot.exports import certificate as certificates
from bot.services import audit
from bot.services.network import own_partner
from storage import partners, pending, people
from storage.db import Conn, Database
from storage.partners import DuplicatePartner, PartnerRow

__all__ = ["DuplicatePartner", "PartnerRow", "SiteIdentityError"]

CONVENTION_START = "convention_start"
# Fields typed in the bot; the convention's start has a use case of its own.
EDITABLE = partners.EDITABLE_FIELDS
# What a coordinator types for « no address ».
NO_ADDRESS = "-"


class LabelWithdrawn(Exception):
    """A site whose label is withdrawn gets no certificate."""


@dataclass(frozen=True)
class Overview:
    """The Caf's sites and how many active people each has."""

    caf: Caf
    sites: list[Partner]
    people: dict[int, int]


@dataclass(frozen=True)
class SiteCard:
    """A site as its card shows it: the site and its active people."""

    partner: Partner
    people: list[Person]


@dataclass(frozen=True)
class ConventionStart:
    card: SiteCard
    start: date
    today: date
    term: renewal.Term


@dataclass(frozen=True)
class Certificate:
    partner: Partner
    day: date
    content: bytes
    filename: str


async def overview(db: Database, caf: Caf) -> Overview:
    sites = await partners.list_for_caf(db, caf.id)
    return Overview(caf, sites, await people.count_active_by_partner(db, caf.id))


async def card(db: Database, member: Member, partner_id: int) -> SiteCard:
    """The card of a site this member may manage."""
    return await _card(db, await own_partner(db, member, partner_id))


async def site(db: Database, member: Member, partner_id: int) -> Partner:
    """A site this member may manage (for a question about it)."""
    return await own_partner(db, member, partner_id)


async def _card(conn: Conn, partner: Partner) -> SiteCard:
    return SiteCard(partner, await people.list_for_partner(conn, partner.id))


async def add(
    db: Database, by: Member, *, name: str, city: str, address: str, now: datetime
) -> SiteCard:
    """The coordinator's new site, label active; the typed questions end either way.

    Raises DuplicatePartner (after the questions are closed) when the Caf has it already."""
    async with db.transaction() as tx:
        try:
            partner: Partner | None = await partners.add(
                tx,
                caf_id=by.caf.id,
                name=name,
                city=city,
                address="" if address == NO_ADDRESS else address,
                now=now,
            )
        except DuplicatePartner:
            partner = None
        await pending.clear(tx, by.person.id)
        if partner is not None:
            await audit.record(tx, by, "partner.created", now, _on(partner))
    if partner is None:
        raise DuplicatePartner(f"{name} ({city})")
    return SiteCard(partner, [])


async def edit(
    db: Database, by: Member, partner_id: int, field: str, value: str, now: datetime
) -> SiteCard:
    """A site's name, town or address as typed. Raises DuplicatePartner when another site of
    the Caf has that name in that town (the question stands)."""
    if field not in EDITABLE:
        raise ValueError(f"not an editable field: {field}")
    if field == "address" and value == NO_ADDRESS:
        value = ""
    stored: str | None = value
    if field in site_identity.FIELDS:  # raises SiteIdentityError: the question stands
        stored = None if value.strip() == NO_ADDRESS else site_identity.checked(field, value)
    async with db.transaction() as tx:
        partner = await own_partner(tx, by, partner_id)
        if field in ("name", "city") and await partners.exists(
            tx,
            caf_id=partner.caf_id,
            name=value if field == "name" else partner.name,
            city=value if field == "city" else partner.city,
            exclude_id=partner.id,
        ):
            raise DuplicatePartner(value)
        await partners.update_field(tx, partner.id, field, stored)
        await pending.clear(tx, by.person.id)
        details = {"field": field}
        await audit.record(tx, by, "partner.updated", now, _on(partner), details=details)
    return await card(db, by, partner_id)


async def set_convention_start(
    db: Database, by: Member, partner_id: int, typed: str, now: datetime
) -> ConventionStart:
    """The typed start of the convention (Article 11), from which renewal reminders follow.

    Raises renewal.ConventionDateError when the text is no date (the question stands)."""
    today = now.astimezone(ZoneInfo(by.caf.timezone)).date()
    start = renewal.parse_convention_start(typed, today)
    async with db.transaction() as tx:
        partner = await own_partner(tx, by, partner_id)
        await partners.set_convention_start(tx, partner.id, start)
        await pending.clear(tx, by.person.id)
        before = partner.convention_start.isoformat() if partner.convention_start else None
        details: dict[str, object] = {
            "field": CONVENTION_START,
            "from": before,
            "to": start.isoformat(),
        }
        await audit.record(tx, by, "partner.updated", now, _on(partner), details=details)
    site_card = await card(db, by, partner_id)
    return ConventionStart(site_card, start, today, renewal.next_notice(start, today))


async def certifiable(db: Database, by: Member, partner_id: int) -> Partner:
    """The site, if a certificate can be made for it: one of the Caf's (else NotTheirs),
    whose label is not withdrawn (else LabelWithdrawn)."""
    partner = await own_partner(db, by, partner_id)
    if partner.label_status is LabelStatus.WITHDRAWN:
        raise LabelWithdrawn(partner.title)
    return partner


async def certificate(db: Database, by: Member, partner_id: int, now: datetime) -> Certificate:
    """The site's Annexe 1 certificate as a PDF, dated today at the Caf, and audited.

    Raises LabelWithdrawn for a site whose label is withdrawn."""
    partner = await certifiable(db, by, partner_id)
    day = now.astimezone(ZoneInfo(by.caf.timezone)).date()
    # Drawn in a child process: reportlab never enters the bot's memory.
    content = await offload.run(
        certificates.certificate_pdf,
        caf_name=by.caf.name,
        partner_name=partner.name,
        town=certificates.town_of(partner),
        day=day,
        logo_path=Path(by.caf.logo_path) if by.caf.logo_path else None,
        caf_town=by.caf.city,
        partner_logo_path=Path(partner.logo_path) if partner.logo_path else None,
    )
    async with db.transaction() as tx:
        details = {"date": day.isoformat()}
        await audit.record(tx, by, "certificate.generated", now, _on(partner), details=details)
    return Certificate(partner, day, content, certificates.certificate_filename(partner.name))


def _on(partner: Partner) -> tuple[str, int]:
    """What the audit records of a site are about."""
    return ("partner", partner.id)


async def set_logo(
    db: Database, partner_id: int, logo_path: str | None, now: datetime
) -> Partner | None:
    """The site's logo for its certificate (a checked file on the server, or None to remove
    it), set by the server's operator (`partners set ID --logo`), audited. None: no such
    site."""
    async with db.transaction() as tx:
        partner = await partners.get(tx, partner_id)
        if partner is None:
            return None
        await partners.set_logo(tx, partner_id, logo_path)
        details: dict[str, object] = {"field": "logo", "to": logo_path}
        await audit.record(
            tx, None, "partner.updated", now, _on(partner), caf_id=partner.caf_id, details=details
        )
        return await partners.get(tx, partner_id)
