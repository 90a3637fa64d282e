"""📅 Événements (coordinators) and the answers of the people invited (Articles 3 and 9).

A coordinator creates an event step by step in one message — kind, title, day and time,
end, place or visio link, capacity, answer deadline, each step replacing the previous one,
with « ⬅️ Retour » and « ✖️ Annuler » — chooses the audience on the draft's card (the same
message), sees how many will be invited and publishes. Everyone invited gets « Je
participe » / « Je ne peux pas »; an answer is an upsert, can change until the deadline,
goes on a waiting list past capacity (promoted and told when a place frees), and a
participant gets the event's .ics file. Reminders go through scheduled work
(bot/jobs/event_reminders.py). After the event the coordinator records who came. Every
date and hour is the Caf's (`caf.zone`).

The use cases are bot/services/events.py, the screens bot/ui/screens/events.py.
"""

from __future__ import annotations

import contextlib

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.context import Ctx
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action
from bot.services import events
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, EventTap, RsvpTap
from bot.ui.screens import events as screen
from bot.ui.screens.events import Created, EventOp, Step
from conversations.common import chat_id_of, edit, guarded, open_flow, require, send
from conversations.taps import TapTable, toast
from conversations.text_input import TypedSteps

# A service's expected refusal is the tap's toast; an event (or a site) out of the
# coordinator's Caf is a stale button, like forged data.
TAPS = TapTable(
    EventTap,
    EventOp,
    stale=(events.UnknownEvent,),
    refusals={events.Denied: toast(lambda denied: screen.denied(denied.why))},
)
TYPED = TypedSteps()


async def _show(ctx: Ctx, member: Member, shown: Step | Created) -> None:
    """The creation's step (or the draft's card) in the flow's one message. A message that
    can no longer be edited (too old, deleted) loses its buttons and a fresh copy follows,
    which the next steps edit."""
    chat_id = member.person.telegram_user_id or 0
    text, markup = screen.creation(shown, member.caf.zone)
    if shown.message_id is not None:
        try:
            await ctx.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=shown.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                disable_web_page_preview=True,
            )
            return
        except BadRequest as error:
            if "not modified" in error.message.lower():
                return
        with contextlib.suppress(TelegramError):
            await ctx.bot.edit_message_reply_markup(chat_id, shown.message_id, reply_markup=None)
    fresh = await send(ctx, chat_id, text, markup)
    await events.moved(ctx.db, member, fresh.message_id, ctx.clock.now())


def _id(message: Message | None) -> int | None:
    return message.message_id if message is not None else None


# ------------------------------------------------------------------------------ the list
@guarded
async def open_menu(update: Update, ctx: Ctx) -> None:
    """The menu entry 📅 Événements."""
    member = await open_flow(update, ctx, Action.EVENTS)
    lines = await events.overview(ctx.db, member.caf)
    await send(ctx, chat_id_of(update), *screen.home(lines, member.caf.zone))


