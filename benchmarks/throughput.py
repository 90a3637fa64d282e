"""Issue #8: updates per second of the visit flow, against a bare python-telegram-bot bot.

    python -m benchmarks.throughput [--agents 50] [--sites 10] [--visits 4] [--runs 5]
                                    [--readme] [--profile visit|baseline]
                                    [--postgresql URL]

Simulated agents (FakeUsers of bot/sandbox/bot_api.py) log typical visits, all at once,
through the fake Bot API over HTTP on 127.0.0.1: « 📝 Nouvelle visite » then the eight taps
of tests/e2e/test_visit.py's TYPICAL visit, each tap sent as soon as the bot has finished
with the previous one (no think time). Nine updates per visit: a text answered with a
message (sendMessage), then eight callbacks each answered (answerCallbackQuery) and
followed by an edit of the same message (editMessageText).

Two bots are driven by the same harness, each in a fresh process per run, runs interleaved:
- `visit`: the real Application of bot/app.py (`build_application`, `prepare`, polling as
  tests/conftest.py `start_bot` does), a real SQLite file in WAL, the agents registered
  beforehand through invitations (`/start CODE`), updates handled by bot/processing.py
  `TimedUpdateProcessor` (several people's at once, each person's in order, each account
  held to its limit, which agents who wait for each screen never reach), which times them;
- `baseline`: a python-telegram-bot Application without database, templates or domain
  code, built with the same update processor, rate limiter and polling, that makes the same
  Bot API calls per update: a message with an inline keyboard for the text, then for each
  callback an answer and an edit of that message with text and keyboard of the same size.
With `--postgresql URL` (a server's `postgres` database), the visit bot runs on PostgreSQL,
in a fresh database of that server per run (benchmarks/national.py uses it, issue #19).
Both have AIORateLimiter's overall cap (Telegram's 30 messages a second, which edits count
against) raised to 1 000 a second (the visit bot through its TELEGRAM_MAX_RATE setting),
otherwise the limiter would be what is measured.

The fake Bot API runs in the measuring process, on the same event loop, as in the tests.
Updates per second = the timed updates ÷ the wall time from the first tap to the last
update handled, after one warm-up visit. Handling time = TimedUpdateProcessor's figure:
from an update's turn to the end of its handlers, the two Bot API round trips included (for
the visit flow, parsing what the agent sent too: the bot parses it at its turn, the
baseline on arrival). `--profile KIND` runs one more process of that kind under cProfile and prints
where its time went.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from benchmarks import common
from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.models import ReportingPeriod
from bot.domain.permissions import Role
from bot.processing import TimedUpdateProcessor
from bot.sandbox.bot_api import TOKEN, FakeBotApi, FakeUser

NAME = "throughput"
KINDS = ("visit", "baseline")
MENU = "📝 Nouvelle visite"
TYPICAL = common.TYPICAL_VISIT
UPDATES_PER_VISIT = 1 + len(TYPICAL)
# Thursday 26 November 2026, 10:00 in Paris (tests/conftest.py START): within opening hours.
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
FIRST_USER_ID = 10_000
SETTLE_TIMEOUT_SECONDS = 60.0
TARGET_RATIO = 0.7
#: AIORateLimiter's overall cap for both bots: TELEGRAM_MAX_RATE's highest value, well above
#: the calls a second measured here, so that the limiter's cost is measured, not its waits.
OVERALL_RATE = 1000.0


# ---------------------------------------------------------------------------- the baseline
# As long as the visit flow's step screens, with about as many buttons (measured: see the
# report's rows on the payload), each labelled as one of the agent's taps so that both bots
# are driven by the same script.
_BASELINE_LABELS = TYPICAL


def _baseline_screen(step: int) -> str:
    return (
        f"<b>📝 Nouvelle visite</b> · étape {step}\n\n"
        "Femme · 25 – 60 ans · Allocataire · Débutant\n\n"
        "<b>Quelle demande ?</b> Choisissez une réponse ci-dessous."
    )


def _baseline_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(label, callback_data=f"bl:{index}")
        for index, label in enumerate(_BASELINE_LABELS)
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def _baseline_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A menu entry: a new message with an inline keyboard."""
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id,
        _baseline_screen(0),
        parse_mode=ParseMode.HTML,
        reply_markup=_baseline_keyboard(),
        disable_web_page_preview=True,
    )


