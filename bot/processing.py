"""How updates reach the handlers: different people's at once, one person's in order, each
account held to a limit before any handler, each update timed.

`TimedUpdateProcessor` handles up to `MAX_CONCURRENT_UPDATES` updates together, so that one
account's burst, or one slow request (a Caf's quarter, an export), does not keep everyone
else waiting. A person's own updates stay in strict arrival order, one at a time: drafts,
typed steps and double taps assume it, as ConversationHandler does. Updates without a
person (none are asked for today) wait in order by chat.

At its turn, and before any handler, each message or button tap is put to the account's
limit (`AccountGate`, the rule in bot/domain/rate_limit.py). What goes over it is dropped:
a tap is still answered, so that its spinner stops, and the person is told once per window.

What people send is parsed at its turn, not on arrival (`DeferredParsing`): long polling
brings up to 100 updates at a time, and python-telegram-bot parsing a message costs as much
as a quick answer; a flood of 150 parsed on arrival held up everyone's next update by as
many parsings. Telegram's JSON of a message or a tap waits beside the processor, and the
update the application queues in its place holds only its number; a dropped one is never
parsed at all. Updates that come otherwise (a webhook) arrive parsed and are put to the
limit the same way.

The timings (`listeners`) feed the benchmarks; tests use them to know exactly when the bot
has finished with an update instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, BaseUpdateProcessor
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.context import Services
from bot.domain.permissions import PersonStatus
from bot.domain.rate_limit import Account, Accounts, Limit, Verdict
from bot.ui.render import render
from storage import people
from storage.db import Database

log = logging.getLogger(__name__)

Listener = Callable[[object, float], None]
JSON = dict[str, Any]
AnyApp = Application[Any, Any, Any, Any, Any, Any]

#: Updates handled at the same time, each of a different person. Enough that a few slow
#: requests (a Caf's quarter counted, a file made in a child process) leave room for
#: everyone else; few enough that the database's lock, the event loop and the children of
#: bot/offload.py are not swamped.
MAX_CONCURRENT_UPDATES = 8
#: python-telegram-bot's own bound, on the updates entered in the processor: high, so that
#: it never holds an update back behind another person's queue (`MAX_CONCURRENT_UPDATES`,
#: applied to each person's turn, is the real bound).
_ENTERED_AT_MOST = 100_000
#: What people send: the kinds of update put to the limit and parsed at their turn.
_SENT = ("message", "callback_query")


# ---------------------------------------------------------------------------- arrivals
@dataclass(frozen=True)
class Arrival:
    """What the processor and the limit need to know of an update, read from Telegram's
    JSON (before parsing) or from the parsed update."""

    user_id: int | None = None
    chat_id: int | None = None
    private: bool = False
    callback_id: str | None = None  # a tap: the query to answer
    sent: bool = False  # a message or a tap, sent by a person: put to the limit
    start: bool = False  # "/start…": they may be registered once it is handled

    @property
    def lane(self) -> Hashable:
        """Whose turn it waits for: its person, else its chat."""
        if self.user_id is not None:
            return ("user", self.user_id)
        if self.chat_id is not None:
            return ("chat", self.chat_id)
        return ("other", None)

    @classmethod
    def of_json(cls, raw: JSON) -> Arrival:
        kind = next((k for k in _SENT if isinstance(raw.get(k), dict)), None)
        if kind is None:
            return cls()
        body: JSON = raw[kind]
        sender = _dict(body.get("from"))
        chat = _dict(_dict(body if kind == "message" else body.get("message")).get("chat"))
        text = body.get("text") if kind == "message" else None
        return cls(
            user_id=_int(sender.get("id")),
            chat_id=_int(chat.get("id")),
            private=chat.get("type") == ChatType.PRIVATE,
            callback_id=str(body["id"]) if kind == "callback_query" and "id" in body else None,
            sent=True,
            start=isinstance(text, str) and text.startswith("/start"),
        )

    @classmethod
    def of_update(cls, update: object) -> Arrival:
        if not isinstance(update, Update):
            return cls()
        user, chat = update.effective_user, update.effective_chat
        query, message = update.callback_query, update.message
        return cls(
            user_id=user.id if user else None,
            chat_id=chat.id if chat else None,
            private=chat is not None and chat.type == ChatType.PRIVATE,
            callback_id=query.id if query else None,
            sent=query is not None or message is not None,
            start=message is not None and (message.text or "").startswith("/start"),
        )


def _dict(value: object) -> JSON:
    return value if isinstance(value, dict) else {}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class DeferredParsing(HTTPXRequest):
    """getUpdates' connection (one, as python-telegram-bot's own): each message or tap is
    set aside in `held`, and the application gets an update holding only its number."""

    def __init__(self, held: dict[int, JSON]) -> None:
        super().__init__(connection_pool_size=1)
        self.held = held

    def parse_json_payload(self, payload: bytes) -> JSON:  # type: ignore[override]
        data: JSON = super().parse_json_payload(payload)
        result = data.get("result")
        if data.get("ok") is True and isinstance(result, list):
            data["result"] = [self._hold(raw) for raw in result]
        return data

    def _hold(self, raw: object) -> object:
        if not isinstance(raw, dict) or _int(raw.get("update_id")) is None:
            return raw
        if not any(isinstance(raw.get(kind), dict) for kind in _SENT):
            return raw
        self.held[raw["update_id"]] = raw
        return {"update_id": raw["update_id"]}


# ---------------------------------------------------------------------------- the limit
class AccountGate:
    """Each account's limit (bot/domain/rate_limit.py), with the settings' values; a
    monotonic clock, since it paces real seconds whatever the date."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.registered = Limit(settings.flood_registered_burst, settings.flood_registered_seconds)
        self.stranger = Limit(settings.flood_stranger_burst, settings.flood_stranger_seconds)
        self.accounts = Accounts()
        self._clock = clock

    async def admit(self, arrival: Arrival, ahead: bool, db: Database) -> Verdict:
        """PASS, or WARN / DROP; `ahead`: another update of theirs is still in the bot."""
        if not arrival.sent or arrival.user_id is None:
            return Verdict.PASS
        account = self.accounts.get(arrival.user_id)
        verdict = self._take(account, ahead)
        if verdict is Verdict.ASK:  # only past the strangers' limit: rare, then cached
            account.classify(await _registered(db, arrival.user_id), self._clock())
            verdict = self._take(account, ahead)
        if verdict is Verdict.PASS and arrival.start:
            account.forget_status()  # a code may make them registered
        if verdict is Verdict.WARN:
            log.warning(
                "Trop de messages d'un compte %s : ce qui dépasse sa limite est ignoré",
                "inscrit" if account.registered else "inconnu",
            )
        return verdict

    def _take(self, account: Account, ahead: bool) -> Verdict:
        return account.take(
            self._clock(), ahead=ahead, registered=self.registered, stranger=self.stranger
        )


