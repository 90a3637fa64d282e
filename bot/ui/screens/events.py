"""📅 Événements: the coordinators' screens (list, creation steps, card, audience, answers,
attendance, cancellation) and the invitation the people invited answer."""

from __future__ import annotations

import html
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.audience import AudienceKind
from bot.domain.events import (
    CAPACITIES,
    STEPS,
    Answer,
    Decision,
    Event,
    EventKind,
    Invitation,
    Why,
)
from bot.domain.models import Caf
from bot.ui import callbacks, pickers
from bot.ui.callbacks import BadCallback, EventTap, RsvpTap
from bot.ui.pickers import page_of
from bot.ui.render import render
from bot.ui.screens import Screen, question

#: A message to send and its keyboard, if it has one.
Reply = tuple[str, InlineKeyboardMarkup | None]


# ------------------------------------------------------------------------------ what is shown
# What bot/services/events.py reads for these screens.
@dataclass(frozen=True)
class Line:
    """An event of the list, with how many take part."""

    event: Event
    going: int


@dataclass(frozen=True)
class Card:
    """An event with its answers so far (a draft: how many its audience would invite)."""

    event: Event
    counts: dict[Answer, int]
    invited: int  # the audience's people (coordinators organise: not invited)
    chosen: list[str]  # the sites chosen, when the audience is a choice of sites
    attended: int
    started: bool


@dataclass(frozen=True)
class Step:
    """The creation step to type next; `problem`: why the times given did not fit."""

    name: str
    kind: EventKind
    problem: str | None = None


@dataclass(frozen=True)
class Created:
    """The last step given: the event saved as a draft."""

    card: Card


#: The sites an event invites.
SitesChoice = pickers.SiteChoice[Event]


@dataclass(frozen=True)
class Answers:
    event: Event
    everyone: list[Invitation]


@dataclass(frozen=True)
class Attendance:
    event: Event
    going: list[Invitation]


class EventOp(StrEnum):
    HOME = "home"
    NEW = "new"
    KIND = "kind"
    DEFAULT = "default"
    CAPACITY = "capacity"
    ITEM = "item"
    AUDIENCE = "aud"
    SITES = "sites"
    SITE = "site"
    DROP = "drop"
    PUBLISH = "publish"
    ANSWERS = "answers"
    PRESENCE = "presence"
    MARK = "mark"
    CANCEL = "cancel"


# The audiences offered in one tap, the button's value being the index here.
AUDIENCES = (
    (AudienceKind.ALL, "👥 Tout le réseau"),
    (AudienceKind.MANAGERS, "Responsables"),
    (AudienceKind.AGENTS, "Agents"),
)
STATUS_MARKS = {"draft": "📝", "cancelled": "✖️"}
ATTENDANCE_MARKS = {True: "✅", False: "❌", None: "▫️"}
# Telegram shows at most 100 buttons a message.
PRESENCE_ROWS = 60

DENIALS: dict[Why, str] = {
    Why.STEP_GONE: "Cette étape est passée : reprenez depuis 📅 Événements.",
    Why.STEP_PASSED: "Cette étape est passée.",
    Why.PUBLISHED: "L'événement est déjà publié.",
    Why.CANCEL_INSTEAD: "L'événement est déjà publié : annulez-le plutôt.",
    Why.PUBLISHED_TWICE: "Déjà publié.",
    Why.DEADLINE_PASSED: "La date limite de réponse est passée : créez l'événement de nouveau.",
    Why.NOT_STARTED: "Les présences se notent une fois l'événement commencé.",
    Why.NOT_PUBLISHED: "Cet événement n'est pas publié (ou déjà annulé).",
    Why.PAST: "Ce moment est passé : choisissez une date à venir.",
    Why.END_FIRST: "La fin doit être après le début.",
    Why.BAD_LINK: "Ce lien n'est pas valide : il doit commencer par https://.",
    Why.BAD_CAPACITY: "Écrivez un nombre de places, par exemple 30, ou touchez « Sans limite ».",
}
DROPPED = "Brouillon abandonné."
CANCELLED = "Événement annulé : les invités sont prévenus."
RSVP_TOASTS = {
    Answer.GOING: "C'est noté : vous participez. Le fichier agenda arrive.",
    Answer.WAITING: "Complet : vous êtes sur la liste d'attente.",
    Answer.DECLINED: "C'est noté : vous ne participez pas.",
}
RSVP_NOTED, RSVP_UNCHANGED = "C'est noté.", "Déjà noté."
RSVP_ANSWERS = {"yes": True, "no": False}


