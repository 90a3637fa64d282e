"""The events of a Caf and who answered what (`python -m bot export events`).

`collect` reads, in the snapshot it is given, every event of the Caf whatever its state, the
counts of its answers (counted in SQL) and every person invited with their answer and
attendance. The two renderers are pure functions of what `collect` returns.

Decisions:

* Every event is listed, drafts and cancelled ones too, its state in a column of its own:
  the file is the Caf's record of its network life (Article 9), not an invitation.
* Times are shown in the time zone of the Caf exported (`caf.zone`; every event listed is
  that Caf's), as its coordinators read them; so is the moment the file was made.
* An event nobody was invited to (a draft) still has one row, its person columns empty, so
  that the CSV, which has no second table, lists every event.
* Within an event, the Caf's coordinators come first, then each site by name, then people
  by name; an erased person (their Telegram account forgotten) shows as
  « (personne effacée) », their role, site and answers kept, as their figures are.
* Names and titles are typed by people, so a cell never becomes a formula: in the CSV a
  text that Excel would read as one (`=`, `+`, `-`, `@` first) gets a leading apostrophe,
  as OWASP advises; in the workbook every text cell is written as text.

Formats:

* CSV: one row per invitation, `;`-separated, UTF-8 with a BOM and CRLF line ends (what
  Excel opens as is in France), dates `26/11/2026 14:30`.
* XLSX (write-only openpyxl, so memory stays flat): « Réponses », the same table with real
  Excel dates, a bold frozen header and a filter; « Événements », one row per event with its
  counts; « Export », which Caf, when and how the file was made.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.domain.events import Answer, EventKind
from bot.domain.models import Caf
from bot.domain.permissions import Role
from bot.exports.csv_format import CSV_BOM, csv_text
from bot.exports.event_calendar import event_location
from storage.db import Conn

# Kinds and answers are labelled in `bot.domain.events`; an event's state only here.
EVENT_STATES: dict[str, str] = {
    "published": "publié",
    "cancelled": "annulé",
    "draft": "brouillon",
}
ATTENDANCE: dict[bool | None, str] = {True: "présent", False: "absent", None: ""}
ERASED = "(personne effacée)"
NO_LIMIT = "sans limite"
EXCEL_DATE_TIME = "dd/mm/yyyy hh:mm"

ANSWERS_SHEET = "Réponses"
EVENTS_SHEET = "Événements"
ABOUT_SHEET = "Export"

# header, column width in the workbook
ANSWER_COLUMNS: tuple[tuple[str, int], ...] = (
    ("événement n°", 12),
    ("type", 32),
    ("titre", 40),
    ("date et heure de début", 20),
    ("lieu", 36),
    ("état de l'événement", 12),
    ("personne", 28),
    ("rôle", 24),
    ("site", 32),
    ("réponse", 16),
    ("date de réponse", 20),
    ("présence", 10),
)
EVENT_COLUMNS: tuple[tuple[str, int], ...] = (
    ("événement n°", 12),
    ("type", 32),
    ("titre", 40),
    ("date et heure de début", 20),
    ("date et heure de fin", 20),
    ("lieu", 36),
    ("état de l'événement", 12),
    ("invités", 9),
    ("participent", 11),
    ("liste d'attente", 14),
    ("ne peuvent pas", 14),
    ("sans réponse", 13),
    ("présents", 9),
    ("capacité", 11),
)
CSV_HEADER: tuple[str, ...] = tuple(header for header, _ in ANSWER_COLUMNS)


@dataclass(frozen=True)
class EventRow:
    """One event with the counts of its answers; times in the Caf's time zone."""

    id: int
    kind: EventKind
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    visio_url: str | None
    state: str
    capacity: int | None
    invited: int
    going: int
    waiting: int
    declined: int
    no_answer: int
    present: int

    @property
    def location(self) -> str:
        return event_location(self.place, self.visio_url)


