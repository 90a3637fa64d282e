"""Counting the visits of a period for Annexe 2: a few sums, never the visits themselves.

Each query reads one index range (Caf, instant, …) of one table and joins nothing: the
grid's and the themes' rows carry copies of their visit's site, instant and resolution
(migration 0008). Answers are summed column by column (`SUM(sexe = 'femme')`, …) rather
than grouped on several columns, because SQLite sorts every row of a GROUP BY and a sort on
five text columns was most of the time (a Caf's quarter of 250,000 visits: 0.28 s grouped,
0.11 s summed, when this was written; benchmarks/README.md has the whole). The columns are
written from bot/domain/taxonomy.py, so a new option is counted by itself.
Training-mode visits live in `training_visits` and are never read here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import taxonomy
from bot.domain.indicators import PER_VISIT, CountRows, utc_offsets
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
