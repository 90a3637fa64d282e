"""The transmission of a period's indicators (Article 9), as people see and do it.

Where a site's or the Caf's period stands, the coordinators' follow-up, and a manager's
« ✅ Je valide et transmets ». The morning run that opens periods, asks and reminds is
bot/jobs/transmission.py.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.models import Caf, Member
from bot.domain.period_reports import ReportStatus
from bot.domain.periods import Period, parse_period
from bot.services import audit
from bot.ui.screens.indicators import FollowUpLine, Scope, Transmission, Validation
from storage import partners, people, period_reports
from storage.db import Conn, Database


class NotThisSite(LookupError):
    """The report named is not one of this manager's site (forged, or another site's)."""


async def status(conn: Conn, caf: Caf, scope: Scope, today: date) -> Transmission | None:
    """Where the scope's transmission stands; None while its period is not over (nothing to
    transmit yet) or when it has no report (the site was not labelled then)."""
    if scope.period.last >= today:
        return None
    if scope.partner is not None:
        report = await period_reports.of_partner(conn, scope.partner.id, scope.period.key)
        if report is None:
            return None
        by = await people.get(conn, report.validated_by) if report.validated_by else None
        return Transmission(report, validated_by=by.display_name if by else None)
    reports = await period_reports.for_caf_period(conn, caf.id, scope.period.key)
    if not reports:
        return None
    managed = await people.sites_with_manager(conn, caf.id)
    return Transmission(
        None,
        validated=sum(r.validated for r in reports),
        waiting=sum(not r.validated and not r.late(today) for r in reports),
        late=sum(r.late(today) for r in reports),
        without_manager=sum(not r.validated and r.partner_id not in managed for r in reports),
    )


async def follow_up(conn: Conn, caf: Caf, period: Period, today: date) -> list[FollowUpLine]:
    """Every site's report of the period: the late ones first, then those waiting, then
    those validated, by name within each."""
    reports = await period_reports.for_caf_period(conn, caf.id, period.key)
    managed = await people.sites_with_manager(conn, caf.id)
    names = {p.id: p.title for p in await partners.list_for_caf(conn, caf.id)}
    lines = [
        FollowUpLine(
            0 if r.late(today) else 1 if not r.validated else 2,
            names.get(r.partner_id, "?"),
            r,
            r.partner_id in managed,
        )
        for r in reports
    ]
    return sorted(lines, key=lambda line: (line.rank, line.name))


async def validate(db: Database, member: Member, report_id: int, now: datetime) -> Validation:
    """A manager validates their site's period: recorded once (a double tap changes nothing
    and says so), audited, with the visits counted at that moment."""
    async with db.transaction() as tx:
        report = await period_reports.get(tx, report_id)
        if (
            report is None
            or member.partner is None
            or report.partner_id != member.person.partner_id
        ):
            raise NotThisSite(f"report {report_id}")
        visits = await period_reports.count_visits(tx, report)
        newly = await period_reports.validate(
            tx, report.id, person_id=member.person.id, visits=visits, now=now
        )
        if newly:
            details = {"period": report.period, "visits": visits}
            on = ("partner", report.partner_id)
            await audit.record(tx, member, "period.validated", now, on, details=details)
        fresh = await period_reports.get(tx, report.id)
        assert fresh is not None and fresh.validated_at is not None
        by = await people.get(tx, fresh.validated_by) if fresh.validated_by else None
    return Validation(
        partner=member.partner,
        period=parse_period(fresh.period),
        visits=fresh.validated_visits or 0,
        by=by or member.person,
        at=fresh.validated_at,
        again=report.status is ReportStatus.MODIFIED,
        newly=newly,
    )
