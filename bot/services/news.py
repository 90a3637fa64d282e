"""📰 Actualités: what the Caf said to one person, findable without scrolling the chat.

Reading only: acknowledging a notice is bot/services/broadcasts.py `mark_read`, answering an
invitation bot/services/events.py `answer` (its capacity, waiting list and deadline rules),
called by the handlers of conversations/news.py as under the original messages. A broadcast
the person did not get, or an event they are not invited to, is `Unknown` (a stale button).
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Member
from bot.ui.screens.news import PAGE_SIZE, Feed, Invited, Item
from bot.ui.screens.paging import Page
from storage import news
from storage.db import Conn, Database


class Unknown(LookupError):
    """Not a broadcast this person got, nor an event they are invited to."""


async def feed(db: Database, member: Member, page: int, now: datetime) -> Feed:
    """Notices awaiting « J'ai lu », coming events with the person's answer, and page `page`
    (from 0, clamped to the last) of the broadcasts they got, newest first."""
    person = member.person.id
    total = await news.count_received(db, person)
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(page, 0), pages - 1)
    got = await news.received(db, person, limit=PAGE_SIZE, offset=number * PAGE_SIZE)
    return Feed(
        unread=await news.unread(db, person),
        events=[
            Invited(event, answer, now <= event.rsvp_deadline)
            for event, answer in await news.coming_events(db, person, now)
        ],
        page=Page([Item(a, read_at) for a, read_at in got], number, pages),
        total=total,
    )


async def item(conn: Conn, member: Member, announcement_id: int) -> Item:
    """A broadcast the person got, with their read receipt."""
    found = await news.receipt(conn, member.person.id, announcement_id)
    if found is None:
        raise Unknown(f"announcement {announcement_id}")
    return Item(*found)


async def event(conn: Conn, member: Member, event_id: int, now: datetime) -> Invited:
    """A published event the person is invited to, with their answer."""
    found = await news.invitation(conn, member.person.id, event_id)
    if found is None:
        raise Unknown(f"event {event_id}")
    e, answer = found
    return Invited(e, answer, now <= e.rsvp_deadline)
