"""Issue #7: a Caf's quarter of Annexe 2 indicators over a year of a large network.

    python -m benchmarks.indicators [--visits 1000000] [--sites 100] [--runs 5]
                                    [--db PATH] [--keep] [--readme]

1. Fills a database with a year (2025) of synthetic visits of one Caf (Europe/Paris) over
   its sites: weekdays and 9–17 h mostly, fewer in August, none on public holidays, busier
   and quieter sites; answers drawn from bot/domain/taxonomy.py with a fixed seed. The rows
   are exactly those production writes (storage/visits.py: the visit, its draft, the grid's
   ticks and the themes with their copies of the visit's Caf, site, instant and resolution,
   `lead` on the first action of each request type), inserted with the synchronous sqlite3
   module, the schema's triggers still checking every code. `--db` keeps the database for
   the next run, which reuses it when it holds the same data.
2. Measures each kind in a fresh process, so that its peak RSS is that of the work alone
   (the interpreter and the modules the work imports included):
   - `caf`: what the chat view computes for a coordinator, in one `db.read()`: the quarter
     counted for the Caf as one whole and the previous quarter's summary, then `build`,
     `total` and `Comparison.of`;
   - `site`: the same for the quarter's busiest site;
   - `excel`: bot.exports.indicators `collect` and `to_xlsx` for the Caf's quarter.
   Each kind has a first run after the database file was dropped from the OS page cache
   (posix_fadvise, that file only), shown apart, then `--runs` runs for the medians. The
   baseline, measured in the same process and interleaved with the runs, is the cheapest
   read of the same question: `SELECT COUNT(*)` over the quarter's index range.
   Each kind is measured twice in the same run (issue #19): as the bot counts now, from
   the counts of storage/visit_counts.py (`caf`, `site`, `excel`), and as it counted
   before, from the raw visits (`caf-raw`, `site-raw`, `excel-raw`: the same code with
   the Caf's counts hidden, so storage/indicators.py falls back on `count_raw_rows`, the
   SQL of issue #7).
3. The counts: the fill writes raw rows, as the visits of a deployment before migration
   0020; the counts are then built the way such a deployment upgrades (migration 0020's
   backfill, timed), and once more by `visit_counts.rebuild` (what a change of the Caf's
   zone runs, timed).
4. Prints the figures; `--readme` also rewrites their section of benchmarks/README.md.

Machines are shared: the load average is recorded around every measurement; re-run when
it is high rather than trusting one figure.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import re
import resource
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks import common
from bot.domain import taxonomy
from bot.domain.indicators import Comparison, build, total
from bot.domain.models import Caf
from bot.domain.periods import Period, parse_period
from storage.db import Database, Params
from storage.indicators import count_rows
from storage.timefmt import to_db

YEAR = 2025
QUARTER = "2025-Q4"  # its previous quarter is in the data too
TIMEZONE = "Europe/Paris"
SEED = 7
CAF_NAME = "Caf du banc d'essai"
AGENTS_PER_SITE = 2
CHUNK = 50_000  # visits per transaction while filling
# Changes whenever the generator does, so that `--db` never reuses other data.
GENERATOR = 3  # 3: the counts of migration 0020 (issue #19), the whole Caf as site 0
MARKER = "benchmarks.indicators"
FILL_KEY = "benchmarks.indicators.fill_seconds"
COUNTS_KEY = "benchmarks.indicators.counts_seconds"

ROOT = Path(__file__).resolve().parent.parent

# What is measured: the counts (#19), then the raw visits as before (#7), interleaved.
KINDS = ("caf", "caf-raw", "site", "site-raw", "excel", "excel-raw")

# Targets of issue #7.
TARGET_INDICATORS_S = 1.0
TARGET_EXCEL_S = 5.0
TARGET_RSS_MB = 150.0

# ---------------------------------------------------------------------------- data shape
# Relative weights; an option of the taxonomy not named here weighs 1.
WEIGHTS: dict[str, dict[str, float]] = {
    "sexe": {"femme": 58, "homme": 38, "personne_morale": 4},
    "age": {"moins_25": 20, "25_60": 55, "plus_60": 25},
    "statut": {"allocataire": 75, "non_allocataire": 25},
    "autonomie": {"debutant": 45, "intermediaire": 35, "autonome": 20},
    "resolution": {"oui": 70, "non": 10, "partiellement": 20},
    "theme": {
        "enfance_jeunesse": 25,
        "logement_cadre_de_vie": 35,
        "petite_enfance": 15,
        "solidarite_insertion": 25,
    },
}
WEEKDAY_WEIGHTS = (10, 10, 8, 10, 8, 2, 0)  # Monday … Sunday
HOUR_WEIGHTS = {8: 2, 9: 8, 10: 12, 11: 12, 12: 4, 13: 5, 14: 11, 15: 12, 16: 10, 17: 6, 18: 2}
MONTH_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.9, 1.0, 0.8, 0.5, 1.2, 1.1, 1.0, 0.8)
TWO_REQUESTS = 0.25  # share of visits with two request types
TWO_ACTIONS = 0.30  # share of request types with two actions
TWO_THEMES = 0.20


def _cumulative(
    question: taxonomy.Question, weights: dict[str, float] | None = None
) -> list[float]:
    shape = weights if weights is not None else WEIGHTS.get(question.code, {})
    running, cumulative = 0.0, list[float]()
    for code in question.codes:
        running += shape.get(code, 1.0)
        cumulative.append(running)
    return cumulative


def _distinct(
    rng: random.Random, codes: tuple[str, ...], cumulative: list[float], n: int
) -> list[str]:
    """`n` different codes drawn by weight, in the order drawn (as an agent ticks them)."""
    drawn: list[str] = []
    while len(drawn) < n:
        code = rng.choices(codes, cum_weights=cumulative)[0]
        if code not in drawn:
            drawn.append(code)
    return drawn


def _hour_slots(year: int, tz: ZoneInfo) -> tuple[list[str], list[float]]:
    """Every local hour of the year a site may be open, as the UTC text its instants start
    with (`2025-10-01T07:`), and the cumulative weights to draw them."""
    import holidays  # only the fill needs it

    closed = holidays.France(years=year)
    prefixes: list[str] = []
    cumulative: list[float] = []
    running = 0.0
    day = date(year, 1, 1)
    while day.year == year:
        weight = WEEKDAY_WEIGHTS[day.weekday()] * MONTH_WEIGHTS[day.month - 1]
        if weight and day not in closed:
            for hour, hour_weight in HOUR_WEIGHTS.items():
                local = datetime.combine(day, day_time(hour), tzinfo=tz)
                prefixes.append(local.astimezone(UTC).strftime("%Y-%m-%dT%H:"))
                running += weight * hour_weight
                cumulative.append(running)
        day += timedelta(days=1)
    return prefixes, cumulative


# ---------------------------------------------------------------------------- filling
@dataclass(frozen=True)
class Filled:
    path: Path
    seconds: float | None  # how long the fill took (None: not known)
    reused: bool  # filled by an earlier run
    visits: int
    actions: int
    themes: int
    megabytes: float
    # Building the counts: migration 0020's backfill, `visit_counts.rebuild` (seconds).
    counts_seconds: dict[str, float] | None = None


def _marker(visits: int, sites: int) -> str:
    return json.dumps(
        {"visits": visits, "sites": sites, "seed": SEED, "year": YEAR, "generator": GENERATOR},
        sort_keys=True,
    )


async def _create_schema(path: Path) -> None:
    from storage.setup import open_storage

    db = await open_storage(path)  # migrations and taxonomy_options, as the bot starts
    await db.close()


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def fill(path: Path, *, visits: int, sites: int) -> Filled:
    """A fresh database holding `visits` synthetic visits of one Caf over `sites` sites."""
    began = time.perf_counter()
    asyncio.run(_create_schema(path))
    rng = random.Random(SEED)
    tz = ZoneInfo(TIMEZONE)
    created = to_db(datetime(YEAR - 1, 12, 1, 9, tzinfo=tz))

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")  # the fill only: the bot opens with FULL
    conn.execute("PRAGMA cache_size=-262144")  # 256 MiB while indexes grow
    conn.execute("BEGIN")
    caf_id = conn.execute(
        "INSERT INTO cafs (name, reporting_period, timezone, created_at)"
        " VALUES (?, 'quarterly', ?, ?)",
        (CAF_NAME, TIMEZONE, created),
    ).lastrowid
    partners = []
    for number in range(1, sites + 1):
        partner_id = conn.execute(
            "INSERT INTO partners (caf_id, name, city, address, label_status,"
            " label_status_since, convention_start, created_at)"
            " VALUES (?, ?, ?, '', 'active', ?, ?, ?)",
            (
                caf_id,
                f"Point numérique {number:03d}",
                f"Commune {number:03d}",
                created,
                f"{YEAR - 1}-12-01",
                created,
            ),
        ).lastrowid
        partners.append(partner_id)
    conn.execute(
        "INSERT INTO people (telegram_user_id, display_name, role, caf_id, partner_id,"
        " joined_at, last_seen_at) VALUES (1, 'Coordination', 'coordinator', ?, NULL, ?, ?)",
        (caf_id, created, created),
    )
    # Each site's agents: (person id, their Telegram id, used as the draft's chat).
    agents: dict[int, list[tuple[int, int]]] = {}
    for partner_id in partners:
        for number in range(AGENTS_PER_SITE):
            telegram_id = 1000 * partner_id + number
            person_id = conn.execute(
                "INSERT INTO people (telegram_user_id, display_name, role, caf_id, partner_id,"
                " joined_at, last_seen_at) VALUES (?, ?, 'agent', ?, ?, ?, ?)",
                (telegram_id, f"Agent {partner_id}-{number}", caf_id, partner_id, created, created),
            ).lastrowid
            agents.setdefault(partner_id, []).append((person_id, telegram_id))
    conn.execute("COMMIT")

    # Instants in order, as production's ids follow time; within an hour, any second.
    prefixes, slot_weights = _hour_slots(YEAR, tz)
    slots = rng.choices(range(len(prefixes)), cum_weights=slot_weights, k=visits)
    keys = sorted(slot * 3600 + rng.randrange(3600) for slot in slots)
    del slots
    site_weights = [rng.lognormvariate(0, 0.5) for _ in partners]

    # Request types and actions: the first options of the taxonomy the most frequent.
    demandes, actions, themes = taxonomy.DEMANDE.codes, taxonomy.ACTION.codes, taxonomy.THEME.codes
    demande_weights = _cumulative(
        taxonomy.DEMANDE, {code: 1 / (1 + rank) ** 0.7 for rank, code in enumerate(demandes)}
    )
    action_weights = _cumulative(
        taxonomy.ACTION, {code: 1 / (1 + rank) ** 0.5 for rank, code in enumerate(actions)}
    )
    theme_weights = _cumulative(taxonomy.THEME)
    counted = {"actions": 0, "themes": 0}
    for first in range(0, visits, CHUNK):
        size = min(CHUNK, visits - first)
        draw = {
            question.code: rng.choices(question.codes, cum_weights=_cumulative(question), k=size)
            for question in (*taxonomy.PROFILE, taxonomy.RESOLUTION)
        }
        sites_drawn = rng.choices(partners, weights=site_weights, k=size)
        draft_rows, visit_rows, action_rows, theme_rows = [], [], [], []
        for index in range(size):
            visit_id = first + index + 1
            key = keys[first + index]
            at = f"{prefixes[key // 3600]}{key % 3600 // 60:02d}:{key % 60:02d}+00:00"
            partner_id = sites_drawn[index]
            person_id, chat_id = agents[partner_id][index % AGENTS_PER_SITE]
            sexe = draw["sexe"][index]
            age = None if sexe == taxonomy.LEGAL_PERSON else draw["age"][index]
            resolution = draw["resolution"][index]
            draft_rows.append((visit_id, person_id, partner_id, chat_id, at, at))
            visit_rows.append(
                (
                    visit_id,
                    visit_id,
                    caf_id,
                    partner_id,
                    person_id,
                    at,
                    sexe,
                    age,
                    draw["statut"][index],
                    draw["autonomie"][index],
                    resolution,
                    at,
                    at,
                )
            )
            # The grid as _insert_details writes it: positions over the (request, action)
            # pairs in order, `lead` on the first action of each request type.
            position = 0
            requests = 2 if rng.random() < TWO_REQUESTS else 1
            for demande in _distinct(rng, demandes, demande_weights, requests):
                ticked = 2 if rng.random() < TWO_ACTIONS else 1
                for lead, action in enumerate(_distinct(rng, actions, action_weights, ticked)):
                    action_rows.append(
                        (
                            visit_id,
                            demande,
                            action,
                            position,
                            int(lead == 0),
                            caf_id,
                            partner_id,
                            at,
                            resolution,
                        )
                    )
                    position += 1
            picked = 2 if rng.random() < TWO_THEMES else 1
            for theme in _distinct(rng, themes, theme_weights, picked):
                theme_rows.append((visit_id, theme, caf_id, partner_id, at))
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO visit_drafts (id, person_id, partner_id, chat_id, revision, state,"
            " status, created_at, updated_at) VALUES (?, ?, ?, ?, 9, '{}', 'saved', ?, ?)",
            draft_rows,
        )
        conn.executemany(
            "INSERT INTO visits (id, draft_id, caf_id, partner_id, person_id, visited_at, sexe,"
            " age, statut, autonomie, resolution, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            visit_rows,
        )
        conn.executemany(
            "INSERT INTO visit_actions (visit_id, demande, action, position, lead, caf_id,"
            " partner_id, visited_at, resolution) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            action_rows,
        )
        conn.executemany(
            "INSERT INTO visit_themes (visit_id, theme, caf_id, partner_id, visited_at)"
            " VALUES (?, ?, ?, ?, ?)",
            theme_rows,
        )
        conn.execute("COMMIT")
        counted["actions"] += len(action_rows)
        counted["themes"] += len(theme_rows)
        done = first + size
        if done % (10 * CHUNK) == 0 or done == visits:
            print(f"  {done:>9,} visits ({time.perf_counter() - began:5.1f} s)", flush=True)
    conn.execute("ANALYZE")
    seconds = time.perf_counter() - began
    # How long this fill took, for the report of a later run that reuses the database.
    conn.executemany(
        "INSERT INTO kv (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [(MARKER, _marker(visits, sites)), (FILL_KEY, json.dumps(seconds))],
    )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    counts_seconds = asyncio.run(build_counts(path))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (COUNTS_KEY, json.dumps(counts_seconds)),
    )
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return Filled(
        path,
        seconds,
        False,
        visits,
        counted["actions"],
        counted["themes"],
        _megabytes(path),
        counts_seconds,
    )


async def build_counts(path: Path) -> dict[str, float]:
    """The counts of the raw rows just written, as a deployment gets them: migration 0020
    run on its visits (the database taken back to schema 19 first), then, as a change of
    the Caf's zone would, `visit_counts.rebuild`. Both timed."""
    from storage import visit_counts

    db = Database(path)
    await db.open(migrate=False)
    try:
        async with db.transaction() as tx:
            for table in ("visit_counts", "visit_hour_counts", "visit_count_zones"):
                await tx.execute(f"DROP TABLE {table}")
            await tx.execute("PRAGMA user_version = 19")
        began = time.perf_counter()
        assert await db.migrate() == [20]
        migration = time.perf_counter() - began
        print(f"  migration 0020's backfill: {migration:.1f} s", flush=True)
        row = await db.fetch_one("SELECT id FROM cafs WHERE name = :name", {"name": CAF_NAME})
        assert row is not None
        began = time.perf_counter()
        async with db.transaction() as tx:
            await visit_counts.rebuild(tx, row["id"], ZoneInfo(TIMEZONE))
        rebuild = time.perf_counter() - began
        print(f"  visit_counts.rebuild: {rebuild:.1f} s", flush=True)
    finally:
        await db.close()
    return {"migration": migration, "rebuild": rebuild}


