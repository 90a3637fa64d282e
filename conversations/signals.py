"""📣 Signaler (agents, managers): a difficulty, a training need, « fermé aujourd'hui », and
the person's own signals with their state (Article 4 of the convention).

Every screen is one message edited in place, driven by `SignalTap`. The texts typed here (a
description, a note, an answer to the Caf) reach this module only after the privacy screen
of `text_input`. Raising is idempotent: a redelivered message or a double tap raises once.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.context import Ctx
from bot.domain import signals as rules
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action, decide
from bot.domain.signals import SignalKind, SignalStatus
from bot.services import notify
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, SignalTap
from bot.ui.render import render
from conversations import closure_ops, signal_view
from conversations.common import chat_id_of, edit, guarded, require, send, show_menu
from conversations.text_input import TypedSteps, ask
from storage import audit, closures, pending
from storage import signals as signal_store
from storage.signals import Signal

NONE = "0"  # an unused code field of a SignalTap

TYPED = TypedSteps()


def _button(
    label: str, op: str, ref: int = 0, a: str = NONE, b: str = NONE
) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(SignalTap(op, ref, a, b)))


def _home(member: Member) -> tuple[str, InlineKeyboardMarkup]:
    rows = [
        [_button("⚠️ Une difficulté", "diff")],
        [_button("🎓 Un besoin de formation", "train")],
    ]
    if decide(member.actor, Action.CLOSED_TODAY) is None:
        rows.append([_button("🚪 Le site est fermé aujourd'hui", "today")])
    rows.append([_button("📋 Mes signalements", "mine")])
    return render("signals_home", partner=member.partner), InlineKeyboardMarkup(rows)


# ------------------------------------------------------------------------------ entry points
@guarded
async def open_signals(update: Update, ctx: Ctx) -> None:
    """The menu entry 📣 Signaler."""
    member = await require(update, ctx, Action.REPORT_DIFFICULTY)
    await pending.clear(ctx.db, member.person.id)
    await send(ctx, chat_id_of(update), *_home(member))


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=SignalTap)
    handler = TAPS.get(tap.op)
    if handler is None:
        raise BadCallback("unknown op")
    message = query.message if isinstance(query.message, Message) else None
    answer = await handler(update, ctx, tap, message)
    await query.answer(answer)


# ------------------------------------------------------------------------------ taps
async def tap_home(update: Update, ctx: Ctx, tap: SignalTap, message: Message | None) -> None:
    member = await require(update, ctx, Action.REPORT_DIFFICULTY)
    await pending.clear(ctx.db, member.person.id)
    await edit(message, *_home(member))


def _code(choices: tuple[rules.Choice, ...], code: str) -> str:
    if not rules.is_code(choices, code):
        raise BadCallback("unknown code")
    return code


async def tap_difficulty(update: Update, ctx: Ctx, tap: SignalTap, message: Message | None) -> None:
    await require(update, ctx, Action.REPORT_DIFFICULTY)
    rows = [[_button(c.label, "dcat", a=c.code)] for c in rules.DIFFICULTY_CATEGORIES]
    rows.append([_button("⬅️ Retour", "home")])
    await edit(message, render("ask_difficulty", step="category"), InlineKeyboardMarkup(rows))


async def tap_difficulty_category(
    update: Update, ctx: Ctx, tap: SignalTap, message: Message | None
) -> None:
    await require(update, ctx, Action.REPORT_DIFFICULTY)
    category = _code(rules.DIFFICULTY_CATEGORIES, tap.a)
    rows = [[_button(u.label, "durg", a=category, b=u.code)] for u in rules.URGENCIES]
    rows.append([_button("⬅️ Retour", "diff")])
    await edit(
        message,
        render(
            "ask_difficulty",
            step="urgency",
            category=rules.label_of(rules.DIFFICULTY_CATEGORIES, category),
        ),
        InlineKeyboardMarkup(rows),
    )


async def tap_difficulty_urgency(
    update: Update, ctx: Ctx, tap: SignalTap, message: Message | None
) -> None:
    member = await require(update, ctx, Action.REPORT_DIFFICULTY)
    category = _code(rules.DIFFICULTY_CATEGORIES, tap.a)
    urgency = _code(rules.URGENCIES, tap.b)
    await pending.expect(
        ctx.db,
        member.person.id,
        "difficulty_description",
        {"category": category, "urgency": urgency},
        ctx.clock.now(),
    )
    await edit(
        message,
        render(
            "ask_difficulty",
            step="description",
            category=rules.label_of(rules.DIFFICULTY_CATEGORIES, category),
            urgency=rules.label_of(rules.URGENCIES, urgency),
            limit=rules.DESCRIPTION_MAX,
        ),
        None,
    )


async def tap_training(update: Update, ctx: Ctx, tap: SignalTap, message: Message | None) -> None:
    await require(update, ctx, Action.TRAINING_NEED)
    rows = [[_button(t.label, "ttop", a=t.code)] for t in rules.TRAINING_TOPICS]
    rows.append([_button("⬅️ Retour", "home")])
    await edit(message, render("ask_training", step="topic"), InlineKeyboardMarkup(rows))


async def tap_training_topic(
    update: Update, ctx: Ctx, tap: SignalTap, message: Message | None
) -> None:
    member = await require(update, ctx, Action.TRAINING_NEED)
    topic = _code(rules.TRAINING_TOPICS, tap.a)
    prompt_id = message.message_id if message else 0
    # The note is optional: typing it or tapping the button raises the same signal, once.
    await pending.expect(
        ctx.db,
        member.person.id,
        "training_note",
        {"topic": topic, "prompt": prompt_id},
        ctx.clock.now(),
    )
    rows = [
        [_button("📨 Envoyer sans précision", "tsend", prompt_id, a=topic)],
        [_button("⬅️ Retour", "train")],
    ]
    await edit(
        message,
        render(
            "ask_training",
            step="note",
            topic=rules.label_of(rules.TRAINING_TOPICS, topic),
            limit=rules.NOTE_MAX,
        ),
        InlineKeyboardMarkup(rows),
    )


async def tap_training_send(
    update: Update, ctx: Ctx, tap: SignalTap, message: Message | None
) -> str | None:
    member = await require(update, ctx, Action.TRAINING_NEED)
    topic = _code(rules.TRAINING_TOPICS, tap.a)
    signal, new = await _raise(
        ctx,
        member,
        kind=SignalKind.TRAINING,
        category=topic,
        key=f"training:{member.person.id}:{tap.ref}",
    )
    if not new:  # a double tap: the confirmation is already on screen
        return "Déjà envoyé."
    await edit(message, render("signal_sent", signal=signal, again=False), None)
    return None


async def tap_closed_today(
    update: Update, ctx: Ctx, tap: SignalTap, message: Message | None
) -> None:
    member = await require(update, ctx, Action.CLOSED_TODAY)
    rows = [[_button(r.label, "tdr", a=r.code)] for r in rules.CLOSURE_REASONS]
    rows.append([_button("⬅️ Retour", "home")])
    today = signal_view.local_day(ctx.clock.now(), ctx.settings.tz)
    await edit(
        message,
        render("ask_closed_today", today=today, partner=member.partner),
        InlineKeyboardMarkup(rows),
    )


async def tap_closed_today_reason(
    update: Update, ctx: Ctx, tap: SignalTap, message: Message | None
) -> str | None:
    member = await require(update, ctx, Action.CLOSED_TODAY)
    reason = _code(rules.CLOSURE_REASONS, tap.a)
    today = signal_view.local_day(ctx.clock.now(), ctx.settings.tz)
    closure, new = await closure_ops.declare(
        ctx, member, start=today, end=today, reason=reason, note=None
    )
    rows = [[_button("↩️ Annuler cette fermeture", "tcx", closure.id)]]
    await edit(
        message,
        render(
            "closure_saved",
            closure=closure,
            again=not new,
            reason=rules.label_of(rules.CLOSURE_REASONS, closure.reason),
        ),
        InlineKeyboardMarkup(rows),
    )
    return None if new else "Déjà signalé."


async def tap_cancel_closure(
    update: Update, ctx: Ctx, tap: SignalTap, message: Message | None
) -> str | None:
    member = await require(update, ctx, Action.CLOSED_TODAY)
    closure = await closures.get(ctx.db, tap.ref)
    if closure is None or not closure_ops.may_cancel(member, closure):
        raise BadCallback("not a closure this person may cancel")
    today = signal_view.local_day(ctx.clock.now(), ctx.settings.tz)
    if closure.cancelled_at is not None:
        await edit(message, render("closure_cancelled", closure=closure), None)
        return "Cette fermeture est déjà annulée."
    if closure.end_date < today:
        return "Cette fermeture est passée : elle ne peut plus être annulée."
    await closure_ops.cancel(ctx, member, closure)
    await edit(message, render("closure_cancelled", closure=closure), None)
    return "Fermeture annulée."


async def tap_mine(update: Update, ctx: Ctx, tap: SignalTap, message: Message | None) -> None:
    member = await require(update, ctx, Action.OWN_SIGNALS)
    assert member.partner is not None
    mine = await signal_store.for_reporter_site(ctx.db, member.person.id, member.partner.id)
    rows = [
        [_button(f"{s.kind.emoji} n° {s.id} · {s.kind.label} · {s.status.label}", "one", s.id)]
        for s in mine
    ]
    rows.append([_button("⬅️ Retour", "home")])
    await edit(
        message,
        render("my_signals", signals=mine, tz=ctx.settings.tz, category=signal_view.category_label),
        InlineKeyboardMarkup(rows),
    )


async def _own_signal(ctx: Ctx, member: Member, signal_id: int) -> Signal:
    signal = await signal_store.get(ctx.db, signal_id)
    if signal is None or signal.reporter_id != member.person.id:
        raise BadCallback("not this person's signal")
    return signal


async def tap_one(update: Update, ctx: Ctx, tap: SignalTap, message: Message | None) -> None:
    member = await require(update, ctx, Action.OWN_SIGNALS)
    signal = await _own_signal(ctx, member, tap.ref)
    rows = []
    if signal.status is not SignalStatus.RESOLVED:
        rows.append([_button("↩️ Répondre à la Caf", "reply", signal.id)])
    rows.append([_button("⬅️ Mes signalements", "mine")])
    text = await signal_view.card(ctx.db, signal, tz=ctx.settings.tz, now=ctx.clock.now())
    await edit(message, text, InlineKeyboardMarkup(rows))


async def tap_reply(
    update: Update, ctx: Ctx, tap: SignalTap, message: Message | None
) -> str | None:
    member = await require(update, ctx, Action.OWN_SIGNALS)
    signal = await _own_signal(ctx, member, tap.ref)
    if signal.status is SignalStatus.RESOLVED:
        return "Ce signalement est clos : faites-en un nouveau si besoin."
    await ask(
        ctx,
        member,
        "signal_answer",
        {"signal": signal.id},
        render("ask_signal_answer", signal=signal, limit=rules.DESCRIPTION_MAX),
    )
    return None


TAPS: dict[str, Any] = {
    "home": tap_home,
    "diff": tap_difficulty,
    "dcat": tap_difficulty_category,
    "durg": tap_difficulty_urgency,
    "train": tap_training,
    "ttop": tap_training_topic,
    "tsend": tap_training_send,
    "today": tap_closed_today,
    "tdr": tap_closed_today_reason,
    "tcx": tap_cancel_closure,
    "mine": tap_mine,
    "one": tap_one,
    "reply": tap_reply,
}


# ------------------------------------------------------------------------------ raising
async def _raise(
    ctx: Ctx,
    member: Member,
    *,
    kind: SignalKind,
    key: str,
    category: str | None = None,
    urgency: str | None = None,
    description: str | None = None,
) -> tuple[Signal, bool]:
    """Raises the signal once per `key`, audit-logs it and tells the Caf, in one transaction."""
    assert member.partner is not None
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        signal, new = await signal_store.raise_signal(
            tx,
            caf_id=member.caf.id,
            partner_id=member.partner.id,
            kind=kind,
            reporter_id=member.person.id,
            category=category,
            urgency=urgency,
            description=description,
            dedup_key=key,
            now=now,
        )
        if new:
            await audit.record(
                tx,
                at=now,
                action="signal.raised",
                actor_id=member.person.id,
                caf_id=member.caf.id,
                target_type="signal",
                target_id=signal.id,
                details={"kind": kind.value},
            )
            await signal_view.announce(tx, member.caf, signal, tz=ctx.settings.tz, now=now)
        await pending.clear(tx, member.person.id)
    ctx.services.wake_outbox()
    return signal, new


def _message_key(update: Update) -> str:
    """A typed message is raised once, even when Telegram delivers it twice."""
    message = update.effective_message
    assert message is not None
    return f"text:{message.chat_id}:{message.message_id}"


@TYPED.text("difficulty_description", max_length=rules.DESCRIPTION_MAX)
async def on_difficulty_description(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.REPORT_DIFFICULTY)
    category = _code(rules.DIFFICULTY_CATEGORIES, str(expected.context["category"]))
    urgency = _code(rules.URGENCIES, str(expected.context["urgency"]))
    signal, _ = await _raise(
        ctx,
        member,
        kind=SignalKind.DIFFICULTY,
        category=category,
        urgency=urgency,
        description=text,
        key=_message_key(update),
    )
    await show_menu(update, ctx, member, render("signal_sent", signal=signal, again=False))


@TYPED.text("training_note", max_length=rules.NOTE_MAX)
async def on_training_note(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.TRAINING_NEED)
    topic = _code(rules.TRAINING_TOPICS, str(expected.context["topic"]))
    signal, new = await _raise(
        ctx,
        member,
        kind=SignalKind.TRAINING,
        category=topic,
        description=text,
        key=f"training:{member.person.id}:{int(expected.context['prompt'])}",
    )
    await show_menu(update, ctx, member, render("signal_sent", signal=signal, again=not new))


@TYPED.text("signal_answer", max_length=rules.DESCRIPTION_MAX)
async def on_signal_answer(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.OWN_SIGNALS)
    signal = await _own_signal(ctx, member, int(expected.context["signal"]))
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        await pending.clear(tx, member.person.id)
        fresh = await signal_store.get(tx, signal.id)
        closed = fresh is None or fresh.status is SignalStatus.RESOLVED
        if not closed:
            message_id = await signal_store.add_message(
                tx, signal.id, author_id=member.person.id, from_caf=False, body=text, now=now
            )
            await audit.record(
                tx,
                at=now,
                action="signal.answered",
                actor_id=member.person.id,
                caf_id=member.caf.id,
                target_type="signal",
                target_id=signal.id,
            )
            await notify.to_coordinators(
                tx,
                member.caf,
                kind="signal_answer",
                key=f"signal:{signal.id}:msg{message_id}",
                text=render("signal_answer_caf", signal=signal, author=member.person, body=text),
                now=now,
                markup=signal_view.open_button(signal.id),
            )
    ctx.services.wake_outbox()
    reply = (
        "Ce signalement a été clos entre-temps : votre message n'a pas été envoyé."
        if closed
        else "✅ Votre message a été transmis à la Caf."
    )
    await show_menu(update, ctx, member, reply)
