"""📈 Indicateurs: the Annexe 2 figures a person may see, their charts and their files.

Managers see their own site; coordinators the whole Caf or any of its sites, never another
Caf's. The counting is bot/exports/indicators.py `collect`, the one definition the screen,
the charts, the files and the command line share. Charts and workbooks are made in a child
process (bot/offload.py), so matplotlib and openpyxl never enter the bot's memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot import charts as drawing
from bot import offload
from bot.domain import taxonomy
from bot.domain.indicators import Comparison
from bot.domain.models import Member, Partner
from bot.domain.opening_hours import WeeklySchedule, visits_outside
from bot.domain.periods import PeriodError, from_code, reporting_period_of
from bot.domain.permissions import Role
from bot.exports import indicators as export
from bot.exports.indicators import IndicatorReport
from bot.services import audit, transmission
from bot.ui.screens.indicators import (
    NO_SCHEDULE_CAF,
    NO_SCHEDULE_SITE,
    WHOLE_CAF,
    FollowUpLine,
    Overview,
    Scope,
    title,
)
from storage import hours, partners
from storage.db import Conn, Database


class OutOfReach(LookupError):
    """The site or period asked for is not one this person may see (forged or stale data)."""


class FileFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


@dataclass(frozen=True)
class File:
    content: bytes
    filename: str


def today(member: Member, now: datetime) -> date:
    return now.astimezone(ZoneInfo(member.caf.timezone)).date()


# ------------------------------------------------------------------------------ scope
async def scope(
    db: Database, member: Member, partner_id: int, period_code: int, now: datetime
) -> Scope:
    """The site (or WHOLE_CAF) and period asked for, if this person may see them: a past or
    the current period, their own site for a manager, their own Caf's for a coordinator."""
    try:
        period = from_code(period_code)
    except PeriodError as exc:
        raise OutOfReach("bad period") from exc
    if period.first > today(member, now):
        raise OutOfReach("future period")
    if member.person.role is Role.COORDINATOR:
        if partner_id == WHOLE_CAF:
            return Scope(None, period)
        partner = await partners.get(db, partner_id)
        if partner is None or partner.caf_id != member.caf.id:
            raise OutOfReach("not this Caf's site")
        return Scope(partner, period)
    if partner_id != member.person.partner_id or member.partner is None:
        raise OutOfReach("not this person's site")
    return Scope(member.partner, period)


async def home(db: Database, member: Member, now: datetime) -> Scope:
    """Where 📈 Indicateurs opens: one's site (the whole Caf for a coordinator), this period."""
    current = reporting_period_of(today(member, now), member.caf.reporting_period)
    return await scope(db, member, member.person.partner_id or WHOLE_CAF, current.code, now)


async def _caf_wide(db: Database, member: Member, period_code: int, now: datetime) -> Scope:
    """The whole Caf's scope: the sites list and the follow-up are the coordinators'."""
    if member.person.role is not Role.COORDINATOR:
        raise OutOfReach("coordinators only")
    return await scope(db, member, WHOLE_CAF, period_code, now)


# ------------------------------------------------------------------------------ figures
async def _count(conn: Conn, member: Member, where: Scope) -> IndicatorReport:
    """The scope's figures as one whole, with its hours and the previous period's summary."""
    return await export.collect(
        conn,
        member.caf,
        where.period,
        partner_id=where.partner.id if where.partner else None,
        per_site=False,
        with_time=True,
    )


async def _schedule(conn: Conn, where: Scope) -> WeeklySchedule | None:
    if where.partner is None:
        return None
    declaration = await hours.in_force(conn, where.partner.id, where.period.last)
    return declaration.schedule if declaration else None


async def overview(db: Database, member: Member, where: Scope, now: datetime) -> Overview:
    """The scope's figures against the previous period, and its transmission."""
    async with db.report_read() as conn:  # one snapshot for both periods
        report = await _count(conn, member, where)
    schedule = await _schedule(db, where)
    day = today(member, now)
    return Overview(
        caf=member.caf,
        scope=where,
        figures=report.total,
        comparison=Comparison.of(report.total, report.previous),
        outside=visits_outside(report.total.weekday_hour, schedule) if schedule else None,
        transmission=await transmission.status(db, member.caf, where, day),
        today=day,
    )


async def sites(
    db: Database, member: Member, period_code: int, now: datetime
) -> tuple[Scope, list[Partner]]:
    """The Caf's sites a coordinator may choose from."""
    where = await _caf_wide(db, member, period_code, now)
    return where, await partners.list_for_caf(db, member.caf.id)


async def follow_up(
    db: Database, member: Member, period_code: int, now: datetime
) -> tuple[Scope, list[FollowUpLine]]:
    """Each site's transmission of the period, for a coordinator."""
    where = await _caf_wide(db, member, period_code, now)
    return where, await transmission.follow_up(db, member.caf, where.period, today(member, now))


# ------------------------------------------------------------------------------ files
async def charts(db: Database, member: Member, where: Scope) -> list[tuple[str, bytes]]:
    """The three charts of « 📊 Graphiques » (weeks, requests, days and hours), each with its
    file's name, drawn in a child process."""
    async with db.report_read() as conn:
        report = await _count(conn, member, where)
    schedule = await _schedule(db, where)
    site = report.total
    return await offload.run(
        drawing.indicator_charts,
        site.by_week(where.period.weeks()),
        [(taxonomy.DEMANDE.option(code).short, n) for code, n in site.top_requests(8)],
        site.weekday_hour,
        schedule=schedule,
        title=title(member.caf, where),
        no_schedule_note=NO_SCHEDULE_SITE if where.partner else NO_SCHEDULE_CAF,
    )


async def export_file(
    db: Database, member: Member, where: Scope, file_format: FileFormat, now: datetime
) -> File:
    """The scope's Annexe 2 workbook or CSV, its export audited (who, what, when)."""
    async with db.report_read() as conn:
        report = await export.collect(
            conn, member.caf, where.period, partner_id=where.partner.id if where.partner else None
        )
    if file_format is FileFormat.XLSX:
        content = await offload.run(
            export.to_xlsx,
            report,
            exported_at=now,
            exported_by=f"{member.person.display_name} ({member.person.role.label})",
        )
    else:
        content = export.to_csv(report).encode("utf-8")
    async with db.transaction() as tx:
        details = {"period": where.period.key, "format": file_format.value}
        on = ("partner", where.partner.id) if where.partner else ("caf", member.caf.id)
        await audit.record(tx, member, "indicators.exported", now, on, details=details)
    return File(content, export.filename(report, file_format.value))
