"""Reporting periods, the time zone's offset segments, and the transmission's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import indicators, taxonomy
from bot.domain.indicators import CountRows, Indicators, utc_offsets
from bot.domain.periods import (
    PeriodError,
    PeriodKind,
    from_code,
    month_of,
    parse_period,
    quarter_of,
    reminder_due,
    reporting_period_of,
)
from storage.period_reports import PeriodReport, ReportStatus

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("text", "first", "last", "label"),
    [
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31), "octobre 2026"),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28), "février 2026"),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29), "février 2028"),
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30), "3e trimestre 2026"),
        ("2026-q1", date(2026, 1, 1), date(2026, 3, 31), "1er trimestre 2026"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "année 2026"),
        (
            "2026-01-01..2026-03-31",
            date(2026, 1, 1),
            date(2026, 3, 31),
            "du 1er janvier 2026 au 31 mars 2026",
        ),
    ],
)
def test_the_four_written_forms(text: str, first: date, last: date, label: str) -> None:
    period = parse_period(text)
    assert (period.first, period.last, period.label) == (first, last, label)
    assert parse_period(period.key) == period


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-13",
        "2026-Q5",
        "26-10",
        "2026-02-30..2026-03-01",
        "2026-03-01..2026-01-01",
        "octobre",
        "2000-01-01..2026-01-01",
    ],
)
def test_unreadable_periods_say_what_is_expected(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


def test_bounds_run_from_local_midnight_to_local_midnight() -> None:
    start, end = parse_period("2026-Q1").bounds(PARIS)
    # Winter time at both ends: 23:00 UTC the day before.
    assert start.astimezone(UTC) == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 31, 22, tzinfo=UTC)  # summer time by then


def test_previous_and_next_periods() -> None:
    assert parse_period("2026-01").previous().key == "2025-12"
    assert parse_period("2026-Q1").previous().key == "2025-Q4"
    assert parse_period("2026-Q4").next().key == "2027-Q1"
    assert parse_period("2026-01-10..2026-01-19").previous().key == "2025-12-31..2026-01-09"
    assert reporting_period_of(date(2026, 11, 26), "quarterly").key == "2026-Q4"
    assert reporting_period_of(date(2026, 11, 26), "monthly").key == "2026-11"


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(9998, 12, 31)))
def test_codes_name_months_quarters_and_years_both_ways(day: date) -> None:
    for period in (month_of(day), quarter_of(day), parse_period(str(day.year))):
        assert from_code(period.code) == period
        assert period.contains(day)
        assert period.previous().next() == period


@pytest.mark.parametrize("code", [0, 1, 1_202_600, 1_202_613, 2_202_605, 3_202_601, 4_202_600])
def test_forged_codes_are_refused(code: int) -> None:
    with pytest.raises(PeriodError):
        from_code(code)


def test_weeks_are_the_mondays_of_the_weeks_touching_the_period() -> None:
    weeks = parse_period("2026-10").weeks()
    assert weeks[0] == date(2026, 9, 28) and weeks[-1] == date(2026, 10, 26)
    assert len(weeks) == 5 and parse_period("2026-10").kind is PeriodKind.MONTH


def test_utc_offsets_follow_summer_time() -> None:
    start, end = parse_period("2026").bounds(PARIS)
    assert utc_offsets(start, end, PARIS) == [
        (datetime(2025, 12, 31, 23, tzinfo=UTC), 60),
        (datetime(2026, 3, 29, 1, tzinfo=UTC), 120),
        (datetime(2026, 10, 25, 1, tzinfo=UTC), 60),
    ]
    start, end = parse_period("2026-12").bounds(PARIS)
    assert utc_offsets(start, end, PARIS) == [(start.astimezone(UTC), 60)]


def test_indicators_are_built_from_counted_rows_and_start_at_zero_for_every_option() -> None:
    rows = CountRows(
        visits=[(1, 3), (2, 1)],
        answers=[(1, "sexe", "femme", 2), (1, "sexe", "personne_morale", 1), (1, "age", None, 1)],
        cells=[(1, "paiements", "orientation", 2), (1, "paiements", "info_conseil", 1)],
        requests=[(1, "paiements", "oui", 2)],
        themes=[(2, "petite_enfance", 1)],
        local_hours=[(1, date(2026, 11, 23), 10, 3)],
    )
    sites = indicators.build(rows, PARIS)
    site = sites[1]
    assert site.visits == 3 and site.age_not_asked == 1
    assert site.profile["sexe"] == {"femme": 2, "homme": 0, "personne_morale": 1}
    assert set(site.profile) == {q.code for q in indicators.PER_VISIT}
    assert len(site.matrix) == len(taxonomy.DEMANDE.codes) * len(taxonomy.ACTION.codes)
    assert site.request_row_total("paiements") == 3 and site.requests["paiements"] == 2
    assert site.weekday_hour[(0, 10)] == 3
    assert site.by_week([date(2026, 11, 16), date(2026, 11, 23)]) == [
        (date(2026, 11, 16), 0),
        (date(2026, 11, 23), 3),
    ]
    whole = indicators.total(sites)
    assert whole.visits == 4 and whole.themes["petite_enfance"] == 1
    assert whole.top_requests() == [("paiements", 2)]
    comparison = indicators.Comparison.of(whole, Indicators(visits=2))
    assert comparison.visits.ratio == 1.0


def _report(due_on: date, reminders_sent: int = 0) -> PeriodReport:
    instant = datetime(2026, 10, 1, tzinfo=UTC)
    return PeriodReport(
        id=1,
        caf_id=1,
        partner_id=1,
        period="2026-Q3",
        starts_at=instant,
        ends_at=instant,
        due_on=due_on,
        asked_at=instant,
        status=ReportStatus.PENDING,
        validated_visits=None,
        validated_by=None,
        validated_at=None,
        modified_at=None,
        reminders_sent=reminders_sent,
        created_at=instant,
    )


def _due(report: PeriodReport, today: date) -> int:
    return reminder_due(report.due_on, report.reminders_sent, today)


def test_reminders_fall_on_day_5_and_day_10_after_the_period() -> None:
    quarter = parse_period("2026-Q3")
    report = _report(quarter.validation_due)
    assert quarter.validation_due == date(2026, 10, 10)
    assert _due(report, date(2026, 10, 4)) == 0
    assert _due(report, date(2026, 10, 5)) == 1
    assert _due(_report(quarter.validation_due, 1), date(2026, 10, 9)) == 0
    assert _due(_report(quarter.validation_due, 1), date(2026, 10, 10)) == 2
    # A bot down for a week sends the last one only.
    assert _due(report, date(2026, 10, 12)) == 2
    assert _due(_report(quarter.validation_due, 2), date(2026, 10, 30)) == 0
    assert report.late(date(2026, 10, 11)) and not report.late(date(2026, 10, 10))
