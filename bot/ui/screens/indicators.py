"""📈 Indicateurs: a site's or the whole Caf's Annexe 2 figures, period by period, and the
transmission of a period (« ✅ Je valide et transmets »).

The figures are counted by bot/services/indicators.py, the transmission read and validated by
bot/services/transmission.py; these functions only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import taxonomy
from bot.domain.indicators import Comparison, Indicators
from bot.domain.models import Caf, Partner, Person
from bot.domain.period_reports import PeriodReport
from bot.domain.periods import Period
from bot.domain.permissions import LabelStatus, Role
from bot.ui import callbacks
from bot.ui.callbacks import IndicatorTap, TransmitTap
from bot.ui.formatting import number_fr, percent_fr
from bot.ui.render import render
from bot.ui.screens import Screen
from bot.ui.screens.paging import Page, pager_row, paginate

WHOLE_CAF = 0  # the `partner` of a tap that shows the whole Caf
SITES_PAGE = 8
TRANSMISSIONS_PAGE = 20
T = TypeVar("T")

VALIDATE = "✅ Je valide et transmets"
VALIDATED_TOAST = "Merci, indicateurs transmis à la Caf ✅"
ALREADY_VALIDATED_TOAST = "Déjà validé ✅"
# The heatmap's note when no opening hours frame it.
NO_SCHEDULE_SITE = "horaires non déclarés"
NO_SCHEDULE_CAF = "tous les sites de la Caf"


class IndicatorOp(StrEnum):
    VIEW = "view"
    SHOW = "show"  # from a notice: a new message, the notice stays as it is
    CHARTS = "charts"
    XLSX = "xlsx"
    CSV = "csv"
    SITES = "sites"  # `partner` carries the page
    TRANSMISSIONS = "tr"  # `partner` carries the page


class TransmitOp(StrEnum):
    OK = "ok"


# ------------------------------------------------------------------------------ what is shown
@dataclass(frozen=True)
class Scope:
    """What a screen shows: a site (partner) or the whole Caf (partner None), a period."""

    partner: Partner | None
    period: Period

    @property
    def partner_id(self) -> int:
        return self.partner.id if self.partner else WHOLE_CAF


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


@dataclass(frozen=True)
class Overview:
    """A scope's figures against the previous period, and where its transmission stands."""

    caf: Caf
    scope: Scope
    figures: Indicators
    comparison: Comparison
    outside: int | None  # visits outside the site's declared hours (None: none declared)
    transmission: Transmission | None  # None while the period runs
    today: date


class FollowUpLine(NamedTuple):
    """A site's line in « 📨 Suivi des transmissions »: late first, then waiting, then done."""

    rank: int
    name: str
    report: PeriodReport
    has_manager: bool


@dataclass(frozen=True)
class Validation:
    """« ✅ Je valide et transmets » tapped: the report as it now stands."""

    partner: Partner
    period: Period
    visits: int
    by: Person
    at: datetime
    again: bool  # a new validation after the period was modified
    newly: bool  # False: it was validated already (a double tap)


# ------------------------------------------------------------------------------ buttons
def _tap(label: str, op: IndicatorOp, partner: int, period: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.encode(IndicatorTap(op, partner, period))
    )


def validate_button(report_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        VALIDATE, callback_data=callbacks.encode(TransmitTap(TransmitOp.OK, report_id))
    )


def ask_keyboard(report: PeriodReport, period: Period) -> InlineKeyboardMarkup:
    """Under a period's summary sent to a site's managers: validate, or see the detail."""
    detail = _tap("📈 Voir le détail", IndicatorOp.SHOW, report.partner_id, period.code)
    return InlineKeyboardMarkup([[validate_button(report.id)], [detail]])


# ------------------------------------------------------------------------------ the summary
def title(caf: Caf, scope: Scope) -> str:
    """« Mairie de Ham (Ham) — 4e trimestre 2026 »: the charts' and the files' title."""
    where = scope.partner.title if scope.partner else caf.name
    return f"{where} — {scope.period.label}"


def export_caption(caf: Caf, scope: Scope) -> str:
    return f"📥 Indicateurs — {title(caf, scope)}"


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


