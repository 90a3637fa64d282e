"""📅 Événements: the coordinators' screens (list, creation steps, card, audience, answers,
attendance, cancellation) and the invitation the people invited answer.

Creating an event is one message: each step replaces the previous one in it, above a recap
of what was given (a typed answer is acknowledged there), with « ⬅️ Retour » and
« ✖️ Annuler »; the draft's card ends it in the same message. Every date and hour is shown
in the Caf's zone (`tz`, the caller's `caf.zone`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.audience import AudienceKind
from bot.domain.events import (
    CAPACITIES,
    MAX_CAPACITY,
    PLACE_MAX,
    STEPS,
    TITLE_MAX,
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
from bot.ui.formatting import number_fr
from bot.ui.pickers import page_of
from bot.ui.render import render
from bot.ui.screens import Screen, question


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
class Draft:
    """What the coordinator has given so far (every step before the current one)."""

    kind: EventKind | None = None
    title: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    place: str | None = None
    visio: str | None = None
    capacity: int | None = None  # None once given: no limit
    deadline: datetime | None = None


@dataclass(frozen=True)
class Step:
    """The creation step now asked, in the flow's message (`message_id`, None when unknown:
    then it is sent afresh). `problem` (or the date parser's French `detail`): why the answer
    just given was not taken; `typed`: text came where a button was expected."""

    name: str
    draft: Draft
    message_id: int | None = None
    problem: Why | None = None
    detail: str = ""
    typed: bool = False
    deadline_days: int | None = None  # the answer deadline offered in one tap, if any


@dataclass(frozen=True)
class Created:
    """The last step given: the event saved as a draft, its card in the flow's message."""

    card: Card
    message_id: int | None = None
    typed: bool = False


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
    BACK = "back"  # value: the creation step left
    QUIT = "quit"


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
    Why.BAD_CAPACITY: (
        f"Écrivez un nombre entier de places, de 1 à {number_fr(MAX_CAPACITY)} (par exemple 37),"
        " ou touchez « Sans limite »."
    ),
    Why.TOO_FEW_PLACES: (
        f"Il faut au moins 1 place : écrivez un nombre de 1 à {number_fr(MAX_CAPACITY)},"
        " ou touchez « Sans limite »."
    ),
    Why.TOO_MANY_PLACES: (
        f"{number_fr(MAX_CAPACITY)} places au plus : écrivez un nombre de 1 à"
        f" {number_fr(MAX_CAPACITY)}, ou touchez « Sans limite »."
    ),
    Why.TITLE_TOO_LONG: f"Le titre fait {TITLE_MAX} caractères au plus : raccourcissez-le.",
    Why.PLACE_TOO_LONG: f"Le lieu fait {PLACE_MAX} caractères au plus : raccourcissez-le.",
    Why.DEADLINE_AFTER_START: "La date limite de réponse doit précéder le début de l'événement.",
    Why.DEADLINE_OVER: "Cette date limite est déjà passée : choisissez-en une à venir.",
}
DROPPED = "Brouillon abandonné."
ABANDONED = "Création abandonnée."
BACK_LABEL, QUIT_LABEL = "⬅️ Retour", "✖️ Annuler"
DEADLINE_LABELS = {2: "2 jours avant", 1: "La veille", 0: "Jusqu'au début"}
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
def kind_at(value: int) -> EventKind:
    """The kind a « kind » button names (its index)."""
    everything = list(EventKind)
    if not 0 <= value < len(everything):
        raise BadCallback("unknown kind")
    return everything[value]


def _step_buttons(step: Step) -> list[list[InlineKeyboardButton]]:
    """The one-tap answers of a step: a kind, the title proposed, a capacity, a deadline."""
    index = STEPS.index(step.name)
    if step.name == "kind":
        return [[_button(kind.label, EventOp.KIND, 0, i)] for i, kind in enumerate(EventKind)]
    if step.name == "title" and step.draft.kind is not None:
        return [[_button(f"Garder « {step.draft.kind.label} »", EventOp.DEFAULT, 0, index)]]
    if step.name == "capacity":
        return [
            [_button("Sans limite", EventOp.DEFAULT, 0, index)],
            [_button(str(n), EventOp.CAPACITY, 0, n) for n in CAPACITIES if n],
        ]
    if step.name == "deadline" and step.deadline_days is not None:
        return [[_button(DEADLINE_LABELS[step.deadline_days], EventOp.DEFAULT, 0, index)]]
    return []


def step(shown: Step, tz: ZoneInfo) -> Screen:
    """A creation step in the flow's message: what was given so far, the question, why the
    last answer was not taken (if it was not), the one-tap answers, ⬅️ Retour and ✖️ Annuler."""
    index = STEPS.index(shown.name)
    problem = DENIALS[shown.problem] if shown.problem is not None else shown.detail
    text = render(
        "event_ask",
        step=shown.name,
        number=index + 1,
        total=len(STEPS),
        done=STEPS[:index],
        draft=shown.draft,
        tz=tz,
        problem=problem,
        max_capacity=MAX_CAPACITY,
    )
    if shown.typed:
        text += "\n\n" + render("event_use_buttons")
    navigation = [
        _button(BACK_LABEL, EventOp.BACK, 0, index),
        _button(QUIT_LABEL, EventOp.QUIT),
    ]
    return text, _keyboard(*_step_buttons(shown), navigation)


def creation(shown: Step | Created, tz: ZoneInfo) -> Screen:
    """The flow's message: the current step, or the new draft's card."""
    if isinstance(shown, Step):
        return step(shown, tz)
    text, markup = card(shown.card, tz)
    if shown.typed:
        text += "\n\n" + render("event_use_buttons")
    return text, markup


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
