"""Typed day-and-time (broadcast scheduling, event dates)."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.domain.moments import MomentError, parse_moment, parse_time

TODAY = date(2026, 11, 26)  # a Thursday


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("28/11 à 14h30", (date(2026, 11, 28), time(14, 30))),
        ("28/11 14h", (date(2026, 11, 28), time(14, 0))),
        ("demain 9h", (date(2026, 11, 27), time(9, 0))),
        ("lundi 30 novembre à 10 h 05", (date(2026, 11, 30), time(10, 5))),
        ("3 décembre, 17:00", (date(2026, 12, 3), time(17, 0))),
        ("5/01 a 8h", (date(2027, 1, 5), time(8, 0))),
    ],
)
def test_a_day_and_a_time_are_read(typed: str, expected: tuple[date, time]) -> None:
    assert parse_moment(typed, TODAY) == expected


@pytest.mark.parametrize(
    "typed", ["28/11", "14h30", "bientôt", "31/02 à 9h", "28/11 à 25h", "28/11 à 9h75", ""]
)
def test_anything_else_is_answered_with_an_example(typed: str) -> None:
    with pytest.raises(MomentError, match="par exemple"):
        parse_moment(typed, TODAY)


def test_a_time_alone() -> None:
    assert parse_time("à 9h") == time(9, 0)
    assert parse_time("17:45") == time(17, 45)
    with pytest.raises(MomentError):
        parse_time("midi et demi")
