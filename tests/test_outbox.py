"""The outbox and its sender, against the fake Bot API and a real SQLite file.

The sender is driven with a real `telegram.Bot` (PTB's own request encoding and error
mapping), so a 429, a 403 or a 500 reaches it exactly as Telegram's would. Pacing tests run
the sender on virtual time (`VirtualTime`): its waits advance a clock of the test's instead of
sleeping, so intervals are exact whatever the machine's load. Real rates are measured by
benchmarks/broadcast.py. The queue itself (storage/outbox.py) has its contract tests in
tests/storage/test_outbox.py.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Bot
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, ExtBot

from bot.clock import ManualClock
from bot.jobs.outbox_sender import OutboxSender
from bot.sandbox.bot_api import TOKEN, FakeBotApi
from storage import outbox
from storage.db import Database
from storage.outbox import OutboxMessage, OutboxStatus
from storage.timefmt import to_db
from tests.conftest import Network

SECRET = "Madame Dupont, dossier 0612345678"


@pytest.fixture
async def tg(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url) as bot:
        yield bot


def make_sender(tg: Bot, db: Database, clock: ManualClock, **options: Any) -> OutboxSender:
    """A sender fast enough for tests unless a test asks for real limits."""
    defaults: dict[str, Any] = {
        "max_rate": 1000.0,
        "per_chat_interval": 0.01,
        "backoff_base": 0.01,
    }
    return OutboxSender(tg, db, clock, **(defaults | options))


async def drain_all(sender: OutboxSender, db: Database, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Drains until nothing is pending or in flight (what `run` would do, without idling)."""
    deadline = time.monotonic() + timeout
    while True:
        await sender.drain_once()
        left = await outbox.counts(db)
        if left[OutboxStatus.PENDING] == 0 and left[OutboxStatus.SENDING] == 0:
            return
        assert time.monotonic() < deadline, f"outbox not drained: {left}"
        await asyncio.sleep(0.005)


async def add(
    db: Database,
    clock: ManualClock,
    chat_id: int,
    key: str,
    *,
    text: str = "Votre site est <b>suspendu</b>.",
    person_id: int | None = None,
    reply_markup: dict[str, Any] | None = None,
) -> None:
    async with db.transaction() as tx:
        assert await outbox.enqueue(
            tx,
            kind="label_notice",
            dedup_key=key,
            chat_id=chat_id,
            text=text,
            person_id=person_id,
            reply_markup=reply_markup,
            now=clock.now(),
        )


async def add_person(db: Database, network: Network, telegram_user_id: int) -> int:
    now = to_db(network.clock.now())
    person_id = await db.execute(
        "INSERT INTO people (telegram_user_id, display_name, role, caf_id, partner_id,"
        " joined_at, last_seen_at) VALUES (?, 'Agnès', 'agent', ?, ?, ?, ?)",
        (telegram_user_id, network.caf.id, network.site.id, now, now),
    )
    assert person_id is not None
    return person_id


async def rows(db: Database) -> list[OutboxMessage]:
    found = await db.fetch_all("SELECT id FROM outbox ORDER BY id")
    result = [await outbox.get(db, row["id"]) for row in found]
    return [row for row in result if row is not None]


def sent_chats(fake: FakeBotApi) -> list[int | None]:
    return [call.chat_id for call in fake.calls_to("sendMessage")]


class VirtualTime:
    """The sender's monotonic clock, moved only by its own waits: each ends `late` seconds
    after it was due, as an event loop's do. `sent` notes each send's chat and instant."""

    def __init__(self, late: float = 0.0) -> None:
        self.now = 100.0
        self.late = late
        self.sent: list[tuple[int, float]] = []

    def __call__(self) -> float:
        return self.now

    def install(self, sender: OutboxSender, monkeypatch: pytest.MonkeyPatch) -> None:
        async def sleep(delay: float) -> bool:
            self.now += max(delay, 0.0) + self.late
            await asyncio.sleep(0)
            return True

        deliver = sender._deliver

        async def noted(row: OutboxMessage) -> Any:
            self.sent.append((row.chat_id, self.now))
            return await deliver(row)

        monkeypatch.setattr(sender, "_sleep", sleep)
        monkeypatch.setattr(sender, "_deliver", noted)

    def times(self, chat_id: int) -> list[float]:
        return [at for chat, at in self.sent if chat == chat_id]

    @property
    def elapsed(self) -> float:
        return self.now - 100.0


