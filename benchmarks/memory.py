"""Issue #8: peak RSS of the running bot with 10,000 people and 1,000,000 visits.

    python -m benchmarks.memory [--visits 1000000] [--sites 100] [--people 10000]
                                [--agents 5] [--runs 3] [--db PATH] [--keep] [--readme]

1. Fills a database with benchmarks/indicators.py's `fill` (a year of synthetic visits of
   one Caf over its sites, two agents a site, a coordinator), then registers more people
   (one manager a site, the rest agents) up to `--people`. `--db` keeps it for the next
   run, which reuses it when it holds the same data.
2. Each run starts the bot as production does, `bot.cli.main(["run"])` (polling), in a
   process of its own, through `python -m tests.clocked_bot` whose clock starts at
   Thursday 15 January 2026, 10:00 in Paris
   (the year of visits just ended), against the fake Bot API of
   bot/sandbox/bot_api.py on 127.0.0.1, which knows every registered person. Then, one
   after the other:
   - start-up: the bot polls, and the scheduled work due at start-up, if any, is done and
     its messages sent (with this data there was none);
   - agents: `--agents` agents of different sites each log two typical visits;
   - the Caf's quarter: the coordinator opens 📈 Indicateurs (the quarter under way) and
     goes back to the 4th quarter of 2025 (a quarter of the whole Caf, 260,000 visits),
     then to the 3rd, then one site's, then the whole Caf's again;
   - charts: 📊 Graphiques of the Caf's quarter (three PNGs, matplotlib);
   - exports: 📥 Excel then 📄 CSV of the Caf's quarter (openpyxl, a sheet per site).
   After each step the bot process's VmHWM (peak resident set, read from /proc) is noted;
   the last one is the run's peak. The charts and the workbook are drawn in short-lived
   child processes (bot/offload.py), whose own peak the bot logs: it is reported apart.
3. Baseline, in the same run: the same bot, people and steps over a database without any
   visit (filled the same way with `--visits 0`), so that what the visits cost stands
   apart from what the code paths cost. Runs are interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks import indicators as filling
from bot.domain.secrecy import SECRECY_VERSION
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from tests.clocked_bot import ChildClock

NAME = "memory"
KINDS = ("full", "baseline")
MARKER = "benchmarks.memory"
GENERATOR = 1  # changes whenever the people added here do
FIRST_EXTRA_TELEGRAM_ID = 10_000_000
# Thursday 15 January 2026, 10:00 in Paris: 2025-Q4 has just ended.
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
TARGET_MB = 150.0
STEPS = ("start-up", "agents", "Caf's quarter", "charts", "exports")
WAIT_SECONDS = 180.0


# ---------------------------------------------------------------------------- the data
def _marker(visits: int, sites: int, people: int) -> str:
    return json.dumps(
        {
            "visits": visits,
            "sites": sites,
            "people": people,
            "generator": GENERATOR,
            "fill": filling.GENERATOR,
        },
        sort_keys=True,
    )


def prepare(path: Path, *, visits: int, sites: int, people: int) -> tuple[float, bool]:
    """The database, filled or reused; returns (seconds it took to fill, reused)."""
    if path.exists() and common.stored_marker(path, MARKER) == _marker(visits, sites, people):
        return 0.0, True
    if path.exists():
        if common.stored_marker(path, MARKER) is None and (
            common.stored_marker(path, filling.MARKER) is None
        ):
            raise SystemExit(f"{path} exists and was not filled by a benchmark")
        for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            part.unlink(missing_ok=True)
    began = time.perf_counter()
    filling.fill(path, visits=visits, sites=sites)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        caf_id, created = conn.execute("SELECT id, created_at FROM cafs").fetchone()
        site_ids = [row[0] for row in conn.execute("SELECT id FROM partners ORDER BY id")]
        have = int(conn.execute("SELECT COUNT(*) FROM people").fetchone()[0])
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO people (telegram_user_id, display_name, role, caf_id, partner_id,"
            " joined_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    FIRST_EXTRA_TELEGRAM_ID + n,
                    f"Personne {n}",
                    "manager" if n < len(site_ids) else "agent",
                    caf_id,
                    site_ids[n % len(site_ids)],
                    created,
                    created,
                )
                for n in range(max(0, people - have))
            ),
        )
        # People written here, not through an invitation: their site in person_sites, and
        # their Article 5 commitment made (as they would have before using the bot).
        conn.execute(
            "INSERT INTO person_sites (person_id, partner_id, since) SELECT id, partner_id,"
            " joined_at FROM people WHERE partner_id IS NOT NULL"
            " AND id NOT IN (SELECT person_id FROM person_sites)"
        )
        conn.execute(
            "UPDATE people SET secrecy_committed_at = joined_at, secrecy_version = ?"
            " WHERE role != 'coordinator' AND secrecy_committed_at IS NULL",
            (SECRECY_VERSION,),
        )
        conn.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (MARKER, _marker(visits, sites, people)),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return time.perf_counter() - began, False


def _figures(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        counts = {
            table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("people", "partners", "visits", "visit_actions", "visit_themes")
        }
        # The fill's year; the agents of earlier runs logged theirs in 2026.
        counts["visits_2025"] = int(
            conn.execute("SELECT COUNT(*) FROM visits WHERE visited_at < '2026'").fetchone()[0]
        )
        return counts | {"megabytes": int(path.stat().st_size / 1e6)}
    finally:
        conn.close()


def _people(path: Path, agents: int) -> tuple[list[tuple[int, str]], int, list[int]]:
    """Everyone's Telegram id and name; the coordinator's id; agents of different sites."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        everyone = conn.execute(
            "SELECT telegram_user_id, display_name FROM people WHERE telegram_user_id IS NOT NULL"
        ).fetchall()
        coordinator = conn.execute(
            "SELECT telegram_user_id FROM people WHERE role = 'coordinator'"
        ).fetchone()[0]
        chosen = conn.execute(
            "SELECT MIN(telegram_user_id) FROM people WHERE role = 'agent'"
            " GROUP BY partner_id ORDER BY partner_id LIMIT ?",
            (agents,),
        ).fetchall()
    finally:
        conn.close()
    return everyone, coordinator, [row[0] for row in chosen]


