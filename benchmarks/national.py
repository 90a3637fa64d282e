"""Issue #19: a national year (101 Cafs, 2,000 sites, 5,000 agents, 10 million visits), on
SQLite and on PostgreSQL.

    python -m benchmarks.national [--engine sqlite|postgresql|both] [--visits 10000000]
                                  [--runs 7] [--throughput-runs 3] [--readme]

1. Generates, once, a year (2026) of a national network: 101 Cafs of very different sizes
   (96 on Paris time, 5 overseas), 2,000 sites shared among them by size (3 at least),
   5,000 agents (2 or 3 a site) and a coordinator a Caf; visits on weekdays and 9–17 h
   mostly (local time), fewer in August, none on public holidays; answers drawn from
   bot/domain/taxonomy.py with fixed weights and seed; one in a hundred visits cancelled
   (its draft kept, the visit gone, as `delete_visit` leaves it) and two in a hundred in
   training mode (`training_visits`). The counts of storage/visit_counts.py (per local day
   and month, site and category, the whole Caf as site 0, and per local day and hour) are
   computed from the same draws (numpy) and written with them; a sample is then checked
   against a recount from the raw visits (storage/indicators.py `count_raw_rows`).
   Generation bypasses the services: bulk SQL, `executemany` in transactions of 100,000
   visits with `PRAGMA synchronous=OFF` on SQLite, `copy_records_to_table` (asyncpg) with
   `session_replication_role = replica` (the taxonomy's triggers and foreign keys not
   checked: the codes come from the taxonomy) on PostgreSQL, then ANALYZE (and VACUUM on
   PostgreSQL, for index-only scans). The databases are kept in $BENCH_DATA_DIR
   (../bench-data from the repository by default, never in it), and reused by the next run.
2. PostgreSQL: a cluster of its own in $BENCH_DATA_DIR/pg (initdb, on disk: the data does
   not fit in memory), Unix socket only, started for the run and stopped at its end, with
   the settings of SERVER_SETTINGS.
3. Measures, in a fresh process per engine that imports the bot (bot.app) as the bot does,
   each beside a plain `COUNT(*)` of the same visits measured in the same process,
   interleaved, medians of `--runs` after one warm-up run:
   - the Caf's quarter (the largest Caf): bot/services/indicators.py `overview`, what the
     bot computes for 📈 Indicateurs;
   - one site's quarter (that Caf's busiest site): `overview` for the site;
   - the Excel export of the Caf's quarter: `export_file` (counting, the workbook made in
     a child process by bot/offload.py, the audit row);
   - the national year in the process: bot/services/national_indicators.py `collect` and
     `to_csv`;
   and the process's peak RSS (VmHWM). Then, from this process, `python -m bot export
   indicators --all-cafs --period 2026` as an operator runs it (wall time, interpreter
   start included, and its own VmHWM), beside `COUNT(*)` of the year's visits.
4. The visit flow's throughput (benchmarks/throughput.py, its harness and fake Bot API):
   the real Application on SQLite, on PostgreSQL (a fresh database on the same cluster),
   and the bare python-telegram-bot bot, runs interleaved.
5. Prints the figures; `--readme` rewrites their section of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from benchmarks import common
from benchmarks import indicators as indicators_benchmark
from bot.domain import taxonomy
from storage import visit_counts

YEAR = 2026
QUARTER = "2026-Q4"
SEED = 19
GENERATOR = 1  # changes whenever the data does, so that a cached database is not reused
MARKER = "benchmarks.national"
FILL_KEY = "benchmarks.national.fill"
CAFS = 101
SITES = 2_000
AGENTS = 5_000
OVERSEAS = ("America/Guadeloupe", "America/Martinique", "America/Cayenne", "Indian/Reunion")
OVERSEAS += ("Indian/Mayotte",)
PARIS = "Europe/Paris"
CANCELLED = 0.01  # drafts whose visit was cancelled (deleted)
TRAINING = 0.02  # training-mode visits, in `training_visits`
CHUNK = 100_000  # visits per transaction
# Beside the repository, never in it: tens of gigabytes.
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", common.ROOT.parent / "bench-data"))
# Run "now" for the services: every 2026 period is past.
NOW = datetime(2027, 1, 11, 9, tzinfo=UTC)
SERVER_SETTINGS = {
    "shared_buffers": "2GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "effective_cache_size": "12GB",
    "random_page_cost": "1.1",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "30min",
    "jit": "off",
    "max_connections": "50",
}
ENGINES = ("sqlite", "postgresql")

# Targets of issue #19, seconds (RSS in MB).
TARGETS = {"caf": 0.050, "site": 0.020, "national": 1.0, "excel": 2.0}
TARGET_RSS_MB = 150.0

# ---------------------------------------------------------------------------- data shape
# The week, the day and the answers as benchmarks/indicators.py draws them; and the year.
WEEKDAY_WEIGHTS, HOUR_WEIGHTS, ANSWER_WEIGHTS = (
    indicators_benchmark.WEEKDAY_WEIGHTS,
    indicators_benchmark.HOUR_WEIGHTS,
    indicators_benchmark.WEIGHTS,
)
MONTH_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.9, 1.0, 0.8, 0.5, 1.2, 1.1, 1.0, 0.8)
TWO_REQUESTS, TWO_ACTIONS, TWO_THEMES = 0.25, 0.30, 0.20

SEXE, AGE, STATUT = taxonomy.SEXE.codes, taxonomy.AGE.codes, taxonomy.STATUT.codes
AUTONOMIE, RESOLUTION = taxonomy.AUTONOMIE.codes, taxonomy.RESOLUTION.codes
DEMANDE, ACTION, THEME = taxonomy.DEMANDE.codes, taxonomy.ACTION.codes, taxonomy.THEME.codes
LEGAL = SEXE.index(taxonomy.LEGAL_PERSON)


def _categories() -> list[str]:
    """storage/visit_counts.py's categories, in the order of the offsets below."""
    found = [visit_counts.VISITS]
    found += [visit_counts.answer("sexe", code) for code in SEXE]
    found += [visit_counts.answer("age", code) for code in AGE]
    found += [visit_counts.answer("age", None)]
    found += [visit_counts.answer("statut", code) for code in STATUT]
    found += [visit_counts.answer("autonomie", code) for code in AUTONOMIE]
    found += [visit_counts.answer("resolution", code) for code in RESOLUTION]
    found += [visit_counts.cell(d, a) for d in DEMANDE for a in ACTION]
    found += [visit_counts.request(d, r) for d in DEMANDE for r in RESOLUTION]
    found += [visit_counts.theme(code) for code in THEME]
    return found


CATEGORIES = _categories()
C_SEXE = 1
C_AGE = C_SEXE + len(SEXE)
C_AGE_NULL = C_AGE + len(AGE)
C_STATUT = C_AGE_NULL + 1
C_AUTONOMIE = C_STATUT + len(STATUT)
C_RESOLUTION = C_AUTONOMIE + len(AUTONOMIE)
C_CELL = C_RESOLUTION + len(RESOLUTION)
C_REQUEST = C_CELL + len(DEMANDE) * len(ACTION)
C_THEME = C_REQUEST + len(DEMANDE) * len(RESOLUTION)
assert C_THEME + len(THEME) == len(CATEGORIES)