# ---------------------------------------------------------------------------- sending
async def test_drain_sends_every_row_once_and_keeps_the_message_id(
    fake: FakeBotApi, tg: Bot, db: Database, clock: ManualClock
) -> None:
    chats = [fake.user(100 + n).user_id for n in range(5)]
    keyboard = {"inline_keyboard": [[{"text": "Voir", "callback_data": "m:visit"}]]}
    for n, chat in enumerate(chats):
        await add(db, clock, chat, f"k{n}", reply_markup=keyboard if n == 0 else None)
    seen: list[OutboxMessage] = []
    sender = make_sender(tg, db, clock, on_sent=seen.append)

    await drain_all(sender, db)
    await drain_all(sender, db)  # nothing left: no second send

    assert sorted(c for c in sent_chats(fake) if c is not None) == chats
    for row in await rows(db):
        assert row.status is OutboxStatus.SENT
        assert row.sent_at == clock.now()
        assert row.telegram_message_id == fake.messages(row.chat_id)[-1].message_id
    assert fake.messages(chats[0])[-1].labels == ["Voir"]
    assert "suspendu" in (fake.messages(chats[1])[-1].text or "")
    assert sorted(row.chat_id for row in seen) == chats
    assert all(row.status is OutboxStatus.SENT and row.telegram_message_id for row in seen)


async def test_retry_after_pauses_all_sending_without_counting_an_attempt(
    fake: FakeBotApi, tg: Bot, db: Database, clock: ManualClock
) -> None:
    first, second, third = (fake.user(201 + n).user_id for n in range(3))
    for n, chat in enumerate((first, second, third)):
        await add(db, clock, chat, f"k{n}")
    fake.fail("sendMessage", status=429, retry_after=1, chat_id=first)
    # 5 messages/s: the sender was idle, so the second leaves with the first (one slot
    # caught up); the 429 is back long before the third slot.
    sender = make_sender(tg, db, clock, max_rate=5.0)

    await drain_all(sender, db)

    calls = fake.calls_to("sendMessage")
    assert [c.chat_id for c in calls] == [first, second, third, first]
    # Lower bounds only, which no load can break: the pause starts when the 429 is back,
    # after the first call arrived. (The caught-up slot is timed on virtual time below.)
    assert calls[2].at - calls[0].at >= 0.95  # everyone waited, not only the flooded chat
    assert calls[3].at - calls[0].at >= 0.95
    assert all(r.status is OutboxStatus.SENT and r.attempts == 0 for r in await rows(db))


async def test_blocked_user_is_unreachable_with_all_their_pending_rows(
    fake: FakeBotApi, tg: Bot, db: Database, clock: ManualClock, network: Network
) -> None:
    blocked, other = fake.user(301), fake.user(302)
    person = await add_person(db, network, blocked.user_id)
    for n in range(3):
        await add(db, clock, blocked.user_id, f"b{n}", person_id=person)
    await add(db, clock, other.user_id, "o")
    blocked.block()

    await drain_all(sender := make_sender(tg, db, clock), db)
    await sender.drain_once()

    assert sent_chats(fake).count(blocked.user_id) == 1  # one 403, then no more tries
    by_chat = {(r.chat_id, r.dedup_key): r for r in await rows(db)}
    assert by_chat[(other.user_id, "o")].status is OutboxStatus.SENT
    theirs = [r for (chat, _), r in by_chat.items() if chat == blocked.user_id]
    assert [r.status for r in theirs] == [OutboxStatus.UNREACHABLE] * 3
    assert "blocked" in (theirs[0].last_error or "")
    assert await outbox.unreachable_since(db, person) == clock.now()

    assert await outbox.clear_unreachable(db, person)
    assert await outbox.unreachable_since(db, person) is None