async def _baseline_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap: answer the callback first, then edit the same message."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    step = context.bot_data["steps"] = context.bot_data.get("steps", 0) + 1
    await query.edit_message_text(
        _baseline_screen(step),
        parse_mode=ParseMode.HTML,
        reply_markup=_baseline_keyboard(),
        disable_web_page_preview=True,
    )


def build_baseline(settings: Settings, processor: TimedUpdateProcessor) -> Application:  # type: ignore[type-arg]
    app = (
        ApplicationBuilder()
        .token(settings.token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_file_base_url)
        .rate_limiter(AIORateLimiter(overall_max_rate=OVERALL_RATE, max_retries=3))
        .concurrent_updates(processor)
        .build()
    )
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private & filters.TEXT, _baseline_text))
    app.add_handler(CallbackQueryHandler(_baseline_tap))
    assert isinstance(app.bot.rate_limiter, AIORateLimiter)
    return app


# ---------------------------------------------------------------------------- the harness
class Settler:
    """The exact "settle" of tests/conftest.py, one future per update: an agent's tap
    returns when the bot has finished with it (the processor's listener says so)."""

    def __init__(self) -> None:
        self.timings: list[tuple[int, float]] = []
        self._done: set[int] = set()
        self._waiting: dict[int, asyncio.Future[None]] = {}

    def on_done(self, update: object, elapsed: float) -> None:
        if not isinstance(update, Update):
            return
        self.timings.append((update.update_id, elapsed))
        waiter = self._waiting.pop(update.update_id, None)
        if waiter is None:
            self._done.add(update.update_id)
        elif not waiter.done():
            waiter.set_result(None)

    async def settle(self, update_id: int) -> None:
        if update_id in self._done:
            self._done.discard(update_id)
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[update_id] = waiter
        try:
            await asyncio.wait_for(waiter, SETTLE_TIMEOUT_SECONDS)
        except TimeoutError:
            raise RuntimeError(f"the bot did not handle update {update_id}") from None


@dataclass
class Run:
    """What one measuring process sends back to the parent, as JSON."""

    kind: str
    agents: int
    visits: int
    updates: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    main_thread_cpu_seconds: float = 0.0
    handling: list[float] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    text_chars: float = 0.0
    buttons: float = 0.0
    checks: dict[str, Any] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


def _settings(fake: FakeBotApi, db_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake.base_url,
        telegram_api_file_base_url=fake.base_file_url,
        database_path=db_path,
        polling_timeout_seconds=1,
        telegram_max_rate=OVERALL_RATE,
    )


async def _visit(user: FakeUser) -> None:
    await user.send(MENU)  # the reply keyboard's button: a text message
    for label in TYPICAL:
        await user.tap(label)


async def _join(
    fake: FakeBotApi, db: Any, clock: ManualClock, agents: int, sites: int
) -> list[FakeUser]:
    """A Caf, its sites and their agents, who join through an invitation, as people do."""
    from storage import cafs, invitations, partners

    now = clock.now()
    async with db.transaction() as tx:
        caf = await cafs.add(
            tx,
            name="Caf du banc d'essai",
            period=ReportingPeriod.QUARTERLY,
            timezone="Europe/Paris",
            notify_chat_id=None,
            now=now,
        )
        places = [
            await partners.add(
                tx,
                caf_id=caf.id,
                name=f"Point numérique {n:02d}",
                city="Amiens",
                address="",
                now=now,
            )
            for n in range(1, sites + 1)
        ]
        codes = [
            (
                await invitations.create(
                    tx,
                    role=Role.AGENT,
                    caf_id=caf.id,
                    partner_id=place.id,
                    uses=agents,
                    expires_at=now + timedelta(days=7),
                    created_by=None,
                    now=now,
                )
            )[0]
            for place in places
        ]
    users = []
    for index in range(agents):
        user = fake.user(FIRST_USER_ID + index, f"Agent {index}")
        await user.send(f"/start {codes[index % sites]}")
        if not any("Bienvenue" in (m.text or "") for m in user.bot_messages):
            raise RuntimeError(f"agent {index} did not join: {user.last_message.text!r}")
        await user.tap("✅ Je m'engage")  # Article 5, before anything else, as a person does
        users.append(user)
    return users


