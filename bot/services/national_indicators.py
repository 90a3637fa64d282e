"""The national table of Annexe 2 indicators: one line per Caf over a period (issue #19).

`python -m bot export indicators --all-cafs --period 2026`: what the national office reads
to compare the Cafs. Each Caf is counted as one whole over the period's local days in its
own time zone (a Caf of La Réunion's year is its own 1 January to 31 December), from the
counts storage/visit_counts.py keeps (a Caf's year is a few hundred month rows, however many
visits it had), all in one snapshot so that the lines add up. Training-mode visits never
count. Only the per-visit figures are columns (visits, each profile answer, request types,
themes, resolutions): the request × action grid stays in each Caf's own export.

CSV: French Excel's flavour (UTF-8 with a BOM, `;`, CRLF), a header of stable codes
(`periode;caf_id;caf;visites;sexe:femme;…`), one line per Caf in name order.
XLSX: one sheet « Cafs », the same columns under French labels, a last line of totals.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.domain import taxonomy
from bot.domain.indicators import Indicators, build, total
from bot.domain.models import Caf
from bot.domain.periods import Period
from bot.exports.csv_format import CSV_BOM, csv_text
from storage import cafs
from storage.db import Database
from storage.indicators import count_every_caf

SHEET = "Cafs"
TOTAL = "Total national"
AGE_NOT_ASKED = "sans_objet"


@dataclass(frozen=True)
class NationalReport:
    period: Period
    cafs: list[tuple[Caf, Indicators]]  # every Caf, name order, zeros for a Caf without visits

    @property
    def total(self) -> Indicators:
        return total({caf.id: figures for caf, figures in self.cafs})


async def collect(db: Database, period: Period) -> NationalReport:
    """Every Caf's figures over `period`, in one snapshot."""
    async with db.read() as snapshot:
        every = await cafs.list_all(snapshot)
        zones = {caf.id: ZoneInfo(caf.timezone) for caf in every}
        rows = await count_every_caf(snapshot, list(zones.items()), period.first, period.last)
    return NationalReport(
        period, [(caf, total(build(rows[caf.id], zones[caf.id]))) for caf in every]
    )


def columns() -> Iterator[tuple[str, str]]:
    """(code, French label) of each figure's column, from bot/domain/taxonomy.py."""
    yield "visites", "Visites"
    for question in taxonomy.PROFILE:
        for option in question.options:
            yield f"{question.code}:{option.code}", f"{question.label} : {option.label}"
        if question is taxonomy.AGE:
            label = f"{question.label} : Sans objet (personne morale)"
            yield f"{question.code}:{AGE_NOT_ASKED}", label
    for request in taxonomy.DEMANDE.options:
        yield f"{taxonomy.DEMANDE.code}:{request.code}", request.label
    for theme in taxonomy.THEME.options:
        yield f"{taxonomy.THEME.code}:{theme.code}", theme.label
    for resolution in taxonomy.RESOLUTION.options:
        label = f"{taxonomy.RESOLUTION.label} : {resolution.label}"
        yield f"{taxonomy.RESOLUTION.code}:{resolution.code}", label


def figures_of(figures: Indicators) -> list[int]:
    """The figures in the order of `columns()`."""
    values = [figures.visits]
    for question in taxonomy.PROFILE:
        values += [figures.profile[question.code][code] for code in question.codes]
        if question is taxonomy.AGE:
            values.append(figures.age_not_asked)
    values += [figures.requests[code] for code in taxonomy.DEMANDE.codes]
    values += [figures.themes[code] for code in taxonomy.THEME.codes]
    values += [figures.profile[taxonomy.RESOLUTION.code][c] for c in taxonomy.RESOLUTION.codes]
    return values


def to_csv(report: NationalReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["periode", "caf_id", "caf", *(code for code, _ in columns())])
    for caf, figures in report.cafs:
        writer.writerow([report.period.key, caf.id, csv_text(caf.name), *figures_of(figures)])
    return CSV_BOM + out.getvalue()


def to_xlsx(report: NationalReport) -> bytes:
    from openpyxl import Workbook  # the command line only: never in the bot's memory
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    workbook.properties.title = f"Indicateurs des Caf — {report.period.label}"
    sheet = workbook.create_sheet(SHEET)
    sheet.freeze_panes = "B2"

    def text(value: str, bold: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # never a formula, whatever a Caf's name starts with
        if bold:
            cell.font = Font(bold=True)
        return cell

    sheet.append([text("Caf", True), *(text(label, True) for _, label in columns())])
    for caf, figures in report.cafs:
        sheet.append([text(caf.name), *figures_of(figures)])
    sheet.append([text(TOTAL, True), *figures_of(report.total)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
