"""Working days: weekends and French public holidays (metropolitan France) are closed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.calendar import (
    add_working_days,
    is_public_holiday,
    is_working_day,
    working_days_between,
)

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 1),
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 5, 14),  # Ascension 2026
        date(2026, 5, 25),  # Pentecost Monday 2026
        date(2026, 7, 14),
        date(2026, 11, 11),  # Armistice, a Wednesday
        date(2026, 12, 25),
        date(2027, 5, 6),  # Ascension 2027: it moves with Easter
    ],
)
def test_public_holidays_are_not_working_days(day: date) -> None:
    assert is_public_holiday(day)
    assert not is_working_day(day)


def test_weekends_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 11, 29))  # Sunday
    assert is_working_day(date(2026, 11, 27))  # Friday
    assert is_working_day(date(2026, 11, 30))  # Monday


def test_alsace_moselle_days_are_not_included() -> None:
    assert is_working_day(date(2026, 4, 3))  # Good Friday
    assert is_working_day(date(2026, 12, 24))
    assert not is_working_day(date(2026, 12, 26))  # a Saturday anyway


def test_add_working_days() -> None:
    friday = date(2026, 11, 6)
    assert add_working_days(friday, 0) == friday
    assert add_working_days(friday, 1) == date(2026, 11, 9)  # over the weekend
    assert add_working_days(friday, 3) == date(2026, 11, 12)  # over the 11th too
    assert add_working_days(date(2026, 11, 10), 1) == date(2026, 11, 12)
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert add_working_days(date(2026, 5, 22), 1) == date(2026, 5, 26)  # Pentecost Monday
    assert add_working_days(date(2026, 11, 12), -3) == friday
    assert add_working_days(date(2026, 11, 7), 1) == date(2026, 11, 9)  # from a Saturday


def test_working_days_between() -> None:
    friday = date(2026, 11, 6)
    assert working_days_between(friday, date(2026, 11, 12)) == 3
    assert working_days_between(friday, friday) == 0
    assert working_days_between(friday, date(2026, 11, 8)) == 0  # the weekend
    assert working_days_between(friday, date(2026, 11, 9)) == 1
    assert working_days_between(date(2026, 11, 12), friday) == -3
    assert working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 252


@given(days, st.integers(min_value=0, max_value=400))
def test_between_counts_what_add_adds(day: date, n: int) -> None:
    target = add_working_days(day, n)
    assert working_days_between(day, target) == n
    assert n == 0 or is_working_day(target)


@given(days, st.integers(min_value=0, max_value=800))
def test_between_matches_a_day_by_day_count(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    expected = sum(is_working_day(start + timedelta(days=i)) for i in range(1, span + 1))
    assert working_days_between(start, end) == expected
