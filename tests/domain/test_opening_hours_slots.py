"""Visits against declared hours: which hour cells are open, how many visits fall outside."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.opening_hours import (
    Period,
    WeeklySchedule,
    open_during_hour,
    parse_periods,
    visits_outside,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEKDAYS_9_12_14_17 = WeeklySchedule(
    dict.fromkeys(range(MON, SAT), parse_periods("9h-12h / 14h-17h"))
)


def test_whole_hours_open_exactly_their_cells() -> None:
    hours = [h for h in range(24) if open_during_hour(WEEKDAYS_9_12_14_17, MON, h)]
    assert hours == [9, 10, 11, 14, 15, 16]


def test_a_partial_hour_counts_as_open() -> None:
    schedule = WeeklySchedule({TUE: parse_periods("9h30-12h / 13h-16h15")})
    hours = [h for h in range(24) if open_during_hour(schedule, TUE, h)]
    assert hours == [9, 10, 11, 13, 14, 15, 16]


def test_a_closing_time_on_the_hour_does_not_open_the_next_cell() -> None:
    schedule = WeeklySchedule({WED: parse_periods("14h-17h")})
    assert open_during_hour(schedule, WED, 16)
    assert not open_during_hour(schedule, WED, 17)
    assert not open_during_hour(schedule, WED, 13)


def test_closed_days_and_bad_hours() -> None:
    assert not open_during_hour(WEEKDAYS_9_12_14_17, SAT, 10)
    assert not open_during_hour(WeeklySchedule.closed(), MON, 10)
    with pytest.raises(ValueError):
        open_during_hour(WEEKDAYS_9_12_14_17, MON, 24)
    with pytest.raises(KeyError):
        open_during_hour(WEEKDAYS_9_12_14_17, 7, 10)


def test_visits_outside_the_declared_hours_counted_by_hand() -> None:
    counts = {
        (MON, 8): 2,  # before opening
        (MON, 10): 5,  # inside
        (MON, 13): 3,  # lunch break
        (TUE, 16): 4,  # last open hour
        (TUE, 17): 1,  # closing time
        (SAT, 10): 6,  # closed day
        (FRI, 11): 0,  # an empty cell changes nothing
    }
    assert visits_outside(counts, WEEKDAYS_9_12_14_17) == 2 + 3 + 1 + 6
    assert visits_outside(counts, WeeklySchedule.closed()) == sum(counts.values())
    assert visits_outside({}, WEEKDAYS_9_12_14_17) == 0


def test_a_visit_in_a_partly_open_hour_is_not_outside() -> None:
    schedule = WeeklySchedule({THU: parse_periods("9h30-12h")})
    assert visits_outside({(THU, 9): 4, (THU, 12): 1}, schedule) == 1


# --------------------------------------------------------------------------- properties

_minutes = st.integers(min_value=0, max_value=23 * 60 + 59)


@st.composite
def periods(draw: st.DrawFn) -> tuple[Period, ...]:
    """Zero to two non-overlapping periods of one day."""
    cuts = sorted(draw(st.lists(_minutes, min_size=0, max_size=4, unique=True)))
    cuts = cuts[: len(cuts) // 2 * 2]
    return tuple(
        Period(time(*divmod(a, 60)), time(*divmod(b, 60)))
        for a, b in zip(cuts[::2], cuts[1::2], strict=True)
    )


schedules = st.builds(WeeklySchedule, st.dictionaries(st.integers(0, 6), periods()))
cells = st.dictionaries(
    st.tuples(st.integers(0, 6), st.integers(0, 23)), st.integers(0, 1000), max_size=40
)


@given(schedules, cells)
def test_inside_plus_outside_is_every_visit(
    schedule: WeeklySchedule, counts: dict[tuple[int, int], int]
) -> None:
    inside = sum(n for (d, h), n in counts.items() if open_during_hour(schedule, d, h))
    outside = visits_outside(counts, schedule)
    assert inside + outside == sum(counts.values())
    assert 0 <= outside <= sum(counts.values())


@given(schedules, st.integers(0, 6), st.integers(0, 23))
def test_open_during_hour_agrees_with_minute_by_minute(
    schedule: WeeklySchedule, weekday: int, hour: int
) -> None:
    open_minutes = {m for p in schedule[weekday] for m in range(p.start_minute, p.end_minute)}
    expected = any(m in open_minutes for m in range(hour * 60, hour * 60 + 60))
    assert open_during_hour(schedule, weekday, hour) is expected
