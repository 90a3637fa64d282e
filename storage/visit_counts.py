"""Counts of visits per local day and month, site and Annexe 2 category (migration 0020).

Kept in the transaction that saves, changes or cancels a visit (storage/visits.py calls
`added`, `before_change` and `changed`), so they are never ahead of the visits nor behind
them: a transaction that fails rolls both back. Read by storage/indicators.py, so that a
Caf's quarter costs a few hundred small rows however many visits it had (its sites' rows
and, as site 0, the whole Caf's). Training-mode visits live in `training_visits` and never
come here. No one's identity is here (no person, no visit): erasure has nothing to do.

Which day a visit counts for is the Caf's local day, in the zone recorded for the Caf in
`visit_count_zones` when its counts were built:

- a Caf gets its row from migration 0020 (every Caf on PostgreSQL; on SQLite the zones it
  can follow without a zone database: mainland France and the overseas departments), or
  at its first visit when it has none before (a Caf created since), or from `rebuild`;
- a Caf whose zone changes is rebuilt in the transaction that changes it
  (bot/services/cafs.py `update`; setting a Caf's zone again, `python -m bot cafs set
  --timezone`, rebuilds a Caf the migration could not count); should a zone change by
  another path, the recorded zone no longer matches the Caf's and storage/indicators.py
  counts raw visits (right, slower) until `rebuild` runs;
- a Caf without a row is counted from raw visits, and its visits are not counted here.

Statements are standard SQL (`INSERT … ON CONFLICT … DO UPDATE`, `GROUP BY`): date
arithmetic is done here, in Python. Rows whose count fell to 0 are kept: readers skip them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.visits import Answers
from storage.db import Conn, Tx
from storage.timefmt import to_db

DAY = "day"
MONTH = "month"
VISITS = "visits"
# The Caf as one whole: its rows are kept beside its sites' (no site has id 0), so that
# the Caf's figures read a few hundred rows rather than every site's.
WHOLE_CAF = 0


def answer(question: str, code: str | None) -> str:
    return f"answer:{question}:{code or ''}"


def cell(demande: str, action: str) -> str:
    return f"cell:{demande}:{action}"


def request(demande: str, resolution: str) -> str:
    return f"request:{demande}:{resolution}"


def theme(code: str) -> str:
    return f"theme:{code}"


@dataclass
class Delta:
    """Changes to the counts, netted before they are written (a change of a visit that
    leaves a figure as it was writes nothing for it)."""

    counts: Counter[tuple[str, str, int, str]] = field(default_factory=Counter)
    hours: Counter[tuple[str, int, int]] = field(default_factory=Counter)

    def add(
        self,
        local: datetime,
        partner_id: int,
        categories: Iterable[str],
        sign: int,
    ) -> None:
        day, month = local.date().isoformat(), local.strftime("%Y-%m")
        for site in (partner_id, WHOLE_CAF):
            for category in categories:
                self.counts[(DAY, day, site, category)] += sign
                self.counts[(MONTH, month, site, category)] += sign
            self.hours[(day, site, local.hour)] += sign


def categories(
    *,
    sexe: str,
    age: str | None,
    statut: str,
    autonomie: str,
    resolution: str,
    ticks: Iterable[tuple[str, str]],
    themes: Iterable[str],
) -> list[str]:
    """What one visit adds to: itself, each answer, each ticked cell, each request type
    once (with the visit's resolution), each theme."""
    pairs = list(ticks)
    found = [
        VISITS,
        answer("sexe", sexe),
        answer("age", age),
        answer("statut", statut),
        answer("autonomie", autonomie),
        answer("resolution", resolution),
    ]
    found += [cell(demande, action) for demande, action in dict.fromkeys(pairs)]
    found += [request(demande, resolution) for demande in dict.fromkeys(d for d, _ in pairs)]
    found += [theme(code) for code in dict.fromkeys(themes)]
    return found


def local_of(stored: str, zone: ZoneInfo) -> datetime:
    """A stored instant (storage/timefmt.py) in the Caf's zone."""
    return datetime.fromisoformat(stored).astimezone(zone)


# ------------------------------------------------------------------------------ the zone
async def zone_of(conn: Conn, caf_id: int) -> str | None:
    """The zone the Caf's counts were built in; None: the Caf is not counted here."""
    value: str | None = await conn.fetch_value(
        "SELECT timezone FROM visit_count_zones WHERE caf_id = :caf", {"caf": caf_id}
    )
    return value


async def _zone_for_new_visit(tx: Tx, caf_id: int, visit_id: int) -> ZoneInfo | None:
    recorded = await zone_of(tx, caf_id)
    if recorded is not None:
        return ZoneInfo(recorded)
    # Never counted: counting starts now only if no visit of the Caf is left uncounted.
    other = await tx.fetch_value(
        "SELECT id FROM visits WHERE caf_id = :caf AND id <> :visit LIMIT 1",
        {"caf": caf_id, "visit": visit_id},
    )
    if other is not None:
        return None
    timezone: str | None = await tx.fetch_value(
        "SELECT timezone FROM cafs WHERE id = :caf", {"caf": caf_id}
    )
    if timezone is None:
        return None
    # Two first visits at once (PostgreSQL, two instances): both count their own.
    await tx.execute(
        "INSERT INTO visit_count_zones (caf_id, timezone) VALUES (:caf, :tz)"
        " ON CONFLICT (caf_id) DO NOTHING",
        {"caf": caf_id, "tz": timezone},
    )
    return ZoneInfo(timezone)


# ------------------------------------------------------------------------------ writing
async def _stored(tx: Tx, visit_id: int) -> tuple[int, int, str, list[str]] | None:
    """(Caf, site, instant, categories) of a stored visit, as it is now."""
    row = await tx.fetch_one(
        "SELECT caf_id, partner_id, visited_at, sexe, age, statut, autonomie, resolution"
        " FROM visits WHERE id = :id",
        {"id": visit_id},
    )
    if row is None:
        return None
    ticks = await tx.fetch_all(
        "SELECT demande, action FROM visit_actions WHERE visit_id = :id ORDER BY position",
        {"id": visit_id},
    )
    themes = await tx.fetch_all(
        "SELECT theme FROM visit_themes WHERE visit_id = :id", {"id": visit_id}
    )
    found = categories(
        sexe=row["sexe"],
        age=row["age"],
        statut=row["statut"],
        autonomie=row["autonomie"],
        resolution=row["resolution"],
        ticks=[(tick["demande"], tick["action"]) for tick in ticks],
        themes=[t["theme"] for t in themes],
    )
    return int(row["caf_id"]), int(row["partner_id"]), str(row["visited_at"]), found


async def _write(tx: Tx, caf_id: int, delta: Delta) -> None:
    await tx.executemany(
        "INSERT INTO visit_counts (caf_id, span, period, partner_id, category, n)"
        " VALUES (:caf, :span, :period, :partner, :category, :n)"
        " ON CONFLICT (caf_id, span, period, partner_id, category)"
        " DO UPDATE SET n = visit_counts.n + excluded.n",
        [
            {
                "caf": caf_id,
                "span": span,
                "period": period,
                "partner": partner,
                "category": category,
                "n": n,
            }
            for (span, period, partner, category), n in delta.counts.items()
            if n
        ],
    )
    await tx.executemany(
        "INSERT INTO visit_hour_counts (caf_id, day, partner_id, hour, n)"
        " VALUES (:caf, :day, :partner, :hour, :n)"
        " ON CONFLICT (caf_id, day, partner_id, hour)"
        " DO UPDATE SET n = visit_hour_counts.n + excluded.n",
        [
            {"caf": caf_id, "day": day, "partner": partner, "hour": hour, "n": n}
            for (day, partner, hour), n in delta.hours.items()
            if n
        ],
    )


async def added(
    tx: Tx,
    visit_id: int,
    *,
    caf_id: int,
    partner_id: int,
    visited_at: datetime,
    answers: Answers,
) -> None:
    """Counts a visit just stored with these answers (storage/visits.py `save_visit`)."""
    zone = await _zone_for_new_visit(tx, caf_id, visit_id)
    if zone is None:
        return
    found = categories(
        sexe=answers.sexe or "",
        age=answers.age,
        statut=answers.statut or "",
        autonomie=answers.autonomie or "",
        resolution=answers.resolution or "",
        ticks=[(r.demande, action) for r in answers.requests for action in r.actions],
        themes=answers.themes,
    )
    delta = Delta()
    delta.add(local_of(to_db(visited_at), zone), partner_id, found, +1)
    await _write(tx, caf_id, delta)


@dataclass(frozen=True)
class Before:
    """A visit as it was counted, taken before it changes or goes."""

    caf_id: int
    partner_id: int
    instant: str
    categories: list[str]


async def before_change(tx: Tx, visit_id: int) -> Before | None:
    """The visit as counted now, to take off once it has changed or gone; None when it is
    not there or its Caf is not counted here."""
    stored = await _stored(tx, visit_id)
    if stored is None or await zone_of(tx, stored[0]) is None:
        return None
    return Before(*stored)


async def changed(tx: Tx, before: Before | None, visit_id: int | None) -> None:
    """Takes `before` off the counts and adds the visit as it is now (`visit_id`, None when
    it was deleted): one netted write."""
    if before is None:
        return
    recorded = await zone_of(tx, before.caf_id)
    assert recorded is not None
    zone = ZoneInfo(recorded)
    delta = Delta()
    delta.add(local_of(before.instant, zone), before.partner_id, before.categories, -1)
    if visit_id is not None:
        now = await _stored(tx, visit_id)
        assert now is not None
        _, partner_id, instant, found = now
        delta.add(local_of(instant, zone), partner_id, found, +1)
    await _write(tx, before.caf_id, delta)


# ------------------------------------------------------------------------------ rebuilding
async def rebuild(tx: Tx, caf_id: int, zone: ZoneInfo) -> None:
    """The Caf's counts recounted from its visits in `zone`, which they are then kept in.

    For a change of the Caf's zone, or a Caf the migration could not count. Each local day
    is counted by storage/indicators.py `count_raw_rows` (the counting the counts stand in
    for, so both agree by construction), by site and with its hours: a few index range
    reads a day. Holds the write lock while it runs (seconds for a large Caf's year)."""
    from storage.indicators import count_raw_rows  # it reads this module: imported late

    for table in ("visit_counts", "visit_hour_counts"):
        await tx.execute(f"DELETE FROM {table} WHERE caf_id = :caf", {"caf": caf_id})
    await tx.execute("DELETE FROM visit_count_zones WHERE caf_id = :caf", {"caf": caf_id})
    await tx.execute(
        "INSERT INTO visit_count_zones (caf_id, timezone) VALUES (:caf, :tz)",
        {"caf": caf_id, "tz": zone.key},
    )
    span = await tx.fetch_one(
        "SELECT MIN(visited_at) AS first, MAX(visited_at) AS last FROM visits WHERE caf_id = :caf",
        {"caf": caf_id},
    )
    if span is None or span["first"] is None:
        return
    day = local_of(span["first"], zone).date()
    last = local_of(span["last"], zone).date()
    delta = Delta()
    while day <= last:
        following = day + timedelta(days=1)
        start = datetime.combine(day, datetime.min.time(), zone)
        end = datetime.combine(following, datetime.min.time(), zone)
        rows = await count_raw_rows(tx, caf_id=caf_id, start=start, end=end, tz=zone)
        for partner, n in rows.visits:
            _add_counts(delta, start, partner, VISITS, n)
        for partner, question, code, n in rows.answers:
            _add_counts(delta, start, partner, answer(question, code), n)
        for partner, demande, action, n in rows.cells:
            _add_counts(delta, start, partner, cell(demande, action), n)
        for partner, demande, resolution, n in rows.requests:
            _add_counts(delta, start, partner, request(demande, resolution), n)
        for partner, code, n in rows.themes:
            _add_counts(delta, start, partner, theme(code), n)
        for partner, local_day, hour, n in rows.local_hours:
            for site in (partner, WHOLE_CAF):
                delta.hours[(local_day.isoformat(), site, hour)] += n
        if following.month != day.month or following > last:
            await _write(tx, caf_id, delta)  # a month at a time: its row written once
            delta = Delta()
        day = following


def _add_counts(delta: Delta, local: datetime, partner_id: int, category: str, n: int) -> None:
    """`n` more of one category for the site and the whole Caf, hours aside."""
    day, month = local.date().isoformat(), local.strftime("%Y-%m")
    for site in (partner_id, WHOLE_CAF):
        delta.counts[(DAY, day, site, category)] += n
        delta.counts[(MONTH, month, site, category)] += n


# ------------------------------------------------------------------------------ reading
def spans(first: date, last: date) -> list[tuple[str, str, str]]:
    """The local days [first, last] as (span, from, to) ranges of stored periods: whole
    months as months, the days before and after them as days."""
    month_start = first if first.day == 1 else _next_month(first)
    after = _next_month(last.replace(day=1))
    month_end = after if after - timedelta(days=1) == last else last.replace(day=1)
    if month_start >= month_end:  # no whole month inside
        return [(DAY, first.isoformat(), last.isoformat())]
    found = []
    if first < month_start:
        found.append((DAY, first.isoformat(), (month_start - timedelta(days=1)).isoformat()))
    found.append(
        (MONTH, month_start.strftime("%Y-%m"), (month_end - timedelta(days=1)).strftime("%Y-%m"))
    )
    if month_end <= last:
        found.append((DAY, month_end.isoformat(), last.isoformat()))
    return found


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _scope(partner_id: int | None, by_site: bool) -> tuple[str, str]:
    """What a row's site is read as, and which rows are read: one site's (through its own
    index, which SQLite's planner picks), every site's, or the whole Caf's."""
    if partner_id is not None:
        return ("partner_id" if by_site else "0"), "caf_id = :caf AND partner_id = :partner"
    if by_site:
        return "partner_id", f"caf_id = :caf AND partner_id <> {WHOLE_CAF}"
    return "0", f"caf_id = :caf AND partner_id = {WHOLE_CAF}"


async def sums(
    conn: Conn, caf_id: int, first: date, last: date, partner_id: int | None, by_site: bool
) -> Counter[tuple[int, str]]:
    """(site, category) → visits over the local days [first, last]; site 0 when not
    `by_site`."""
    site, where = _scope(partner_id, by_site)
    found: Counter[tuple[int, str]] = Counter()
    for span, start, end in spans(first, last):
        for row in await conn.fetch_all(
            f"SELECT {site} AS site, category, SUM(n) AS n FROM visit_counts"
            f" WHERE {where} AND span = :span AND period >= :start AND period <= :end"
            + (" GROUP BY partner_id, category" if by_site else " GROUP BY category"),
            {"caf": caf_id, "partner": partner_id, "span": span, "start": start, "end": end},
        ):
            if row["n"]:
                found[(int(row["site"]), row["category"])] += int(row["n"])
    return found


async def whole_caf_sums(
    conn: Conn, first: date, last: date
) -> dict[int, Counter[tuple[int, str]]]:
    """Every counted Caf's (0, category) → visits over the local days [first, last], as
    `sums` gives one Caf's as one whole: one read of the whole-Caf rows of all Cafs (site 0,
    through the site index), for the national table."""
    found: dict[int, Counter[tuple[int, str]]] = {}
    for span, start, end in spans(first, last):
        for row in await conn.fetch_all(
            "SELECT caf_id, category, SUM(n) AS n FROM visit_counts"
            f" WHERE partner_id = {WHOLE_CAF} AND span = :span"
            " AND period >= :start AND period <= :end GROUP BY caf_id, category",
            {"span": span, "start": start, "end": end},
        ):
            if row["n"]:
                counts = found.setdefault(int(row["caf_id"]), Counter())
                counts[(WHOLE_CAF, row["category"])] += int(row["n"])
    return found


async def hours(
    conn: Conn, caf_id: int, first: date, last: date, partner_id: int | None, by_site: bool
) -> list[tuple[int, date, int, int]]:
    """(site, local day, local hour, visits) over [first, last], days and hours with visits."""
    site, where = _scope(partner_id, by_site)
    rows = await conn.fetch_all(
        f"SELECT {site} AS site, day, hour, SUM(n) AS n FROM visit_hour_counts"
        f" WHERE {where} AND day >= :start AND day <= :end"
        + (" GROUP BY partner_id, day, hour" if by_site else " GROUP BY day, hour"),
        {"caf": caf_id, "partner": partner_id, "start": first.isoformat(), "end": last.isoformat()},
    )
    return [
        (int(row["site"]), date.fromisoformat(row["day"]), int(row["hour"]), int(row["n"]))
        for row in rows
        if row["n"]
    ]
