"""📅 Événements (coordinators) and the answers of the people invited (Articles 3 and 9).

A coordinator creates an event step by step — kind, title, day and time, end, place or
visio link, capacity, answer deadline — chooses the audience, sees how many will be invited
and publishes. Everyone invited gets « Je participe » / « Je ne peux pas »; an answer is an
upsert, can change until the deadline, goes on a waiting list past capacity (promoted and
told when a place frees), and a participant gets the event's .ics file. Reminders go through
scheduled work (bot/jobs/event_reminders.py). After the event the coordinator records who
came.

The use cases are bot/services/events.py, the screens bot/ui/screens/events.py.
"""

from __future__ import annotations

from telegram import Message, Update

from bot.context import Ctx
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action
from bot.services import events
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, EventTap, RsvpTap
from bot.ui.screens import events as screen
from bot.ui.screens.events import EventOp, Reply
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


async def _say(ctx: Ctx, member: Member, replies: list[Reply]) -> None:
    """New messages in the coordinator's chat (the creation steps are asked below)."""
    for text, markup in replies:
        await send(ctx, member.person.telegram_user_id or 0, text, markup)


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
    await edit(message, *screen.kinds())


@TAPS.on(EventOp.KIND, needs=Action.EVENTS)
async def choose_kind(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    step = await events.begin(ctx.db, member, screen.kind_at(tap.value), ctx.clock.now())
    await _say(ctx, member, [screen.ask(step)])


@TAPS.on(EventOp.DEFAULT, needs=Action.EVENTS)
@TAPS.on(EventOp.CAPACITY, needs=Action.EVENTS)
async def take_button(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    """A creation step answered in one tap: the title proposed, or a capacity."""
    take = events.take_default if tap.op == EventOp.DEFAULT else events.take_capacity
    done = await take(ctx.db, member, tap.value, ctx.clock.now())
    await _say(ctx, member, screen.progress(done, member.caf.zone))


@TYPED.text("event_title", max_length=120)
@TYPED.text("event_start", max_length=60)
@TYPED.text("event_end", max_length=40)
@TYPED.text("event_place", max_length=300, allowed=events.PLACE_ALLOWED)
@TYPED.text("event_capacity", max_length=10)
@TYPED.text("event_deadline", max_length=60)
async def typed_step(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """A creation step typed: the next step, or the draft's card once all are given."""
    member = await require(update, ctx, Action.EVENTS)
    now, tz = ctx.clock.now(), member.caf.zone
    try:
        done = await events.answer_step(ctx.db, member, expected, text, now, tz)
    except events.InvalidAnswer as error:
        await send(ctx, chat_id_of(update), screen.invalid(error.why, error.detail))
        return
    await _say(ctx, member, screen.progress(done, tz))


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
    tz = member.caf.zone
    card, invited = await events.publish(ctx.db, member, tap.item, ctx.clock.now(), tz)
    ctx.services.wake_outbox()
    await edit(message, *screen.card(card, tz))
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
    tz = member.caf.zone
    card = await events.cancel(ctx.db, member, tap.item, ctx.clock.now(), tz)
    ctx.services.wake_outbox()
    await edit(message, *screen.card(card, tz))
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
