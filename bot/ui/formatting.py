"""French formats for dates, times and numbers, in the Caf's time zone."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.domain.closure_dates import MONTH_NAMES, WEEKDAY_NAMES

# Defined once, with the parsing of typed dates that reads them.
DAYS = WEEKDAY_NAMES
MONTHS = MONTH_NAMES
NARROW_NBSP = "\u202f"


def hour_fr(moment: time | datetime) -> str:
    """14 h 30, 9 h."""
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def date_fr(day: date, *, weekday: bool = True, year: bool = True) -> str:
    """jeudi 26 novembre 2026 (1er for the first of the month)."""
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{number} {MONTHS[day.month - 1]}"
    if year:
        text += f" {day.year}"
    return f"{DAYS[day.weekday()]} {text}" if weekday else text


def datetime_fr(instant: datetime, tz: ZoneInfo, *, year: bool = True) -> str:
    """jeudi 26 novembre 2026 à 14 h 30, in the given time zone."""
    local = instant.astimezone(tz)
    return f"{date_fr(local.date(), year=year)} à {hour_fr(local)}"


def short_datetime_fr(instant: datetime, tz: ZoneInfo, today: date | None = None) -> str:
    """aujourd'hui à 14 h 30 / hier à 9 h / 24/11 à 9 h — for summaries."""
    local = instant.astimezone(tz)
    if today is not None:
        if local.date() == today:
            return f"aujourd'hui à {hour_fr(local)}"
        if (today - local.date()).days == 1:
            return f"hier à {hour_fr(local)}"
    return f"{local:%d/%m} à {hour_fr(local)}"


def number_fr(value: int | float, decimals: int = 0) -> str:
    """1 234 ; 12,5 — French separators (narrow no-break space for thousands)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NARROW_NBSP).replace(".", ",")


def percent_fr(part: int, whole: int, decimals: int = 0) -> str:
    """'—' when there is nothing to divide, else 12,5 %."""
    if whole <= 0:
        return "—"
    return f"{number_fr(100 * part / whole, decimals)}{NARROW_NBSP}%"


def de(name: str) -> str:
    """« de Marc », « d'Agnès »: French elides "de" before a vowel or a mute h."""
    first = name[:1].lower()
    return f"d'{name}" if first and first in "aeiouyhéèêàâîïôûœ" else f"de {name}"
