"""`export events`: a Caf's events and who answered what; the .ics a participant receives.

One database is seeded once: a Caf on Paris time with two sites, a coordinator, a manager,
two agents and an agent whose data was erased; three events of that Caf (a draft in
summer time that nobody was invited to, a published training day with a capacity, answers
of every kind and attendance recorded, and a cancelled visio committee) and an event of
another Caf, on La Réunion's time, that must not show there and shows in its own Caf's
export at its own hours. Events and invitations are written with plain SQL into the
0007 tables, as the bot's events flow would leave them. The renderers are tested on what
`collect` reads; the real command line runs on a copy, its clock set in the evening of
New Year's Eve in UTC (already 2027 in Paris).
"""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from bot.domain.models import Caf, ReportingPeriod
from bot.domain.permissions import Role
from bot.exports import events
from bot.exports.event_calendar import event_ics, ics_filename
from bot.exports.events import EventsExport
from storage import cafs, invitations, partners, people
from storage.db import Tx
from storage.setup import storage
from storage.timefmt import to_db
from tests.cli_runner import Run, run_cli

ROOT = Path(__file__).resolve().parent.parent
CAF = "Caf de la Somme"
OTHER_CAF = "Caf de l'Aisne"
SEEDED_AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
# 23:30 UTC on 31 December: 00:30 on 1 January 2027 in Paris.
CLI_NOW = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
ZONES = {CAF: "Europe/Paris", OTHER_CAF: "Indian/Reunion"}
GENERATED_AT = datetime(2026, 12, 1, 11, 0, tzinfo=PARIS)
TIMEOUT = 30.0

HAM, ALBERT, LAON = "Mairie de Ham", "France Services Albert", "Mairie de Laon"
TRAINING = "Journée annuelle de formation"
COMMITTEE = "Comité de pilotage du réseau"
# A title Excel would take for a formula, as a coordinator might type it.
DRAFT = "+ Réunion de rentrée"
VISIO = "https://visio.example.org/copil-somme"
PLACE = "Maison de la Culture, Amiens"

# key, Telegram id, name, role, site (None: the Caf's coordinator), Caf
PEOPLE = (
    ("claire", 1001, "Claire", Role.COORDINATOR, None, CAF),
    ("marc", 1002, "Marc", Role.MANAGER, HAM, CAF),
    ("zoe", 1003, "Zoé", Role.AGENT, HAM, CAF),
    ("alice", 1004, "Alice", Role.AGENT, ALBERT, CAF),
    ("bernard", 1005, "Bernard", Role.AGENT, ALBERT, CAF),
    ("laure", 1006, "Laure", Role.AGENT, LAON, OTHER_CAF),
)
# key, Caf, kind, title, start (UTC), end (UTC), place, visio, capacity, status
EVENTS = (
    ("training", CAF, "training_day", TRAINING, "2026-11-26T08:30", "2026-11-26T16:00",
     PLACE, None, 2, "published"),
    ("committee", CAF, "committee_network", COMMITTEE, "2026-12-10T13:00", "2026-12-10T15:00",
     None, VISIO, None, "cancelled"),
    ("draft", CAF, "meeting", DRAFT, "2026-07-02T12:00", "2026-07-02T13:00",
     "Caf, salle 2", None, None, "draft"),
    ("other", OTHER_CAF, "yearly_visit", "Visite annuelle", "2026-11-20T09:00",
     "2026-11-20T11:00", LAON, None, None, "published"),
)  # fmt: skip
# event, person, status, answered at (UTC), attended
ANSWERS = (
    ("training", "claire", "going", "2026-11-02T09:15", 1),
    ("training", "marc", "going", "2026-11-03T10:00", 0),
    ("training", "zoe", "waiting", "2026-11-04T11:45", None),
    ("training", "alice", "declined", "2026-11-05T16:20", None),
    ("training", "bernard", "going", "2026-11-06T08:00", 1),
    ("committee", "marc", "invited", None, None),
    ("committee", "alice", "going", "2026-11-20T14:00", None),
    ("other", "laure", "going", "2026-11-10T10:00", 1),
)


@dataclass(frozen=True)
class Seeded:
    db_path: Path
    caf: Caf
    events: dict[str, int]
    export: EventsExport


def _utc(text: str) -> str:
    return to_db(datetime.fromisoformat(text).replace(tzinfo=UTC))


