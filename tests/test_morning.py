"""The morning run's clock: each Caf's morning at NOTIFY_HOUR in its own zone, once a day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.jobs.morning import morning_due, next_run

REUNION, PARIS = ZoneInfo("Indian/Reunion"), ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("utc", "zone", "done_on", "due"),
    [
        # 5 h UTC: 9 h in Saint-Denis (UTC+4), 6 h in Paris (UTC+1 in winter).
        (datetime(2026, 12, 1, 5, 0, tzinfo=UTC), REUNION, "2026-11-30", date(2026, 12, 1)),
        (datetime(2026, 12, 1, 5, 0, tzinfo=UTC), PARIS, "2026-11-30", None),
        (datetime(2026, 12, 1, 8, 0, tzinfo=UTC), PARIS, "2026-11-30", date(2026, 12, 1)),
        # Done today already: nothing until tomorrow's hour.
        (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), PARIS, "2026-12-01", None),
        (datetime(2026, 12, 2, 7, 0, tzinfo=UTC), PARIS, "2026-12-01", None),
        (datetime(2026, 12, 2, 8, 0, tzinfo=UTC), PARIS, "2026-12-01", date(2026, 12, 2)),
        # Summer time: 9 h in Paris is 7 h UTC.
        (datetime(2027, 7, 1, 7, 0, tzinfo=UTC), PARIS, "2027-06-30", date(2027, 7, 1)),
        # 21 h UTC on 30 November is already 1 December, 1 h, in Saint-Denis: too early.
        (datetime(2026, 11, 30, 21, 0, tzinfo=UTC), REUNION, "2026-11-30", None),
        # Back after a week stopped, at 6 h: the missed morning (yesterday's) comes at once;
        # today's still comes at 9 h.
        (datetime(2026, 12, 8, 5, 0, tzinfo=UTC), PARIS, "2026-11-30", date(2026, 12, 7)),
        (datetime(2026, 12, 8, 8, 0, tzinfo=UTC), PARIS, "2026-12-07", date(2026, 12, 8)),
        # A Caf never served yet: its last morning is due.
        (datetime(2026, 12, 1, 15, 0, tzinfo=UTC), PARIS, None, date(2026, 12, 1)),
    ],
)
def test_a_cafs_morning_is_due_from_its_local_hour_once_a_day(
    utc: datetime, zone: ZoneInfo, done_on: str | None, due: date | None
) -> None:
    assert morning_due(utc, zone, 9, done_on) == due


def test_the_run_comes_back_on_the_next_full_hour() -> None:
    assert next_run(datetime(2026, 12, 1, 5, 0, tzinfo=UTC)) == datetime(
        2026, 12, 1, 6, 0, tzinfo=UTC
    )
    assert next_run(datetime(2026, 12, 1, 5, 59, 59, tzinfo=UTC)) == datetime(
        2026, 12, 1, 6, 0, tzinfo=UTC
    )
