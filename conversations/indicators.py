"""📈 Indicateurs: the Annexe 2 figures of a site or of the whole Caf, period by period.

Managers see their own site; coordinators the whole Caf or any of its sites. One message,
edited in place: the period's figures against the previous period, « ◀️ / ▶️ » to move
between the Caf's reporting periods, « 📊 Graphiques » (three PNGs sent as photos),
« 📥 Excel » and « 📄 CSV » (sent as documents), and the transmission of the period
(Article 9): « ✅ Je valide et transmets » for managers, who validated and who is late for
coordinators. Every tap is authorised from the database: a manager reaches only their
site, a coordinator only their Caf's.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot import charts, offload
from bot.context import Ctx
from bot.domain import indicators as figures
from bot.domain import taxonomy
from bot.domain.indicators import Comparison, Indicators
from bot.domain.models import Member, Partner
from bot.domain.opening_hours import WeeklySchedule, visits_outside
from bot.domain.periods import Period, PeriodError, from_code, parse_period, reporting_period_of
from bot.domain.permissions import Action, LabelStatus, Role
from bot.exports import indicators as export
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, IndicatorTap, TransmitTap
from bot.ui.formatting import number_fr, percent_fr
from bot.ui.render import render
from conversations.common import TapHandler, chat_id_of, dispatch_tap, edit, guarded, require, send
from storage import audit, hours, indicators, partners, people, period_reports
from storage.period_reports import PeriodReport, ReportStatus

log = logging.getLogger(__name__)

SITES_PAGE = 8
WHOLE_CAF = 0


@dataclass(frozen=True)
class Scope:
    """What a screen shows: a site (partner) or the whole Caf (partner None), a period."""

    partner: Partner | None
    period: Period

    @property
    def partner_id(self) -> int:
        return self.partner.id if self.partner else WHOLE_CAF


def _tz(member: Member) -> ZoneInfo:
    return ZoneInfo(member.caf.timezone)


def _today(ctx: Ctx, member: Member) -> date:
    return ctx.clock.now().astimezone(_tz(member)).date()


def _current(ctx: Ctx, member: Member) -> Period:
    return reporting_period_of(_today(ctx, member), member.caf.reporting_period)


async def _scope(ctx: Ctx, member: Member, partner_id: int, period_code: int) -> Scope:
    """The scope a tap names, if this person may see it (BadCallback otherwise)."""
    try:
        period = from_code(period_code)
    except PeriodError as exc:
        raise BadCallback("bad period") from exc
    if period.first > _today(ctx, member):
        raise BadCallback("future period")
    if member.person.role is Role.COORDINATOR:
        if partner_id == WHOLE_CAF:
            return Scope(None, period)
        partner = await partners.get(ctx.db, partner_id)
        if partner is None or partner.caf_id != member.caf.id:
            raise BadCallback("not this Caf's site")
        return Scope(partner, period)
    if partner_id != member.person.partner_id or member.partner is None:
        raise BadCallback("not this person's site")
    return Scope(member.partner, period)


# ------------------------------------------------------------------------------ figures
async def _figures(ctx: Ctx, member: Member, scope: Scope) -> tuple[Indicators, Comparison]:
    tz = _tz(member)
    start, end = scope.period.bounds(tz)
    before_start, before_end = scope.period.previous().bounds(tz)
    partner_id = scope.partner.id if scope.partner else None
    async with ctx.db.report_read() as conn:  # one snapshot for both periods
        rows = await indicators.count_rows(
            conn,
            caf_id=member.caf.id,
            start=start,
            end=end,
            tz=tz,
            partner_id=partner_id,
            by_site=False,
        )
        previous = await indicators.count_rows(
            conn,
            caf_id=member.caf.id,
            start=before_start,
            end=before_end,
            tz=tz,
            partner_id=partner_id,
            by_site=False,
            summary_only=True,
        )
    current = figures.total(figures.build(rows, tz))
    return current, Comparison.of(current, figures.total(figures.build(previous, tz)))


async def _schedule(ctx: Ctx, scope: Scope) -> WeeklySchedule | None:
    if scope.partner is None:
        return None
    declaration = await hours.in_force(ctx.db, scope.partner.id, scope.period.last)
    return declaration.schedule if declaration else None


@dataclass(frozen=True)
class Transmission:
    """The period's transmission as the screen shows it."""

    report: PeriodReport | None  # a site's report
    validated_by: str | None = None
    # The whole Caf: counts by state, and the sites without a manager.
    validated: int = 0
    waiting: int = 0
    late: int = 0
    without_manager: int = 0


