"""Issue #8: a broadcast to 10,000 people through the outbox, Telegram refusing some sends.

    python -m benchmarks.broadcast [--recipients 10000] [--cap 1000 [--cap 200 …]]
                                   [--runs 3] [--rate-429 0.02] [--rate-403 0.01] [--readme]
                                   [--only outbox|bare] [--keep] [--profile PATH]
                                   [--connection-pool N]

Each `--cap` is measured on its own (BROADCAST_MAX_RATE and TELEGRAM_MAX_RATE both set to
it), `--runs` times for each sender, runs of every cap and sender interleaved.

Each run, in a fresh measuring process:
1. A database (migrations as the bot applies them) holding one Caf, its sites, its
   coordinator and `--recipients` people, inserted with SQL (fast); the fake Bot API of
   bot/sandbox/bot_api.py on 127.0.0.1, knowing every one of them.
2. The bot as `python -m bot run` would start it (bot.cli `main(["run"])`, polling, its
   outbox sender and progress loop), in a process of its own with BROADCAST_MAX_RATE and
   TELEGRAM_MAX_RATE (AIORateLimiter's overall cap, which the outbox's sends count against)
   both set to the cap.
3. Once the bot polls and its start-up work is done, the broadcast is sent as the
   coordinator's « ✅ Oui, envoyer » does (the same service, bot/services/broadcasts.py
   `send_now`): in one transaction, its progress message noted, `announcements.send`
   writing one outbox row per recipient, the audit entry. The fake then answers
   `--rate-429` of the sendMessage calls with 429 (retry_after 1 s) and `--rate-403` with
   403, which blocks that chat for good (`FakeBotApi.fail_rate`, a seed per run).
4. It waits until no row of the broadcast is pending or in flight, then checks every
   recipient against what the fake received.

Achieved rate = sendMessage calls ÷ the time from the first call to the last answer, less
the pauses Telegram asked for (the union of [429 answered, + retry_after]); calls made
during a pause (sent before the 429 came back) are counted apart. Lost = recipients neither
delivered nor marked unreachable or failed, or marked sent without a delivery.
Duplicates = recipients who received the message more than once.

Baseline, in the same run: `bare`, a python-telegram-bot `ExtBot` in a process of its own,
without database, sending the same message to the same chats against the same fake and the
same faults, the same AIORateLimiter (overall cap = the cap, no retries) and the outbox
sender's own pacing (`bot.jobs.outbox_sender.Pacing`; every send paused for the time a 429 asks,
a 403'd chat dropped, up to 50 in flight).
It shows what python-telegram-bot, the fake and this machine allow; the gap between the two
is the outbox's own cost (claims, writes, ordering).

Diagnosis (not for the README's figures): `--profile PATH` runs the sending process under
cProfile; `--connection-pool N` changes the HTTP client's pool size, in both senders.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import common
from bot.sandbox.bot_api import TOKEN, FakeBotApi

NAME = "broadcast"
KINDS = ("outbox", "bare")
COORDINATOR_TELEGRAM_ID = 1
FIRST_TELEGRAM_ID = 100_000
SITES = 100
MANAGERS_PER_SITE = 1
BATCH = 50  # the outbox sender's batch size, and the bare sender's sends in flight
RETRY_AFTER = 1
TARGET_RATIO = 0.95
BODY = (
    "Bonjour à toutes et à tous,\n\nLa Caf sera <b>fermée le mercredi 24 décembre</b> "
    "après-midi. Les demandes reçues ce jour-là seront traitées dès le vendredi 26. "
    "Pensez à prévenir les personnes que vous accompagnez.\n\nMerci, bonne journée !"
)


# ---------------------------------------------------------------------------- the fake
class RecordingFake(FakeBotApi):
    """The fake Bot API noting, for every sendMessage, when it was answered and how."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[tuple[float, int | None, int]] = []  # (answered at, chat, status)
        self.delivered: list[tuple[float, int, str]] = []  # (answered at, chat, text sent)

    async def _inject_faults(self, call: Any) -> None:
        try:
            await super()._inject_faults(call)
        except Exception as exc:
            if call.method == "sendMessage":
                self.refused.append((time.monotonic(), call.chat_id, getattr(exc, "status", 0)))
            raise

    async def _send_message(self, params: dict[str, Any]) -> Any:
        try:
            result = await super()._send_message(params)
        except Exception as exc:
            chat_id = int(params.get("chat_id") or 0)
            self.refused.append((time.monotonic(), chat_id, getattr(exc, "status", 0)))
            raise
        self.delivered.append((time.monotonic(), int(params["chat_id"]), str(params["text"])))
        return result


