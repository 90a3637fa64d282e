"""📰 Actualités (agents and managers): what the Caf said, findable without scrolling the chat.

One message, edited in place: the must-read notices awaiting « J'ai lu », the coming events
with one's answer, and the news got, a page at a time. A broadcast opens to be read again
(its photo or document sent again by its Telegram file id); « J'ai lu » and « Je participe /
Je ne peux pas » call the same use cases as the buttons under the original messages
(bot/services/broadcasts.py `mark_read`, bot/services/events.py `answer`), so the
coordinator's counts and the events' rules (places, waiting list, deadline) are the same.
The reading is bot/services/news.py, the screens bot/ui/screens/news.py.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest

from bot.context import Ctx
from bot.domain.models import Announcement, Member
from bot.domain.permissions import Action
from bot.services import broadcasts, events, news
from bot.ui.callbacks import NewsTap
from bot.ui.screens import broadcast as broadcast_screen
from bot.ui.screens import events as events_screen
from bot.ui.screens import news as screen
from bot.ui.screens.news import NewsOp
from conversations.common import chat_id_of, edit, guarded, open_flow, send
from conversations.taps import TapTable

log = logging.getLogger(__name__)

READ_NEWS, ANSWER = Action.READ_NEWS, Action.ANSWER_INVITATION
# A broadcast not got, an event not invited to (forged, another's): a stale button.
TAPS = TapTable(NewsTap, NewsOp, stale=(news.Unknown, broadcasts.Unknown, events.UnknownEvent))


async def _send_file(ctx: Ctx, chat_id: int, a: Announcement) -> None:
    """The broadcast's photo or document again, by its Telegram id (never downloaded)."""
    send_file = ctx.bot.send_photo if a.media_kind == "photo" else ctx.bot.send_document
    try:
        await send_file(chat_id, a.media_file_id or "")
    except BadRequest as exc:  # Telegram no longer has it: the text was shown all the same
        log.warning("Fichier de la diffusion %d non renvoyé : %s", a.id, exc.message)


# ------------------------------------------------------------------------------ entry point
@guarded
async def open_news(update: Update, ctx: Ctx) -> None:
    """The menu entry 📰 Actualités."""
    member = await open_flow(update, ctx, READ_NEWS)
    feed = await news.feed(ctx.db, member, 0, ctx.clock.now())
    await send(ctx, chat_id_of(update), *screen.home(feed, member.caf.zone))


# ------------------------------------------------------------------------------ taps
@TAPS.on(NewsOp.HOME, needs=READ_NEWS)
async def show_home(ctx: Ctx, member: Member, tap: NewsTap, message: Message | None) -> None:
    feed = await news.feed(ctx.db, member, tap.page, ctx.clock.now())
    await edit(message, *screen.home(feed, member.caf.zone))


@TAPS.on(NewsOp.ITEM, needs=READ_NEWS)
async def show_item(ctx: Ctx, member: Member, tap: NewsTap, message: Message | None) -> None:
    found = await news.item(ctx.db, member, tap.item)
    await edit(message, *screen.item(found, tap.page, member.caf.zone))
    if found.announcement.media_kind and message is not None:
        await _send_file(ctx, message.chat_id, found.announcement)


@TAPS.on(NewsOp.READ, needs=READ_NEWS)
async def read(ctx: Ctx, member: Member, tap: NewsTap, message: Message | None) -> str:
    """« J'ai lu » from here: the same receipt as under the notice itself."""
    recorded = await broadcasts.mark_read(ctx.db, member, tap.item, ctx.clock.now())
    found = await news.item(ctx.db, member, tap.item)
    await edit(message, *screen.item(found, tap.page, member.caf.zone))
    return broadcast_screen.read_toast(recorded)


@TAPS.on(NewsOp.EVENT, needs=ANSWER)
async def show_event(ctx: Ctx, member: Member, tap: NewsTap, message: Message | None) -> None:
    found = await news.event(ctx.db, member, tap.item, ctx.clock.now())
    await edit(message, *screen.event(found, tap.page, member.caf.zone))


@TAPS.answering(NewsOp.YES, NewsOp.NO, needs=ANSWER)
async def rsvp(ctx: Ctx, member: Member, tap: NewsTap, query: CallbackQuery) -> None:
    """« Je participe » / « Je ne peux pas »: the invitation's own use case; a refusal (the
    deadline passed, the event cancelled) is an alert."""
    tz, wants = member.caf.zone, tap.op == NewsOp.YES
    _, decision = await events.answer(ctx.db, member, tap.item, wants, ctx.clock.now(), tz)
    ctx.services.wake_outbox()
    if decision.refusal:
        await query.answer(decision.refusal, show_alert=True)
        return
    await query.answer(events_screen.rsvp_toast(decision))
    found = await news.event(ctx.db, member, tap.item, ctx.clock.now())
    message = query.message if isinstance(query.message, Message) else None
    await edit(message, *screen.event(found, tap.page, tz))
