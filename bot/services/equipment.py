"""💻 Équipement du site (Article 8): the list the site's managers keep, one use case each.

A site out of the member's reach raises `NotTheirs` (bot/services/network.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import equipment as rules
from bot.domain.models import Member, Partner
from bot.services import audit
from bot.services.network import NotTheirs, own_partner
from storage import equipment as store
from storage.db import Database


@dataclass(frozen=True)
class EquipmentView:
    partner: Partner
    declared: dict[str, bool]  # item code → present (only the items told)


async def view(db: Database, member: Member, partner_id: int) -> EquipmentView:
    async with db.read() as conn:
        partner = await own_partner(conn, member, partner_id)
        return EquipmentView(partner, await store.of_site(conn, partner.id))


async def toggle(
    db: Database, member: Member, partner_id: int, index: int, now: datetime
) -> EquipmentView:
    """One item, by its place in the list: present ↔ missing, audited."""
    if not 0 <= index < len(rules.EQUIPMENT):
        raise NotTheirs("no such equipment")
    item = rules.EQUIPMENT[index].code
    async with db.transaction() as tx:
        partner = await own_partner(tx, member, partner_id)
        declared = await store.of_site(tx, partner.id)
        present = rules.toggled(declared.get(item))
        await store.declare(tx, partner.id, item, present, now)
        details = {"partner": partner.id, "item": item, "present": present}
        await audit.record(
            tx, member, "equipment.changed", now, ("partner", partner.id), details=details
        )
        return EquipmentView(partner, {**declared, item: present})