def _busy(path: Path, now: datetime) -> int:
    """Scheduled work due and not done, and messages due and not sent, at the bot's `now`."""
    stamp = now.isoformat(timespec="seconds")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return int(
            conn.execute(
                "SELECT (SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')"
                " AND not_before <= :now) + (SELECT COUNT(*) FROM scheduled_jobs"
                " WHERE status IN ('pending', 'running') AND due_at <= :now)",
                {"now": stamp},
            ).fetchone()[0]
        )
    finally:
        conn.close()


def _done_jobs(path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return [
            f"{kind} ×{n}"
            for kind, n in conn.execute(
                "SELECT kind, COUNT(*) FROM scheduled_jobs WHERE status = 'done' GROUP BY kind"
            )
        ]
    finally:
        conn.close()


# ---------------------------------------------------------------------------- a run
@dataclass
class Probe:
    kind: str
    peaks_kib: dict[str, int] = field(default_factory=dict)  # step → VmHWM after it
    rss_end_kib: int = 0
    anon_end_kib: int = 0  # RssAnon: the process's own memory
    file_end_kib: int = 0  # RssFile: mapped files (libraries), shared with others
    seconds: dict[str, float] = field(default_factory=dict)  # step → how long it took
    checks: dict[str, Any] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)

    @property
    def peak_kib(self) -> int:
        return max(self.peaks_kib.values())