def _megabytes(path: Path) -> float:
    return sum(part.stat().st_size for part in (path, Path(f"{path}-wal")) if part.exists()) / 1e6


def reuse(path: Path) -> Filled:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        visits, actions, themes = (
            _count(conn, table) for table in ("visits", "visit_actions", "visit_themes")
        )
        stored = conn.execute("SELECT value FROM kv WHERE key = ?", (FILL_KEY,)).fetchone()
        counts = conn.execute("SELECT value FROM kv WHERE key = ?", (COUNTS_KEY,)).fetchone()
    finally:
        conn.close()
    seconds = json.loads(stored[0]) if stored else None
    counts_seconds = json.loads(counts[0]) if counts else None
    return Filled(path, seconds, True, visits, actions, themes, _megabytes(path), counts_seconds)


# ---------------------------------------------------------------------------- measuring
def evict(path: Path) -> None:
    """Drops the database's pages from the OS page cache (this file only, no privilege):
    the next read comes from the disk, as after a restart of the machine."""
    for part in (path, Path(f"{path}-wal")):
        if part.exists():
            descriptor = os.open(part, os.O_RDONLY)
            try:
                os.fsync(descriptor)  # dirty pages cannot be dropped
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)


def peak_rss_kib() -> int:
    """The process's peak resident set (VmHWM). Not `getrusage`'s ru_maxrss: Linux carries
    over to it the RSS of the parent forked before `exec`, here the filling process's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class TimedConn:
    """A Conn noting how long each statement took, to see which query dominates."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.phase = ""
        self.log: list[tuple[str, str, Params, float]] = []

    async def _timed(self, call: Callable[..., Awaitable[Any]], sql: str, params: Params) -> Any:
        began = time.perf_counter()
        result = await call(sql, params)
        self.log.append((self.phase, sql, params, time.perf_counter() - began))
        return result

    async def fetch_one(self, sql: str, params: Params = ()) -> Any:
        return await self._timed(self._conn.fetch_one, sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> Any:
        return await self._timed(self._conn.fetch_all, sql, params)

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        return await self._timed(self._conn.fetch_value, sql, params)

    async def execute(self, sql: str, params: Params = ()) -> Any:
        return await self._timed(self._conn.execute, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)


def _label(number: int, phase: str, sql: str) -> str:
    """`3. quarter: visit_themes`: the statement's rank in the work, and what it reads."""
    table = re.search(r"\bFROM\s+(\w+)", sql)
    what = table.group(1) if table else sql.split()[0]
    if "strftime" in sql:
        what += " (local hours)"
    return f"{number}. {phase}: {what}" if phase else f"{number}. {what}"


@dataclass
class Probe:
    """What one measuring process gathers; sent to the parent as JSON."""

    kind: str
    first: float = 0.0
    runs: list[float] | None = None
    baseline_first: float = 0.0
    baseline: list[float] | None = None
    parts: dict[str, list[float]] | None = None  # part of the work → seconds per run
    queries: dict[str, list[float]] | None = None  # query → seconds per run
    plans: dict[str, str] | None = None
    rss_before_kib: int = 0
    rss_peak_kib: int = 0
    rss_after_first_kib: int = 0
    checks: dict[str, Any] | None = None
    load: tuple[float, float] = (0.0, 0.0)


async def _baseline(db: Database, sql: str, params: dict[str, Any]) -> tuple[float, int]:
    """The cost of just reading the index range: `COUNT(*)` over the same rows."""
    began = time.perf_counter()
    async with db.read() as snapshot:
        counted = await snapshot.fetch_value(sql, params)
    return time.perf_counter() - began, int(counted)


async def _plans(db: Database, log: list[tuple[str, str, Params, float]]) -> dict[str, str]:
    plans = {}
    for number, (phase, sql, params, _) in enumerate(log, start=1):
        rows = await db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params)
        plans[_label(number, phase, sql)] = " / ".join(row["detail"] for row in rows)
    return plans