@dataclass(frozen=True)
class AnswerRow:
    """One person invited to one event."""

    event_id: int
    person_id: int
    name: str | None  # None once the person is erased
    role: Role
    site: str | None  # None for the Caf's coordinators
    answer: Answer
    answered_at: datetime | None
    attended: bool | None

    @property
    def person(self) -> str:
        return ERASED if self.name is None else self.name


@dataclass(frozen=True)
class EventsExport:
    caf: Caf
    events: tuple[EventRow, ...]
    answers: tuple[AnswerRow, ...]

    def rows(self) -> Iterable[tuple[EventRow, AnswerRow | None]]:
        """Each invitation with its event, in order; an event without any once, alone."""
        by_event: dict[int, list[AnswerRow]] = {}
        for answer in self.answers:
            by_event.setdefault(answer.event_id, []).append(answer)
        for event in self.events:
            answers = by_event.get(event.id)
            if not answers:
                yield event, None
                continue
            for answer in answers:
                yield event, answer


# --------------------------------------------------------------------------- reading

EVENTS_SQL = """
SELECT e.id, e.kind, e.title, e.starts_at, e.ends_at, e.place, e.visio_url, e.status,
       e.capacity,
       COUNT(i.person_id) AS invited,
       COALESCE(SUM(i.status = 'going'), 0) AS going,
       COALESCE(SUM(i.status = 'waiting'), 0) AS waiting,
       COALESCE(SUM(i.status = 'declined'), 0) AS declined,
       COALESCE(SUM(i.status = 'invited'), 0) AS no_answer,
       COALESCE(SUM(i.attended = 1), 0) AS present
FROM events AS e
LEFT JOIN event_invitations AS i ON i.event_id = e.id
WHERE e.caf_id = :caf
GROUP BY e.id
ORDER BY e.starts_at, e.id
"""

ANSWERS_SQL = """
SELECT i.event_id, p.id AS person_id, p.display_name, p.telegram_user_id IS NULL AS erased,
       p.role, s.name AS site, i.status, i.answered_at, i.attended
FROM event_invitations AS i
JOIN events AS e ON e.id = i.event_id
JOIN people AS p ON p.id = i.person_id
LEFT JOIN partners AS s ON s.id = p.partner_id
WHERE e.caf_id = :caf
ORDER BY e.starts_at, e.id, s.id IS NOT NULL, s.name COLLATE NOCASE, s.id,
         erased, p.display_name COLLATE NOCASE, p.id
"""


def _local(text: str | None, zone: ZoneInfo) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(zone)


async def collect(db: Conn, caf: Caf) -> EventsExport:
    """Everything the export shows; give it one `db.read()` snapshot for a consistent file."""
    zone = caf.zone
    params = {"caf": caf.id}
    events = tuple(
        EventRow(
            id=row["id"],
            kind=EventKind(row["kind"]),
            title=row["title"],
            starts_at=datetime.fromisoformat(row["starts_at"]).astimezone(zone),
            ends_at=datetime.fromisoformat(row["ends_at"]).astimezone(zone),
            place=row["place"],
            visio_url=row["visio_url"],
            state=row["status"],
            capacity=row["capacity"],
            invited=row["invited"],
            going=row["going"],
            waiting=row["waiting"],
            declined=row["declined"],
            no_answer=row["no_answer"],
            present=row["present"],
        )
        for row in await db.fetch_all(EVENTS_SQL, params)
    )
    answers = tuple(
        AnswerRow(
            event_id=row["event_id"],
            person_id=row["person_id"],
            name=None if row["erased"] else row["display_name"],
            role=Role(row["role"]),
            site=row["site"],
            answer=Answer(row["status"]),
            answered_at=_local(row["answered_at"], zone),
            attended=None if row["attended"] is None else bool(row["attended"]),
        )
        for row in await db.fetch_all(ANSWERS_SQL, params)
    )
    return EventsExport(caf=caf, events=events, answers=answers)


# --------------------------------------------------------------------------- shared wording


