"""Issue #16, item 8: an agent's /aide while a stranger floods the bot, against the same
/aide with nobody flooding, measured in the same run.

    python -m benchmarks.flood [--latency 0 --latency 0.05] [--floods 5] [--size 150]
                               [--quiet 5] [--runs 3] [--readme]

One agent (registered through an invitation) and, for each flood, a new stranger who sends
`--size` text messages at once: all are queued at the fake Bot API before the bot fetches
any (the stranger's client waits for nothing), then the agent sends /aide. The agent's
latency runs from its /aide queued at the fake to the bot having finished with it, its
answer sent (the update processor's listener). Before each flood, `--quiet` /aide alone
give the quiet figure; a pause of `PAUSE_SECONDS` before each phase lets AIORateLimiter's
bucket empty.

Two bots, each in a fresh process per run, runs interleaved (ABBA):
- `bot`: the bot as it is, with its defaults (TELEGRAM_MAX_RATE 30, the per-account limits
  of bot/config.py, `MAX_CONCURRENT_UPDATES` people at once, each in order, what people
  send parsed at its turn);
- `before`: the same bot with bot/processing.py as it was before issue #16 (`Before`): one
  update at a time across all people, each parsed on arrival, no per-account limit.

The fake Bot API runs in the measuring process, on the same event loop, as in the tests.
`--latency`: each Bot API call but getUpdates is answered that many seconds late, as
Telegram's servers are some tens of milliseconds away; 0 is the fake on 127.0.0.1, where a
quiet /aide takes a few milliseconds and merely taking in 150 updates costs more than that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram.ext import BaseUpdateProcessor
from telegram.request import HTTPXRequest

from benchmarks import common
from benchmarks.throughput import START, Settler, _join
from bot.clock import ManualClock
from bot.config import Settings
from bot.processing import MAX_CONCURRENT_UPDATES, AccountGate, AnyApp, TimedUpdateProcessor
from bot.sandbox.bot_api import TOKEN, FakeBotApi, FakeUser

NAME = "flood"
KINDS = ("bot", "before")
WARNING = "⏳ Trop de messages en peu de temps : patientez quelques secondes."
HELP = "Aide — l'assistant des Points numériques Caf"
FIRST_STRANGER_ID = 500_000
PAUSE_SECONDS = 1.0
TARGET_RATIO = 2.0


class Before(TimedUpdateProcessor):
    """bot/processing.py before issue #16 (`TimedSerialUpdateProcessor`): one update at a
    time (python-telegram-bot awaits each in turn), parsed on arrival, no limit."""

    def __init__(self) -> None:
        super().__init__(concurrency=1)
        BaseUpdateProcessor.__init__(self, max_concurrent_updates=1)

    def updates_request(self) -> HTTPXRequest:  # type: ignore[override]
        return HTTPXRequest(connection_pool_size=1)

    def attach(self, app: AnyApp, gate: AccountGate) -> None:
        """No limit."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = time.perf_counter()
        try:
            await coroutine
        finally:
            elapsed = time.perf_counter() - started
            for listener in list(self.listeners):
                listener(update, elapsed)


@dataclass
class Run:
    """What one measuring process sends back to the parent, as JSON."""

    kind: str
    latency: float
    quiet: list[float] = field(default_factory=list)  # the agent's /aide alone, seconds
    during: list[float] = field(default_factory=list)  # the agent's /aide during a flood
    flood_seconds: list[float] = field(default_factory=list)  # until the last one handled
    answered: list[int] = field(default_factory=list)  # the stranger's messages answered
    warned: list[int] = field(default_factory=list)  # warnings the stranger got
    dropped: list[int] = field(default_factory=list)  # messages without any answer
    calls: list[int] = field(default_factory=list)  # Bot API calls to the stranger's chat
    # `bot` only: the same stranger floods again at once, nobody else asking; until the
    # last one handled (what taking in a flood costs, with next to nothing answered).
    again_seconds: list[float] = field(default_factory=list)
    again_answered: list[int] = field(default_factory=list)
    cpu_seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)

    @property
    def ratio(self) -> float:
        return statistics.median(self.during) / statistics.median(self.quiet)


