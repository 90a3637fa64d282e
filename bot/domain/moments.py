"""A day and a time typed by a coordinator: « 28/11 à 14h30 », « demain 9h », « lundi 10 h ».

The day part is read by `closure_dates.parse_day` (the same forms everywhere); the time is
an hour with optional minutes, after an optional « à ». Pure code, French errors.
"""

from __future__ import annotations

import re
from datetime import date, time

from bot.domain import closure_dates

_TIME_AT_END = re.compile(
    r"^(?P<day>.*?)[\s,]*(?:(?:à|a)\s*)?(?P<h>[0-9]{1,2})\s*(?:h|:)\s*(?P<m>[0-9]{2})?\s*$",
    re.IGNORECASE,
)
EXAMPLE = "Écrivez par exemple « 3/12 à 14h30 » ou « demain 9h »."


class MomentError(ValueError):
    """Not understood; the message is French and shows an example."""


def parse_time(text: str) -> time:
    """« 14h30 », « 9h », « 9 h 05 », « 17:00 »."""
    match = re.fullmatch(r"\s*(?:à\s*)?([0-9]{1,2})\s*(?:h|:)\s*([0-9]{2})?\s*", text, re.I)
    if match is None:
        raise MomentError(f"Je n'ai pas compris l'heure « {text.strip()[:20]} ». {EXAMPLE}")
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        raise MomentError(f"« {text.strip()[:20]} » n'est pas une heure valide. {EXAMPLE}")
    return time(hour, minute)


def parse_moment(text: str, today: date) -> tuple[date, time]:
    """A day and a time; the day alone is refused (an hour is needed to send or meet)."""
    match = _TIME_AT_END.match(" ".join(text.split()))
    if match is None or not match["day"].strip():
        raise MomentError(f"Indiquez le jour et l'heure. {EXAMPLE}")
    try:
        day = closure_dates.parse_day(match["day"].strip(" ,"), today)
    except closure_dates.ClosureDateError as error:
        raise MomentError(f"{error}".split(" Écrivez")[0] + f" {EXAMPLE}") from None
    return day, parse_time(f"{match['h']}h{match['m'] or ''}")