def _payload(calls: list[Any]) -> tuple[float, float]:
    """Mean characters of HTML text and mean buttons per message sent or edited."""
    chars, buttons, count = 0, 0, 0
    for call in calls:
        if call.method not in ("sendMessage", "editMessageText"):
            continue
        count += 1
        chars += len(str(call.params.get("text", "")))
        markup = call.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        rows = (markup or {}).get("inline_keyboard", [])
        buttons += sum(len(row) for row in rows)
    return (chars / count, buttons / count) if count else (0.0, 0.0)


async def measure(
    kind: str, agents: int, sites: int, visits: int, profile: bool, postgresql: str | None = None
) -> Run:
    """`postgresql`: the address of a server's `postgres` database, where the visit bot
    gets a fresh database of its own (dropped at the end) instead of a SQLite file."""
    from bot.app import ALLOWED_UPDATES, build_application, prepare, stop_outbox
    from storage.setup import open_storage

    run = Run(kind, agents, visits)
    load_before = common.load()
    folder = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    clock = ManualClock(START)
    errors: list[BaseException] = []

    async def record_error(update: object, context: Any) -> None:
        errors.append(context.error)

    fake = FakeBotApi()
    await fake.start()
    db = None
    try:
        settings = _settings(fake, folder / "bench.sqlite3")
        processor = TimedUpdateProcessor()
        settler = Settler()
        processor.listeners.append(settler.on_done)
        if kind == "visit":
            location = await _fresh_postgresql(postgresql) if postgresql else None
            db = await open_storage(location or settings.database_path)
            app = build_application(settings, db=db, clock=clock, processor=processor)
        else:
            app = build_baseline(settings, processor)
        app.add_error_handler(record_error)
        await app.initialize()
        if kind == "visit":
            await prepare(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
        fake.settle = settler.settle
        if kind == "visit":
            users = await _join(fake, db, clock, agents, sites)
        else:
            users = [fake.user(FIRST_USER_ID + i, f"Agent {i}") for i in range(agents)]

        await _visit(users[0])  # warm-up: templates compiled, caches filled
        first_timing, first_call = len(settler.timings), len(fake.calls)

        profiler = cProfile.Profile() if profile else None
        cpu, main_cpu = time.process_time(), time.thread_time()
        began = time.perf_counter()
        if profiler:
            profiler.enable()

        async def agent(user: FakeUser) -> None:
            for _ in range(visits):
                await _visit(user)

        await asyncio.gather(*(agent(user) for user in users))
        if profiler:
            profiler.disable()
        run.seconds = time.perf_counter() - began
        run.cpu_seconds = time.process_time() - cpu
        run.main_thread_cpu_seconds = time.thread_time() - main_cpu
        timed = settler.timings[first_timing:]
        run.updates = len(timed)
        run.handling = [elapsed for _, elapsed in timed]
        calls = fake.calls[first_call:]
        for call in calls:
            run.calls[call.method] = run.calls.get(call.method, 0) + 1
        run.text_chars, run.buttons = _payload(calls)

        if kind == "visit":
            assert db is not None
            stored = int(await db.fetch_value("SELECT COUNT(*) FROM visits"))
            saved = sum("Visite enregistrée" in (u.last_message.text or "") for u in users)
            run.checks = {"visits_stored": stored, "agents_last_saved": saved}
            await stop_outbox(app)
        else:
            run.checks = {"edits": run.calls.get("editMessageText", 0)}
        run.checks["handler_errors"] = len(errors)
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        if profiler:
            _print_profile(profiler, run)
    finally:
        await fake.stop()
        if db is not None:
            await db.close()
        if kind == "visit" and postgresql:
            await _admin(postgresql, f"DROP DATABASE IF EXISTS {_FRESH} WITH (FORCE)")
        shutil.rmtree(folder, ignore_errors=True)
    run.load = (load_before, common.load())
    if errors:
        raise RuntimeError(f"handlers raised: {errors[:3]!r}")
    return run


# ---------------------------------------------------------------------------- profile
AREAS = (
    ("/bot/sandbox/bot_api.py", "fake Bot API (bot/sandbox/bot_api.py)"),
    ("/aiohttp/", "fake's HTTP server (aiohttp, multidict, yarl)"),
    ("/multidict/", "fake's HTTP server (aiohttp, multidict, yarl)"),
    ("/yarl/", "fake's HTTP server (aiohttp, multidict, yarl)"),
    ("/telegram/", "python-telegram-bot"),
    ("/httpx/", "bot's HTTP client (httpx, httpcore, h11, anyio)"),
    ("/httpcore/", "bot's HTTP client (httpx, httpcore, h11, anyio)"),
    ("/h11/", "bot's HTTP client (httpx, httpcore, h11, anyio)"),
    ("/anyio/", "bot's HTTP client (httpx, httpcore, h11, anyio)"),
    ("/aiolimiter/", "python-telegram-bot"),
    ("/aiosqlite/", "aiosqlite (event loop side)"),
    ("/jinja2/", "jinja2"),
    ("/markupsafe/", "jinja2"),
    ("/pydantic", "pydantic"),
    (f"{common.ROOT}/bot/", "ours (bot/, conversations/, storage/)"),
    (f"{common.ROOT}/conversations/", "ours (bot/, conversations/, storage/)"),
    (f"{common.ROOT}/storage/", "ours (bot/, conversations/, storage/)"),
    (f"{common.ROOT}/benchmarks/", "harness (agents)"),
    ("/asyncio/", "asyncio event loop"),
    ("/selectors.py", "asyncio event loop"),
    ("/json/", "json"),
)


def _area(filename: str) -> str:
    for fragment, area in AREAS:
        if fragment in filename:
            return area
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C functions, called from anywhere)"
    return "other Python"


