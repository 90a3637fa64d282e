"""A site's declared hours and exceptional closures in OpenStreetMap's `opening_hours` syntax,
the one the national standard of places of digital mediation wants in its `horaires` field
(https://wiki.openstreetmap.org/wiki/Key:opening_hours).

« Mo-Th 09:00-12:00,14:00-17:00; Fr 09:30-12:00; 2026 Dec 24-2027 Jan 02 off »

Decisions:

* Days with the same periods make one rule, their days written as ranges where they follow
  each other (« Mo-We,Fr »); rules go in the week's order of their first day. A closed day
  is simply absent (closed is the syntax's default).
* Each closure is one « off » rule after the weekly ones: a later rule wins in this syntax,
  so the closure overrides the hours of its days. Dates are written as the syntax wants
  (« 2026 Dec 24 », not ISO 8601, which parsers refuse), with the year on both ends.
* No hours declared: the empty text (the field is optional in the standard), even with
  closures, which would otherwise read as « open at no time but these days off ».
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, time

from bot.domain.opening_hours import Period, WeeklySchedule

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _time(moment: time) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


def periods(day: Sequence[Period]) -> str:
    """« 09:00-12:00,14:00-17:00 »."""
    return ",".join(f"{_time(p.start)}-{_time(p.end)}" for p in day)


def days(weekdays: Sequence[int]) -> str:
    """Weekdays (0 = Monday, sorted) as « Mo-We,Fr »; two days in a row stay « Mo,Tu »."""
    parts: list[str] = []
    runs: list[list[int]] = []
    for weekday in weekdays:
        if runs and runs[-1][-1] == weekday - 1:
            runs[-1].append(weekday)
        else:
            runs.append([weekday])
    for run in runs:
        if len(run) > 2:
            parts.append(f"{DAYS[run[0]]}-{DAYS[run[-1]]}")
        else:
            parts.extend(DAYS[weekday] for weekday in run)
    return ",".join(parts)


def osm_date(day: date) -> str:
    """« 2026 Dec 24 »."""
    return f"{day.year} {MONTHS[day.month - 1]} {day.day:02d}"


def closed(start: date, end: date) -> str:
    """« 2026 Dec 24 off », « 2026 Dec 24-2027 Jan 02 off »."""
    if start == end:
        return f"{osm_date(start)} off"
    return f"{osm_date(start)}-{osm_date(end)} off"


def weekly(schedule: WeeklySchedule) -> list[str]:
    """The week's rules, « Mo-Th 09:00-12:00,14:00-17:00 », in the week's order."""
    same: dict[tuple[Period, ...], list[int]] = {}
    for weekday in range(len(DAYS)):
        day = tuple(schedule[weekday])
        if day:
            same.setdefault(day, []).append(weekday)
    return [f"{days(weekdays)} {periods(day)}" for day, weekdays in same.items()]


def opening_hours(
    schedule: WeeklySchedule | None, closures: Iterable[tuple[date, date]] = ()
) -> str:
    """The schedule and the closures (first and last day of each) as one `opening_hours`."""
    if schedule is None:
        return ""
    rules = weekly(schedule)
    if not rules:  # declared closed every day
        return "off"
    rules.extend(closed(start, end) for start, end in sorted(closures))
    return "; ".join(rules)
