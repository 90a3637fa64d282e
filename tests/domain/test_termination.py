"""A notice of termination's effective date (Article 11): a term, three months ahead."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.termination import (
    TerminationDateError,
    allowed_terms,
    check_effective,
    earliest_effective,
    parse_effective,
    takes_effect_at,
)

START = date(2025, 3, 10)  # terms on 10 March; notice by 10 December


@pytest.mark.parametrize(
    ("today", "earliest"),
    [
        (date(2026, 11, 26), date(2027, 3, 10)),
        (date(2026, 12, 10), date(2027, 3, 10)),  # the deadline itself is still in time
        (date(2026, 12, 11), date(2028, 3, 10)),  # too late for 2027: the next term
        (date(2025, 3, 10), date(2026, 3, 10)),  # the day of the signature
    ],
)
def test_the_earliest_end_is_the_first_term_whose_notice_deadline_is_not_past(
    today: date, earliest: date
) -> None:
    assert earliest_effective(START, today) == earliest
    assert allowed_terms(START, today)[0] == earliest


def test_a_later_term_is_allowed() -> None:
    today = date(2026, 11, 26)
    assert allowed_terms(START, today) == [date(2027, 3, 10), date(2028, 3, 10), date(2029, 3, 10)]
    assert check_effective(START, today, date(2028, 3, 10)) == date(2028, 3, 10)


def test_a_month_end_start_ends_on_the_clamped_anniversary() -> None:
    start = date(2024, 2, 29)
    assert earliest_effective(start, date(2024, 11, 1)) == date(2025, 2, 28)


@pytest.mark.parametrize(
    ("wanted", "said"),
    [
        (date(2026, 12, 15), "trop tôt"),
        (date(2027, 3, 9), "trop tôt"),
        (date(2027, 3, 15), "n'est pas une échéance"),
        (date(2035, 3, 10), "n'est pas une échéance"),
    ],
)
def test_a_date_the_convention_does_not_allow_says_the_earliest(wanted: date, said: str) -> None:
    with pytest.raises(TerminationDateError) as refused:
        check_effective(START, date(2026, 11, 26), wanted)
    assert said in str(refused.value)
    assert "Au plus tôt : le 10/03/2027" in str(refused.value)
    assert refused.value.earliest == date(2027, 3, 10)


def test_a_typed_date() -> None:
    today = date(2026, 11, 26)
    assert parse_effective("10/03/2027", START, today) == date(2027, 3, 10)
    assert parse_effective("10 mars 2028", START, today) == date(2028, 3, 10)
    with pytest.raises(TerminationDateError):
        parse_effective("n'importe quand", START, today)


def test_the_label_ends_at_the_morning_hour_in_the_cafs_zone() -> None:
    paris = takes_effect_at(date(2027, 3, 10), ZoneInfo("Europe/Paris"), 9)
    assert paris.astimezone(UTC) == datetime(2027, 3, 10, 8, 0, tzinfo=UTC)
    reunion = takes_effect_at(date(2027, 3, 10), ZoneInfo("Indian/Reunion"), 9)
    assert reunion.astimezone(UTC) == datetime(2027, 3, 10, 5, 0, tzinfo=UTC)
