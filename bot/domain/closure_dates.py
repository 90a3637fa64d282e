"""Exceptional closure dates of a Point numérique Caf site, as typed or picked by a manager.

A partner manager declares that their site will be closed, either by picking days on an
inline calendar (``month_grid``, ``add_months``) or by typing dates in the usual French
forms (``parse_day``, ``parse_closure_dates``).  Both paths end in ``check_range``.  Pure
code: no I/O, no Telegram, no SQL; "today" is always passed in.

Decisions (kept here so the rules live next to the code):

* Accepted day forms, case-, accent- and whitespace-insensitive: ``24/12``,
  ``24/12/2026``, ``24/12/26`` (a 2-digit year is 20xx), ``24.12.2026``,
  ``24-12-2026`` (dashes only with a 4-digit year, since ``-`` also separates a range),
  ``2026-12-24``, ``24 décembre``, ``24 déc.``, ``1er janvier 2027``, ``aujourd'hui``,
  ``demain``, ``après-demain``; an optional leading « le » and weekday (``lundi 24/12``,
  ``lun. 24/12``).  A weekday that does not match the date is refused, naming the right one.
* Range forms: ``du A au B``, ``A au B``, ``A à B``, ``A jusqu'au B``, ``A - B``, ``A-B``,
  ``A → B``, optionally followed by « inclus ».  Both ends are inclusive.  The start may
  be a bare day number (``du 24 au 31/12``, ``du 1er au 3 janvier``): it takes the end's
  month and year.
* Year of a date written without one: today's year, unless that date falls more than
  60 days before today, then next year.  So on 26/11/2026, ``5/01`` is 5 January 2027 but
  ``15/10`` is 15 October 2026 (which ``check_range`` then refuses as past).  A 29/02
  landing on a non-leap year is refused (naming the year) rather than moved.
* Year of a range's end written without one: the start's year; when that is before the
  start and the end's month is before the start's month, the next year (``du 24/12 au
  2/01`` wraps the new year); otherwise the range is inverted and refused.  Symmetrically,
  a start without a year before an end with one takes the end's year, or the year before
  when the start's month is after the end's (``du 24/12 au 2/01/2027``).
* ``check_range`` refuses, in this order: an inverted range, a start before today, a
  start more than ``MAX_DAYS_AHEAD`` days after today, a range of more than
  ``MAX_CLOSURE_DAYS`` days (counting both ends).  A closure may start today.
* Every ``ClosureDateError`` message is French, can be shown as is, and ends with an
  example built from today (tomorrow, and tomorrow to a week later), so the example is
  itself always accepted.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import Calendar, isleap, monthrange
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "MAX_CLOSURE_DAYS",
    "MAX_DAYS_AHEAD",
    "MONTH_NAMES",
    "WEEKDAY_NAMES",
    "YEAR_LOOKBACK_DAYS",
    "ClosureDateError",
    "add_months",
    "check_range",
    "format_day",
    "format_range",
    "month_grid",
    "parse_closure_dates",
    "parse_day",
]

MAX_CLOSURE_DAYS = 366
"""Longest accepted closure, in days, both ends included."""
MAX_DAYS_AHEAD = 730
"""Furthest accepted start, in days after today."""
YEAR_LOOKBACK_DAYS = 60
"""A date typed without a year may be up to this many days in the past before it
is read as next year's."""

MONTH_NAMES: tuple[str, ...] = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

_MAX_TEXT_LENGTH = 100
_EXAMPLE_SPAN_DAYS = 7
_FALLBACK_DAY_EXAMPLE = "Écrivez par exemple 24/12 ou 24 décembre."
_FALLBACK_RANGE_EXAMPLE = "Écrivez par exemple 24/12 ou du 24/12 au 2/01."


class ClosureDateError(ValueError):
    """Closure dates not understood or not allowed; French message with an example."""


# --------------------------------------------------------------------------- formatting


def format_day(day: date, today: date | None = None) -> str:
    """« 24 décembre 2026 », « 1er janvier 2027 »; the year is left out when it is today's."""
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{number} {MONTH_NAMES[day.month - 1]}"
    if today is None or day.year != today.year:
        text += f" {day.year}"
    return text


def format_range(start: date, end: date, today: date | None = None) -> str:
    """« le 24 décembre » or « du 24 décembre au 2 janvier 2027 »."""
    if start == end:
        return f"le {format_day(start, today)}"
    return f"du {format_day(start, today)} au {format_day(end, today)}"


