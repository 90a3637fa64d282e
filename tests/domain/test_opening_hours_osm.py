"""Declared hours and closures in OpenStreetMap's `opening_hours` syntax (issue #17)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain import opening_hours_osm as osm
from bot.domain.opening_hours import Period, WeeklySchedule

DAY = (Period.of(9, 0, 12, 0), Period.of(14, 0, 17, 0))
MORNING = (Period.of(9, 30, 12, 0),)


def test_days_with_the_same_hours_make_one_rule_with_a_range() -> None:
    schedule = WeeklySchedule({0: DAY, 1: DAY, 2: DAY, 3: DAY})
    assert osm.opening_hours(schedule) == "Mo-Th 09:00-12:00,14:00-17:00"


def test_closures_come_after_the_week_as_off_rules() -> None:
    schedule = WeeklySchedule({0: DAY, 1: DAY, 2: DAY, 3: DAY, 4: MORNING})
    closures = [(date(2027, 1, 15), date(2027, 1, 15)), (date(2026, 12, 24), date(2027, 1, 2))]
    assert osm.opening_hours(schedule, closures) == (
        "Mo-Th 09:00-12:00,14:00-17:00; Fr 09:30-12:00; "
        "2026 Dec 24-2027 Jan 02 off; 2027 Jan 15 off"
    )


@pytest.mark.parametrize(
    ("weekdays", "written"),
    [
        ([0], "Mo"),
        ([0, 1], "Mo,Tu"),
        ([0, 1, 2], "Mo-We"),
        ([0, 1, 3], "Mo,Tu,Th"),
        ([0, 2, 4], "Mo,We,Fr"),
        ([0, 1, 2, 4, 5, 6], "Mo-We,Fr-Su"),
    ],
)
def test_days_are_written_as_ranges_where_they_follow(weekdays: list[int], written: str) -> None:
    assert osm.days(weekdays) == written


def test_separate_days_with_the_same_hours_share_a_rule_in_the_weeks_order() -> None:
    schedule = WeeklySchedule({0: DAY, 1: MORNING, 3: DAY, 5: MORNING})
    assert osm.opening_hours(schedule) == "Mo,Th 09:00-12:00,14:00-17:00; Tu,Sa 09:30-12:00"


def test_no_hours_declared_is_empty_and_closed_every_day_is_off() -> None:
    assert osm.opening_hours(None, [(date(2026, 12, 24), date(2026, 12, 24))]) == ""
    assert osm.opening_hours(WeeklySchedule({})) == "off"


def test_a_single_day_closure() -> None:
    assert osm.closed(date(2026, 12, 24), date(2026, 12, 24)) == "2026 Dec 24 off"
