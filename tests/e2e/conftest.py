"""What several journeys share beyond tests/conftest.py: a restart of the bot half-way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.sandbox.bot_api import FakeBotApi
from storage.db import Database
from tests.conftest import RunningBot, make_settings, start_bot, stop_bot

Restart = Callable[[], Awaitable[None]]


@pytest.fixture
async def restart(
    bot: RunningBot, fake: FakeBotApi, db: Database, clock: ManualClock, db_path: Path
) -> AsyncIterator[Restart]:
    """Stops the running bot, as a crash or a deployment would, and starts a new one on the
    same database and clock; the new one must have raised nothing by the end of the test."""
    restarted: list[RunningBot] = []

    async def again() -> None:
        await stop_bot(bot)
        restarted.append(await start_bot(fake, db, clock, make_settings(fake, db_path)))

    yield again
    for running in restarted:
        await stop_bot(running)
        assert not running.errors
