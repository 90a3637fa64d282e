"""📢 Diffuser (coordinators): news and must-read notices to the Caf's network.

Compose (the coordinator's own message, formatting kept, with at most one photo or document
of theirs), choose the audience with the count of recipients, mark it must-read or not, then
send now or at a chosen time (cancellable until it leaves). The use cases are
bot/services/broadcasts.py, the screens bot/ui/screens/broadcast.py; the progress message is
kept up to date by bot/jobs/broadcast_progress.py, and programmed broadcasts leave through
bot/jobs/scheduled_broadcasts.py. Recipients of a must-read notice answer « J'ai lu »
(`READ_TAPS`, or from 📰 Actualités); the coordinator sees who has read and when, who has
not, and can remind them.
"""

from __future__ import annotations

import contextlib

from telegram import Message, Update
from telegram.error import TelegramError

from bot.context import Ctx
from bot.domain import moments
from bot.domain.broadcasts import ALLOWED_IN_NEWS, TEXT_LIMIT
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action
from bot.services import broadcasts
from bot.services.broadcasts import Media, ProgressMessage
from bot.ui.callbacks import BroadcastTap, ReadTap
from bot.ui.screens import broadcast as screen
from bot.ui.screens.broadcast import BroadcastOp, Draft, ReadOp
from conversations.common import chat_id_of, edit, guarded, open_flow, require, send
from conversations.taps import TapTable, toast
from conversations.text_input import FileRef, TypedSteps, ask

BROADCAST = Action.BROADCAST
# The service's expected refusals are the toast; an announcement (or a site) not of this
# Caf, or a notice the person did not get, is a stale button.
TAPS = TapTable(
    BroadcastTap,
    BroadcastOp,
    stale=(broadcasts.Unknown,),
    refusals={broadcasts.Refused: toast(lambda refused: screen.refusal(refused.reason))},
)
READ_TAPS = TapTable(ReadTap, ReadOp, stale=(broadcasts.Unknown,))
TYPED = TypedSteps(stale=(broadcasts.Unknown,))


def _progress(message: Message | None) -> ProgressMessage | None:
    """The message a tap came from: it becomes the broadcast's progress message."""
    return ProgressMessage(message.chat_id, message.message_id) if message else None


async def _preview(ctx: Ctx, chat_id: int, draft: Draft) -> None:
    """The message exactly as the recipients will get it, then the draft's controls."""
    a, text = draft.announcement, screen.recipient_text(draft.announcement)
    if a.media_kind == "photo":
        await ctx.bot.send_photo(chat_id, a.media_file_id or "", caption=text, parse_mode="HTML")
    elif a.media_kind == "document":
        await ctx.bot.send_document(chat_id, a.media_file_id or "", caption=text, parse_mode="HTML")
    else:
        await send(ctx, chat_id, text)
    await send(ctx, chat_id, *screen.compose(draft))


# ------------------------------------------------------------------------------ entry point
@guarded
async def open_menu(update: Update, ctx: Ctx) -> None:
    """The menu entry 📢 Diffuser."""
    member = await open_flow(update, ctx, BROADCAST)
    recent = await broadcasts.recent(ctx.db, member)
    await send(ctx, chat_id_of(update), *screen.home(recent, member.caf.zone))


