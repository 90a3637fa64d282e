"""Opening hours of a Point numérique Caf site and the convention's minimum.

Article 4 of the partner convention requires each site to be open at least
4 half-days and 12 hours a week.  This module holds everything needed to
collect, store, check and describe those hours, as pure code (no I/O).

Decisions (kept here so the rules live next to the code):

* Every day counts, Monday to Sunday, both for hours and for half-days: the
  convention only says « demi-journées par semaine », without excluding any day.
* A day is split at 13:00: the morning is before 13:00, the afternoon from
  13:00.  A half-day counts when the site is open at least 2 hours in total
  within it (several periods in the same half add up).
* A day has at most 2 periods (« une ou deux plages »), each with start < end,
  non-overlapping (touching, e.g. 9h-12h / 12h-14h, is allowed), stored sorted.
  Any minute of the day is accepted (00:00–23:59); there is no 24:00.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from itertools import pairwise
from typing import Any

from bot.domain.closure_dates import WEEKDAY_NAMES

__all__ = [
    "ALL_DAYS",
    "COMMON_SLOTS",
    "DAY_NAMES",
    "HALF_DAY_MIN_MINUTES",
    "MAX_PERIODS_PER_DAY",
    "NOON",
    "Compliance",
    "HalfDays",
    "HoursParseError",
    "Period",
    "ScheduleError",
    "WeeklySchedule",
    "check_minimum",
    "day_mask",
    "days_of_mask",
    "default_effective",
    "diff",
    "format_duration",
    "format_period",
    "format_periods",
    "format_time",
    "needs_reason",
    "open_during_hour",
    "parse_periods",
    "visits_outside",
]

#: The days as a week's schedule lists them, Monday first.
DAY_NAMES = tuple(name.capitalize() for name in WEEKDAY_NAMES)
MAX_PERIODS_PER_DAY = 2
NOON = time(13, 0)
"""Start of the afternoon half-day (the morning is everything before)."""
HALF_DAY_MIN_MINUTES = 120
"""Opening time needed inside a half-day for it to count."""

_NOON_MINUTES = NOON.hour * 60 + NOON.minute
_DAY_MINUTES = 24 * 60
_EXAMPLE = "Écrivez par exemple 9h-12h ou 9h30-12h / 14h-17h."


class ScheduleError(ValueError):
    """Invalid schedule data; the message is French and can be shown as is."""


class HoursParseError(ScheduleError):
    """A manager's typed hours could not be understood; French message with an example."""


def _minutes_of(t: time) -> int:
    return t.hour * 60 + t.minute


# --------------------------------------------------------------------------- formatting


def format_time(t: time) -> str:
    """French spoken form, as on a shop door: ``9 h``, ``9 h 30``, ``0 h 05``."""
    if t.minute == 0:
        return f"{t.hour} h"
    return f"{t.hour} h {t.minute:02d}"


def format_duration(minutes: int) -> str:
    """French duration: ``12 h``, ``2 h 30``, ``2 h 05``, ``45 min``."""
    if minutes < 0:
        raise ValueError("a duration cannot be negative")
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return f"{rest} min"
    if rest == 0:
        return f"{hours} h"
    return f"{hours} h {rest:02d}"


def _plural(count: int, singular: str, plural: str) -> str:
    # French: 0 and 1 take the singular.
    return f"{count} {singular if count <= 1 else plural}"


