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
  (bot/exports/csv_format.py, which every CSV export shares).
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import taxonomy
from bot.domain.indicators import Indicators, build, total
from bot.domain.models import Caf, Partner
from bot.domain.periods import Period, PeriodKind, french_day
from bot.domain.permissions import LabelStatus
from bot.exports.csv_format import CSV_BOM, csv_text
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

# The answer of Annexe 2's « Demande résolue » whose share the comparison follows.
RESOLVED_CODE = taxonomy.RESOLVED.code

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
    conn: Conn,
    caf: Caf,
    period: Period,
    *,
    partner_id: int | None = None,
    per_site: bool = True,
    with_time: bool = False,
) -> IndicatorReport:
    """The period's figures; give it one `db.read()` snapshot so that all counts agree.

    The one counting of a scope and period, for the files and for 📈 Indicateurs alike:

    - `per_site=False` counts the scope as one whole, without a group per site: `total` and
      `previous` only, `sites` and `previous_sites` left empty (the screen shows no site's
      own figures, and a Caf's quarter counts faster that way);
    - `with_time=True` also counts the local hours, for the weeks and the heatmap.

    Raises LookupError (French message) when `partner_id` is not a site of the Caf.
    """
    zone = ZoneInfo(caf.timezone)
    whole = not per_site and partner_id is None  # no site to list nor to check
    sites = [] if whole else await partners.list_for_caf(conn, caf.id)
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
            by_site=per_site,
            with_time=with_time,
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
            by_site=per_site,
            with_time=False,
            summary_only=True,
        ),
        zone,
    )

    listed = [
        (site, figures.get(site.id, Indicators()))
        for site in sorted(sites, key=lambda site: (_folded(site.name), _folded(site.city)))
        if per_site
        and (
            partner_id is not None
            or site.label_status is not LabelStatus.WITHDRAWN
            or site.id in figures
        )
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


def to_xlsx(
    report: IndicatorReport,
    *,
    exported_at: datetime,
    exported_by: str,
    command: str | None = None,
) -> bytes:
    """The workbook's bytes; `exported_at` is shown in the Caf's time zone.

    Written by bot/exports/indicators_xlsx.py, imported here only: the bot has this function
    run in a child process (bot/offload.py), so that openpyxl never enters its memory.
    """
    from bot.exports import indicators_xlsx

    return indicators_xlsx.workbook(
        report, exported_at=exported_at, exported_by=exported_by, command=command
    )
