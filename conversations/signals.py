"""📣 Signaler (agents, managers): a difficulty, a training need, « fermé aujourd'hui », and
the person's own signals with their state (Article 4 of the convention).

The use cases are bot/services/signals.py (and bot/services/closures.py for « fermé
aujourd'hui »), the screens bot/ui/screens/signals.py. Every screen is one message edited in
place. The texts typed here (a description, a note, an answer to the Caf) reach this module
only after the privacy screen of `text_input`.
"""

from __future__ import annotations

from datetime import date

from telegram import Message, Update

from bot.context import Ctx
from bot.domain import signals as rules
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action
from bot.domain.signals import Signal, SignalStatus
from bot.services import closures, pending_input, signals
from bot.ui.callbacks import BadCallback, SignalTap
from bot.ui.screens import signals as screen
from bot.ui.screens.signals import SignalOp
from conversations.common import chat_id_of, edit, guarded, open_flow, require, send, show_menu
from conversations.taps import TapTable
from conversations.text_input import TypedSteps, ask

TAPS = TapTable(SignalTap, SignalOp)
TYPED = TypedSteps()


def _today(ctx: Ctx, member: Member) -> date:
    return ctx.clock.now().astimezone(member.caf.zone).date()


async def _own(ctx: Ctx, member: Member, signal_id: int) -> Signal:
    signal = await signals.own(ctx.db, member, signal_id)
    if signal is None:  # forged, or someone else's
        raise BadCallback("not this person's signal")
    return signal


@guarded
async def open_signals(update: Update, ctx: Ctx) -> None:
    """The menu entry 📣 Signaler."""
    member = await open_flow(update, ctx, Action.REPORT_DIFFICULTY)
    await send(ctx, chat_id_of(update), *screen.home(member))


@TAPS.on(SignalOp.HOME, needs=Action.REPORT_DIFFICULTY)
async def show_home(ctx: Ctx, member: Member, tap: SignalTap, message: Message | None) -> None:
    await pending_input.clear(ctx.db, member.person.id)
    await edit(message, *screen.home(member))


# ------------------------------------------------------------------------------ a difficulty
@TAPS.on(SignalOp.DIFFICULTY, needs=Action.REPORT_DIFFICULTY)
async def ask_category(ctx: Ctx, member: Member, tap: SignalTap, message: Message | None) -> None:
    await edit(message, *screen.difficulty_categories())


@TAPS.on(SignalOp.DIFFICULTY_CATEGORY, needs=Action.REPORT_DIFFICULTY)
async def ask_urgency(ctx: Ctx, member: Member, tap: SignalTap, message: Message | None) -> None:
    category = screen.choice(rules.DIFFICULTY_CATEGORIES, tap.a)
    await edit(message, *screen.difficulty_urgencies(category))


@TAPS.on(SignalOp.DIFFICULTY_URGENCY, needs=Action.REPORT_DIFFICULTY)
async def ask_description(
    ctx: Ctx, member: Member, tap: SignalTap, message: Message | None
) -> None:
    category = screen.choice(rules.DIFFICULTY_CATEGORIES, tap.a)
    urgency = screen.choice(rules.URGENCIES, tap.b)
    context = {"category": category, "urgency": urgency}
    now = ctx.clock.now()
    await pending_input.expect(ctx.db, member.person.id, "difficulty_description", context, now)
    await edit(message, *screen.difficulty_description(category, urgency))


@TYPED.text("difficulty_description", max_length=rules.DESCRIPTION_MAX)
async def on_difficulty_description(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.REPORT_DIFFICULTY)
    category = screen.choice(rules.DIFFICULTY_CATEGORIES, str(expected.context["category"]))
    urgency = screen.choice(rules.URGENCIES, str(expected.context["urgency"]))
    typed = update.effective_message
    assert typed is not None
    raised = await signals.report_difficulty(
        ctx.db,
        member,
        category=category,
        urgency=urgency,
        description=text,
        typed=(typed.chat_id, typed.message_id),
        now=ctx.clock.now(),
        tz=member.caf.zone,
    )
    ctx.services.wake_outbox()
    await show_menu(update, ctx, member, screen.sent(raised.signal))


# ------------------------------------------------------------------------------ a training need
@TAPS.on(SignalOp.TRAINING, needs=Action.TRAINING_NEED)
async def ask_topic(ctx: Ctx, member: Member, tap: SignalTap, message: Message | None) -> None:
    await edit(message, *screen.training_topics())


@TAPS.on(SignalOp.TRAINING_TOPIC, needs=Action.TRAINING_NEED)
async def ask_note(ctx: Ctx, member: Member, tap: SignalTap, message: Message | None) -> None:
    topic = screen.choice(rules.TRAINING_TOPICS, tap.a)
    prompt = message.message_id if message else 0
    context = {"topic": topic, "prompt": prompt}
    await pending_input.expect(ctx.db, member.person.id, "training_note", context, ctx.clock.now())
    await edit(message, *screen.training_note(topic, prompt))


