"""The one sender that drains the outbox (storage/outbox.py) at Telegram's limits.

Why a sender of its own rather than PTB's `AIORateLimiter`: the limiter caps the overall rate
and groups, not the one message a second per private chat; and on `RetryAfter` it sleeps
inside the call while the row would stay 'sending'. Here every outcome is written back to
the row (deliveries in groups, below), so a crash loses nothing and doubles only what was in
flight.

Limits (real time, `time.monotonic`, never the injectable clock: they are about Telegram,
not about the bot's calendar):
- overall: one send every `1 / max_rate` seconds, each slot planned from the previous one's
  due time rather than from when the waiting send woke up (`Pacing`);
- per chat: one send every `per_chat_interval` seconds, and a group (negative chat id) at
  most `group_per_minute` sends in any `group_window` seconds;
- `RetryAfter`: every send pauses for the time Telegram asks; the row goes back to
  'pending' without counting an attempt.

Deliveries are recorded in groups: those that come back within `SENT_GROUP_SECONDS` of the
first are written together (one transaction, one commit, instead of one each). A crash then
doubles what was sent but not yet written, which the database still shows as 'sending': in
flight, as before.

The sender knows nothing of what it sends (no domain logic) and never logs message text:
only row ids, kinds and error types.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter

from bot.clock import Clock
from storage import outbox
from storage.db import Database
from storage.outbox import OutboxMessage

log = logging.getLogger(__name__)
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove

OnSent = Callable[[OutboxMessage], Awaitable[None] | None]

#: After an unexpected error (e.g. the database), `run` waits this long before going on.
ERROR_PAUSE_SECONDS = 1.0

#: A backoff never grows beyond this (a high `max_attempts` must not mean "in a week").
MAX_BACKOFF_SECONDS = 3600.0

#: Waits up to this long are plain sleeps; longer ones (a `RetryAfter` pause) are cut short
#: by `stop`. Waiting on the stop event costs a task and a timer per wait, too much for the
#: wait before every send at hundreds a second.
SHORT_WAIT_SECONDS = 0.05

#: The first delivery of a group waits this long for others, then they are written together:
#: at hundreds a second one commit (and its fsync) serves several rows instead of one. A
#: delivery shows as 'sending' that much longer (a crash then sends it again, as any send in
#: flight); at Telegram's 30 a second, one send in 33 ms, most groups hold one row.
SENT_GROUP_SECONDS = 0.01

#: Keyboards kept decoded: a broadcast's rows all carry the same one.
MARKUP_CACHE_SIZE = 64

#: True while this context's task is in a send of the outbox (see `HandledRetryAfterFilter`).
_SENDING: contextvars.ContextVar[bool] = contextvars.ContextVar("outbox_sending", default=False)


class _NoRetries(int):
    """Zero retries, as `AIORateLimiter` rate-limit arguments.

    The limiter reads `rate_limit_args or max_retries`: a plain 0 is falsy and would fall
    back to the application's default (3 retries, sleeping inside the call while the row
    stays 'sending'). This zero is truthy, so the limiter makes one try and raises
    `RetryAfter` to us.
    """

    def __bool__(self) -> bool:
        return True


NO_RETRIES = _NoRetries(0)


class HandledRetryAfterFilter(logging.Filter):
    """Drops the limiter's ERROR, with a traceback, for a 429 met by an outbox send.

    `AIORateLimiter` logs « Rate limit hit after maximum of 0 retries » at ERROR when it
    hands a `RetryAfter` to its caller; for the outbox that is the expected path (the sender
    pauses, puts the row back and logs one WARNING line). The same record from any other
    call, a direct reply that ran out of retries, is a real error and goes through.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        handled = (
            _SENDING.get()
            and record.exc_info is not None
            and isinstance(record.exc_info[1], RetryAfter)
        )
        return not handled


#: PTB's logger for `AIORateLimiter` (telegram/ext/_aioratelimiter.py `_LOGGER`).
LIMITER_LOGGER = "telegram.ext.AIORateLimiter"
_HANDLED_RETRY_AFTER = HandledRetryAfterFilter()