def _note_queries(probe: Probe, log: list[tuple[str, str, Params, float]]) -> None:
    assert probe.queries is not None
    for number, (phase, sql, _, seconds) in enumerate(log, start=1):
        probe.queries.setdefault(_label(number, phase, sql), []).append(seconds)


async def _open(path: Path) -> tuple[Database, Caf]:
    db = Database(path)
    await db.open(migrate=False)
    row = await db.fetch_one("SELECT * FROM cafs WHERE name = :name", {"name": CAF_NAME})
    assert row is not None, "not a database filled by this benchmark"
    return db, Caf.model_validate(dict(row))


async def measure_counting(path: Path, runs: int, partner_id: int | None) -> Probe:
    """The chat view's indicators of the quarter (the Caf, or one site), and the baseline."""
    probe = Probe("site" if partner_id else "caf", runs=[], baseline=[], queries={})
    load_before = os.getloadavg()[0]
    evict(path)
    db, caf = await _open(path)
    probe.rss_before_kib = peak_rss_kib()
    tz = ZoneInfo(caf.timezone)
    period = parse_period(QUARTER)
    start, end = period.bounds(tz)
    before_start, before_end = period.previous().bounds(tz)
    scope = {"caf_id": caf.id, "tz": tz, "partner_id": partner_id, "by_site": False}

    async def indicators() -> tuple[float, int, TimedConn]:
        began = time.perf_counter()
        async with db.read() as snapshot:
            conn = TimedConn(snapshot)
            conn.phase = "quarter"
            rows = await count_rows(conn, start=start, end=end, **scope)
            conn.phase = "previous"
            previous = await count_rows(
                conn, start=before_start, end=before_end, summary_only=True, **scope
            )
        current = total(build(rows, tz))
        Comparison.of(current, total(build(previous, tz)))
        return time.perf_counter() - began, current.visits, conn

    count_sql = (
        "SELECT COUNT(*) FROM visits WHERE caf_id = :caf AND visited_at >= :start"
        " AND visited_at < :end" + (" AND partner_id = :partner" if partner_id else "")
    )
    count_params = {"caf": caf.id, "start": to_db(start), "end": to_db(end), "partner": partner_id}

    probe.first, visits, _ = await indicators()
    probe.rss_after_first_kib = peak_rss_kib()
    # Not evicted again (the first timed runs would be cold too): the baseline reads an
    # index the indicators never touch, so its first run is still a cold one.
    probe.baseline_first, counted = await _baseline(db, count_sql, count_params)
    for _ in range(runs):
        seconds, _ = await _baseline(db, count_sql, count_params)
        probe.baseline.append(seconds)
        seconds, visits, conn = await indicators()
        probe.runs.append(seconds)
        _note_queries(probe, conn.log)
    probe.rss_peak_kib = peak_rss_kib()
    probe.plans = await _plans(db, conn.log)
    probe.plans["baseline: COUNT(*)"] = " / ".join(
        row["detail"] for row in await db.fetch_all(f"EXPLAIN QUERY PLAN {count_sql}", count_params)
    )
    probe.checks = {"indicators_visits": visits, "count_visits": counted}
    await db.close()
    probe.load = (load_before, os.getloadavg()[0])
    return probe


