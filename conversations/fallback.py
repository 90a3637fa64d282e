"""What the bot does with everything no flow expects: files, groups, unknown input, errors.

Typed answers and expected files are served here from the flows' tables
(`conversations.text_input`); /annuler drops what was half done (bot/services/unfinished.py);
the texts are bot/ui/screens/fallback.py.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.context import Ctx
from bot.services import unfinished
from bot.ui.screens import fallback as screen
from conversations import text_input, visit
from conversations.common import current_member, guarded, send, show_menu

log = logging.getLogger(__name__)


@guarded
async def attachment(update: Update, ctx: Ctx) -> None:
    """Article 5: a document, photo, voice note or video is never downloaded nor kept.

    The bot never calls getFile; it deletes the message from the chat where Telegram allows
    it and reminds the sender why.
    """
    message = update.effective_message
    assert message is not None
    member = await current_member(update, ctx)
    # A coordinator's own document or photo, where their flow asks for one, is kept by id.
    if member is not None and await text_input.handle_file(update, ctx, member):
        return
    deleted = False
    try:
        deleted = bool(await message.delete())
    except (BadRequest, Forbidden):
        deleted = False
    await show_menu(update, ctx, member, screen.attachment_refused(deleted))


@guarded
async def unknown_command(update: Update, ctx: Ctx) -> None:
    member = await current_member(update, ctx)
    await show_menu(update, ctx, member, screen.unknown_command())


@guarded
async def unknown_text(update: Update, ctx: Ctx) -> None:
    """Text where buttons are expected: the visit in progress is shown again, else the menu."""
    member = await current_member(update, ctx)
    if member is not None and await text_input.handle_text(update, ctx, member):
        return
    if member is not None and await visit.resend_open_draft(update, ctx, member):
        return
    await show_menu(update, ctx, member, screen.unknown_input())


@guarded
async def cancel(update: Update, ctx: Ctx) -> None:
    """/annuler: stops whatever flow is in progress; nothing half-done is kept."""
    member = await current_member(update, ctx)
    something = False
    if member is not None:
        something = await unfinished.drop(ctx.db, member, ctx.clock.now())
        something = await visit.abandon_open_draft(update, ctx, member) or something
    await show_menu(update, ctx, member, screen.cancelled(something))


@guarded
async def unknown_callback(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(screen.stale_button())


async def group_chat(update: Update, ctx: Ctx) -> None:
    """Groups get no service (a notification chat is read-only): one short answer."""
    chat = update.effective_chat
    if chat is not None:
        await send(ctx, chat.id, screen.group_chat())


async def on_error(update: object, ctx: Ctx) -> None:
    """Logs the traceback (never the token: the log filter; never message text) and tells
    the person, in French, that nothing was lost."""
    log.error("Erreur pendant le traitement d'une mise à jour", exc_info=ctx.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        if update.effective_chat.type != "private":
            return
        try:
            if update.callback_query is not None:
                # The handler may have answered the tap before failing, and Telegram refuses
                # a second answer: that must not keep the message from being sent.
                with contextlib.suppress(BadRequest):
                    await update.callback_query.answer()
            await send(ctx, update.effective_chat.id, screen.error())
        except TelegramError:
            log.warning("Could not tell the person about the error")
