"""📚 Documentation — placeholder, replaced by the documentation flow."""

from __future__ import annotations

from telegram import Update

from bot.domain.permissions import Action
from conversations.common import Ctx, guarded, require, send


@guarded
async def open_documentation(update: Update, ctx: Ctx) -> None:
    await require(update, ctx, Action.DOCUMENTATION)
    await send(ctx, update.effective_chat.id, "📚 Documentation")  # type: ignore[union-attr]


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