async def _seed_events(
    tx: Tx, caf_ids: dict[str, int], person_ids: dict[str, int]
) -> dict[str, int]:
    event_ids = {}
    for key, caf, kind, title, start, end, place, visio, capacity, status in EVENTS:
        event_id = await tx.execute(
            "INSERT INTO events (caf_id, kind, title, starts_at, ends_at, place, visio_url,"
            " capacity, rsvp_deadline, status, created_at, updated_at, cancelled_at)"
            " VALUES (:caf, :kind, :title, :start, :end, :place, :visio, :capacity, :start,"
            " :status, :now, :now, :cancelled)",
            {
                "caf": caf_ids[caf],
                "kind": kind,
                "title": title,
                "start": _utc(start),
                "end": _utc(end),
                "place": place,
                "visio": visio,
                "capacity": capacity,
                "status": status,
                "now": to_db(SEEDED_AT),
                "cancelled": to_db(SEEDED_AT) if status == "cancelled" else None,
            },
        )
        assert event_id is not None
        event_ids[key] = event_id
    await tx.executemany(
        "INSERT INTO event_invitations (event_id, person_id, status, answered_at,"
        " waiting_since, attended) VALUES (:event, :person, :status, :at, :waiting, :attended)",
        [
            {
                "event": event_ids[event],
                "person": person_ids[person],
                "status": status,
                "at": _utc(at) if at else None,
                "waiting": _utc(at) if status == "waiting" else None,
                "attended": attended,
            }
            for event, person, status, at, attended in ANSWERS
        ],
    )
    return event_ids