def _settings(fake: FakeBotApi, db_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake.base_url,
        telegram_api_file_base_url=fake.base_file_url,
        database_path=db_path,
        polling_timeout_seconds=1,
    )


def _slow_down(fake: FakeBotApi, latency: float) -> None:
    """Every call but getUpdates answered `latency` seconds late."""
    for name, (method, handler) in list(fake._handlers.items()):
        if method == "getUpdates":
            continue

        async def late(params: dict[str, Any], handler: Any = handler) -> Any:
            await asyncio.sleep(latency)
            return await handler(params)

        fake._handlers[name] = (method, late)


async def _timed_help(agent: FakeUser) -> float:
    began = time.perf_counter()
    await agent.send("/aide")
    elapsed = time.perf_counter() - began
    if not (agent.last_message.text or "").startswith(HELP):
        raise RuntimeError(f"the agent's /aide got {agent.last_message.text!r}")
    return elapsed


def _flood(fake: FakeBotApi, stranger: FakeUser, size: int) -> list[int]:
    """`size` text messages queued at once; their update ids. Written before the first is
    queued, so that queueing them is all that happens between the first and the last."""
    bodies = [
        {
            "message": fake._message_dict(
                fake._new_message(
                    stranger,
                    from_bot=False,
                    sender=stranger.user_dict(),
                    kind="text",
                    text=f"message {n}",
                )
            )
        }
        for n in range(size)
    ]
    return [fake._enqueue(body) for body in bodies]


async def measure(kind: str, latency: float, floods: int, size: int, quiet: int) -> Run:
    from bot.app import ALLOWED_UPDATES, build_application, prepare, stop_outbox
    from storage.setup import open_storage

    run = Run(kind, latency)
    load_before = common.load()
    folder = Path(tempfile.mkdtemp(prefix="bench-flood-"))
    errors: list[BaseException] = []

    async def record_error(update: object, context: Any) -> None:
        errors.append(context.error)

    fake = FakeBotApi()
    await fake.start()
    db = await open_storage(folder / "bench.sqlite3")
    try:
        clock = ManualClock(START)
        processor = Before() if kind == "before" else TimedUpdateProcessor()
        settler = Settler()
        processor.listeners.append(settler.on_done)
        app = build_application(
            _settings(fake, folder / "bench.sqlite3"), db=db, clock=clock, processor=processor
        )
        app.add_error_handler(record_error)
        await app.initialize()
        await prepare(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
        fake.settle = settler.settle
        [agent] = await _join(fake, db, clock, 1, 1)
        _slow_down(fake, latency)
        for _ in range(3):  # warm-up: templates compiled, caches filled
            await _timed_help(agent)

        cpu = time.process_time()
        for number in range(floods):
            await asyncio.sleep(PAUSE_SECONDS)
            for _ in range(quiet):
                run.quiet.append(await _timed_help(agent))
            await asyncio.sleep(PAUSE_SECONDS)
            stranger = fake.user(FIRST_STRANGER_ID + number, f"Inconnu {number}")
            calls_before = len(fake.calls)
            began = time.perf_counter()
            flood = _flood(fake, stranger, size)
            run.during.append(await _timed_help(agent))
            for update_id in flood:
                await settler.settle(update_id)
            run.flood_seconds.append(time.perf_counter() - began)
            texts = [message.text for message in stranger.bot_messages]
            run.warned.append(texts.count(WARNING))
            run.answered.append(len(texts) - texts.count(WARNING))
            run.dropped.append(size - run.answered[-1])
            run.calls.append(
                sum(1 for call in fake.calls[calls_before:] if call.chat_id == stranger.user_id)
            )
            if kind == "bot":
                await asyncio.sleep(PAUSE_SECONDS)
                seen = len(stranger.bot_messages)
                began = time.perf_counter()
                for update_id in _flood(fake, stranger, size):
                    await settler.settle(update_id)
                run.again_seconds.append(time.perf_counter() - began)
                run.again_answered.append(len(stranger.bot_messages) - seen)
        run.cpu_seconds = time.process_time() - cpu
        await stop_outbox(app)
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    finally:
        await fake.stop()
        await db.close()
        shutil.rmtree(folder, ignore_errors=True)
    run.load = (load_before, common.load())
    if errors:
        raise RuntimeError(f"handlers raised: {errors[:3]!r}")
    return run


# ---------------------------------------------------------------------------- processes
def run_child(kind: str, latency: float, args: argparse.Namespace) -> Run:
    command = [
        *(sys.executable, "-m", "benchmarks.flood", "--child", kind),
        *("--latency", str(latency), "--floods", str(args.floods)),
        *("--size", str(args.size), "--quiet", str(args.quiet)),
    ]
    done = subprocess.run(command, cwd=common.ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind}: the measuring process failed:\n{done.stderr}")
    data = json.loads(done.stdout.splitlines()[-1])
    data["load"] = tuple(data["load"])
    return Run(**data)


# ---------------------------------------------------------------------------- report
def _median(runs: list[Run], values: str) -> float:
    """The median over runs of each run's median."""
    return statistics.median(statistics.median(getattr(run, values)) for run in runs)


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}–{high}"