def summary(overview: Overview, role: Role) -> Screen:
    """The period's figures, « ◀️ / ▶️ », the charts and files, the transmission."""
    scope, site, today = overview.scope, overview.figures, overview.today
    text = render(
        "indicators_summary",
        caf=overview.caf,
        partner=scope.partner,
        period=scope.period,
        ongoing=scope.period.contains(today),
        previous=scope.period.previous(),
        site=site,
        change_text=_change_text(overview.comparison, scope.period.previous()),
        profile=_profile_lines(site),
        top=[(taxonomy.DEMANDE.option(code).short, n) for code, n in site.top_requests(5)],
        themes=[(o.label, site.themes[o.code]) for o in taxonomy.THEME.options],
        outside=overview.outside,
        transmission=overview.transmission,
        tz=ZoneInfo(overview.caf.timezone),
        today=today,
    )
    return text, _summary_keyboard(overview, role)


def _summary_keyboard(overview: Overview, role: Role) -> InlineKeyboardMarkup:
    scope, transmission = overview.scope, overview.transmission
    here, code = scope.partner_id, scope.period.code
    previous, following = scope.period.previous(), scope.period.next()
    moves = [_tap(f"◀️ {previous.label}", IndicatorOp.VIEW, here, previous.code)]
    if following.first <= overview.today:
        moves.append(_tap(f"{following.label} ▶️", IndicatorOp.VIEW, here, following.code))
    rows = [
        moves,
        [
            _tap("📊 Graphiques", IndicatorOp.CHARTS, here, code),
            _tap("📥 Excel", IndicatorOp.XLSX, here, code),
            _tap("📄 CSV", IndicatorOp.CSV, here, code),
        ],
    ]
    report = transmission.report if transmission else None
    if role is Role.MANAGER and report is not None and not report.validated:
        rows.append([validate_button(report.id)])
    if role is Role.COORDINATOR:
        picker = [_tap("🏢 Un site", IndicatorOp.SITES, 0, code)]
        if scope.partner is not None:
            picker.append(_tap("🌐 Toute la Caf", IndicatorOp.VIEW, WHOLE_CAF, code))
        rows.append(picker)
        if transmission is not None and scope.partner is None:
            rows.append([_tap("📨 Suivi des transmissions", IndicatorOp.TRANSMISSIONS, 0, code)])
    return InlineKeyboardMarkup(rows)


# ------------------------------------------------------------------------------ lists
def _pager(page: Page[T], op: IndicatorOp, period: Period) -> list[InlineKeyboardButton]:
    return pager_row(
        page,
        lambda label, number: _tap(label, op, number, period.code),
        previous="◀️",
        following="▶️",
    )


_LABEL_FLAG = {LabelStatus.WITHDRAWN: "⛔ ", LabelStatus.SUSPENDED: "🟠 "}


def sites(period: Period, everything: list[Partner], page_number: int) -> Screen:
    """The Caf's sites to choose from, eight to a page (a label withdrawn ⛔ or suspended 🟠)."""
    page = paginate(everything, page_number, SITES_PAGE)
    rows = [
        [
            _tap(
                _LABEL_FLAG.get(p.label_status, "") + p.title,
                IndicatorOp.VIEW,
                p.id,
                period.code,
            )
        ]
        for p in page.items
    ]
    if pager := _pager(page, IndicatorOp.SITES, period):
        rows.append(pager)
    rows.append([_tap("⬅️ Toute la Caf", IndicatorOp.VIEW, WHOLE_CAF, period.code)])
    text = render("indicators_sites", period=period, page=page.number + 1, pages=page.count)
    return text, InlineKeyboardMarkup(rows)


def transmissions(
    period: Period, lines: list[FollowUpLine], today: date, page_number: int
) -> Screen:
    """Who validated the period, who is waiting, who is late, twenty to a page."""
    page = paginate(lines, page_number, TRANSMISSIONS_PAGE)
    text = render(
        "indicators_transmissions",
        period=period,
        lines=page.items,
        today=today,
        page=page.number + 1,
        pages=page.count,
    )
    rows = [pager] if (pager := _pager(page, IndicatorOp.TRANSMISSIONS, period)) else []
    rows.append([_tap("⬅️ Indicateurs", IndicatorOp.VIEW, WHOLE_CAF, period.code)])
    return text, InlineKeyboardMarkup(rows)


# ------------------------------------------------------------------------------ validation
def validated(validation: Validation, caf: Caf) -> str:
    """What the summary becomes once validated (its buttons go)."""
    return render(
        "transmit_done",
        partner=validation.partner,
        period=validation.period,
        visits=validation.visits,
        person=validation.by,
        at=validation.at,
        tz=ZoneInfo(caf.timezone),
        again=validation.again,
    )


def validated_toast(validation: Validation) -> str:
    return VALIDATED_TOAST if validation.newly else ALREADY_VALIDATED_TOAST