async def _transmission(ctx: Ctx, member: Member, scope: Scope) -> Transmission | None:
    if scope.period.last >= _today(ctx, member):
        return None  # the period is not over: nothing to transmit yet
    if scope.partner is not None:
        report = await period_reports.of_partner(ctx.db, scope.partner.id, scope.period.key)
        if report is None:
            return None
        name = None
        if report.validated_by is not None:
            person = await people.get(ctx.db, report.validated_by)
            name = person.display_name if person else None
        return Transmission(report, validated_by=name)
    reports = await period_reports.for_caf_period(ctx.db, member.caf.id, scope.period.key)
    if not reports:
        return None
    today = _today(ctx, member)
    managed = await people.sites_with_manager(ctx.db, member.caf.id)
    return Transmission(
        None,
        validated=sum(r.status is ReportStatus.VALIDATED for r in reports),
        waiting=sum(r.status is not ReportStatus.VALIDATED and not r.late(today) for r in reports),
        late=sum(r.late(today) for r in reports),
        without_manager=sum(
            r.status is not ReportStatus.VALIDATED and r.partner_id not in managed for r in reports
        ),
    )


def _profile_lines(site: Indicators) -> list[tuple[str, str]]:
    """Each profile question with its options' shares, from the taxonomy."""
    lines = []
    for question in taxonomy.PROFILE:
        counts = site.profile[question.code]
        shares = " · ".join(
            f"{o.short} {percent_fr(counts[o.code], site.visits)}" for o in question.options
        )
        lines.append((question.label, shares))
    return lines


def _change_text(comparison: Comparison, previous: Period) -> str:
    change = comparison.visits
    if change.ratio is None:
        return f"{number_fr(int(change.previous))} en {previous.label}"
    sign = "+" if change.delta >= 0 else "−"
    return (
        f"{sign}{number_fr(round(abs(change.ratio) * 100))}\u202f% par rapport à {previous.label}"
    )


async def screen(ctx: Ctx, member: Member, scope: Scope) -> tuple[str, InlineKeyboardMarkup]:
    site, comparison = await _figures(ctx, member, scope)
    schedule = await _schedule(ctx, scope)
    outside = visits_outside(site.weekday_hour, schedule) if schedule else None
    transmission = await _transmission(ctx, member, scope)
    today = _today(ctx, member)
    text = render(
        "indicators_summary",
        caf=member.caf,
        partner=scope.partner,
        period=scope.period,
        ongoing=scope.period.contains(today),
        previous=scope.period.previous(),
        site=site,
        change_text=_change_text(comparison, scope.period.previous()),
        profile=_profile_lines(site),
        top=[(taxonomy.DEMANDE.option(code).short, n) for code, n in site.top_requests(5)],
        themes=[(o.label, site.themes[o.code]) for o in taxonomy.THEME.options],
        outside=outside,
        transmission=transmission,
        tz=_tz(member),
        today=today,
    )
    return text, _keyboard(member, scope, transmission, today)


def _tap(op: str, partner: int, period: int) -> str:
    return callbacks.encode(IndicatorTap(op, partner, period))


def _keyboard(
    member: Member, scope: Scope, transmission: Transmission | None, today: date
) -> InlineKeyboardMarkup:
    here = scope.partner_id
    previous, following = scope.period.previous(), scope.period.next()
    moves = [
        InlineKeyboardButton(f"◀️ {previous.label}", callback_data=_tap("view", here, previous.code))
    ]
    if following.first <= today:
        moves.append(
            InlineKeyboardButton(
                f"{following.label} ▶️", callback_data=_tap("view", here, following.code)
            )
        )
    rows = [
        moves,
        [
            InlineKeyboardButton(
                "📊 Graphiques", callback_data=_tap("charts", here, scope.period.code)
            ),
            InlineKeyboardButton("📥 Excel", callback_data=_tap("xlsx", here, scope.period.code)),
            InlineKeyboardButton("📄 CSV", callback_data=_tap("csv", here, scope.period.code)),
        ],
    ]
    report = transmission.report if transmission else None
    if (
        member.person.role is Role.MANAGER
        and report is not None
        and report.status is not ReportStatus.VALIDATED
    ):
        rows.append(
            [
                InlineKeyboardButton(
                    "✅ Je valide et transmets",
                    callback_data=callbacks.encode(TransmitTap("ok", report.id)),
                )
            ]
        )
    if member.person.role is Role.COORDINATOR:
        picker = [
            InlineKeyboardButton("🏢 Un site", callback_data=_tap("sites", 0, scope.period.code))
        ]
        if scope.partner is not None:
            picker.append(
                InlineKeyboardButton(
                    "🌐 Toute la Caf", callback_data=_tap("view", WHOLE_CAF, scope.period.code)
                )
            )
        rows.append(picker)
        if transmission is not None and scope.partner is None:
            rows.append(
                [
                    InlineKeyboardButton(
                        "📨 Suivi des transmissions",
                        callback_data=_tap("tr", 0, scope.period.code),
                    )
                ]
            )
    return InlineKeyboardMarkup(rows)