def _fate(runs: list[Run]) -> str:
    answered = _span([n for run in runs for n in run.answered])
    warned = _span([n for run in runs for n in run.warned])
    dropped = _span([n for run in runs for n in run.dropped])
    return f"{answered} answered, {warned} warned, {dropped} dropped"


def _ratio(runs: list[Run]) -> float:
    return _median(runs, "during") / _median(runs, "quiet")


def _table(
    args: argparse.Namespace, latency: float, bot: list[Run], before: list[Run]
) -> list[str]:
    ratio = _ratio(bot)
    rounds = args.floods
    return [
        f"Bot API calls answered {common.ms(latency, 0)} late"
        + (" (the fake as it is, on 127.0.0.1)" if latency == 0 else ""),
        "",
        "| measure | bot | before | target | |",
        "|---|---:|---:|---:|---|",
        f"| agent's /aide, quiet | {common.ms(_median(bot, 'quiet'))} "
        f"| {common.ms(_median(before, 'quiet'))} | | |",
        f"| agent's /aide during a flood | {common.ms(_median(bot, 'during'))} "
        f"| {common.ms(_median(before, 'during'))} | | |",
        f"| during ÷ quiet | × {ratio:.2f} (runs × "
        + ", × ".join(f"{run.ratio:.2f}" for run in bot)
        + f") | × {_ratio(before):.1f} | ≤ × {TARGET_RATIO:.0f} "
        f"| {'pass' if ratio <= TARGET_RATIO else '**fail**'} |",
        f"| the stranger's {args.size} messages, per flood | {_fate(bot)} | {_fate(before)} | | |",
        f"| Bot API calls to the stranger's chat, per flood (median) "
        f"| {_median(bot, 'calls'):.0f} | {_median(before, 'calls'):.0f} | | |",
        f"| flood handled: first message queued → last one handled "
        f"| {common.ms(_median(bot, 'flood_seconds'), 0)} "
        f"| {common.ms(_median(before, 'flood_seconds'), 0)} | | |",
        f"| the same stranger floods again, nobody else asking: taken in, first message "
        f"queued → last one handled | {common.ms(_median(bot, 'again_seconds'), 1)} "
        f"({_span([n for run in bot for n in run.again_answered])} answered) | | | |",
        f"| CPU of the process per round ({args.quiet} quiet /aide, a flood, the pauses) "
        f"| {common.ms(statistics.median(r.cpu_seconds / rounds for r in bot), 0)} "
        f"| {common.ms(statistics.median(r.cpu_seconds / rounds for r in before), 0)} | | |",
        "",
    ]