# ------------------------------------------------------------------------------ taps
@TAPS.on(BroadcastOp.HOME, needs=BROADCAST)
async def show_home(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    recent = await broadcasts.recent(ctx.db, member)
    await edit(message, *screen.home(recent, member.caf.zone))


@TAPS.on(BroadcastOp.NEW, needs=BROADCAST)
async def new(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    await ask(ctx, member, "broadcast_body", {}, screen.ask_body(TEXT_LIMIT))


@TAPS.on(BroadcastOp.ITEM, needs=BROADCAST)
async def show_item(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    view = await broadcasts.view(ctx.db, member, tap.item)
    await edit(message, *screen.item(view, member.caf.zone))


@TAPS.on(BroadcastOp.AUDIENCE, needs=BROADCAST)
async def choose_audience(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> None:
    audience = screen.audience_of(tap.value)
    now = ctx.clock.now()
    draft = await broadcasts.choose_audience(ctx.db, member, tap.item, audience, now)
    await edit(message, *screen.compose(draft))


@TAPS.on(BroadcastOp.MUST_READ, needs=BROADCAST)
async def must_read(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    draft = await broadcasts.toggle_must_read(ctx.db, member, tap.item, ctx.clock.now())
    await edit(message, *screen.compose(draft))


@TAPS.on(BroadcastOp.SITES, needs=BROADCAST)
async def show_sites(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    choice = await broadcasts.site_choice(ctx.db, member, tap.item)
    await edit(message, *screen.sites(choice, tap.value))


@TAPS.on(BroadcastOp.SITE, needs=BROADCAST)
async def toggle_site(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    now = ctx.clock.now()
    choice = await broadcasts.toggle_site(ctx.db, member, tap.item, tap.value, now)
    await edit(message, *screen.sites_around(choice, tap.value))


@TAPS.on(BroadcastOp.CONFIRM, needs=BROADCAST)
async def confirm(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    await edit(message, *screen.confirm(await broadcasts.draft(ctx.db, member, tap.item)))


@TAPS.on(BroadcastOp.GO, needs=BROADCAST)
async def send_now(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> str:
    now, progress = ctx.clock.now(), _progress(message)
    sent = await broadcasts.send_now(ctx.db, member, tap.item, now, progress)
    ctx.services.wake_outbox()
    await edit(message, *screen.report(sent.report, member.caf.zone))
    return screen.launched(sent.count)


@TAPS.on(BroadcastOp.WHEN, needs=BROADCAST)
async def ask_when(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    now = ctx.clock.now()
    a = await broadcasts.expect_moment(ctx.db, member, tap.item, now)
    await edit(message, *screen.when(a, now, member.caf.zone))


@TAPS.on(BroadcastOp.AT, needs=BROADCAST)
async def schedule(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> str:
    when = screen.morning_of(tap.value, member.caf.zone)
    now, progress = ctx.clock.now(), _progress(message)
    report = await broadcasts.schedule(ctx.db, member, tap.item, when, now, progress)
    await edit(message, *screen.report(report, member.caf.zone))
    return screen.SCHEDULED


@TAPS.on(BroadcastOp.UNSCHEDULE, needs=BROADCAST)
async def unschedule(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> str:
    draft = await broadcasts.unschedule(ctx.db, member, tap.item, ctx.clock.now())
    await edit(message, *screen.compose(draft))
    return screen.UNSCHEDULED


@TAPS.on(BroadcastOp.DROP, needs=BROADCAST)
async def drop(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> str:
    recent = await broadcasts.drop(ctx.db, member, tap.item, ctx.clock.now())
    await edit(message, *screen.home(recent, member.caf.zone))
    return screen.DROPPED


@TAPS.on(BroadcastOp.RETRY, needs=BROADCAST)
async def retry(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> str:
    retried = await broadcasts.retry_failed(ctx.db, member, tap.item, ctx.clock.now())
    ctx.services.wake_outbox()
    await edit(message, *screen.report(retried.report, member.caf.zone))
    return screen.retried(retried.count)


@TAPS.on(BroadcastOp.UNREAD, needs=BROADCAST)
async def unread(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    a, readers = await broadcasts.readers(ctx.db, member, tap.item)
    await edit(message, *screen.readers(a, readers, tap.value))


@TAPS.on(BroadcastOp.READ_BY, needs=BROADCAST)
async def read_by(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    """Who has read a must-read notice, with when."""
    a, readers = await broadcasts.readers(ctx.db, member, tap.item)
    await edit(message, *screen.read_by(a, readers, tap.value, member.caf.zone))


@TAPS.on(BroadcastOp.REMIND, needs=BROADCAST)
async def remind(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> str:
    reminded = await broadcasts.remind_unread(ctx.db, member, tap.item, ctx.clock.now())
    ctx.services.wake_outbox()
    await edit(message, *screen.report(reminded.report, member.caf.zone))
    return screen.reminded(reminded.count)


# ------------------------------------------------------------------------------ read receipts
@READ_TAPS.on(ReadOp.READ, needs=Action.READ_NEWS)
async def read(ctx: Ctx, member: Member, tap: ReadTap, message: Message | None) -> str:
    """« J'ai lu » under a must-read notice: noted once, and the button goes."""
    recorded = await broadcasts.mark_read(ctx.db, member, tap.announcement, ctx.clock.now())
    if message is not None:
        with contextlib.suppress(TelegramError):
            await message.edit_reply_markup(None)
    return screen.read_toast(recorded)


# ------------------------------------------------------------------------------ typed answers
@TYPED.text("broadcast_body", max_length=TEXT_LIMIT, allowed=ALLOWED_IN_NEWS)
async def on_body(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """The message typed: a new draft (the formatting kept, as HTML)."""
    member = await require(update, ctx, BROADCAST)
    message = update.effective_message
    assert message is not None
    draft = await broadcasts.start_draft(ctx.db, member, message.text_html or "", ctx.clock.now())
    await _preview(ctx, chat_id_of(update), draft)


@TYPED.file("broadcast_body", allowed=ALLOWED_IN_NEWS)
async def on_body_file(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, file: FileRef
) -> None:
    """A photo or document with its caption: a new draft, once the caption is checked."""
    member = await require(update, ctx, BROADCAST)
    message = update.effective_message
    assert message is not None
    chat_id, media = chat_id_of(update), Media(file.kind, file.file_id, file.name)
    body, caption = file.caption_html or "", message.caption or ""
    try:
        draft = await broadcasts.start_draft(
            ctx.db, member, body, ctx.clock.now(), media=media, caption=caption
        )
    except broadcasts.CaptionTooLong as too_long:
        await send(ctx, chat_id, screen.caption_too_long(too_long.length, too_long.limit))
        return
    except broadcasts.IdentifiersFound as found:
        with contextlib.suppress(TelegramError):
            await message.delete()
        await send(ctx, chat_id, found.message)
        return
    await _preview(ctx, chat_id, draft)


@TYPED.text(broadcasts.WHEN_KIND, max_length=60)
async def on_when(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """The moment typed for a programmed sending (« 3/12 à 14h30 »)."""
    member = await require(update, ctx, BROADCAST)
    chat_id, announcement_id = chat_id_of(update), int(expected.context["announcement"])
    now, tz = ctx.clock.now(), member.caf.zone
    try:
        report = await broadcasts.schedule_typed(ctx.db, member, announcement_id, text, now, tz)
    except moments.MomentError as error:
        await send(ctx, chat_id, screen.moment_error(error))
        return
    except broadcasts.Refused as refused:
        await send(ctx, chat_id, screen.refusal(refused.reason))
        return
    shown = await send(ctx, chat_id, *screen.report(report, tz))
    progress = ProgressMessage(shown.chat_id, shown.message_id)
    await broadcasts.follow(ctx.db, member, announcement_id, progress, ctx.clock.now())
