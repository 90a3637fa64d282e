"""A site's label: suspended, withdrawn or reactivated by a coordinator, with a reason.

The change, its history, its audit record and the notices (each person of the site, with
the menu their new label allows; the Caf's other coordinators and its group) are one
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.models import Caf, Member, Partner, Person
from bot.domain.permissions import LabelStatus
from bot.services import audit, notify
from bot.services.network import own_partner
from bot.services.partners import SiteCard
from bot.ui.screens import network as screen
from storage import partners, pending, people
from storage.db import Database, Tx


class Unchanged(Exception):
    """The label already has the status asked for."""

    def __init__(self, status: LabelStatus) -> None:
        super().__init__(status.value)
        self.status = status


@dataclass(frozen=True)
class LabelChange:
    card: SiteCard  # the site as it now is
    told: list[Member]  # its people, as they now are (their commands follow their label)


async def changeable(db: Database, by: Member, partner_id: int, status: LabelStatus) -> Partner:
    """The site whose label may be set to `status` (before its reason is asked)."""
    partner = await own_partner(db, by, partner_id)
    if status is partner.label_status:
        raise Unchanged(status)
    return partner


async def change(
    db: Database, by: Member, partner_id: int, status: LabelStatus, reason: str, now: datetime
) -> LabelChange:
    """Suspend, withdraw or reactivate a site's label, audited, and tell its people."""
    async with db.transaction() as tx:
        partner = await own_partner(tx, by, partner_id)
        await pending.clear(tx, by.person.id)
        site_people = await apply(tx, by.caf, partner, status, reason, now, by=by)
    told = [m for p in site_people if (m := await people.member(db, p.id)) is not None]
    fresh = await partners.get(db, partner.id)
    assert fresh is not None
    return LabelChange(SiteCard(fresh, site_people), told)


async def apply(
    tx: Tx,
    caf: Caf,
    partner: Partner,
    status: LabelStatus,
    reason: str,
    now: datetime,
    *,
    by: Member | None,
    caf_text: str | None = None,
) -> list[Person]:
    """The change itself, in the caller's transaction: history, audit, notices; `by` None
    when the bot makes it (a notice of termination taking effect, bot/services/termination.py),
    which then says in `caf_text` what the Caf is told. Returns the site's people."""
    history_id = await partners.set_label(
        tx, partner.id, status=status, reason=reason, now=now, by=by.person.id if by else None
    )
    details = {"from": partner.label_status.value, "to": status.value}
    on = ("partner", partner.id)
    await audit.record(tx, by, "label.changed", now, on, caf_id=caf.id, details=details)
    changed = partner.model_copy(update={"label_status": status, "label_reason": reason})
    site_people = await people.list_for_partner(tx, partner.id)
    key = f"label:{history_id}"
    text = screen.label_notice(changed, caf)
    for person in site_people:
        # Their menu as they now stand: someone of several sites may work elsewhere today.
        member = await people.member(tx, person.id)
        await notify.to_person(
            tx,
            person,
            kind="label_notice",
            key=f"{key}:{person.id}",
            text=text,
            now=now,
            markup=screen.menu_of(member) if member else None,
        )
    if caf_text is None:
        assert by is not None, "the bot's own changes say what the Caf is told"
        caf_text = screen.label_notice_caf(changed, by.person)
    await notify.to_coordinators(
        tx,
        caf,
        kind="label_notice",
        key=key,
        text=caf_text,
        now=now,
        exclude_person_id=by.person.id if by else None,
    )
    return site_people