async def measure_excel(path: Path, runs: int) -> Probe:
    """bot.exports.indicators for the Caf's quarter: collect in one read, then the workbook."""
    from bot.exports import indicators as export  # openpyxl counts in this process's RSS

    probe = Probe("excel", runs=[], baseline=[], parts={"collect": [], "to_xlsx": []}, queries={})
    load_before = os.getloadavg()[0]
    evict(path)
    db, caf = await _open(path)
    probe.rss_before_kib = peak_rss_kib()
    tz = ZoneInfo(caf.timezone)
    period: Period = parse_period(QUARTER)
    start, end = period.bounds(tz)
    exported_at = datetime(YEAR + 1, 1, 5, 10, tzinfo=tz)
    command = "python -m bot export indicators --caf … --period " + QUARTER
    count_sql = (
        "SELECT COUNT(*) FROM visits WHERE caf_id = :caf AND visited_at >= :start"
        " AND visited_at < :end"
    )
    count_params = {"caf": caf.id, "start": to_db(start), "end": to_db(end)}
    content = b""
    visits = 0

    async def one_export() -> tuple[float, float, TimedConn]:
        nonlocal content, visits
        began = time.perf_counter()
        async with db.read() as snapshot:
            conn = TimedConn(snapshot)
            report = await export.collect(conn, caf, period)
        collected = time.perf_counter()
        visits = report.total.visits
        content = export.to_xlsx(
            report, exported_at=exported_at, exported_by="banc d'essai", command=command
        )
        return collected - began, time.perf_counter() - collected, conn

    collect_s, xlsx_s, _ = await one_export()
    probe.first = collect_s + xlsx_s
    probe.rss_after_first_kib = peak_rss_kib()
    probe.baseline_first, counted = await _baseline(
        db, count_sql, count_params
    )  # its index not read yet: cold too
    for _ in range(runs):
        seconds, _ = await _baseline(db, count_sql, count_params)
        probe.baseline.append(seconds)
        collect_s, xlsx_s, conn = await one_export()
        probe.parts["collect"].append(collect_s)
        probe.parts["to_xlsx"].append(xlsx_s)
        probe.runs.append(collect_s + xlsx_s)
        _note_queries(probe, conn.log)
    probe.rss_peak_kib = peak_rss_kib()
    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        sheets = sum(
            1 for name in workbook.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name)
        )
    probe.plans = await _plans(db, conn.log)
    probe.checks = {
        "indicators_visits": visits,
        "count_visits": counted,
        "sheets": sheets,
        "bytes": len(content),
    }
    await db.close()
    probe.load = (load_before, os.getloadavg()[0])
    return probe


