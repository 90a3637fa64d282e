"""`export directory` (issue #5): the public directory of a Caf's sites, hours and closures.

One database is seeded once through the storage functions: a Caf on Paris time with an
active site that declared hours and a later change, an active site without hours, a
suspended and a withdrawn site (both left out), and closures past, cancelled, ending
"yesterday", on "today" and across the new year; plus another Caf whose site must not show.
The renderers are tested on what `collect` reads from it; the real command line runs on a
copy of it, with its clock set a little after midnight in Paris (still the day before in
UTC), so that the Caf's own date is the one used.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from bot.domain.models import Caf, Partner, ReportingPeriod
from bot.domain.opening_hours import Period, WeeklySchedule
from bot.domain.permissions import LabelStatus, Role
from bot.exports import directory, directory_national
from bot.exports.directory import DirectoryEntry, ScheduleChange, next_change
from storage import cafs, closures, hours, invitations, partners, people
from storage.hours import Declaration
from storage.setup import storage
from tests.cli_runner import Run, run_cli

ROOT = Path(__file__).resolve().parent.parent
CAF = "Caf de la Somme"
OTHER_CAF = "Caf de l'Aisne"
TODAY = date(2026, 12, 21)  # a Monday, in Paris
# 00:30 in Paris on TODAY, still 20 December in UTC.
CLI_NOW = datetime(2026, 12, 20, 23, 30, tzinfo=UTC)
GENERATED_AT = datetime(2026, 12, 21, 0, 30, tzinfo=UTC)
SEEDED_AT = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
TIMEOUT = 30.0
SECRET_NOTE = "Mme Durand en congé maladie"

DAY = (Period.of(9, 0, 12, 0), Period.of(14, 0, 17, 0))
HAM_HOURS = WeeklySchedule({0: DAY, 1: DAY, 3: DAY, 4: (Period.of(9, 30, 12, 0),)})
HAM_WINTER = WeeklySchedule({0: DAY, 1: DAY, 2: DAY, 3: DAY})
HAM_SPRING = WeeklySchedule({0: DAY, 2: DAY, 4: DAY})


HAM, ALBERT = "Mairie de Ham", "France Services Albert"
HAM_IDENTITY = {
    "siret": "21800409400015",
    "postcode": "80400",
    "phone": "+33323810000",
    "email": "accueil@ville-ham.fr",
}
SCHEMA = ROOT / "tests" / "data" / "lieux-mediation-numerique.schema.json"
# key, site, first day, last day, reason, note (internal).
CLOSURES = (
    ("new_year", HAM, "2026-12-24", "2027-01-02", "conges", SECRET_NOTE),
    ("past", HAM, "2026-12-01", "2026-12-03", "travaux", None),
    ("yesterday", HAM, "2026-12-18", "2026-12-20", "absence", None),
    ("cancelled", HAM, "2027-01-15", "2027-01-15", "evenement", None),
    ("today", ALBERT, "2026-12-21", "2026-12-21", "panne", None),
    ("suspended", "Centre social Étouvie", "2027-01-05", "2027-01-05", "autre", None),
    ("other_caf", "Mairie de Laon", "2027-01-05", "2027-01-06", "conges", None),
)


@dataclass(frozen=True)
class Seeded:
    db_path: Path
    caf: Caf
    sites: dict[str, int]
    closures: dict[str, int]
    entries: list[DirectoryEntry]
    entries_day_before: list[DirectoryEntry]


async def _seed(db_path: Path) -> Seeded:
    now = SEEDED_AT
    site_ids: dict[str, int] = {}
    closure_ids: dict[str, int] = {}
    async with storage(db_path) as db:
        async with db.transaction() as tx:
            caf = await cafs.add(
                tx,
                name=CAF,
                period=ReportingPeriod.MONTHLY,
                timezone="Europe/Paris",
                notify_chat_id=None,
                now=now,
            )
            other_caf = await cafs.add(
                tx,
                name=OTHER_CAF,
                period=ReportingPeriod.MONTHLY,
                timezone="Europe/Paris",
                notify_chat_id=None,
                now=now,
            )
            for name, city, address, owner in (
                ("Mairie de Ham", "Ham", "1 place de l'Hôtel de Ville", caf),
                ("France Services Albert", "Albert", "3 rue Jeanne d'Arc, 80300 Albert", caf),
                ("Centre social Étouvie", "Amiens", "12 rue du Général-Leclerc", caf),
                ("Médiathèque de Péronne", "Péronne", "", caf),
                ("Mairie de Laon", "Laon", "Place du Général-Leclerc", other_caf),
            ):
                site = await partners.add(
                    tx, caf_id=owner.id, name=name, city=city, address=address, now=now
                )
                site_ids[name] = site.id
            for name, status in (
                ("Centre social Étouvie", LabelStatus.SUSPENDED),
                ("Médiathèque de Péronne", LabelStatus.WITHDRAWN),
            ):
                await partners.set_label(
                    tx, site_ids[name], status=status, reason="Contrôle", now=now, by=None
                )
            ham = site_ids["Mairie de Ham"]
            # What the national standard needs (issue #17); Albert has none of it.
            for field, value in HAM_IDENTITY.items():
                await partners.update_field(tx, ham, field, value)
            # In force since September; a change from 4 January (declared twice that day:
            # the later one wins), and another in the spring.
            for schedule, start in (
                (HAM_HOURS, date(2026, 9, 1)),
                (HAM_HOURS, date(2027, 1, 4)),
                (HAM_WINTER, date(2027, 1, 4)),
                (HAM_SPRING, date(2027, 4, 1)),
            ):
                await hours.declare(
                    tx, partner_id=ham, schedule=schedule, effective_from=start, by=None, now=now
                )
            for name in ("Centre social Étouvie", "Mairie de Laon"):
                await hours.declare(
                    tx,
                    partner_id=site_ids[name],
                    schedule=HAM_HOURS,
                    effective_from=date(2026, 9, 1),
                    by=None,
                    now=now,
                )
            _, invitation = await invitations.create(
                tx,
                role=Role.MANAGER,
                caf_id=caf.id,
                partner_id=ham,
                uses=1,
                expires_at=now + timedelta(days=7),
                created_by=None,
                now=now,
            )
            manager = await people.register(
                tx, telegram_user_id=4242, display_name="Marc", invitation=invitation, now=now
            )
            for key, site, start, end, reason, note in CLOSURES:
                closure, _ = await closures.declare(
                    tx,
                    partner_id=site_ids[site],
                    start=date.fromisoformat(start),
                    end=date.fromisoformat(end),
                    reason=reason,
                    note=note,
                    by=manager.id,
                    now=now,
                )
                closure_ids[key] = closure.id
            await closures.cancel(tx, closure_ids["cancelled"], by=manager.id, now=now)
        entries = await directory.collect(db, caf, TODAY)
        entries_day_before = await directory.collect(db, caf, TODAY - timedelta(days=1))
    return Seeded(db_path, caf, site_ids, closure_ids, entries, entries_day_before)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return asyncio.run(_seed(tmp_path_factory.mktemp("directory") / "db.sqlite3"))


def by_name(entries: list[DirectoryEntry]) -> dict[str, DirectoryEntry]:
    return {entry.site.name: entry for entry in entries}


# ------------------------------------------------------------------------------ collect
def test_only_the_active_sites_of_the_caf_are_listed_by_name(seeded: Seeded) -> None:
    assert [entry.site.name for entry in seeded.entries] == [
        "France Services Albert",
        "Mairie de Ham",
    ]


def test_collect_reads_hours_in_force_the_next_change_and_upcoming_closures(
    seeded: Seeded,
) -> None:
    entries = by_name(seeded.entries)
    ham, albert = entries[HAM], entries[ALBERT]
    assert ham.hours == HAM_HOURS
    # The two declarations for 4 January: the later one applies.
    assert ham.next_change == ScheduleChange(date(2027, 1, 4), HAM_WINTER)
    # Not the past, cancelled, or ended-yesterday closures; the note stays internal.
    assert [c.id for c in ham.closures] == [seeded.closures["new_year"]]
    assert albert.hours is None
    assert albert.next_change is None
    assert [c.id for c in albert.closures] == [seeded.closures["today"]]
    # The day before, the closure ending that day is still shown.
    ham_before = by_name(seeded.entries_day_before)["Mairie de Ham"]
    assert [c.id for c in ham_before.closures] == [
        seeded.closures["yesterday"],
        seeded.closures["new_year"],
    ]


def _declaration(id_: int, start: date, schedule: WeeklySchedule) -> Declaration:
    return Declaration(
        id=id_,
        partner_id=1,
        schedule=schedule,
        before_schedule=None,
        effective_from=start,
        half_days=0,
        minutes=0,
        compliant=True,
        declared_by=None,
        declared_at=SEEDED_AT,
    )


def test_the_next_change_skips_a_future_schedule_identical_to_the_one_before() -> None:
    same = _declaration(1, date(2027, 1, 4), HAM_HOURS)
    spring = _declaration(2, date(2027, 4, 1), HAM_SPRING)
    assert next_change(HAM_HOURS, [same, spring]) == ScheduleChange(date(2027, 4, 1), HAM_SPRING)
    assert next_change(HAM_HOURS, [same]) is None
    assert next_change(None, [same]) == ScheduleChange(date(2027, 1, 4), HAM_HOURS)
    assert next_change(HAM_HOURS, []) is None


# ------------------------------------------------------------------------------ JSON
def test_json_lists_sites_with_hours_text_next_change_and_closures(seeded: Seeded) -> None:
    document = json.loads(directory.to_json(seeded.entries, seeded.caf, GENERATED_AT))
    assert document["caf"] == CAF
    assert document["generated_at"] == "2026-12-21T00:30:00+00:00"
    sites = {site["name"]: site for site in document["sites"]}
    assert list(sites) == ["France Services Albert", "Mairie de Ham"]

    ham = sites["Mairie de Ham"]
    assert ham["id"] == seeded.sites["Mairie de Ham"]
    assert (ham["city"], ham["address"]) == ("Ham", "1 place de l'Hôtel de Ville")
    assert list(ham["hours"]) == [
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
    ]
    assert ham["hours"]["lundi"] == [["09:00", "12:00"], ["14:00", "17:00"]]
    assert ham["hours"]["mercredi"] == []
    assert ham["hours"]["vendredi"] == [["09:30", "12:00"]]
    assert ham["hours_text"].splitlines() == [
        "Lundi : 9 h – 12 h, 14 h – 17 h",
        "Mardi : 9 h – 12 h, 14 h – 17 h",
        "Mercredi : Fermé",
        "Jeudi : 9 h – 12 h, 14 h – 17 h",
        "Vendredi : 9 h 30 – 12 h",
        "Samedi : Fermé",
        "Dimanche : Fermé",
    ]
    assert ham["next_change"]["from"] == "2027-01-04"
    assert ham["next_change"]["hours"]["mercredi"] == [["09:00", "12:00"], ["14:00", "17:00"]]
    assert ham["next_change"]["hours"]["vendredi"] == []
    assert ham["next_change"]["hours_text"].startswith("Lundi : 9 h – 12 h, 14 h – 17 h\n")
    assert ham["closures"] == [
        {"start": "2026-12-24", "end": "2027-01-02", "reason": "Congés, pont"}
    ]

    albert = sites["France Services Albert"]
    assert albert["hours"] is None
    assert albert["hours_text"] == "Horaires non déclarés"
    assert albert["next_change"] is None
    assert albert["closures"] == [
        {"start": "2026-12-21", "end": "2026-12-21", "reason": "Panne (informatique, réseau)"}
    ]


def test_no_export_shows_the_internal_note_or_the_excluded_sites(seeded: Seeded) -> None:
    texts = [
        directory.to_json(seeded.entries, seeded.caf, GENERATED_AT),
        directory.to_csv(seeded.entries),
        directory.to_ics(seeded.entries, seeded.caf, GENERATED_AT).decode("utf-8"),
    ]
    for text in texts:
        unfolded = text.replace("\r\n ", "")
        for hidden in (SECRET_NOTE, "Étouvie", "Péronne", "Laon"):
            assert hidden not in unfolded


# ------------------------------------------------------------------------------ CSV
def test_csv_is_one_row_per_site_for_french_excel(seeded: Seeded) -> None:
    text = directory.to_csv(seeded.entries)
    assert text.startswith("\ufeff")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))
    assert rows[0] == [
        "identifiant",
        "nom",
        "ville",
        "adresse",
        "Lundi",
        "Mardi",
        "Mercredi",
        "Jeudi",
        "Vendredi",
        "Samedi",
        "Dimanche",
        "Nouveaux horaires à partir du",
        "Lundi (nouveaux)",
        "Mardi (nouveaux)",
        "Mercredi (nouveaux)",
        "Jeudi (nouveaux)",
        "Vendredi (nouveaux)",
        "Samedi (nouveaux)",
        "Dimanche (nouveaux)",
        "Prochaines fermetures",
    ]
    table = {row[1]: row for row in rows[1:]}
    assert len(rows) == 3 and list(table) == ["France Services Albert", "Mairie de Ham"]
    assert table["Mairie de Ham"] == [
        str(seeded.sites["Mairie de Ham"]),
        "Mairie de Ham",
        "Ham",
        "1 place de l'Hôtel de Ville",
        "9 h – 12 h, 14 h – 17 h",
        "9 h – 12 h, 14 h – 17 h",
        "Fermé",
        "9 h – 12 h, 14 h – 17 h",
        "9 h 30 – 12 h",
        "Fermé",
        "Fermé",
        # The coming hours (the later of the two declared for 4 January), from their day.
        "04/01/2027",
        "9 h – 12 h, 14 h – 17 h",
        "9 h – 12 h, 14 h – 17 h",
        "9 h – 12 h, 14 h – 17 h",
        "9 h – 12 h, 14 h – 17 h",
        "Fermé",
        "Fermé",
        "Fermé",
        "du 24/12/2026 au 02/01/2027 (Congés, pont)",
    ]
    albert = table["France Services Albert"]
    assert albert[3] == "3 rue Jeanne d'Arc, 80300 Albert"
    assert albert[4:11] == ["Horaires non déclarés"] * 7
    assert albert[11:19] == [""] * 8  # no change coming
    assert albert[19] == "le 21/12/2026 (Panne (informatique, réseau))"


def test_csv_joins_several_closures_in_one_cell(seeded: Seeded) -> None:
    rows = list(
        csv.reader(io.StringIO(directory.to_csv(seeded.entries_day_before)[1:]), delimiter=";")
    )
    ham = next(row for row in rows if row[1] == "Mairie de Ham")
    assert ham[-1] == (
        "du 18/12/2026 au 20/12/2026 (Agent absent) ; du 24/12/2026 au 02/01/2027 (Congés, pont)"
    )


def test_csv_guards_the_coming_hours_columns_like_the_others(seeded: Seeded) -> None:
    rows = list(csv.reader(io.StringIO(directory.to_csv(seeded.entries)[1:]), delimiter=";"))
    assert all(len(row) == len(directory.CSV_HEADER) for row in rows)


# ------------------------------------------------------------------------------ ICS
def test_ics_carries_the_current_and_the_coming_hours_from_their_first_day(
    seeded: Seeded,
) -> None:
    calendar = Calendar.from_ical(directory.to_ics(seeded.entries, seeded.caf, GENERATED_AT))
    (event,) = [e for e in calendar.walk("VEVENT") if str(e["uid"]).startswith("hours-")]
    assert (event.decoded("dtstart"), event.decoded("dtend")) == (
        date(2027, 1, 4),
        date(2027, 1, 5),
    )
    assert str(event["summary"]) == "Nouveaux horaires — Mairie de Ham (Ham)"
    description = str(event["description"])
    coming, current = description.split("\n\n")
    assert coming == "À partir du 04/01/2027 :\n" + HAM_WINTER.describe()
    assert current == "Jusqu'au 03/01/2027 :\n" + HAM_HOURS.describe()
    # Stamped with its declaration: the same event at every export.
    assert event.decoded("dtstamp") == SEEDED_AT


def test_ics_has_one_all_day_event_per_closure(seeded: Seeded) -> None:
    raw = directory.to_ics(seeded.entries, seeded.caf, GENERATED_AT)
    calendar = Calendar.from_ical(raw)
    assert str(calendar["prodid"]).startswith("-//Point numérique Caf//")
    assert str(calendar["version"]) == "2.0"
    assert CAF in str(calendar["x-wr-calname"])

    events = {str(event["uid"]): event for event in calendar.walk("VEVENT")}
    caf_id = seeded.caf.id
    new_year = f"closure-{seeded.closures['new_year']}@caf-{caf_id}.point-numerique-caf"
    today = f"closure-{seeded.closures['today']}@caf-{caf_id}.point-numerique-caf"
    winter = f"hours-{seeded.sites[HAM]}-20270104@caf-{caf_id}.point-numerique-caf"
    assert set(events) == {new_year, today, winter}

    event = events[new_year]
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert type(start) is date and type(end) is date  # all-day, not datetimes
    assert (start, end) == (date(2026, 12, 24), date(2027, 1, 3))  # DTEND exclusive
    assert str(event["summary"]) == "Fermeture exceptionnelle — Mairie de Ham (Ham)"
    assert str(event["location"]) == "1 place de l'Hôtel de Ville, Ham"
    assert str(event["description"]) == "Congés, pont"
    assert "VALUE=DATE" in raw.decode().replace("\r\n ", "")

    event = events[today]
    assert (event.decoded("dtstart"), event.decoded("dtend")) == (TODAY, date(2026, 12, 22))
    assert str(event["summary"]) == "Fermeture exceptionnelle — France Services Albert (Albert)"
    # The city is not repeated when the address already ends with it.
    assert str(event["location"]) == "3 rue Jeanne d'Arc, 80300 Albert"
    assert str(event["description"]) == "Panne (informatique, réseau)"

    # The same closures give the same events at the next export (a subscription updates them).
    later = directory.to_ics(seeded.entries_day_before, seeded.caf, GENERATED_AT + timedelta(1))
    again = {str(e["uid"]): e.to_ical() for e in Calendar.from_ical(later).walk("VEVENT")}
    assert {uid: e.to_ical() for uid, e in events.items()} == {uid: again[uid] for uid in events}


def test_an_empty_directory_is_still_a_calendar() -> None:
    caf = Caf(
        id=7,
        name="Caf de l'Oise",
        reporting_period=ReportingPeriod.MONTHLY,
        timezone="Europe/Paris",
        notify_chat_id=None,
        created_at=SEEDED_AT,
    )
    calendar = Calendar.from_ical(directory.to_ics([], caf, GENERATED_AT))
    assert calendar.walk("VEVENT") == []
    assert "Caf de l'Oise" in str(calendar["x-wr-calname"])
    assert json.loads(directory.to_json([], caf, GENERATED_AT))["sites"] == []
    assert directory.to_csv([]).count("\r\n") == 1


# ------------------------------------------------------------------------------ command line
@pytest.fixture(scope="module")
def cli(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The commands below, a few at a time, on a copy of the seeded database."""
    workdir = tmp_path_factory.mktemp("cli")
    for path in seeded.db_path.parent.glob("db.sqlite3*"):
        shutil.copy(path, workdir / path.name)
    published = workdir / "www" / "annuaire.ics"
    published.parent.mkdir()
    published.write_text("ancienne version")
    published.chmod(0o640)
    commands = {
        "json": ("export", "directory", "--caf", "caf de la somme", "--format", "json"),
        "csv": (
            "export",
            "directory",
            "--caf",
            CAF,
            "--format",
            "csv",
            "--output",
            "out/annuaire.csv",
        ),
        "ics": ("export", "directory", "--caf", CAF, "--format", "ics", "--output", str(published)),
        "unknown": ("export", "directory", "--caf", "Caf du Nord", "--output", "nord.json"),
        "national": (
            "export",
            "directory",
            "--caf",
            CAF,
            "--format",
            "national",
            "--output",
            "national/lieux.csv",
        ),
        "no kind": ("export",),
        "help": ("export", "directory", "--help"),
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = dict(
            zip(
                commands,
                pool.map(lambda argv: run_cli(workdir, CLI_NOW, *argv), commands.values()),
                strict=True,
            )
        )
    return {"runs": runs, "workdir": workdir, "published": published}


def test_the_command_writes_json_to_stdout_in_the_cafs_time_zone(
    cli: dict[str, Any], seeded: Seeded
) -> None:
    run: Run = cli["runs"]["json"]
    assert run.returncode == 0, run.describe()
    assert "Traceback" not in run.stderr and "Export écrit" not in run.stderr, run.describe()
    document = json.loads(run.stdout.decode("utf-8"))
    # The clock file sets 23:30 UTC on the 20th: a few seconds later, in Paris time.
    assert document["generated_at"].startswith("2026-12-21T00:3")
    assert document["generated_at"].endswith("+01:00")
    sites = {site["name"]: site for site in document["sites"]}
    assert list(sites) == ["France Services Albert", "Mairie de Ham"]
    # Already 21 December in Paris: the closure that ended on the 20th is gone.
    assert [c["start"] for c in sites["Mairie de Ham"]["closures"]] == ["2026-12-24"]
    assert sites["France Services Albert"]["closures"][0]["start"] == "2026-12-21"


def test_the_command_writes_csv_to_a_file_and_says_so_on_stderr(cli: dict[str, Any]) -> None:
    run: Run = cli["runs"]["csv"]
    assert run.returncode == 0, run.describe()
    assert run.stdout == b""
    assert run.stderr.splitlines() == [
        "Export écrit : out/annuaire.csv (annuaire de Caf de la Somme, 2 site(s), 2 fermeture(s))"
    ], run.describe()
    raw = (cli["workdir"] / "out" / "annuaire.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert [row[1] for row in rows[1:]] == ["France Services Albert", "Mairie de Ham"]


def test_the_command_replaces_a_published_file_at_once(cli: dict[str, Any]) -> None:
    run: Run = cli["runs"]["ics"]
    assert run.returncode == 0, run.describe()
    published: Path = cli["published"]
    calendar = Calendar.from_ical(published.read_bytes())
    assert len(calendar.walk("VEVENT")) == 3  # two closures, Ham's coming hours
    # The web server's permissions are kept, and no temporary file is left behind.
    assert published.stat().st_mode & 0o777 == 0o640
    assert [path.name for path in published.parent.iterdir()] == ["annuaire.ics"]


def test_an_unknown_caf_gets_one_error_line_and_no_file(cli: dict[str, Any]) -> None:
    run: Run = cli["runs"]["unknown"]
    assert run.returncode == 1, run.describe()
    assert run.stdout == b""
    assert run.stderr.splitlines() == [
        "Erreur : Caf inconnue : « Caf du Nord » (voir python -m bot cafs list)"
    ], run.describe()
    assert not (cli["workdir"] / "nord.json").exists()


def test_export_explains_itself_in_french(cli: dict[str, Any]) -> None:
    no_kind: Run = cli["runs"]["no kind"]
    assert no_kind.returncode == 2, no_kind.describe()
    assert no_kind.stderr.startswith("Erreur : ") and "EXPORT" in no_kind.stderr
    helped: Run = cli["runs"]["help"]
    assert helped.returncode == 0, helped.describe()
    text = helped.stdout.decode("utf-8")
    assert text.startswith("utilisation : python -m bot export directory")
    assert "--format {json,csv,ics,national}" in text and "--output" in text and "--caf" in text


@pytest.mark.parametrize(
    ("address", "city", "expected"),
    [
        ("1 rue de Hamel", "Ham", "1 rue de Hamel, Ham"),
        ("3 rue Jeanne d'Arc, 80300 Albert", "Albert", "3 rue Jeanne d'Arc, 80300 Albert"),
        ("", "Ham", "Ham"),
        ("1 place", "", "1 place"),
    ],
)
def test_the_location_names_the_city_once(address: str, city: str, expected: str) -> None:
    site = Partner(
        id=1,
        caf_id=1,
        name="Site",
        city=city,
        address=address,
        label_status=LabelStatus.ACTIVE,
        label_status_since=SEEDED_AT,
        label_reason=None,
        convention_start=None,
        created_at=SEEDED_AT,
    )
    assert directory.location(site) == expected


# ------------------------------------------------------------------------------ national standard
def national_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def assert_valid_national(path: Path) -> None:
    """frictionless validates the file against the standard's schema (version 1.0.2)."""
    from frictionless import Resource, Schema

    schema = Schema.from_descriptor(json.loads(SCHEMA.read_text(encoding="utf-8")))
    report = Resource(path=path.name, basepath=str(path.parent), schema=schema).validate()
    problems = report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert report.valid, problems


def test_the_national_csv_passes_the_standards_schema(seeded: Seeded, tmp_path: Path) -> None:
    changes = {seeded.sites[HAM]: datetime(2026, 12, 20, 23, 30, tzinfo=UTC)}
    made = directory_national.to_national_csv(seeded.entries, seeded.caf, changes, GENERATED_AT)
    path = tmp_path / "lieux.csv"
    path.write_text(made.text, encoding="utf-8")
    assert_valid_national(path)
    assert made.rows == 1 and made.left_out == ("France Services Albert (Albert)",)
    [ham] = national_rows(made.text)
    assert ham["pivot"] == "21800409400015" and ham["code_postal"] == "80400"
    assert ham["dispositif_programmes_nationaux"] == "Point d'accès numérique CAF"
    assert "Aide aux démarches administratives" in ham["services"].split("|")
    assert ham["source"] == CAF
    assert ham["date_maj"] == "2026-12-21"  # the last change, on the Caf's own date
    # Hours in force on TODAY, then the coming closure (24 Dec - 2 Jan); the cancelled one
    # and the past ones are not there.
    assert ham["horaires"] == (
        "Mo,Tu,Th 09:00-12:00,14:00-17:00; Fr 09:30-12:00; 2026 Dec 24-2027 Jan 02 off"
    )
    assert ham["telephone"] == "+33323810000" and ham["courriels"] == "accueil@ville-ham.fr"
    assert ham["modalites_acces"] == "Se présenter|Téléphoner|Contacter par mail"


async def test_the_last_change_of_a_site_is_its_latest_hours_closure_or_edit(
    seeded: Seeded, tmp_path: Path
) -> None:
    copy = tmp_path / "db.sqlite3"
    shutil.copy(seeded.db_path, copy)
    async with storage(copy) as db:
        before = await partners.last_changes(db, seeded.caf.id)
        assert before[seeded.sites[HAM]] == SEEDED_AT
        later = SEEDED_AT + timedelta(days=30)
        async with db.transaction() as tx:
            await closures.cancel(tx, seeded.closures["new_year"], by=None, now=later)
        after = await partners.last_changes(db, seeded.caf.id)
    assert after[seeded.sites[HAM]] == later
    assert after[seeded.sites[ALBERT]] == SEEDED_AT


def test_the_command_writes_the_national_csv_and_names_the_sites_left_out(
    cli: dict[str, Any],
) -> None:
    run: Run = cli["runs"]["national"]
    assert run.returncode == 0, run.describe()
    assert run.stderr.splitlines() == [
        "Export écrit : national/lieux.csv (annuaire de Caf de la Somme, 1 site(s), 1 fermeture(s)"
        " ; sans SIRET, code postal ou adresse : France Services Albert (Albert))"
    ], run.describe()
    path = cli["workdir"] / "national" / "lieux.csv"
    assert_valid_national(path)
    [ham] = national_rows(path.read_text(encoding="utf-8"))
    assert ham["nom"] == HAM
