"""The Caf's yearly visit to a site and its action plan (convention, Article 9), as data.

A coordinator records the visit step by step: its date, the checklist (`CHECKS`: premises,
equipment, opening hours, and the points Articles 4 and 9 list — confidentiality of
interviews, accessibility, signage and logo, safety, the agent put in situation), remarks,
then the action plan — items with an owner and a due date, followed until done. Each point
found wanting proposes its action item in the plan, which the coordinator may keep, remove
or complete. The answers so far are a `DraftState`, kept as JSON between taps so a
restart loses nothing. Pure code: no I/O, no Telegram, no SQL; "today" is always passed in.

Decisions:

* A visit is dated today or in the past, at most `MAX_DAYS_BACK` days ago. The shared French
  parser reads a day typed without its year forward (closures are ahead): when it lands on
  next year, the day is taken in the past year instead (« 24/11 » typed in January is last
  November). A day later this year stays refused as « à venir » rather than read a year back:
  it is more likely a slip than a visit eleven months ago. « hier », « avant-hier » work too.
* An item's due date is today or later, at most `MAX_DUE_DAYS` ahead; « Dans 3 mois » is the
  same day three months on (the month's last day when that day does not exist).
* An item is overdue once its due date is past (the due day itself is not late).
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any, NamedTuple

from pydantic import Field

from bot.domain import closure_dates
from bot.domain.labelled import Labelled
from bot.domain.models import Model

MAX_DAYS_BACK = 366
MAX_DUE_DAYS = 2 * 366
DESCRIPTION_MAX = 300
REMARKS_MAX = 1000
MAX_ITEMS = 12
DUE_CHOICES_MONTHS = (1, 3, 6)


class Owner(Labelled):
    """Who carries an action item; the codes are the `action_items.owner` CHECK constraint."""

    PARTNER = "partner", "Partenaire"
    CAF = "caf", "Caf"
    BOTH = "both", "Les deux"

    @property
    def concerns_partner(self) -> bool:
        return self is not Owner.CAF


@dataclass(frozen=True)
class Check:
    """One point of the visit's checklist (convention, Articles 4 and 9).

    `key` is its code: the wizard's step, the `site_review_checks.item` value, and for the
    first three the old `site_reviews.<key>_ok` column. `proposal` is the action item the plan
    proposes when the point is found wanting, carried by `owner`.
    """

    key: str
    icon: str
    question: str
    label: str
    yes: str
    no: str
    proposal: str
    owner: Owner = Owner.PARTNER
    # What the coordinator looks at, shown under the question.
    hint: str | None = None


#: The checklist, in the wizard's order. Screens, storage, the action plan and compliance all
#: derive from it: a point added here needs only its `Step` member below.
CHECKS: tuple[Check, ...] = (
    Check(
        "premises",
        "🏠",
        "Les locaux sont-ils conformes ?",
        "Locaux",
        "conformes",
        "non conformes",
        "Mettre les locaux en conformité",
    ),
    Check(
        "equipment",
        "💻",
        "L'équipement est-il conforme ?",
        "Équipement",
        "conforme",
        "non conforme",
        "Compléter ou remettre en état l'équipement",
        hint=(
            "Ressources mises à disposition du public (article 8) : poste informatique"
            " connecté à Internet, navigateur « Mini PCLS », scanner (documents effacés après"
            " usage, article 5), imprimante, documentation de la Caf."
        ),
    ),
    Check(
        "hours",
        "🕘",
        "Les horaires sont-ils respectés ?",
        "Horaires",
        "respectés",
        "non respectés",
        "Respecter les horaires déclarés",
    ),
    Check(
        "confidentiality",
        "🤫",
        "La confidentialité des entretiens est-elle assurée ?",
        "Confidentialité des entretiens",
        "assurée",
        "non assurée",
        "Assurer la confidentialité des entretiens",
        hint="Entretien et consultation du caf.fr à l'abri des regards et des oreilles.",
    ),
    Check(
        "accessibility",
        "♿",
        "L'accès des personnes en situation de handicap est-il garanti ?",
        "Accessibilité",
        "garantie",
        "non garantie",
        "Garantir l'accès des personnes en situation de handicap",
    ),
    Check(
        "signage",
        "🪧",
        "La signalétique et le logo « Point numérique Caf » sont-ils visibles ?",
        "Signalétique et logo",
        "visibles",
        "absents ou peu visibles",
        "Afficher la signalétique et le logo « Point numérique Caf »",
    ),
    Check(
        "safety",
        "🦺",
        "La sécurité du personnel et des locaux est-elle garantie ?",
        "Sécurité du personnel et des locaux",
        "garantie",
        "non garantie",
        "Garantir la sécurité du personnel et des locaux",
    ),
    Check(
        "situation",
        "🧑‍💻",
        "La mise en situation de l'agent (navigation sur caf.fr par exemple) est-elle"
        " satisfaisante ?",
        "Mise en situation de l'agent",
        "satisfaisante",
        "à améliorer",
        "Renforcer la pratique de l'agent (formation, mise en situation)",
        Owner.BOTH,
        hint="Par exemple : l'agent navigue sur caf.fr ou aide à une téléprocédure devant vous.",
    ),
)
CHECK_KEYS = tuple(check.key for check in CHECKS)
BY_KEY = {check.key: check for check in CHECKS}
#: The three points a visit recorded before the full checklist (migration 0014) answered.
LEGACY_KEYS = ("premises", "equipment", "hours")
#: A proposed action item is due this many months after the plan is drawn up.
PROPOSAL_MONTHS = 3


class Step(StrEnum):
    """The wizard's steps, in order; the item steps loop back to the plan. A checklist
    point's step has the point's code as its value."""

    DATE = "date"
    PREMISES = "premises"
    EQUIPMENT = "equipment"
    HOURS = "hours"
    CONFIDENTIALITY = "confidentiality"
    ACCESSIBILITY = "accessibility"
    SIGNAGE = "signage"
    SAFETY = "safety"
    SITUATION = "situation"
    REMARKS = "remarks"
    PLAN = "plan"
    ITEM_TEXT = "item_text"
    ITEM_OWNER = "item_owner"
    ITEM_DUE = "item_due"

    @property
    def typed(self) -> bool:
        """Whether this step takes a typed answer (the others are buttons only)."""
        return self in (Step.DATE, Step.REMARKS, Step.ITEM_TEXT, Step.ITEM_DUE)

    @property
    def check(self) -> Check | None:
        """The checklist point this step asks, if it is one."""
        return BY_KEY.get(self.value)


#: One step per checklist point (a point without its step fails here, at import).
CHECK_STEPS: tuple[Step, ...] = tuple(Step(check.key) for check in CHECKS)
_SEQUENCE = (Step.DATE, *CHECK_STEPS, Step.REMARKS, Step.PLAN)
BACK: dict[Step, Step | None] = {
    Step.DATE: None,  # back to the site's screen
    **{step: before for before, step in pairwise(_SEQUENCE)},
    Step.ITEM_TEXT: Step.PLAN,
    Step.ITEM_OWNER: Step.ITEM_TEXT,
    Step.ITEM_DUE: Step.ITEM_OWNER,
}
_AFTER_CHECK = {step: after for step, after in zip(CHECK_STEPS, _SEQUENCE[2:], strict=False)}


class ReviewError(ValueError):
    """An answer the wizard refuses; the French message can be shown as is."""


@dataclass(frozen=True)
class PlannedItem:
    description: str
    owner: Owner
    due_on: date
    # The checklist point it answers, when the plan proposed it for a point found wanting.
    point: str | None = None


@dataclass(frozen=True)
class DraftState:
    """The answers of a visit being recorded. Texts in it are already screened."""

    step: Step = Step.DATE
    visited_on: date | None = None
    answers: dict[str, bool] = field(default_factory=dict)
    remarks: str | None = None
    items: tuple[PlannedItem, ...] = ()
    # The item being added, between its steps.
    new_description: str | None = None
    new_owner: Owner | None = None
    # The points found wanting whose action item the plan has proposed already: one removed
    # by the coordinator is not proposed again, unless the point is answered anew.
    proposed: tuple[str, ...] = ()

    # ---- moves (each returns a new state)
    def with_date(self, day: date) -> DraftState:
        return replace(self, visited_on=day, step=Step.PREMISES)

    def with_check(self, step: Step, ok: bool) -> DraftState:
        if step not in _AFTER_CHECK:
            raise ValueError(f"{step} is not a conformity question")
        return replace(self, answers={**self.answers, step.value: ok}, step=_AFTER_CHECK[step])

    def with_proposals(self, today: date, wording: Mapping[str, str] | None = None) -> DraftState:
        """The plan with an action item proposed for each point found wanting (once each),
        and without the proposals of points since answered as conforming. `wording` words a
        point's proposal otherwise (the equipment the site lists as missing)."""
        wording = wording or {}
        missing = self.missing
        kept = [i for i in self.items if i.point is None or i.point in missing]
        due = add_months(today, PROPOSAL_MONTHS)
        fresh = [
            PlannedItem(
                wording.get(key, BY_KEY[key].proposal)[:DESCRIPTION_MAX],
                BY_KEY[key].owner,
                due,
                point=key,
            )
            for key in missing
            if key not in self.proposed
        ]
        items = (*kept, *fresh)[:MAX_ITEMS]
        return replace(self, items=tuple(items), proposed=tuple(missing))

    def with_remarks(self, remarks: str | None) -> DraftState:
        if remarks is not None and len(remarks) > REMARKS_MAX:
            raise ReviewError(f"Les remarques tiennent en {REMARKS_MAX} caractères au plus.")
        return replace(self, remarks=remarks, step=Step.PLAN)

    def adding_item(self) -> DraftState:
        if len(self.items) >= MAX_ITEMS:
            raise ReviewError(f"Un plan d'action compte {MAX_ITEMS} actions au plus.")
        return replace(self, step=Step.ITEM_TEXT, new_description=None, new_owner=None)

    def with_description(self, text: str) -> DraftState:
        if len(text) > DESCRIPTION_MAX:
            raise ReviewError(f"Une action se décrit en {DESCRIPTION_MAX} caractères au plus.")
        return replace(self, new_description=text, step=Step.ITEM_OWNER)

    def with_owner(self, owner: Owner) -> DraftState:
        if self.new_description is None:
            raise ReviewError("Décrivez d'abord l'action.")
        return replace(self, new_owner=owner, step=Step.ITEM_DUE)

    def with_due(self, due_on: date) -> DraftState:
        if self.new_description is None or self.new_owner is None:
            raise ReviewError("Décrivez d'abord l'action et qui s'en charge.")
        item = PlannedItem(self.new_description, self.new_owner, due_on)
        return replace(
            self,
            items=(*self.items, item),
            new_description=None,
            new_owner=None,
            step=Step.PLAN,
        )

    def without_item(self, index: int) -> DraftState:
        if not 0 <= index < len(self.items):
            raise ReviewError("Cette action n'est plus dans le plan.")
        items = self.items[:index] + self.items[index + 1 :]
        return replace(self, items=items, step=Step.PLAN)

    def back(self) -> DraftState | None:
        """The previous step (answers kept); None when the wizard is left for the site."""
        previous = BACK[self.step]
        if previous is None:
            return None
        if self.step is Step.ITEM_TEXT:
            return replace(self, step=previous, new_description=None, new_owner=None)
        return replace(self, step=previous)

    # ---- reading
    @property
    def complete(self) -> bool:
        """Everything a saved visit needs (the plan may be empty)."""
        return self.visited_on is not None and all(k in self.answers for k in CHECK_KEYS)

    @property
    def missing(self) -> tuple[str, ...]:
        """The points answered « non », in the checklist's order."""
        return missing_points(self.answers)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step.value,
            "visited_on": self.visited_on.isoformat() if self.visited_on else None,
            "answers": dict(self.answers),
            "remarks": self.remarks,
            "items": [
                {
                    "description": i.description,
                    "owner": i.owner.value,
                    "due_on": i.due_on.isoformat(),
                    "point": i.point,
                }
                for i in self.items
            ],
            "new_description": self.new_description,
            "new_owner": self.new_owner.value if self.new_owner else None,
            "proposed": list(self.proposed),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DraftState:
        return cls._from_json(data).asking_what_is_unanswered()

    def asking_what_is_unanswered(self) -> DraftState:
        """A draft begun before a point joined the checklist, past the points: back to the
        first point it never answered, so that it can still be completed and saved."""
        if self.visited_on is None or self.step is Step.DATE or self.step in CHECK_STEPS:
            return self
        unanswered = [step for step in CHECK_STEPS if step.value not in self.answers]
        return replace(self, step=unanswered[0]) if unanswered else self

    @classmethod
    def _from_json(cls, data: dict[str, Any]) -> DraftState:
        answers = data.get("answers") or {}
        return cls(
            step=Step(data["step"]),
            visited_on=date.fromisoformat(data["visited_on"]) if data.get("visited_on") else None,
            answers={k: bool(answers[k]) for k in CHECK_KEYS if k in answers},
            remarks=data.get("remarks"),
            items=tuple(
                PlannedItem(
                    str(i["description"]),
                    Owner(i["owner"]),
                    date.fromisoformat(i["due_on"]),
                    point=i["point"] if i.get("point") in BY_KEY else None,
                )
                for i in data.get("items") or ()
            ),
            new_description=data.get("new_description"),
            new_owner=Owner(data["new_owner"]) if data.get("new_owner") else None,
            proposed=tuple(k for k in data.get("proposed") or () if k in BY_KEY),
        )