def _p(codes: Sequence[str], weights: dict[str, float] | None = None) -> np.ndarray:
    values = np.array([(weights or {}).get(code, 1.0) for code in codes], dtype=float)
    return values / values.sum()


def _ranked(codes: Sequence[str], power: float) -> np.ndarray:
    """The taxonomy's first options the most frequent."""
    values = np.array([1 / (1 + rank) ** power for rank in range(len(codes))])
    return values / values.sum()


# ---------------------------------------------------------------------------- the world
@dataclass
class World:
    caf_zone: list[str]  # index = Caf id - 1
    caf_first_site: np.ndarray  # index of each Caf's first site (sites are by Caf)
    site_caf: np.ndarray  # Caf id of each site (index = partner id - 1)
    site_p: np.ndarray  # share of the visits
    agent_first: np.ndarray  # person id of each site's first agent
    agent_count: np.ndarray
    coordinators: list[int]  # person id of each Caf's coordinator


def make_world(rng: np.random.Generator) -> World:
    zones = [PARIS] * (CAFS - len(OVERSEAS)) + list(OVERSEAS)
    size = rng.lognormal(0, 0.8, CAFS)
    size[-len(OVERSEAS) :] *= 0.6
    sites = np.maximum(3, np.round(SITES * size / size.sum())).astype(int)
    sites[int(np.argmax(sites))] += SITES - int(sites.sum())
    first = np.concatenate([[0], np.cumsum(sites)[:-1]])
    site_caf = np.repeat(np.arange(1, CAFS + 1), sites)
    # A Caf's visits follow its size; its sites are busier or quieter.
    site_p = np.repeat(size / sites, sites) * rng.lognormal(0, 0.5, SITES)
    site_p /= site_p.sum()
    agents = np.full(SITES, AGENTS // SITES)
    agents[rng.choice(SITES, AGENTS - int(agents.sum()), replace=False)] += 1
    agent_first = CAFS + 1 + np.concatenate([[0], np.cumsum(agents)[:-1]])
    return World(zones, first, site_caf, site_p, agent_first, agents, list(range(1, CAFS + 1)))


@dataclass
class Slots:
    """Every open local hour of the year in one zone: its UTC start, local month, day,
    hour, and weight."""

    epoch: np.ndarray
    month: np.ndarray
    day: np.ndarray
    hour: np.ndarray
    weight: np.ndarray


def make_slots(zone: str) -> Slots:
    import holidays

    closed = holidays.France(years=YEAR)
    tz = ZoneInfo(zone)
    rows: list[tuple[int, int, int, int, float]] = []
    day = date(YEAR, 1, 1)
    while day.year == YEAR:
        weight = WEEKDAY_WEIGHTS[day.weekday()] * MONTH_WEIGHTS[day.month - 1]
        if weight and day not in closed:
            for hour, hour_weight in HOUR_WEIGHTS.items():
                local = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
                epoch = int(local.timestamp())
                rows.append((epoch, day.month - 1, day.day - 1, hour, weight * hour_weight))
        day += timedelta(days=1)
    columns = list(zip(*rows, strict=True))
    return Slots(*(np.array(column) for column in columns))


# ---------------------------------------------------------------------------- generating
Rows = list[tuple[Any, ...]]


@dataclass
class Batch:
    """Rows of several tables, written in one transaction."""

    tables: list[tuple[str, tuple[str, ...], Rows]] = field(default_factory=list)

    def add(self, table: str, columns: tuple[str, ...], rows: Rows) -> None:
        if rows:
            self.tables.append((table, columns, rows))


CREATED = "2025-12-01T08:00:00+00:00"


def world_batch(world: World) -> Batch:
    batch = Batch()
    batch.add(
        "cafs",
        ("id", "name", "reporting_period", "timezone", "created_at"),
        [
            (caf, f"Caf {caf:03d}", "quarterly", world.caf_zone[caf - 1], CREATED)
            for caf in range(1, CAFS + 1)
        ],
    )
    batch.add(
        "partners",
        ("id", "caf_id", "name", "city", "address", "label_status", "label_status_since",
         "convention_start", "created_at"),
        [
            (site + 1, int(world.site_caf[site]), f"Point numérique {site + 1:04d}",
             f"Commune {site + 1:04d}", "", "active", CREATED, "2025-12-01", CREATED)
            for site in range(SITES)
        ],
    )  # fmt: skip
    people: Rows = [
        (caf, 10_000_000 + caf, f"Coordination {caf}", "coordinator", caf, None, CREATED, CREATED)
        for caf in range(1, CAFS + 1)
    ]
    person_sites: Rows = []
    for site in range(SITES):
        for number in range(int(world.agent_count[site])):
            person = int(world.agent_first[site]) + number
            people.append(
                (person, 20_000_000 + person, f"Agent {person}", "agent",
                 int(world.site_caf[site]), site + 1, CREATED, CREATED)
            )  # fmt: skip
            person_sites.append((person, site + 1, CREATED))
    batch.add(
        "people",
        ("id", "telegram_user_id", "display_name", "role", "caf_id", "partner_id", "joined_at",
         "last_seen_at"),
        people,
    )  # fmt: skip
    batch.add("person_sites", ("person_id", "partner_id", "since"), person_sites)
    batch.add(
        "visit_count_zones",
        ("caf_id", "timezone"),
        [(caf, world.caf_zone[caf - 1]) for caf in range(1, CAFS + 1)],
    )
    return batch


def _distinct_second(
    rng: np.random.Generator, first: np.ndarray, n: int, p: np.ndarray
) -> np.ndarray:
    """A second code per row, never the first one."""
    second = rng.choice(len(p), n, p=p)
    while True:
        same = np.flatnonzero(second == first)
        if not len(same):
            return second
        second[same] = rng.choice(len(p), len(same), p=p)


def _text_instants(epoch: np.ndarray) -> list[str]:
    text = np.datetime_as_string(epoch.astype("datetime64[s]"), unit="s")
    return [f"{value}+00:00" for value in text.tolist()]


def generate(visits: int, seed: int = SEED) -> Iterator[Batch]:
    """The world, then each local month's visits (in transactions of CHUNK) and counts."""
    rng = np.random.default_rng(seed)
    world = make_world(rng)
    yield world_batch(world)
    zones = sorted(set(world.caf_zone))
    slots = {zone: make_slots(zone) for zone in zones}
    site_zone = np.array([zones.index(world.caf_zone[caf - 1]) for caf in world.site_caf])
    paris = slots[PARIS]
    month_share = np.bincount(paris.month, weights=paris.weight, minlength=12)
    month_share /= month_share.sum()
    per_month = np.floor(month_share * visits).astype(int)
    per_month[-1] += visits - int(per_month.sum())
    p_demande, p_action = _ranked(DEMANDE, 0.7), _ranked(ACTION, 0.5)
    p_theme = _p(THEME, ANSWER_WEIGHTS["theme"])
    answer_p = {name: _p(codes, ANSWER_WEIGHTS[name]) for name, codes in
                (("sexe", SEXE), ("age", AGE), ("statut", STATUT), ("autonomie", AUTONOMIE),
                 ("resolution", RESOLUTION))}  # fmt: skip
    ncat = len(CATEGORIES)
    month_counts = np.zeros((12, SITES, ncat), dtype=np.int64)
    next_visit, next_draft, next_training = 1, 1, 1

    for month in range(12):
        n = int(per_month[month])
        drafts_extra = rng.binomial(n, CANCELLED + TRAINING)
        site = rng.choice(SITES, n + drafts_extra, p=world.site_p)
        epoch = np.empty(len(site), dtype=np.int64)
        day = np.empty(len(site), dtype=np.int64)
        hour = np.empty(len(site), dtype=np.int64)
        for number, zone in enumerate(zones):
            mine = np.flatnonzero(site_zone[site] == number)
            zone_slots = slots[zone]
            open_hours = np.flatnonzero(zone_slots.month == month)
            weights = zone_slots.weight[open_hours]
            picked = open_hours[rng.choice(len(open_hours), len(mine), p=weights / weights.sum())]
            epoch[mine] = zone_slots.epoch[picked] + rng.integers(0, 3600, len(mine))
            day[mine] = zone_slots.day[picked]
            hour[mine] = zone_slots.hour[picked]
        # Ids follow the local day, then time: production's ids follow time.
        order = np.argsort(day * 2**32 + epoch, kind="stable")
        site, epoch, day, hour = site[order], epoch[order], day[order], hour[order]
        # Which drafts are not counted visits: cancelled, or in training mode.
        kind = np.zeros(len(site), dtype=np.int8)  # 0 visit, 1 cancelled, 2 training
        extra = rng.choice(len(site), drafts_extra, replace=False)
        kind[extra] = np.where(rng.random(drafts_extra) < CANCELLED / (CANCELLED + TRAINING), 1, 2)
        agent = (
            world.agent_first[site]
            + rng.integers(0, 1 << 30, len(site)) % (world.agent_count[site])
        )
        at = _text_instants(epoch)

        is_visit = kind == 0
        vi = np.flatnonzero(is_visit)  # the visits, in order
        nv = len(vi)
        sexe = rng.choice(len(SEXE), nv, p=answer_p["sexe"])
        age = np.where(sexe == LEGAL, -1, rng.choice(len(AGE), nv, p=answer_p["age"]))
        statut = rng.choice(len(STATUT), nv, p=answer_p["statut"])
        autonomie = rng.choice(len(AUTONOMIE), nv, p=answer_p["autonomie"])
        resolution = rng.choice(len(RESOLUTION), nv, p=answer_p["resolution"])
        two_requests = rng.random(nv) < TWO_REQUESTS
        d1 = rng.choice(len(DEMANDE), nv, p=p_demande)
        d2 = _distinct_second(rng, d1, nv, p_demande)
        a11 = rng.choice(len(ACTION), nv, p=p_action)
        a12 = _distinct_second(rng, a11, nv, p_action)
        a21 = rng.choice(len(ACTION), nv, p=p_action)
        a22 = _distinct_second(rng, a21, nv, p_action)
        two_a1 = rng.random(nv) < TWO_ACTIONS
        two_a2 = rng.random(nv) < TWO_ACTIONS
        t1 = rng.choice(len(THEME), nv, p=p_theme)
        t2 = _distinct_second(rng, t1, nv, p_theme)
        two_themes = rng.random(nv) < TWO_THEMES

        # The grid's rows: (visit index, demande, action, position, lead).
        everyone = np.arange(nv)
        parts = [
            (everyone, d1, a11, np.zeros(nv, dtype=np.int64), 1),
            (np.flatnonzero(two_a1), d1, a12, np.ones(nv, dtype=np.int64), 0),
            (np.flatnonzero(two_requests), d2, a21, 1 + two_a1, 1),
            (np.flatnonzero(two_requests & two_a2), d2, a22, 2 + two_a1, 0),
        ]
        g_visit = np.concatenate([index for index, *_ in parts])
        g_demande = np.concatenate([d[index] for index, d, *_ in parts])
        g_action = np.concatenate([a[index] for index, _, a, *_ in parts])
        g_position = np.concatenate([pos[index] for index, _, _, pos, _ in parts])
        g_lead = np.concatenate([np.full(len(index), lead) for index, *_, lead in parts])
        g_order = np.argsort(g_visit, kind="stable")
        g_visit, g_demande, g_action = g_visit[g_order], g_demande[g_order], g_action[g_order]
        g_position, g_lead = g_position[g_order], g_lead[g_order]
        th_visit = np.concatenate([everyone, np.flatnonzero(two_themes)])
        th_code = np.concatenate([t1, t2[two_themes]])
        th_order = np.argsort(th_visit, kind="stable")
        th_visit, th_code = th_visit[th_order], th_code[th_order]

        # The counts: (local day, site, category) of every visit's categories.
        v_site, v_day = site[vi], day[vi]
        keys = [
            (v_day, v_site, np.zeros(nv, dtype=np.int64)),
            (v_day, v_site, C_SEXE + sexe),
            (v_day, v_site, np.where(age < 0, C_AGE_NULL, C_AGE + age)),
            (v_day, v_site, C_STATUT + statut),
            (v_day, v_site, C_AUTONOMIE + autonomie),
            (v_day, v_site, C_RESOLUTION + resolution),
            (v_day[g_visit], v_site[g_visit], C_CELL + g_demande * len(ACTION) + g_action),
        ]
        leads = g_visit[g_lead == 1]
        lead_demande = g_demande[g_lead == 1]
        keys.append(
            (v_day[leads], v_site[leads],
             C_REQUEST + lead_demande * len(RESOLUTION) + resolution[leads])
        )  # fmt: skip
        keys.append((v_day[th_visit], v_site[th_visit], C_THEME + th_code))
        flat = np.concatenate([(d * SITES + s) * ncat + c for d, s, c in keys])
        days = np.bincount(flat, minlength=31 * SITES * ncat).reshape(31, SITES, ncat)
        hours = np.bincount(
            (v_day * SITES + v_site) * 24 + hour[vi], minlength=31 * SITES * 24
        ).reshape(31, SITES, 24)
        month_counts[month] = days.sum(axis=0)

        # The rows, in transactions of CHUNK visits (Python lists: faster than numpy's
        # scalars one at a time).
        visit_ids = np.zeros(len(site), dtype=np.int64)
        visit_ids[vi] = next_visit + np.arange(nv)
        ids, drafts_of = visit_ids.tolist(), (next_draft + np.arange(len(site))).tolist()
        partner_of = (site + 1).tolist()
        caf_of = world.site_caf[site].tolist()
        agent_of, kind_of, vi_list = agent.tolist(), kind.tolist(), vi.tolist()
        sexe_t = [SEXE[code] for code in sexe.tolist()]
        age_t = [AGE[code] if code >= 0 else None for code in age.tolist()]
        statut_t = [STATUT[code] for code in statut.tolist()]
        autonomie_t = [AUTONOMIE[code] for code in autonomie.tolist()]
        resolution_t = [RESOLUTION[code] for code in resolution.tolist()]
        step = CHUNK + CHUNK // 30
        for begin in range(0, len(site), step):
            end = min(len(site), begin + step)
            batch = Batch()
            drafts: Rows = []
            training_rows: Rows = []
            for index in range(begin, end):
                person, partner, when = agent_of[index], partner_of[index], at[index]
                training = kind_of[index] == 2
                drafts.append(
                    (drafts_of[index], person, partner, 20_000_000 + person, 9, "{}",
                     int(training), "saved", when, when)
                )  # fmt: skip
                if training:
                    training_rows.append(
                        (next_training, drafts_of[index], partner, person, when, "{}", when)
                    )
                    next_training += 1
            first_v = int(np.searchsorted(vi, begin))
            last_v = int(np.searchsorted(vi, end))
            visit_rows: Rows = []
            for v in range(first_v, last_v):
                index = vi_list[v]
                when = at[index]
                visit_rows.append(
                    (ids[index], drafts_of[index], caf_of[index], partner_of[index],
                     agent_of[index], when, sexe_t[v], age_t[v], statut_t[v], autonomie_t[v],
                     resolution_t[v], when, when)
                )  # fmt: skip
            g_from, g_to = np.searchsorted(g_visit, [first_v, last_v])
            action_rows: Rows = []
            for v, d, a, pos, lead in zip(
                g_visit[g_from:g_to].tolist(), g_demande[g_from:g_to].tolist(),
                g_action[g_from:g_to].tolist(), g_position[g_from:g_to].tolist(),
                g_lead[g_from:g_to].tolist(), strict=True
            ):  # fmt: skip
                index = vi_list[v]
                action_rows.append(
                    (ids[index], DEMANDE[d], ACTION[a], pos, lead, caf_of[index],
                     partner_of[index], at[index], resolution_t[v])
                )  # fmt: skip
            t_from, t_to = np.searchsorted(th_visit, [first_v, last_v])
            theme_rows: Rows = []
            for v, t in zip(
                th_visit[t_from:t_to].tolist(), th_code[t_from:t_to].tolist(), strict=True
            ):
                index = vi_list[v]
                theme_rows.append(
                    (ids[index], THEME[t], caf_of[index], partner_of[index], at[index])
                )
            batch.add("visit_drafts", DRAFT_COLUMNS, drafts)
            batch.add("visits", VISIT_COLUMNS, visit_rows)
            batch.add("visit_actions", ACTION_COLUMNS, action_rows)
            batch.add("visit_themes", THEME_COLUMNS, theme_rows)
            batch.add("training_visits", TRAINING_COLUMNS, training_rows)
            yield batch
        next_visit += nv
        next_draft += len(site)
        yield _day_rows(world, month, days, hours)
    yield _month_rows(world, month_counts)


DRAFT_COLUMNS = ("id", "person_id", "partner_id", "chat_id", "revision", "state", "training",
                 "status", "created_at", "updated_at")  # fmt: skip
VISIT_COLUMNS = ("id", "draft_id", "caf_id", "partner_id", "person_id", "visited_at",
                 "sexe", "age", "statut", "autonomie", "resolution", "created_at",
                 "updated_at")  # fmt: skip
ACTION_COLUMNS = ("visit_id", "demande", "action", "position", "lead", "caf_id", "partner_id",
                  "visited_at", "resolution")  # fmt: skip
THEME_COLUMNS = ("visit_id", "theme", "caf_id", "partner_id", "visited_at")
TRAINING_COLUMNS = ("id", "draft_id", "partner_id", "person_id", "visited_at", "answers",
                    "created_at")  # fmt: skip
BULK_TABLES = ("visit_drafts", "visits", "visit_actions", "visit_themes", "training_visits",
               "visit_counts", "visit_hour_counts")  # fmt: skip
COUNT_COLUMNS = ("caf_id", "span", "period", "partner_id", "category", "n")
HOUR_COLUMNS = ("caf_id", "day", "partner_id", "hour", "n")


def _with_cafs(world: World, site_axis: np.ndarray) -> np.ndarray:
    """Sites' counts (sites on axis 1) followed by each Caf's sum, as site 0 of the Caf."""
    cafs = np.add.reduceat(site_axis, world.caf_first_site, axis=1)
    return np.concatenate([site_axis, cafs], axis=1)


def _partner_and_caf(world: World) -> tuple[list[int], list[int]]:
    """For each column of `_with_cafs`: the stored partner id and the Caf id."""
    partners = [*range(1, SITES + 1), *([visit_counts.WHOLE_CAF] * CAFS)]
    cafs = [*world.site_caf.tolist(), *range(1, CAFS + 1)]
    return partners, cafs


def _day_rows(world: World, month: int, days: np.ndarray, hours: np.ndarray) -> Batch:
    partners, cafs = _partner_and_caf(world)
    labels = [f"{YEAR}-{month + 1:02d}-{d + 1:02d}" for d in range(31)]
    counts = _with_cafs(world, days)
    d, s, c = np.nonzero(counts)
    n = counts[d, s, c]
    batch = Batch()
    batch.add(
        "visit_counts",
        COUNT_COLUMNS,
        [
            (cafs[site], visit_counts.DAY, labels[day], partners[site], CATEGORIES[cat], count)
            for day, site, cat, count in zip(
                d.tolist(), s.tolist(), c.tolist(), n.tolist(), strict=True
            )
        ],
    )
    per_hour = _with_cafs(world, hours)
    d, s, h = np.nonzero(per_hour)
    n = per_hour[d, s, h]
    batch.add(
        "visit_hour_counts",
        HOUR_COLUMNS,
        [
            (cafs[site], labels[day], partners[site], hour, count)
            for day, site, hour, count in zip(
                d.tolist(), s.tolist(), h.tolist(), n.tolist(), strict=True
            )
        ],
    )
    return batch


def _month_rows(world: World, months: np.ndarray) -> Batch:
    partners, cafs = _partner_and_caf(world)
    counts = _with_cafs(world, months)
    m, s, c = np.nonzero(counts)
    n = counts[m, s, c]
    batch = Batch()
    batch.add(
        "visit_counts",
        COUNT_COLUMNS,
        [
            (cafs[site], visit_counts.MONTH, f"{YEAR}-{month + 1:02d}", partners[site],
             CATEGORIES[cat], count)
            for month, site, cat, count in zip(
                m.tolist(), s.tolist(), c.tolist(), n.tolist(), strict=True)
        ],
    )  # fmt: skip
    return batch


# ---------------------------------------------------------------------------- writing
class SqliteSink:
    engine = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def open(self) -> None:
        for part in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            part.unlink(missing_ok=True)
        await _schema(self.path)
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA synchronous=OFF")  # the fill only: the bot opens with FULL
        self.conn.execute("PRAGMA cache_size=-2097152")  # 2 GiB while indexes grow
        # The migrations' secondary indexes are built once the rows are in (the keys stay).
        marks = ", ".join("?" for _ in BULK_TABLES)
        self.indexes = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({marks})",
            BULK_TABLES,
        ).fetchall()
        for name, _ in self.indexes:
            self.conn.execute(f"DROP INDEX {name}")

    async def write(self, batch: Batch) -> None:
        self.conn.execute("BEGIN")
        for table, columns, rows in batch.tables:
            marks = ", ".join("?" for _ in columns)
            self.conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
            )
        self.conn.execute("COMMIT")

    async def finish(self, marker: str, fill: dict[str, Any]) -> None:
        began = time.perf_counter()
        for _, sql in self.indexes:
            self.conn.execute(sql)
        fill["index_seconds"] = time.perf_counter() - began
        began = time.perf_counter()
        self.conn.execute("ANALYZE")
        fill["analyze_seconds"] = time.perf_counter() - began
        _set_kv(self.conn.execute, [(MARKER, marker), (FILL_KEY, json.dumps(fill))])
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()


