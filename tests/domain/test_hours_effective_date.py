"""Article 7: new hours apply from the coming Monday unless the manager says otherwise, and
a day sooner needs a reason."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain.opening_hours import default_effective, needs_reason

A_MONDAY = date(2026, 12, 7)


@pytest.mark.parametrize("offset", range(14))
def test_the_default_is_the_coming_monday_one_to_seven_days_ahead(offset: int) -> None:
    today = A_MONDAY + timedelta(days=offset)
    default = default_effective(today)
    assert default.weekday() == 0
    assert 1 <= (default - today).days <= 7


def test_on_a_monday_the_default_is_the_next_monday_not_today() -> None:
    assert default_effective(A_MONDAY) == date(2026, 12, 14)


def test_on_a_sunday_the_default_is_tomorrow() -> None:
    assert default_effective(date(2026, 12, 13)) == date(2026, 12, 14)


def test_the_default_crosses_months_and_years() -> None:
    assert default_effective(date(2026, 12, 31)) == date(2027, 1, 4)


@pytest.mark.parametrize("offset", range(7))
def test_a_change_sooner_than_the_default_needs_a_reason(offset: int) -> None:
    today = A_MONDAY + timedelta(days=offset)
    default = default_effective(today)
    assert needs_reason(today, today)
    assert needs_reason(default - timedelta(days=1), today)
    assert not needs_reason(default, today)
    assert not needs_reason(default + timedelta(days=30), today)


@pytest.mark.parametrize("offset", range(7))
def test_a_sites_first_hours_apply_from_today_without_a_reason(offset: int) -> None:
    today = A_MONDAY + timedelta(days=offset)
    assert default_effective(today, first=True) == today
    assert not needs_reason(today, today, first=True)