class Pacing:
    """The overall cap: one slot every `interval` seconds.

    The next slot is planned from the due time of the one just taken, not from when the
    waiting send woke up: an event loop always wakes a little late (epoll counts in whole
    milliseconds), and planning from the wake-up added that delay to every interval (11 % of
    the rate at 200 a second, more at higher rates). At most one late slot is caught up, so
    after an idle spell two sends may leave back to back, never more.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.next_slot = 0.0
        self.paused_until = 0.0

    def wait(self, now: float) -> float:
        """Seconds until a slot is free (≤ 0: one is free now)."""
        return max(self.next_slot, self.paused_until) - now

    def take(self, now: float) -> None:
        """Takes the free slot (call only when `wait(now) <= 0`)."""
        due = max(self.next_slot, self.paused_until)
        self.next_slot = max(due, now - self.interval) + self.interval

    def pause(self, until: float) -> None:
        self.paused_until = max(self.paused_until, until)


class _Countdown:
    """Set `zero` once `done` has been called `count` times."""

    def __init__(self, count: int) -> None:
        self._left = count
        self.zero = asyncio.Event()
        if count <= 0:
            self.zero.set()

    def done(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self.zero.set()


@dataclass
class _SentGroup:
    """Deliveries to record in one transaction: (row id, Telegram message id, when)."""

    rows: list[tuple[int, int, datetime]] = field(default_factory=list)
    written: asyncio.Event = field(default_factory=asyncio.Event)
    error: BaseException | None = None


def _markup(stored: str | None, bot: Bot) -> ReplyMarkup | None:
    """A stored keyboard: inline buttons, a new main menu, or the menu's removal."""
    if not stored:
        return None
    data = json.loads(stored)
    if "inline_keyboard" in data:
        return InlineKeyboardMarkup.de_json(data, bot)
    if "keyboard" in data:
        return ReplyKeyboardMarkup.de_json(data, bot)
    if data.get("remove_keyboard") is True:
        return ReplyKeyboardRemove.de_json(data, bot)
    raise ValueError("unknown keyboard in the outbox")


