"""What every handler shares: services, the person behind an update, refusals, replies.

A handler reads top to bottom: parse, authorise (`require`), domain, storage, render. The
`guarded` decorator turns the two expected failures — a refusal from the permission table
and callback data that is not ours — into a French answer, so handlers need no try/except.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from telegram import (
    BotCommandScopeChat,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.context import Ctx
from bot.domain.models import Member
from bot.domain.permissions import STRANGER, Action, Refusal, decide
from bot.domain.secrecy import must_commit
from bot.services import members, pending_input
from bot.ui import callbacks, menus
from bot.ui.callbacks import BadCallback, Callback
from bot.ui.render import render
from bot.ui.screens import secrecy as secrecy_screen
from conversations import live_screen

log = logging.getLogger(__name__)
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


class Refused(Exception):
    def __init__(self, reason: Refusal, member: Member | None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.member = member


async def current_member(update: Update, ctx: Ctx) -> Member | None:
    """The registered person behind this update, read from the database every time."""
    user = update.effective_user
    if user is None:
        return None
    return await members.by_telegram_id(ctx.db, user.id, ctx.clock.now())


async def require(update: Update, ctx: Ctx, action: Action) -> Member:
    """The person behind the update if the permission table lets them do `action`."""
    member = await current_member(update, ctx)
    refusal = decide(member.actor if member else STRANGER, action)
    if refusal is not None:
        raise Refused(refusal, member)
    assert member is not None
    return member


async def open_flow(update: Update, ctx: Ctx, action: Action) -> Member:
    """A menu entry: the person, authorised for `action`, with any typed answer they were
    expected to give forgotten (they chose to do something else)."""
    member = await require(update, ctx, action)
    await pending_input.clear(ctx.db, member.person.id)
    return member


async def send(ctx: Ctx, chat_id: int, text: str, markup: Markup | None = None) -> Message:
    sent = await ctx.bot.send_message(
        chat_id,
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        disable_web_page_preview=True,
    )
    live_screen.noted_sent(ctx.bot, sent, text, markup)  # the chat's current step
    return sent


async def edit(message: Message | None, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edits a bot message in place; "not modified" (a double tap) is not an error."""
    if message is None:
        return
    edited: Message | bool = message
    try:
        edited = await message.edit_text(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
    live_screen.noted_edit(message, text, markup, edited)  # the chat's current step


def chat_id_of(update: Update) -> int:
    """The chat to answer in: every update a handler answers with a message has one."""
    chat = update.effective_chat
    if chat is None:
        raise RuntimeError(f"update {update.update_id} has no chat to answer in")
    return chat.id


COMMANDS_SET = "commands_set"  # bot_data: chat id → the command list last set there


async def set_commands(ctx: Ctx, member: Member) -> None:
    """Telegram's command list for this person's chat shows only what they may use."""
    chat_id = member.person.telegram_user_id
    if chat_id is None:
        return
    commands = menus.commands_for(member.actor)
    try:
        await ctx.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        # The command list is a convenience: the menu works without it.
        log.warning("setMyCommands failed for a chat: %s", exc)
        return
    ctx.bot_data.setdefault(COMMANDS_SET, {})[chat_id] = tuple(commands)


async def _commands_current(ctx: Ctx, member: Member) -> None:
    """Sets the list again when what the person may do changed since it was last set
    here: by a job (a label withdrawn on a notice's date), another instance, a restart."""
    chat_id = member.person.telegram_user_id
    last = ctx.bot_data.get(COMMANDS_SET, {}).get(chat_id)
    if chat_id is not None and last != tuple(menus.commands_for(member.actor)):
        await set_commands(ctx, member)


async def show_menu(update: Update, ctx: Ctx, member: Member | None, text: str) -> None:
    if member is not None:
        await _commands_current(ctx, member)
    if member is not None and must_commit(member.actor):
        # Article 5: until they commit to secrecy, the statement stands for the whole menu.
        await send(ctx, chat_id_of(update), *secrecy_screen.statement(text))
        return
    markup = menus.main_menu(member.actor if member else STRANGER)
    await send(ctx, chat_id_of(update), text, markup)


async def answer_refusal(update: Update, ctx: Ctx, refused: Refused) -> None:
    text = render("refusal", refusal=refused.reason.value)
    query = update.callback_query
    if query is not None:
        await query.answer(_plain(text), show_alert=True)
        person = refused.member.person if refused.member else None
        if refused.reason is Refusal.UNCOMMITTED and person and person.telegram_user_id:
            # The alert cannot carry the button: the statement follows, in their own chat.
            await send(ctx, person.telegram_user_id, *secrecy_screen.statement())
        return
    if update.effective_chat is not None:
        await show_menu(update, ctx, refused.member, text)


async def answer_stale(update: Update, ctx: Ctx) -> None:
    """A button that is not (or no longer) ours: say so, change nothing, offer the menu."""
    query = update.callback_query
    if query is not None:
        await query.answer(render("stale_button"), show_alert=False)


def _plain(html: str) -> str:
    """Callback alerts are plain text (200 characters at most)."""
    text = re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">")
    text = text.replace("&amp;", "&").replace("&quot;", '"').replace("&#x27;", "'")
    return text if len(text) <= 200 else text[:197] + "…"


R = TypeVar("R")


def guarded(
    handler: Callable[[Update, Ctx], Awaitable[R]],
) -> Callable[[Update, Ctx], Coroutine[Any, Any, R | None]]:
    """Answers refusals and foreign callback data in French; everything else propagates."""

    @functools.wraps(handler)
    async def wrapper(update: Update, ctx: Ctx) -> R | None:
        try:
            return await handler(update, ctx)
        except Refused as refused:
            await answer_refusal(update, ctx, refused)
        except BadCallback:
            await answer_stale(update, ctx)
        return None

    return wrapper


TapHandler = Callable[[Ctx, Member, Any, Message | None], Awaitable[str | None]]


async def dispatch_tap(
    update: Update,
    ctx: Ctx,
    *,
    payload: type[Callback],
    taps: dict[str, TapHandler],
    action: Action,
) -> None:
    """A screen's button: decode it, find its handler by `op`, authorise, run, answer.

    The handler gets the person (authorised for `action` from the database on this very
    tap), the payload and the message to edit; what it returns is the toast shown.
    """
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=payload)
    handler = taps.get(getattr(tap, "op", ""))
    if handler is None:
        raise BadCallback("unknown op")
    member = await require(update, ctx, action)
    message = query.message if isinstance(query.message, Message) else None
    await query.answer(await handler(ctx, member, tap, message))