def _print_profile(profiler: cProfile.Profile, run: Run) -> None:
    stats = pstats.Stats(profiler)
    if os.environ.get("BENCHMARK_PROFILE_DUMP"):  # for pstats by hand
        stats.dump_stats(os.environ["BENCHMARK_PROFILE_DUMP"])
    by_area: dict[str, float] = {}
    rows = []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_area[_area(filename)] = by_area.get(_area(filename), 0.0) + tottime
        rows.append((tottime, cumtime, calls, f"{filename}:{line}({name})"))
    total = sum(by_area.values())
    out = sys.stderr
    print(
        f"\n{run.kind}: {run.updates} updates in {run.seconds:.2f} s under cProfile; "
        f"main thread {run.main_thread_cpu_seconds:.2f} s CPU, other threads "
        f"{run.cpu_seconds - run.main_thread_cpu_seconds:.2f} s "
        "(storage/db.py's committer thread: COMMIT and its fsync)",
        file=out,
    )
    print("Own time (tottime) by area, main thread:", file=out)
    for area, seconds in sorted(by_area.items(), key=lambda item: -item[1]):
        print(
            f"  {seconds:7.2f} s {seconds / total:6.1%}"
            f"  {seconds / run.updates * 1e3:6.2f} ms/update  {area}",
            file=out,
        )
    print("Top functions by own time:", file=out)
    for tottime, cumtime, calls, where in sorted(rows, reverse=True)[:30]:
        print(f"  {tottime:7.3f} s  cum {cumtime:7.3f} s  {calls:8d}×  {where}", file=out)


# ---------------------------------------------------------------------------- processes
_FRESH = "bench_throughput"


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _fresh_postgresql(url: str) -> str:
    """A new empty database on the server of `url` (C collation, as storage/postgres.py
    asks); its address."""
    await _admin(url, f"DROP DATABASE IF EXISTS {_FRESH} WITH (FORCE)")
    await _admin(url, f"CREATE DATABASE {_FRESH} LOCALE 'C' TEMPLATE template0")
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{_FRESH}"))