def _retry_seconds(exc: RetryAfter) -> float:
    """The pause Telegram asks for (read without PTB's int-vs-timedelta deprecation)."""
    value = getattr(exc, "_retry_after", None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    raw = exc.retry_after
    return raw.total_seconds() if isinstance(raw, timedelta) else float(raw)


def _file_id(row: OutboxMessage) -> str:
    """The Telegram file id of a 'photo' or 'document' row (its writers always set one)."""
    if row.media is None:
        raise ValueError(f"ligne {row.id} : {row.media_kind} sans identifiant de fichier")
    return row.media


def _error_text(exc: BaseException) -> str:
    """What is stored as `last_error`: Telegram's description, never the message text."""
    text = str(exc) if isinstance(exc, TelegramError) else f"{type(exc).__name__}: {exc}"
    return text[:500]


class OutboxSender:
    """Claims due outbox rows in batches and sends them, pacing and classifying errors.

    One instance per process (rows are claimed atomically, but pacing state is in memory).
    """

    def __init__(
        self,
        bot: Bot,
        db: Database,
        clock: Clock,
        *,
        max_rate: float = 25.0,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        max_attempts: int = 5,
        backoff_base: float = 2.0,
        batch_size: int = 50,
        group_window: float = 60.0,
        idle_interval: float = 0.2,
        on_sent: OnSent | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_rate <= 0 or batch_size <= 0 or max_attempts <= 0 or group_per_minute <= 0:
            raise ValueError("max_rate, batch_size, max_attempts, group_per_minute must be > 0")
        self._bot = bot
        self._db = db
        self._clock = clock
        self._per_chat_interval = per_chat_interval
        self._group_per_minute = group_per_minute
        self._group_window = group_window
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._batch_size = batch_size
        self._idle_interval = idle_interval
        self.on_sent = on_sent
        # Through PTB's AIORateLimiter (the application's bot), but without its retries; its
        # ERROR line for each 429 is dropped, the sender logging its own.
        self._send_kwargs: dict[str, Any] = {}
        if isinstance(getattr(bot, "rate_limiter", None), AIORateLimiter):
            self._send_kwargs["rate_limit_args"] = NO_RETRIES
            logging.getLogger(LIMITER_LOGGER).addFilter(_HANDLED_RETRY_AFTER)
        # Pacing state, all in seconds of `monotonic` (real time; tests pass a fake one).
        self._monotonic = monotonic
        self._pacing = Pacing(1.0 / max_rate)
        self._chat_ready: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._slot_lock = asyncio.Lock()
        self._sent_group: _SentGroup | None = None
        self._markups: dict[str, ReplyMarkup | None] = {}
        self._wake = asyncio.Event()
        self._stop: asyncio.Event | None = None

    # ------------------------------------------------------------------ public
    def wake(self) -> None:
        """Something was enqueued: drain now instead of at the end of the idle sleep."""
        self._wake.set()

    @property
    def paused_for(self) -> float:
        """Seconds left of a `RetryAfter` pause (0 when sending freely)."""
        return max(0.0, self._pacing.paused_until - self._monotonic())

    async def drain_once(self) -> int:
        """Claims one batch of due rows and sends it; returns how many were tried.

        Chats still being paced are left out of the claim; when only they have due rows,
        this waits for the first of them to be ready, so 0 means "nothing is due".
        """
        sends = await self._start_batch()
        # Every send runs to its end (and records its outcome) even if one fails.
        results = await asyncio.gather(*sends, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return sum(bool(result) for result in results)

    async def run(self, stop: asyncio.Event) -> None:
        """Drains until `stop` is set; first puts rows left 'sending' by a crash back.

        Each batch is claimed as soon as the previous one's last send has had its slot,
        while its answers are still coming back: waiting for them, and for their outcomes
        to be written, left a gap of several slots between batches at hundreds a second.
        Never dies on an error (a database hiccup is logged and retried a second later).
        On stop, rows claimed but not yet tried go back to 'pending', and sends in flight
        finish and record their outcome.
        """
        self._stop = stop
        in_flight: set[asyncio.Task[bool]] = set()
        failures: list[BaseException] = []

        def finished(task: asyncio.Task[bool]) -> None:
            in_flight.discard(task)
            if not task.cancelled() and (error := task.exception()) is not None:
                failures.append(error)
            self._wake.set()  # a row may be due again (a 429): look at once

        recovered = False
        try:
            while not stop.is_set():
                try:
                    if not recovered:  # retried like a batch: a takeover may meet a hiccup
                        count = await outbox.recover_in_flight(self._db, self._clock.now())
                        recovered = True
                        if count:
                            log.warning(
                                "Outbox : %d message(s) en cours lors de l'arrêt, renvoyés", count
                            )
                    if failures:
                        raise failures.pop(0)
                    sends = await self._start_batch()
                except Exception:
                    log.exception("Outbox : erreur pendant l'envoi d'un lot")
                    await self._sleep(ERROR_PAUSE_SECONDS)
                    continue
                for task in sends:
                    in_flight.add(task)
                    task.add_done_callback(finished)
                if sends or stop.is_set():
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle_interval)
                self._wake.clear()
        finally:
            await asyncio.gather(*in_flight, return_exceptions=True)
            for failure in failures:
                log.error("Outbox : erreur pendant l'envoi d'un lot", exc_info=failure)
            self._stop = None

    async def _start_batch(self) -> list[asyncio.Task[bool]]:
        """Claims a batch and starts its sends; returns once each has had its slot (sent, or
        given back on stop), the last answers still to come. [] when nothing is due."""
        while True:
            cooling = self._cooling_chats()
            batch = await outbox.claim_batch(
                self._db, self._clock.now(), self._batch_size, exclude_chat_ids=cooling.keys()
            )
            if batch:
                slotted = _Countdown(len(batch))
                sends = [asyncio.create_task(self._send_one(row, slotted.done)) for row in batch]
                await slotted.zero.wait()
                return sends
            if not cooling:
                return []
            waiting = await outbox.due_chats(self._db, self._clock.now(), cooling.keys())
            if not waiting:
                return []
            if not await self._sleep(min(cooling[chat] for chat in waiting) - self._monotonic()):
                return []

    # ------------------------------------------------------------------ pacing
    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def _sleep(self, delay: float) -> bool:
        """Sleeps (cut short by the stop event); False if the sender is stopping."""
        if delay > 0:
            if self._stop is None or delay <= SHORT_WAIT_SECONDS:
                await asyncio.sleep(delay)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
        return not self._stopping()

    def _cooling_chats(self) -> dict[int, float]:
        """Chats that cannot be sent to yet, with the instant they can (forgets the past)."""
        now = self._monotonic()
        for chat_id in [c for c, ready in self._chat_ready.items() if ready <= now]:
            del self._chat_ready[chat_id]
        for chat_id in [
            c
            for c, sends in self._group_sends.items()
            if not sends or sends[-1] <= now - self._group_window
        ]:
            del self._group_sends[chat_id]
        return dict(self._chat_ready)

    def _note_send(self, chat_id: int) -> None:
        """Records a send to a chat: it is next ready after the interval or group quota."""
        now = self._monotonic()
        ready = now + self._per_chat_interval
        if chat_id < 0:
            sends = self._group_sends.setdefault(chat_id, deque())
            sends.append(now)
            while sends and sends[0] <= now - self._group_window:
                sends.popleft()
            if len(sends) >= self._group_per_minute:
                ready = max(ready, sends[-self._group_per_minute] + self._group_window)
        self._chat_ready[chat_id] = max(ready, self._chat_ready.get(chat_id, 0.0))

    async def _acquire_slot(self) -> bool:
        """Waits for the next overall send slot (and the end of any pause); False on stop."""
        async with self._slot_lock:
            if self._stopping():
                return False
            while (delay := self._pacing.wait(self._monotonic())) > 0:
                if not await self._sleep(delay):
                    return False
            self._pacing.take(self._monotonic())
            return True

    # ------------------------------------------------------------------ sending
    async def _send_one(self, row: OutboxMessage, slotted: Callable[[], None]) -> bool:
        """Sends one claimed row and records the outcome; False if it was not tried.

        `slotted` is called once the row has had its slot, or will not have one.
        """
        try:
            acquired = await self._acquire_slot()
        finally:
            slotted()
        if not acquired:
            await outbox.release(self._db, row.id, self._clock.now())
            return False
        self._note_send(row.chat_id)
        sending = _SENDING.set(True)
        try:
            message = await self._deliver(row)
        except RetryAfter as exc:
            seconds = _retry_seconds(exc)
            self._pacing.pause(self._monotonic() + seconds)
            log.warning(
                "Outbox : Telegram demande une pause de %.1f s (trop d'envois) ; "
                "tous les envois attendent, ligne %d remise en file",
                seconds,
                row.id,
            )
            await outbox.release(self._db, row.id, self._clock.now(), error=_error_text(exc))
        except Forbidden as exc:
            await self._unreachable(row, exc)
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                await self._unreachable(row, exc)
            else:
                log.warning("Outbox : ligne %d (%s) refusée par Telegram", row.id, row.kind)
                await outbox.mark_failed(self._db, row.id, _error_text(exc), self._clock.now())
        except (NetworkError, TelegramError) as exc:
            # TimedOut, 5xx and the like: Telegram may be back in a moment.
            await self._retry_or_fail(row, exc)
        except Exception as exc:
            # A bug (e.g. a malformed keyboard): retrying cannot help. Logged by type only:
            # an exception's text might quote what was being sent.
            log.error(
                "Outbox : ligne %d (%s) impossible à envoyer (%s)",
                row.id,
                row.kind,
                type(exc).__name__,
            )
            await outbox.mark_failed(self._db, row.id, _error_text(exc), self._clock.now())
        else:
            await self._record_sent(row.id, message.message_id)
            await self._notify_sent(row, message.message_id)
        finally:
            _SENDING.reset(sending)
        return True

    async def _record_sent(self, row_id: int, message_id: int) -> None:
        """Marks a row sent, with the deliveries that come back within `SENT_GROUP_SECONDS`.

        The first delivery of a group waits that long, then writes the group in one
        transaction (one commit and its fsync, instead of one each); the others wait for
        that write. Returns once this row is written; raises if its group's write failed.
        """
        group = self._sent_group
        leader = group is None
        if group is None:
            group = self._sent_group = _SentGroup()
        group.rows.append((row_id, message_id, self._clock.now()))
        if not leader:
            await group.written.wait()
            if group.error is not None:
                raise group.error
            return
        try:
            await asyncio.sleep(SENT_GROUP_SECONDS)
            self._sent_group = None  # later deliveries start the next group
            async with self._db.transaction() as tx:
                for sent_id, sent_message_id, sent_at in group.rows:
                    await outbox.mark_sent(tx, sent_id, sent_message_id, sent_at)
        except BaseException as exc:
            if self._sent_group is group:
                self._sent_group = None
            group.error = exc
            raise
        finally:
            group.written.set()

    async def _deliver(self, row: OutboxMessage) -> Message:
        """One Bot API call: the text, or the file with the text as its caption."""
        markup = self._decoded_markup(row.reply_markup)
        common: dict[str, Any] = {
            "parse_mode": ParseMode.HTML,
            "reply_markup": markup,
            **self._send_kwargs,
        }
        if row.media_kind == "photo":
            photo = _file_id(row)
            return await self._bot.send_photo(row.chat_id, photo, caption=row.text, **common)
        if row.media_kind == "document":
            document = _file_id(row)
            return await self._bot.send_document(row.chat_id, document, caption=row.text, **common)
        if row.media_kind == "generated":
            content = InputFile((row.media or "").encode("utf-8"), filename=row.media_name)
            return await self._bot.send_document(row.chat_id, content, caption=row.text, **common)
        return await self._bot.send_message(row.chat_id, row.text, **common)

    def _decoded_markup(self, stored: str | None) -> ReplyMarkup | None:
        """The row's keyboard, decoded once per distinct JSON (PTB's objects are frozen)."""
        if not stored:
            return None
        markup = self._markups.get(stored)
        if markup is None:
            markup = _markup(stored, self._bot)
            if len(self._markups) >= MARKUP_CACHE_SIZE:
                self._markups.clear()
            self._markups[stored] = markup
        return markup

    async def _unreachable(self, row: OutboxMessage, exc: TelegramError) -> None:
        others = await outbox.mark_unreachable(
            self._db, row.id, _error_text(exc), self._clock.now()
        )
        log.info(
            "Outbox : destinataire injoignable (ligne %d, %s) ; %d autre(s) ligne(s) écartée(s)",
            row.id,
            type(exc).__name__,
            others,
        )

    async def _retry_or_fail(self, row: OutboxMessage, exc: TelegramError) -> None:
        attempts = row.attempts + 1
        now = self._clock.now()
        if attempts >= self._max_attempts:
            log.warning(
                "Outbox : ligne %d (%s) abandonnée après %d essais (%s)",
                row.id,
                row.kind,
                attempts,
                type(exc).__name__,
            )
            await outbox.mark_failed(self._db, row.id, _error_text(exc), now)
            return
        delay = min(self._backoff_base**attempts, MAX_BACKOFF_SECONDS)
        log.info(
            "Outbox : ligne %d, essai %d échoué (%s), nouvel essai dans %.1f s",
            row.id,
            attempts,
            type(exc).__name__,
            delay,
        )
        await outbox.mark_retry(
            self._db, row.id, _error_text(exc), now + timedelta(seconds=delay), now
        )

    async def _notify_sent(self, row: OutboxMessage, message_id: int) -> None:
        """Runs the `on_sent` hook with the row as sent; its failures never stop sending."""
        if self.on_sent is None:
            return
        sent = row.model_copy(
            update={
                "status": outbox.OutboxStatus.SENT,
                "telegram_message_id": message_id,
                "sent_at": self._clock.now(),
            }
        )
        try:
            result = self.on_sent(sent)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("Outbox : le rappel on_sent a échoué (ligne %d)", row.id)
