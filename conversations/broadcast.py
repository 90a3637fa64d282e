"""Placeholder, replaced by the broadcast flow."""

from __future__ import annotations

from telegram import Update

from conversations.common import Ctx, guarded


@guarded
async def open_menu(update: Update, ctx: Ctx) -> None:
    return None


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