async def _seed(db_path: Path) -> Seeded:
    now = SEEDED_AT
    async with storage(db_path) as db:
        async with db.transaction() as tx:
            caf_ids, site_ids, person_ids = {}, {}, {}
            for name in (CAF, OTHER_CAF):
                caf = await cafs.add(
                    tx,
                    name=name,
                    period=ReportingPeriod.MONTHLY,
                    timezone=ZONES[name],
                    notify_chat_id=None,
                    now=now,
                )
                caf_ids[name] = caf.id
            sites = ((HAM, "Ham", CAF), (ALBERT, "Albert", CAF), (LAON, "Laon", OTHER_CAF))
            for name, city, caf_name in sites:
                site = await partners.add(
                    tx, caf_id=caf_ids[caf_name], name=name, city=city, address="", now=now
                )
                site_ids[name] = site.id
            for key, telegram_id, name, role, site, caf_name in PEOPLE:
                _, invitation = await invitations.create(
                    tx,
                    role=role,
                    caf_id=caf_ids[caf_name],
                    partner_id=site_ids[site] if site else None,
                    uses=1,
                    expires_at=now + timedelta(days=7),
                    created_by=None,
                    now=now,
                )
                person = await people.register(
                    tx,
                    telegram_user_id=telegram_id,
                    display_name=name,
                    invitation=invitation,
                    now=now,
                )
                person_ids[key] = person.id
            # Bernard asked for his data to be erased: his answers stay, anonymous.
            await tx.execute(
                "UPDATE people SET telegram_user_id = NULL, display_name = 'Personne effacée',"
                " status = 'revoked', revoked_at = :now WHERE id = :id",
                {"now": to_db(now), "id": person_ids["bernard"]},
            )
            event_ids = await _seed_events(tx, caf_ids, person_ids)
        caf = await cafs.get(db, caf_ids[CAF])
        assert caf is not None
        async with db.read() as snapshot:
            export = await events.collect(snapshot, caf)
    return Seeded(db_path, caf, event_ids, export)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return asyncio.run(_seed(tmp_path_factory.mktemp("events") / "db.sqlite3"))


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A naive wall-clock time in Paris, as Excel stores it."""
    return datetime(year, month, day, hour, minute)


# ------------------------------------------------------------------------------ collect
def test_collect_lists_every_event_of_the_caf_by_start_with_counts(seeded: Seeded) -> None:
    export = seeded.export
    assert [event.title for event in export.events] == [DRAFT, TRAINING, COMMITTEE]
    draft, training, committee = export.events
    assert (draft.state, training.state, committee.state) == ("draft", "published", "cancelled")
    counts = ("invited", "going", "waiting", "declined", "no_answer", "present")
    assert [getattr(training, name) for name in counts] == [5, 3, 1, 1, 0, 2]
    assert [getattr(committee, name) for name in counts] == [2, 1, 0, 0, 1, 0]
    assert [getattr(draft, name) for name in counts] == [0, 0, 0, 0, 0, 0]
    assert training.capacity == 2 and committee.capacity is None
    # Summer and winter time, both read in the Caf's time zone.
    assert draft.starts_at.isoformat() == "2026-07-02T14:00:00+02:00"
    assert training.starts_at.isoformat() == "2026-11-26T09:30:00+01:00"
    assert committee.location == VISIO


def test_collect_orders_invitees_coordinators_first_then_by_site(seeded: Seeded) -> None:
    training = seeded.events["training"]
    invitees = [
        (answer.person, answer.site)
        for answer in seeded.export.answers
        if answer.event_id == training
    ]
    assert invitees == [
        ("Claire", None),
        ("Alice", ALBERT),
        ("(personne effacée)", ALBERT),
        ("Marc", HAM),
        ("Zoé", HAM),
    ]
    assert "Laure" not in {answer.person for answer in seeded.export.answers}


# ------------------------------------------------------------------------------ CSV
def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))


def test_csv_is_one_row_per_invitation_for_french_excel(seeded: Seeded) -> None:
    text = events.to_csv(seeded.export)
    assert text.startswith("\ufeff") and text.endswith("\r\n")
    assert text.count("\r\n") == 1 + 1 + 5 + 2  # header, the draft alone, 5 + 2 invitations
    rows = read_csv(text)
    assert rows[0] == [
        "événement n°",
        "type",
        "titre",
        "date et heure de début",
        "lieu",
        "état de l'événement",
        "personne",
        "rôle",
        "site",
        "réponse",
        "date de réponse",
        "présence",
    ]
    training = str(seeded.events["training"])
    head = [training, "Journée annuelle de formation", TRAINING, "26/11/2026 09:30", PLACE]
    assert rows[2] == [
        *head,
        "publié",
        "Claire",
        "coordinateur·rice Caf",
        "",
        "participe",
        "02/11/2026 10:15",
        "présent",
    ]
    by_person = {row[6]: row for row in rows[2:7]}
    assert by_person["(personne effacée)"][7:] == [
        "agent d'accueil",
        ALBERT,
        "participe",
        "06/11/2026 09:00",
        "présent",
    ]
    assert by_person["Marc"][7:] == [
        "responsable de site",
        HAM,
        "participe",
        "03/11/2026 11:00",
        "absent",
    ]
    assert by_person["Zoé"][9:] == ["liste d'attente", "04/11/2026 12:45", ""]
    assert by_person["Alice"][9:] == ["ne peut pas", "05/11/2026 17:20", ""]


def test_csv_marks_cancelled_events_and_keeps_uninvited_drafts(seeded: Seeded) -> None:
    rows = read_csv(events.to_csv(seeded.export))
    draft = rows[1]
    # The draft nobody was invited to has its row; its title cannot turn into a formula.
    assert draft == [
        str(seeded.events["draft"]),
        "Réunion",
        "'" + DRAFT,
        "02/07/2026 14:00",
        "Caf, salle 2",
        "brouillon",
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    committee = [row for row in rows if row[0] == str(seeded.events["committee"])]
    assert [row[5] for row in committee] == ["annulé", "annulé"]
    assert [(row[6], row[9], row[10]) for row in committee] == [
        ("Alice", "participe", "20/11/2026 15:00"),
        ("Marc", "sans réponse", ""),
    ]
    assert committee[0][1:5] == [
        "Comité de pilotage du réseau",
        COMMITTEE,
        "10/12/2026 14:00",
        VISIO,  # no place: the visio link says where
    ]
    text = events.to_csv(seeded.export)
    for hidden in ("Laure", "Visite annuelle", "Personne effacée", "Bernard"):
        assert hidden not in text


# ------------------------------------------------------------------------------ XLSX
@pytest.fixture(scope="module")
def workbook(seeded: Seeded) -> Any:
    raw = events.to_xlsx(seeded.export, GENERATED_AT, "python -m bot export events")
    return load_workbook(io.BytesIO(raw))


def test_the_workbook_has_answers_events_and_export_sheets(workbook: Any) -> None:
    assert workbook.sheetnames == ["Réponses", "Événements", "Export"]
    answers = workbook["Réponses"]
    header = [cell.value for cell in answers[1]]
    assert header[0] == "événement n°" and header[-1] == "présence" and len(header) == 12
    assert all(cell.font.b for cell in answers[1])
    assert answers.freeze_panes == "A2"
    assert answers.auto_filter.ref == "A1:L9"
    assert answers.max_row == 9
    assert answers.column_dimensions["C"].width >= 30


def test_answers_sheet_has_real_local_datetimes_and_text_never_formulas(
    workbook: Any, seeded: Seeded
) -> None:
    rows = list(workbook["Réponses"].iter_rows(min_row=2, values_only=True))
    draft, claire = rows[0], rows[1]
    assert draft[:6] == (
        seeded.events["draft"],
        "Réunion",
        DRAFT,  # the title as typed, kept as text
        paris(2026, 7, 2, 14),
        "Caf, salle 2",
        "brouillon",
    )
    assert workbook["Réponses"]["C2"].data_type == "s"
    assert claire[3] == paris(2026, 11, 26, 9, 30)
    assert isinstance(claire[3], datetime)
    assert workbook["Réponses"]["D3"].number_format == "dd/mm/yyyy hh:mm"
    assert claire[6:] == (
        "Claire",
        "coordinateur·rice Caf",
        None,
        "participe",
        paris(2026, 11, 2, 10, 15),
        "présent",
    )


def test_a_name_typed_as_a_formula_stays_text(seeded: Seeded) -> None:
    """Display names come from Telegram accounts: whatever they say, never a formula."""
    trap = '=HYPERLINK("https://example.org","Cliquez")'
    training = seeded.export.events[1]
    answer = seeded.export.answers[0]
    export = EventsExport(
        caf=seeded.caf,
        events=(replace(training, title="@SUM(A1)"),),
        answers=(replace(answer, event_id=training.id, name=trap),),
    )
    sheet = load_workbook(io.BytesIO(events.to_xlsx(export, GENERATED_AT, "…")))["Réponses"]
    assert (sheet["C2"].value, sheet["C2"].data_type) == ("@SUM(A1)", "s")
    assert (sheet["G2"].value, sheet["G2"].data_type) == (trap, "s")
    row = read_csv(events.to_csv(export))[1]
    assert (row[2], row[6]) == ("'@SUM(A1)", "'" + trap)


def test_events_sheet_counts_answers_per_event(workbook: Any, seeded: Seeded) -> None:
    sheet = workbook["Événements"]
    header = [cell.value for cell in sheet[1]]
    assert header[-7:] == [
        "invités",
        "participent",
        "liste d'attente",
        "ne peuvent pas",
        "sans réponse",
        "présents",
        "capacité",
    ]
    assert sheet.freeze_panes == "A2"
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert list(rows) == [seeded.events[key] for key in ("draft", "training", "committee")]
    training = rows[seeded.events["training"]]
    assert training[3:5] == (paris(2026, 11, 26, 9, 30), paris(2026, 11, 26, 17))
    assert training[6:] == ("publié", 5, 3, 1, 1, 0, 2, 2)
    assert rows[seeded.events["committee"]][6:] == ("annulé", 2, 1, 0, 0, 1, 0, "sans limite")
    assert rows[seeded.events["draft"]][7:13] == (0, 0, 0, 0, 0, 0)


def test_export_sheet_says_which_caf_when_and_how(workbook: Any) -> None:
    about = {row[0]: row[1] for row in workbook["Export"].iter_rows(values_only=True)}
    assert about["Caf"] == CAF
    assert about["Généré le"] == GENERATED_AT.replace(tzinfo=None)
    assert about["Commande"] == "python -m bot export events"
    assert "ligne de commande" in about["Généré par"]
    assert about["Fuseau horaire"].startswith("Europe/Paris")
    assert (about["Événements"], about["Invitations"]) == (3, 7)


async def _collect_other(db_path: Path) -> EventsExport:
    async with storage(db_path) as db:
        caf = await cafs.get_by_name(db, OTHER_CAF)
        assert caf is not None
        async with db.read() as snapshot:
            return await events.collect(snapshot, caf)


def test_each_caf_exports_its_own_events_at_its_own_hours(seeded: Seeded) -> None:
    export = asyncio.run(_collect_other(seeded.db_path))
    [visit] = export.events
    assert visit.title == "Visite annuelle"
    # 09:00 UTC is 13:00 in La Réunion, in the Caf's own export.
    assert visit.starts_at.isoformat() == "2026-11-20T13:00:00+04:00"
    [laure] = export.answers
    assert laure.answered_at is not None
    assert laure.answered_at.isoformat() == "2026-11-10T14:00:00+04:00"
    row = read_csv(events.to_csv(export))[1]
    assert (row[3], row[10]) == ("20/11/2026 13:00", "10/11/2026 14:00")
    made = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    book = load_workbook(io.BytesIO(events.to_xlsx(export, made, "…")))
    assert book["Réponses"]["D2"].value == datetime(2026, 11, 20, 13, 0)
    about = {row[0]: row[1] for row in book["Export"].iter_rows(values_only=True)}
    assert about["Généré le"] == datetime(2026, 12, 1, 12, 0)
    assert about["Fuseau horaire"].startswith("Indian/Reunion")


# ------------------------------------------------------------------------------ ICS
START = datetime(2026, 11, 26, 9, 30, tzinfo=PARIS)
END = START + timedelta(hours=7, minutes=30)
STAMP = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def ics(**changes: Any) -> Calendar:
    fields: dict[str, Any] = {
        "event_id": 12,
        "caf_id": 3,
        "caf_name": CAF,
        "title": TRAINING,
        "starts_at": START,
        "ends_at": END,
        "place": PLACE,
        "visio_url": None,
        "description": "Programme : ateliers le matin, retours d'expérience l'après-midi.",
        "now": STAMP,
    }
    text = event_ics(**(fields | changes))
    assert "\r\n" in text
    return Calendar.from_ical(text)


def test_the_ics_publishes_one_event_in_utc_with_a_stable_uid() -> None:
    calendar = ics()
    assert str(calendar["method"]) == "PUBLISH"
    assert str(calendar["prodid"]).startswith("-//Point numérique Caf//")
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == "event-12@caf-3.point-numerique-caf"
    assert event.decoded("dtstart") == START
    assert event.decoded("dtend") == END
    assert event.decoded("dtstamp") == STAMP
    assert str(event["summary"]) == TRAINING
    assert str(event["location"]) == PLACE
    assert "url" not in event and "organizer" not in event
    assert str(event["status"]) == "CONFIRMED"
    assert event.decoded("sequence") == 0
    assert str(event["description"]).startswith("Programme : ateliers")
    assert "Organisé par : Caf de la Somme" in str(event["description"])
    # Written in UTC: 9:30 in Paris is 8:30 Z, with no VTIMEZONE needed.
    assert "DTSTART:20261126T083000Z" in event.to_ical().decode()
    assert calendar.walk("VTIMEZONE") == []
    # The same event gives the same UID in every file a participant receives.
    again = ics(sequence=2, now=STAMP + timedelta(days=3)).walk("VEVENT")[0]
    assert str(again["uid"]) == str(event["uid"]) and again.decoded("sequence") == 2


def test_a_visio_event_is_located_by_its_link() -> None:
    (event,) = ics(place=None, visio_url=VISIO, description=None).walk("VEVENT")
    assert str(event["location"]) == VISIO
    assert str(event["url"]) == VISIO
    assert str(event["description"]).endswith(f"Lien de la visio : {VISIO}")
    (both,) = ics(visio_url=VISIO).walk("VEVENT")
    assert (str(both["location"]), str(both["url"])) == (PLACE, VISIO)


def test_a_cancellation_cancels_the_same_event() -> None:
    calendar = ics(cancelled=True, sequence=1)
    assert str(calendar["method"]) == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == "event-12@caf-3.point-numerique-caf"
    assert event.decoded("sequence") == 1
    assert str(event["summary"]) == f"Annulé : {TRAINING}"


def test_the_ics_refuses_naive_or_inverted_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        ics(starts_at=datetime(2026, 11, 26, 9, 30))
    with pytest.raises(ValueError, match="ends after"):
        ics(ends_at=START)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (TRAINING, "journee-annuelle-de-formation.ics"),
        ("Comité de pilotage — Mairie d'Ham (2027)", "comite-de-pilotage-mairie-d-ham-2027.ics"),
        ("Cœur de réseau : l'œuvre", "coeur-de-reseau-l-oeuvre.ics"),
        ("🎉 !!", "evenement.ics"),
        ("a" * 100, "a" * 60 + ".ics"),
    ],
)
def test_the_ics_file_name_is_safe_ascii(title: str, expected: str) -> None:
    assert ics_filename(title) == expected


# ------------------------------------------------------------------------------ command line
@pytest.fixture(scope="module")
def cli(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The commands below, a few at a time, on a copy of the seeded database."""
    workdir = tmp_path_factory.mktemp("cli")
    for path in seeded.db_path.parent.glob("db.sqlite3*"):
        shutil.copy(path, workdir / path.name)
    commands = {
        "csv": ("export", "events", "--caf", "caf de la somme"),
        "xlsx": ("export", "events", "--caf", CAF, "--format", "xlsx", "--output", "out/ev.xlsx"),
        "xlsx piped": ("export", "events", "--caf", CAF, "--format", "xlsx"),
        "unknown": ("export", "events", "--caf", "Caf du Nord", "--output", "nord.csv"),
        "bad format": ("export", "events", "--caf", CAF, "--format", "ics"),
    }
    with ThreadPoolExecutor(max_workers=5) as pool:
        runs = dict(
            zip(
                commands,
                pool.map(lambda argv: run_cli(workdir, CLI_NOW, *argv), commands.values()),
                strict=True,
            )
        )
    return {"runs": runs, "workdir": workdir}


