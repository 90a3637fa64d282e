"""Updates are handled one at a time, and each is timed.

Drafts and flows assume one update at a time per bot (as ConversationHandler does); the
timings feed the throughput benchmark, and tests use `listeners` to know exactly when the
bot has finished with an update instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.ext import BaseUpdateProcessor

Listener = Callable[[object, float], None]


class TimedSerialUpdateProcessor(BaseUpdateProcessor):
    def __init__(self) -> None:
        super().__init__(max_concurrent_updates=1)
        self.listeners: list[Listener] = []

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = time.perf_counter()
        try:
            await coroutine
        finally:
            elapsed = time.perf_counter() - started
            for listener in list(self.listeners):
                listener(update, elapsed)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