def _numeric(day: date) -> str:
    return f"{day.day}/{day.month:02d}"


def _day_example(today: date) -> str:
    try:
        day = today + timedelta(days=1)
    except OverflowError:
        return _FALLBACK_DAY_EXAMPLE
    return f"Écrivez par exemple {_numeric(day)} ou {format_day(day, today)}."


def _range_example(today: date) -> str:
    try:
        start = today + timedelta(days=1)
        end = start + timedelta(days=_EXAMPLE_SPAN_DAYS)
    except OverflowError:
        return _FALLBACK_RANGE_EXAMPLE
    return f"Écrivez par exemple {_numeric(start)} ou du {_numeric(start)} au {_numeric(end)}."


def _short(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- grammar

_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−"), "-")
_QUOTES = dict.fromkeys(map(ord, "’‘`´ʼ"), "'")

_WEEKDAY_WORDS: dict[str, int] = {
    **{name: i for i, name in enumerate(WEEKDAY_NAMES)},
    **{name[:3]: i for i, name in enumerate(WEEKDAY_NAMES)},
}
_MONTH_WORDS: dict[str, int] = {
    "janvier": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "mar": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "sep": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}
_RELATIVE_WORDS: dict[str, int] = {"aujourd": 0, "demain": 1, "apres": 2}


def _alternation(words: dict[str, int]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


def _day_pattern(p: str, *, bare: bool) -> str:
    """Regex of one day; group names are prefixed with ``p`` so two days fit one pattern."""
    forms = [
        rf"(?P<{p}rel>aujourd)'?\s?hui|(?P<{p}rel2>apres)[- ]?demain|(?P<{p}rel1>demain)",
        rf"(?P<{p}iy>[0-9]{{4}})-(?P<{p}im>[0-9]{{1,2}})-(?P<{p}id>[0-9]{{1,2}})",
        rf"(?P<{p}nd>[0-9]{{1,2}})\s?(?P<{p}ns>[/.])\s?(?P<{p}nm>[0-9]{{1,2}})"
        rf"(?:\s?(?P={p}ns)\s?(?P<{p}ny>[0-9]{{4}}|[0-9]{{2}}))?",
        rf"(?P<{p}hd>[0-9]{{1,2}})-(?P<{p}hm>[0-9]{{1,2}})-(?P<{p}hy>[0-9]{{4}})",
        rf"(?P<{p}td>[0-9]{{1,2}})(?:\s?er)?\s?(?P<{p}tm>{_alternation(_MONTH_WORDS)})"
        rf"(?![a-z])\.?(?:\s?(?P<{p}ty>[0-9]{{4}}|[0-9]{{2}}))?",
    ]
    if bare:
        forms.append(rf"(?P<{p}bd>[0-9]{{1,2}})(?:\s?er)?")
    weekday = rf"(?:(?P<{p}wd>{_alternation(_WEEKDAY_WORDS)})(?![a-z])\.?\s?)?"
    return rf"(?P<{p}all>(?:le\s)?{weekday}(?:{'|'.join(forms)}))"


_SEPARATOR = r"\s?(?:-+>?|=>|→|>|jusqu'?\s?(?:au|a)(?![a-z])|au(?![a-z])|a(?![a-z]))\s?"
_DAY_RE = re.compile(_day_pattern("s", bare=False))
_RANGE_RE = re.compile(
    r"(?:(?:du|de|d')\s?)?"
    + _day_pattern("a", bare=True)
    + _SEPARATOR
    + _day_pattern("b", bare=False)
    + r"(?:\s?\(?(?:inclus|compris|inclusivement)\)?)?"
)


@dataclass(frozen=True)
class _Spec:
    """One day as written: either relative (offset) or day [+ month [+ year]]."""

    text: str
    offset: int | None = None
    day: int | None = None
    month: int | None = None
    year: int | None = None
    weekday: int | None = None

    @property
    def has_year(self) -> bool:
        return self.offset is not None or self.year is not None


def _year_of(raw: str) -> int:
    return 2000 + int(raw) if len(raw) == 2 else int(raw)


def _spec_of(m: re.Match[str], p: str) -> _Spec:
    def g(name: str) -> str | None:
        return m.group(p + name)

    text = g("all") or ""
    weekday = _WEEKDAY_WORDS[wd] if (wd := g("wd")) else None
    if g("rel") is not None:
        return _Spec(text, offset=0, weekday=weekday)
    if g("rel1") is not None:
        return _Spec(text, offset=1, weekday=weekday)
    if g("rel2") is not None:
        return _Spec(text, offset=2, weekday=weekday)
    if (iy := g("iy")) is not None:
        day, month = int(g("id") or 0), int(g("im") or 0)
        return _Spec(text, day=day, month=month, year=int(iy), weekday=weekday)
    if (nd := g("nd")) is not None:
        ny = g("ny")
        year = _year_of(ny) if ny else None
        return _Spec(text, day=int(nd), month=int(g("nm") or 0), year=year, weekday=weekday)
    if (hd := g("hd")) is not None:
        return _Spec(
            text, day=int(hd), month=int(g("hm") or 0), year=int(g("hy") or 0), weekday=weekday
        )
    if (td := g("td")) is not None:
        ty = g("ty")
        year = _year_of(ty) if ty else None
        month = _MONTH_WORDS[g("tm") or ""]
        return _Spec(text, day=int(td), month=month, year=year, weekday=weekday)
    return _Spec(text, day=int(g("bd") or 0), weekday=weekday)


# --------------------------------------------------------------------------- resolution


def _normalise(text: object, example: str) -> str:
    if not isinstance(text, str):
        raise ClosureDateError(f"Aucune date indiquée. {example}")
    s = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES).lower()
    s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    s = " ".join(s.split()).strip(" .!,;")
    if not s:
        raise ClosureDateError(f"Aucune date indiquée. {example}")
    if len(s) > _MAX_TEXT_LENGTH:
        raise _not_understood(text, example)
    return s


def _not_understood(text: str, example: str) -> ClosureDateError:
    return ClosureDateError(f"Je n'ai pas compris la date « {_short(text)} ». {example}")


def _check_day_month(spec: _Spec, example: str) -> tuple[int, int]:
    """Validate day and month whatever the year; returns them."""
    day, month = spec.day or 0, spec.month or 0
    if not 1 <= month <= 12:
        raise ClosureDateError(
            f"« {_short(spec.text)} » n'est pas une date : les mois vont de 1 à 12. {example}"
        )
    if not 1 <= day <= 31:
        raise ClosureDateError(
            f"« {_short(spec.text)} » n'est pas une date : les jours vont de 1 à 31. {example}"
        )
    longest = monthrange(2000, month)[1]  # 2000 is a leap year: 29 February exists
    if day > longest:
        name = MONTH_NAMES[month - 1]
        detail = (
            "février a 28 jours, 29 les années bissextiles"
            if month == 2
            else f"{name} a {longest} jours"
        )
        raise ClosureDateError(f"Le {day} {name} n'existe pas ({detail}). {example}")
    return day, month


def _make(spec: _Spec, day: int, month: int, year: int, example: str) -> date:
    if month == 2 and day == 29 and not isleap(year):
        raise ClosureDateError(
            f"Le 29 février {year} n'existe pas : {year} n'est pas une année bissextile. {example}"
        )
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):
        raise ClosureDateError(
            f"« {_short(spec.text)} » n'est pas une date valide. {example}"
        ) from None


