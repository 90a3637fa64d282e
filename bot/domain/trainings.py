"""🎓 Formations: each person's training history (issue #17), what « trained » means, and the
training date a coordinator types.

A training is a training day of the Caf (its attendance marked by a coordinator) or a
training the Caf records by hand. A person is trained once one training shows them present:
that closes their « nouvel agent à former » need, and compliance lists the sites whose
active agents or managers have none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.closure_dates import ClosureDateError, parse_day
from bot.domain.renewal import add_months

TITLE_MAX = 120
"""A training's title, as the history and the export show it."""
OLDEST_YEARS = 30
"""A training typed further back than this is a typo in the year."""

# Closure dates look ahead (« demain »); a training is looked back on.
_DAYS_BACK = {"hier": 1, "avant hier": 2}
_YEAR = re.compile(r"\b\d{4}\b|\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2}\b")


class TrainingDateError(ValueError):
    """A typed training date that cannot be used; its message is French, for the person."""


@dataclass(frozen=True)
class Training:
    """One line of a person's history."""

    id: int
    person_id: int
    title: str
    on_date: date
    attended: bool
    event_id: int | None  # None: recorded by hand
    recorded_by: int | None
    recorded_at: datetime

    @property
    def by_hand(self) -> bool:
        return self.event_id is None


@dataclass(frozen=True)
class TrainingRecord:
    """A line of the Caf's export: a training with whom and where."""

    person: str
    role: str
    site: str
    title: str
    on_date: date
    attended: bool
    by_hand: bool
    recorded_by: str
    recorded_at: datetime


def is_trained(history: list[Training]) -> bool:
    """Trained: present at one training at least."""
    return any(t.attended for t in history)


def parse_training_day(text: str, today: date) -> date:
    """The day a training took place, as a coordinator types it (« 12/03/2026 », « hier »…).

    A training is recorded once it has taken place: a date typed without a year that would
    fall in the future is read as last year's; one typed with a later year is refused.
    """
    back = _DAYS_BACK.get(" ".join(text.casefold().replace("-", " ").split()))
    if back is not None:
        return today - timedelta(days=back)
    try:
        day = parse_day(text, today)
    except ClosureDateError as error:
        raise TrainingDateError(str(error)) from None
    if day > today and not _YEAR.search(text) and re.search(r"\d", text):
        previous = add_months(day, -12)
        if previous.day != day.day:  # 29/02 without a year, and last year had none
            raise TrainingDateError(
                f"Le 29 février {previous.year} n'existe pas : écrivez la date avec l'année."
            )
        day = previous
    if day > today:
        raise TrainingDateError(
            "Une formation s'enregistre une fois suivie : indiquez une date passée ou aujourd'hui."
        )
    if day.year < today.year - OLDEST_YEARS:
        raise TrainingDateError("Cette date est trop ancienne : vérifiez l'année.")
    return day


def closing_note(title: str, day: date) -> str:
    """The note a « nouvel agent à former » need is closed with."""
    return f"Formation suivie : « {title} » le {day:%d/%m/%Y}. Clos automatiquement."
