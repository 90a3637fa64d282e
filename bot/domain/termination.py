"""A notice of termination (dénonciation, Article 11) as dates: pure code, "today" passed in.

« Elle est établie pour une durée d'un an renouvelable par tacite reconduction, sauf
dénonciation par l'une ou l'autre des parties 3 mois avant l'échéance de la période
contractuelle en cours. » So a notice ends the convention on a term (an anniversary of its
start, bot/domain/renewal.py), and only on a term whose notice deadline is today or later.

Decisions:

* The effective date must be a term itself: the convention runs by whole years, a date
  between two terms is refused with the earliest allowed one.
* A later term is allowed (a partner may announce its departure early), up to
  `MAX_TERMS_AHEAD` terms on.
* The label ends on the effective date, at the Caf's morning hour in its zone: the day is
  the term itself, so the site is told on the morning its convention ends.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import renewal
from bot.domain.closure_dates import ClosureDateError, parse_day
from bot.domain.models import Model

MAX_TERMS_AHEAD = 3
"""A notice further ahead than this many terms is a typing mistake."""


class Party(StrEnum):
    """Who gives notice: the Caf (a coordinator) or the partner (a manager of the site)."""

    CAF = "caf"
    PARTNER = "partner"

    @property
    def label(self) -> str:
        return "la Caf" if self is Party.CAF else "le partenaire"


class TerminationDateError(ValueError):
    """An effective date the convention does not allow; the message is French."""

    def __init__(self, message: str, earliest: date | None = None) -> None:
        super().__init__(message)
        self.earliest = earliest


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def earliest_effective(start: date, today: date) -> date:
    """The first term on which a notice given today can end the convention."""
    return renewal.next_notice(start, today).anniversary


def allowed_terms(start: date, today: date) -> list[date]:
    """The terms a notice given today may name, the earliest first."""
    first = renewal.next_notice(start, today).number
    return [renewal.anniversary(start, n) for n in range(first, first + MAX_TERMS_AHEAD)]


def check_effective(start: date, today: date, wanted: date) -> date:
    """`wanted` if a notice given today may end the convention on it; else the French
    reason, with the earliest allowed date."""
    allowed = allowed_terms(start, today)
    earliest = allowed[0]
    if wanted < earliest:
        raise TerminationDateError(
            f"Le {_fr(wanted)} est trop tôt : la dénonciation se fait 3 mois avant"
            f" l'échéance de la convention (article 11). Au plus tôt : le {_fr(earliest)}.",
            earliest,
        )
    if wanted not in allowed:
        terms = ", ".join(_fr(d) for d in allowed)
        raise TerminationDateError(
            f"Le {_fr(wanted)} n'est pas une échéance de la convention : elle prend fin à la"
            f" date anniversaire de sa signature. Dates possibles : {terms}."
            f" Au plus tôt : le {_fr(earliest)}.",
            earliest,
        )
    return wanted


def parse_effective(text: str, start: date, today: date) -> date:
    """An effective date as typed (« 15/03/2027 », « 15 mars 2027 »), checked."""
    try:
        wanted = parse_day(text, today)
    except ClosureDateError as error:
        raise TerminationDateError(str(error)) from None
    return check_effective(start, today, wanted)


def takes_effect_at(effective_on: date, zone: ZoneInfo, hour: int) -> datetime:
    """When the label ends: the morning hour of the effective date, in the Caf's zone."""
    return datetime.combine(effective_on, time(hour), tzinfo=zone)


class Termination(Model):
    """A notice recorded (storage/terminations.py)."""

    id: int
    partner_id: int
    by_party: Party
    recorded_by: int | None
    recorded_at: datetime
    effective_on: date
    reason: str
    cancelled_at: datetime | None
    cancelled_by: int | None
    done_at: datetime | None
