"""Counting the visits of a period for Annexe 2: a few sums, never the visits themselves.

`count_rows` reads the counts storage/visit_counts.py keeps per local day and month, site
and category (issue #19: a Caf's quarter is then a few thousand small rows, however many
visits it had), and falls back on `count_raw_rows` when they cannot answer: a period that
is not whole local days, or a Caf whose counts are not in the zone asked (see
storage/visit_counts.py). Both give the same rows, rows of 0 aside; tests/storage/
test_visit_counts.py checks it.

`count_raw_rows` (issue #7) reads one index range (Caf, instant, …) of one table a query
and joins nothing: the grid's and the themes' rows carry copies of their visit's site,
instant and resolution (migration 0008). Answers are summed column by column
(`SUM(sexe = 'femme')`, …) rather than grouped on several columns, because SQLite sorts
every row of a GROUP BY and a sort on five text columns was most of the time (a Caf's
quarter of 250,000 visits: 0.28 s grouped, 0.11 s summed, when this was written;
benchmarks/README.md has the whole). The columns are written from bot/domain/taxonomy.py,
so a new option is counted by itself.
Training-mode visits live in `training_visits` and are never read here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import taxonomy
from bot.domain.indicators import PER_VISIT, CountRows, utc_offsets
from storage import visit_counts
from storage.db import Conn
from storage.timefmt import to_db


def _range(partner_id: int | None) -> str:
    where = " WHERE caf_id = :caf AND visited_at >= :start AND visited_at < :end"
    return where + (" AND partner_id = :partner" if partner_id is not None else "")


def _sums(
    params: dict[str, Any], prefix: str, column: str, codes: tuple[str, ...], weight: str = ""
) -> list[str]:
    """`SUM(column = :prefixN)` for each code, with the codes as parameters."""
    columns = []
    for index, code in enumerate(codes):
        params[f"{prefix}{index}"] = code
        columns.append(f"SUM({weight}({column} = :{prefix}{index}))")
    return columns


def _local_modifier(start: datetime, end: datetime, tz: ZoneInfo, params: dict[str, Any]) -> str:
    """A SQL expression giving the date-function modifier (`'+120 minutes'`) that turns a
    stored UTC instant into local time, segment by segment of the time zone's offsets."""
    segments = utc_offsets(start, end, tz)
    branches = []
    for index, (_, minutes) in enumerate(segments[:-1]):
        params[f"until{index}"] = to_db(segments[index + 1][0])
        branches.append(f"WHEN visited_at < :until{index} THEN '{minutes:+d} minutes'")
    last = f"'{segments[-1][1]:+d} minutes'"
    return f"CASE {' '.join(branches)} ELSE {last} END" if branches else last


async def count_raw_rows(
    conn: Conn,
    *,
    caf_id: int,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    partner_id: int | None = None,
    by_site: bool = True,
    with_time: bool = True,
    summary_only: bool = False,
) -> CountRows:
    """`count_rows` from the raw visits: for a period that is not whole local days of the
    zone the Caf's counts were built in, and as the reference the counts are tested against.

    - `by_site=False` counts the Caf as one whole (every row's site is 0), for the Caf's
      total without per-site groups;
    - `with_time=False` leaves out the local hours (weeks and heatmap), which exports skip;
    - `summary_only=True` counts only visits, resolutions and request types: enough to
      compare with the previous period.

    Run it inside `db.report_read()` (or `db.read()`) so that the queries see one state of
    the database.
    """
    params: dict[str, Any] = {
        "caf": caf_id,
        "start": to_db(start),
        "end": to_db(end),
        "partner": partner_id,
    }
    where = _range(partner_id)
    site, group = ("partner_id", " GROUP BY partner_id") if by_site else ("0", "")
    rows = CountRows()

    questions = (taxonomy.RESOLUTION,) if summary_only else PER_VISIT
    answer_columns = []
    for number, question in enumerate(questions):
        answer_columns += _sums(params, f"q{number}_", question.code, question.codes)
    answer_columns.append(f"SUM({taxonomy.AGE.code} IS NULL)")
    for row in await conn.fetch_all(
        f"SELECT {site}, COUNT(*), {', '.join(answer_columns)}"
        " FROM visits INDEXED BY visits_for_indicators" + where + group,
        params,
    ):
        partner, visits, *sums = (value or 0 for value in row)
        if not visits:
            continue
        rows.visits.append((partner, visits))
        values = iter(sums)
        for question in questions:
            for code in question.codes:
                rows.answers.append((partner, question.code, code, next(values)))
        rows.answers.append((partner, taxonomy.AGE.code, None, next(values)))

    # One query per request type's row of the grid: the actions ticked, and (through
    # `lead`, 1 on the first action of a request type in a visit) the visits by resolution.
    action_columns = _sums(params, "a", "action", taxonomy.ACTION.codes)
    resolution_columns = _sums(params, "r", "resolution", taxonomy.RESOLUTION.codes, "lead * ")
    if summary_only:
        action_columns = []
    for row in await conn.fetch_all(
        f"SELECT {site}, demande, {', '.join([*action_columns, *resolution_columns])}"
        " FROM visit_actions INDEXED BY visit_actions_for_indicators"
        + where
        + (" GROUP BY partner_id, demande" if by_site else " GROUP BY demande"),
        params,
    ):
        partner, request, *sums = row
        values = iter(sums)
        for action in taxonomy.ACTION.codes if not summary_only else ():
            rows.cells.append((partner, request, action, next(values) or 0))
        for resolution in taxonomy.RESOLUTION.codes:
            rows.requests.append((partner, request, resolution, next(values) or 0))
    if summary_only:
        return rows

    for row in await conn.fetch_all(
        f"SELECT {site}, theme, COUNT(*) FROM visit_themes INDEXED BY visit_themes_for_indicators"
        + where
        + (" GROUP BY partner_id, theme" if by_site else " GROUP BY theme"),
        params,
    ):
        rows.themes.append((row[0], row[1], row[2]))

    if with_time:
        local = _local_modifier(start, end, tz, params)
        for row in await conn.fetch_all(
            f"SELECT {site}, strftime('%Y-%m-%d %H', visited_at, {local}) AS hour, COUNT(*)"
            " FROM visits INDEXED BY visits_for_indicators"
            + where
            + (" GROUP BY partner_id, hour" if by_site else " GROUP BY hour"),
            params,
        ):
            hour = row[1]
            rows.local_hours.append((row[0], date.fromisoformat(hour[:10]), int(hour[11:]), row[2]))
    return rows


