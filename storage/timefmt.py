"""How instants are written in the database: UTC ISO 8601, to the second, one format only.

One format keeps text comparisons in SQL (`visited_at >= :start`) correct.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def to_db(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    return instant.astimezone(UTC).isoformat(timespec="seconds")


def date_to_db(day: date) -> str:
    return day.isoformat()