def _button(label: str, op: EventOp, item: int = 0, value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(EventTap(op, item, value)))


def _keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([row for row in rows if row])


def denied(why: Why) -> str:
    """The toast of an expected refusal."""
    return DENIALS[why]


def invalid(why: Why | None, detail: str) -> str:
    """A typed answer that cannot be used: our reason, or the parser's (which may quote what
    was typed: escaped)."""
    reason = detail if why is None else DENIALS[why]
    return f"❌ {html.escape(reason, quote=False)}"


# ------------------------------------------------------------------------------ the list
def home(lines: list[Line], tz: ZoneInfo) -> Screen:
    """The Caf's latest events, each with its participants, and « ➕ Nouvel événement »."""
    rows = [[_button("➕ Nouvel événement", EventOp.NEW)]]
    for line in lines:
        event = line.event
        mark = STATUS_MARKS.get(event.status, "📅")
        day = event.starts_at.astimezone(tz)
        label = f"{mark} {day:%d/%m} · {event.title} · {line.going} ✅"
        rows.append([_button(label, EventOp.ITEM, event.id)])
    return render("events_home", count=len(lines)), InlineKeyboardMarkup(rows)


# ------------------------------------------------------------------------------ creation
def kinds() -> Screen:
    """The first step: what kind of event."""
    rows = [[_button(kind.label, EventOp.KIND, 0, i)] for i, kind in enumerate(EventKind)]
    rows.append([_button("⬅️ Événements", EventOp.HOME)])
    return render("event_ask", step="kind", kind=""), InlineKeyboardMarkup(rows)


def kind_at(value: int) -> EventKind:
    """The kind a « kind » button names (its index)."""
    everything = list(EventKind)
    if not 0 <= value < len(everything):
        raise BadCallback("unknown kind")
    return everything[value]


def _default_label(step: str, kind: EventKind) -> str | None:
    return {
        "title": f"Garder « {kind.label} »",
        "capacity": "Sans limite",
        "deadline": "2 jours avant",
    }.get(step)


def ask(step: Step) -> Screen:
    """A step to type, with its one-tap default and, for the capacity, common numbers."""
    default = _default_label(step.name, step.kind)
    rows = [
        [_button(default, EventOp.DEFAULT, 0, STEPS.index(step.name))] if default else [],
        [_button(str(n), EventOp.CAPACITY, 0, n) for n in CAPACITIES if n]
        if step.name == "capacity"
        else [],
        [_button("✖️ Abandonner", EventOp.HOME)],
    ]
    return render("event_ask", step=step.name, kind=step.kind.label), _keyboard(*rows)


def progress(done: Step | Created, tz: ZoneInfo) -> list[Reply]:
    """What follows an answer: the next step (after why the times did not fit, if they did
    not), or the new draft's card."""
    if not isinstance(done, Step):
        return [card(done.card, tz)]
    problem: list[Reply] = [(f"❌ {done.problem}", None)] if done.problem else []
    return [*problem, ask(done)]


# ------------------------------------------------------------------------------ one event
def card(item: Card, tz: ZoneInfo) -> Screen:
    """An event: a draft with its audience and « Publier », or the answers so far."""
    event = item.event
    text = render(
        "event_card",
        event=event,
        counts={a.value: n for a, n in item.counts.items()},
        invited=item.invited,
        chosen=item.chosen,
        attended=item.attended,
        tz=tz,
        started=item.started,
    )
    rows: list[list[InlineKeyboardButton]] = []
    if event.status == "draft":
        current = event.audience.kind
        rows.append(
            [
                _button(("🔘 " if current is kind else "") + label, EventOp.AUDIENCE, event.id, i)
                for i, (kind, label) in enumerate(AUDIENCES)
            ]
        )
        rows.append([_button("🏢 Choisir des sites", EventOp.SITES, event.id)])
        if item.invited:
            label = f"📨 Publier et inviter ({item.invited})"
            rows.append([_button(label, EventOp.PUBLISH, event.id)])
        rows.append([_button("✖️ Abandonner", EventOp.DROP, event.id)])
    elif event.status == "published":
        rows.append([_button("👥 Réponses", EventOp.ANSWERS, event.id)])
        if item.started:
            rows.append([_button("✅ Présences", EventOp.PRESENCE, event.id)])
        else:
            rows.append([_button("✖️ Annuler l'événement", EventOp.CANCEL, event.id)])
    rows.append([_button("⬅️ Événements", EventOp.HOME)])
    return text, InlineKeyboardMarkup(rows)