def missing_points(answers: Mapping[str, bool]) -> tuple[str, ...]:
    """The points answered « non » among `answers`, in the checklist's order (a point not
    asked, as in a visit recorded before it was on the checklist, is not missing)."""
    return tuple(key for key in CHECK_KEYS if answers.get(key) is False)


# --------------------------------------------------------------------------- dates


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when that day does not exist."""
    year, month = closure_dates.add_months(day.year, day.month, months)
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def due_choices(today: date) -> list[tuple[int, date]]:
    """« Dans 1 mois », « Dans 3 mois », « Dans 6 mois »: (months, due date)."""
    return [(months, add_months(today, months)) for months in DUE_CHOICES_MONTHS]


def _numeric(day: date) -> str:
    return f"{day.day}/{day.month:02d}"


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return " ".join(text.split()).strip(" .!")


_BACKWARD = {"hier": 1, "avant-hier": 2, "avant hier": 2}
_EXAMPLE = re.compile(r"\s*Écrivez par exemple.*$", re.DOTALL)


def _understood(error: closure_dates.ClosureDateError, example: str) -> ReviewError:
    """The parser's reason, with an example that fits (its own points to tomorrow)."""
    reason = _EXAMPLE.sub("", str(error)).strip()
    return ReviewError(f"{reason} {example}".strip())