# ---------------------------------------------------------------------------- the data
def _fill(path: Path, recipients: int) -> None:
    """One Caf, its sites, its coordinator and `recipients` people (managers and agents)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        stamp = "2026-09-01T08:00:00+00:00"
        conn.execute("BEGIN")
        caf_id = conn.execute(
            "INSERT INTO cafs (name, reporting_period, timezone, created_at)"
            " VALUES ('Caf du banc d''essai', 'quarterly', 'Europe/Paris', ?)",
            (stamp,),
        ).lastrowid
        sites = [
            conn.execute(
                "INSERT INTO partners (caf_id, name, city, address, label_status,"
                " label_status_since, created_at) VALUES (?, ?, ?, '', 'active', ?, ?)",
                (caf_id, f"Point numérique {n:03d}", f"Commune {n:03d}", stamp, stamp),
            ).lastrowid
            for n in range(1, SITES + 1)
        ]
        conn.execute(
            "INSERT INTO people (telegram_user_id, display_name, role, caf_id, partner_id,"
            " joined_at, last_seen_at) VALUES (?, 'Coordination', 'coordinator', ?, NULL, ?, ?)",
            (COORDINATOR_TELEGRAM_ID, caf_id, stamp, stamp),
        )
        conn.executemany(
            "INSERT INTO people (telegram_user_id, display_name, role, caf_id, partner_id,"
            " joined_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    FIRST_TELEGRAM_ID + n,
                    f"Personne {n}",
                    "manager" if n < SITES * MANAGERS_PER_SITE else "agent",
                    caf_id,
                    sites[n % SITES],
                    stamp,
                    stamp,
                )
                for n in range(recipients)
            ),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


async def _create_schema(path: Path) -> None:
    from storage.setup import open_storage

    db = await open_storage(path)
    await db.close()


async def _send_broadcast(path: Path, progress_message_id: int) -> tuple[int, int, str]:
    """What « ✅ Oui, envoyer » does once the coordinator confirms (the bot's own service);
    returns (id, recipients, text)."""
    from bot.clock import SystemClock
    from bot.services import broadcasts
    from bot.ui.screens.broadcast import recipient_text
    from storage import announcements, people
    from storage.db import Database

    db = Database(path)
    await db.open(migrate=False)
    try:
        now = SystemClock().now()
        member = await people.member_by_telegram_id(db, COORDINATOR_TELEGRAM_ID)
        assert member is not None
        async with db.transaction() as tx:
            draft = await announcements.create(
                tx,
                caf_id=member.caf.id,
                author_id=member.person.id,
                body=BODY,
                media_kind=None,
                media_file_id=None,
                media_name=None,
                now=now,
            )
            await announcements.update(tx, draft.id, now, must_read=1)
        progress = broadcasts.ProgressMessage(COORDINATOR_TELEGRAM_ID, progress_message_id)
        sent = await broadcasts.send_now(db, member, draft.id, now, progress)
        fresh = sent.report.announcement
        return fresh.id, sent.count, recipient_text(fresh)
    finally:
        await db.close()


def _statuses(path: Path, kind: str | None) -> Counter[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute(
            "SELECT status, COUNT(*) FROM outbox WHERE ? IS NULL OR kind = ? GROUP BY status",
            (kind, kind),
        ).fetchall()
    finally:
        conn.close()
    return Counter({status: n for status, n in rows})


def _rows(path: Path, kind: str) -> list[tuple[int, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(
            "SELECT chat_id, status FROM outbox WHERE kind = ? ORDER BY id", (kind,)
        ).fetchall()
    finally:
        conn.close()


# ---------------------------------------------------------------------------- processes
def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _environment(fake: FakeBotApi, path: Path, rate: float) -> dict[str, str]:
    return common.bot_environment(
        fake.base_url,
        fake.base_file_url,
        path,
        POLLING_TIMEOUT_SECONDS="10",
        BROADCAST_MAX_RATE=str(rate),
        TELEGRAM_MAX_RATE=str(rate),
    )


POOL_VARIABLE = "BENCHMARK_CONNECTION_POOL"


def bot_main() -> None:
    """The bot as `python -m bot run` runs it (for `--connection-pool`, its HTTP connection
    pool resized)."""
    pool = os.environ.get(POOL_VARIABLE)
    if pool:
        from telegram.ext import ApplicationBuilder

        build = ApplicationBuilder.build

        def resized(self: ApplicationBuilder) -> Any:  # type: ignore[type-arg]
            self.connection_pool_size(int(pool))
            return build(self)

        ApplicationBuilder.build = resized  # type: ignore[method-assign]
    from bot.cli import main

    sys.exit(main(["run"]))


def _load_job(chats_file: Path, text_file: Path) -> tuple[deque[int], str, str | None]:
    text, markup = json.loads(text_file.read_text())
    return deque(json.loads(chats_file.read_text())), text, markup


async def bare_main(chats_file: Path, text_file: Path, rate: float) -> None:
    """The baseline sender: python-telegram-bot and a pacing loop, nothing else."""
    from telegram.error import Forbidden, RetryAfter
    from telegram.ext import AIORateLimiter, ExtBot
    from telegram.request import HTTPXRequest

    from bot.jobs.outbox_sender import NO_RETRIES, Pacing, _retry_seconds

    chats, text, markup = _load_job(chats_file, text_file)
    bot = ExtBot(
        TOKEN,
        base_url=os.environ["TELEGRAM_API_BASE_URL"],
        # ApplicationBuilder's default, unless `--connection-pool`
        request=HTTPXRequest(connection_pool_size=int(os.environ.get(POOL_VARIABLE) or 256)),
        # As bot/app.py `rate_limiter` builds it with TELEGRAM_MAX_RATE = the cap.
        rate_limiter=AIORateLimiter(overall_max_rate=rate, max_retries=3),
    )
    from telegram import InlineKeyboardMarkup

    keyboard = InlineKeyboardMarkup.de_json(json.loads(markup), bot) if markup else None
    pacing = Pacing(1.0 / rate)
    slot_lock = asyncio.Lock()
    in_flight: set[asyncio.Task[None]] = set()

    async def send(chat_id: int) -> None:
        try:
            await bot.send_message(
                chat_id,
                text,
                parse_mode="HTML",
                reply_markup=keyboard,
                rate_limit_args=NO_RETRIES,
            )
        except RetryAfter as exc:
            pacing.pause(time.monotonic() + _retry_seconds(exc))
            chats.append(chat_id)
        except Forbidden:
            pass

    async def acquire() -> None:
        async with slot_lock:
            while (delay := pacing.wait(time.monotonic())) > 0:  # noqa: ASYNC110 - a timer
                await asyncio.sleep(delay)
            pacing.take(time.monotonic())

    async with bot:
        while chats or in_flight:
            if not chats or len(in_flight) >= BATCH:
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                in_flight = {task for task in in_flight if not task.done()}
                continue
            await acquire()
            task = asyncio.create_task(send(chats.popleft()))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
    # What the harness reads: this process's CPU time and peak RSS, exactly.
    print(json.dumps({"cpu_seconds": time.process_time(), "peak_rss_kib": common.vm_hwm_kib()}))


# ---------------------------------------------------------------------------- measuring
@dataclass
class Run:
    kind: str
    seed: int
    recipients: int = 0
    calls: int = 0
    calls_in_pauses: int = 0
    window_seconds: float = 0.0
    paused_seconds: float = 0.0
    pauses: int = 0
    delivered: int = 0
    refused_403: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    duplicates: int = 0
    got_429: int = 0
    got_429_delivered_later: int = 0
    got_429_then_403: int = 0
    got_429_lost: int = 0  # answered 429, then neither delivered nor blocked
    restart_ms: float = 0.0  # median, from a pause's end to the next call the fake receives
    other_sends: int = 0
    cpu_seconds: float = 0.0
    fake_cpu_seconds: float = 0.0
    peak_rss_kib: int = 0
    ptb_flood_errors: int = 0  # PTB's ERROR log line (with a traceback) for a 429
    pause_warnings: int = 0  # the outbox sender's WARNING line for a 429
    total_seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    problems: list[str] = field(default_factory=list)

    @property
    def active_seconds(self) -> float:
        return self.window_seconds - self.paused_seconds

    @property
    def rate(self) -> float:
        """sendMessage calls outside the pauses ÷ the time outside them."""
        return (self.calls - self.calls_in_pauses) / self.active_seconds


def _union(intervals: list[tuple[float, float]], low: float, high: float) -> float:
    """Length of the union of intervals, clipped to [low, high]."""
    total, end = 0.0, low
    for start, stop in sorted(intervals):
        start, stop = max(start, end, low), min(stop, high)
        if stop > start:
            total += stop - start
            end = stop
    return total


def _inside(instant: float, intervals: list[tuple[float, float]]) -> bool:
    return any(start <= instant < stop for start, stop in intervals)


async def _wait_for(predicate: Any, timeout: float, what: str) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.25)


async def measure(kind: str, recipients: int, rate: float, seed: int, args: Any) -> Run:
    run = Run(kind, seed)
    load_before = common.load()
    folder = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    path = folder / "bench.sqlite3"
    fake = RecordingFake()
    await fake.start()
    process: asyncio.subprocess.Process | None = None
    log_file = (folder / "bot.log").open("wb")
    try:
        coordinator = fake.user(COORDINATOR_TELEGRAM_ID, "Coordination")
        chats = [FIRST_TELEGRAM_ID + n for n in range(recipients)]
        for chat_id in chats:
            fake.user(chat_id, f"Personne {chat_id}")
        env = _environment(fake, path, rate)
        if args.connection_pool:
            env[POOL_VARIABLE] = str(args.connection_pool)
        await _create_schema(path)
        _fill(path, recipients)

        if kind == "outbox":
            profile = ["-m", "cProfile", "-o", str(args.profile)] if args.profile else []
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *profile,
                "-m",
                "benchmarks.broadcast",
                "--bot",
                cwd=folder,
                env=env,
                stdout=log_file,
                stderr=log_file,
            )
            await fake.wait_for(lambda: bool(fake.calls_to("getUpdates")), timeout=60)
            # Start-up work (the morning run, the transmission) may have queued messages.
            await _wait_for(
                lambda: _statuses(path, None)["pending"] + _statuses(path, None)["sending"] == 0,
                120,
                "the outbox to be idle after start-up",
            )
            bot_message = await _bot_message(fake, coordinator.user_id)
            before_calls = len(fake.calls)
            fake.fail_rate(
                "sendMessage",
                rate_429=args.rate_429,
                rate_403=args.rate_403,
                seed=seed,
                retry_after=RETRY_AFTER,
            )
            began, cpu_before = time.monotonic(), _cpu_seconds(process.pid)
            fake_cpu = time.process_time()
            announcement, run.recipients, text = await _send_broadcast(path, bot_message)
            outbox_kind = f"broadcast:{announcement}"
            budget = recipients / rate + 3 * recipients * args.rate_429 * RETRY_AFTER + 300
            await _wait_for(
                lambda: (lambda s: s["pending"] + s["sending"] == 0)(_statuses(path, outbox_kind)),
                budget,
                "the broadcast to leave",
            )
            run.total_seconds = time.monotonic() - began
            run.fake_cpu_seconds = time.process_time() - fake_cpu
            run.cpu_seconds = _cpu_seconds(process.pid) - cpu_before
            run.peak_rss_kib = common.vm_hwm_kib(process.pid)
            run.statuses = dict(_statuses(path, outbox_kind))
            rows = _rows(path, outbox_kind)
        else:
            from bot.domain.models import Announcement
            from bot.ui.screens.broadcast import read_markup, recipient_text

            stamp = datetime.now(UTC)
            announcement_model = Announcement(
                id=1,
                caf_id=1,
                author_id=1,
                body=BODY,
                media_kind=None,
                media_file_id=None,
                media_name=None,
                audience_json='{"kind": "all"}',
                must_read=True,
                status="sending",
                scheduled_for=None,
                progress_chat_id=None,
                progress_message_id=None,
                created_at=stamp,
                updated_at=stamp,
                sent_at=stamp,
            )
            text = recipient_text(announcement_model)
            (folder / "chats.json").write_text(json.dumps(chats))
            (folder / "text.json").write_text(json.dumps([text, read_markup(announcement_model)]))
            before_calls = len(fake.calls)
            fake.fail_rate(
                "sendMessage",
                rate_429=args.rate_429,
                rate_403=args.rate_403,
                seed=seed,
                retry_after=RETRY_AFTER,
            )
            run.recipients = recipients
            began, fake_cpu = time.monotonic(), time.process_time()
            profile = ["-m", "cProfile", "-o", str(args.profile)] if args.profile else []
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *profile,
                "-m",
                "benchmarks.broadcast",
                "--bare",
                str(folder / "chats.json"),
                str(folder / "text.json"),
                "--rate",
                str(rate),
                cwd=common.ROOT,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=log_file,
            )
            output, _ = await process.communicate()
            if process.returncode != 0:
                raise RuntimeError(f"the bare sender failed: {_tail(folder / 'bot.log')}")
            measured = json.loads(output.decode().splitlines()[-1])
            run.cpu_seconds, run.peak_rss_kib = measured["cpu_seconds"], measured["peak_rss_kib"]
            run.total_seconds = time.monotonic() - began
            run.fake_cpu_seconds = time.process_time() - fake_cpu
            rows = []

        _account(run, fake, fake.calls[before_calls:], set(chats), text, rows)
    finally:
        await common.stop_process(process)
        log_file.close()
        run.ptb_flood_errors, run.pause_warnings, errors = _log_errors(folder / "bot.log")
        if errors:
            run.problems.append(f"bot log: {errors}")
        await fake.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}", file=sys.stderr)
    run.load = (load_before, common.load())
    return run


async def _bot_message(fake: FakeBotApi, chat_id: int) -> int:
    """A message of the bot in the coordinator's chat, for the progress to edit (the one
    where they tapped « Oui, envoyer »)."""
    from telegram import Bot

    async with Bot(TOKEN, base_url=fake.base_url) as bot:
        message = await bot.send_message(chat_id, "📢 Diffusion : confirmation")
    return message.message_id


FLOOD_LOG = "Rate limit hit after maximum of 0 retries"
PAUSE_LOG = "Telegram demande une pause"


def _tail(path: Path) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-20:])
    except OSError:
        return ""


def _log_errors(path: Path) -> tuple[int, int, str]:
    """PTB's ERROR line for a 429 (the bare sender's; the bot's are filtered out) and the
    outbox sender's WARNING for one, counted; any other error of the log, quoted."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return 0, 0, ""
    floods = sum(FLOOD_LOG in line for line in lines)
    pauses = sum(PAUSE_LOG in line for line in lines)
    bad = [line for line in lines if " ERROR " in line and FLOOD_LOG not in line]
    tracebacks = sum("Traceback" in line for line in lines)
    if tracebacks > floods:
        bad.append(f"{tracebacks - floods} traceback(s) beside PTB's for the 429s")
    return floods, pauses, "; ".join(bad[:3])