def report(
    *, command: str, args: argparse.Namespace, runs: list[Run], uptimes: tuple[str, str]
) -> str:
    lines = [
        "## An agent's /aide while a stranger floods the bot (issue #16)",
        "",
        f"Command, from the repository's root: `{command}`",
        "",
        f"- When: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {common.commit()}",
        f"- Machine: {common.machine()}",
        f"- `uptime` before: `{uptimes[0]}`",
        f"- `uptime` after: `{uptimes[1]}`",
        f"- Scenario: one registered agent; {args.floods} floods a run, each by a new stranger "
        f"who sends {args.size} text messages at once (all queued at the fake Bot API before "
        "the bot fetches any), then the agent sends /aide; before each flood, "
        f"{args.quiet} /aide alone (the quiet figure); `bot` only, after each flood, the "
        "same stranger floods again with nobody else asking (taking in a flood); a pause of "
        f"{PAUSE_SECONDS:.0f} s before each phase",
        "- Latency: from the agent's /aide queued at the fake Bot API to the bot having "
        "finished with it, its answer sent (long polling, `getUpdates` timeout 1 s)",
        "- `bot`: the defaults (TELEGRAM_MAX_RATE 30, FLOOD_* limits of bot/config.py, "
        f"{MAX_CONCURRENT_UPDATES} people's updates at once, each person's in order, what "
        "people send parsed at its turn); `before`: bot/processing.py as it was before issue "
        "#16, one update at a time across all people, parsed on arrival, no per-account "
        "limit; each bot in a fresh process per run, runs interleaved (ABBA)",
        f"- Figures: median over {args.runs} runs of each run's median "
        f"({args.floods * args.quiet} quiet /aide and {args.floods} during a flood a run)",
        "",
    ]
    for latency in args.latency:
        at = [run for run in runs if run.latency == latency]
        bot = [run for run in at if run.kind == "bot"]
        before = [run for run in at if run.kind == "before"]
        lines += _table(args, latency, bot, before)
    lines += [
        "Per run (in the order measured), the agent's /aide quiet → during a flood (medians), "
        "and load average (1 min) around it: "
        + "; ".join(
            f"{run.kind} @{common.ms(run.latency, 0)} {common.ms(statistics.median(run.quiet))} "
            f"→ {common.ms(statistics.median(run.during))} (× {run.ratio:.2f}; load "
            f"{run.load[0]:.2f} → {run.load[1]:.2f})"
            for run in runs
        ),
    ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.flood", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--latency", type=float, action="append", help="seconds; repeatable (default 0, 0.05)"
    )
    parser.add_argument("--floods", type=int, default=5, help="floods per run")
    parser.add_argument("--size", type=int, default=150, help="messages per flood")
    parser.add_argument("--quiet", type=int, default=5, help="quiet /aide before each flood")
    parser.add_argument("--runs", type=int, default=3, help="runs of each bot at each latency")
    parser.add_argument("--readme", action="store_true", help="rewrite the README section")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.latency = args.latency or [0.0, 0.05]
    if args.child:
        run = asyncio.run(measure(args.child, args.latency[0], args.floods, args.size, args.quiet))
        print(json.dumps(asdict(run)))
        return

    command = shlex.join([".venv/bin/python", "-m", "benchmarks.flood", *sys.argv[1:]])
    uptime_before = common.uptime()
    print(f"{uptime_before}\n{common.machine()}", flush=True)
    runs: list[Run] = []
    for latency in args.latency:
        for number in range(args.runs):
            # ABBA: neither bot always goes first while the machine's load drifts.
            for kind in KINDS if number % 2 == 0 else tuple(reversed(KINDS)):
                run = run_child(kind, latency, args)
                runs.append(run)
                print(
                    f"  {kind:6s} @{common.ms(latency, 0)}: /aide quiet "
                    f"{common.ms(statistics.median(run.quiet))}, during a flood "
                    f"{common.ms(statistics.median(run.during))} (× {run.ratio:.2f}); "
                    f"stranger {run.answered} answered, {run.dropped} dropped "
                    f"(load {run.load[0]:.2f} → {run.load[1]:.2f})",
                    flush=True,
                )
    uptimes = (uptime_before, common.uptime())
    section = report(command=command, args=args, runs=runs, uptimes=uptimes)
    print()
    print(section)
    if args.readme:
        common.write_section(NAME, section)
        print(f"Written to {common.README}")


if __name__ == "__main__":
    main()
