"""The pure rules of events: the number of places typed, the reminders at the Caf's hour in
the Caf's zone, the answer deadline offered in one tap, the times checked together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.events import (
    MAX_CAPACITY,
    CapacityError,
    Why,
    default_deadline,
    parse_capacity,
    reminders,
    validate_times,
)

PARIS, REUNION = ZoneInfo("Europe/Paris"), ZoneInfo("Indian/Reunion")
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "places"),
    [
        ("37", 37),
        (" 37 ", 37),
        ("37 places", 37),
        ("1 place", 1),
        ("1 000", 1000),
        ("1\u202f000 personnes", 1000),
        ("10000", MAX_CAPACITY),
        ("Sans limite", None),
        ("illimité", None),
    ],
)
def test_any_whole_number_of_places_from_1_to_10_000(typed: str, places: int | None) -> None:
    assert parse_capacity(typed) == places


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("trente", Why.BAD_CAPACITY),
        ("12,5", Why.BAD_CAPACITY),
        ("3.5", Why.BAD_CAPACITY),
        ("", Why.BAD_CAPACITY),
        ("37 ou 40", Why.BAD_CAPACITY),
        ("0", Why.TOO_FEW_PLACES),
        ("-3", Why.TOO_FEW_PLACES),
        ("10 001", Why.TOO_MANY_PLACES),
        ("99999999999999999999", Why.TOO_MANY_PLACES),
    ],
)
def test_anything_else_is_refused_with_its_reason(typed: str, why: Why) -> None:
    with pytest.raises(CapacityError) as refused:
        parse_capacity(typed)
    assert refused.value.why is why


def test_reminders_fall_at_the_cafs_hour_in_the_cafs_zone() -> None:
    for zone in (PARIS, REUNION):
        start = datetime(2026, 12, 15, 14, 0, tzinfo=zone)
        deadline = datetime(2026, 12, 13, 23, 59, 59, tzinfo=zone)
        found = {r.key: r for r in reminders(start, deadline, NOW, zone=zone, hour=9)}
        assert {key: r.due_at.astimezone(zone) for key, r in found.items()} == {
            "j7": datetime(2026, 12, 8, 9, 0, tzinfo=zone),
            "j1": datetime(2026, 12, 14, 9, 0, tzinfo=zone),
            "deadline": datetime(2026, 12, 11, 9, 0, tzinfo=zone),
        }
        assert found["deadline"].to_unanswered and not found["j1"].to_unanswered
    paris = reminders(
        datetime(2026, 12, 15, 13, tzinfo=UTC), NOW + timedelta(days=10), NOW, zone=PARIS, hour=9
    )
    reunion = reminders(
        datetime(2026, 12, 15, 10, tzinfo=UTC), NOW + timedelta(days=10), NOW, zone=REUNION, hour=9
    )
    assert paris[1].due_at - reunion[1].due_at == timedelta(hours=3)


def test_a_change_of_summer_time_keeps_the_reminders_hour() -> None:
    # Summer time starts on Sunday 28 March 2027: the week before is still winter time.
    start = datetime(2027, 3, 30, 14, 0, tzinfo=PARIS)
    [week, day, _] = reminders(start, start - timedelta(days=2), NOW, zone=PARIS, hour=9)
    assert week.due_at.astimezone(UTC) == datetime(2027, 3, 23, 8, 0, tzinfo=UTC)
    assert day.due_at.astimezone(UTC) == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)


def test_only_the_reminders_still_ahead_are_planned() -> None:
    start = NOW + timedelta(days=3)
    keys = [r.key for r in reminders(start, start - timedelta(days=1), NOW, zone=PARIS, hour=9)]
    assert keys == ["j1"]


def test_the_deadline_offered_is_the_first_still_ahead() -> None:
    assert default_deadline(NOW + timedelta(days=10), NOW) == 2
    assert default_deadline(NOW + timedelta(days=1, hours=12), NOW) == 1
    assert default_deadline(NOW + timedelta(hours=3), NOW) == 0
    assert default_deadline(NOW, NOW) is None


def test_times_are_checked_together() -> None:
    start = NOW + timedelta(days=5)
    end = start + timedelta(hours=3)

    def check(**changes: datetime) -> Why | None:
        times = {"starts_at": start, "ends_at": end, "deadline": start - timedelta(days=1)}
        return validate_times(**(times | changes), now=NOW)

    assert check() is None
    assert check(starts_at=NOW) is Why.PAST
    assert check(ends_at=start) is Why.END_FIRST
    assert check(deadline=end) is Why.DEADLINE_AFTER_START
    assert check(deadline=NOW) is Why.DEADLINE_OVER
