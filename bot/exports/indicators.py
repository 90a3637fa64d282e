"""Annexe 2 indicators of a period, as the Caf files them (`python -m bot export indicators`).

`collect` counts, in the snapshot it is given, the period's visits of a Caf (or of one of its
sites) and the same scope over the period before, through storage/indicators.py: SQL does
the counting, a few rows per site come back. The renderers are pure functions of the report.
Every label and every row comes from bot/domain/taxonomy.py: a new option of Annexe 2 shows
in both files by itself.

Decisions:

* Every site of the Caf is listed, in name order (accents and case ignored), with zeros when
  it had no visit: a site that logged nothing is itself a finding. A site whose label was
  withdrawn is listed only if it has visits in the period (they count in the Caf's total).
* Periods are local days in the Caf's time zone (bot/domain/periods.py): a visit at 23:30 on
  the last evening is in, one at 00:30 the next morning is out, summer time or not.
* Training-mode visits are stored apart and never counted (the « Export » sheet says so).
* Site names are typed by people: in the workbook every text cell is written as text (never
  a formula), in the CSV a text Excel would read as a formula gets a leading apostrophe
  (bot/exports/events.py does the same).
* In the grid a visit counts once in each cell it ticked: a request type with two actions
  adds two ticks to its row total but one to its « Visites » column.

XLSX (write-only openpyxl, so memory stays flat however many sites): a « Caf » sheet for the
whole Caf, then one sheet per site (only the site's sheet when one site is asked), each laid
out like Annexe 2 in blocks separated by a blank row:

1. the title (the Caf's or the site's name), the period with its dates, the visits;
2. the comparison with the previous period: visits and the share of « demandes résolues »;
3. « Profil de l'usager »: each question, each option with its visits and share, and for
   age a « Sans objet (personne morale) » line;
4. the grid « Demande \\ Actions du partenaire »: the three headings of the request table as
   rows, one column per action, the row's total of ticks, the visits with that request
   type, and a bottom row of totals;
5. « Thématiques »; 6. « Demande résolue »; 7. « Demande résolue par type de demande ».

Then « Export »: who exported, when (the Caf's time zone), the period's exact dates, the
command, and that training-mode visits are left out.

CSV (long form, for pivot tables and scripts): UTF-8 with a BOM, `;`, CRLF (what Excel opens
as is in France), one figure a line:

    periode;site_id;site;indicateur;modalite;valeur;libelle

* `periode`: the period's key (`2026-Q3`, `2026-10`, `2026`, `2026-01-01..2026-03-31`);
* `site_id`, `site`: the site; for the whole Caf's lines (written first, only when the
  export covers the Caf) `site_id` is empty and `site` is the Caf's name;
* `indicateur`, `modalite`: stable codes — `visites` (modalite empty); `sexe`, `age`,
  `statut`, `autonomie` with an option's code (`age` also `sans_objet`: legal persons);
  `demande_action` with `demande×action`; `demande` (visits with that request type);
  `theme`; `resolution`; `demande_resolution` with `demande×resolution`;
* `valeur`: a whole number of visits; `libelle`: the French label, for people.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
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
from bot.domain.indicators import Comparison, Indicators, build, total
from bot.domain.models import Caf, Partner
from bot.domain.periods import Period, PeriodKind, french_day
from bot.domain.permissions import LabelStatus
from bot.exports.events import CSV_BOM, csv_text
from storage import partners
from storage.db import Conn
from storage.indicators import count_rows

CAF_SHEET = "Caf"
ABOUT_SHEET = "Export"
CSV_HEADER = ("periode", "site_id", "site", "indicateur", "modalite", "valeur", "libelle")

TITLE = "Indicateurs de suivi (annexe 2 de la convention)"
PROFILE_HEADING = "Profil de l'usager"
GRID_CORNER = "Demande \\ Actions du partenaire"
ROW_TOTAL = "Total des actions"
VISITS = "Visites"
SHARE = "%"
TOTAL = "Total"
AGE_NOT_ASKED = "Sans objet (personne morale)"
RESOLVED = "Demandes résolues (part des visites)"
RESOLVED_SHARE = "Part résolue (oui)"
BY_REQUEST = "Demande résolue par type de demande"
COMPARISON = "Comparaison"
CHANGE = "Évolution"
GRID_NOTE = (
    "Une visite compte une fois dans chaque case cochée. « Visites » : visites ayant ce type "
    "de demande (une visite à deux demandes compte sur deux lignes)."
)
THEMES_NOTE = "Une visite peut relever de plusieurs thématiques, ou d'aucune."
TRAINING_NOTE = "exclues : les visites saisies en mode formation ne comptent dans aucun chiffre"
WITHDRAWN_NOTE = (
    "tous les sites de la Caf, même sans visite ; un site au label retiré seulement s'il a des "
    "visites sur la période"
)

# The « oui » of Annexe 2's « Demande résolue »: the share the comparison follows.
RESOLVED_CODE = "oui"

PERCENT = "0.0%"
CHANGE_PERCENT = "+0.0%;-0.0%;0.0%"
CHANGE_POINTS = '+0.0" pt";-0.0" pt";0.0" pt"'
EXCEL_DATE = "dd/mm/yyyy"
EXCEL_DATE_TIME = "dd/mm/yyyy hh:mm"

# Column widths: labels, then the grid's seven actions, its row total and its visits.
LABEL_WIDTH = 52
FIGURE_WIDTH = 15
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
FILENAME_PART_MAX = 50


@dataclass(frozen=True)
class IndicatorReport:
    caf: Caf
    period: Period
    # Every partner of the Caf (or the one asked), name order, zeros for sites without
    # visits; withdrawn sites only if they have visits in the period.
    sites: list[tuple[Partner, Indicators]]
    total: Indicators  # the Caf's sum, or the site's figures
    previous: Indicators  # the same scope over period.previous(): visits, resolution, requests
    partner_id: int | None = None  # the one site asked for; None: the whole Caf
    # Each listed site's figures over the previous period (summary only), for its sheet.
    previous_sites: dict[int, Indicators] = field(default_factory=dict)

    @property
    def whole_caf(self) -> bool:
        return self.partner_id is None


# --------------------------------------------------------------------------- reading


def _folded(text: str) -> str:
    """For sorting the French way enough: « Écully » next to « Ecully », case ignored."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


