"""A site's label: suspended, withdrawn or reactivated by a coordinator, with a reason.

The change, its history, its audit record and the notices (each person of the site, with
the menu their new label allows; the Caf's other coordinators and its group) are one
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.models import Member, Partner
from bot.domain.permissions import LabelStatus
from bot.services import audit, notify
from bot.services.network import own_partner
from bot.services.partners import SiteCard
from bot.ui.screens import network as screen
from storage import partners, pending, people
from storage.db import Database


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
        history_id = await partners.set_label(
            tx, partner.id, status=status, reason=reason, now=now, by=by.person.id
        )
        await pending.clear(tx, by.person.id)
        details = {"from": partner.label_status.value, "to": status.value}
        await audit.record(tx, by, "label.changed", now, ("partner", partner.id), details=details)
        changed = partner.model_copy(update={"label_status": status, "label_reason": reason})
        site_people = await people.list_for_partner(tx, partner.id)
        key = f"label:{history_id}"
        text = screen.label_notice(changed, by.caf)
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
        await notify.to_coordinators(
            tx,
            by.caf,
            kind="label_notice",
            key=key,
            text=screen.label_notice_caf(changed, by.person),
            now=now,
            exclude_person_id=by.person.id,
        )
    told = [m for p in site_people if (m := await people.member(db, p.id)) is not None]
    fresh = await partners.get(db, partner.id)
    assert fresh is not None
    return LabelChange(SiteCard(fresh, site_people), told)
