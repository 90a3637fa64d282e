"""Each chat's current step, in memory: the latest inline screen a flow sent or edited there.

conversations/common.py's `send` and `edit` note it (`noted_sent`, `noted_edit`), so that
text typed where a button is expected shows the current step of whatever flow is in
progress again (`reshow`, from conversations/fallback.py), and a typed answer is shown in
its own step's message while nothing was sent below it (`show`). One copy of a step keeps
its buttons: the older one loses them.

Memory only, and nothing written to the database on a tap: after a restart nothing is
known, and the fallback answer (the menu) is what a person gets. The records are kept per
bot object, so two applications in one process (the tests) never mix their chats.
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.context import Ctx

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True)
class Shown:
    """A step as a flow showed it: its message, its text (HTML) and buttons, and when
    (Telegram's date of the message or of its last edit; None when not known)."""

    message_id: int
    text: str
    markup: InlineKeyboardMarkup
    at: datetime | None


@dataclass
class _Chat:
    step: Shown | None = None
    last_sent: int = 0  # the latest message a flow sent in this chat


_BOTS: dict[int, tuple[weakref.ref[Bot], dict[int, _Chat]]] = {}


def _chats(bot: Bot) -> dict[int, _Chat]:
    """This bot object's chats (by identity: bots of the same token are equal objects)."""
    key = id(bot)
    found = _BOTS.get(key)
    if found is not None and found[0]() is bot:
        return found[1]
    chats: dict[int, _Chat] = {}

    def gone(ref: weakref.ref[Bot]) -> None:
        if _BOTS.get(key, (None, None))[0] is ref:
            del _BOTS[key]

    _BOTS[key] = (weakref.ref(bot, gone), chats)
    return chats


def _chat(bot: Bot, chat_id: int) -> _Chat:
    return _chats(bot).setdefault(chat_id, _Chat())


def _has_buttons(markup: object) -> bool:
    return isinstance(markup, InlineKeyboardMarkup) and bool(markup.inline_keyboard)


def current(bot: Bot, chat_id: int) -> Shown | None:
    found = _chats(bot).get(chat_id)
    return found.step if found else None


def noted_sent(bot: Bot, message: Message, text: str, markup: Markup | None) -> None:
    """A flow's new message: with inline buttons it is the current step; with the main
    menu (or its removal) no step is in progress any more; plain text changes no step."""
    chat = _chat(bot, message.chat_id)
    chat.last_sent = max(chat.last_sent, message.message_id)
    if isinstance(markup, InlineKeyboardMarkup) and _has_buttons(markup):
        chat.step = Shown(message.message_id, text, markup, message.date)
    elif markup is not None:
        chat.step = None


def noted_edit(
    message: Message, text: str, markup: InlineKeyboardMarkup | None, edited: Message | bool
) -> None:
    """A flow's message edited (`edited`, Telegram's answer): the step the person is at
    now; without buttons, the flow ended in it."""
    try:
        bot = message.get_bot()
    except RuntimeError:  # a message that came from no bot of ours
        return
    _noted(bot, message.chat_id, message.message_id, text, markup, _date_of(edited))


def _noted(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    at: datetime | None,
) -> None:
    chat = _chat(bot, chat_id)
    if markup is not None and _has_buttons(markup):
        chat.step = Shown(message_id, text, markup, at)
    elif chat.step is not None and chat.step.message_id == message_id:
        chat.step = None


def _date_of(message: Message | bool) -> datetime | None:
    if isinstance(message, Message):
        return message.edit_date or message.date
    return None


async def retire(bot: Bot, chat_id: int, message_id: int) -> None:
    """Takes the buttons off an older copy of a step, so only one copy is live (best
    effort: the old message may be gone, or too old to edit)."""
    with contextlib.suppress(TelegramError):
        await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)


async def show(
    ctx: Ctx,
    chat_id: int,
    message_id: int | None,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    """What a typed answer leads to, in the message of the step it answered, while no
    message was sent below it; else, or when it can no longer be edited, in a new message
    whose older copy loses its buttons."""
    bot = ctx.bot
    if message_id is not None and _chat(bot, chat_id).last_sent <= message_id:
        try:
            edited = await bot.edit_message_text(
                text,
                chat_id,
                message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                disable_web_page_preview=True,
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
        else:
            _noted(bot, chat_id, message_id, text, markup, _date_of(edited))
            return
    await _send(bot, chat_id, text, markup)
    if message_id is not None:
        await retire(bot, chat_id, message_id)


async def _send(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None, shown: str = ""
) -> None:
    """`shown` (the notice first, then `text`) sent; the step noted is `text` alone."""
    sent = await bot.send_message(
        chat_id,
        shown or text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        disable_web_page_preview=True,
    )
    noted_sent(bot, sent, text, markup)


async def reshow(
    ctx: Ctx, chat_id: int, typed_at: datetime | None, max_age: timedelta, notice: str
) -> bool:
    """The current step again, in a new message under `notice`, the older copy without its
    buttons; False when no step is in progress (none, or none shown within `max_age`)."""
    step = current(ctx.bot, chat_id)
    if step is None:
        return False
    if typed_at is not None and step.at is not None and typed_at - step.at > max_age:
        return False
    shown = f"{notice}\n\n{step.text}"
    if len(shown) > MessageLimit.MAX_TEXT_LENGTH:
        shown = step.text  # the notice only when the step leaves room for it
    await _send(ctx.bot, chat_id, step.text, step.markup, shown)
    await retire(ctx.bot, chat_id, step.message_id)
    return True
