"""🏛 Visite annuelle: the outcome of the Caf's yearly visit to a site and its action plan."""

from __future__ import annotations

from telegram import Update

from conversations.common import Ctx, guarded


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    raise NotImplementedError  # being built in this change