def _format_hours_long(minutes: int) -> str:
    """« 12 heures » for whole hours (as written in the convention), else ``2 h 30``."""
    if minutes % 60 == 0:
        return _plural(minutes // 60, "heure", "heures")
    return format_duration(minutes)


# --------------------------------------------------------------------------- Period


@dataclass(frozen=True, order=True)
class Period:
    """One opening period within a day; ordered by start then end."""

    start: time
    end: time

    def __post_init__(self) -> None:
        for t in (self.start, self.end):
            if not isinstance(t, time):
                raise ScheduleError("Une plage horaire doit être faite de deux heures.")
            if t.tzinfo is not None or t.second or t.microsecond:
                # Minutes are the unit everywhere (storage, sums, rule).
                raise ScheduleError("Les horaires se donnent à la minute près, sans fuseau.")
        if self.start >= self.end:
            raise ScheduleError(
                f"L'heure de fin doit être après l'heure de début "
                f"({format_time(self.start)} – {format_time(self.end)})."
            )

    @classmethod
    def of(cls, start_hour: int, start_minute: int, end_hour: int, end_minute: int) -> Period:
        """Shorthand for tests and constants: ``Period.of(9, 0, 12, 0)``."""
        return cls(time(start_hour, start_minute), time(end_hour, end_minute))

    @property
    def start_minute(self) -> int:
        return _minutes_of(self.start)

    @property
    def end_minute(self) -> int:
        return _minutes_of(self.end)

    @property
    def minutes(self) -> int:
        """Length of the period in minutes."""
        return self.end_minute - self.start_minute

    def overlaps(self, other: Period) -> bool:
        """True when the two periods share time (touching ends do not count)."""
        return self.start < other.end and other.start < self.end

    def __str__(self) -> str:
        return format_period(self)


def format_period(period: Period) -> str:
    """``9 h – 12 h 30``."""
    return f"{format_time(period.start)} – {format_time(period.end)}"


def format_periods(periods: Iterable[Period]) -> str:
    """``9 h – 12 h, 14 h – 17 h 30`` or ``Fermé``; parse_periods reads it back."""
    parts = [format_period(p) for p in periods]
    return ", ".join(parts) if parts else "Fermé"


def _validate_day(
    periods: Iterable[Period], error: type[ScheduleError], prefix: str = ""
) -> tuple[Period, ...]:
    """Sort one day's periods and enforce the count and non-overlap rules."""
    ordered = tuple(sorted(periods))
    if len(ordered) > MAX_PERIODS_PER_DAY:
        raise error(
            f"{prefix}Indiquez au plus deux plages par jour. Écrivez par exemple 9h-12h / 14h-17h."
        )
    for previous, current in pairwise(ordered):
        if previous.overlaps(current):
            raise error(
                f"{prefix}Les plages {format_period(previous)} et {format_period(current)} "
                f"se chevauchent. Écrivez par exemple 9h-12h / 14h-17h."
            )
    return ordered


# --------------------------------------------------------------------------- WeeklySchedule


def _time_to_json(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


_JSON_TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _time_from_json(value: object) -> time:
    if not isinstance(value, str) or not (m := _JSON_TIME_RE.fullmatch(value)):
        raise ScheduleError(f"Heure enregistrée invalide : {value!r}.")
    return time(int(m[1]), int(m[2]))


class WeeklySchedule(Mapping[int, tuple[Period, ...]]):
    """Regular weekly hours: weekday (0 = Monday … 6 = Sunday) → sorted periods.

    Immutable and hashable; every weekday is a key, closed days map to ``()``.
    """

    __slots__ = ("_days",)
    _days: tuple[tuple[Period, ...], ...]

    def __init__(self, days: Mapping[int, Iterable[Period]] | None = None) -> None:
        normalised: list[tuple[Period, ...]] = [() for _ in DAY_NAMES]
        for weekday, periods in (days or {}).items():
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ScheduleError(
                    f"Jour de la semaine invalide : {weekday!r} (0 = lundi … 6 = dimanche)."
                )
            items = tuple(periods)
            if not all(isinstance(p, Period) for p in items):
                raise ScheduleError("Une journée doit être une liste de plages horaires.")
            normalised[weekday] = _validate_day(items, ScheduleError, f"{DAY_NAMES[weekday]} : ")
        object.__setattr__(self, "_days", tuple(normalised))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("WeeklySchedule is immutable; use with_day()")

    def __reduce__(self) -> tuple[type[WeeklySchedule], tuple[dict[int, tuple[Period, ...]]]]:
        # Rebuilt through __init__ (__setattr__ refuses pickle's way): charts are drawn in a
        # child process (bot/offload.py), which is given the schedule pickled.
        return WeeklySchedule, (dict(enumerate(self._days)),)

    # Mapping protocol
    def __getitem__(self, weekday: int) -> tuple[Period, ...]:
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise KeyError(weekday)
        return self._days[weekday]

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(DAY_NAMES)))

    def __len__(self) -> int:
        return len(DAY_NAMES)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, WeeklySchedule):
            return self._days == other._days
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(self._days)

    def __repr__(self) -> str:
        open_days = {d: [str(p) for p in ps] for d, ps in self.items() if ps}
        return f"WeeklySchedule({open_days!r})"

    # Construction helpers
    @classmethod
    def closed(cls) -> WeeklySchedule:
        """A week with no opening at all (the state before any declaration)."""
        return cls()

    def with_day(self, weekday: int, periods: Iterable[Period]) -> WeeklySchedule:
        """Copy with one day replaced: how the bot applies a manager's answer."""
        return self.with_days((weekday,), periods)

    def with_days(self, weekdays: Iterable[int], periods: Iterable[Period]) -> WeeklySchedule:
        """Copy with the same hours on several days (« Mêmes horaires sur plusieurs jours »)."""
        days: dict[int, Iterable[Period]] = dict(self.items())
        same = tuple(periods)
        for weekday in weekdays:
            days[weekday] = same
        return WeeklySchedule(days)

    # Figures
    @property
    def total_minutes(self) -> int:
        """Weekly opening time in minutes."""
        return sum(p.minutes for periods in self._days for p in periods)

    @property
    def open_days(self) -> tuple[int, ...]:
        """Weekdays with at least one period."""
        return tuple(d for d, periods in enumerate(self._days) if periods)

    @property
    def is_closed(self) -> bool:
        return not self.open_days

    # Storage
    def to_json(self) -> dict[str, list[list[str]]]:
        """Stable storage form: all 7 keys "0".."6", ``[["09:00", "12:00"], ...]``."""
        return {
            str(d): [[_time_to_json(p.start), _time_to_json(p.end)] for p in periods]
            for d, periods in enumerate(self._days)
        }

    @classmethod
    def from_json(cls, data: object) -> WeeklySchedule:
        """Inverse of to_json; missing days are closed.  Raises ScheduleError on bad data."""
        if not isinstance(data, Mapping):
            raise ScheduleError("Horaires enregistrés invalides : un objet est attendu.")
        days: dict[int, list[Period]] = {}
        for key, raw_periods in data.items():
            if isinstance(key, str) and key.isascii() and key.isdigit():
                weekday = int(key)
            elif isinstance(key, int) and not isinstance(key, bool):
                weekday = key
            else:
                raise ScheduleError(f"Jour enregistré invalide : {key!r}.")
            if not isinstance(raw_periods, list | tuple):
                raise ScheduleError(f"Plages enregistrées invalides pour le jour {key!r}.")
            periods: list[Period] = []
            for raw in raw_periods:
                if not isinstance(raw, list | tuple) or len(raw) != 2:
                    raise ScheduleError(f"Plage enregistrée invalide : {raw!r}.")
                periods.append(Period(_time_from_json(raw[0]), _time_from_json(raw[1])))
            days[weekday] = periods
        return cls(days)

    # French rendering
    def describe_days(self, *, include_closed: bool = True) -> list[tuple[str, str]]:
        """``[("Lundi", "9 h – 12 h, 14 h – 17 h 30"), ("Mardi", "Fermé"), ...]``."""
        return [
            (DAY_NAMES[d], format_periods(periods))
            for d, periods in enumerate(self._days)
            if periods or include_closed
        ]

    def describe(self, *, include_closed: bool = True) -> str:
        """One line per day, « Lundi : 9 h – 12 h, 14 h – 17 h 30 »."""
        if self.is_closed:
            return "Fermé toute la semaine."
        days = self.describe_days(include_closed=include_closed)
        return "\n".join(f"{label} : {text}" for label, text in days)