def _account(
    run: Run,
    fake: RecordingFake,
    calls: list[Any],
    recipients: set[int],
    text: str,
    rows: list[tuple[int, str]],
) -> None:
    sends = [c for c in calls if c.method == "sendMessage" and c.chat_id in recipients]
    run.other_sends = sum(
        1 for c in calls if c.method == "sendMessage" and c.chat_id not in recipients
    )
    run.calls = len(sends)
    refused = [(at, chat, status) for at, chat, status in fake.refused if chat in recipients]
    pauses = [(at, at + RETRY_AFTER) for at, _, status in refused if status == 429]
    run.pauses = len(pauses)
    answers = [at for at, chat, _ in fake.delivered if chat in recipients] + [
        at for at, _, _ in refused
    ]
    low, high = sends[0].at, max(answers)
    run.window_seconds = high - low
    run.paused_seconds = _union(pauses, low, high)
    run.calls_in_pauses = sum(1 for c in sends if _inside(c.at, pauses))
    # How long after a pause ends the sender is heard from again: the sender learns of the
    # 429 when its loop reads the answer, and pauses from then.
    times = sorted(c.at for c in sends)
    restarts = []
    for _, end in pauses:
        index = bisect.bisect_left(times, end)
        if index < len(times) and not _inside(end, pauses):
            restarts.append(times[index] - end)
    run.restart_ms = statistics.median(restarts) * 1000 if restarts else 0.0

    delivered = Counter(
        chat for _, chat, sent in fake.delivered if chat in recipients and sent == text
    )
    run.delivered = len(delivered)
    run.duplicates = sum(1 for n in delivered.values() if n > 1)
    blocked = {chat for _, chat, status in refused if status == 403}
    run.refused_403 = len(blocked)
    got_429 = {chat for _, chat, status in refused if status == 429}
    run.got_429 = len(got_429)
    run.got_429_delivered_later = len(got_429 & set(delivered))
    run.got_429_then_403 = len(got_429 & blocked)
    run.got_429_lost = len(got_429 - set(delivered) - blocked)

    if rows:  # the outbox: every recipient's row against what the fake saw
        lost = 0
        for chat, status in rows:
            if status == "sent":
                lost += chat not in delivered
            elif status in ("unreachable", "failed"):
                lost += chat not in blocked and status == "unreachable"
            else:
                lost += 1
        run.lost = lost + (run.recipients - len(rows))
        if run.recipients != len(recipients):
            run.problems.append(f"{run.recipients} recipients fixed, {len(recipients)} expected")
    else:  # the bare sender: every chat delivered or refused for good
        run.lost = len(recipients - set(delivered) - blocked)