async def _training_need(
    ctx: Ctx, member: Member, topic: str, prompt: int, note: str | None
) -> signals.Raised:
    raised = await signals.report_training_need(
        ctx.db,
        member,
        topic=topic,
        prompt=prompt,
        note=note,
        now=ctx.clock.now(),
        tz=member.caf.zone,
    )
    ctx.services.wake_outbox()
    return raised


@TAPS.on(SignalOp.TRAINING_SEND, needs=Action.TRAINING_NEED)
async def send_without_note(
    ctx: Ctx, member: Member, tap: SignalTap, message: Message | None
) -> str | None:
    topic = screen.choice(rules.TRAINING_TOPICS, tap.a)
    raised = await _training_need(ctx, member, topic, tap.ref, None)
    if not raised.new:  # a double tap: the confirmation is already on screen
        return screen.ALREADY_SENT
    await edit(message, screen.sent(raised.signal), None)
    return None


@TYPED.text("training_note", max_length=rules.NOTE_MAX)
async def on_training_note(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.TRAINING_NEED)
    topic = screen.choice(rules.TRAINING_TOPICS, str(expected.context["topic"]))
    raised = await _training_need(ctx, member, topic, int(expected.context["prompt"]), text)
    await show_menu(update, ctx, member, screen.sent(raised.signal, again=not raised.new))


# ------------------------------------------------------------------------------ closed today
@TAPS.on(SignalOp.CLOSED_TODAY, needs=Action.CLOSED_TODAY)
async def ask_reason(ctx: Ctx, member: Member, tap: SignalTap, message: Message | None) -> None:
    await edit(message, *screen.closed_today(member.partner, _today(ctx, member)))


@TAPS.on(SignalOp.CLOSED_TODAY_REASON, needs=Action.CLOSED_TODAY)
async def declare_closed_today(
    ctx: Ctx, member: Member, tap: SignalTap, message: Message | None
) -> str | None:
    reason = screen.choice(rules.CLOSURE_REASONS, tap.a)
    today = _today(ctx, member)
    closure, new = await closures.declare(
        ctx.db,
        member,
        start=today,
        end=today,
        reason=reason,
        note=None,
        now=ctx.clock.now(),
        tz=member.caf.zone,
    )
    ctx.services.wake_outbox()
    await edit(message, *screen.closure_saved(closure, new=new))
    return None if new else screen.ALREADY_DECLARED


@TAPS.on(SignalOp.CANCEL_CLOSURE, needs=Action.CLOSED_TODAY)
async def cancel_closure(
    ctx: Ctx, member: Member, tap: SignalTap, message: Message | None
) -> str | None:
    try:
        closure = await closures.cancel(ctx.db, member, tap.ref, ctx.clock.now(), member.caf.zone)
    except closures.CancelRefused as refused:
        if refused.why is closures.CancelRefused.Why.NOT_YOURS:
            raise BadCallback("not a closure this person may cancel") from None
        if refused.why is closures.CancelRefused.Why.PAST or refused.closure is None:
            return screen.CLOSURE_PAST
        await edit(message, *screen.closure_cancelled(refused.closure))
        return screen.CLOSURE_ALREADY_CANCELLED
    ctx.services.wake_outbox()
    await edit(message, *screen.closure_cancelled(closure))
    return screen.CLOSURE_CANCELLED


# ------------------------------------------------------------------------------ my signals
@TAPS.on(SignalOp.MINE, needs=Action.OWN_SIGNALS)
async def show_mine(ctx: Ctx, member: Member, tap: SignalTap, message: Message | None) -> None:
    mine = await signals.mine(ctx.db, member)
    await edit(message, *screen.mine(mine, tz=member.caf.zone))


@TAPS.on(SignalOp.ONE, needs=Action.OWN_SIGNALS)
async def show_one(ctx: Ctx, member: Member, tap: SignalTap, message: Message | None) -> None:
    view = await signals.view(ctx.db, await _own(ctx, member, tap.ref))
    await edit(message, *screen.one(view, tz=member.caf.zone, now=ctx.clock.now()))


@TAPS.on(SignalOp.REPLY, needs=Action.OWN_SIGNALS)
async def ask_answer(
    ctx: Ctx, member: Member, tap: SignalTap, message: Message | None
) -> str | None:
    signal = await _own(ctx, member, tap.ref)
    if signal.status is SignalStatus.RESOLVED:
        return screen.SIGNAL_CLOSED
    await ask(ctx, member, "signal_answer", {"signal": signal.id}, screen.ask_answer(signal))
    return None


@TYPED.text("signal_answer", max_length=rules.DESCRIPTION_MAX)
async def on_signal_answer(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.OWN_SIGNALS)
    signal = await _own(ctx, member, int(expected.context["signal"]))
    sent = await signals.answer(ctx.db, member, signal, text, ctx.clock.now())
    ctx.services.wake_outbox()
    await show_menu(update, ctx, member, screen.ANSWER_SENT if sent else screen.ANSWER_TOO_LATE)
