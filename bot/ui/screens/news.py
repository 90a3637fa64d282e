"""📰 Actualités: what the Caf said to this person — the news they got, the must-read notices
awaiting their « J'ai lu », the coming events they are invited to with their answer."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.events import Answer, Event
from bot.domain.models import Announcement
from bot.ui import callbacks
from bot.ui.callbacks import NewsTap
from bot.ui.render import render
from bot.ui.screens import Screen
from bot.ui.screens.broadcast import recipient_text
from bot.ui.screens.paging import Page, pager_row

PAGE_SIZE = 6
# The latest must-read notices to acknowledge get a button each on the first screen; any
# older ones are in the list below, marked.
UNREAD_SHOWN = 5
HEADLINE_LENGTH = 40


class NewsOp(StrEnum):
    HOME = "home"
    ITEM = "item"
    READ = "read"
    EVENT = "event"
    YES = "yes"
    NO = "no"


@dataclass(frozen=True)
class Item:
    """A broadcast as it reached the person, and when they acknowledged it (a must-read)."""

    announcement: Announcement
    read_at: datetime | None

    @property
    def pending(self) -> bool:
        """A must-read notice still awaiting « J'ai lu »."""
        return self.announcement.must_read and self.read_at is None


@dataclass(frozen=True)
class Invited:
    """A coming event the person is invited to, their answer, and whether it may change."""

    event: Event
    answer: Answer
    open: bool  # the answer deadline has not passed


@dataclass(frozen=True)
class Feed:
    """The first screen: notices to acknowledge, coming events, a page of the news got."""

    unread: list[Announcement]
    events: list[Invited]
    page: Page[Item]
    total: int


# How a person's own answer reads, by the invitation's status.
YOUR_ANSWER: dict[Answer, str] = {
    Answer.INVITED: "pas encore répondu",
    Answer.GOING: "vous participez",
    Answer.WAITING: "liste d'attente",
    Answer.DECLINED: "vous ne participez pas",
}
YES_LABEL, NO_LABEL = "✅ Je participe", "❌ Je ne peux pas"
BACK_LABEL = "⬅️ Actualités"
READ_LABEL = "✅ J'ai lu"


def _button(label: str, op: NewsOp, item: int = 0, page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(NewsTap(op, item, page)))


def headline(body: str) -> str:
    """The first words of a broadcast, as plain text for a button."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    if len(text) <= HEADLINE_LENGTH:
        return text or "…"
    return text[: HEADLINE_LENGTH - 1].rstrip() + "…"


def _day(instant: datetime | None, tz: ZoneInfo) -> str:
    return f"{instant.astimezone(tz):%d/%m}" if instant else "--/--"


def _mark(item: Item) -> str:
    if item.pending:
        return "❗"
    return "☑️" if item.announcement.must_read else "📢"


def home(feed: Feed, tz: ZoneInfo) -> Screen:
    """Notices to acknowledge first, then coming events, then the news got, a page at a time."""
    page = feed.page.number
    rows = [
        [_button(f"❗ {_day(a.sent_at, tz)} · {headline(a.body)}", NewsOp.ITEM, a.id, page)]
        for a in feed.unread[-UNREAD_SHOWN:][::-1]
    ]
    rows += [
        [
            _button(
                f"📅 {_day(e.event.starts_at, tz)} · {e.event.title}",
                NewsOp.EVENT,
                e.event.id,
                page,
            )
        ]
        for e in feed.events
    ]
    rows += [
        [
            _button(
                f"{_mark(item)} {_day(item.announcement.sent_at, tz)} · "
                f"{headline(item.announcement.body)}",
                NewsOp.ITEM,
                item.announcement.id,
                page,
            )
        ]
        for item in feed.page.items
    ]
    pager = pager_row(feed.page, lambda label, n: _button(label, NewsOp.HOME, 0, n))
    if pager:
        rows.append(pager)
    text = render(
        "news_home",
        unread=feed.unread,
        events=feed.events,
        answers=YOUR_ANSWER,
        total=feed.total,
        page=page + 1,
        pages=feed.page.count,
        tz=tz,
    )
    return text, InlineKeyboardMarkup(rows)


def item(found: Item, page: int, tz: ZoneInfo) -> Screen:
    """A broadcast read again as it was sent, with « J'ai lu » while a must-read awaits it."""
    a = found.announcement
    text = render("news_item", message=recipient_text(a), item=found, tz=tz)
    rows = []
    if found.pending:
        rows.append([_button(READ_LABEL, NewsOp.READ, a.id, page)])
    rows.append([_button(BACK_LABEL, NewsOp.HOME, 0, page)])
    return text, InlineKeyboardMarkup(rows)


def event(found: Invited, page: int, tz: ZoneInfo) -> Screen:
    """A coming event, the person's answer, and the buttons to change it until the deadline."""
    e, answer = found.event, found.answer
    text = render("news_event", event=e, answer=YOUR_ANSWER[answer], open=found.open, tz=tz)
    rows = []
    if found.open:
        going = answer in (Answer.GOING, Answer.WAITING)
        rows.append(
            [
                _button(("🔘 " if going else "") + YES_LABEL, NewsOp.YES, e.id, page),
                _button(
                    ("🔘 " if answer is Answer.DECLINED else "") + NO_LABEL, NewsOp.NO, e.id, page
                ),
            ]
        )
    rows.append([_button(BACK_LABEL, NewsOp.HOME, 0, page)])
    return text, InlineKeyboardMarkup(rows)
