"""The Caf's yearly visit to a site and its action plan (convention, Article 9), as data.

A coordinator records the visit step by step: its date, three conformity answers (premises,
equipment, opening hours), remarks, then the action plan — items with an owner and a due date,
followed until done. The answers so far are a `DraftState`, kept as JSON between taps so a
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
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

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
    """One conformity question of the visit; `key` names the `site_reviews.<key>_ok` column."""

    key: str
    question: str
    label: str
    yes: str
    no: str


CHECKS: tuple[Check, ...] = (
    Check("premises", "Les locaux sont-ils conformes ?", "Locaux", "conformes", "non conformes"),
    Check(
        "equipment",
        "L'équipement est-il conforme ?",
        "Équipement",
        "conforme",
        "non conforme",
    ),
    Check("hours", "Les horaires sont-ils respectés ?", "Horaires", "respectés", "non respectés"),
)
CHECK_KEYS = tuple(check.key for check in CHECKS)


class Step(StrEnum):
    """The wizard's steps, in order; the item steps loop back to the plan."""

    DATE = "date"
    PREMISES = "premises"
    EQUIPMENT = "equipment"
    HOURS = "hours"
    REMARKS = "remarks"
    PLAN = "plan"
    ITEM_TEXT = "item_text"
    ITEM_OWNER = "item_owner"
    ITEM_DUE = "item_due"

    @property
    def typed(self) -> bool:
        """Whether this step takes a typed answer (the others are buttons only)."""
        return self in (Step.DATE, Step.REMARKS, Step.ITEM_TEXT, Step.ITEM_DUE)


BACK: dict[Step, Step | None] = {
    Step.DATE: None,  # back to the site's screen
    Step.PREMISES: Step.DATE,
    Step.EQUIPMENT: Step.PREMISES,
    Step.HOURS: Step.EQUIPMENT,
    Step.REMARKS: Step.HOURS,
    Step.PLAN: Step.REMARKS,
    Step.ITEM_TEXT: Step.PLAN,
    Step.ITEM_OWNER: Step.ITEM_TEXT,
    Step.ITEM_DUE: Step.ITEM_OWNER,
}
_AFTER_CHECK = {Step.PREMISES: Step.EQUIPMENT, Step.EQUIPMENT: Step.HOURS, Step.HOURS: Step.REMARKS}


class ReviewError(ValueError):
    """An answer the wizard refuses; the French message can be shown as is."""


@dataclass(frozen=True)
class PlannedItem:
    description: str
    owner: Owner
    due_on: date


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

    # ---- moves (each returns a new state)
    def with_date(self, day: date) -> DraftState:
        return replace(self, visited_on=day, step=Step.PREMISES)

    def with_check(self, step: Step, ok: bool) -> DraftState:
        if step not in _AFTER_CHECK:
            raise ValueError(f"{step} is not a conformity question")
        return replace(self, answers={**self.answers, step.value: ok}, step=_AFTER_CHECK[step])

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
                }
                for i in self.items
            ],
            "new_description": self.new_description,
            "new_owner": self.new_owner.value if self.new_owner else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DraftState:
        answers = data.get("answers") or {}
        return cls(
            step=Step(data["step"]),
            visited_on=date.fromisoformat(data["visited_on"]) if data.get("visited_on") else None,
            answers={k: bool(answers[k]) for k in CHECK_KEYS if k in answers},
            remarks=data.get("remarks"),
            items=tuple(
                PlannedItem(
                    str(i["description"]), Owner(i["owner"]), date.fromisoformat(i["due_on"])
                )
                for i in data.get("items") or ()
            ),
            new_description=data.get("new_description"),
            new_owner=Owner(data["new_owner"]) if data.get("new_owner") else None,
        )


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

    def ok(self, key: str) -> bool:
        """The answer to one of `CHECKS` (``premises``, …)."""
        return bool(getattr(self, f"{key}_ok"))


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
