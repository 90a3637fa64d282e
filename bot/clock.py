"""The one source of "now" for the whole bot, so tests can move time.

Every "now" (visit times, undo windows, invitation expiry, reminders, periods) comes from a
`Clock`. Production uses `SystemClock`, always: `python -m bot` takes no clock from its
environment. Tests use `ManualClock` in process, and start bot subprocesses through
`python -m tests.clocked_bot`, which hands `bot.cli.main` a clock of the tests' own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> None:
        self._now += delta if delta is not None else timedelta(**kwargs)