def _cells(event: EventRow, answer: AnswerRow | None) -> list[Any]:
    """One row of the answers table, dates as local datetimes (None when absent)."""
    head: list[Any] = [
        event.id,
        event.kind.label,
        event.title,
        event.starts_at,
        event.location,
        EVENT_STATES.get(event.state, event.state),
    ]
    if answer is None:
        return [*head, "", "", "", "", None, ""]
    return [
        *head,
        answer.person,
        answer.role.label,
        answer.site or "",
        answer.answer.label,
        answer.answered_at,
        ATTENDANCE[answer.attended],
    ]


# --------------------------------------------------------------------------- CSV


def to_csv(export: EventsExport) -> str:
    """French Excel's CSV: BOM, semicolons, CRLF; one row per invitation."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for event, answer in export.rows():
        writer.writerow([csv_text(value) for value in _cells(event, answer)])
    return CSV_BOM + out.getvalue()


# --------------------------------------------------------------------------- XLSX


class Sheet:
    """A write-only sheet: widths and frozen header set before the first row, as it needs."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[tuple[str, int]]):
        self.sheet: WriteOnlyWorksheet = workbook.create_sheet(title)
        for index, (_, width) in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width

    def header(self, titles: Sequence[str]) -> None:
        self.sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        cells = []
        for title in titles:
            cell = WriteOnlyCell(self.sheet, value=title)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cells.append(cell)
        self.sheet.append(cells)

    def row(self, values: Iterable[Any]) -> None:
        self.sheet.append([self._cell(value) for value in values])

    def pair(self, label: str, value: Any) -> None:
        """A « label : value » line, the label in bold."""
        cell = WriteOnlyCell(self.sheet, value=label)
        cell.font = Font(bold=True)
        self.sheet.append([cell, self._cell(value)])

    def _cell(self, value: Any) -> Any:
        if isinstance(value, datetime):
            # Excel has no time zones: the Caf's local time, as the header says.
            cell = WriteOnlyCell(self.sheet, value=value.replace(tzinfo=None))
            cell.number_format = EXCEL_DATE_TIME
            return cell
        if isinstance(value, str):
            cell = WriteOnlyCell(self.sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            cell.data_type = "s"  # never a formula, whatever the text starts with
            return cell
        return value

    def filter(self, columns: int, rows: int) -> None:
        self.sheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{max(rows, 1)}"


def to_xlsx(export: EventsExport, generated_at: datetime, command: str) -> bytes:
    """The workbook's bytes; `generated_at` shown in the Caf's time zone, `command` as typed."""
    generated_at = generated_at.astimezone(export.caf.zone)
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "Point numérique Caf — l'assistant"
    workbook.properties.title = f"Événements — {export.caf.name}"
    workbook.properties.created = generated_at.replace(tzinfo=None)

    answers = Sheet(workbook, ANSWERS_SHEET, ANSWER_COLUMNS)
    answers.filter(len(ANSWER_COLUMNS), 1 + sum(1 for _ in export.rows()))
    answers.header(CSV_HEADER)
    for event, answer in export.rows():
        answers.row(_cells(event, answer))

    events = Sheet(workbook, EVENTS_SHEET, EVENT_COLUMNS)
    events.filter(len(EVENT_COLUMNS), 1 + len(export.events))
    events.header([header for header, _ in EVENT_COLUMNS])
    for event in export.events:
        events.row(
            [
                event.id,
                event.kind.label,
                event.title,
                event.starts_at,
                event.ends_at,
                event.location,
                EVENT_STATES.get(event.state, event.state),
                event.invited,
                event.going,
                event.waiting,
                event.declined,
                event.no_answer,
                event.present,
                NO_LIMIT if event.capacity is None else event.capacity,
            ]
        )

    about = Sheet(workbook, ABOUT_SHEET, (("", 24), ("", 80)))
    for label, value in (
        ("Caf", export.caf.name),
        ("Contenu", "Événements de la Caf et réponses des personnes invitées"),
        ("Généré le", generated_at),
        ("Fuseau horaire", f"{export.caf.timezone} (toutes les dates du fichier)"),
        ("Généré par", "la ligne de commande du serveur"),
        ("Commande", command),
        ("Événements", len(export.events)),
        ("Invitations", len(export.answers)),
    ):
        about.pair(label, value)

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