def parse_visit_day(text: str, today: date) -> date:
    """The day of a visit as typed (« 24/11 », « 24 novembre », « hier »): today or before."""
    yesterday = today - timedelta(days=1)
    example = f"Écrivez par exemple {_numeric(yesterday)} ou « hier »."
    plain = _plain(text)
    if plain in _BACKWARD:
        return check_visit_day(today - timedelta(days=_BACKWARD[plain]), today)
    try:
        day = closure_dates.parse_day(text, today)
    except closure_dates.ClosureDateError as error:
        raise _understood(error, example) from None
    if day.year > today.year and _year_left_out(text, today, day):
        day = _year_before(day)
    return check_visit_day(day, today)


def _year_left_out(text: str, today: date, day: date) -> bool:
    """Whether `day` was read from a day and month alone (its year inferred, not written).

    A written year does not move when "today" moves a year back; « demain » moves a day
    when today moves a day.
    """
    try:
        if closure_dates.parse_day(text, today + timedelta(days=1)) != day:
            return False  # relative (« demain »)
        return closure_dates.parse_day(text, today.replace(year=today.year - 1)) != day
    except (closure_dates.ClosureDateError, ValueError):
        return False


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def check_visit_day(day: date, today: date) -> date:
    if day > today:
        raise ReviewError("Cette date est à venir : indiquez le jour où la visite a eu lieu.")
    if (today - day).days > MAX_DAYS_BACK:
        raise ReviewError("Cette visite date de plus d'un an : indiquez une date plus récente.")
    return day