def _inferred_year(day: int, month: int, today: date) -> int:
    """Today's year, or next year when that date is more than 60 days before today."""
    try:
        threshold = today - timedelta(days=YEAR_LOOKBACK_DAYS)
    except OverflowError:
        return today.year
    if threshold.year < today.year or (month, day) >= (threshold.month, threshold.day):
        return today.year
    return today.year + 1


def _check_weekday(spec: _Spec, result: date, today: date, example: str) -> date:
    if spec.weekday is not None and spec.weekday != result.weekday():
        raise ClosureDateError(
            f"Le {format_day(result, today)} est un {WEEKDAY_NAMES[result.weekday()]}, "
            f"pas un {WEEKDAY_NAMES[spec.weekday]}. {example}"
        )
    return result


def _resolve(spec: _Spec, today: date, example: str, *, year: int | None = None) -> date:
    """The date of a full spec; ``year`` overrides the inference when none was written."""
    if spec.offset is not None:
        try:
            result = today + timedelta(days=spec.offset)
        except OverflowError:
            raise _not_understood(spec.text, example) from None
    else:
        day, month = _check_day_month(spec, example)
        if spec.year is not None:
            year = spec.year
        elif year is None:
            year = _inferred_year(day, month, today)
        result = _make(spec, day, month, year, example)
    return _check_weekday(spec, result, today, example)


# --------------------------------------------------------------------------- parsing


