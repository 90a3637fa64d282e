"""Working days: Monday to Friday, except French public holidays (metropolitan France).

Reminder offsets and deadlines ("3 jours ouvrés") count working days, because the Points
numériques and the Caf are closed on weekends and public holidays. The holiday list comes
from the `holidays` package rather than from our own Easter arithmetic: it is maintained,
and it knows that Ascension and Pentecost Monday move every year.

Alsace-Moselle's two extra days (Good Friday, 26 December) are not included: the project's
Cafs are metropolitan "general law" ones; a Caf of the Moselle or the Rhin would need the
`subdiv` of `holidays.France`.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

SATURDAY = 5


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    """The French public holidays of one year (cached: the lookup is on every reminder)."""
    return frozenset(holidays.country_holidays("FR", years=year))


def is_public_holiday(day: date) -> bool:
    return day in _public_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a French public holiday."""
    return day.weekday() < SATURDAY and not is_public_holiday(day)


def add_working_days(day: date, n: int) -> date:
    """The n-th working day after `day` (before it when n < 0); `day` itself when n == 0.

    `day` need not be a working day: one working day after a Saturday is the Monday (or
    the Tuesday when the Monday is a holiday).
    """
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    while remaining:
        day += step
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days strictly after `start` up to and including `end`; negative when end < start.

    So `working_days_between(d, add_working_days(d, n)) == n` for every n >= 0, and from
    Friday to the next Monday is 1.
    """
    if end < start:
        return -working_days_between(end, start)
    span = (end - start).days
    full_weeks, extra = divmod(span, 7)
    weekdays = full_weeks * 5
    for offset in range(1, extra + 1):
        if (start + timedelta(days=offset)).weekday() < SATURDAY:
            weekdays += 1
    closed = sum(
        1
        for year in range(start.year, end.year + 1)
        for holiday in _public_holidays(year)
        if start < holiday <= end and holiday.weekday() < SATURDAY
    )
    return weekdays - closed