def parse_due_day(text: str, today: date) -> date:
    """An action item's due date as typed: today or later, within two years."""
    tomorrow = today + timedelta(days=1)
    example = f"Écrivez par exemple {_numeric(tomorrow + timedelta(days=30))} ou 15 mars."
    try:
        day = closure_dates.parse_day(text, today)
    except closure_dates.ClosureDateError as error:
        raise _understood(error, example) from None
    return check_due_day(day, today)


def check_due_day(day: date, today: date) -> date:
    if day < today:
        raise ReviewError("Cette date est passée : choisissez une échéance à venir.")
    if (day - today).days > MAX_DUE_DAYS:
        raise ReviewError("Choisissez une échéance dans les deux ans qui viennent.")
    return day


def is_overdue(due_on: date, today: date) -> bool:
    return due_on < today


#: Those who carry an action item are reminded this many days before its due date.
ITEM_REMINDER_DAYS = 7


class ItemReminder(StrEnum):
    SOON = "soon"  # due within ITEM_REMINDER_DAYS
    OVERDUE = "overdue"  # its due date has passed


def item_reminder_due(due_on: date, today: date) -> ItemReminder | None:
    """Which reminder an open item calls for today. Each is sent once (the caller keys it);
    a bot down through the week before the due date sends only the overdue one."""
    if is_overdue(due_on, today):
        return ItemReminder.OVERDUE
    if today >= due_on - timedelta(days=ITEM_REMINDER_DAYS):
        return ItemReminder.SOON
    return None


