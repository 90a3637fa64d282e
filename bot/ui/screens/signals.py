"""📣 Signaler: what a site's person sees to signal something to the Caf and follow it, and
how a signal reads wherever it shows (the Caf's inbox and notices included)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import signals as rules
from bot.domain.models import Member, Partner, Person
from bot.domain.permissions import Action, decide
from bot.domain.signals import Signal, SignalKind, SignalMessage, SignalStatus
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, SignalTap
from bot.ui.render import render
from bot.ui.screens import Screen

NONE = "0"  # an unused code field of a SignalTap
# A card must fit in one message (4,096 characters): the latest exchanges, each shortened.
THREAD_SHOWN = 4

# Toasts and short answers.
ALREADY_SENT = "Déjà envoyé."
ALREADY_DECLARED = "Déjà signalé."
CLOSURE_ALREADY_CANCELLED = "Cette fermeture est déjà annulée."
CLOSURE_PAST = "Cette fermeture est passée : elle ne peut plus être annulée."
CLOSURE_CANCELLED = "Fermeture annulée."
SIGNAL_CLOSED = "Ce signalement est clos : faites-en un nouveau si besoin."
ANSWER_SENT = "✅ Votre message a été transmis à la Caf."
ANSWER_TOO_LATE = "Ce signalement a été clos entre-temps : votre message n'a pas été envoyé."

#: A screen that leaves no buttons under the message.
Bare = tuple[str, None]


class SignalOp(StrEnum):
    HOME = "home"
    DIFFICULTY = "diff"
    DIFFICULTY_CATEGORY = "dcat"
    DIFFICULTY_URGENCY = "durg"
    TRAINING = "train"
    TRAINING_TOPIC = "ttop"
    TRAINING_SEND = "tsend"
    CLOSED_TODAY = "today"
    CLOSED_TODAY_REASON = "tdr"
    CANCEL_CLOSURE = "tcx"
    MINE = "mine"
    ONE = "one"
    REPLY = "reply"


class Step(StrEnum):
    """What the Caf did that the reporter is told of."""

    ACKNOWLEDGED = "acknowledged"
    REPLIED = "replied"
    RESOLVED = "resolved"


class DeclaredClosure(Protocol):
    """A closure as the « fermé aujourd'hui » screens show it."""

    @property
    def id(self) -> int: ...
    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class SignalView:
    """A signal with what its card shows besides itself: the exchange, and what it is about
    (`declaration`, `changes`, `compliance` for hours; `closure`, `reason` for a closure)."""

    signal: Signal
    messages: Sequence[SignalMessage] = ()
    about: Mapping[str, object] = field(default_factory=dict)


def _button(
    label: str, op: SignalOp, ref: int = 0, a: str = NONE, b: str = NONE
) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(SignalTap(op, ref, a, b)))


def _back(op: SignalOp, label: str = "⬅️ Retour") -> list[InlineKeyboardButton]:
    return [_button(label, op)]


def choice(choices: tuple[rules.Choice, ...], code: str) -> str:
    """A code carried by a button or a pending answer, if it is one of `choices`."""
    if not rules.is_code(choices, code):
        raise BadCallback("unknown code")
    return code


# ------------------------------------------------------------------------------ how a signal reads
def category_label(signal: Signal) -> str | None:
    choices = rules.CATEGORIES.get(signal.kind)
    # A closure's reason shows with its dates, not as an "object".
    if choices is None or signal.category is None or signal.kind is SignalKind.CLOSURE:
        return None
    return rules.label_of(choices, signal.category)


def urgency_label(signal: Signal) -> str | None:
    return rules.label_of(rules.URGENCIES, signal.urgency) if signal.urgency else None


def card(view: SignalView, *, tz: ZoneInfo, now: datetime) -> str:
    """The signal in full: what, where, who, when, its state and the latest exchanges."""
    signal = view.signal
    today = now.astimezone(tz).date()
    created = signal.created_at.astimezone(tz).date()
    shown = view.messages[-THREAD_SHOWN:]
    return render(
        "signal_card",
        signal=signal,
        category=category_label(signal),
        urgency=urgency_label(signal),
        tz=tz,
        waiting=rules.working_days_waiting(created, today),
        overdue=rules.is_overdue(signal.status, created, today),
        messages=shown,
        earlier=len(view.messages) - len(shown),
        **view.about,
    )


def reporter_notice(signal: Signal, *, step: Step, by: Person, body: str | None) -> Screen:
    """To the reporter: the Caf acknowledged, answered or closed their signal."""
    markup = InlineKeyboardMarkup([[_button("📂 Voir le signalement", SignalOp.ONE, signal.id)]])
    text = render("signal_update", signal=signal, step=step.value, by=by, body=body)
    return text, markup