def run_child(kind: str, path: Path, runs: int, partner_id: int | None) -> Probe:
    command = [
        sys.executable,
        "-m",
        "benchmarks.indicators",
        "--child",
        kind,
        "--db",
        str(path),
        "--runs",
        str(runs),
    ]
    if partner_id is not None:
        command += ["--partner", str(partner_id)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind}: the measuring process failed:\n{done.stderr}")
    return Probe(**json.loads(done.stdout.splitlines()[-1]))


def _hide_counts() -> None:
    """No Caf's counts are found: storage/indicators.py counts the raw visits, as before
    issue #19 (the same SQL, `count_raw_rows`)."""
    from storage import visit_counts

    async def no_zone(conn: Any, caf_id: int) -> str | None:
        return None

    visit_counts.zone_of = no_zone


def child_main(kind: str, path: Path, runs: int, partner_id: int | None) -> None:
    base = kind.removesuffix("-raw")
    if base != kind:
        _hide_counts()
    if base == "excel":
        probe = asyncio.run(measure_excel(path, runs))
    else:
        probe = asyncio.run(measure_counting(path, runs, partner_id if base == "site" else None))
    probe.kind = kind
    print(json.dumps(probe.__dict__))


# ---------------------------------------------------------------------------- reporting
def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms".replace(",", " ")