def _set_kv(run: Callable[..., Any], pairs: list[tuple[str, str]]) -> None:
    for key, value in pairs:
        run(
            "INSERT INTO kv (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


async def _schema(location: str | Path) -> None:
    from storage.setup import open_storage

    db = await open_storage(location)  # migrations and taxonomy_options, as the bot starts
    await db.close()


class PostgresSink:
    engine = "postgresql"

    def __init__(self, server: Server, name: str) -> None:
        self.server, self.name = server, name

    async def open(self) -> None:
        import asyncpg

        await self.server.admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        await self.server.admin(f"CREATE DATABASE {self.name} LOCALE 'C' TEMPLATE template0")
        await _schema(self.server.url(self.name))
        self.conn = await asyncpg.connect(self.server.url(self.name))
        # The bulk load only: no trigger, no foreign key check (the codes are the taxonomy's).
        await self.conn.execute("SET session_replication_role = replica")
        await self.conn.execute("SET synchronous_commit = off")
        # The migrations' secondary indexes are built once the rows are in (the keys stay).
        self.indexes = await self.conn.fetch(
            "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS sql"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY($1::text[])"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            list(BULK_TABLES),
        )
        for index in self.indexes:
            await self.conn.execute(f"DROP INDEX {index['name']}")

    async def write(self, batch: Batch) -> None:
        async with self.conn.transaction():
            for table, columns, rows in batch.tables:
                await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def finish(self, marker: str, fill: dict[str, Any]) -> None:
        for table in ("cafs", "partners", "people", "visit_drafts", "visits", "training_visits"):
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT MAX(id) FROM {table}))"
            )
        await self.conn.execute("RESET session_replication_role")
        began = time.perf_counter()
        for index in self.indexes:
            await self.conn.execute(index["sql"])
        fill["index_seconds"] = time.perf_counter() - began
        began = time.perf_counter()
        await self.conn.execute("VACUUM (ANALYZE)")
        fill["analyze_seconds"] = time.perf_counter() - began
        for key, value in ((MARKER, marker), (FILL_KEY, json.dumps(fill))):
            await self.conn.execute(
                "INSERT INTO kv (key, value) VALUES ($1, $2)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                key,
                value,
            )
        await self.conn.execute("CHECKPOINT")
        await self.conn.close()


