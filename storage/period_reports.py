"""Period reports (Article 9): each site's indicators of a period, validated by a manager.

A row is opened for every labelled site when its Caf's reporting period ends. It is
`pending` until one manager validates it, then `validated`; a visit logged, changed or
undone in a validated period makes it `modified`, which asks for a new validation with a
new deadline. bot/jobs/transmission.py runs the asking and the reminders.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# The model and its states are the domain's; named here too for the callers of this module.
from bot.domain.period_reports import PeriodReport as PeriodReport
from bot.domain.period_reports import ReportStatus as ReportStatus
from bot.domain.periods import VALIDATION_DAYS, Period
from storage.db import Conn, Tx
from storage.timefmt import date_to_db, to_db


async def open_for_caf(
    tx: Tx, caf_id: int, period: Period, *, starts_at: datetime, ends_at: datetime, now: datetime
) -> int:
    """Opens the period's report of every site of the Caf whose label is not withdrawn
    (idempotent: a site already has at most one per period). Returns how many were opened."""
    return await tx.execute_count(
        "INSERT INTO period_reports (caf_id, partner_id, period, starts_at, ends_at, due_on,"
        " created_at) SELECT caf_id, id, :period, :start, :end, :due, :now FROM partners"
        " WHERE caf_id = :caf AND label_status != 'withdrawn' AND created_at < :end"
        " ON CONFLICT (partner_id, period) DO NOTHING",
        {
            "caf": caf_id,
            "period": period.key,
            "start": to_db(starts_at),
            "end": to_db(ends_at),
            "due": date_to_db(period.validation_due),
            "now": to_db(now),
        },
    )


def _report(row: sqlite3.Row) -> PeriodReport:
    return PeriodReport.model_validate(dict(row))


async def get(conn: Conn, report_id: int) -> PeriodReport | None:
    row = await conn.fetch_one("SELECT * FROM period_reports WHERE id = :id", {"id": report_id})
    return _report(row) if row else None


async def of_partner(conn: Conn, partner_id: int, period_key: str) -> PeriodReport | None:
    row = await conn.fetch_one(
        "SELECT * FROM period_reports WHERE partner_id = :p AND period = :period",
        {"p": partner_id, "period": period_key},
    )
    return _report(row) if row else None


async def to_ask(conn: Conn) -> list[PeriodReport]:
    """Reports whose managers have not been asked yet for the current round."""
    rows = await conn.fetch_all(
        "SELECT * FROM period_reports WHERE asked_at IS NULL AND status != 'validated'"
        " ORDER BY caf_id, period, partner_id"
    )
    return [_report(row) for row in rows]


async def awaiting(conn: Conn) -> list[PeriodReport]:
    """Reports asked and not validated: candidates for a reminder or the late list."""
    rows = await conn.fetch_all(
        "SELECT * FROM period_reports WHERE asked_at IS NOT NULL AND status != 'validated'"
        " ORDER BY caf_id, period, partner_id"
    )
    return [_report(row) for row in rows]


async def for_caf_period(conn: Conn, caf_id: int, period_key: str) -> list[PeriodReport]:
    rows = await conn.fetch_all(
        "SELECT * FROM period_reports WHERE caf_id = :caf AND period = :period",
        {"caf": caf_id, "period": period_key},
    )
    return [_report(row) for row in rows]


async def mark_asked(tx: Tx, report_id: int, now: datetime) -> None:
    await tx.execute(
        "UPDATE period_reports SET asked_at = :now, reminders_sent = 0 WHERE id = :id",
        {"now": to_db(now), "id": report_id},
    )


async def mark_reminded(tx: Tx, report_id: int, reminders_sent: int) -> bool:
    """Records the round's `reminders_sent`th reminder once (False: already recorded)."""
    return (
        await tx.execute_count(
            "UPDATE period_reports SET reminders_sent = :n WHERE id = :id AND reminders_sent < :n"
            " AND status != 'validated'",
            {"n": reminders_sent, "id": report_id},
        )
        == 1
    )


async def validate(tx: Tx, report_id: int, *, person_id: int, visits: int, now: datetime) -> bool:
    """One manager validates; False when it was validated already (a double tap)."""
    return (
        await tx.execute_count(
            "UPDATE period_reports SET status = 'validated', validated_by = :p,"
            " validated_at = :now, validated_visits = :visits"
            " WHERE id = :id AND status != 'validated'",
            {"p": person_id, "now": to_db(now), "visits": visits, "id": report_id},
        )
        == 1
    )


async def mark_modified(
    tx: Tx, partner_id: int, visited_at: datetime, *, now: datetime, due_on: date
) -> int:
    """A visit of this instant was logged, changed or undone: a validated report of its
    period asks for a new validation by `due_on` (never earlier than its first deadline)."""
    return await tx.execute_count(
        "UPDATE period_reports SET status = 'modified', modified_at = :now, asked_at = NULL,"
        " reminders_sent = 0, due_on = MAX(due_on, :due)"
        " WHERE partner_id = :p AND status = 'validated'"
        " AND starts_at <= :at AND :at < ends_at",
        {"p": partner_id, "at": to_db(visited_at), "now": to_db(now), "due": date_to_db(due_on)},
    )


async def visits_changed(
    tx: Tx, partner_id: int, instants: list[datetime], *, now: datetime, tz: ZoneInfo
) -> int:
    """Visits at these instants were logged, changed or undone: validated reports of their
    periods ask for a new validation within VALIDATION_DAYS of today."""
    due = now.astimezone(tz).date() + timedelta(days=VALIDATION_DAYS)
    changed = 0
    for instant in set(instants):
        changed += await mark_modified(tx, partner_id, instant, now=now, due_on=due)
    return changed


async def count_visits(conn: Conn, report: PeriodReport) -> int:
    return int(
        await conn.fetch_value(
            "SELECT COUNT(*) FROM visits WHERE partner_id = :p AND visited_at >= :start"
            " AND visited_at < :end",
            {
                "p": report.partner_id,
                "start": to_db(report.starts_at),
                "end": to_db(report.ends_at),
            },
        )
    )


async def recent_for_caf(conn: Conn, caf_id: int, periods: int = 4) -> list[PeriodReport]:
    """The Caf's reports of its last `periods` periods, newest first."""
    rows = await conn.fetch_all(
        "SELECT * FROM period_reports WHERE caf_id = :caf AND period IN (SELECT period"
        " FROM period_reports WHERE caf_id = :caf GROUP BY period"
        " ORDER BY MAX(starts_at) DESC LIMIT :n)"
        " ORDER BY starts_at DESC, partner_id",
        {"caf": caf_id, "n": periods},
    )
    return [_report(row) for row in rows]