# --------------------------------------------------------------------------- the records
# What storage/site_reviews.py reads and writes, defined here so that the screens can name
# them without reaching into storage.


class SiteReview(Model):
    id: int
    caf_id: int
    partner_id: int
    visited_on: date
    premises_ok: bool
    equipment_ok: bool
    hours_ok: bool
    remarks: str | None
    recorded_by: int | None
    recorded_at: datetime
    recorded_by_name: str | None = None
    # Every point answered, by code; a visit recorded before the full checklist has only
    # the first three (migration 0014 copied them from their columns).
    checks: dict[str, bool] = Field(default_factory=dict)

    def answered(self, key: str) -> bool:
        """Whether the visit asked this point of `CHECKS`."""
        return key in self.checks or key in LEGACY_KEYS

    def ok(self, key: str) -> bool:
        """The answer to one of `CHECKS` (``premises``, …); a point not asked is not wanting."""
        if key in self.checks:
            return self.checks[key]
        return bool(getattr(self, f"{key}_ok")) if key in LEGACY_KEYS else True

    @property
    def missing(self) -> tuple[str, ...]:
        return missing_points({key: self.ok(key) for key in CHECK_KEYS if self.answered(key)})


class ActionItem(Model):
    id: int
    review_id: int
    partner_id: int
    description: str
    owner: Owner
    due_on: date
    done_at: datetime | None
    done_by: int | None
    created_at: datetime
    # The checklist point it answers, when proposed for a point found wanting.
    point: str | None = None

    def overdue(self, today: date) -> bool:
        return self.done_at is None and is_overdue(self.due_on, today)


class ReviewSummary(NamedTuple):
    last_visited_on: date | None
    open_count: int
    overdue_count: int


class ReviewDraft(Model):
    """A coordinator's draft row: `state` is None once the visit was saved or abandoned."""

    person_id: int
    partner_id: int
    state: DraftState | None
    # The review a saved draft became (a stale button can say so).
    saved_review: int | None = None
    revision: int
    updated_at: datetime
