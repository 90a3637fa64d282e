"""Reporting periods (Article 9): months, quarters, years and free ranges of days.

A period is a range of local calendar days in the Caf's time zone; its instants run from
local midnight of its first day to local midnight after its last, so a visit at 23:59 on
31 March (Paris) belongs to March even though it is 21:59 or 22:59 UTC.

Written forms, for the command line and stored keys: `2026-10`, `2026-Q3`, `2026`,
`2026-01-01..2026-03-31`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.closure_dates import MONTH_NAMES

# Article 9 as the bot applies it: a manager validates within 10 days of the period's end,
# is reminded on day 5 and day 10, and is late after that.
VALIDATION_DAYS = 10
REMINDER_DAYS = (5, 10)
# Longest free range accepted (a few years is plenty for a report; it bounds the work).
MAX_RANGE_DAYS = 366 * 5 + 1


class PeriodError(ValueError):
    """A period that cannot be read; the message is French and says what is expected."""


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first: date  # first day, included
    last: date  # last day, included

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError("la fin de la période précède son début")

    @property
    def key(self) -> str:
        """The written form, stable: it is stored and typed on the command line."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.first.year}-{self.first.month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.YEAR:
            return f"{self.first.year}"
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def code(self) -> int:
        """A whole number naming a month, quarter or year, for buttons (64 bytes at most):
        1YYYYMM for a month, 2YYYY0Q for a quarter, 3YYYY00 for a year. None for ranges."""
        if self.kind is PeriodKind.MONTH:
            return 1_000_000 + self.first.year * 100 + self.first.month
        if self.kind is PeriodKind.QUARTER:
            return 2_000_000 + self.first.year * 100 + (self.first.month - 1) // 3 + 1
        if self.kind is PeriodKind.YEAR:
            return 3_000_000 + self.first.year * 100
        raise ValueError("a range of days has no code")

    @property
    def label(self) -> str:
        """French, for people: « octobre 2026 », « 3e trimestre 2026 », « année 2026 »."""
        if self.kind is PeriodKind.MONTH:
            return f"{MONTH_NAMES[self.first.month - 1]} {self.first.year}"
        if self.kind is PeriodKind.QUARTER:
            quarter = (self.first.month - 1) // 3 + 1
            return f"{'1er' if quarter == 1 else f'{quarter}e'} trimestre {self.first.year}"
        if self.kind is PeriodKind.YEAR:
            return f"année {self.first.year}"
        return f"du {french_day(self.first)} au {french_day(self.last)}"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as aware instants: local midnight to the local midnight after."""
        start = datetime.combine(self.first, time(), tzinfo=tz)
        end = datetime.combine(self.last + timedelta(days=1), time(), tzinfo=tz)
        return start, end

    def contains(self, day: date) -> bool:
        return self.first <= day <= self.last

    def previous(self) -> Period:
        """The period of the same kind just before (a range: the same number of days)."""
        if self.kind is PeriodKind.MONTH:
            return month_of(self.first - timedelta(days=1))
        if self.kind is PeriodKind.QUARTER:
            return quarter_of(self.first - timedelta(days=1))
        if self.kind is PeriodKind.YEAR:
            return year_of(self.first - timedelta(days=1))
        return Period(
            PeriodKind.RANGE,
            self.first - timedelta(days=self.days),
            self.first - timedelta(days=1),
        )

    def next(self) -> Period:
        if self.kind is PeriodKind.MONTH:
            return month_of(self.last + timedelta(days=1))
        if self.kind is PeriodKind.QUARTER:
            return quarter_of(self.last + timedelta(days=1))
        if self.kind is PeriodKind.YEAR:
            return year_of(self.last + timedelta(days=1))
        return Period(
            PeriodKind.RANGE, self.last + timedelta(days=1), self.last + timedelta(days=self.days)
        )

    def weeks(self) -> list[date]:
        """The Mondays of the weeks that overlap the period, in order."""
        monday = self.first - timedelta(days=self.first.weekday())
        found = []
        while monday <= self.last:
            found.append(monday)
            monday += timedelta(days=7)
        return found

    # Transmission (Article 9)
    @property
    def validation_due(self) -> date:
        return self.last + timedelta(days=VALIDATION_DAYS)

    def reminder_dates(self) -> tuple[date, ...]:
        return tuple(self.last + timedelta(days=n) for n in REMINDER_DAYS)


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(PeriodKind.MONTH, first, following - timedelta(days=1))


def quarter_of(day: date) -> Period:
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    following = (first + timedelta(days=93)).replace(day=1)
    return Period(PeriodKind.QUARTER, first, following - timedelta(days=1))


def year_of(day: date) -> Period:
    return Period(PeriodKind.YEAR, date(day.year, 1, 1), date(day.year, 12, 31))


def reporting_period_of(day: date, reporting: str) -> Period:
    """The Caf's reporting period (`monthly` or `quarterly`, Article 9) holding `day`."""
    if reporting == "monthly":
        return month_of(day)
    if reporting == "quarterly":
        return quarter_of(day)
    raise ValueError(f"unknown reporting period {reporting!r}")


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
EXPECTED = "attendu : 2026-10, 2026-Q3, 2026 ou 2026-01-01..2026-03-31"


