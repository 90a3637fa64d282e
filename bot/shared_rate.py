"""Telegram's overall send cap (TELEGRAM_MAX_RATE) shared by every live instance.

Telegram counts a bot's calls whoever makes them: two instances each sending at the full
cap would send twice too fast. Each instance's limiter therefore lets through its share,
the cap divided by the number of live instances (their heartbeats, storage/lease.py), which
bot/jobs/leadership.py recounts at every heartbeat. Equal shares rather than a counter in
the database: one round trip per call would cost more than the call, and an instance that
sends little leaves its share unused, which only errs on the safe side. While an instance
joins or leaves, the others learn it at their next heartbeat (a second or two): the cap
may be exceeded by that much then, and Telegram's `RetryAfter` covers the rest.

A subclass of PTB's `AIORateLimiter`, which keeps doing everything (per-group limits,
`RetryAfter` retries; the outbox sender recognises it, bot/jobs/outbox_sender.py): only its
overall `AsyncLimiter` is replaced by one of the new rate when the share changes. That
limiter is PTB's private `_base_limiter`, the one thing PTB offers no setter for (PTB 22;
tests/test_telegram_max_rate.py and tests/test_leadership.py read it back). Calls already
waiting finish on the old one.
"""

from __future__ import annotations

import logging

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)


def _limiter(rate: float) -> AsyncLimiter:
    """`rate` calls a second; below one a second, one call every 1/rate seconds
    (`AsyncLimiter` cannot take a fraction of a call)."""
    if rate >= 1:
        return AsyncLimiter(max_rate=rate, time_period=1)
    return AsyncLimiter(max_rate=1, time_period=1 / rate)


class SharedRateLimiter(AIORateLimiter):
    """`AIORateLimiter` whose overall cap is `total_rate / instances`."""

    def __init__(self, total_rate: float, *, max_retries: int) -> None:
        if total_rate <= 0:
            raise ValueError("total_rate must be > 0")
        super().__init__(overall_max_rate=total_rate, max_retries=max_retries)
        self.total_rate = total_rate
        self.instances = 1
        self._base_limiter = _limiter(total_rate)

    @property
    def rate(self) -> float:
        """This instance's calls a second."""
        return self.total_rate / self.instances

    def share(self, instances: int) -> None:
        """`instances` are live (this one included): take one share of the cap."""
        instances = max(1, instances)
        if instances == self.instances:
            return
        self.instances = instances
        self._base_limiter = _limiter(self.rate)
        log.info(
            "Envois vers Telegram : %g par seconde pour cette instance (%d en service)",
            self.rate,
            instances,
        )
