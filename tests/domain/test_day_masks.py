"""Days ticked together for the same hours: a set of weekdays as one number a button carries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.opening_hours import (
    ALL_DAYS,
    Period,
    ScheduleError,
    WeeklySchedule,
    day_mask,
    days_of_mask,
)

MORNING = (Period.of(9, 0, 12, 0),)


@given(st.sets(st.integers(min_value=0, max_value=6)))
def test_a_set_of_days_goes_through_a_mask_and_back(days: set[int]) -> None:
    assert days_of_mask(day_mask(days)) == tuple(sorted(days))


@pytest.mark.parametrize("mask", [-1, ALL_DAYS + 1, 10**6])
def test_a_number_that_is_no_set_of_days_is_refused(mask: int) -> None:
    with pytest.raises(ScheduleError):
        days_of_mask(mask)


def test_a_weekday_out_of_the_week_is_refused() -> None:
    with pytest.raises(ScheduleError):
        day_mask([7])


def test_the_same_hours_on_several_days_leave_the_others_alone() -> None:
    week = WeeklySchedule.closed().with_day(4, (Period.of(14, 0, 17, 0),))
    changed = week.with_days(days_of_mask(0b1011), MORNING)
    assert [changed[d] for d in range(7)] == [
        MORNING,
        MORNING,
        (),
        MORNING,
        (Period.of(14, 0, 17, 0),),
        (),
        (),
    ]
    assert week.with_days((), MORNING) == week