# --------------------------------------------------------------------------- days picked
#: Every day of the week as a mask (bit d for weekday d, Monday = bit 0).
ALL_DAYS = (1 << len(DAY_NAMES)) - 1


def day_mask(weekdays: Iterable[int]) -> int:
    """The days picked on a checklist, as one number a button can carry."""
    mask = 0
    for weekday in weekdays:
        if not 0 <= weekday < len(DAY_NAMES):
            raise ScheduleError(f"Jour de la semaine invalide : {weekday!r}.")
        mask |= 1 << weekday
    return mask


def days_of_mask(mask: int) -> tuple[int, ...]:
    """The weekdays of a mask, Monday first; a number that is no set of days raises."""
    if not 0 <= mask <= ALL_DAYS:
        raise ScheduleError(f"Jours invalides : {mask!r}.")
    return tuple(d for d in range(len(DAY_NAMES)) if mask >> d & 1)


# --------------------------------------------------------------------------- parsing

_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−~"), "-")
_QUOTES = dict.fromkeys(map(ord, "’‘`´"), "'")

_TOKEN_RE = re.compile(
    r"""
      (?P<time>
        (?P<h>[0-9]{1,2})(?![0-9])
        (?:
            \s*h(?:eures?)?
            (?:\s*(?P<hm>[0-9]{2})(?![0-9])(?!\s*(?:h|:|\.[0-9])))?   # 9h, 9h30, 9 h 30
          | \s*[:.]\s*(?P<cm>[0-9]{2})(?![0-9])                        # 13:30, 09.00
        )?
      )
    | (?P<midi>midi(?![a-z]))
    | (?P<dash>-+|jusqu'?\s*(?:à|a)(?![a-z])|à(?![a-z])|a(?![a-z])|au(?![a-z]))
    | (?P<sep>[/,;+&.]|et(?![a-z])|puis(?![a-z]))
    | (?P<de>de(?![a-z])|d')
    """,
    re.VERBOSE,
)
_CLOSED_WORDS = frozenset(
    {"fermé", "ferme", "fermée", "fermee", "fermés", "fermes", "fermé toute la journée"}
)