Sink = SqliteSink | PostgresSink


async def fill(sinks: list[Sink], visits: int, marker: str) -> dict[str, dict[str, Any]]:
    """Generates once and writes into every sink; what each fill took."""
    for sink in sinks:
        await sink.open()
    began = time.perf_counter()
    rows: dict[str, int] = {}
    writing = {sink.engine: 0.0 for sink in sinks}
    written = 0
    for batch in generate(visits):
        for sink in sinks:
            start = time.perf_counter()
            await sink.write(batch)
            writing[sink.engine] += time.perf_counter() - start
        for table, _, table_rows in batch.tables:
            rows[table] = rows.get(table, 0) + len(table_rows)
        if rows.get("visits", 0) - written >= 1_000_000:
            written = rows["visits"]
            print(f"  {written:>11,} visits ({time.perf_counter() - began:6.1f} s)", flush=True)
    total = time.perf_counter() - began
    done = {}
    for sink in sinks:
        fill_info: dict[str, Any] = {
            "seconds": total,
            "writing_seconds": writing[sink.engine],
            "generating_seconds": total - sum(writing.values()),
            "rows": rows,
        }
        await sink.finish(marker, fill_info)
        done[sink.engine] = fill_info
    return done


def _marker(visits: int) -> str:
    return json.dumps({"visits": visits, "seed": SEED, "generator": GENERATOR}, sort_keys=True)