def audience_at(value: int) -> AudienceKind:
    """The audience an « aud » button names (its index)."""
    if not 0 <= value < len(AUDIENCES):
        raise BadCallback("unknown audience")
    return AUDIENCES[value][0]


def sites(choice: SitesChoice, page: int) -> Screen:
    """The Caf's sites to tick, a page at a time."""
    event_id = choice.subject.id
    return pickers.sites_screen(
        choice,
        page,
        lambda label, op, value: _button(label, EventOp(op), event_id, value),
        _button("✔️ Terminé", EventOp.ITEM, event_id),
    )


def sites_showing(choice: SitesChoice, partner_id: int) -> Screen:
    """The checklist again, on the page of the site just ticked."""
    return sites(choice, page_of(choice.sites, partner_id))


def published(invited: int) -> str:
    return f"Invitations envoyées : {invited}."


def answers(found: Answers) -> Screen:
    """Who answered what, by answer."""
    everyone = found.everyone
    text = render(
        "event_answers",
        event=found.event,
        groups=[(answer, [i for i in everyone if i.status is answer]) for answer in Answer],
    )
    return text, _keyboard([_button("⬅️ L'événement", EventOp.ITEM, found.event.id)])


def presence(found: Attendance) -> Screen:
    """The participants, each a button cycling ▫️ → ✅ → ❌."""
    event = found.event
    rows = [
        [
            _button(
                f"{ATTENDANCE_MARKS[i.attended]} {i.display_name}"
                + (f" · {i.partner}" if i.partner else ""),
                EventOp.MARK,
                event.id,
                i.person_id,
            )
        ]
        for i in found.going[:PRESENCE_ROWS]
    ]
    rows.append([_button("⬅️ L'événement", EventOp.ITEM, event.id)])
    text = render("event_presence", event=event, count=len(found.going))
    return text, InlineKeyboardMarkup(rows)


def cancel_confirm(event: Event) -> Screen:
    yes = _button("✖️ Oui, annuler et prévenir les invités", EventOp.CANCEL, event.id, 1)
    no = _button("⬅️ Non", EventOp.ITEM, event.id)
    return question(render("event_cancel_confirm", event=event), yes, no)


# ------------------------------------------------------------------------------ the invited
def rsvp_markup(event_id: int) -> InlineKeyboardMarkup:
    """« Je participe » / « Je ne peux pas », under an invitation and its reminder."""

    def tap(answer: str) -> str:
        return callbacks.encode(RsvpTap(event_id, answer))

    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("✅ Je participe", callback_data=tap("yes")),
                InlineKeyboardButton("❌ Je ne peux pas", callback_data=tap("no")),
            ]
        ]
    )


def wants(tap: RsvpTap) -> bool:
    """True for « Je participe », False for « Je ne peux pas »."""
    if tap.answer not in RSVP_ANSWERS:
        raise BadCallback("unknown answer")
    return RSVP_ANSWERS[tap.answer]


def invitation(event: Event, caf: Caf, tz: ZoneInfo, answer: Answer | None = None) -> Screen:
    """The invitation as sent, then as it reads once answered."""
    context = {} if answer is None else {"answer": answer}
    text = render("event_invitation", event=event, tz=tz, caf=caf, **context)
    return text, rsvp_markup(event.id)


def rsvp_toast(decision: Decision) -> str:
    if not decision.changed:
        return RSVP_UNCHANGED
    return RSVP_TOASTS.get(decision.status, RSVP_NOTED)
