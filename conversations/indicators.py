"""📈 Indicateurs: Annexe 2 figures of a site or the Caf, charts, Excel, transmission."""

from __future__ import annotations

from telegram import Update

from bot.domain.permissions import Action
from conversations.common import Ctx, guarded, require


@guarded
async def open_indicators(update: Update, ctx: Ctx) -> None:
    await require(update, ctx, Action.INDICATORS)
    raise NotImplementedError  # being built in this change


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    raise NotImplementedError  # being built in this change


@guarded
async def on_transmit(update: Update, ctx: Ctx) -> None:
    raise NotImplementedError  # being built in this change