def parse_day(text: str, today: date) -> date:
    """Read one day typed by a manager (``24/12``, ``24 décembre``, ``demain``…).

    Does not check past or future: the caller decides.  Only ever raises
    ClosureDateError, whose French message shows an accepted example.
    """
    example = _day_example(today)
    normalised = _normalise(text, example)
    m = _DAY_RE.fullmatch(normalised)
    if m is None:
        if _RANGE_RE.fullmatch(normalised):
            raise ClosureDateError(f"Indiquez un seul jour. {example}")
        raise _not_understood(text, example)
    return _resolve(_spec_of(m, "s"), today, example)


def parse_closure_dates(text: str, today: date) -> tuple[date, date]:
    """Read one closure day or range and check it; returns ``(start, end)``, both included.

    One day gives ``(day, day)``.  Only ever raises ClosureDateError.
    """
    example = _range_example(today)
    normalised = _normalise(text, example)
    if (m := _DAY_RE.fullmatch(normalised)) is not None:
        day = _resolve(_spec_of(m, "s"), today, example)
        return check_range(day, day, today)
    if (m := _RANGE_RE.fullmatch(normalised)) is None:
        raise _not_understood(text, example)
    first, last = _spec_of(m, "a"), _spec_of(m, "b")

    if first.month is None and first.offset is None:
        # Bare start day (« du 24 au 31/12 »): the end's month and year.
        end = _resolve(last, today, example)
        if not 1 <= (first.day or 0) <= 31:
            raise ClosureDateError(
                f"« {_short(first.text)} » n'est pas un jour : les jours vont de 1 à 31. {example}"
            )
        bare = _Spec(first.text, day=first.day, month=end.month, weekday=first.weekday)
        start = _resolve(bare, today, example, year=end.year)
    elif not first.has_year and last.has_year and last.offset is None:
        # « du 24/12 au 2/01/2027 »: the start is deduced from the end.
        end = _resolve(last, today, example)
        start_month = first.month or 0
        year = end.year - 1 if start_month > end.month else end.year
        start = _resolve(first, today, example, year=year)
    else:
        start = _resolve(first, today, example)
        year = None
        if not last.has_year:
            year = start.year + 1 if (last.month or 0) < start.month else start.year
        end = _resolve(last, today, example, year=year)
    return check_range(start, end, today)


def check_range(start: date, end: date, today: date) -> tuple[date, date]:
    """Refuse an inverted, past, too far or too long closure; returns ``(start, end)``.

    Used for typed dates and for days picked on the calendar alike.
    """
    example = _range_example(today)
    if end < start:
        raise ClosureDateError(
            f"Dates inversées : le {format_day(end, today)} est avant le "
            f"{format_day(start, today)}. Indiquez d'abord le premier jour de fermeture, "
            f"puis le dernier. {example}"
        )
    if start < today:
        raise ClosureDateError(
            f"Le {format_day(start, today)} est passé : la fermeture doit commencer "
            f"aujourd'hui ({format_day(today, today)}) ou plus tard. {example}"
        )
    if (start - today).days > MAX_DAYS_AHEAD:
        try:
            limit = f", donc au plus tard le {format_day(today + timedelta(MAX_DAYS_AHEAD))}"
        except OverflowError:
            limit = ""
        raise ClosureDateError(
            f"Le {format_day(start, today)} est trop loin : une fermeture se déclare au plus "
            f"{MAX_DAYS_AHEAD} jours à l'avance{limit}. {example}"
        )
    length = (end - start).days + 1
    if length > MAX_CLOSURE_DAYS:
        raise ClosureDateError(
            f"Une fermeture exceptionnelle dure au plus {MAX_CLOSURE_DAYS} jours ; "
            f"{format_range(start, end, today)}, cela fait {length} jours. {example}"
        )
    return start, end


# --------------------------------------------------------------------------- calendar


def _check_month(year: int, month: int) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"month must be in 1..12, not {month!r}")
    if not 1 <= year <= 9999:
        raise ValueError(f"year must be in 1..9999, not {year!r}")


def month_grid(year: int, month: int) -> list[list[date | None]]:
    """Weeks of a month for an inline calendar: Monday first, 7 cells, None outside the month."""
    _check_month(year, month)
    return [
        [date(year, month, day) if day else None for day in week]
        for week in Calendar(firstweekday=0).monthdayscalendar(year, month)
    ]


def add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    """``(year, month)`` moved by ``delta`` months, for the calendar's ◀️ / ▶️ buttons."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be in 1..12, not {month!r}")
    new_year, new_month_index = divmod(year * 12 + month - 1 + delta, 12)
    return new_year, new_month_index + 1