# ---------------------------------------------------------------------------- report
Runs = dict[tuple[float, str], list[Run]]


def _med(values: list[float]) -> float:
    return statistics.median(values)


def _verdict(ok: bool) -> str:
    return "pass" if ok else "**fail**"


def report(
    *,
    command: str,
    args: argparse.Namespace,
    runs: Runs,
    order: list[tuple[float, Run]],
    uptimes: tuple[str, str],
    began: datetime,
) -> str:
    caps = args.caps

    def ratio(cap: float, kind: str) -> float:
        return _med([r.rate for r in runs[cap, kind]]) / cap

    def loads(cap: float) -> str:
        values = [v for _, r in order for v in r.load if _ == cap]
        return f"{min(values):.2f}–{max(values):.2f}"

    caps_text = ", ".join(f"{cap:g}" for cap in caps)
    lines = [
        f"## Broadcast to {common.number(args.recipients)} people through the outbox (issue #8)",
        "",
        f"Command, from the repository's root: `{command}`",
        "",
        f"- When: {began:%Y-%m-%d %H:%M}–{datetime.now(UTC):%H:%M} UTC, commit {common.commit()}",
        f"- Machine: {common.machine()}",
        f"- `uptime` before: `{uptimes[0]}`",
        f"- `uptime` after: `{uptimes[1]}`",
        f"- Scenario: {common.number(args.recipients)} recipients ({SITES} sites, one manager "
        "each, the others agents; a must-read notice with its « J'ai lu » button), sent as "
        "`send_now` does by the bot started as `python -m bot run`, its progress message "
        f"edited as it goes; caps (BROADCAST_MAX_RATE = TELEGRAM_MAX_RATE): {caps_text} a "
        "second",
        f"- Faults: the fake Bot API answers {args.rate_429:.0%} of sendMessage calls 429 "
        f"(retry_after {RETRY_AFTER} s) and {args.rate_403:.0%} 403 (the chat then blocked "
        "for good), drawn with seed = run number",
        "- Baseline (`bare`): python-telegram-bot's `ExtBot` without database, same fake, "
        "same faults, same AIORateLimiter and pacing (`bot.jobs.outbox_sender.Pacing`), up to 50 "
        "sends in flight; in a process of its own as the bot",
        "- Rate: sendMessage calls outside the pauses Telegram asked for ÷ the time outside "
        f"them (from the first call to the last answer); medians of {args.runs} runs of each "
        "sender at each cap, runs interleaved",
        "",
        "| cap (calls/s) | bot: rate ÷ cap | bare: rate ÷ cap | bot ≥ 0.95 | bare ≥ 0.95 "
        "| bot: lost (worst run) | bot: duplicates (worst run) | bare: lost | load (1 min) |",
        "|---:|---:|---:|---|---|---:|---:|---:|---|",
    ]
    for cap in caps:
        bot, bare = runs[cap, "outbox"], runs[cap, "bare"]
        lines.append(
            f"| {cap:g} | {ratio(cap, 'outbox'):.3f} | {ratio(cap, 'bare'):.3f} "
            f"| {_verdict(ratio(cap, 'outbox') >= TARGET_RATIO)} "
            f"| {_verdict(ratio(cap, 'bare') >= TARGET_RATIO)} "
            f"| {max(r.lost for r in bot)} | {max(r.duplicates for r in bot)} "
            f"| {max(r.lost for r in bare)} | {loads(cap)} |"
        )

    header = "| measure | " + " | ".join(f"bot @{c:g} | bare @{c:g}" for c in caps) + " |"
    lines += [
        "",
        "Medians per cap (worst run where said):",
        "",
        header,
        "|---|" + "---:|" * (2 * len(caps)),
    ]

    def row(label: str, value: Any, form: str = "{:.0f}", worst: bool = False) -> None:
        cells = []
        for cap in caps:
            for kind in KINDS:
                values = [value(r) for r in runs[cap, kind]]
                cells.append(form.format(max(values) if worst else _med(values)))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("achieved rate (calls/s outside the pauses)", lambda r: r.rate)
    row("recipients lost (worst run)", lambda r: r.lost, worst=True)
    row(
        "answered 429, then neither delivered nor blocked (worst run)",
        lambda r: r.got_429_lost,
        worst=True,
    )
    row("recipients who got it twice or more (worst run)", lambda r: r.duplicates, worst=True)
    row("sendMessage calls", lambda r: r.calls)
    row("… made during a pause (in flight when the 429 came)", lambda r: r.calls_in_pauses)
    row("pauses asked (429 answers)", lambda r: r.pauses)
    row("time paused (union of the pauses)", lambda r: r.paused_seconds, "{:.1f} s")
    row("time sending (outside the pauses)", lambda r: r.active_seconds, "{:.2f} s")
    row("whole broadcast, confirmation to last answer", lambda r: r.total_seconds, "{:.0f} s")
    row("delivered", lambda r: r.delivered)
    row("refused 403 (blocked)", lambda r: r.refused_403)
    row("answered 429 at least once", lambda r: r.got_429)
    row("… delivered later", lambda r: r.got_429_delivered_later)
    row("… blocked (403) later", lambda r: r.got_429_then_403)
    row("end of a pause → next call (median)", lambda r: r.restart_ms, "{:.1f} ms")
    row(
        "CPU of the sending process per call", lambda r: r.cpu_seconds / r.calls * 1000, "{:.2f} ms"
    )
    row(
        "CPU of the sending process ÷ time sending",
        lambda r: r.cpu_seconds / r.active_seconds,
        "{:.0%}",
    )
    row(
        "CPU of the fake Bot API's process ÷ time sending",
        lambda r: r.fake_cpu_seconds / r.active_seconds,
        "{:.0%}",
    )
    row("log: PTB's ERROR « Rate limit hit… » with a traceback", lambda r: r.ptb_flood_errors)
    row("log: the sender's WARNING « Telegram demande une pause »", lambda r: r.pause_warnings)
    row("peak RSS of the sending process (VmHWM)", lambda r: r.peak_rss_kib / 1000, "{:.0f} MB")
    lines += [
        "",
        "Per run (in the order measured): "
        + "; ".join(
            f"{r.kind} @{cap:g} seed {r.seed}: {r.rate:.0f}/s ({r.rate / cap:.3f}), {r.calls} "
            f"calls, {r.pauses} pauses, lost {r.lost}, duplicates {r.duplicates}, "
            f"answered 429 {r.got_429} (then delivered {r.got_429_delivered_later}, blocked "
            f"{r.got_429_then_403}), "
            + (f"outbox {json.dumps(r.statuses)} " if r.statuses else "")
            + f"(load {r.load[0]:.2f} → {r.load[1]:.2f})"
            for cap, r in order
        ),
        "",
        "Other messages the bot sent during the runs (not the broadcast): "
        + ", ".join(str(r.other_sends) for _, r in order if r.kind == "outbox"),
    ]
    problems = [f"{r.kind} @{cap:g} seed {r.seed}: {p}" for cap, r in order for p in r.problems]
    lines += ["", "Problems: " + ("; ".join(problems) if problems else "none")]
    return "\n".join(lines).rstrip() + "\n"


