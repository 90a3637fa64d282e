"""Keeps each broadcast's progress message up to date, then shows its final figures.

A broadcast leaves through the outbox; this loop asks the broadcast service for the
broadcasts still 'sending' (each marked 'sent' once none of its messages is waiting) and
edits the coordinator's message (at most once per interval, and only when the figures
changed). Started by bot/app.py (`start_progress`) beside the outbox sender, it runs on the
monotonic clock like the sender, and state lives in the database, so after a restart it
simply picks up where it was. Each broadcast's times are shown in its own Caf's zone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.clock import Clock
from bot.domain.models import Announcement
from bot.services import broadcasts
from bot.ui.screens import broadcast as screen
from storage.db import Database

log = logging.getLogger(__name__)


class BroadcastProgress:
    def __init__(self, bot: Bot, db: Database, clock: Clock, interval: float) -> None:
        self._bot = bot
        self._db = db
        self._clock = clock
        self._interval = interval
        self._shown: dict[int, str] = {}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("Suivi des diffusions : erreur")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)

    async def tick(self) -> None:
        for a in await broadcasts.settle_sending(self._db, self._clock.now()):
            await self._show(a)

    async def _show(self, a: Announcement) -> None:
        if a.progress_chat_id is None or a.progress_message_id is None:
            return
        figures, tz = await broadcasts.figures(self._db, a), await broadcasts.zone(self._db, a)
        text, markup = screen.detail(a, figures, tz)
        if self._shown.get(a.id) == text:
            return
        try:
            await self._bot.edit_message_text(
                text,
                chat_id=a.progress_chat_id,
                message_id=a.progress_message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.info("Suivi de la diffusion %d : message non modifiable (%s)", a.id, exc)
        except TelegramError as exc:
            log.info("Suivi de la diffusion %d : %s", a.id, type(exc).__name__)
            return
        self._shown[a.id] = text
        if a.status == "sent":
            self._shown.pop(a.id, None)
