"""💻 Équipement du site (Article 8): a site's managers keep the list of what the site offers
the public, from 👥 Mon équipe; the yearly visit shows it for the Caf to confirm.

The use cases are bot/services/equipment.py, the screens bot/ui/screens/equipment.py.
A site out of the member's reach is answered like a stale button.
"""

from __future__ import annotations

from telegram import Message

from bot.context import Ctx
from bot.domain.models import Member
from bot.domain.permissions import Action
from bot.services import equipment
from bot.services.network import NotTheirs
from bot.ui.callbacks import EquipmentTap
from bot.ui.screens import equipment as screen
from bot.ui.screens.equipment import EquipmentOp
from conversations.common import edit
from conversations.taps import TapTable

TAPS = TapTable(EquipmentTap, EquipmentOp, stale=(NotTheirs,))
# A site's managers keep it; a coordinator of the Caf may too.
EITHER_PARTY = (Action.MANAGE_NETWORK, Action.MANAGE_SITE_AGENTS)


@TAPS.on(EquipmentOp.SHOW, needs=EITHER_PARTY)
async def show(ctx: Ctx, member: Member, tap: EquipmentTap, message: Message | None) -> None:
    await edit(message, *screen.card(await equipment.view(ctx.db, member, tap.partner)))


@TAPS.on(EquipmentOp.TOGGLE, needs=EITHER_PARTY)
async def toggle(ctx: Ctx, member: Member, tap: EquipmentTap, message: Message | None) -> str:
    found = await equipment.toggle(ctx.db, member, tap.partner, tap.item, ctx.clock.now())
    await edit(message, *screen.card(found))
    return screen.CHANGED