async def test_chat_not_found_is_unreachable(
    fake: FakeBotApi, tg: Bot, db: Database, clock: ManualClock
) -> None:
    await add(db, clock, 999_999, "gone")  # a chat the fake (Telegram) does not know

    await drain_all(make_sender(tg, db, clock), db)

    (row,) = await rows(db)
    assert row.status is OutboxStatus.UNREACHABLE
    assert "chat not found" in (row.last_error or "").lower()
    assert len(fake.calls_to("sendMessage")) == 1


async def test_a_message_telegram_refuses_fails_at_once(
    fake: FakeBotApi, tg: Bot, db: Database, clock: ManualClock
) -> None:
    chat = fake.user(401).user_id
    await add(db, clock, chat, "bad", text="<marquee>non</marquee>")

    await drain_all(make_sender(tg, db, clock), db)

    (row,) = await rows(db)
    assert row.status is OutboxStatus.FAILED
    assert row.attempts == 1
    assert "can't parse entities" in (row.last_error or "").lower()
    assert len(fake.calls_to("sendMessage")) == 1


async def test_server_errors_are_retried_then_sent(
    fake: FakeBotApi, tg: Bot, db: Database, clock: ManualClock
) -> None:
    chat = fake.user(501).user_id
    await add(db, clock, chat, "k")
    fake.fail("sendMessage", status=500, times=2)

    await drain_all(make_sender(tg, db, clock), db)

    (row,) = await rows(db)
    assert row.status is OutboxStatus.SENT
    assert row.attempts == 2
    assert sent_chats(fake) == [chat, chat, chat]
    assert len(fake.messages(chat)) == 1


async def test_server_errors_forever_fail_after_max_attempts(
    fake: FakeBotApi, tg: Bot, db: Database, clock: ManualClock
) -> None:
    chat = fake.user(502).user_id
    await add(db, clock, chat, "k")
    fake.fail("sendMessage", status=500, times=100)

    await drain_all(make_sender(tg, db, clock, max_attempts=3), db)

    (row,) = await rows(db)
    assert row.status is OutboxStatus.FAILED
    assert row.attempts == 3
    assert "Internal Server Error" in (row.last_error or "")
    assert len(fake.calls_to("sendMessage")) == 3


async def test_backoff_follows_the_clock(
    fake: FakeBotApi, tg: Bot, db: Database, clock: ManualClock
) -> None:
    """A retry waits `backoff_base ** attempts` seconds of the injectable clock."""
    chat = fake.user(503).user_id
    await add(db, clock, chat, "k")
    fake.fail("sendMessage", status=500, times=1)
    sender = make_sender(tg, db, clock, backoff_base=2.0)

    assert await sender.drain_once() == 1
    assert await sender.drain_once() == 0  # not before 2 s: nothing due
    (row,) = await rows(db)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    clock.advance(seconds=2)
    await drain_all(sender, db)
    assert (await rows(db))[0].status is OutboxStatus.SENT


async def test_messages_to_one_chat_leave_in_order(
    fake: FakeBotApi, tg: Bot, db: Database, clock: ManualClock
) -> None:
    """A later notice never overtakes an earlier one, even while that one backs off."""
    chat = fake.user(601).user_id
    for n in range(3):
        await add(db, clock, chat, f"k{n}", text=f"Avis {n}")
    fake.fail("sendMessage", status=500, times=1)

    await drain_all(make_sender(tg, db, clock), db)

    assert [m.text for m in fake.messages(chat)] == ["Avis 0", "Avis 1", "Avis 2"]