async def _until(predicate: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _no_settle(update_id: int) -> None:
    """Each step waits for what it expects to see instead (the bot is another process)."""


def _offers(user: FakeUser, label: str) -> bool:
    messages = user.bot_messages
    return bool(messages) and label in messages[-1].labels


def _last_text(user: FakeUser) -> str:
    messages = user.bot_messages
    return (messages[-1].text or "") if messages else ""


async def _show(user: FakeUser, label: str, expect: str) -> None:
    """Taps a button of the indicators' message and waits for the message to show `expect`."""
    message = user.last_message
    edits = message.edits
    await user.tap(label, message)
    await _until(
        lambda: message.edits > edits and expect in (message.text or ""),
        f"« {expect} » after « {label} »",
    )


async def measure(kind: str, path: Path, agents: int) -> Probe:
    probe = Probe(kind)
    load_before = common.load()
    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    fake = FakeBotApi()
    await fake.start()
    process: asyncio.subprocess.Process | None = None
    log_file = (folder / "bot.log").open("wb")
    try:
        everyone, coordinator_id, agent_ids = _people(path, agents)
        for telegram_id, name in everyone:
            fake.user(telegram_id, name)
        fake.settle = _no_settle
        clock = ChildClock(folder / "clock", NOW)
        env = common.bot_environment(
            fake.base_url, fake.base_file_url, path, POLLING_TIMEOUT_SECONDS="1"
        )
        began = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.clocked_bot",
            str(clock.path),
            "run",
            cwd=folder,
            env=env,
            stdout=log_file,
            stderr=log_file,
        )
        pid = process.pid

        def note(step: str, since: float) -> float:
            if process is not None and process.returncode is not None:
                raise RuntimeError(f"the bot stopped during {step}: {_tail(folder / 'bot.log')}")
            probe.peaks_kib[step] = common.vm_hwm_kib(pid)
            now = time.monotonic()
            probe.seconds[step] = now - since
            return now

        await fake.wait_for(lambda: bool(fake.calls_to("getUpdates")), timeout=60)
        await asyncio.sleep(1.0)  # the scheduler's first tick
        await _until(lambda: _busy(path, clock.now()) == 0, "the start-up work to end")
        probe.checks["start_up_messages"] = sum(
            1 for call in fake.calls if call.method == "sendMessage"
        )
        probe.checks["jobs_done"] = _done_jobs(path)
        mark = note("start-up", began)

        for telegram_id in agent_ids:
            agent = fake.user(telegram_id)
            for _ in range(2):
                await agent.send("📝 Nouvelle visite")
                for label in common.TYPICAL_VISIT:
                    await _until(lambda a=agent, b=label: _offers(a, b), f"the button « {label} »")
                    await agent.tap(label, agent.last_message)
                await _until(
                    lambda a=agent: "Visite enregistrée" in _last_text(a), "the visit saved"
                )
        mark = note("agents", mark)

        coordinator = fake.user(coordinator_id)
        await coordinator.send("📈 Indicateurs")
        await _until(
            lambda: "1er trimestre 2026" in _last_text(coordinator),
            "the indicators of the quarter under way",
        )
        await _show(coordinator, "◀️ 4e trimestre 2025", "4e trimestre 2025")
        probe.checks["caf_quarter_text"] = (coordinator.last_message.text or "")[:160]
        await _show(coordinator, "◀️ 3e trimestre 2025", "3e trimestre 2025")
        await _show(coordinator, "4e trimestre 2025 ▶️", "4e trimestre 2025")
        await _show(coordinator, "🏢 Un site", "site")
        site = coordinator.last_message.labels[0]
        await _show(coordinator, site, site.split(" ")[-1])
        await _show(coordinator, "🌐 Toute la Caf", "4e trimestre 2025")
        mark = note("Caf's quarter", mark)

        photos = sum(1 for m in coordinator.bot_messages if m.kind == "photo")
        await coordinator.tap("📊 Graphiques", coordinator.last_message)
        await _until(
            lambda: sum(1 for m in coordinator.bot_messages if m.kind == "photo") >= photos + 3,
            "three charts",
        )
        view = next(m for m in reversed(coordinator.bot_messages) if m.kind == "text")
        mark = note("charts", mark)

        for label in ("📥 Excel", "📄 CSV"):
            documents = sum(1 for m in coordinator.bot_messages if m.kind == "document")
            await coordinator.tap(label, view)
            await _until(
                lambda d=documents: (
                    sum(1 for m in coordinator.bot_messages if m.kind == "document") > d
                ),
                label,
            )
        names = [m.document_name for m in coordinator.bot_messages if m.kind == "document"]
        probe.checks["documents"] = names
        probe.checks["xlsx_bytes"] = len(
            next(m for m in coordinator.bot_messages if m.kind == "document").document_bytes or b""
        )
        note("exports", mark)
        status = common.proc_status_kib(pid)
        probe.rss_end_kib = status.get("VmRSS", 0)
        probe.anon_end_kib, probe.file_end_kib = status.get("RssAnon", 0), status.get("RssFile", 0)
    except Exception as exc:
        chat = fake.user(coordinator_id).bot_messages[-3:] if "coordinator_id" in locals() else []
        seen = " | ".join(f"{m.kind}: {(m.text or '')[:120]!r}" for m in chat)
        raise RuntimeError(
            f"{exc}\ncoordinator's last messages: {seen}\nbot log:\n{_tail(folder / 'bot.log')}"
        ) from exc
    finally:
        await common.stop_process(process)
        log_file.close()
        probe.checks["log_errors"] = _errors(folder / "bot.log")
        probe.checks["offloaded"] = _offloaded(folder / "bot.log")
        await fake.stop()
        shutil.rmtree(folder, ignore_errors=True)
    probe.load = (load_before, common.load())
    return probe


