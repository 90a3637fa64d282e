"""✅ Conformité (/conformite): each site against the convention, the sites at risk first."""

from __future__ import annotations

from telegram import Update

from bot.domain.permissions import Action
from conversations.common import Ctx, guarded, require


@guarded
async def open_compliance(update: Update, ctx: Ctx) -> None:
    await require(update, ctx, Action.COMPLIANCE)
    raise NotImplementedError  # being built in this change


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    raise NotImplementedError  # being built in this change