# ---------------------------------------------------------------------------- PostgreSQL
class Server:
    """A cluster of our own under DATA_DIR/pg, on disk, Unix socket only."""

    def __init__(self, folder: Path) -> None:
        on_path = shutil.which("pg_ctl")
        folders = [Path(on_path).resolve().parent] if on_path else []
        folders += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
        binaries = next((f for f in folders if (f / "initdb").exists()), None)
        if binaries is None:
            raise SystemExit("PostgreSQL absent: initdb and pg_ctl not found")
        self.bin, self.folder = binaries, folder
        self.data = folder / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.started = False

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.folder}"

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_user, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.folder,
        )

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.folder, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            done = self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust")
            if done.returncode:
                raise SystemExit(f"initdb failed: {done.stderr}")
        if self._run("pg_ctl", "-D", str(self.data), "status").returncode == 0:
            return  # already running (an earlier run stopped short): used as it is
        options = f"-k {self.folder} -c listen_addresses= " + " ".join(
            f"-c {name}={value}" for name, value in SERVER_SETTINGS.items()
        )
        log = str(self.folder / "log")
        done = self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "start", "-o", options)
        if done.returncode:
            raise SystemExit(f"pg_ctl start failed: {done.stderr}")
        self.started = True

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "stop")

    async def admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def marker(self, name: str) -> str | None:
        import asyncpg

        try:
            conn = await asyncpg.connect(self.url(name))
        except asyncpg.InvalidCatalogNameError:
            return None
        try:
            value: str | None = await conn.fetchval("SELECT value FROM kv WHERE key = $1", MARKER)
        except asyncpg.UndefinedTableError:
            return None
        finally:
            await conn.close()
        return value

    async def size_mb(self, name: str) -> float:
        import asyncpg

        conn = await asyncpg.connect(self.url(name))
        try:
            size = await conn.fetchval("SELECT pg_database_size($1)", name)
        finally:
            await conn.close()
        return int(size) / 1e6


# ---------------------------------------------------------------------------- measuring
@dataclass
class Probe:
    """What one measuring process gathers; sent to the parent as JSON."""

    engine: str
    runs: dict[str, list[float]] = field(default_factory=dict)
    baselines: dict[str, list[float]] = field(default_factory=dict)
    first: dict[str, float] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    rss_before_kib: int = 0
    rss_peak_kib: int = 0
    load: tuple[float, float] = (0.0, 0.0)


async def _timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = await work()
    return time.perf_counter() - began, result


