"""What the bot does with everything no flow expects: files, groups, unknown input, errors.

Typed answers and expected files are served here from the flows' tables
(`conversations.text_input`); text typed where a flow has buttons shows that flow's current
step again (`conversations.live_screen`); /annuler drops what was half done
(bot/services/unfinished.py); the texts are bot/ui/screens/fallback.py.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.context import Ctx
from bot.domain import privacy
from bot.domain.models import Member
from bot.services import unfinished
from bot.ui.screens import fallback as screen
from conversations import live_screen, text_input, visit
from conversations.common import chat_id_of, current_member, guarded, send, show_menu

log = logging.getLogger(__name__)


@guarded
async def attachment(update: Update, ctx: Ctx) -> None:
    """Article 5: a document, photo, voice note or video is never downloaded nor kept.

    The bot calls getFile for one thing only: the list of sites a coordinator sends in
    « ⚙️ Ma Caf » while that flow asks for it (conversations/caf_settings.py: a list of
    sites, not data on the public, read then deleted). Anything else is deleted from the
    chat where Telegram allows it, and the sender is told why.
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
    """Text where buttons are expected: the current step of the flow in progress is shown
    again (the visit's open draft, else the latest screen of any flow), else the menu."""
    member = await current_member(update, ctx)
    if member is not None and await text_input.handle_text(update, ctx, member):
        return
    if member is not None and await visit.resend_open_draft(update, ctx, member):
        return
    if await _refused_identifier(update, ctx, member):
        return
    if await _current_step_again(update, ctx):
        return
    await show_menu(update, ctx, member, screen.unknown_input())


async def _refused_identifier(update: Update, ctx: Ctx, member: Member | None) -> bool:
    """Article 5: a text typed outside any flow that carries an identifier is deleted from
    the chat (nothing stores it, but it would stay there), and the person is told why."""
    message = update.effective_message
    found = privacy.screen(text_input.screened_text(message) if message else "")
    if message is None or found.ok:
        return False
    with contextlib.suppress(TelegramError):
        await message.delete()
    await show_menu(update, ctx, member, found.message())
    return True


async def _current_step_again(update: Update, ctx: Ctx) -> bool:
    """The chat's latest flow screen in a new message, the old copy without its buttons
    (conversations/live_screen.py); False when no flow showed one lately."""
    message = update.effective_message
    max_age = timedelta(hours=ctx.settings.draft_max_age_hours)
    typed_at = message.date if message else None
    notice = screen.use_the_buttons()
    return await live_screen.reshow(ctx, chat_id_of(update), typed_at, max_age, notice)


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
