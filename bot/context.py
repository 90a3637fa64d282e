"""The application's types: the services every callback reaches, its context, its bot.

Handlers (`conversations/`), jobs and the wiring all name these, so they live below all
three.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.clock import Clock
from bot.config import Settings
from storage.db import Database


def _nothing() -> None:
    """Default outbox wake-up: the sender polls anyway."""


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    # Called after a transaction that enqueued messages, so they leave at once.
    wake_outbox: Callable[[], None] = _nothing


# The application's bot: an `ExtBot` whose rate limiter (`AIORateLimiter`) takes an int, the
# retries to allow, as a call's `rate_limit_args`.
BotType = ExtBot[int]


class Ctx(CallbackContext[BotType, dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context, with the bot's services one attribute away."""

    @property
    def services(self) -> Services:
        services: Services = self.bot_data["services"]
        return services

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def settings(self) -> Settings:
        return self.services.settings


# The application as bot/app.py builds it (`ContextTypes(context=Ctx)`, `AIORateLimiter`).
# PTB's builder keeps its default job-queue type parameter when the context class changes;
# at run time the queue hands its jobs a `Ctx` all the same.
BotApp = Application[
    BotType,
    Ctx,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]