async def measure(location: str, runs: int, engine: str) -> Probe:
    import bot.app  # noqa: F401  (the bot's modules in memory, as in the bot's process)
    from bot.domain.periods import parse_period
    from bot.exports import indicators as export
    from bot.services import indicators, national_indicators
    from storage import people
    from storage.db import connect
    from storage.timefmt import to_db

    probe = Probe(engine)
    load_before = common.load()
    db = connect(location)
    await db.open(migrate=False)
    probe.rss_before_kib = common.vm_hwm_kib()
    try:
        quarter = parse_period(QUARTER)
        year = parse_period(str(YEAR))
        # The largest Caf of the quarter, and its busiest site, from the month counts.
        months = [f"{YEAR}-{m:02d}" for m in (10, 11, 12)]
        rows = await db.fetch_all(
            "SELECT caf_id, partner_id, SUM(n) AS n FROM visit_counts WHERE span = 'month'"
            " AND category = 'visits' AND period IN (:a, :b, :c) GROUP BY caf_id, partner_id",
            {"a": months[0], "b": months[1], "c": months[2]},
        )
        whole = {r["caf_id"]: int(r["n"]) for r in rows if r["partner_id"] == 0}
        caf_id = max(whole, key=lambda caf: whole[caf])
        sites = {
            r["partner_id"]: int(r["n"]) for r in rows if r["caf_id"] == caf_id and r["partner_id"]
        }
        site_id = max(sites, key=lambda site: sites[site])
        coordinator = await people.member(db, caf_id)  # person id = Caf id (the generator)
        assert coordinator is not None and coordinator.caf.id == caf_id
        zone = ZoneInfo(coordinator.caf.timezone)
        start, end = quarter.bounds(zone)
        caf_scope = await indicators.scope(db, coordinator, 0, quarter.code, NOW)
        site_scope = await indicators.scope(db, coordinator, site_id, quarter.code, NOW)
        year_start = min(year.bounds(ZoneInfo(z))[0] for z in (PARIS, *OVERSEAS))
        year_end = max(year.bounds(ZoneInfo(z))[1] for z in (PARIS, *OVERSEAS))
        count_caf = (
            "SELECT COUNT(*) FROM visits WHERE caf_id = :caf"
            " AND visited_at >= :start AND visited_at < :end"
        )
        count_site = (
            "SELECT COUNT(*) FROM visits WHERE partner_id = :site"
            " AND visited_at >= :start AND visited_at < :end"
        )
        count_year = "SELECT COUNT(*) FROM visits WHERE visited_at >= :start AND visited_at < :end"
        span = {"start": to_db(start), "end": to_db(end)}

        async def baseline(sql: str, params: dict[str, Any]) -> int:
            async with db.read() as snapshot:
                return int(await snapshot.fetch_value(sql, params))

        async def excel_counting() -> Any:
            async with db.report_read() as conn:
                return await export.collect(conn, coordinator.caf, quarter)

        async def national() -> Any:
            report = await national_indicators.collect(db, year)
            national_indicators.to_csv(report)
            return report

        kinds: dict[str, tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[int]]]] = {
            "caf": (
                lambda: indicators.overview(db, coordinator, caf_scope, NOW),
                lambda: baseline(count_caf, {"caf": caf_id, **span}),
            ),
            "site": (
                lambda: indicators.overview(db, coordinator, site_scope, NOW),
                lambda: baseline(count_site, {"site": site_id, **span}),
            ),
            "excel": (
                lambda: indicators.export_file(
                    db, coordinator, caf_scope, indicators.FileFormat.XLSX, NOW
                ),
                lambda: baseline(count_caf, {"caf": caf_id, **span}),
            ),
            "excel-collect": (
                excel_counting,
                lambda: baseline(count_caf, {"caf": caf_id, **span}),
            ),
            "national": (
                national,
                lambda: baseline(count_year, {"start": to_db(year_start), "end": to_db(year_end)}),
            ),
        }
        results: dict[str, Any] = {}
        counted: dict[str, int] = {}
        for kind, (work, base) in kinds.items():
            probe.first[kind], results[kind] = await _timed(work)
            probe.runs[kind], probe.baselines[kind] = [], []
            for _ in range(runs):
                seconds, counted[kind] = await _timed(base)
                probe.baselines[kind].append(seconds)
                seconds, results[kind] = await _timed(work)
                probe.runs[kind].append(seconds)
        probe.checks = {
            "caf_id": caf_id,
            "caf_timezone": coordinator.caf.timezone,
            "caf_sites": len(sites),
            "site_id": site_id,
            "caf_visits": results["caf"].figures.visits,
            "caf_count": counted["caf"],
            "site_visits": results["site"].figures.visits,
            "site_count": counted["site"],
            "excel_bytes": len(results["excel"].content),
            "national_visits": results["national"].total.visits,
            "national_count": counted["national"],
            "national_cafs": len(results["national"].cafs),
        }
    finally:
        await db.close()
    probe.rss_peak_kib = common.vm_hwm_kib()
    probe.load = (load_before, common.load())
    return probe