def run_child(kind: str, args: argparse.Namespace, profile: bool = False) -> Run:
    command = [
        sys.executable,
        "-m",
        "benchmarks.throughput",
        "--child",
        kind,
        "--agents",
        str(args.agents),
        "--sites",
        str(args.sites),
        "--visits",
        str(args.visits),
    ]
    if profile:
        command.append("--profile-child")
    if getattr(args, "postgresql", None):
        command += ["--postgresql", args.postgresql]
    done = subprocess.run(command, cwd=common.ROOT, capture_output=True, text=True, check=False)
    if profile:
        sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"{kind}: the measuring process failed:\n{done.stderr}")
    data = json.loads(done.stdout.splitlines()[-1])
    data["load"] = tuple(data["load"])
    return Run(**data)


def child_main(kind: str, args: argparse.Namespace) -> None:
    run = asyncio.run(
        measure(kind, args.agents, args.sites, args.visits, args.profile_child, args.postgresql)
    )
    print(json.dumps(asdict(run)))


# ---------------------------------------------------------------------------- report
@dataclass
class Summary:
    rate: float
    rate_min: float
    rate_max: float
    p50: float
    p95: float
    p99: float
    mean: float
    cpu_per_update: float
    other_threads_per_update: float


def summarise(runs: list[Run]) -> Summary:
    rates = [run.rate for run in runs]
    return Summary(
        rate=statistics.median(rates),
        rate_min=min(rates),
        rate_max=max(rates),
        p50=statistics.median(common.percentile(run.handling, 0.50) for run in runs),
        p95=statistics.median(common.percentile(run.handling, 0.95) for run in runs),
        p99=statistics.median(common.percentile(run.handling, 0.99) for run in runs),
        mean=statistics.median(statistics.fmean(run.handling) for run in runs),
        cpu_per_update=statistics.median(run.cpu_seconds / run.updates for run in runs),
        other_threads_per_update=statistics.median(
            (run.cpu_seconds - run.main_thread_cpu_seconds) / run.updates for run in runs
        ),
    )