def parse_period(text: str) -> Period:
    """Reads one of the four written forms; raises PeriodError with a French message."""
    value = text.strip()
    try:
        if match := _MONTH.match(value):
            year, month = int(match[1]), int(match[2])
            if not 1 <= month <= 12:
                raise PeriodError(f"mois inconnu : {value} ({EXPECTED})")
            return month_of(date(year, month, 1))
        if match := _QUARTER.match(value):
            return quarter_of(date(int(match[1]), 3 * (int(match[2]) - 1) + 1, 1))
        if match := _YEAR.match(value):
            return year_of(date(int(match[1]), 1, 1))
        if match := _RANGE.match(value):
            try:
                first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            except ValueError as exc:
                raise PeriodError(f"date impossible dans {value} ({EXPECTED})") from exc
            if last < first:
                raise PeriodError(f"la fin précède le début : {value}")
            if (last - first).days + 1 > MAX_RANGE_DAYS:
                raise PeriodError(f"période trop longue : {value} (5 ans au plus)")
            return Period(PeriodKind.RANGE, first, last)
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"période impossible : {value} ({EXPECTED})") from exc
    raise PeriodError(f"période illisible : {value!r} ({EXPECTED})")


def from_code(code: int) -> Period:
    """The period a `Period.code` names; PeriodError for anything else (a forged button).

    Years 1 and 9999 are refused: a screen also shows the period before (and offers the one
    after), and those would fall outside the calendar `date` knows.
    """
    kind, rest = divmod(code, 1_000_000)
    year, number = divmod(rest, 100)
    if MINYEAR < year < MAXYEAR:
        if kind == 1 and 1 <= number <= 12:
            return month_of(date(year, number, 1))
        if kind == 2 and 1 <= number <= 4:
            return quarter_of(date(year, 3 * (number - 1) + 1, 1))
        if kind == 3 and number == 0:
            return year_of(date(year, 1, 1))
    raise PeriodError(f"code de période inconnu : {code}")


def french_day(day: date) -> str:
    """« 1er janvier 2026 », « 31 mars 2026 »."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTH_NAMES[day.month - 1]} {day.year}"


def reminder_due(due_on: date, reminders_sent: int, today: date) -> int:
    """Which reminder of a report's round is due today (0: none): REMINDER_DAYS count from
    the period's end, so reminders fall that many days minus VALIDATION_DAYS before `due_on`.
    A bot down past several reminder days sends the last one only."""
    due = 0
    for number, days in enumerate(REMINDER_DAYS, start=1):
        if today >= due_on - timedelta(days=VALIDATION_DAYS - days):
            due = number
    return due if due > reminders_sent else 0