# ---------------------------------------------------------------------------- pacing
async def test_one_chat_is_paced_while_other_chats_go_at_the_overall_rate(
    fake: FakeBotApi,
    tg: Bot,
    db: Database,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    busy = fake.user(700).user_id
    others = [fake.user(701 + n).user_id for n in range(20)]
    for n in range(3):
        await add(db, clock, busy, f"busy{n}")
    for chat in others:
        await add(db, clock, chat, f"other{chat}")
    time_ = VirtualTime()
    sender = make_sender(tg, db, clock, max_rate=200.0, per_chat_interval=0.2, monotonic=time_)
    time_.install(sender, monkeypatch)

    # The first batch holds the busy chat's first message and every other chat's: the 20
    # other chats do not queue behind the busy one.
    assert await sender.drain_once() == 21
    assert sorted(c for c in sent_chats(fake) if c != busy) == others
    assert all(at < 100.2 for chat, at in time_.sent if chat != busy)
    await drain_all(sender, db)

    busy_times = time_.times(busy)
    assert len(busy_times) == 3
    gaps = [b - a for a, b in itertools.pairwise(busy_times)]
    assert gaps == [pytest.approx(0.2), pytest.approx(0.2)], gaps
    assert time_.elapsed == pytest.approx(0.4)
    assert sorted(c for c in sent_chats(fake) if c != busy) == others
    assert len(fake.calls_to("sendMessage")) == 23


async def test_a_group_gets_at_most_its_quota_per_window(
    fake: FakeBotApi,
    tg: Bot,
    db: Database,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = fake.group(-100_123, "Équipe Caf").chat_id
    for n in range(3):
        await add(db, clock, group, f"g{n}")
    time_ = VirtualTime()
    sender = make_sender(tg, db, clock, group_per_minute=2, group_window=0.5, monotonic=time_)
    time_.install(sender, monkeypatch)

    await drain_all(sender, db)

    assert [c.chat_id for c in fake.calls_to("sendMessage")] == [group] * 3
    first, second, third = time_.times(group)
    assert second - first < 0.5  # two within the window…
    assert third - first == pytest.approx(0.5)  # …the third once the first has left it


async def test_overall_rate_is_capped(
    fake: FakeBotApi,
    tg: Bot,
    db: Database,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chats = [fake.user(800 + n).user_id for n in range(30)]
    for chat in chats:
        await add(db, clock, chat, f"k{chat}")
    time_ = VirtualTime()
    sender = make_sender(tg, db, clock, max_rate=100.0, monotonic=time_)
    time_.install(sender, monkeypatch)

    await drain_all(sender, db)

    # 30 sends: the first two together (the sender was idle), then one every 10 ms.
    assert len(fake.calls_to("sendMessage")) == 30
    instants = [at for _, at in time_.sent]
    assert instants[1] == instants[0]
    assert [b - a for a, b in itertools.pairwise(instants[1:])] == [pytest.approx(0.01)] * 28
    assert time_.elapsed == pytest.approx(0.28)


async def test_the_sender_keeps_its_cap_on_a_clock_that_wakes_it_late(
    fake: FakeBotApi,
    tg: Bot,
    db: Database,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """40 sends at 100 a second on a clock whose every sleep ends 4 ms late: 38 intervals
    (the first two together), not 39 × 14 ms."""
    chats = [fake.user(1300 + n).user_id for n in range(40)]
    for chat in chats:
        await add(db, clock, chat, f"k{chat}")
    time_ = VirtualTime(late=0.004)
    sender = make_sender(tg, db, clock, max_rate=100.0, monotonic=time_)
    time_.install(sender, monkeypatch)
    await drain_all(sender, db)

    assert sorted(c for c in sent_chats(fake) if c is not None) == chats
    assert 0.38 <= time_.elapsed <= 0.39


async def test_deliveries_that_come_back_together_are_written_in_one_transaction(
    fake: FakeBotApi,
    tg: Bot,
    db: Database,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chats = [fake.user(1400 + n).user_id for n in range(6)]
    for chat in chats:
        await add(db, clock, chat, f"k{chat}")
    claimed = await outbox.claim_batch(db, clock.now(), 10)
    sender = make_sender(tg, db, clock)
    transactions = 0
    real = db.transaction

    def counted() -> Any:
        nonlocal transactions
        transactions += 1
        return real()

    monkeypatch.setattr(db, "transaction", counted)

    await asyncio.gather(*(sender._record_sent(row.id, 500 + row.id) for row in claimed[:5]))
    assert transactions == 1
    await sender._record_sent(claimed[5].id, 999)  # alone: written on its own
    assert transactions == 2

    stored = {row.id: row for row in await rows(db)}
    assert all(stored[row.id].status is OutboxStatus.SENT for row in claimed)
    assert [stored[row.id].telegram_message_id for row in claimed] == [
        *(500 + row.id for row in claimed[:5]),
        999,
    ]


async def test_a_429_to_the_outbox_is_one_warning_while_a_failed_reply_stays_an_error(
    fake: FakeBotApi, db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """PTB's limiter logs each 429 it hands back at ERROR with a traceback; the outbox
    handles its own (pause, row back in the queue), so only the sender's WARNING is left."""
    caplog.set_level(logging.DEBUG)
    chat = fake.user(1501).user_id
    await add(db, clock, chat, "k")
    fake.fail("sendMessage", status=429, retry_after=1, chat_id=chat)
    limiter = AIORateLimiter(max_retries=0)
    limited = ExtBot(TOKEN, base_url=fake.base_url, rate_limiter=limiter)
    async with limited:
        sender = make_sender(limited, db, clock)  # type: ignore[arg-type]
        assert await sender.drain_once() == 1
        outbox_records = [(r.name, r.levelname) for r in caplog.records if r.levelno >= 30]
        assert outbox_records == [("bot.jobs.outbox_sender", "WARNING")], caplog.text
        assert "pause de 1.0 s" in caplog.text and "Traceback" not in caplog.text

        # The same 429 on a call of anyone else (a direct reply) is still an error.
        caplog.clear()
        fake.fail("sendMessage", status=429, retry_after=1, chat_id=chat)
        with pytest.raises(RetryAfter):
            await limited.send_message(chat, "Bonjour")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["telegram.ext.AIORateLimiter"]
    assert errors[0].exc_info is not None


async def test_the_applications_rate_limiter_does_not_retry_for_the_sender(
    fake: FakeBotApi, db: Database, clock: ManualClock
) -> None:
    """Through `AIORateLimiter(max_retries=3)` the sender still sees the 429 at once."""
    chat = fake.user(901).user_id
    await add(db, clock, chat, "k")
    fake.fail("sendMessage", status=429, retry_after=1)
    limited = ExtBot(TOKEN, base_url=fake.base_url, rate_limiter=AIORateLimiter(max_retries=3))
    async with limited:
        sender = make_sender(limited, db, clock)  # type: ignore[arg-type]
        assert await sender.drain_once() == 1
    (row,) = await rows(db)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert len(fake.calls_to("sendMessage")) == 1  # the limiter did not retry inside
    assert sender.paused_for > 0.5


# ---------------------------------------------------------------------------- run, crash
async def test_rows_in_flight_at_a_crash_are_sent_once_more(
    fake: FakeBotApi, tg: Bot, db: Database, clock: ManualClock
) -> None:
    chats = [fake.user(1000 + n).user_id for n in range(3)]
    for chat in chats:
        await add(db, clock, chat, f"k{chat}")
    # The crashed process had claimed them all and got the first one out.
    claimed = await outbox.claim_batch(db, clock.now(), 10)
    assert [r.chat_id for r in claimed] == chats
    await tg.send_message(chats[0], claimed[0].text, parse_mode="HTML")
    assert await outbox.claim_batch(db, clock.now(), 10) == []  # claimed once only

    stop = asyncio.Event()
    sender = make_sender(tg, db, clock)
    task = asyncio.create_task(sender.run(stop))
    deadline = time.monotonic() + 10
    while (await outbox.counts(db))[OutboxStatus.SENT] < 3:
        assert time.monotonic() < deadline, fake.describe_calls()
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # an idle round: nothing more goes out
    stop.set()
    await asyncio.wait_for(task, timeout=2)

    assert sorted(c for c in sent_chats(fake) if c is not None) == sorted([chats[0], *chats])
    assert all(r.status is OutboxStatus.SENT for r in await rows(db))


async def test_run_wakes_on_enqueue_and_releases_untried_rows_on_stop(
    fake: FakeBotApi, tg: Bot, db: Database, clock: ManualClock
) -> None:
    stop = asyncio.Event()
    sender = make_sender(tg, db, clock, max_rate=2.0)
    task = asyncio.create_task(sender.run(stop))
    await asyncio.sleep(0.05)
    chats = [fake.user(1100 + n).user_id for n in range(5)]
    for chat in chats:
        await add(db, clock, chat, f"k{chat}")
    sender.wake()

    await fake.wait_for(lambda: len(fake.calls_to("sendMessage")) >= 1, timeout=2)
    stop.set()
    await asyncio.wait_for(task, timeout=2)

    left = await outbox.counts(db)
    assert left[OutboxStatus.SENDING] == 0
    assert left[OutboxStatus.SENT] == len(fake.calls_to("sendMessage")) < 5
    assert all(r.attempts == 0 for r in await rows(db))


async def test_run_claims_the_next_batch_while_the_last_answers_are_still_coming(
    db: Database, clock: ManualClock
) -> None:
    """A batch's sends have all had their slot: the next batch is claimed and paced at once,
    without waiting for Telegram's answers (here none comes until the end)."""

    class SlowTelegram:
        def __init__(self) -> None:
            self.sent: list[int] = []
            self.answer = asyncio.Event()

        async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
            self.sent.append(chat_id)
            await self.answer.wait()
            return SimpleNamespace(message_id=chat_id)

    telegram = SlowTelegram()
    for chat in range(1, 7):
        await add(db, clock, chat, f"k{chat}")
    sender = make_sender(telegram, db, clock, batch_size=2)  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    deadline = time.monotonic() + 5
    while len(telegram.sent) < 6:
        assert time.monotonic() < deadline, f"only {telegram.sent} went out"
        await asyncio.sleep(0.01)
    assert (await outbox.counts(db))[OutboxStatus.SENDING] == 6

    telegram.answer.set()
    while (await outbox.counts(db))[OutboxStatus.SENT] < 6:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=2)
    assert sorted(telegram.sent) == [1, 2, 3, 4, 5, 6]


async def test_the_sender_never_logs_message_text(
    fake: FakeBotApi,
    tg: Bot,
    db: Database,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.jobs.outbox_sender")
    blocked, flaky, fine = fake.user(1201), fake.user(1202), fake.user(1203)
    blocked.block()
    fake.fail("sendMessage", status=500, times=1, chat_id=flaky.user_id)
    for chat in (blocked.user_id, flaky.user_id, fine.user_id, 999_998):
        await add(db, clock, chat, f"k{chat}", text=SECRET)
    await add(db, clock, fine.user_id, "bad", text=f"<marquee>{SECRET}</marquee>")
    await add(db, clock, fine.user_id, "bad-markup", text=SECRET, reply_markup={"no": "pe"})

    await drain_all(make_sender(tg, db, clock, max_attempts=2), db)

    messages = [r.getMessage() for r in caplog.records if r.name == "bot.jobs.outbox_sender"]
    assert messages, "the sender logs its outcomes"
    assert not any(SECRET in m or "marquee" in m for m in messages)
    statuses = sorted(r.status.value for r in await rows(db))
    assert statuses == ["failed", "failed", "sent", "sent", "unreachable", "unreachable"]
