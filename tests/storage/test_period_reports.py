"""storage/period_reports.py against its contract: reports opened once a site and period,
asked, reminded and validated once, reopened by a change in their period, scoped by Caf.

Everything goes through the repository's public functions (and the other repositories' to
build the network), so these tests serve any database engine.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.periods import VALIDATION_DAYS, Period, parse_period
from bot.domain.permissions import LabelStatus
from storage import partners, period_reports
from storage.period_reports import PeriodReport, ReportStatus
from tests.storage.world import PARIS, Network, Staff, add_site, paris

Q2, Q3 = parse_period("2026-Q2"), parse_period("2026-Q3")  # ended: it is 26 November 2026


async def open_period(network: Network, period: Period, caf_id: int | None = None) -> int:
    start, end = period.bounds(PARIS)
    async with network.db.transaction() as tx:
        return await period_reports.open_for_caf(
            tx, caf_id or network.somme.id, period, starts_at=start, ends_at=end, now=network.now
        )


async def report_of(network: Network, partner_id: int, period: Period = Q3) -> PeriodReport:
    report = await period_reports.of_partner(network.db, partner_id, period.key)
    assert report is not None
    return report


async def test_a_period_opens_one_report_per_site_of_the_caf_and_only_once(
    network: Network,
) -> None:
    assert await open_period(network, Q3) == 2
    assert await open_period(network, Q3) == 0  # the morning run repeated after a crash

    reports = await period_reports.for_caf_period(network.db, network.somme.id, Q3.key)
    assert sorted(r.partner_id for r in reports) == sorted([network.ham.id, network.albert.id])
    for report in reports:
        assert report.status is ReportStatus.PENDING
        assert report.due_on == Q3.validation_due
        assert report.asked_at is None and report.validated_at is None
        assert (report.starts_at, report.ends_at) == Q3.bounds(PARIS)
        assert await period_reports.get(network.db, report.id) == report
    # The other Caf's sites are not this Caf's business.
    assert await period_reports.for_caf_period(network.db, network.aisne.id, Q3.key) == []
    assert await period_reports.of_partner(network.db, network.laon.id, Q3.key) is None
    assert await period_reports.get(network.db, 999_999) is None


async def test_a_withdrawn_site_and_a_site_opened_after_the_period_have_no_report(
    network: Network,
) -> None:
    albert, now = network.albert.id, network.now
    async with network.db.transaction() as tx:
        await partners.set_label(
            tx, albert, status=LabelStatus.WITHDRAWN, reason="Fin", now=now, by=None
        )
        newcomer = await add_site(tx, network.somme.id, "Mairie de Roye", "Roye", now)
    assert await open_period(network, Q3) == 1
    [report] = await period_reports.for_caf_period(network.db, network.somme.id, Q3.key)
    assert report.partner_id == network.ham.id
    assert await period_reports.of_partner(network.db, newcomer.id, Q3.key) is None


async def test_managers_are_asked_once_and_each_reminder_is_recorded_once(network: Network) -> None:
    await open_period(network, Q3)
    ham, albert = (
        await report_of(network, network.ham.id),
        await report_of(network, network.albert.id),
    )
    assert {r.id for r in await period_reports.to_ask(network.db)} == {ham.id, albert.id}
    assert await period_reports.awaiting(network.db) == []

    async with network.db.transaction() as tx:
        await period_reports.mark_asked(tx, ham.id, network.now)
    assert [r.id for r in await period_reports.to_ask(network.db)] == [albert.id]
    [asked] = await period_reports.awaiting(network.db)
    assert asked.id == ham.id and asked.asked_at == network.now

    async with network.db.transaction() as tx:
        assert await period_reports.mark_reminded(tx, ham.id, 1)
        assert not await period_reports.mark_reminded(tx, ham.id, 1)  # the same reminder
        assert await period_reports.mark_reminded(tx, ham.id, 2)
    assert (await report_of(network, network.ham.id)).reminders_sent == 2


async def test_one_validation_counts_the_period_s_visits_and_a_second_changes_nothing(
    network: Network, staff: Staff
) -> None:
    manager = staff.manager  # Ham's
    await network.visit(network.ham, paris(2026, 7, 1, 0, 30))  # the first minutes of Q3
    await network.visit(network.ham, paris(2026, 9, 30, 23, 30))  # its last evening
    await network.visit(network.ham, paris(2026, 10, 1, 0, 30))  # Q4
    await network.visit(network.ham, paris(2026, 8, 3, 10), training=True)  # never counted
    await network.visit(network.albert, paris(2026, 8, 3, 10))  # another site
    await open_period(network, Q3)
    report = await report_of(network, network.ham.id)
    assert await period_reports.count_visits(network.db, report) == 2

    async with network.db.transaction() as tx:
        assert await period_reports.validate(
            tx, report.id, person_id=manager.id, visits=2, now=network.now
        )
    async with network.db.transaction() as tx:  # a double tap
        assert not await period_reports.validate(
            tx, report.id, person_id=manager.id, visits=5, now=network.now + timedelta(minutes=1)
        )
        assert not await period_reports.mark_reminded(tx, report.id, 1)

    validated = await report_of(network, network.ham.id)
    assert validated.status is ReportStatus.VALIDATED and validated.validated
    assert validated.validated_visits == 2
    assert validated.validated_by == manager.id and validated.validated_at == network.now
    assert not validated.late(date(2027, 1, 1))
    assert validated.id not in {r.id for r in await period_reports.to_ask(network.db)}


async def test_a_visit_changed_in_a_validated_period_asks_for_a_new_validation(
    network: Network, staff: Staff
) -> None:
    manager = staff.manager  # Ham's
    await open_period(network, Q3)
    ham = await report_of(network, network.ham.id)
    async with network.db.transaction() as tx:
        await period_reports.mark_asked(tx, ham.id, network.now)
        await period_reports.validate(tx, ham.id, person_id=manager.id, visits=0, now=network.now)

    later = network.now + timedelta(hours=2)
    async with network.db.transaction() as tx:
        outside = await period_reports.visits_changed(
            tx, network.ham.id, [paris(2026, 10, 2, 10)], now=later, tz=PARIS
        )
        pending = await period_reports.visits_changed(
            tx, network.albert.id, [paris(2026, 8, 3, 10)], now=later, tz=PARIS
        )
        # Two visits of the same period: the report is reopened once.
        changed = await period_reports.visits_changed(
            tx, network.ham.id, [paris(2026, 8, 3, 10), paris(2026, 8, 4, 10)], now=later, tz=PARIS
        )
    assert (outside, pending, changed) == (0, 0, 1)

    reopened = await report_of(network, network.ham.id)
    assert reopened.status is ReportStatus.MODIFIED and not reopened.validated
    assert reopened.modified_at == later
    assert reopened.asked_at is None and reopened.reminders_sent == 0
    # A new deadline from today, never earlier than the first one.
    assert reopened.due_on == date(2026, 11, 26) + timedelta(days=VALIDATION_DAYS)
    assert reopened.id in {r.id for r in await period_reports.to_ask(network.db)}
    assert (await report_of(network, network.albert.id)).status is ReportStatus.PENDING


async def test_a_report_not_validated_by_its_deadline_is_late(network: Network) -> None:
    await open_period(network, Q3)
    report = await report_of(network, network.ham.id)
    assert not report.late(report.due_on)
    assert report.late(report.due_on + timedelta(days=1))


async def test_the_recent_reports_are_the_last_periods_newest_first(network: Network) -> None:
    for period in (parse_period("2026-Q1"), Q2, Q3):
        await open_period(network, period)
    await open_period(network, Q3, network.aisne.id)

    recent = await period_reports.recent_for_caf(network.db, network.somme.id, periods=2)
    assert [r.period for r in recent] == [Q3.key, Q3.key, Q2.key, Q2.key]
    assert {r.caf_id for r in recent} == {network.somme.id}
    assert [r.partner_id for r in recent[:2]] == sorted([network.ham.id, network.albert.id])