@TAPS.on(EventOp.HOME, needs=Action.EVENTS)
async def show_home(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    await edit(message, *screen.home(await events.home(ctx.db, member), member.caf.zone))


# ------------------------------------------------------------------------------ creation
@TAPS.on(EventOp.NEW, needs=Action.EVENTS)
async def show_kinds(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    await _show(ctx, member, await events.new(ctx.db, member, _id(message), ctx.clock.now()))


@TAPS.on(EventOp.KIND, needs=Action.EVENTS)
async def choose_kind(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    kind = screen.kind_at(tap.value)
    await _show(
        ctx, member, await events.choose_kind(ctx.db, member, kind, _id(message), ctx.clock.now())
    )


@TAPS.on(EventOp.DEFAULT, needs=Action.EVENTS)
@TAPS.on(EventOp.CAPACITY, needs=Action.EVENTS)
async def take_button(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    """A creation step answered in one tap: the title proposed, a capacity, a deadline."""
    take = events.take_default if tap.op == EventOp.DEFAULT else events.take_capacity
    await _show(ctx, member, await take(ctx.db, member, tap.value, _id(message), ctx.clock.now()))


@TAPS.on(EventOp.BACK, needs=Action.EVENTS)
async def go_back(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    """« ⬅️ Retour »: the step before (from the first one, the list)."""
    shown = await events.back(ctx.db, member, tap.value, _id(message), ctx.clock.now())
    if isinstance(shown, list):
        await edit(message, *screen.home(shown, member.caf.zone))
    else:
        await _show(ctx, member, shown)


@TAPS.on(EventOp.QUIT, needs=Action.EVENTS)
async def quit_creation(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> str:
    """« ✖️ Annuler »: nothing was saved; the list again."""
    await edit(message, *screen.home(await events.abandon(ctx.db, member), member.caf.zone))
    return screen.ABANDONED


# Long limits: an answer too long is told in the flow's message, as any other refusal.
@TYPED.text("event_kind", max_length=4096)
@TYPED.text("event_card", max_length=4096)
@TYPED.text("event_title", max_length=1000)
@TYPED.text("event_start", max_length=200)
@TYPED.text("event_end", max_length=200)
@TYPED.text("event_place", max_length=1000, allowed=events.PLACE_ALLOWED)
@TYPED.text("event_capacity", max_length=200)
@TYPED.text("event_deadline", max_length=200)
async def typed_step(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """Text typed during the creation: the next step (or the draft's card), the same step
    with why the answer was not taken, or, where a button is expected, the step again."""
    member = await require(update, ctx, Action.EVENTS)
    await _show(
        ctx, member, await events.answer_step(ctx.db, member, expected, text, ctx.clock.now())
    )


# ------------------------------------------------------------------------------ the draft
@TAPS.on(EventOp.ITEM, needs=Action.EVENTS)
async def show_event(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    card = await events.card(ctx.db, member, tap.item, ctx.clock.now())
    await edit(message, *screen.card(card, member.caf.zone))


@TAPS.on(EventOp.AUDIENCE, needs=Action.EVENTS)
async def choose_audience(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    kind = screen.audience_at(tap.value)
    card = await events.set_audience(ctx.db, member, tap.item, kind, ctx.clock.now())
    await edit(message, *screen.card(card, member.caf.zone))


@TAPS.on(EventOp.SITES, needs=Action.EVENTS)
async def show_sites(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    await edit(message, *screen.sites(await events.sites(ctx.db, member, tap.item), tap.value))


@TAPS.on(EventOp.SITE, needs=Action.EVENTS)
async def toggle_site(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    choice = await events.toggle_site(ctx.db, member, tap.item, tap.value, ctx.clock.now())
    await edit(message, *screen.sites_showing(choice, tap.value))


@TAPS.on(EventOp.DROP, needs=Action.EVENTS)
async def drop_draft(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> str:
    lines = await events.drop(ctx.db, member, tap.item, ctx.clock.now())
    await edit(message, *screen.home(lines, member.caf.zone))
    return screen.DROPPED


@TAPS.on(EventOp.PUBLISH, needs=Action.EVENTS)
async def publish(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> str:
    hour = ctx.settings.notify_hour
    card, invited = await events.publish(
        ctx.db, member, tap.item, ctx.clock.now(), reminder_hour=hour
    )
    ctx.services.wake_outbox()
    await edit(message, *screen.card(card, member.caf.zone))
    return screen.published(invited)


# ------------------------------------------------------------------------------ published
@TAPS.on(EventOp.ANSWERS, needs=Action.EVENTS)
async def show_answers(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    await edit(message, *screen.answers(await events.answers(ctx.db, member, tap.item)))


@TAPS.on(EventOp.PRESENCE, needs=Action.EVENTS)
async def show_presence(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    found = await events.attendance(ctx.db, member, tap.item, ctx.clock.now())
    await edit(message, *screen.presence(found))


@TAPS.on(EventOp.MARK, needs=Action.EVENTS)
async def mark(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    found = await events.mark(ctx.db, member, tap.item, tap.value, ctx.clock.now())
    await edit(message, *screen.presence(found))


@TAPS.on(EventOp.CANCEL, needs=Action.EVENTS)
async def cancel(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> str | None:
    """Asks to confirm (value 0), then cancels (value 1)."""
    if tap.value != 1:
        event = await events.cancellable(ctx.db, member, tap.item)
        await edit(message, *screen.cancel_confirm(event))
        return None
    card = await events.cancel(ctx.db, member, tap.item, ctx.clock.now())
    ctx.services.wake_outbox()
    await edit(message, *screen.card(card, member.caf.zone))
    return screen.CANCELLED


# ------------------------------------------------------------------------------ the invited
@guarded
async def on_rsvp(update: Update, ctx: Ctx) -> None:
    """« Je participe » / « Je ne peux pas » under an invitation (or its reminder)."""
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=RsvpTap)
    wants = screen.wants(tap)
    member = await require(update, ctx, Action.ANSWER_INVITATION)
    tz = member.caf.zone
    try:
        event, decision = await events.answer(ctx.db, member, tap.event, wants, ctx.clock.now(), tz)
    except events.UnknownEvent:
        raise BadCallback("not invited") from None
    ctx.services.wake_outbox()
    if decision.refusal:
        await query.answer(decision.refusal, show_alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    await edit(message, *screen.invitation(event, member.caf, tz, decision.status))
    await query.answer(screen.rsvp_toast(decision))