def _tail(path: Path) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-20:])
    except OSError:
        return ""


OFFLOADED = re.compile(r"Rendu hors processus : (\S+) en ([\d.]+) s, pic de mémoire (\d+) Mo")


def _offloaded(path: Path) -> list[tuple[str, float, int]]:
    """(job, seconds, peak MB) of each child process bot/offload.py ran, from the bot's log."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [(m[1], float(m[2]), int(m[3])) for m in OFFLOADED.finditer(text)]


def _errors(path: Path) -> list[str]:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line[:200] for line in lines if " ERROR " in line or "Traceback" in line][:5]


def run_child(kind: str, path: Path, agents: int) -> Probe:
    command = [
        sys.executable,
        "-m",
        "benchmarks.memory",
        "--child",
        kind,
        "--db",
        str(path),
        "--agents",
        str(agents),
    ]
    done = subprocess.run(command, cwd=common.ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind}: the measuring process failed:\n{done.stderr}")
    data = json.loads(done.stdout.splitlines()[-1])
    data["load"] = tuple(data["load"])
    return Probe(**data)


# ---------------------------------------------------------------------------- report
def report(
    *,
    command: str,
    args: argparse.Namespace,
    data: dict[str, dict[str, int]],
    filled: tuple[float, bool],
    probes: dict[str, list[Probe]],
    order: list[Probe],
    uptimes: tuple[str, str],
) -> str:
    full, base = probes["full"], probes["baseline"]
    peak = statistics.median(p.peak_kib for p in full)
    peak_mb = peak * 1024 / 1e6
    seconds, reused = filled
    lines = [
        "## Peak RSS of the running bot, 10 000 people and 1 000 000 visits (issue #8)",
        "",
        f"Command, from the repository's root: `{command}`",
        "",
        f"- When: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {common.commit()}",
        f"- Machine: {common.machine()}",
        f"- `uptime` before: `{uptimes[0]}`",
        f"- `uptime` after: `{uptimes[1]}`",
        f"- Data: {common.number(data['full']['people'])} people (a coordinator, "
        f"{args.sites} managers, the others agents) over {data['full']['partners']} sites, "
        f"{common.number(data['full']['visits_2025'])} visits of 2025 "
        f"({common.number(data['full']['visit_actions'])} ticks of the grid, "
        f"{common.number(data['full']['visit_themes'])} themes), database "
        f"{common.number(data['full']['megabytes'])} MB"
        + (" filled by an earlier run (`--db`)" if reused else f", filled in {seconds:.0f} s")
        + f"; plus {common.number(data['full']['visits'] - data['full']['visits_2025'])} "
        "visits of 2026 logged by the agents of this run and of earlier ones on this database",
        "- Baseline: the same people and sites, no visit "
        f"(database {common.number(data['baseline']['megabytes'])} MB)",
        "- Each run: `python -m bot run` in a process of its own (polling the fake Bot API on "
        "127.0.0.1, its clock on Thursday 15 January 2026, 10:00 in Paris), driven through "
        f"the steps below; VmHWM of that process after each step; medians of {args.runs} "
        "runs, bot and baseline interleaved",
        "",
        f"| peak RSS (VmHWM) of the bot after … | {common.number(data['full']['visits_2025'])} "
        "visits | no visit (baseline) "
        "| difference | target | |",
        "|---|---:|---:|---:|---:|---|",
    ]
    descriptions = {
        "start-up": "start-up (polling; any scheduled work due at start done)",
        "agents": f"{args.agents} agents log two visits each",
        "Caf's quarter": "the coordinator's 📈 Indicateurs: the quarter under way, the Caf's "
        "2025-Q4 and Q3, one site's, the Caf's again",
        "charts": "📊 Graphiques of the Caf's 2025-Q4 (matplotlib, in a child process)",
        "exports": "📥 Excel and 📄 CSV of the Caf's 2025-Q4 (openpyxl, in a child process)",
    }
    for step in STEPS:
        f = statistics.median(p.peaks_kib[step] for p in full)
        b = statistics.median(p.peaks_kib[step] for p in base)
        last = step == STEPS[-1]
        lines.append(
            f"| {descriptions[step]} | {common.mb(f)} | {common.mb(b)} | {common.mb(f - b)} "
            + (
                f"| ≤ {TARGET_MB:.0f} MB | {'pass' if peak_mb <= TARGET_MB else '**fail**'} |"
                if last
                else "| | |"
            )
        )
    for label, key in (
        ("RSS at the end (VmRSS)", "rss_end_kib"),
        ("… of which the process's own memory (RssAnon)", "anon_end_kib"),
        ("… of which mapped files: libraries, shared (RssFile)", "file_end_kib"),
    ):
        f = statistics.median(getattr(p, key) for p in full)
        b = statistics.median(getattr(p, key) for p in base)
        lines.append(f"| {label} | {common.mb(f)} | {common.mb(b)} | {common.mb(f - b)} | | |")
    children: dict[str, list[tuple[float, int]]] = {}
    for p in full:
        for job, seconds, peak in p.checks.get("offloaded", []):
            children.setdefault(job, []).append((seconds, peak))
    lines += [
        "",
        "Child processes (bot/offload.py), with the visits, median of the runs: "
        + (
            "; ".join(
                f"`{job}` peak {statistics.median(peak for _, peak in runs):.0f} MB in "
                f"{statistics.median(seconds for seconds, _ in runs):.1f} s"
                for job, runs in children.items()
            )
            or "none"
        )
        + ". Their memory is given back when they exit; it is not in the bot's figures above.",
        "",
        "Seconds per step (median, with the visits): "
        + ", ".join(
            f"{step} {statistics.median(p.seconds[step] for p in full):.1f} s" for step in STEPS
        ),
        "",
        "Per run (in the order measured), peak RSS and load average (1 min) around it: "
        + "; ".join(
            f"{p.kind} {common.mb(p.peak_kib)} ({p.load[0]:.2f} → {p.load[1]:.2f})" for p in order
        ),
        "",
        "Checks: "
        + "; ".join(
            f"{p.kind}: {p.checks['start_up_messages']} messages at start-up, scheduled work "
            f"done {', '.join(p.checks['jobs_done']) or 'none'}, documents "
            f"{p.checks['documents']}, errors in the log {p.checks['log_errors'] or 'none'}"
            for p in (full[0], base[0])
        ),
        "",
        "The Caf's 2025-Q4 as the coordinator saw it: « "
        + full[0].checks["caf_quarter_text"].replace("\n", " / ")
        + " »",
    ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.memory", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=5, help="agents logging visits")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", type=Path, help="database to fill, or reuse if it matches")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases")
    parser.add_argument("--readme", action="store_true", help="rewrite the README section")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        probe = asyncio.run(measure(args.child, args.db, args.agents))
        print(json.dumps(asdict(probe)))
        return

    command = shlex.join([".venv/bin/python", "-m", "benchmarks.memory", *sys.argv[1:]])
    uptime_before = common.uptime()
    print(f"{uptime_before}\n{common.machine()}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-memory-db-"))
    path = args.db.resolve() if args.db else folder / "full.sqlite3"
    baseline_path = folder / "baseline.sqlite3"
    try:
        print(f"Database: {path}", flush=True)
        filled = prepare(path, visits=args.visits, sites=args.sites, people=args.people)
        prepare(baseline_path, visits=0, sites=args.sites, people=args.people)
        print(json.dumps({"full": _figures(path), "baseline": _figures(baseline_path)}))
        probes: dict[str, list[Probe]] = {"full": [], "baseline": []}
        order: list[Probe] = []
        for number in range(args.runs):
            kinds = KINDS if number % 2 == 0 else tuple(reversed(KINDS))
            for kind in kinds:
                probe = run_child(kind, path if kind == "full" else baseline_path, args.agents)
                probes[kind].append(probe)
                order.append(probe)
                print(
                    f"  {kind:8s} run {len(probes[kind])}: peak {common.mb(probe.peak_kib)} "
                    + ", ".join(f"{s} {common.mb(v)}" for s, v in probe.peaks_kib.items())
                    + f" (load {probe.load[0]:.2f} → {probe.load[1]:.2f})",
                    flush=True,
                )
        data = {"full": _figures(path), "baseline": _figures(baseline_path)}
        section = report(
            command=command,
            args=args,
            data=data,
            filled=filled,
            probes=probes,
            order=order,
            uptimes=(uptime_before, common.uptime()),
        )
        print()
        print(section)
        if args.readme:
            common.write_section(NAME, section)
            print(f"Written to {common.README}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"Kept {folder}")


if __name__ == "__main__":
    main()
