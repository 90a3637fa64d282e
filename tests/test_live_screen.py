"""Each chat's current step (conversations/live_screen.py), against a bot that records what it
is asked: what counts as a step in progress, for how long, and whose chats are whose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
)

from conversations import live_screen

AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
BUTTONS = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Lundi : Fermé", callback_data="h:day:0:0:0")]]
)


class RecordingBot:
    """Sends and retires as Telegram would, numbering the chat's messages."""

    def __init__(self) -> None:
        self.last_id = 0
        self.sent: list[tuple[int, str, Any]] = []
        self.retired: list[int] = []

    def message(self, chat_id: int, text: str, at: datetime = AT) -> Message:
        self.last_id += 1
        return Message(self.last_id, at, Chat(chat_id, "private"), text=text)

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Message:
        self.sent.append((chat_id, text, kwargs.get("reply_markup")))
        return self.message(chat_id, text)

    async def edit_message_reply_markup(
        self, chat_id: int, message_id: int, reply_markup: Any = None
    ) -> bool:
        self.retired.append(message_id)
        return True


def shown(bot: RecordingBot, chat_id: int, text: str, markup: Any, at: datetime = AT) -> Message:
    message = bot.message(chat_id, text, at)
    live_screen.noted_sent(bot, message, text, markup)
    return message


async def test_the_step_comes_back_once_live_and_without_piling_notices() -> None:
    bot = RecordingBot()
    ctx: Any = SimpleNamespace(bot=bot)
    first = shown(bot, 7, "La semaine", BUTTONS)
    assert await live_screen.reshow(ctx, 7, AT + timedelta(minutes=5), DAY, "Les boutons !")
    assert bot.sent[-1] == (7, "Les boutons !\n\nLa semaine", BUTTONS)
    assert bot.retired == [first.message_id]
    again = live_screen.current(bot, 7)
    assert again is not None and again.text == "La semaine" and again.message_id == bot.last_id
    assert await live_screen.reshow(ctx, 7, AT + timedelta(minutes=6), DAY, "Les boutons !")
    assert bot.sent[-1][1].count("Les boutons !") == 1
    assert bot.retired == [first.message_id, again.message_id]


async def test_a_step_left_longer_than_the_age_of_a_draft_is_no_longer_in_progress() -> None:
    bot = RecordingBot()
    ctx: Any = SimpleNamespace(bot=bot)
    shown(bot, 7, "La semaine", BUTTONS)
    assert not await live_screen.reshow(ctx, 7, AT + DAY + timedelta(seconds=1), DAY, "!")
    assert bot.sent == [] and bot.retired == []


async def test_the_menu_or_the_step_edited_without_buttons_ends_it() -> None:
    bot = RecordingBot()
    ctx: Any = SimpleNamespace(bot=bot)
    shown(bot, 7, "La semaine", BUTTONS)
    shown(bot, 7, "Texte trop long", None)  # a plain message changes no step
    assert live_screen.current(bot, 7) is not None
    shown(bot, 7, "Menu", ReplyKeyboardMarkup([["📝 Nouvelle visite"]]))
    assert not await live_screen.reshow(ctx, 7, AT, DAY, "!")
    step = shown(bot, 7, "Le signalement", BUTTONS)
    step.set_bot(bot)
    live_screen.noted_edit(step, "Signalement envoyé", None, step)  # the flow ended there
    assert not await live_screen.reshow(ctx, 7, AT, DAY, "!")
    assert bot.sent == []


async def test_two_bots_never_share_their_chats() -> None:
    one, other = RecordingBot(), RecordingBot()
    shown(one, 7, "La semaine", BUTTONS)
    assert live_screen.current(other, 7) is None
    assert live_screen.current(one, 7) is not None
