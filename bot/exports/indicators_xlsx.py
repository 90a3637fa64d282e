"""The Annexe 2 workbook of bot/exports/indicators.py, whose docstring describes its sheets.

A module of its own so that openpyxl is imported only where a workbook is written: by the
command line, and by the child process the bot has it written in (bot/offload.py). The bot
counts and names the export through bot/exports/indicators.py, which imports this module
only inside `to_xlsx`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.domain import taxonomy
from bot.domain.indicators import Comparison, Indicators
from bot.domain.periods import Period
from bot.domain.permissions import LabelStatus
from bot.exports.indicators import (
    ABOUT_SHEET,
    AGE_NOT_ASKED,
    BY_REQUEST,
    CAF_SHEET,
    CHANGE,
    CHANGE_PERCENT,
    CHANGE_POINTS,
    COMPARISON,
    EXCEL_DATE,
    EXCEL_DATE_TIME,
    FIGURE_WIDTH,
    GRID_CORNER,
    GRID_NOTE,
    LABEL_WIDTH,
    PERCENT,
    PROFILE_HEADING,
    RESOLVED,
    RESOLVED_CODE,
    RESOLVED_SHARE,
    ROW_TOTAL,
    SHARE,
    SHEET_NAME_FORBIDDEN,
    SHEET_NAME_MAX,
    THEMES_NOTE,
    TITLE,
    TOTAL,
    TRAINING_NOTE,
    VISITS,
    WITHDRAWN_NOTE,
    IndicatorReport,
    period_text,
)


def sheet_names(report: IndicatorReport) -> list[str]:
    """One name per sheet, in order: Excel wants ≤ 31 characters, none of []:*?/\\, no
    apostrophe at either end, and names unique regardless of case."""
    taken = {ABOUT_SHEET.casefold()}
    names = []
    if report.whole_caf:
        names.append(CAF_SHEET)
        taken.add(CAF_SHEET.casefold())
    for site, _ in report.sites:
        base = SHEET_NAME_FORBIDDEN.sub("-", ILLEGAL_CHARACTERS_RE.sub("", site.name))
        base = base.strip().strip("'").strip() or f"Site {site.id}"
        name, number = base[:SHEET_NAME_MAX].rstrip(), 1
        while name.casefold() in taken:
            number += 1
            suffix = f" ({number})"
            name = base[: SHEET_NAME_MAX - len(suffix)].rstrip().rstrip("'") + suffix
        taken.add(name.casefold())
        names.append(name)
    names.append(ABOUT_SHEET)
    return names


BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
NOTE_FONT = Font(italic=True, color="555555")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
INDENTED = Alignment(indent=1)


class _Sheet:
    """A write-only sheet: widths and frozen panes set before the first row, as it needs."""

    def __init__(self, workbook: Workbook, title: str, widths: Sequence[int]) -> None:
        self.sheet: WriteOnlyWorksheet = workbook.create_sheet(title)
        for index, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width

    def text(
        self, value: str, *, font: Font | None = None, alignment: Alignment | None = None
    ) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # never a formula, whatever a site's name starts with
        if font is not None:
            cell.font = font
        if alignment is not None:
            cell.alignment = alignment
        return cell

    def number(
        self, value: float | date | None, number_format: str = "0", *, bold: bool = False
    ) -> WriteOnlyCell:
        """A count (`0`), a share (a percent format) or a date; None leaves the cell empty."""
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.number_format = number_format
        if bold:
            cell.font = BOLD
        return cell

    def value(self, value: Any) -> WriteOnlyCell:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, datetime):
            # Excel has no time zones: the Caf's local time, as the sheet says.
            return self.number(value.replace(tzinfo=None), EXCEL_DATE_TIME)
        if isinstance(value, date):
            return self.number(value, EXCEL_DATE)
        return self.number(value)

    def header(self, titles: Sequence[str]) -> None:
        self.sheet.append(
            [self.text(title, font=BOLD, alignment=HEADER_ALIGNMENT) for title in titles]
        )

    def append(self, cells: Sequence[WriteOnlyCell | None]) -> None:
        self.sheet.append(list(cells))

    def blank(self) -> None:
        self.sheet.append([])

    def pair(self, label: str, value: Any) -> None:
        self.sheet.append([self.text(label, font=BOLD), self.value(value)])


def _share(part: int, whole: int) -> float | None:
    """None (an empty cell) rather than 0 % when there is nothing to divide."""
    return part / whole if whole else None


def _resolved(figures: Indicators) -> float | None:
    return _share(figures.resolution[RESOLVED_CODE], figures.visits)


def _write_figures(
    out: _Sheet,
    *,
    title: str,
    about: Sequence[tuple[str, Any]],
    period: Period,
    figures: Indicators,
    previous: Indicators,
) -> None:
    """One sheet laid out like Annexe 2 (see the module's docstring)."""
    out.append([out.text(title, font=TITLE_FONT)])
    out.append([out.text(TITLE, font=NOTE_FONT)])
    out.pair("Période", period_text(period))
    for label, value in about:
        out.pair(label, value)
    out.append([out.text(VISITS, font=BOLD), out.number(figures.visits, bold=True)])
    out.blank()

    comparison = Comparison.of(figures, previous)
    out.header([COMPARISON, period.label, period.previous().label, CHANGE])
    out.append(
        [
            out.text(VISITS),
            out.number(figures.visits),
            out.number(previous.visits),
            out.number(comparison.visits.ratio, CHANGE_PERCENT),
        ]
    )
    now, before = _resolved(figures), _resolved(previous)
    out.append(
        [
            out.text(RESOLVED),
            out.number(now, PERCENT),
            out.number(before, PERCENT),
            # In points: 40 % then 60 % is « +20 pt », not « +50 % ».
            out.number(
                None if now is None or before is None else 100 * (now - before), CHANGE_POINTS
            ),
        ]
    )
    out.blank()

    out.header([PROFILE_HEADING, VISITS, SHARE])
    for question in taxonomy.PROFILE:
        out.append([out.text(question.label, font=BOLD)])
        for option in question.options:
            count = figures.profile[question.code][option.code]
            _counted_line(out, option.label, count, figures.visits)
        if question is taxonomy.AGE:
            _counted_line(out, AGE_NOT_ASKED, figures.age_not_asked, figures.visits)
    out.blank()

    actions = taxonomy.ACTION.options
    out.header([GRID_CORNER, *(action.label for action in actions), ROW_TOTAL, VISITS])
    for group in taxonomy.REQUEST_GROUPS:
        out.append([out.text(group.label, font=BOLD)])
        for request in group.options:
            out.append(
                [
                    out.text(request.label, alignment=INDENTED),
                    *(out.number(figures.matrix[(request.code, a.code)]) for a in actions),
                    out.number(figures.request_row_total(request.code), bold=True),
                    out.number(figures.requests[request.code]),
                ]
            )
    action_totals = figures.action_totals()
    out.append(
        [
            out.text(TOTAL, font=BOLD),
            *(out.number(action_totals[a.code], bold=True) for a in actions),
            out.number(sum(action_totals.values()), bold=True),
            out.number(sum(figures.requests.values()), bold=True),
        ]
    )
    out.append([out.text(GRID_NOTE, font=NOTE_FONT)])
    out.blank()

    out.header([taxonomy.THEME.label, VISITS, SHARE])
    for theme in taxonomy.THEME.options:
        _counted_line(out, theme.label, figures.themes[theme.code], figures.visits)
    out.append([out.text(THEMES_NOTE, font=NOTE_FONT)])
    out.blank()

    out.header([taxonomy.RESOLUTION.label, VISITS, SHARE])
    for resolution in taxonomy.RESOLUTION.options:
        count = figures.resolution[resolution.code]
        _counted_line(out, resolution.label, count, figures.visits)
    out.blank()

    resolutions = taxonomy.RESOLUTION.options
    out.header([BY_REQUEST, *(r.label for r in resolutions), VISITS, RESOLVED_SHARE])
    for group in taxonomy.REQUEST_GROUPS:
        out.append([out.text(group.label, font=BOLD)])
        for request in group.options:
            counts = figures.request_resolution[request.code]
            visits = figures.requests[request.code]
            out.append(
                [
                    out.text(request.label, alignment=INDENTED),
                    *(out.number(counts[r.code]) for r in resolutions),
                    out.number(visits, bold=True),
                    out.number(_share(counts[RESOLVED_CODE], visits), PERCENT),
                ]
            )
    sums = {
        r.code: sum(figures.request_resolution[q][r.code] for q in taxonomy.DEMANDE.codes)
        for r in resolutions
    }
    all_requests = sum(figures.requests.values())
    out.append(
        [
            out.text(TOTAL, font=BOLD),
            *(out.number(sums[r.code], bold=True) for r in resolutions),
            out.number(all_requests, bold=True),
            out.number(_share(sums[RESOLVED_CODE], all_requests), PERCENT),
        ]
    )


def _counted_line(out: _Sheet, label: str, count: int, visits: int) -> None:
    out.append(
        [
            out.text(label, alignment=INDENTED),
            out.number(count),
            out.number(_share(count, visits), PERCENT),
        ]
    )


def workbook(
    report: IndicatorReport,
    *,
    exported_at: datetime,
    exported_by: str,
    command: str | None = None,
) -> bytes:
    """The workbook's bytes; `exported_at` is shown in the Caf's time zone."""
    zone = ZoneInfo(report.caf.timezone)
    local_time = exported_at.astimezone(zone) if exported_at.tzinfo else exported_at
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "Point numérique Caf — l'assistant"
    workbook.properties.title = f"Indicateurs — {report.caf.name} — {report.period.label}"
    workbook.properties.created = local_time.replace(tzinfo=None)

    widths = [LABEL_WIDTH, *([FIGURE_WIDTH] * (len(taxonomy.ACTION.options) + 2))]
    names = iter(sheet_names(report))

    def figures_sheet() -> _Sheet:
        out = _Sheet(workbook, next(names), widths)
        # The title row and the labels stay in view while scrolling through the blocks.
        out.sheet.freeze_panes = "B2"
        return out

    if report.whole_caf:
        _write_figures(
            figures_sheet(),
            title=report.caf.name,
            about=[("Sites", len(report.sites))],
            period=report.period,
            figures=report.total,
            previous=report.previous,
        )
    for site, figures in report.sites:
        about: list[tuple[str, Any]] = [("Caf", report.caf.name), ("Ville", site.city)]
        if site.label_status is not LabelStatus.ACTIVE:
            about.append(("Label", site.label_status.label))
        previous = (
            report.previous
            if not report.whole_caf
            else report.previous_sites.get(site.id, Indicators())
        )
        _write_figures(
            figures_sheet(),
            title=site.name,
            about=about,
            period=report.period,
            figures=figures,
            previous=previous,
        )

    about_sheet = _Sheet(workbook, next(names), (28, 90))
    scope = (
        f"tous les sites de la Caf ({len(report.sites)})"
        if report.whole_caf
        else f"un site : {report.sites[0][0].title}"
    )
    lines: list[tuple[str, Any]] = [
        ("Caf", report.caf.name),
        ("Contenu", TITLE),
        ("Périmètre", scope),
        ("Période", period_text(report.period)),
        ("Du", report.period.first),
        ("Au (inclus)", report.period.last),
        ("Comparée à", period_text(report.period.previous())),
        ("Fuseau horaire", f"{report.caf.timezone} (jours de la période, date de l'export)"),
        ("Exporté par", exported_by),
        ("Exporté le", local_time),
    ]
    if report.whole_caf:
        lines.insert(3, ("Sites listés", WITHDRAWN_NOTE))
    if command:
        lines.append(("Commande", command))
    lines.append(("Visites en mode formation", TRAINING_NOTE))
    for label, value in lines:
        about_sheet.pair(label, value)

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