def run_child(engine: str, location: str, runs: int) -> Probe:
    command = [sys.executable, "-m", "benchmarks.national", "--child", engine]
    command += ["--location", location, "--runs", str(runs)]
    done = subprocess.run(command, cwd=common.ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{engine}: the measuring process failed:\n{done.stderr}")
    data = json.loads(done.stdout.splitlines()[-1])
    data["load"] = tuple(data["load"])
    return Probe(**data)


# The command as an operator types it, with its own peak RSS written at its exit.
CLI_WRAPPER = (
    "import atexit, runpy, sys\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write('VmHWM ' + line.split()[1] + '\\n')\n"
    "atexit.register(peak)\n"
    "sys.argv = ['bot', *sys.argv[1:]]\n"
    "runpy.run_module('bot', run_name='__main__', alter_sys=True)\n"
)


def run_cli(engine: str, location: str, output: Path) -> tuple[float, int]:
    """`python -m bot export indicators --all-cafs --period 2026`: wall time, VmHWM (KiB)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "PNC_", "DATABASE_"))
    }
    env["PYTHONPATH"] = str(common.ROOT)
    env["DATABASE_URL" if engine == "postgresql" else "DATABASE_PATH"] = location
    args = ["export", "indicators", "--all-cafs", "--period", str(YEAR), "--format", "csv"]
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CLI_WRAPPER, *args, "--output", str(output)],
        cwd=common.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"export --all-cafs failed:\n{done.stderr}")
    peak = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("VmHWM")]
    return seconds, peak[-1] if peak else 0


def cli_startup() -> float:
    """`python -m bot --help`: what any command costs before its work."""
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "--help"], cwd=common.ROOT, capture_output=True, check=True
    )
    return time.perf_counter() - began


async def check_sample(location: str) -> list[str]:
    """A few scopes counted from the counts and recounted from raw visits: equal."""
    from bot.domain.indicators import build, total
    from bot.domain.periods import parse_period
    from storage.db import connect
    from storage.indicators import count_raw_rows, count_rows

    db = connect(location)
    await db.open(migrate=False)
    checked = []
    try:
        samples = [(1, None, QUARTER), (CAFS, None, "2026-03"), (CAFS - 3, None, "2026-Q1")]
        first_site = await db.fetch_value("SELECT MIN(id) FROM partners WHERE caf_id = 7")
        samples.append((7, int(first_site), "2026-Q2"))
        for caf_id, partner_id, code in samples:
            zone_name = await db.fetch_value(
                "SELECT timezone FROM cafs WHERE id = :id", {"id": caf_id}
            )
            zone = ZoneInfo(zone_name)
            start, end = parse_period(code).bounds(zone)
            scope = {"caf_id": caf_id, "start": start, "end": end, "tz": zone}
            async with db.read() as snapshot:
                fast = await count_rows(snapshot, **scope, partner_id=partner_id)
                raw = await count_raw_rows(snapshot, **scope, partner_id=partner_id)
            a, b = total(build(fast, zone)), total(build(raw, zone))
            if a != b:
                raise RuntimeError(f"counts ≠ recount: Caf {caf_id} site {partner_id} {code}")
            where = f"Caf {caf_id} ({zone_name})" + (f" site {partner_id}" if partner_id else "")
            checked.append(f"{where} {code}: {a.visits:,} visits")
    finally:
        await db.close()
    return checked


def throughput(runs: int, pg_admin: str | None) -> dict[str, list[Any]]:
    """benchmarks/throughput.py's runs: the visit bot on SQLite, on PostgreSQL, and the
    bare PTB bot, interleaved."""
    from benchmarks import throughput as bench

    found: dict[str, list[Any]] = {"sqlite": [], "postgresql": [], "baseline": []}
    for number in range(runs):
        order = ["sqlite", "postgresql", "baseline"]
        if number % 2:
            order.reverse()
        for name in order:
            if name == "postgresql" and pg_admin is None:
                continue
            args = argparse.Namespace(
                agents=50,
                sites=10,
                visits=4,
                postgresql=pg_admin if name == "postgresql" else None,
            )
            run = bench.run_child("baseline" if name == "baseline" else "visit", args)
            found[name].append(run)
            print(
                f"  throughput {name:10s} run {number + 1}: {run.rate:6.1f} updates/s", flush=True
            )
    return found


# ---------------------------------------------------------------------------- reporting
def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms".replace(",", " ")


LABELS = {
    "caf": "one Caf's quarter: `indicators.overview` (the largest Caf)",
    "site": "one site's quarter: `overview` (its busiest site)",
    "excel": "Excel export of the Caf's quarter: `export_file`",
    "excel-collect": "… of which the counting (bot/exports/indicators.py `collect`)",
    "national": "national year, in the process: `national_indicators.collect` + `to_csv`",
}
BASELINES = {
    "caf": "`COUNT(*)` of the Caf's quarter",
    "site": "`COUNT(*)` of the site's quarter",
    "excel": "`COUNT(*)` of the Caf's quarter",
    "excel-collect": "`COUNT(*)` of the Caf's quarter",
    "national": "`COUNT(*)` of the year's visits",
}


def report(
    *,
    command: str,
    visits: int,
    fills: dict[str, dict[str, Any]],
    sizes: dict[str, float],
    probes: dict[str, Probe],
    cli: dict[str, list[tuple[float, int]]],
    startup: list[float],
    flows: dict[str, list[Any]],
    samples: dict[str, list[str]],
    uptimes: tuple[str, str],
    runs: int,
) -> str:
    lines = [
        "## A national year on both engines (issue #19)",
        "",
        f"Command, from the repository's root: `{command}`",
        "",
        f"- When: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"commit {common.commit(('bot', 'storage', 'benchmarks'))}",
        f"- Machine: {common.machine()}, PostgreSQL 15 (cluster on disk, settings: "
        + ", ".join(f"{k}={v}" for k, v in SERVER_SETTINGS.items())
        + ")",
        f"- `uptime` before: `{uptimes[0]}`",
        f"- `uptime` after: `{uptimes[1]}`",
        f"- Data: {CAFS} Cafs ({len(OVERSEAS)} overseas), {SITES:,} sites, {AGENTS:,} agents, "
        f"{visits:,} visits in {YEAR} (seed {SEED}), plus {CANCELLED:.0%} cancelled and "
        f"{TRAINING:.0%} training-mode drafts; the counts of storage/visit_counts.py computed "
        "from the same draws and written with them. Generation bypasses the services: bulk "
        "SQL, `executemany` in transactions of 100,000 visits with `PRAGMA synchronous=OFF` "
        "(SQLite), `copy_records_to_table` with `session_replication_role = replica` "
        "(PostgreSQL: no trigger nor foreign key checked during the load), the migrations' "
        "secondary indexes dropped before and built after; one generation feeds both "
        "engines. Cached in $BENCH_DATA_DIR (../bench-data beside the repository), reused by later "
        "runs.",
    ]
    for engine, fill_info in fills.items():
        rows = fill_info.get("rows", {})
        lines.append(
            f"- {engine}: database {sizes.get(engine, 0):,.0f} MB; "
            + (
                f"filled in {fill_info['seconds']:,.0f} s "
                f"(writing {fill_info['writing_seconds']:,.0f} s, "
                f"then the secondary indexes {fill_info.get('index_seconds', 0):,.0f} s, "
                f"ANALYZE{' and VACUUM' if engine == 'postgresql' else ''} "
                f"{fill_info.get('analyze_seconds', 0):,.0f} s)"
                + (" by an earlier run" if fill_info.get("reused") else "")
                if "seconds" in fill_info
                else ""
            )
            + (
                "; rows: " + ", ".join(f"{table} {n:,}" for table, n in rows.items())
                if rows
                else ""
            )
        )
    for engine, checked in samples.items():
        lines.append(
            f"- Counts checked against a recount from raw visits ({engine}): " + "; ".join(checked)
        )
    lines += [
        f"- Each figure: median (min–max) of {runs} runs in one process per engine after a "
        "warm-up run; the baseline is measured in the same process, interleaved.",
        "",
        "| measure | engine | median | min–max | baseline median | × baseline | target | |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for kind in ("caf", "site", "excel", "excel-collect", "national"):
        for engine, probe in probes.items():
            values, base = probe.runs[kind], probe.baselines[kind]
            median, low, high = common.spread(values)
            base_median = statistics.median(base)
            target = TARGETS.get(kind)
            verdict = "" if target is None else "pass" if median <= target else "**fail**"
            lines.append(
                f"| {LABELS[kind]} | {engine} | {_ms(median)} | {_ms(low)}–{_ms(high)} "
                f"| {_ms(base_median)} ({BASELINES[kind]}) | × {median / base_median:.1f} "
                f"| {'' if target is None else '≤ ' + _ms(target)} | {verdict} |"
            )
    if startup:
        median, low, high = common.spread(startup)
        lines.append(
            f"| … start-up alone: `python -m bot --help` (interpreter, imports) | | "
            f"{_ms(median)} | {_ms(low)}–{_ms(high)} | | | | |"
        )
    for engine, measured in cli.items():
        probe = probes[engine]
        seconds = [s for s, _ in measured]
        median, low, high = common.spread(seconds)
        base_median = statistics.median(probe.baselines["national"])
        verdict = "pass" if median <= TARGETS["national"] else "**fail**"
        lines.append(
            f"| national year: `python -m bot export indicators --all-cafs --period {YEAR}` "
            f"(wall time, interpreter included) | {engine} | {_ms(median)} "
            f"| {_ms(low)}–{_ms(high)} "
            f"| {_ms(base_median)} ({BASELINES['national']}) | × {median / base_median:.1f} "
            f"| ≤ {_ms(TARGETS['national'])} | {verdict} |"
        )
    lines += [
        "",
        "| peak RSS (VmHWM) | engine | before the work | after | target | |",
        "|---|---|---:|---:|---:|---|",
    ]
    for engine, probe in probes.items():
        peak_mb = probe.rss_peak_kib * 1024 / 1e6
        verdict = "pass" if peak_mb <= TARGET_RSS_MB else "**fail**"
        lines.append(
            f"| the measuring process (bot.app imported; every measure above, "
            f"{runs + 1} times each) | {engine} | {common.mb(probe.rss_before_kib)} "
            f"| {common.mb(probe.rss_peak_kib)} | ≤ {TARGET_RSS_MB:.0f} MB | {verdict} |"
        )
    for engine, measured in cli.items():
        peak = max(kib for _, kib in measured)
        verdict = "pass" if peak * 1024 / 1e6 <= TARGET_RSS_MB else "**fail**"
        lines.append(
            f"| `python -m bot export indicators --all-cafs` | {engine} | | {common.mb(peak)} "
            f"| ≤ {TARGET_RSS_MB:.0f} MB | {verdict} |"
        )
    if any(flows.values()):
        lines += [
            "",
            "Visit flow (benchmarks/throughput.py: 50 agents, 10 sites, 4 visits each, fresh "
            "database; the PostgreSQL one on the cluster above):",
            "",
            "| bot | updates/s median | min–max | handling p50 | p99 | runs |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        names = {
            "sqlite": "visit flow, SQLite",
            "postgresql": "visit flow, PostgreSQL",
            "baseline": "bare python-telegram-bot bot",
        }
        for name, found in flows.items():
            if not found:
                continue
            rates = [run.rate for run in found]
            p50 = statistics.median(common.percentile(run.handling, 0.5) for run in found)
            p99 = statistics.median(common.percentile(run.handling, 0.99) for run in found)
            lines.append(
                f"| {names[name]} | {statistics.median(rates):.1f} | {min(rates):.1f}–"
                f"{max(rates):.1f} | {_ms(p50)} | {_ms(p99)} | {len(found)} |"
            )
    lines += ["", "Load average (1 min) around each measuring process: " + ", ".join(
        f"{engine} {probe.load[0]:.2f} → {probe.load[1]:.2f}" for engine, probe in probes.items()
    )]  # fmt: skip
    lines.append(
        "Checks: " + "; ".join(f"{engine}: {json.dumps(p.checks)}" for engine, p in probes.items())
    )
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------- main
def _sqlite_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()) / 1e6


def _stored_fill_sqlite(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM kv WHERE key = ?", (FILL_KEY,)).fetchone()
    finally:
        conn.close()
    return {**json.loads(row[0]), "reused": True} if row else {"reused": True}


async def _stored_fill_pg(server: Server, name: str) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(server.url(name))
    try:
        value = await conn.fetchval("SELECT value FROM kv WHERE key = $1", FILL_KEY)
    finally:
        await conn.close()
    return {**json.loads(value), "reused": True} if value else {"reused": True}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.national", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--engine", choices=(*ENGINES, "both"), default="both")
    parser.add_argument("--visits", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs after the warm-up")
    parser.add_argument("--throughput-runs", type=int, default=3, help="runs of each bot (0: none)")
    parser.add_argument("--fill-only", action="store_true", help="generate, measure nothing")
    parser.add_argument("--readme", action="store_true", help="rewrite the README section")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--location", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        probe = asyncio.run(measure(args.location, args.runs, args.child))
        print(json.dumps(asdict(probe)))
        return

    command = shlex.join([".venv/bin/python", "-m", "benchmarks.national", *sys.argv[1:]])
    uptime_before = common.uptime()
    print(f"{uptime_before}\n{common.machine()}", flush=True)
    engines = list(ENGINES) if args.engine == "both" else [args.engine]
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    marker = _marker(args.visits)
    sqlite_path = DATA_DIR / f"national-{args.visits}.sqlite3"
    pg_name = f"national_{args.visits}"
    server = Server(DATA_DIR / "pg") if "postgresql" in engines else None
    locations: dict[str, str] = {}
    try:
        if server is not None:
            server.start()
            locations["postgresql"] = server.url(pg_name)
        if "sqlite" in engines:
            locations["sqlite"] = str(sqlite_path)
        sinks: list[Sink] = []
        fills: dict[str, dict[str, Any]] = {}
        if "sqlite" in engines:
            if common.stored_marker(sqlite_path, MARKER) == marker:
                fills["sqlite"] = _stored_fill_sqlite(sqlite_path)
                print(f"Reusing {sqlite_path}")
            else:
                sinks.append(SqliteSink(sqlite_path))
        if server is not None:
            if asyncio.run(server.marker(pg_name)) == marker:
                fills["postgresql"] = asyncio.run(_stored_fill_pg(server, pg_name))
                print(f"Reusing PostgreSQL database {pg_name}")
            else:
                sinks.append(PostgresSink(server, pg_name))
        if sinks:
            names = ", ".join(sink.engine for sink in sinks)
            print(f"Generating {args.visits:,} visits into {names}…", flush=True)
            fills.update(asyncio.run(fill(sinks, args.visits, marker)))
        sizes = {}
        if "sqlite" in locations:
            sizes["sqlite"] = _sqlite_mb(sqlite_path)
        if server is not None:
            sizes["postgresql"] = asyncio.run(server.size_mb(pg_name))
        samples = {}
        for engine in engines:
            print(f"Checking a sample of the counts ({engine})…", flush=True)
            samples[engine] = asyncio.run(check_sample(locations[engine]))
            print("  " + "; ".join(samples[engine]), flush=True)
        if args.fill_only:
            return
        probes: dict[str, Probe] = {}
        cli: dict[str, list[tuple[float, int]]] = {}
        output = DATA_DIR / "national-export.csv"
        for engine in engines:
            print(f"Measuring on {engine} (load {common.load():.2f})…", flush=True)
            probes[engine] = run_child(engine, locations[engine], args.runs)
            run_cli(engine, locations[engine], output)  # warm-up
            cli[engine] = [run_cli(engine, locations[engine], output) for _ in range(args.runs)]
        startup = [cli_startup() for _ in range(args.runs)]
        flows: dict[str, list[Any]] = {}
        if args.throughput_runs:
            print("Visit flow throughput…", flush=True)
            admin = server.url("postgres") if server is not None else None
            flows = throughput(args.throughput_runs, admin)
        section = report(
            command=command,
            visits=args.visits,
            fills=fills,
            sizes=sizes,
            probes=probes,
            cli=cli,
            startup=startup,
            flows=flows,
            samples=samples,
            uptimes=(uptime_before, common.uptime()),
            runs=args.runs,
        )
        print()
        print(section)
        for engine, probe in probes.items():
            checks = probe.checks
            for kind in ("caf", "site", "national"):
                if checks[f"{kind}_visits"] != checks[f"{kind}_count"]:
                    sys.exit(f"{engine}: {kind} counts {checks}: wrong")
        if args.readme:
            common.write_section("national", section)
            print(f"Written to {common.README}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