async def _registered(db: Database, telegram_user_id: int) -> bool:
    member = await people.member_by_telegram_id(db, telegram_user_id)
    return member is not None and member.person.status is PersonStatus.ACTIVE


async def refuse(app: AnyApp, arrival: Arrival, *, warn: bool) -> None:
    """A dropped update: a tap is answered (its spinner stops) and does nothing; the person
    is told once per window, in a private chat (never in a group)."""
    if arrival.callback_id is not None:
        with contextlib.suppress(TelegramError):  # too old, or answered already
            await app.bot.answer_callback_query(arrival.callback_id)
    if warn and arrival.private and arrival.chat_id is not None:
        with contextlib.suppress(TelegramError):  # blocked: then they will not read it
            text = render("too_many_updates")
            await app.bot.send_message(arrival.chat_id, text, parse_mode=ParseMode.HTML)


# ---------------------------------------------------------------------------- the processor
@dataclass
class _Lane:
    """One person's updates: the one being handled and those waiting behind it."""

    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    inside: int = 0  # updates of this person in the processor


class TimedUpdateProcessor(BaseUpdateProcessor):
    """Up to `concurrency` people's updates at once, each person's in arrival order, each
    put to its account's limit (once `attach`ed), each timed for the `listeners`."""

    def __init__(self, concurrency: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates=_ENTERED_AT_MOST)
        self.concurrency = concurrency
        self.listeners: list[Listener] = []
        self.held: dict[int, JSON] = {}  # update_id → Telegram's JSON, not parsed yet
        self._slots = asyncio.Semaphore(concurrency)
        self._lanes: dict[Hashable, _Lane] = {}
        self._app: AnyApp | None = None
        self._gate: AccountGate | None = None

    def attach(self, app: AnyApp, gate: AccountGate) -> None:
        """The application whose updates these are (to parse and handle held ones) and the
        limit to put them to."""
        self._app, self._gate = app, gate

    def updates_request(self) -> DeferredParsing:
        """The connection getUpdates must use for the application's updates to be held."""
        return DeferredParsing(self.held)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Entered in arrival order: PTB starts one task per update, in order, and neither
        # its semaphore (never full) nor anything before the lane's lock yields.
        raw = self.held.pop(update.update_id, None) if isinstance(update, Update) else None
        arrival = Arrival.of_json(raw) if raw is not None else Arrival.of_update(update)
        lane = self._lanes.setdefault(arrival.lane, _Lane())
        ahead = lane.inside > 0
        lane.inside += 1
        started: float | None = None
        try:
            async with lane.turn, self._slots:  # asyncio's locks: first come, first served
                started = time.perf_counter()
                await self._handle(arrival, ahead, raw, coroutine)
        finally:
            elapsed = 0.0 if started is None else time.perf_counter() - started
            if asyncio.iscoroutine(coroutine):
                coroutine.close()  # not awaited (held, dropped or cancelled): nothing to run
            lane.inside -= 1
            if lane.inside == 0:
                del self._lanes[arrival.lane]
            for listener in list(self.listeners):
                listener(update, elapsed)

    async def _handle(
        self, arrival: Arrival, ahead: bool, raw: JSON | None, coroutine: Awaitable[Any]
    ) -> None:
        app, gate = self._app, self._gate
        if app is None or gate is None:
            await coroutine  # not attached (a harness of its own): as python-telegram-bot
            return
        services: Services = app.bot_data["services"]
        verdict = await gate.admit(arrival, ahead, services.db)
        if verdict is not Verdict.PASS:
            await refuse(app, arrival, warn=verdict is Verdict.WARN)
            return
        if raw is None:
            await coroutine
            return
        # The update queued held only its number (`DeferredParsing`): the real one now.
        # (Without arbitrary_callback_data, which this bot does not use, ExtBot adds
        # nothing to a parsed update.)
        await app.process_update(Update.de_json(raw, app.bot))

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
