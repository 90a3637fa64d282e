"""The convention's term and notice (Article 11), as dates: pure code, "today" passed in.

The convention takes effect on its signature, runs one year and is renewed tacitly, year
after year, unless either party gives notice « 3 mois avant l'échéance de la période
contractuelle en cours ». So each term ends on an anniversary of the start, and its notice
deadline is three months before that anniversary. Coordinators are reminded one month
before each notice deadline (DESIGN §2).

Decisions:

* Months are counted the French legal way (Code de procédure civile, art. 641): a term
  expressed in months ends on the same day number of the target month, or on that month's
  last day when it has no such day. So a convention signed on 29 February 2024 has its
  anniversaries on 28 February 2025, 2026, 2027 and 29 February 2028; one ending on 31 May
  has its notice deadline on 28 (or 29) February, and its reminder on 28 (or 29) January.
* Every anniversary is computed from the start itself (start + 12 k months), never from the
  previous one, so a 29 February start does not drift to the 28th for ever.
* The notice deadline is the last day on which notice can still be given: it is "not past"
  on that very day.
* A start in the future (a convention entered ahead of its signature) has its first term
  ending one year after that start.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.closure_dates import ClosureDateError, parse_day

TERM_MONTHS = 12
NOTICE_MONTHS = 3
"""Article 11: notice is given 3 months before the end of the current term."""
REMINDER_MONTHS = 1
"""DESIGN §2: coordinators are reminded one month before each notice deadline."""
MAX_START_AHEAD_DAYS = 366
"""A convention start may be entered ahead of the signature, by a year at most."""
MAX_START_AGE_YEARS = 50
"""Further back than this is a typing mistake, not a convention."""


class ConventionDateError(ValueError):
    """A typed convention start that cannot be used; the message is French."""


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` (negative: back), clamped to the target month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def anniversary(start: date, term: int) -> date:
    """The end of the `term`-th year of the convention (term 1 ends one year after start)."""
    if term < 1:
        raise ValueError("terms are counted from 1")
    return add_months(start, TERM_MONTHS * term)


def notice_deadline_of(anniversary_day: date) -> date:
    """The last day to give notice before the term ending on `anniversary_day`."""
    return add_months(anniversary_day, -NOTICE_MONTHS)


def reminder_date_of(deadline: date) -> date:
    """When coordinators are reminded of a notice deadline."""
    return add_months(deadline, -REMINDER_MONTHS)


@dataclass(frozen=True)
class Term:
    """One year of a convention: its end (the anniversary) and the dates that lead to it."""

    number: int
    anniversary: date
    notice_deadline: date
    reminder_on: date

    @classmethod
    def of(cls, start: date, number: int) -> Term:
        end = anniversary(start, number)
        deadline = notice_deadline_of(end)
        return cls(number, end, deadline, reminder_date_of(deadline))


def _first_term_ending_on_or_after(start: date, day: date) -> int:
    """The smallest term number whose anniversary is on or after `day` (at least 1)."""
    # An estimate from the years elapsed, then a step or two to be exact (month-end clamps).
    term = max(1, day.year - start.year - 1)
    while term > 1 and anniversary(start, term - 1) >= day:
        term -= 1
    while anniversary(start, term) < day:
        term += 1
    return term


def current_term(start: date, today: date) -> Term:
    """The term running today: it ends on the next anniversary on or after today."""
    return Term.of(start, _first_term_ending_on_or_after(start, today))


def next_notice(start: date, today: date) -> Term:
    """The first term whose notice deadline is today or later: the next decision to make.

    Between a notice deadline and its anniversary, notice for the current term is too late
    (the convention will be renewed), so the next decision is the following term's.
    """
    term = _first_term_ending_on_or_after(start, today)
    found = Term.of(start, term)
    while found.notice_deadline < today:
        term += 1
        found = Term.of(start, term)
    return found


def reminder_due(start: date, today: date) -> Term | None:
    """The term whose reminder is due today: reminder date passed, notice deadline not.

    A night missed (the bot was down) is caught up the next night, for as long as notice
    can still be given; the caller remembers which (site, deadline) it already reminded.
    """
    term = next_notice(start, today)
    return term if term.reminder_on <= today <= term.notice_deadline else None


# --------------------------------------------------------------------------- typed dates
_YEAR = re.compile(r"\b\d{4}\b|\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2}\b")


def parse_convention_start(text: str, today: date) -> date:
    """A convention's start as a coordinator types it (« 15/03/2025 », « 1er mars 2025 »…).

    The French forms are those of closure dates (`parse_day`). A date typed without a year
    that would fall in the future is read as the latest past one: conventions are entered
    once signed (« 15/03 » typed in November 2026 is 15 March 2026, not 2027).
    """
    try:
        day = parse_day(text, today)
    except ClosureDateError as error:
        raise ConventionDateError(str(error)) from None
    if day > today and not _YEAR.search(text) and re.search(r"\d", text):
        previous = add_months(day, -12)
        if previous.day != day.day:  # 29/02 typed without a year, last year had none
            raise ConventionDateError(
                f"Le 29 février {previous.year} n'existe pas : écrivez la date avec l'année."
            )
        day = previous
    if day > today + timedelta(days=MAX_START_AHEAD_DAYS):
        raise ConventionDateError(
            "Cette date est plus d'un an après aujourd'hui : vérifiez l'année."
        )
    if day.year < today.year - MAX_START_AGE_YEARS:
        raise ConventionDateError("Cette date est trop ancienne : vérifiez l'année.")
    return day