def report(
    *, command: str, args: argparse.Namespace, runs: dict[str, list[Run]], uptimes: tuple[str, str]
) -> str:
    visit, base = summarise(runs["visit"]), summarise(runs["baseline"])
    ratio = visit.rate / base.rate
    updates = runs["visit"][0].updates
    per_run_ratios = [v.rate / b.rate for v, b in zip(runs["visit"], runs["baseline"], strict=True)]
    lines = [
        "## Update throughput: the visit flow against a bare python-telegram-bot bot (issue #8)",
        "",
        f"Command, from the repository's root: `{command}`",
        "",
        f"- When: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {common.commit()}",
        f"- Machine: {common.machine()}",
        f"- `uptime` before: `{uptimes[0]}`",
        f"- `uptime` after: `{uptimes[1]}`",
        f"- Scenario: {args.agents} agents of {args.sites} sites, registered through invitations "
        f"before timing, each logging {args.visits} typical visits at once with no pause "
        f"between taps (« {MENU} » + 8 taps: {UPDATES_PER_VISIT} updates a visit), "
        f"{common.number(updates)} updates timed per run after one warm-up visit",
        "- Each bot in a fresh process per run, runs interleaved; the fake Bot API (aiohttp, "
        "127.0.0.1) in that process, long polling (`getUpdates`, timeout 1 s), updates of "
        "different people handled at once, each person's in order (`TimedUpdateProcessor`), "
        "AIORateLimiter with its overall "
        f"cap raised to {common.number(OVERALL_RATE)}/s for both (`TELEGRAM_MAX_RATE` for the "
        "visit flow)",
        "- Baseline: a python-telegram-bot Application with no database that answers each "
        "callback and edits the message (a new message for the text), its texts and keyboards "
        "about as large as the visit flow's (see the last rows)",
        f"- Figures: median of {args.runs} runs (min–max for the rate); percentiles of the "
        "handling time per run, then their median",
        "",
        "| measure | visit flow | baseline | visit ÷ baseline | target | |",
        "|---|---:|---:|---:|---:|---|",
        f"| updates per second | {visit.rate:.1f} ({visit.rate_min:.1f}–{visit.rate_max:.1f}) "
        f"| {base.rate:.1f} ({base.rate_min:.1f}–{base.rate_max:.1f}) | × {ratio:.2f} "
        f"| ≥ × {TARGET_RATIO} | {'pass' if ratio >= TARGET_RATIO else '**fail**'} |",
    ]
    for label, v, b in (
        ("handling per update, p50", visit.p50, base.p50),
        ("handling per update, p95", visit.p95, base.p95),
        ("handling per update, p99", visit.p99, base.p99),
        ("handling per update, mean", visit.mean, base.mean),
        ("CPU of the process per update (all threads)", visit.cpu_per_update, base.cpu_per_update),
        (
            "… of which threads other than the event loop's (the database's committer)",
            visit.other_threads_per_update,
            base.other_threads_per_update,
        ),
    ):
        times = f"× {v / b:.2f}" if b >= 1e-5 else ""
        lines.append(f"| {label} | {common.ms(v, 2)} | {common.ms(b, 2)} | {times} | | |")
    v0, b0 = runs["visit"][0], runs["baseline"][0]
    calls_v = ", ".join(f"{m} {n / v0.updates:.2f}" for m, n in sorted(v0.calls.items()))
    calls_b = ", ".join(f"{m} {n / b0.updates:.2f}" for m, n in sorted(b0.calls.items()))
    lines += [
        f"| Bot API calls per update | {calls_v} | {calls_b} | | | |",
        f"| HTML text per message sent or edited (mean) | {v0.text_chars:.0f} characters "
        f"| {b0.text_chars:.0f} characters | | | |",
        f"| inline buttons per message (mean) | {v0.buttons:.1f} | {b0.buttons:.1f} | | | |",
        "",
        "Per run (in the order measured), updates per second and load average (1 min) around it: "
        + "; ".join(
            f"{run.kind} {run.rate:.1f} ({run.load[0]:.2f} → {run.load[1]:.2f})"
            for run in runs["order"]  # type: ignore[index]
        ),
        "",
        "Ratio per pair of runs: " + ", ".join(f"× {value:.2f}" for value in per_run_ratios),
        "",
        "Checks: "
        + "; ".join(
            f"{kind} run {n + 1}: {json.dumps(run.checks)}"
            for kind in KINDS
            for n, run in enumerate(runs[kind])
        ),
    ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.throughput", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--visits", type=int, default=4, help="visits per agent, timed")
    parser.add_argument("--runs", type=int, default=5, help="runs of each bot")
    parser.add_argument("--readme", action="store_true", help="rewrite the README section")
    parser.add_argument(
        "--profile", choices=KINDS, help="then one more run of KIND under cProfile (stderr)"
    )
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        help="the visit bot on PostgreSQL: a fresh database per run on the server of URL"
        " (its postgres database), instead of SQLite",
    )
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child, args)
        return

    command = shlex.join([".venv/bin/python", "-m", "benchmarks.throughput", *sys.argv[1:]])
    uptime_before = common.uptime()
    print(f"{uptime_before}\n{common.machine()}", flush=True)
    runs: dict[str, list[Run]] = {"visit": [], "baseline": [], "order": []}
    for number in range(args.runs):
        # ABBA: neither bot always goes first while the machine's load drifts.
        order = KINDS if number % 2 == 0 else tuple(reversed(KINDS))
        for kind in order:
            run = run_child(kind, args)
            runs[kind].append(run)
            runs["order"].append(run)
            print(
                f"  {kind:8s} run {len(runs[kind])}: {run.rate:6.1f} updates/s, "
                f"p50 {common.ms(common.percentile(run.handling, 0.5), 2)}, "
                f"p99 {common.ms(common.percentile(run.handling, 0.99), 2)} "
                f"(load {run.load[0]:.2f} → {run.load[1]:.2f})",
                flush=True,
            )
    uptimes = (uptime_before, common.uptime())
    section = report(command=command, args=args, runs=runs, uptimes=uptimes)
    print()
    print(section)
    for kind in KINDS:
        for run in runs[kind]:
            expected = args.agents * args.visits * UPDATES_PER_VISIT
            if run.updates != expected:
                sys.exit(f"{kind}: {run.updates} updates timed, {expected} expected")
            if kind == "visit" and run.checks["visits_stored"] != args.agents * args.visits + 1:
                sys.exit(f"visit: {run.checks} visits stored: wrong")
    if args.readme:
        common.write_section(NAME, section)
        print(f"Written to {common.README}")
    if args.profile:
        run_child(args.profile, args, profile=True)


if __name__ == "__main__":
    main()
