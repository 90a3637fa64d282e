"""Tests for exceptional closure dates: typed French dates, ranges, checks and the calendar."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import chain

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.closure_dates import (
    MAX_CLOSURE_DAYS,
    MAX_DAYS_AHEAD,
    ClosureDateError,
    add_months,
    check_range,
    format_day,
    format_range,
    month_grid,
    parse_closure_dates,
    parse_day,
)

TODAY = date(2026, 11, 26)  # a Thursday
D = date
EXAMPLE = "par exemple"


def refused(text: str, today: date = TODAY) -> str:
    """The message parse_closure_dates gives for ``text``, checked to carry an example."""
    with pytest.raises(ClosureDateError) as excinfo:
        parse_closure_dates(text, today)
    message = str(excinfo.value)
    assert EXAMPLE in message
    return message


# --------------------------------------------------------------------------- parse_day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24/12", D(2026, 12, 24)),
        ("24/12/2026", D(2026, 12, 24)),
        ("24/12/26", D(2026, 12, 24)),
        ("24.12.2026", D(2026, 12, 24)),
        ("24.12", D(2026, 12, 24)),
        ("24-12-2026", D(2026, 12, 24)),
        ("2026-12-24", D(2026, 12, 24)),
        ("24 / 12 / 2026", D(2026, 12, 24)),
        ("24 décembre", D(2026, 12, 24)),
        ("24 Décembre 2026", D(2026, 12, 24)),
        ("24 DECEMBRE", D(2026, 12, 24)),
        ("24 déc.", D(2026, 12, 24)),
        ("24 dec", D(2026, 12, 24)),
        ("24 déc. 2026", D(2026, 12, 24)),
        ("24décembre", D(2026, 12, 24)),
        ("1er janvier 2027", D(2027, 1, 1)),
        ("1er janvier", D(2027, 1, 1)),
        ("1ᵉʳ janvier", D(2027, 1, 1)),
        ("1 janv.", D(2027, 1, 1)),
        ("3 février", D(2027, 2, 3)),
        ("3 fevr", D(2027, 2, 3)),
        ("15 août 2027", D(2027, 8, 15)),
        ("15 aout 2027", D(2027, 8, 15)),
        ("8 mai 2027", D(2027, 5, 8)),
        ("14 juil. 2027", D(2027, 7, 14)),
        ("11 sept 2027", D(2027, 9, 11)),
        ("jeudi 24 décembre", D(2026, 12, 24)),
        ("Jeudi 24/12", D(2026, 12, 24)),
        ("jeu. 24/12", D(2026, 12, 24)),
        ("le 24/12", D(2026, 12, 24)),
        ("le jeudi 24 décembre 2026", D(2026, 12, 24)),
        ("vendredi 1er janvier 2027", D(2027, 1, 1)),
        ("aujourd'hui", TODAY),
        ("aujourd’hui", TODAY),
        ("Aujourd'hui.", TODAY),
        ("aujourdhui", TODAY),
        ("demain", D(2026, 11, 27)),
        ("DEMAIN !", D(2026, 11, 27)),
        ("après-demain", D(2026, 11, 28)),
        ("  24 /12  ", D(2026, 12, 24)),
        ("24\u00a0décembre", D(2026, 12, 24)),
        ("２４/１２", D(2026, 12, 24)),  # full-width digits
    ],
)
def test_parse_day_accepted_forms(text: str, expected: date) -> None:
    assert parse_day(text, TODAY) == expected


def test_parse_day_decomposed_accents() -> None:
    decomposed = "24 de\u0301cembre"  # « é » typed as e + combining acute accent
    assert parse_day(decomposed, TODAY) == D(2026, 12, 24)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5/01", D(2027, 1, 5)),  # would be 325 days ago: next year
        ("15/10", D(2026, 10, 15)),  # 42 days ago: this year (the caller refuses it)
        ("27/09", D(2026, 9, 27)),  # exactly 60 days ago: still this year
        ("26/09", D(2027, 9, 26)),  # 61 days ago: next year
        ("20/11", D(2026, 11, 20)),
        ("26/11", TODAY),
        ("31/12", D(2026, 12, 31)),
    ],
)
def test_year_inference(text: str, expected: date) -> None:
    assert parse_day(text, TODAY) == expected


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (D(2026, 12, 30), "5/01", D(2027, 1, 5)),
        (D(2026, 12, 30), "2/12", D(2026, 12, 2)),
        (D(2026, 12, 30), "31/10", D(2026, 10, 31)),  # exactly 60 days before: this year
        (D(2026, 12, 30), "30/10", D(2027, 10, 30)),  # 61 days before: next year
        (D(2026, 1, 15), "20/12", D(2026, 12, 20)),  # not « last December »
        (D(2026, 1, 15), "10/01", D(2026, 1, 10)),
        (D(2027, 12, 30), "29/02", D(2028, 2, 29)),  # leap year ahead
        (D(2028, 1, 10), "29 février", D(2028, 2, 29)),
    ],
)
def test_year_inference_other_todays(today: date, text: str, expected: date) -> None:
    assert parse_day(text, today) == expected


def test_parse_day_does_not_check_past_or_future() -> None:
    assert parse_day("1/01/2020", TODAY) == D(2020, 1, 1)
    assert parse_day("1/01/2099", TODAY) == D(2099, 1, 1)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "Aucune date"),
        ("   ", "Aucune date"),
        (".", "Aucune date"),
        ("bonjour", "pas compris"),
        ("24", "pas compris"),
        ("lundi", "pas compris"),
        ("24 decembreee", "pas compris"),
        ("24/12/202", "pas compris"),
        ("24-12", "pas compris"),
        ("hier", "pas compris"),
        ("31/02", "Le 31 février n'existe pas"),
        ("30 février", "Le 30 février n'existe pas"),
        ("31/04", "avril a 30 jours"),
        ("29/02/2027", "2027 n'est pas une année bissextile"),
        ("0/12", "les jours vont de 1 à 31"),
        ("32/12", "les jours vont de 1 à 31"),
        ("12/13", "les mois vont de 1 à 12"),
        ("12/0", "les mois vont de 1 à 12"),
        ("24/12/0000", "pas une date valide"),
        ("lundi 24 décembre", "Le 24 décembre est un jeudi, pas un lundi"),
        ("lundi 1er janvier 2027", "Le 1er janvier 2027 est un vendredi, pas un lundi"),
        ("mardi 2026-12-24", "est un jeudi, pas un mardi"),
        ("du 24/12 au 2/01", "un seul jour"),
    ],
)
def test_parse_day_refuses_with_french_example(text: str, hint: str) -> None:
    with pytest.raises(ClosureDateError) as excinfo:
        parse_day(text, TODAY)
    message = str(excinfo.value)
    assert hint in message
    assert "Écrivez par exemple 27/11 ou 27 novembre." in message


def test_parse_day_refuses_non_text() -> None:
    with pytest.raises(ClosureDateError, match="Aucune date"):
        parse_day(None, TODAY)  # type: ignore[arg-type]


def test_error_echo_is_short() -> None:
    for text in ("x" * 500, "24/12 " + "y" * 60):
        with pytest.raises(ClosureDateError) as excinfo:
            parse_day(text, TODAY)
        assert len(str(excinfo.value)) < 150


def test_error_is_a_value_error() -> None:
    assert issubclass(ClosureDateError, ValueError)


# --------------------------------------------------------------------------- ranges


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24/12", (D(2026, 12, 24), D(2026, 12, 24))),
        ("demain", (D(2026, 11, 27), D(2026, 11, 27))),
        ("aujourd'hui", (TODAY, TODAY)),
        ("du 24/12 au 2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("Du 24/12 au 02/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("24/12 au 2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("24/12 à 2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("24/12 - 2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("24/12-2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("24/12 – 2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("24/12 → 2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("24/12 -> 2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("du 24/12 jusqu'au 2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("du 24/12 jusqu’au 2/01 inclus", (D(2026, 12, 24), D(2027, 1, 2))),
        ("du 24 au 31/12", (D(2026, 12, 24), D(2026, 12, 31))),
        ("du 24 au 31 décembre", (D(2026, 12, 24), D(2026, 12, 31))),
        ("du 1er au 3 janvier", (D(2027, 1, 1), D(2027, 1, 3))),
        ("du 24 au 31/12/2027", (D(2027, 12, 24), D(2027, 12, 31))),
        ("24/12/2026 - 02/01/2027", (D(2026, 12, 24), D(2027, 1, 2))),
        ("du 24/12/2026 au 2/01/2027", (D(2026, 12, 24), D(2027, 1, 2))),
        ("du 24/12/2026 au 2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("du 24/12 au 2/01/2027", (D(2026, 12, 24), D(2027, 1, 2))),
        ("du 24 décembre 2026 au 2 janvier 2027", (D(2026, 12, 24), D(2027, 1, 2))),
        ("du 24 déc. au 2 janv.", (D(2026, 12, 24), D(2027, 1, 2))),
        ("du 24 décembre au 2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("du 1/12 au 31/12", (D(2026, 12, 1), D(2026, 12, 31))),
        ("du 5/01 au 10/01", (D(2027, 1, 5), D(2027, 1, 10))),
        ("du lundi 28 au mercredi 30 décembre", (D(2026, 12, 28), D(2026, 12, 30))),
        ("du jeudi 24/12 au samedi 2/01", (D(2026, 12, 24), D(2027, 1, 2))),
        ("d'aujourd'hui à demain", (TODAY, D(2026, 11, 27))),
        ("de demain au 30/11", (D(2026, 11, 27), D(2026, 11, 30))),
        ("du 24/12 au 24/12", (D(2026, 12, 24), D(2026, 12, 24))),
        ("DU 24 AU 31 DÉCEMBRE", (D(2026, 12, 24), D(2026, 12, 31))),
        ("2026-12-24 - 2027-01-02", (D(2026, 12, 24), D(2027, 1, 2))),
        ("24-12-2026 - 2-01-2027", (D(2026, 12, 24), D(2027, 1, 2))),
    ],
)
def test_parse_closure_dates_accepted_forms(text: str, expected: tuple[date, date]) -> None:
    assert parse_closure_dates(text, TODAY) == expected


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (D(2026, 12, 30), "du 31/12 au 2/01", (D(2026, 12, 31), D(2027, 1, 2))),
        (D(2026, 12, 30), "5/01", (D(2027, 1, 5), D(2027, 1, 5))),
        (D(2026, 12, 30), "du 5 au 9 janvier", (D(2027, 1, 5), D(2027, 1, 9))),
        (D(2026, 12, 30), "aujourd'hui", (D(2026, 12, 30), D(2026, 12, 30))),
        (D(2026, 12, 31), "demain", (D(2027, 1, 1), D(2027, 1, 1))),
        (D(2027, 2, 27), "du 27/02 au 1/03", (D(2027, 2, 27), D(2027, 3, 1))),
        (D(2028, 2, 27), "du 28/02 au 1/03", (D(2028, 2, 28), D(2028, 3, 1))),
        (D(2026, 6, 1), "du 14/07 au 15/08", (D(2026, 7, 14), D(2026, 8, 15))),
    ],
)
def test_parse_closure_dates_other_todays(
    today: date, text: str, expected: tuple[date, date]
) -> None:
    assert parse_closure_dates(text, today) == expected


def test_range_wraps_the_new_year_only_when_the_month_goes_back() -> None:
    # The end's month is before the start's: next year.
    assert parse_closure_dates("du 24/12 au 2/01", TODAY)[1] == D(2027, 1, 2)
    # Same month, earlier day: an inverted range, not a year-long closure.
    message = refused("du 24/12 au 20/12")
    assert "Dates inversées : le 20 décembre est avant le 24 décembre." in message


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        # past
        ("20/11", "Le 20 novembre est passé"),
        ("15/10", "Le 15 octobre est passé"),
        ("du 20/11 au 30/11", "Le 20 novembre est passé"),
        ("24/12/2025", "Le 24 décembre 2025 est passé"),
        # inverted
        ("du 24/12 au 20/12", "le 20 décembre est avant le 24 décembre"),
        ("du 2/01/2027 au 24/12/2026", "le 24 décembre est avant le 2 janvier 2027"),
        ("du 28 au 3/01", "le 3 janvier 2027 est avant le 28 janvier 2027"),
        ("de demain à aujourd'hui", "le 26 novembre est avant le 27 novembre"),
        # too long
        ("du 24/12/2026 au 2/01/2028", "au plus 366 jours"),
        ("du 1/12/2026 au 2/12/2027", "cela fait 367 jours"),
        # too far
        ("24/12/2029", "Le 24 décembre 2029 est trop loin"),
        ("26/11/2028", "au plus 730 jours à l'avance, donc au plus tard le 25 novembre 2028"),
        # impossible dates
        ("31/02", "Le 31 février n'existe pas"),
        ("du 30/02 au 3/03", "Le 30 février n'existe pas"),
        ("du 31 au 5/02", "Le 31 février n'existe pas"),
        ("0/12", "les jours vont de 1 à 31"),
        ("du 0 au 5/12", "les jours vont de 1 à 31"),
        ("du 40 au 5/12", "les jours vont de 1 à 31"),
        ("12/13", "les mois vont de 1 à 12"),
        ("du 24/12 au 2/13", "les mois vont de 1 à 12"),
        # wrong weekday
        ("lundi 24 décembre", "Le 24 décembre est un jeudi, pas un lundi"),
        ("du lundi 24 au 31/12", "Le 24 décembre est un jeudi, pas un lundi"),
        ("du 24/12 au mardi 2/01", "Le 2 janvier 2027 est un samedi, pas un mardi"),
        # empty and gibberish
        ("", "Aucune date indiquée"),
        ("  \n ", "Aucune date indiquée"),
        ("asdfgh", "Je n'ai pas compris la date « asdfgh »"),
        ("du au", "pas compris"),
        ("du 24/12", "pas compris"),
        ("24/12 au", "pas compris"),
        ("du 24 au 31", "pas compris"),
        ("24/12 et 25/12", "pas compris"),
        ("du 24/12 au 2/01 au 3/01", "pas compris"),
        ("9h-12h", "pas compris"),
        ("fermé", "pas compris"),
    ],
)
def test_parse_closure_dates_refuses(text: str, hint: str) -> None:
    message = refused(text)
    assert hint in message
    assert message.endswith("Écrivez par exemple 27/11 ou du 27/11 au 4/12.")


def test_past_is_relative_to_today() -> None:
    today = D(2026, 12, 30)
    assert "Le 24 décembre est passé" in refused("du 24/12 au 2/01", today)
    assert "Le 2 décembre est passé" in refused("2/12", today)
    assert parse_closure_dates("30/12", today) == (today, today)


# --------------------------------------------------------------------------- check_range


def test_check_range_bounds_are_inclusive() -> None:
    assert check_range(TODAY, TODAY, TODAY) == (TODAY, TODAY)
    last_start = TODAY + timedelta(days=MAX_DAYS_AHEAD)
    assert check_range(last_start, last_start, TODAY) == (last_start, last_start)
    longest_end = TODAY + timedelta(days=MAX_CLOSURE_DAYS - 1)
    assert check_range(TODAY, longest_end, TODAY) == (TODAY, longest_end)
    # And the maximum length still applies at the furthest start.
    far_end = last_start + timedelta(days=MAX_CLOSURE_DAYS - 1)
    assert check_range(last_start, far_end, TODAY) == (last_start, far_end)


@pytest.mark.parametrize(
    ("start", "end", "hint"),
    [
        (TODAY - timedelta(days=1), TODAY, "Le 25 novembre est passé"),
        (D(2026, 11, 20), D(2026, 11, 20), "Le 20 novembre est passé : la fermeture doit"),
        (D(2026, 12, 24), D(2026, 12, 23), "le 23 décembre est avant le 24 décembre"),
        (
            TODAY + timedelta(days=MAX_DAYS_AHEAD + 1),
            TODAY + timedelta(days=MAX_DAYS_AHEAD + 1),
            "Le 26 novembre 2028 est trop loin",
        ),
        (TODAY, TODAY + timedelta(days=MAX_CLOSURE_DAYS), "cela fait 367 jours"),
    ],
)
def test_check_range_refuses(start: date, end: date, hint: str) -> None:
    with pytest.raises(ClosureDateError) as excinfo:
        check_range(start, end, TODAY)
    message = str(excinfo.value)
    assert hint in message
    assert "Écrivez par exemple 27/11 ou du 27/11 au 4/12." in message


def test_check_range_inverted_comes_first() -> None:
    with pytest.raises(ClosureDateError, match="Dates inversées"):
        check_range(D(2026, 11, 20), D(2026, 11, 10), TODAY)


def test_check_range_example_follows_today() -> None:
    with pytest.raises(ClosureDateError) as excinfo:
        check_range(D(2026, 12, 1), D(2026, 12, 1), D(2026, 12, 30))
    assert str(excinfo.value).endswith("Écrivez par exemple 31/12 ou du 31/12 au 7/01.")


def test_check_range_at_the_end_of_time_does_not_crash() -> None:
    with pytest.raises(ClosureDateError, match="par exemple"):
        check_range(date.max - timedelta(days=1), date.max - timedelta(days=1), date.max)
    assert check_range(date.max, date.max, date.max) == (date.max, date.max)


# --------------------------------------------------------------------------- formatting


def test_format_day_and_range() -> None:
    assert format_day(D(2027, 1, 1)) == "1er janvier 2027"
    assert format_day(D(2026, 8, 15), TODAY) == "15 août"
    assert format_day(D(2027, 2, 3), TODAY) == "3 février 2027"
    assert format_range(D(2026, 12, 24), D(2026, 12, 24), TODAY) == "le 24 décembre"
    assert format_range(D(2026, 12, 24), D(2027, 1, 2), TODAY) == "du 24 décembre au 2 janvier 2027"


# --------------------------------------------------------------------------- calendar


def test_month_grid_november_2026() -> None:
    grid = month_grid(2026, 11)
    assert len(grid) == 6  # 1 November 2026 is a Sunday
    assert grid[0] == [None] * 6 + [D(2026, 11, 1)]
    assert grid[-1] == [D(2026, 11, 30)] + [None] * 6


def test_month_grid_february_2027_fits_four_weeks() -> None:
    grid = month_grid(2027, 2)  # starts on a Monday, 28 days
    assert len(grid) == 4
    assert all(None not in week for week in grid)


@pytest.mark.parametrize(("year", "month"), [(2026, 0), (2026, 13), (0, 1), (10000, 1)])
def test_month_grid_rejects_bad_months(year: int, month: int) -> None:
    with pytest.raises(ValueError):
        month_grid(year, month)


@pytest.mark.parametrize(
    ("year", "month", "delta", "expected"),
    [
        (2026, 11, 1, (2026, 12)),
        (2026, 12, 1, (2027, 1)),
        (2027, 1, -1, (2026, 12)),
        (2026, 11, 0, (2026, 11)),
        (2026, 11, 14, (2028, 1)),
        (2026, 11, -23, (2024, 12)),
    ],
)
def test_add_months(year: int, month: int, delta: int, expected: tuple[int, int]) -> None:
    assert add_months(year, month, delta) == expected


def test_add_months_rejects_bad_month() -> None:
    with pytest.raises(ValueError):
        add_months(2026, 13, 1)


# --------------------------------------------------------------------------- properties

todays = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@st.composite
def allowed_ranges(draw: st.DrawFn) -> tuple[date, date, date]:
    """(today, start, end) with start and end inside what check_range accepts."""
    today = draw(todays)
    start = today + timedelta(days=draw(st.integers(0, MAX_DAYS_AHEAD)))
    end = start + timedelta(days=draw(st.integers(0, MAX_CLOSURE_DAYS - 1)))
    return today, start, end


@settings(max_examples=200, deadline=None)
@given(allowed_ranges())
def test_full_dates_round_trip(case: tuple[date, date, date]) -> None:
    today, start, end = case
    assert check_range(start, end, today) == (start, end)
    assert parse_closure_dates(f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}", today) == (start, end)
    assert parse_closure_dates(f"{start:%d/%m/%Y} - {end:%d/%m/%Y}", today) == (start, end)
    assert parse_closure_dates(f"{start:%d/%m/%Y}", today) == (start, start)
    assert parse_day(format_day(start), today) == start


@settings(max_examples=200, deadline=None)
@given(todays, st.integers(0, 300))
def test_day_without_year_round_trips(today: date, offset: int) -> None:
    # Anything within the next 300 days is read back without its year.
    day = today + timedelta(days=offset)
    assert parse_closure_dates(f"{day.day}/{day.month}", today) == (day, day)
    assert parse_day(f"{day.day}/{day.month:02d}", today) == day
    assert parse_day(format_day(day, today), today) == day


@settings(max_examples=200, deadline=None)
@given(todays, st.integers(0, 300), st.integers(0, 300))
def test_range_without_years_round_trips(today: date, offset: int, length: int) -> None:
    start = today + timedelta(days=offset)
    end = start + timedelta(days=length)
    # Without years, an end in the next year must be in an earlier month than the start.
    unambiguous = end.year == start.year or end.month < start.month
    text = f"du {start.day}/{start.month} au {end.day}/{end.month}"
    if unambiguous:
        assert parse_closure_dates(text, today) == (start, end)
        assert parse_closure_dates(format_range(start, end, today), today) == (start, end)
        # A bare start day takes the end's month and year, and the end is read alone.
        if start.month == end.month and start.year == end.year and (end - today).days <= 300:
            bare = f"du {start.day} au {end.day}/{end.month}"
            assert parse_closure_dates(bare, today) == (start, end)


@settings(max_examples=200, deadline=None)
@given(todays, st.integers(1, 12), st.integers(1, 31))
def test_year_inference_window(today: date, month: int, day: int) -> None:
    try:
        result = parse_day(f"{day}/{month}", today)
    except ClosureDateError:
        return  # 31/04, or 29/02 in a non-leap year
    assert (result.month, result.day) == (month, day)
    assert result.year in (today.year, today.year + 1)
    assert result >= today - timedelta(days=60)
    # Today's year whenever that is not more than 60 days in the past.
    if result.year == today.year + 1 and not (month == 2 and day == 29):
        assert date(today.year, month, day) < today - timedelta(days=60)


_FUZZ_ALPHABET = "0123456789/.-–→ duaeljrmcnévbfioth'’\u00a0xDU"


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.text(max_size=60), st.text(alphabet=_FUZZ_ALPHABET, max_size=40)),
    todays,
)
def test_parse_only_raises_closure_date_error(text: str, today: date) -> None:
    try:
        start, end = parse_closure_dates(text, today)
    except ClosureDateError as error:
        assert EXAMPLE in str(error)
    else:
        assert check_range(start, end, today) == (start, end)
        assert today <= start <= end


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_FUZZ_ALPHABET, max_size=30), todays)
def test_parse_day_only_raises_closure_date_error(text: str, today: date) -> None:
    try:
        parse_day(text, today)
    except ClosureDateError as error:
        assert EXAMPLE in str(error)


_EXAMPLE_RE = re.compile(r"par exemple (\S+) ou (du \S+ au [^.]+)\.")


@settings(max_examples=200, deadline=None)
@given(todays, st.integers(-400, 1200), st.integers(-10, 400))
def test_every_refusal_example_is_accepted(today: date, offset: int, length: int) -> None:
    start = today + timedelta(days=offset)
    end = start + timedelta(days=length)
    try:
        check_range(start, end, today)
    except ClosureDateError as error:
        match = _EXAMPLE_RE.search(str(error))
        assert match is not None
        one_day, a_range = match.groups()
        tomorrow = today + timedelta(days=1)
        assert parse_closure_dates(one_day, today) == (tomorrow, tomorrow)
        assert parse_closure_dates(a_range, today) == (tomorrow, tomorrow + timedelta(days=7))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 9999), st.integers(1, 12))
def test_month_grid_covers_each_day_once_in_its_column(year: int, month: int) -> None:
    grid = month_grid(year, month)
    assert all(len(week) == 7 for week in grid)
    assert all(any(cell is not None for cell in week) for week in grid)
    days = [cell for cell in chain.from_iterable(grid) if cell is not None]
    first = date(year, month, 1)
    assert days == [first + timedelta(days=i) for i in range(len(days))]
    assert all(d.month == month and d.year == year for d in days)
    assert len(days) in (28, 29, 30, 31)
    after_last = days[-1] + timedelta(days=1) if days[-1] < date.max else None
    assert after_last is None or after_last.month != month
    for week in grid:
        for column, cell in enumerate(week):
            assert cell is None or cell.weekday() == column
    # None only before the first day and after the last one.
    flat = list(chain.from_iterable(grid))
    inside = flat[flat.index(days[0]) : flat.index(days[-1]) + 1]
    assert None not in inside


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 9000), st.integers(1, 12), st.integers(-2000, 2000))
def test_add_months_is_reversible_and_steps_one_month_at_a_time(
    year: int, month: int, delta: int
) -> None:
    new_year, new_month = add_months(year, month, delta)
    assert 1 <= new_month <= 12
    assert add_months(new_year, new_month, -delta) == (year, month)
    assert (new_year * 12 + new_month) - (year * 12 + month) == delta
