"""The periodic transmission of the indicators (Article 9), part of the morning run
(bot/jobs/morning.py).

When a Caf's reporting period (monthly or quarterly) has ended, each labelled site gets a
report to validate; its managers receive the period's summary with « ✅ Je valide et
transmets ». Any one manager validates. The deadline is VALIDATION_DAYS after the period;
sites that have not validated are reminded 5 days before it and on it, then the Caf's
coordinators are told which sites are late (one message per Caf, period and deadline).
A site without a manager cannot validate: the Caf sees it as such in 📈 Indicateurs.

Visits logged, changed or undone in a validated period mark it « modifié après
transmission » (storage/period_reports.visits_changed) and the next run asks again.

The run is at NOTIFY_HOUR (local), not at night: it sends messages people read at work.
Every message is an outbox row written in the same transaction as the state it announces,
and each state change is conditional, so a run repeated after a crash sends nothing twice.
The conventions' renewal reminders (bot/jobs/renewal.py) and the yearly visit's action plan
reminders (bot/jobs/action_reminders.py) ride on the same run for that reason.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import indicators as figures
from bot.domain import taxonomy
from bot.domain.models import Caf, Partner, Person
from bot.domain.periods import (
    Period,
    parse_period,
    reminder_due,
    reporting_period_of,
)
from bot.domain.permissions import Role
from bot.services import notify
from bot.ui import callbacks
from bot.ui.callbacks import IndicatorTap, TransmitTap
from bot.ui.render import render
from storage import cafs, indicators, partners, people, period_reports
from storage.db import Database, Tx
from storage.period_reports import PeriodReport

log = logging.getLogger(__name__)

ASK_KIND = "transmission_ask"
REMIND_KIND = "transmission_reminder"
LATE_KIND = "transmission_late"


async def run_transmission(db: Database, now: datetime, *, caf_id: int | None = None) -> int:
    """Opens ended periods, asks, reminds, reports lateness (for one Caf, or all of them);
    returns messages queued."""
    queued = 0
    for caf in await cafs.list_all(db):
        if caf_id is not None and caf.id != caf_id:
            continue
        tz = ZoneInfo(caf.timezone)
        ended = reporting_period_of(now.astimezone(tz).date(), caf.reporting_period).previous()
        start, end = ended.bounds(tz)
        async with db.transaction() as tx:
            opened = await period_reports.open_for_caf(
                tx, caf.id, ended, starts_at=start, ends_at=end, now=now
            )
        if opened:
            log.info("Caf %d : %d rapport(s) ouvert(s) pour %s", caf.id, opened, ended.key)
        queued += await _ask(db, caf, now)
        queued += await _remind(db, caf, now)
        queued += await _report_late(db, caf, now)
    return queued


def keyboard(report: PeriodReport, period: Period) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "✅ Je valide et transmets",
                    callback_data=callbacks.encode(TransmitTap("ok", report.id)),
                )
            ],
            [
                InlineKeyboardButton(
                    "📈 Voir le détail",
                    callback_data=callbacks.encode(
                        IndicatorTap("show", report.partner_id, period.code)
                    ),
                )
            ],
        ]
    )


async def summary_text(
    tx: Tx, caf: Caf, partner: Partner, report: PeriodReport, *, template: str, **extra: object
) -> str:
    """The period's figures as the manager validates them, counted now."""
    tz = ZoneInfo(caf.timezone)
    period = period_of(report)
    rows = await indicators.count_rows(
        tx,
        caf_id=caf.id,
        start=report.starts_at,
        end=report.ends_at,
        tz=tz,
        partner_id=partner.id,
        with_time=False,
    )
    site = figures.total(figures.build(rows, tz))
    top = [(taxonomy.DEMANDE.option(code).short, n) for code, n in site.top_requests(3)]
    extra.setdefault("reminder", 0)
    return render(
        template,
        caf=caf,
        partner=partner,
        report=report,
        period=period,
        figures=site,
        top=top,
        **extra,
    )


def period_of(report: PeriodReport) -> Period:
    return parse_period(report.period)


async def _managers(tx: Tx, partner_id: int) -> list[Person]:
    return [p for p in await people.list_for_partner(tx, partner_id) if p.role is Role.MANAGER]


async def _ask(db: Database, caf: Caf, now: datetime) -> int:
    queued = 0
    for report in await period_reports.to_ask(db):
        if report.caf_id != caf.id:
            continue
        async with db.transaction() as tx:
            fresh = await period_reports.get(tx, report.id)
            if fresh is None or fresh.asked_at is not None or fresh.status == "validated":
                continue
            managers = await _managers(tx, report.partner_id)
            if not managers:
                continue  # asked as soon as the site has a manager; the Caf sees it meanwhile
            partner = await partners.get(tx, report.partner_id)
            assert partner is not None
            text = await summary_text(tx, caf, partner, fresh, template="transmit_ask")
            markup = keyboard(fresh, period_of(fresh))
            round_key = f"transmit:{fresh.id}:{fresh.modified_at or 'first'}"
            for manager in managers:
                queued += await notify.to_person(
                    tx,
                    manager,
                    kind=ASK_KIND,
                    key=f"{round_key}:p{manager.id}",
                    text=text,
                    now=now,
                    markup=markup,
                )
            await period_reports.mark_asked(tx, fresh.id, now)
    return queued


async def _remind(db: Database, caf: Caf, now: datetime) -> int:
    today = now.astimezone(ZoneInfo(caf.timezone)).date()
    queued = 0
    for report in await period_reports.awaiting(db):
        if report.caf_id != caf.id:
            continue
        number = reminder_due(report.due_on, report.reminders_sent, today)
        if not number:
            continue
        async with db.transaction() as tx:
            if not await period_reports.mark_reminded(tx, report.id, number):
                continue
            partner = await partners.get(tx, report.partner_id)
            assert partner is not None
            text = await summary_text(
                tx, caf, partner, report, template="transmit_ask", reminder=number
            )
            markup = keyboard(report, period_of(report))
            for manager in await _managers(tx, report.partner_id):
                queued += await notify.to_person(
                    tx,
                    manager,
                    kind=REMIND_KIND,
                    key=f"remind:{report.id}:{report.modified_at or 'first'}:{number}"
                    f":p{manager.id}",
                    text=text,
                    now=now,
                    markup=markup,
                )
    return queued


async def _report_late(db: Database, caf: Caf, now: datetime) -> int:
    """Tells the coordinators once which sites let a deadline pass."""
    today = now.astimezone(ZoneInfo(caf.timezone)).date()
    late: dict[tuple[str, date], list[tuple[Partner, bool]]] = {}
    async with db.read() as conn:
        for report in await period_reports.recent_for_caf(conn, caf.id):
            if not report.late(today):
                continue
            partner = await partners.get(conn, report.partner_id)
            assert partner is not None
            has_manager = bool(await _managers(conn, report.partner_id))
            late.setdefault((report.period, report.due_on), []).append((partner, has_manager))
    queued = 0
    for (period_key, due_on), sites in sorted(late.items()):
        async with db.transaction() as tx:
            text = render(
                "transmit_late",
                period=parse_period(period_key),
                due_on=due_on,
                sites=sorted(sites, key=lambda item: item[0].title),
            )
            queued += await notify.to_coordinators(
                tx,
                caf,
                kind=LATE_KIND,
                key=f"late:{caf.id}:{period_key}:{due_on}",
                text=text,
                now=now,
            )
    return queued