async def collect(
    conn: Conn, caf: Caf, period: Period, *, partner_id: int | None = None
) -> IndicatorReport:
    """The period's figures; give it one `db.read()` snapshot so that all counts agree.

    Raises LookupError (French message) when `partner_id` is not a site of the Caf.
    """
    zone = ZoneInfo(caf.timezone)
    sites = await partners.list_for_caf(conn, caf.id)
    if partner_id is not None:
        sites = [site for site in sites if site.id == partner_id]
        if not sites:
            raise LookupError(f"le site {partner_id} n'est pas un site de {caf.name}")

    start, end = period.bounds(zone)
    figures = build(
        await count_rows(
            conn,
            caf_id=caf.id,
            start=start,
            end=end,
            tz=zone,
            partner_id=partner_id,
            by_site=True,
            with_time=False,
        ),
        zone,
    )
    before_start, before_end = period.previous().bounds(zone)
    before = build(
        await count_rows(
            conn,
            caf_id=caf.id,
            start=before_start,
            end=before_end,
            tz=zone,
            partner_id=partner_id,
            by_site=True,
            with_time=False,
            summary_only=True,
        ),
        zone,
    )

    listed = [
        (site, figures.get(site.id, Indicators()))
        for site in sorted(sites, key=lambda site: (_folded(site.name), _folded(site.city)))
        if partner_id is not None
        or site.label_status is not LabelStatus.WITHDRAWN
        or site.id in figures
    ]
    return IndicatorReport(
        caf=caf,
        period=period,
        sites=listed,
        # Every counted visit is of a site of this Caf, so the sum is the Caf's (or the site's).
        total=total(figures),
        previous=total(before),
        partner_id=partner_id,
        previous_sites={site.id: before.get(site.id, Indicators()) for site, _ in listed},
    )