def report(
    *,
    command: str,
    filled: Filled,
    quarter_visits: int,
    site: tuple[int, int],
    probes: dict[str, Probe | None],
    uptimes: tuple[str, str],
    runs: int,
) -> str:
    """The section of benchmarks/README.md, in Markdown (also printed)."""
    lines = [
        "## Indicators of a Caf's quarter (issues #7 and #19)",
        "",
        f"Command, from the repository's root: `{command}`",
        "",
        f"- When: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"commit {common.commit(('bot', 'storage'))}",
        f"- Machine: {common.machine()}",
        f"- `uptime` before: `{uptimes[0]}`",
        f"- `uptime` after: `{uptimes[1]}`",
        f"- Data: {filled.visits:,} visits of one Caf ({TIMEZONE}) over {site[0]} sites in "
        f"{YEAR} (seed {SEED}), {filled.actions:,} ticks of the grid, {filled.themes:,} "
        f"themes; database {filled.megabytes:,.0f} MB, "
        + (f"filled in {filled.seconds:.0f} s" if filled.seconds is not None else "")
        + (" by an earlier run (`--db`)" if filled.reused else "")
        + (
            f"; counts built by migration 0020's backfill in "
            f"{filled.counts_seconds['migration']:.1f} s, by `visit_counts.rebuild` in "
            f"{filled.counts_seconds['rebuild']:.1f} s"
            if filled.counts_seconds
            else ""
        ),
        "- Each kind twice, in separate processes of the same run: from the counts of "
        "migration 0020 (as the bot counts now), and « from raw visits » (the Caf's counts "
        "hidden, so the SQL of issue #7 runs, as before #19)",
        f"- Measured: {QUARTER} ({quarter_visits:,} visits; the busiest site, "
        f"#{site[1]}, has {probes['site'].checks['count_visits']:,} of them)"
        if probes.get("site")
        else f"- Measured: {QUARTER} ({quarter_visits:,} visits)",
        f"- Each figure: median, min and max of {runs} runs in one process, after a first run "
        "with the database file dropped from the OS page cache (« cold », shown apart); the "
        "baseline is measured in the same process, interleaved with the runs.",
        "",
        "| measure | median | min | max | cold | target | |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]

    def row(name: str, values: list[float], first: float, target: float | None) -> None:
        median, low, high = common.spread(values)
        verdict = "" if target is None else ("pass" if median <= target else "**fail**")
        aim = "" if target is None else f"≤ {_ms(target)}"
        lines.append(
            f"| {name} | {_ms(median)} | {_ms(low)} | {_ms(high)} | {_ms(first)} | {aim} "
            f"| {verdict} |"
        )

    def ratio(name: str, probe: Probe) -> None:
        assert probe.runs and probe.baseline
        value = statistics.median(probe.runs) / statistics.median(probe.baseline)
        lines.append(f"| {name} | × {value:.1f} | | | | | |")

    def before(name: str, kind: str, after: Probe, target: float) -> None:
        """The same measure from raw visits, and how many times slower it is."""
        raw = probes.get(kind)
        if not raw or not raw.runs or not after.runs:
            return
        row(f"{name}, from raw visits (before #19)", raw.runs, raw.first, target)
        value = statistics.median(raw.runs) / statistics.median(after.runs)
        lines.append(f"| raw ÷ counts | × {value:.1f} | | | | | |")

    caf, one_site, excel = probes.get("caf"), probes.get("site"), probes.get("excel")
    if caf:
        assert caf.runs and caf.baseline
        row("Caf's quarter: indicators (SQL + Python)", caf.runs, caf.first, TARGET_INDICATORS_S)
        row("baseline: `COUNT(*)` of the Caf's quarter", caf.baseline, caf.baseline_first, None)
        ratio("indicators ÷ baseline", caf)
        before("Caf's quarter: indicators", "caf-raw", caf, TARGET_INDICATORS_S)
    if one_site:
        assert one_site.runs and one_site.baseline
        row("one site's quarter: indicators", one_site.runs, one_site.first, TARGET_INDICATORS_S)
        row(
            "baseline: `COUNT(*)` of the site's quarter",
            one_site.baseline,
            one_site.baseline_first,
            None,
        )
        ratio("site's indicators ÷ its baseline", one_site)
        before("one site's quarter: indicators", "site-raw", one_site, TARGET_INDICATORS_S)
    if excel:
        assert excel.runs and excel.parts
        row(
            "Excel export of the Caf's quarter (collect + to_xlsx)",
            excel.runs,
            excel.first,
            TARGET_EXCEL_S,
        )
        lines.append(
            f"| … of which collect | {_ms(statistics.median(excel.parts['collect']))} | | | | | |"
        )
        lines.append(
            f"| … of which to_xlsx | {_ms(statistics.median(excel.parts['to_xlsx']))} | | | | | |"
        )
        ratio("Excel ÷ baseline (`COUNT(*)` of the Caf's quarter)", excel)
        raw_excel = probes.get("excel-raw")
        if raw_excel and raw_excel.parts:
            before("Excel export of the Caf's quarter", "excel-raw", excel, TARGET_EXCEL_S)
            collect = statistics.median(raw_excel.parts["collect"])
            lines.append(f"| … of which collect, from raw visits | {_ms(collect)} | | | | | |")
    elif "excel" in probes:
        lines.append("| Excel export | not measured: bot/exports/indicators.py missing | | | | | |")

    lines += [
        "",
        "| peak RSS of the measuring process | before the work | after the first run "
        f"| after {runs + 1} runs | target | |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, probe in (
        ("Caf's indicators", caf),
        ("… from raw visits", probes.get("caf-raw")),
        ("one site's indicators", one_site),
        ("… from raw visits", probes.get("site-raw")),
        ("Excel export", excel),
        ("… from raw visits", probes.get("excel-raw")),
    ):
        if probe:
            verdict = "pass" if probe.rss_peak_kib * 1024 / 1e6 <= TARGET_RSS_MB else "**fail**"
            first = common.mb(probe.rss_after_first_kib)
            lines.append(
                f"| {name} | {common.mb(probe.rss_before_kib)} | {first} "
                f"| {common.mb(probe.rss_peak_kib)} | ≤ {TARGET_RSS_MB:.0f} MB | {verdict} |"
            )
    lines += [
        "",
        "Load average (1 min) around each measuring process: "
        + ", ".join(
            f"{kind} {probe.load[0]:.2f} → {probe.load[1]:.2f}"
            for kind, probe in probes.items()
            if probe
        ),
        "",
    ]
    for kind, probe in probes.items():
        if not probe or not probe.queries:
            continue
        lines += [
            f"Per query, {kind} (median of the runs), with SQLite's plan:",
            "",
            "| query | median | plan |",
            "|---|---:|---|",
        ]
        for label, values in probe.queries.items():
            plan = (probe.plans or {}).get(label, "")
            lines.append(f"| {label} | {_ms(statistics.median(values))} | {plan} |")
        if probe.plans and "baseline: COUNT(*)" in probe.plans:
            lines.append(f"| baseline: `COUNT(*)` | | {probe.plans['baseline: COUNT(*)']} |")
        lines.append("")
    checks = [f"{kind}: {json.dumps(probe.checks)}" for kind, probe in probes.items() if probe]
    lines.append("Checks: " + "; ".join(checks))
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------- main
def _quarter_figures(path: Path) -> tuple[int, int]:
    """The quarter's visits, and its busiest site (the worst case for one site's figures)."""
    tz = ZoneInfo(TIMEZONE)
    start, end = parse_period(QUARTER).bounds(tz)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT partner_id, COUNT(*) FROM visits WHERE visited_at >= ? AND visited_at < ?"
            " GROUP BY partner_id ORDER BY 2 DESC",
            (to_db(start), to_db(end)),
        ).fetchall()
    finally:
        conn.close()
    return sum(n for _, n in rows), rows[0][0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.indicators", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5, help="timed runs after the cold one")
    parser.add_argument("--db", type=Path, help="database to fill, or reuse if it matches")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    parser.add_argument("--readme", action="store_true", help="rewrite the README section")
    parser.add_argument(
        "--only",
        choices=KINDS,
        action="append",
        help="measure only these kinds (repeatable)",
    )
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--partner", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child, args.db, args.runs, args.partner)
        return

    command = shlex.join([".venv/bin/python", "-m", "benchmarks.indicators", *sys.argv[1:]])
    uptime_before = common.uptime()
    print(f"{uptime_before}\n{common.machine()}", flush=True)
    folder = None
    if args.db is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-indicators-"))
        path = folder / "bench.sqlite3"
    else:
        path = args.db.resolve()
    try:
        if path.exists() and common.stored_marker(path, MARKER) == _marker(args.visits, args.sites):
            filled = reuse(path)
            print(f"Reusing {path} ({filled.visits:,} visits)")
        else:
            if path.exists():
                if common.stored_marker(path, MARKER) is None:
                    parser.error(f"{path} exists and was not filled by this benchmark")
                for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    part.unlink(missing_ok=True)
            print(f"Filling {path} with {args.visits:,} visits over {args.sites} sites…")
            filled = fill(path, visits=args.visits, sites=args.sites)
            print(f"Filled in {filled.seconds:.1f} s ({filled.megabytes:,.0f} MB)")
        quarter_visits, busiest = _quarter_figures(path)
        kinds = args.only or list(KINDS)
        probes: dict[str, Probe | None] = {}
        for kind in kinds:
            if kind == "excel" and not (ROOT / "bot" / "exports" / "indicators.py").exists():
                print("excel: bot/exports/indicators.py is not there yet; skipped")
                probes[kind] = None
                continue
            print(f"Measuring {kind} (load {os.getloadavg()[0]:.2f})…", flush=True)
            probes[kind] = run_child(kind, path, args.runs, busiest)
        uptimes = (uptime_before, common.uptime())
        section = report(
            command=command,
            filled=filled,
            quarter_visits=quarter_visits,
            site=(args.sites, busiest),
            probes=probes,
            uptimes=uptimes,
            runs=args.runs,
        )
        print()
        print(section)
        for kind, probe in probes.items():
            if probe and probe.checks:
                expected = probe.checks["count_visits"]
                if probe.checks["indicators_visits"] != expected:
                    sys.exit(f"{kind}: the indicators count {probe.checks} visits: wrong")
        if args.readme:
            common.write_section("indicators", section)
            print(f"Written to {common.README}")
    finally:
        if folder is not None and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        elif folder is not None:
            print(f"Database kept: {path}")


if __name__ == "__main__":
    main()