def test_the_command_writes_csv_to_stdout(cli: dict[str, Any], seeded: Seeded) -> None:
    run: Run = cli["runs"]["csv"]
    assert run.returncode == 0, run.describe()
    assert run.stderr == "", run.describe()
    assert run.stdout.startswith(b"\xef\xbb\xbf")
    assert run.stdout.decode("utf-8") == events.to_csv(seeded.export)


def test_the_command_writes_xlsx_to_a_file_and_says_so(cli: dict[str, Any]) -> None:
    run: Run = cli["runs"]["xlsx"]
    assert run.returncode == 0, run.describe()
    assert run.stdout == b""
    assert run.stderr.splitlines() == [
        "Export écrit : out/ev.xlsx (événements de Caf de la Somme, 3 événement(s), "
        "7 invitation(s))"
    ], run.describe()
    path: Path = cli["workdir"] / "out" / "ev.xlsx"
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["Réponses", "Événements", "Export"]
    about = {row[0]: row[1] for row in book["Export"].iter_rows(values_only=True)}
    # The clock says 23:30 UTC on 31 December: a few seconds later, in Paris, in 2027.
    generated = about["Généré le"]
    assert isinstance(generated, datetime)
    assert datetime(2027, 1, 1, 0, 30) <= generated < datetime(2027, 1, 1, 0, 35)
    assert about["Commande"] == (
        "python -m bot export events --caf 'Caf de la Somme' --format xlsx --output out/ev.xlsx"
    )
    book.close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["ev.xlsx"]


def test_without_output_the_workbook_goes_to_stdout_as_bytes(cli: dict[str, Any]) -> None:
    run: Run = cli["runs"]["xlsx piped"]
    assert run.returncode == 0, run.describe()
    assert run.stderr == "", run.describe()
    book = load_workbook(io.BytesIO(run.stdout), read_only=True)
    assert book.sheetnames == ["Réponses", "Événements", "Export"]
    assert len(list(book["Réponses"].iter_rows(values_only=True))) == 9
    book.close()


def test_an_unknown_caf_or_format_is_one_french_error(cli: dict[str, Any]) -> None:
    unknown: Run = cli["runs"]["unknown"]
    assert unknown.returncode == 1, unknown.describe()
    assert unknown.stdout == b""
    assert unknown.stderr.splitlines() == [
        "Erreur : Caf inconnue : « Caf du Nord » (voir python -m bot cafs list)"
    ], unknown.describe()
    assert not (cli["workdir"] / "nord.csv").exists()
    bad: Run = cli["runs"]["bad format"]
    assert bad.returncode == 2, bad.describe()
    assert bad.stderr.startswith("Erreur : ") and "csv" in bad.stderr and "xlsx" in bad.stderr