def _short(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _not_understood(text: str) -> HoursParseError:
    return HoursParseError(f"Je n'ai pas compris « {_short(text)} ». {_EXAMPLE}")


def _tokenize(text: str, original: str) -> list[tuple[str, time | None]]:
    tokens: list[tuple[str, time | None]] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise _not_understood(original)
        kind = next(k for k in ("time", "midi", "dash", "sep", "de") if m[k] is not None)
        value: time | None = None
        if m["time"] is not None:
            hour = int(m["h"])
            minute_text = m["hm"] or m["cm"]
            minute = int(minute_text) if minute_text else 0
            if hour > 23:
                raise HoursParseError(
                    f"« {_short(m['time'])} » n'est pas une heure valide : "
                    f"les heures vont de 0 à 23. {_EXAMPLE}"
                )
            if minute > 59:
                raise HoursParseError(
                    f"« {_short(m['time'])} » n'est pas une heure valide : "
                    f"les minutes vont de 00 à 59. {_EXAMPLE}"
                )
            kind, value = "time", time(hour, minute)
        elif kind == "midi":
            kind, value = "time", time(12, 0)
        tokens.append((kind, value))
        pos = m.end()
    return tokens


def parse_periods(text: str) -> tuple[Period, ...]:
    """Read one day's hours as typed by a manager, e.g. ``9h-12h / 14h-17h30``.

    Accepts ``9h``, ``9h30``, ``9 h 30``, ``13:30``, ``09.00``, ``midi``; ranges with
    ``-``, ``–``, ``à``, ``de … à``, ``jusqu'à``; periods separated by ``/``, ``,``,
    ``;``, ``et``, ``+`` or a plain space.  ``fermé`` gives ``()``.  Only ever raises
    HoursParseError, whose French message shows an accepted example.
    """
    if not isinstance(text, str):
        raise HoursParseError(f"Aucun horaire indiqué. {_EXAMPLE}")
    normalised = unicodedata.normalize("NFC", text).translate(_DASHES).translate(_QUOTES).lower()
    normalised = " ".join(normalised.split())
    if not normalised.strip(" ./,;!"):
        raise HoursParseError(
            f"Aucun horaire indiqué. {_EXAMPLE} Si le site est fermé ce jour-là, écrivez « fermé »."
        )
    if normalised.rstrip(" .!") in _CLOSED_WORDS:
        return ()

    tokens = _tokenize(normalised, text)
    periods: list[Period] = []
    i = 0
    while i < len(tokens):
        kind, _ = tokens[i]
        if kind == "sep":
            i += 1
            continue
        if kind == "de":
            i += 1
        triple = tokens[i : i + 3]
        if [k for k, _ in triple] != ["time", "dash", "time"]:
            raise _not_understood(text)
        start, end = triple[0][1], triple[2][1]
        assert start is not None and end is not None
        if start >= end:
            raise HoursParseError(
                f"L'heure de fin doit être après l'heure de début "
                f"({format_time(start)} – {format_time(end)}). {_EXAMPLE}"
            )
        periods.append(Period(start, end))
        i += 3
    if not periods:
        raise _not_understood(text)
    return _validate_day(periods, HoursParseError)


COMMON_SLOTS: tuple[tuple[str, tuple[Period, ...]], ...] = (
    ("Matin 9 h – 12 h", (Period.of(9, 0, 12, 0),)),
    ("Après-midi 14 h – 17 h", (Period.of(14, 0, 17, 0),)),
    ("Journée 9 h – 12 h / 14 h – 17 h", (Period.of(9, 0, 12, 0), Period.of(14, 0, 17, 0))),
    ("Fermé", ()),
)
"""Ready-made answers offered as buttons, so most managers never type."""


# --------------------------------------------------------------------------- compliance


@dataclass(frozen=True)
class HalfDays:
    """Which half-days of one weekday count toward the minimum, and why."""

    weekday: int
    morning_minutes: int
    afternoon_minutes: int

    @property
    def morning(self) -> bool:
        return self.morning_minutes >= HALF_DAY_MIN_MINUTES

    @property
    def afternoon(self) -> bool:
        return self.afternoon_minutes >= HALF_DAY_MIN_MINUTES

    @property
    def count(self) -> int:
        return int(self.morning) + int(self.afternoon)


def _half_days_of(weekday: int, periods: Iterable[Period]) -> HalfDays:
    morning = afternoon = 0
    for p in periods:
        morning += max(0, min(p.end_minute, _NOON_MINUTES) - p.start_minute)
        afternoon += max(0, p.end_minute - max(p.start_minute, _NOON_MINUTES))
    return HalfDays(weekday, morning, afternoon)


@dataclass(frozen=True)
class Compliance:
    """Result of the Article 4 check; ``explain()`` gives the French verdict."""

    half_days: int
    minutes: int
    ok: bool
    missing_half_days: int
    missing_minutes: int
    half_day_detail: tuple[HalfDays, ...]
    min_half_days: int
    min_minutes: int

    def explain(self) -> str:
        """One French message for the manager: conforming, or exactly what is missing."""
        current = (
            f"{_plural(self.half_days, 'demi-journée', 'demi-journées')}, "
            f"{format_duration(self.minutes)}"
        )
        if self.ok:
            return f"Horaires conformes : {current} par semaine."
        missing: list[str] = []
        if self.missing_half_days:
            missing.append(_plural(self.missing_half_days, "demi-journée", "demi-journées"))
        if self.missing_minutes:
            missing.append(format_duration(self.missing_minutes))
        minimum = (
            f"{_plural(self.min_half_days, 'demi-journée', 'demi-journées')} "
            f"et {_format_hours_long(self.min_minutes)} par semaine"
        )
        message = (
            f"Il manque {' et '.join(missing)} pour atteindre "
            f"le minimum de la convention ({minimum}). "
            f"Actuellement : {current} par semaine."
        )
        if self.missing_half_days:
            message += (
                f" Une demi-journée compte quand le site est ouvert au moins "
                f"{format_duration(HALF_DAY_MIN_MINUTES)} le matin (avant {format_time(NOON)}) "
                f"ou l'après-midi (à partir de {format_time(NOON)})."
            )
        return message


def check_minimum(
    schedule: WeeklySchedule, *, min_half_days: int = 4, min_minutes: int = 12 * 60
) -> Compliance:
    """Apply the convention's minimum (Article 4) to a weekly schedule."""
    if min_half_days < 0 or min_minutes < 0:
        raise ValueError("thresholds cannot be negative")
    detail = tuple(_half_days_of(d, periods) for d, periods in schedule.items())
    half_days = sum(h.count for h in detail)
    minutes = schedule.total_minutes
    missing_half_days = max(0, min_half_days - half_days)
    missing_minutes = max(0, min_minutes - minutes)
    return Compliance(
        half_days=half_days,
        minutes=minutes,
        ok=missing_half_days == 0 and missing_minutes == 0,
        missing_half_days=missing_half_days,
        missing_minutes=missing_minutes,
        half_day_detail=detail,
        min_half_days=min_half_days,
        min_minutes=min_minutes,
    )


# --------------------------------------------------------------------------- diff


def diff(before: WeeklySchedule | None, after: WeeklySchedule) -> list[str]:
    """French lines for the Caf, one per changed day, Monday first.

    ``before=None`` is a first declaration: every open day is listed as is.
    Otherwise: only added periods → « ajouté », only removed (day still open)
    → « retiré », day closed → « … → fermé », anything else → « avant → après ».
    """
    if before is None:
        return [f"{label} : {text}" for label, text in after.describe_days(include_closed=False)]
    lines: list[str] = []
    for weekday in after:
        old, new = before[weekday], after[weekday]
        if old == new:
            continue
        label = DAY_NAMES[weekday]
        added = [p for p in new if p not in old]
        removed = [p for p in old if p not in new]
        if not new:
            lines.append(f"{label} : {format_periods(old)} → fermé")
        elif not removed:
            lines.append(f"{label} : ajouté {format_periods(added)}")
        elif not added:
            lines.append(f"{label} : retiré {format_periods(removed)}")
        else:
            lines.append(f"{label} : {format_periods(old)} → {format_periods(new)}")
    return lines


# --------------------------------------------------------------------------- effective date


def default_effective(today: date, *, first: bool = False) -> date:
    """The day new hours apply from unless the manager says otherwise: the coming Monday.

    Article 7 asks that the Caf learn of a change of hours beforehand. The coming Monday
    (not « in 7 days ») starts a whole new week, so no week ever mixes two schedules, and it
    is always 1 to 7 days ahead (a Monday gives the next one). A site's `first` hours change
    nothing the public relies on: they apply from today.
    """
    if first:
        return today
    return today + timedelta(days=7 - today.weekday())


def needs_reason(effective: date, today: date, *, first: bool = False) -> bool:
    """A change applying sooner than the coming Monday must say why (Article 7); a site's
    first hours never do."""
    return effective < default_effective(today, first=first)


# --------------------------------------------------------------------------- visits vs hours


def open_during_hour(schedule: WeeklySchedule, weekday: int, hour: int) -> bool:
    """True when a declared period overlaps the hour ``hour:00``–``hour+1:00`` of that weekday.

    Visits are counted per clock hour, so a visit in the 9 h cell of a site opening at 9 h 30
    may well be inside the hours: any overlap counts as open (the benefit of the doubt goes
    to the site, never a false « hors horaires »).
    """
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be 0..23, not {hour!r}")
    start, end = hour * 60, hour * 60 + 60
    return any(p.start_minute < end and start < p.end_minute for p in schedule[weekday])


def visits_outside(counts: Mapping[tuple[int, int], int], schedule: WeeklySchedule) -> int:
    """Visits counted in (weekday, local hour) cells where the site is not declared open.

    Lets the chat say « 12 % des visites hors des horaires déclarés » next to the heatmap.
    """
    return sum(
        n for (weekday, hour), n in counts.items() if not open_during_hour(schedule, weekday, hour)
    )
