"""✅ Conformité (/conformite): each site against the convention, the sites at risk first.

The rules are bot/domain/compliance.py, the assessment bot/services/compliance.py, the
screens bot/ui/screens/compliance.py. Screens are edited in place; every tap is authorised
again and a site of another Caf is refused.
"""

from __future__ import annotations

from telegram import Message, Update

from bot.context import Ctx
from bot.domain.models import Member
from bot.domain.permissions import Action
from bot.services import compliance
from bot.ui.callbacks import BadCallback, ComplianceTap
from bot.ui.screens import compliance as screen
from bot.ui.screens.compliance import ComplianceOp
from conversations.common import chat_id_of, edit, guarded, open_flow, send
from conversations.taps import TapTable

TAPS = TapTable(ComplianceTap, ComplianceOp)


@guarded
async def open_compliance(update: Update, ctx: Ctx) -> None:
    """The menu entry ✅ Conformité (coordinators)."""
    member = await open_flow(update, ctx, Action.COMPLIANCE)
    everything = await compliance.assessments(ctx.db, member.caf, ctx.clock.now())
    await send(ctx, chat_id_of(update), *screen.site_list(member.caf, everything, 0))


@TAPS.on(ComplianceOp.LIST, needs=Action.COMPLIANCE)
async def show_list(ctx: Ctx, member: Member, tap: ComplianceTap, message: Message | None) -> None:
    everything = await compliance.assessments(ctx.db, member.caf, ctx.clock.now())
    await edit(message, *screen.site_list(member.caf, everything, tap.page))


@TAPS.on(ComplianceOp.SITE, needs=Action.COMPLIANCE)
async def show_site(ctx: Ctx, member: Member, tap: ComplianceTap, message: Message | None) -> None:
    found = await compliance.assessments(ctx.db, member.caf, ctx.clock.now(), tap.item)
    if not found:  # forged, or a site of another Caf: the assessment is scoped to this Caf
        raise BadCallback("not a site of this Caf")
    await edit(message, *screen.site(found[0], tap.page))