# ------------------------------------------------------------------------------ entry
@guarded
async def open_indicators(update: Update, ctx: Ctx) -> None:
    member = await require(update, ctx, Action.INDICATORS)
    partner_id = member.person.partner_id or WHOLE_CAF
    scope = await _scope(ctx, member, partner_id, _current(ctx, member).code)
    text, markup = await screen(ctx, member, scope)
    await send(ctx, chat_id_of(update), text, markup)


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    await dispatch_tap(update, ctx, payload=IndicatorTap, taps=TAPS, action=Action.INDICATORS)


async def tap_view(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> None:
    scope = await _scope(ctx, member, tap.partner, tap.period)
    text, markup = await screen(ctx, member, scope)
    await edit(message, text, markup)


async def tap_show(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> None:
    """From a notice (a period to validate): a new message, the notice stays as it is."""
    scope = await _scope(ctx, member, tap.partner, tap.period)
    text, markup = await screen(ctx, member, scope)
    await send(ctx, member.person.telegram_user_id or 0, text, markup)


def _title(member: Member, scope: Scope) -> str:
    where = scope.partner.title if scope.partner else member.caf.name
    return f"{where} — {scope.period.label}"


async def _working(ctx: Ctx, member: Member, action: ChatAction) -> None:
    """« envoie une photo… » in the chat's header while a file is made (a second or two in a
    child process); only a courtesy, so a refusal of it changes nothing."""
    try:
        await ctx.bot.send_chat_action(member.person.telegram_user_id or 0, action)
    except TelegramError as error:
        log.info("sendChatAction refusé : %s", error)


async def tap_charts(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> str:
    scope = await _scope(ctx, member, tap.partner, tap.period)  # refuses another's site
    await _working(ctx, member, ChatAction.UPLOAD_PHOTO)
    site, _ = await _figures(ctx, member, scope)
    schedule = await _schedule(ctx, scope)
    # Drawn in a child process: matplotlib never enters the bot's memory.
    pictures = await offload.run(
        charts.indicator_charts,
        site.by_week(scope.period.weeks()),
        [(taxonomy.DEMANDE.option(code).short, n) for code, n in site.top_requests(8)],
        site.weekday_hour,
        schedule=schedule,
        title=_title(member, scope),
        no_schedule_note="horaires non déclarés" if scope.partner else "tous les sites de la Caf",
    )
    chat_id = member.person.telegram_user_id or 0
    for name, png in pictures:
        await ctx.bot.send_photo(
            chat_id, photo=InputFile(png, filename=f"{name}.png"), caption=None
        )
    return "Graphiques envoyés."


async def _export(ctx: Ctx, member: Member, tap: IndicatorTap, extension: str) -> str:
    scope = await _scope(ctx, member, tap.partner, tap.period)
    await _working(ctx, member, ChatAction.UPLOAD_DOCUMENT)
    now = ctx.clock.now()
    async with ctx.db.report_read() as conn:
        report = await export.collect(
            conn, member.caf, scope.period, partner_id=scope.partner.id if scope.partner else None
        )
    if extension == "xlsx":
        # Written in a child process: openpyxl never enters the bot's memory.
        content = await offload.run(
            export.to_xlsx,
            report,
            exported_at=now,
            exported_by=f"{member.person.display_name} ({member.person.role.label})",
        )
    else:
        content = export.to_csv(report).encode("utf-8")
    async with ctx.db.transaction() as tx:
        await audit.record(
            tx,
            at=now,
            action="indicators.exported",
            actor_id=member.person.id,
            caf_id=member.caf.id,
            target_type="partner" if scope.partner else "caf",
            target_id=scope.partner.id if scope.partner else member.caf.id,
            details={"period": scope.period.key, "format": extension},
        )
    await ctx.bot.send_document(
        member.person.telegram_user_id or 0,
        document=InputFile(content, filename=export.filename(report, extension)),
        caption=f"📥 Indicateurs — {_title(member, scope)}",
    )
    return "Fichier envoyé."


async def tap_xlsx(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> str:
    return await _export(ctx, member, tap, "xlsx")


async def tap_csv(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> str:
    return await _export(ctx, member, tap, "csv")


def _coordinator_only(member: Member) -> None:
    if member.person.role is not Role.COORDINATOR:
        raise BadCallback("coordinators only")


async def tap_sites(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> None:
    """The Caf's sites to choose from (`partner` carries the page)."""
    _coordinator_only(member)
    scope = await _scope(ctx, member, WHOLE_CAF, tap.period)
    sites = await partners.list_for_caf(ctx.db, member.caf.id)
    pages = max(1, math.ceil(len(sites) / SITES_PAGE))
    page = min(tap.partner, pages - 1)
    shown = sites[page * SITES_PAGE : (page + 1) * SITES_PAGE]
    rows = [
        [
            InlineKeyboardButton(
                ("⛔ " if p.label_status is LabelStatus.WITHDRAWN else "") + p.title,
                callback_data=_tap("view", p.id, scope.period.code),
            )
        ]
        for p in shown
    ]
    pager = []
    if page > 0:
        pager.append(InlineKeyboardButton("◀️", callback_data=_tap("sites", page - 1, tap.period)))
    if page < pages - 1:
        pager.append(InlineKeyboardButton("▶️", callback_data=_tap("sites", page + 1, tap.period)))
    if pager:
        rows.append(pager)
    rows.append(
        [InlineKeyboardButton("⬅️ Toute la Caf", callback_data=_tap("view", WHOLE_CAF, tap.period))]
    )
    text = render("indicators_sites", period=scope.period, page=page + 1, pages=pages)
    await edit(message, text, InlineKeyboardMarkup(rows))


async def tap_transmissions(
    ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None
) -> None:
    """Who validated the period, who is waiting, who is late (`partner` carries the page)."""
    _coordinator_only(member)
    scope = await _scope(ctx, member, WHOLE_CAF, tap.period)
    today = _today(ctx, member)
    reports = await period_reports.for_caf_period(ctx.db, member.caf.id, scope.period.key)
    managed = await people.sites_with_manager(ctx.db, member.caf.id)
    names = {p.id: p.title for p in await partners.list_for_caf(ctx.db, member.caf.id)}
    lines = sorted(
        (
            (
                0 if r.late(today) else 1 if r.status is not ReportStatus.VALIDATED else 2,
                names.get(r.partner_id, "?"),
                r,
                r.partner_id in managed,
            )
            for r in reports
        ),
        key=lambda line: (line[0], line[1]),
    )
    pages = max(1, math.ceil(len(lines) / 20))
    page = min(tap.partner, pages - 1)
    text = render(
        "indicators_transmissions",
        period=scope.period,
        lines=lines[page * 20 : (page + 1) * 20],
        today=today,
        page=page + 1,
        pages=pages,
    )
    pager = []
    if page > 0:
        pager.append(InlineKeyboardButton("◀️", callback_data=_tap("tr", page - 1, tap.period)))
    if page < pages - 1:
        pager.append(InlineKeyboardButton("▶️", callback_data=_tap("tr", page + 1, tap.period)))
    rows = [pager] if pager else []
    rows.append(
        [InlineKeyboardButton("⬅️ Indicateurs", callback_data=_tap("view", WHOLE_CAF, tap.period))]
    )
    await edit(message, text, InlineKeyboardMarkup(rows))


TAPS: dict[str, TapHandler] = {
    "view": tap_view,
    "show": tap_show,
    "charts": tap_charts,
    "xlsx": tap_xlsx,
    "csv": tap_csv,
    "sites": tap_sites,
    "tr": tap_transmissions,
}


# ------------------------------------------------------------------------------ validation
@guarded
async def on_transmit(update: Update, ctx: Ctx) -> None:
    """« ✅ Je valide et transmets »: one manager of the site validates the period."""
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=TransmitTap)
    if tap.op != "ok":
        raise BadCallback("unknown op")
    member = await require(update, ctx, Action.VALIDATE_PERIOD)
    message = query.message if isinstance(query.message, Message) else None
    report = await period_reports.get(ctx.db, tap.report)
    if report is None or report.partner_id != member.person.partner_id or member.partner is None:
        raise BadCallback("not this site's report")
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        visits = await period_reports.count_visits(tx, report)
        validated = await period_reports.validate(
            tx, report.id, person_id=member.person.id, visits=visits, now=now
        )
        if validated:
            await audit.record(
                tx,
                at=now,
                action="period.validated",
                actor_id=member.person.id,
                caf_id=member.caf.id,
                target_type="partner",
                target_id=report.partner_id,
                details={"period": report.period, "visits": visits},
            )
    fresh = await period_reports.get(ctx.db, report.id)
    assert fresh is not None and fresh.validated_at is not None
    by = await people.get(ctx.db, fresh.validated_by) if fresh.validated_by else None
    text = render(
        "transmit_done",
        partner=member.partner,
        period=parse_period(fresh.period),
        visits=fresh.validated_visits or 0,
        person=by or member.person,
        at=fresh.validated_at,
        tz=_tz(member),
        again=report.status is ReportStatus.MODIFIED,
    )
    await query.answer("Merci, indicateurs transmis à la Caf ✅" if validated else "Déjà validé ✅")
    await edit(message, text, None)