# --------------------------------------------------------------------------- naming


def _slug(text: str) -> str:
    ascii_text = _folded(text.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text)[:FILENAME_PART_MAX].strip("-")


def filename(report: IndicatorReport, extension: str) -> str:
    """`indicateurs-caf-de-la-somme-2026-Q3.xlsx`; one site: its name after the Caf's.

    ASCII letters, digits and hyphens: safe on phones, file systems and in a
    Content-Disposition header.
    """
    parts = ["indicateurs", _slug(report.caf.name) or "caf"]
    if not report.whole_caf and report.sites:
        parts.append(_slug(report.sites[0][0].name) or f"site-{report.sites[0][0].id}")
    parts.append(re.sub(r"[^A-Za-z0-9]+", "-", report.period.key).strip("-"))
    return f"{'-'.join(parts)}.{extension.lstrip('.')}"


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


def period_text(period: Period) -> str:
    """« 3e trimestre 2026 (du 1er juillet 2026 au 30 septembre 2026) »."""
    if period.kind is PeriodKind.RANGE:
        return period.label  # already « du … au … »
    return f"{period.label} (du {french_day(period.first)} au {french_day(period.last)})"


# --------------------------------------------------------------------------- CSV


def _csv_lines(key: str, site_id: str, site: str, figures: Indicators) -> Iterator[list[str]]:
    def line(indicator: str, option: str, value: int, label: str) -> list[str]:
        return [key, site_id, csv_text(site), indicator, option, str(value), label]

    yield line("visites", "", figures.visits, VISITS)
    for question in taxonomy.PROFILE:
        for option in question.options:
            count = figures.profile[question.code][option.code]
            yield line(question.code, option.code, count, f"{question.label} : {option.label}")
        if question is taxonomy.AGE:
            label = f"{question.label} : {AGE_NOT_ASKED}"
            yield line(question.code, "sans_objet", figures.age_not_asked, label)
    for request in taxonomy.DEMANDE.options:
        for action in taxonomy.ACTION.options:
            yield line(
                "demande_action",
                f"{request.code}×{action.code}",
                figures.matrix[(request.code, action.code)],
                f"{request.label} × {action.label}",
            )
    for request in taxonomy.DEMANDE.options:
        count = figures.requests[request.code]
        yield line(taxonomy.DEMANDE.code, request.code, count, request.label)
    for theme in taxonomy.THEME.options:
        count = figures.themes[theme.code]
        yield line(taxonomy.THEME.code, theme.code, count, theme.label)
    for resolution in taxonomy.RESOLUTION.options:
        count = figures.resolution[resolution.code]
        yield line(taxonomy.RESOLUTION.code, resolution.code, count, resolution.label)
    for request in taxonomy.DEMANDE.options:
        for resolution in taxonomy.RESOLUTION.options:
            yield line(
                "demande_resolution",
                f"{request.code}×{resolution.code}",
                figures.request_resolution[request.code][resolution.code],
                f"{request.label} × {taxonomy.RESOLUTION.label} : {resolution.label}",
            )


def to_csv(report: IndicatorReport) -> str:
    """French Excel's CSV, long form (the module's docstring lists the columns)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    key = report.period.key
    if report.whole_caf:
        writer.writerows(_csv_lines(key, "", report.caf.name, report.total))
    for site, figures in report.sites:
        writer.writerows(_csv_lines(key, str(site.id), site.name, figures))
    return CSV_BOM + out.getvalue()


# --------------------------------------------------------------------------- XLSX

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


def to_xlsx(
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