# ------------------------------------------------------------------------------ 📣 Signaler
def home(member: Member) -> Screen:
    rows = [
        [_button("⚠️ Une difficulté", SignalOp.DIFFICULTY)],
        [_button("🎓 Un besoin de formation", SignalOp.TRAINING)],
    ]
    if decide(member.actor, Action.CLOSED_TODAY) is None:
        rows.append([_button("🚪 Le site est fermé aujourd'hui", SignalOp.CLOSED_TODAY)])
    rows.append([_button("📋 Mes signalements", SignalOp.MINE)])
    return render("signals_home", partner=member.partner), InlineKeyboardMarkup(rows)


def difficulty_categories() -> Screen:
    rows = [
        [_button(c.label, SignalOp.DIFFICULTY_CATEGORY, a=c.code)]
        for c in rules.DIFFICULTY_CATEGORIES
    ]
    rows.append(_back(SignalOp.HOME))
    return render("ask_difficulty", step="category"), InlineKeyboardMarkup(rows)


def difficulty_urgencies(category: str) -> Screen:
    rows = [
        [_button(u.label, SignalOp.DIFFICULTY_URGENCY, a=category, b=u.code)]
        for u in rules.URGENCIES
    ]
    rows.append(_back(SignalOp.DIFFICULTY))
    label = rules.label_of(rules.DIFFICULTY_CATEGORIES, category)
    return render("ask_difficulty", step="urgency", category=label), InlineKeyboardMarkup(rows)


def difficulty_description(category: str, urgency: str) -> Bare:
    """The description is typed next: no buttons left under the question."""
    text = render(
        "ask_difficulty",
        step="description",
        category=rules.label_of(rules.DIFFICULTY_CATEGORIES, category),
        urgency=rules.label_of(rules.URGENCIES, urgency),
        limit=rules.DESCRIPTION_MAX,
    )
    return text, None


def training_topics() -> Screen:
    rows = [[_button(t.label, SignalOp.TRAINING_TOPIC, a=t.code)] for t in rules.TRAINING_TOPICS]
    rows.append(_back(SignalOp.HOME))
    return render("ask_training", step="topic"), InlineKeyboardMarkup(rows)


def training_note(topic: str, prompt_id: int) -> Screen:
    """The note is optional: typed, or « Envoyer sans précision » (the prompt's id keys both,
    so that the signal is raised once)."""
    rows = [
        [_button("📨 Envoyer sans précision", SignalOp.TRAINING_SEND, prompt_id, a=topic)],
        _back(SignalOp.TRAINING),
    ]
    text = render(
        "ask_training",
        step="note",
        topic=rules.label_of(rules.TRAINING_TOPICS, topic),
        limit=rules.NOTE_MAX,
    )
    return text, InlineKeyboardMarkup(rows)


def sent(signal: Signal, *, again: bool = False) -> str:
    return render("signal_sent", signal=signal, again=again)


def closed_today(partner: Partner | None, today: date) -> Screen:
    rows = [
        [_button(r.label, SignalOp.CLOSED_TODAY_REASON, a=r.code)] for r in rules.CLOSURE_REASONS
    ]
    rows.append(_back(SignalOp.HOME))
    return render("ask_closed_today", today=today, partner=partner), InlineKeyboardMarkup(rows)


def closure_saved(closure: DeclaredClosure, *, new: bool) -> Screen:
    rows = [[_button("↩️ Annuler cette fermeture", SignalOp.CANCEL_CLOSURE, closure.id)]]
    text = render(
        "closure_saved",
        closure=closure,
        again=not new,
        reason=rules.label_of(rules.CLOSURE_REASONS, closure.reason),
    )
    return text, InlineKeyboardMarkup(rows)


def closure_cancelled(closure: DeclaredClosure) -> Bare:
    return render("closure_cancelled", closure=closure), None


def mine(signals: Sequence[Signal], *, tz: ZoneInfo) -> Screen:
    """The person's own signals, newest first, each one tap away."""
    rows = [
        [
            _button(
                f"{s.kind.emoji} n° {s.id} · {s.kind.label} · {s.status.label}", SignalOp.ONE, s.id
            )
        ]
        for s in signals
    ]
    rows.append(_back(SignalOp.HOME))
    text = render("my_signals", signals=signals, tz=tz, category=category_label)
    return text, InlineKeyboardMarkup(rows)


def one(view: SignalView, *, tz: ZoneInfo, now: datetime) -> Screen:
    """One of the person's signals, answerable until the Caf closes it."""
    rows = []
    if view.signal.status is not SignalStatus.RESOLVED:
        rows.append([_button("↩️ Répondre à la Caf", SignalOp.REPLY, view.signal.id)])
    rows.append(_back(SignalOp.MINE, "⬅️ Mes signalements"))
    return card(view, tz=tz, now=now), InlineKeyboardMarkup(rows)


def ask_answer(signal: Signal) -> str:
    return render("ask_signal_answer", signal=signal, limit=rules.DESCRIPTION_MAX)