def _local_days(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[date, date] | None:
    """[start, end) as the local days [first, last] it is, if it is whole local days."""
    first, after = start.astimezone(tz), end.astimezone(tz)
    for instant in (first, after):
        if instant.time() != datetime.min.time():
            return None
        if datetime.combine(instant.date(), datetime.min.time(), tz) != instant:
            return None
    if after.date() <= first.date():
        return None
    return first.date(), after.date() - timedelta(days=1)


async def count_rows(
    conn: Conn,
    *,
    caf_id: int,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    partner_id: int | None = None,
    by_site: bool = True,
    with_time: bool = True,
    summary_only: bool = False,
) -> CountRows:
    """The counts of [start, end) for a Caf, or one of its sites.

    - `by_site=False` counts the Caf as one whole (every row's site is 0), for the Caf's
      total without per-site groups;
    - `with_time=False` leaves out the local hours (weeks and heatmap), which exports skip;
    - `summary_only=True` counts only visits, resolutions and request types: enough to
      compare with the previous period.

    Read from the counts of storage/visit_counts.py when the period is whole local days of
    the zone they were built in (every period of bot/domain/periods.py is), from the raw
    visits otherwise (`count_raw_rows`): the same rows either way, rows of 0 aside.

    Run it inside `db.report_read()` (or `db.read()`) so that the queries see one state of
    the database.
    """
    days = _local_days(start, end, tz)
    if days is None or await visit_counts.zone_of(conn, caf_id) != tz.key:
        return await count_raw_rows(
            conn,
            caf_id=caf_id,
            start=start,
            end=end,
            tz=tz,
            partner_id=partner_id,
            by_site=by_site,
            with_time=with_time,
            summary_only=summary_only,
        )
    first, last = days
    sums = await visit_counts.sums(conn, caf_id, first, last, partner_id, by_site)
    rows = _from_counts(sums, summary_only)
    if with_time and not summary_only:
        rows.local_hours.extend(
            await visit_counts.hours(conn, caf_id, first, last, partner_id, by_site)
        )
    return rows


def _from_counts(sums: Counter[tuple[int, str]], summary_only: bool) -> CountRows:
    """The rows of `count_rows` from (site, category) → visits, hours aside."""
    rows = CountRows()
    sites = sorted({site for site, category in sums if category == visit_counts.VISITS})
    questions = (taxonomy.RESOLUTION,) if summary_only else PER_VISIT
    for site in sites:
        rows.visits.append((site, sums[(site, visit_counts.VISITS)]))
        for question in questions:
            for code in question.codes:
                rows.answers.append(
                    (
                        site,
                        question.code,
                        code,
                        sums[(site, visit_counts.answer(question.code, code))],
                    )
                )
        rows.answers.append(
            (
                site,
                taxonomy.AGE.code,
                None,
                sums[(site, visit_counts.answer(taxonomy.AGE.code, None))],
            )
        )
        for request in taxonomy.DEMANDE.codes:
            by_resolution = [
                (resolution, sums[(site, visit_counts.request(request, resolution))])
                for resolution in taxonomy.RESOLUTION.codes
            ]
            if not any(n for _, n in by_resolution):
                continue
            if not summary_only:
                for action in taxonomy.ACTION.codes:
                    rows.cells.append(
                        (site, request, action, sums[(site, visit_counts.cell(request, action))])
                    )
            for resolution, n in by_resolution:
                rows.requests.append((site, request, resolution, n))
        if not summary_only:
            for code in taxonomy.THEME.codes:
                if n := sums[(site, visit_counts.theme(code))]:
                    rows.themes.append((site, code, n))
    return rows


async def count_every_caf(
    conn: Conn, cafs: Sequence[tuple[int, ZoneInfo]], first: date, last: date
) -> dict[int, CountRows]:
    """Each Caf's figures as one whole (site 0) over the local days [first, last] of its own
    zone, without hours: the national table (issue #19). One read of every Caf's whole-Caf
    counts, rather than `count_rows` a Caf (whose reads of the Cafs' rows by site 0 each
    walk every Caf's); `count_raw_rows` for a Caf whose counts are not in its zone."""
    zones = {
        int(row["caf_id"]): row["timezone"]
        for row in await conn.fetch_all("SELECT caf_id, timezone FROM visit_count_zones")
    }
    sums = await visit_counts.whole_caf_sums(conn, first, last)
    found = {}
    for caf_id, zone in cafs:
        if zones.get(caf_id) == zone.key:
            found[caf_id] = _from_counts(sums.get(caf_id, Counter()), summary_only=False)
            continue
        found[caf_id] = await count_raw_rows(
            conn,
            caf_id=caf_id,
            start=datetime.combine(first, datetime.min.time(), zone),
            end=datetime.combine(last + timedelta(days=1), datetime.min.time(), zone),
            tz=zone,
            by_site=False,
            with_time=False,
        )
    return found