def run_child(kind: str, cap: float, seed: int, args: argparse.Namespace) -> Run:
    command = [
        sys.executable,
        "-m",
        "benchmarks.broadcast",
        "--child",
        kind,
        "--seed",
        str(seed),
        "--recipients",
        str(args.recipients),
        "--rate",
        str(cap),
        "--rate-429",
        str(args.rate_429),
        "--rate-403",
        str(args.rate_403),
    ]
    if args.keep:
        command.append("--keep")
    if args.profile:
        command += ["--profile", str(args.profile)]
    if args.connection_pool:
        command += ["--connection-pool", str(args.connection_pool)]
    done = subprocess.run(command, cwd=common.ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind}: the measuring process failed:\n{done.stderr}")
    data = json.loads(done.stdout.splitlines()[-1])
    data["load"] = tuple(data["load"])
    return Run(**data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.broadcast", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument(
        "--cap",
        type=float,
        action="append",
        dest="caps",
        help="a send cap to measure, BROADCAST_MAX_RATE = TELEGRAM_MAX_RATE (repeatable; "
        "default 1000)",
    )
    parser.add_argument("--rate", type=float, default=1000.0, help=argparse.SUPPRESS)
    parser.add_argument("--rate-429", type=float, default=0.02)
    parser.add_argument("--rate-403", type=float, default=0.01)
    parser.add_argument("--runs", type=int, default=3, help="runs of each sender at each cap")
    parser.add_argument("--only", choices=KINDS, help="measure one sender only")
    parser.add_argument("--keep", action="store_true", help="keep each run's folder and log")
    parser.add_argument("--readme", action="store_true", help="rewrite the README section")
    parser.add_argument(
        "--profile",
        type=Path,
        help="run the sending process under cProfile, its stats written to PROFILE",
    )
    parser.add_argument(
        "--connection-pool",
        type=int,
        help="diagnosis: both senders' HTTP connection pool (python-telegram-bot's default 256)",
    )
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--bot", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.caps = args.caps or [1000.0]
    if args.bot:
        bot_main()
        return
    if args.bare:
        asyncio.run(bare_main(args.bare[0], args.bare[1], args.rate))
        return
    if args.child:
        run = asyncio.run(measure(args.child, args.recipients, args.rate, args.seed, args))
        print(json.dumps(asdict(run)))
        return

    command = shlex.join([".venv/bin/python", "-m", "benchmarks.broadcast", *sys.argv[1:]])
    began = datetime.now(UTC)
    uptime_before = common.uptime()
    print(f"{uptime_before}\n{common.machine()}", flush=True)
    runs: Runs = {(cap, kind): [] for cap in args.caps for kind in KINDS}
    order: list[tuple[float, Run]] = []
    kinds = (args.only,) if args.only else KINDS
    for number in range(1, args.runs + 1):
        for index, cap in enumerate(args.caps):
            # Alternate which sender goes first, so that neither always meets the same load.
            for kind in kinds if (number + index) % 2 else tuple(reversed(kinds)):
                run = run_child(kind, cap, number, args)
                runs[cap, kind].append(run)
                order.append((cap, run))
                print(
                    f"  {kind:6s} @{cap:g} seed {number}: {run.rate:7.1f} calls/s outside the "
                    f"pauses ({run.rate / cap:.3f} of the cap; {run.calls} calls, {run.pauses} "
                    f"pauses, {run.paused_seconds:.1f} s paused, {run.active_seconds:.2f} s "
                    f"sending), lost {run.lost}, duplicates {run.duplicates}, CPU "
                    f"{run.cpu_seconds / run.active_seconds:.0%} "
                    f"({run.cpu_seconds / run.calls * 1000:.2f} ms a call), fake's "
                    f"{run.fake_cpu_seconds / run.active_seconds:.0%} "
                    f"(load {run.load[0]:.2f} → {run.load[1]:.2f})"
                    + (f" {run.problems}" if run.problems else ""),
                    flush=True,
                )
    if args.only:
        return
    uptimes = (uptime_before, common.uptime())
    section = report(
        command=command, args=args, runs=runs, order=order, uptimes=uptimes, began=began
    )
    print()
    print(section)
    if args.readme:
        common.write_section(NAME, section)
        print(f"Written to {common.README}")


if __name__ == "__main__":
    main()
