"""`export indicators`: a period's Annexe 2 figures per site and for the Caf, as Excel and CSV.

One database is seeded once, through the storage functions the bot itself uses (a draft
started, then saved as a visit), so the copies migration 0008 keeps on the grid's and the
themes' rows are filled as in production. The Caf of the Somme, on Paris time, reports the
first quarter of 2026:

* Mairie de Ham: three visits in the quarter — 00:30 on 1 January (23:30 UTC the day before,
  winter time), a legal person in February, and 23:30 on 31 March (21:30 UTC, summer time);
  outside it, 00:30 on 1 April (22:30 UTC on 31 March, so the same UTC day as the last one
  in), two visits of the previous quarter (one at 23:30 on 31 December) and a training-mode
  visit, which never counts;
* France Services Albert, whose label was withdrawn since: two visits, so it is listed;
* a site whose name is a formula and HTML, with no visit: listed with zeros;
* Ancien site de Roye, withdrawn, with a visit last summer only: not listed;
* and the Caf de l'Aisne's Mairie de Laon, with a visit that must show nowhere.

Every expected figure below was counted by hand from the visits listed in VISITS.
"""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from bot.domain import taxonomy
from bot.domain.indicators import Indicators
from bot.domain.models import Caf, ReportingPeriod
from bot.domain.periods import parse_period
from bot.domain.permissions import LabelStatus, Role
from bot.domain.visits import Answers, Draft, RequestAnswer
from bot.exports import indicators
from bot.exports.indicators import IndicatorReport
from bot.services import national_indicators
from storage import cafs, invitations, partners, people
from storage import visits as visit_storage
from storage.setup import storage
from tests.cli_runner import Run, run_cli

PARIS = ZoneInfo("Europe/Paris")
CAF = "Caf de la Somme"
OTHER_CAF = "Caf de l'Aisne"
SEEDED_AT = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
CLI_NOW = datetime(2026, 4, 3, 7, 15, tzinfo=UTC)  # 09:15 in Paris
EXPORTED_AT = datetime(2026, 4, 2, 14, 5, tzinfo=UTC)  # 16:05 in Paris
QUARTER = parse_period("2026-Q1")

HAM = "Mairie de Ham"
ALBERT = "France Services Albert"
ROYE = "Ancien site de Roye"
LAON = "Mairie de Laon"
# What a malicious or careless name could do in Excel, in a sheet name, or in HTML.
TRAP = "=cmd|' /C calc'!A0 <b>Péronne</b>"
# name, city, Caf, label withdrawn?
SITES = (
    (HAM, "Ham", CAF, False),
    (ALBERT, "Albert", CAF, True),
    (TRAP, "Péronne", CAF, False),
    (ROYE, "Roye", CAF, True),
    (LAON, "Laon", OTHER_CAF, False),
)


@dataclass(frozen=True)
class Visit:
    site: str
    at: datetime  # Paris wall-clock time
    sexe: str
    age: str | None
    statut: str
    autonomie: str
    requests: tuple[tuple[str, tuple[str, ...]], ...]
    themes: tuple[str, ...]
    resolution: str
    training: bool = False


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


VISITS = (
    # In the quarter: Ham
    Visit(HAM, paris(2026, 1, 1, 0, 30), "femme", "25_60", "allocataire", "debutant",
          (("simulation", ("info_conseil", "accompagnement_en_ligne")),
           ("paiements", ("explication_courrier",))),
          ("logement_cadre_de_vie", "petite_enfance"), "oui"),
    Visit(HAM, paris(2026, 2, 10, 10), "personne_morale", None, "non_allocataire", "autonome",
          (("attestations", ("usage_autonome",)),), (), "partiellement"),
    Visit(HAM, paris(2026, 3, 31, 23, 30), "homme", "plus_60", "allocataire", "intermediaire",
          (("demande_prestation", ("aide_redactionnelle", "accompagnement_demarche",
                                   "orientation")),),
          ("solidarite_insertion",), "non"),
    # In the quarter: Albert
    Visit(ALBERT, paris(2026, 3, 2, 14), "femme", "moins_25", "non_allocataire", "debutant",
          (("coordonnees", ("info_conseil",)),
           ("situation_familiale", ("info_conseil", "orientation"))),
          ("enfance_jeunesse",), "oui"),
    Visit(ALBERT, paris(2026, 1, 20, 9), "personne_morale", None, "allocataire",
          "intermediaire", (("simulation", ("info_conseil",)),), ("logement_cadre_de_vie",),
          "oui"),
    # Not in the quarter's figures
    Visit(HAM, paris(2026, 4, 1, 0, 30), "femme", "moins_25", "allocataire", "debutant",
          (("simulation", ("info_conseil",)),), ("enfance_jeunesse",), "oui"),
    Visit(HAM, paris(2026, 2, 11, 15), "homme", "moins_25", "non_allocataire", "debutant",
          (("agenda", ("usage_autonome",)),), ("petite_enfance",), "non", training=True),
    Visit(ROYE, paris(2025, 8, 12, 10), "femme", "25_60", "allocataire", "autonome",
          (("paiements", ("info_conseil",)),), (), "oui"),
    Visit(LAON, paris(2026, 2, 10, 11), "homme", "25_60", "allocataire", "autonome",
          (("simulation", ("info_conseil",)),), ("logement_cadre_de_vie",), "oui"),
    # The previous quarter, for the comparison: Ham
    Visit(HAM, paris(2025, 12, 31, 23, 30), "femme", "25_60", "allocataire", "autonome",
          (("paiements", ("info_conseil",)),), (), "oui"),
    Visit(HAM, paris(2025, 11, 15, 10), "homme", "plus_60", "allocataire", "debutant",
          (("agenda", ("orientation",)),), (), "non"),
)  # fmt: skip


@dataclass(frozen=True)
class Expected:
    """Figures counted by hand; only what is not zero is written."""

    visits: int
    profile: dict[str, dict[str, int]]  # the profile questions and the resolution
    age_not_asked: int
    cells: dict[tuple[str, str], int]
    requests: dict[str, int]
    request_resolution: dict[str, dict[str, int]]
    themes: dict[str, int]
    action_totals: dict[str, int] = field(default_factory=dict)

    def profile_full(self) -> dict[str, dict[str, int]]:
        questions = (*taxonomy.PROFILE, taxonomy.RESOLUTION)
        return {
            q.code: {o: self.profile.get(q.code, {}).get(o, 0) for o in q.codes} for q in questions
        }

    def cell(self, request: str, action: str) -> int:
        return self.cells.get((request, action), 0)


EXPECTED_HAM = Expected(
    visits=3,
    profile={
        "sexe": {"femme": 1, "homme": 1, "personne_morale": 1},
        "age": {"25_60": 1, "plus_60": 1},
        "statut": {"allocataire": 2, "non_allocataire": 1},
        "autonomie": {"debutant": 1, "intermediaire": 1, "autonome": 1},
        "resolution": {"oui": 1, "non": 1, "partiellement": 1},
    },
    age_not_asked=1,
    cells={
        ("simulation", "info_conseil"): 1,
        ("simulation", "accompagnement_en_ligne"): 1,
        ("paiements", "explication_courrier"): 1,
        ("attestations", "usage_autonome"): 1,
        ("demande_prestation", "aide_redactionnelle"): 1,
        ("demande_prestation", "accompagnement_demarche"): 1,
        ("demande_prestation", "orientation"): 1,
    },
    requests={"simulation": 1, "paiements": 1, "attestations": 1, "demande_prestation": 1},
    request_resolution={
        "simulation": {"oui": 1},
        "paiements": {"oui": 1},
        "attestations": {"partiellement": 1},
        "demande_prestation": {"non": 1},
    },
    themes={"logement_cadre_de_vie": 1, "petite_enfance": 1, "solidarite_insertion": 1},
    action_totals={
        "info_conseil": 1,
        "orientation": 1,
        "aide_redactionnelle": 1,
        "explication_courrier": 1,
        "accompagnement_demarche": 1,
        "accompagnement_en_ligne": 1,
        "usage_autonome": 1,
    },
)
EXPECTED_ALBERT = Expected(
    visits=2,
    profile={
        "sexe": {"femme": 1, "personne_morale": 1},
        "age": {"moins_25": 1},
        "statut": {"allocataire": 1, "non_allocataire": 1},
        "autonomie": {"debutant": 1, "intermediaire": 1},
        "resolution": {"oui": 2},
    },
    age_not_asked=1,
    cells={
        ("coordonnees", "info_conseil"): 1,
        ("situation_familiale", "info_conseil"): 1,
        ("situation_familiale", "orientation"): 1,
        ("simulation", "info_conseil"): 1,
    },
    requests={"coordonnees": 1, "situation_familiale": 1, "simulation": 1},
    request_resolution={
        "coordonnees": {"oui": 1},
        "situation_familiale": {"oui": 1},
        "simulation": {"oui": 1},
    },
    themes={"enfance_jeunesse": 1, "logement_cadre_de_vie": 1},
    action_totals={"info_conseil": 3, "orientation": 1},
)
EXPECTED_NONE = Expected(0, {}, 0, {}, {}, {}, {})
EXPECTED_CAF = Expected(
    visits=5,
    profile={
        "sexe": {"femme": 2, "homme": 1, "personne_morale": 2},
        "age": {"moins_25": 1, "25_60": 1, "plus_60": 1},
        "statut": {"allocataire": 3, "non_allocataire": 2},
        "autonomie": {"debutant": 2, "intermediaire": 2, "autonome": 1},
        "resolution": {"oui": 3, "non": 1, "partiellement": 1},
    },
    age_not_asked=2,
    cells={
        ("simulation", "info_conseil"): 2,
        ("simulation", "accompagnement_en_ligne"): 1,
        ("paiements", "explication_courrier"): 1,
        ("attestations", "usage_autonome"): 1,
        ("demande_prestation", "aide_redactionnelle"): 1,
        ("demande_prestation", "accompagnement_demarche"): 1,
        ("demande_prestation", "orientation"): 1,
        ("coordonnees", "info_conseil"): 1,
        ("situation_familiale", "info_conseil"): 1,
        ("situation_familiale", "orientation"): 1,
    },
    requests={
        "simulation": 2,
        "paiements": 1,
        "attestations": 1,
        "demande_prestation": 1,
        "coordonnees": 1,
        "situation_familiale": 1,
    },
    request_resolution={
        "simulation": {"oui": 2},
        "paiements": {"oui": 1},
        "attestations": {"partiellement": 1},
        "demande_prestation": {"non": 1},
        "coordonnees": {"oui": 1},
        "situation_familiale": {"oui": 1},
    },
    themes={
        "enfance_jeunesse": 1,
        "logement_cadre_de_vie": 2,
        "petite_enfance": 1,
        "solidarite_insertion": 1,
    },
    action_totals={
        "info_conseil": 4,
        "orientation": 2,
        "aide_redactionnelle": 1,
        "explication_courrier": 1,
        "accompagnement_demarche": 1,
        "accompagnement_en_ligne": 1,
        "usage_autonome": 1,
    },
)
# The fourth quarter of 2025 (Ham's two visits): one resolved « oui » of two.
PREVIOUS_CAF = {"visits": 2, "oui": 1, "non": 1, "paiements": 1, "agenda": 1}


@dataclass(frozen=True)
class Seeded:
    db_path: Path
    caf: Caf
    sites: dict[str, int]
    report: IndicatorReport
    ham_report: IndicatorReport
    stored_instants: list[str]


def _answers(visit: Visit) -> Answers:
    return Answers(
        sexe=visit.sexe,
        age=visit.age,
        statut=visit.statut,
        autonomie=visit.autonomie,
        requests=[RequestAnswer(demande=d, actions=list(a)) for d, a in visit.requests],
        themes=list(visit.themes),
        themes_done=True,
        resolution=visit.resolution,
    )


async def _seed(db_path: Path) -> Seeded:
    now = SEEDED_AT
    async with storage(db_path) as db:
        async with db.transaction() as tx:
            caf_ids = {}
            for name in (CAF, OTHER_CAF):
                caf = await cafs.add(
                    tx,
                    name=name,
                    period=ReportingPeriod.QUARTERLY,
                    timezone="Europe/Paris",
                    notify_chat_id=None,
                    now=now - timedelta(days=400),
                )
                caf_ids[name] = caf.id
            site_ids, agents = {}, {}
            for number, (name, city, caf_name, withdrawn) in enumerate(SITES, start=1):
                site = await partners.add(
                    tx, caf_id=caf_ids[caf_name], name=name, city=city, address="", now=now
                )
                site_ids[name] = site.id
                _, invitation = await invitations.create(
                    tx,
                    role=Role.AGENT,
                    caf_id=caf_ids[caf_name],
                    partner_id=site.id,
                    uses=1,
                    expires_at=now + timedelta(days=7),
                    created_by=None,
                    now=now,
                )
                agent = await people.register(
                    tx,
                    telegram_user_id=5000 + number,
                    display_name=f"Agent {city}",
                    invitation=invitation,
                    now=now,
                )
                agents[name] = agent.id
                if withdrawn:
                    await partners.set_label(
                        tx,
                        site.id,
                        status=LabelStatus.WITHDRAWN,
                        reason="Fin de convention",
                        now=now,
                        by=None,
                    )
        # One visit a transaction, as the bot saves them: a draft, then the visit.
        for visit in VISITS:
            caf_name = next(caf for name, _, caf, _ in SITES if name == visit.site)
            async with db.transaction() as tx:
                record = await visit_storage.start_draft(
                    tx,
                    person_id=agents[visit.site],
                    partner_id=site_ids[visit.site],
                    chat_id=5000,
                    training=visit.training,
                    draft=Draft(),
                    now=now,
                )
                saved = await visit_storage.save_visit(
                    tx,
                    record,
                    _answers(visit),
                    caf_id=caf_ids[caf_name],
                    visited_at=visit.at,
                    now=now,
                )
                assert saved is not None
        caf = await cafs.get(db, caf_ids[CAF])
        assert caf is not None
        stored = [
            row[0]
            for row in await db.fetch_all(
                "SELECT visited_at FROM visits WHERE partner_id = :ham ORDER BY visited_at",
                {"ham": site_ids[HAM]},
            )
        ]
        async with db.read() as snapshot:
            report = await indicators.collect(snapshot, caf, QUARTER)
            ham_report = await indicators.collect(snapshot, caf, QUARTER, partner_id=site_ids[HAM])
    return Seeded(db_path, caf, site_ids, report, ham_report, stored)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return asyncio.run(_seed(tmp_path_factory.mktemp("indicators") / "db.sqlite3"))


def assert_figures(figures: Indicators, expected: Expected) -> None:
    assert figures.visits == expected.visits
    assert figures.profile == expected.profile_full()
    assert figures.age_not_asked == expected.age_not_asked
    assert figures.matrix == {
        (r, a): expected.cell(r, a) for r in taxonomy.DEMANDE.codes for a in taxonomy.ACTION.codes
    }
    assert figures.requests == {r: expected.requests.get(r, 0) for r in taxonomy.DEMANDE.codes}
    assert figures.request_resolution == {
        r: {s: expected.request_resolution.get(r, {}).get(s, 0) for s in taxonomy.RESOLUTION.codes}
        for r in taxonomy.DEMANDE.codes
    }
    assert figures.themes == {t: expected.themes.get(t, 0) for t in taxonomy.THEME.codes}
    assert figures.action_totals() == {
        a: expected.action_totals.get(a, 0) for a in taxonomy.ACTION.codes
    }


# ------------------------------------------------------------------------------ collect
def test_visits_are_stored_in_utc_either_side_of_summer_time(seeded: Seeded) -> None:
    """The quarter's edges in UTC: 1 January 00:30 is still 2025 there, and 31 March 23:30
    (in) and 1 April 00:30 (out) are both on 31 March in UTC."""
    assert seeded.stored_instants == [
        "2025-11-15T09:00:00+00:00",
        "2025-12-31T22:30:00+00:00",
        "2025-12-31T23:30:00+00:00",
        "2026-02-10T09:00:00+00:00",
        "2026-03-31T21:30:00+00:00",
        "2026-03-31T22:30:00+00:00",
    ]


def test_every_site_of_the_caf_is_listed_by_name_withdrawn_ones_only_with_visits(
    seeded: Seeded,
) -> None:
    listed = [site.name for site, _ in seeded.report.sites]
    # « = » sorts before letters; Roye (withdrawn, no visit) and Laon (other Caf) are absent.
    assert listed == [TRAP, ALBERT, HAM]
    assert seeded.report.caf.name == CAF and seeded.report.period == QUARTER
    assert seeded.report.whole_caf


def test_collect_counts_each_site_as_counted_by_hand(seeded: Seeded) -> None:
    figures = {site.name: site_figures for site, site_figures in seeded.report.sites}
    assert_figures(figures[HAM], EXPECTED_HAM)
    assert_figures(figures[ALBERT], EXPECTED_ALBERT)
    assert_figures(figures[TRAP], EXPECTED_NONE)


def test_collect_sums_the_caf_and_its_previous_quarter(seeded: Seeded) -> None:
    assert_figures(seeded.report.total, EXPECTED_CAF)
    previous = seeded.report.previous
    assert previous.visits == PREVIOUS_CAF["visits"]
    assert previous.resolution == {"oui": 1, "non": 1, "partiellement": 0}
    assert {r: n for r, n in previous.requests.items() if n} == {"paiements": 1, "agenda": 1}
    by_site = seeded.report.previous_sites
    assert by_site[seeded.sites[HAM]].visits == 2
    assert by_site[seeded.sites[ALBERT]].visits == 0
    assert seeded.sites[ROYE] not in by_site


def test_one_site_is_collected_alone_with_its_own_previous_quarter(seeded: Seeded) -> None:
    report = seeded.ham_report
    assert not report.whole_caf
    assert [site.name for site, _ in report.sites] == [HAM]
    assert_figures(report.sites[0][1], EXPECTED_HAM)
    assert_figures(report.total, EXPECTED_HAM)
    assert report.previous.visits == 2


async def test_a_site_of_another_caf_is_refused(seeded: Seeded) -> None:
    async with storage(seeded.db_path) as db, db.read() as snapshot:
        with pytest.raises(LookupError, match="n'est pas un site de Caf de la Somme"):
            await indicators.collect(snapshot, seeded.caf, QUARTER, partner_id=seeded.sites[LAON])
        # Local days: the last evening of March is March's, the first night of April April's.
        last_day = await indicators.collect(
            snapshot,
            seeded.caf,
            parse_period("2026-03-31..2026-03-31"),
            partner_id=seeded.sites[HAM],
        )
        april = await indicators.collect(snapshot, seeded.caf, parse_period("2026-04"))
    assert last_day.total.visits == 1 and last_day.total.profile["sexe"]["homme"] == 1
    assert april.total.visits == 1 and april.total.profile["age"]["moins_25"] == 1


def test_file_names_are_ascii_and_say_caf_site_and_period(seeded: Seeded) -> None:
    assert indicators.filename(seeded.report, "xlsx") == "indicateurs-caf-de-la-somme-2026-Q1.xlsx"
    assert (
        indicators.filename(seeded.ham_report, ".csv")
        == "indicateurs-caf-de-la-somme-mairie-de-ham-2026-Q1.csv"
    )


# ------------------------------------------------------------------------------ XLSX
@pytest.fixture(scope="module")
def workbook(seeded: Seeded) -> Any:
    raw = indicators.to_xlsx(
        seeded.report,
        exported_at=EXPORTED_AT,
        exported_by="Claire (coordinatrice)",
        command="python -m bot export indicators --caf 'Caf de la Somme' --period 2026-Q1",
    )
    return load_workbook(io.BytesIO(raw))


Block = list[list[Cell]]


def blocks(sheet: Worksheet) -> dict[str, Block]:
    """The sheet's blocks (runs of rows between blank rows), by their first cell's text."""
    found: dict[str, Block] = {}
    current: Block = []
    for row in [*sheet.iter_rows(), ()]:
        if all(cell.value is None for cell in row):
            if current:
                found[current[0][0].value] = current
            current = []
        else:
            current.append(list(row))
    return found


def values(row: list[Cell], width: int | None = None) -> list[Any]:
    return [cell.value for cell in row[:width]]


def labelled(block: Block, width: int) -> dict[str, list[Any]]:
    """Each row of a table by its label (column A), its figures after it."""
    return {row[0].value: values(row, width)[1:] for row in block[1:]}


def test_sheets_are_the_caf_then_each_site_then_export(workbook: Any) -> None:
    names = workbook.sheetnames
    assert names[0] == "Caf" and names[-1] == "Export"
    assert names[2:4] == [ALBERT, HAM]
    assert len(names) == 5 and len({name.casefold() for name in names}) == 5
    for name in names:
        assert len(name) <= 31
        assert not set(name) & set("[]:*?/\\") and not name.startswith("'")
    assert names[1].startswith("=cmd|")


def test_the_caf_sheet_opens_with_the_period_and_the_comparison(workbook: Any) -> None:
    sheet = workbook["Caf"]
    assert sheet.freeze_panes == "B2"
    assert sheet.column_dimensions["A"].width >= 40
    parts = blocks(sheet)
    title = parts[CAF]
    assert title[0][0].font.b and title[0][0].font.sz == 14
    head = {row[0].value: row[1].value for row in title[2:]}
    assert head["Période"] == "1er trimestre 2026 (du 1er janvier 2026 au 31 mars 2026)"
    assert head["Visites"] == 5
    assert head["Sites"] == 3

    comparison = parts["Comparaison"]
    assert values(comparison[0], 4) == [
        "Comparaison",
        "1er trimestre 2026",
        "4e trimestre 2025",
        "Évolution",
    ]
    rows = labelled(comparison, 4)
    assert rows["Visites"] == [5, 2, pytest.approx(1.5)]
    assert rows["Demandes résolues (part des visites)"] == [
        pytest.approx(0.6),
        pytest.approx(0.5),
        pytest.approx(10.0),  # points
    ]
    assert comparison[1][3].number_format.startswith("+0.0%")
    assert comparison[2][1].number_format == "0.0%"
    assert '" pt"' in comparison[2][3].number_format


def _check_sheet(sheet: Worksheet, expected: Expected) -> None:
    """Every figure of one sheet against the hand counts."""
    parts = blocks(sheet)
    visits = expected.visits

    def share(count: int) -> Any:
        return pytest.approx(count / visits) if visits else None

    profile = parts["Profil de l'usager"]
    assert values(profile[0], 3) == ["Profil de l'usager", "Visites", "%"]
    assert all(cell.font.b for cell in profile[0][:3])
    found: dict[tuple[str, str], list[Any]] = {}
    question = ""
    for row in profile[1:]:
        if row[1].value is None:
            question = row[0].value
            assert row[0].font.b
        else:
            found[(question, row[0].value)] = values(row, 3)[1:]
            assert row[2].number_format == "0.0%" or row[2].value is None
    wanted: dict[tuple[str, str], list[Any]] = {}
    full = expected.profile_full()
    for q in taxonomy.PROFILE:
        for option in q.options:
            count = full[q.code][option.code]
            wanted[(q.label, option.label)] = [count, share(count)]
    wanted[("Âge", "Sans objet (personne morale)")] = [
        expected.age_not_asked,
        share(expected.age_not_asked),
    ]
    assert found == wanted

    grid = parts["Demande \\ Actions du partenaire"]
    actions = taxonomy.ACTION.options
    width = 1 + len(actions) + 2
    assert values(grid[0], width) == [
        "Demande \\ Actions du partenaire",
        *(action.label for action in actions),
        "Total des actions",
        "Visites",
    ]
    rows = labelled(grid, width)
    for group in taxonomy.REQUEST_GROUPS:
        assert rows[group.label] == [None] * (width - 1)  # a heading, as in Annexe 2
        for request in group.options:
            cells = [expected.cell(request.code, action.code) for action in actions]
            assert rows[request.label] == [
                *cells,
                sum(cells),
                expected.requests.get(request.code, 0),
            ], request.code
    totals = [expected.action_totals.get(action.code, 0) for action in actions]
    assert rows["Total"] == [*totals, sum(totals), sum(expected.requests.values())]
    assert sum(totals) == sum(expected.cells.values())
    # Groups in the order of Annexe 2, each heading right before its request types.
    labels = [row[0].value for row in grid[1:]]
    assert labels.index("Accès aux droits") < labels.index("Simulation")
    assert labels.index("Suivi dossier via mon compte") == labels.index("Paiements") - 1
    assert labels.index("Changements de situation") < labels.index("Coordonnées (dont RIB)")

    themes = labelled(parts["Thématiques"], 3)
    for theme in taxonomy.THEME.options:
        count = expected.themes.get(theme.code, 0)
        assert themes[theme.label] == [count, share(count)]

    resolution = labelled(parts["Demande résolue"], 3)
    for option in taxonomy.RESOLUTION.options:
        count = full["resolution"][option.code]
        assert resolution[option.label] == [count, share(count)]

    by_request = parts["Demande résolue par type de demande"]
    assert values(by_request[0], 6) == [
        "Demande résolue par type de demande",
        "Oui",
        "Non",
        "Partiellement",
        "Visites",
        "Part résolue (oui)",
    ]
    rows = labelled(by_request, 6)
    for request in taxonomy.DEMANDE.options:
        counts = expected.request_resolution.get(request.code, {})
        n = expected.requests.get(request.code, 0)
        assert rows[request.label] == [
            counts.get("oui", 0),
            counts.get("non", 0),
            counts.get("partiellement", 0),
            n,
            pytest.approx(counts.get("oui", 0) / n) if n else None,
        ], request.code


def test_a_site_sheet_matches_the_hand_counts_cell_by_cell(workbook: Any) -> None:
    sheet = workbook[HAM]
    parts = blocks(sheet)
    head = {row[0].value: row[1].value for row in parts[HAM][2:]}
    assert head == {
        "Période": "1er trimestre 2026 (du 1er janvier 2026 au 31 mars 2026)",
        "Caf": CAF,
        "Ville": "Ham",
        "Visites": 3,
    }
    comparison = labelled(parts["Comparaison"], 4)
    assert comparison["Visites"] == [3, 2, pytest.approx(0.5)]
    assert comparison["Demandes résolues (part des visites)"] == [
        pytest.approx(1 / 3),
        pytest.approx(0.5),
        pytest.approx(-50 / 3),
    ]
    _check_sheet(sheet, EXPECTED_HAM)


def test_the_caf_sheet_and_the_other_sites_match_too(workbook: Any) -> None:
    _check_sheet(workbook["Caf"], EXPECTED_CAF)
    _check_sheet(workbook[ALBERT], EXPECTED_ALBERT)
    albert = blocks(workbook[ALBERT])
    assert {row[0].value: row[1].value for row in albert[ALBERT][2:]}["Label"] == "retiré"
    # No visit in the previous quarter: no change to compute rather than a false +100 %.
    assert labelled(albert["Comparaison"], 4)["Visites"] == [2, 0, None]
    _check_sheet(workbook[workbook.sheetnames[1]], EXPECTED_NONE)


def test_a_site_named_like_a_formula_stays_text(workbook: Any) -> None:
    sheet = workbook[workbook.sheetnames[1]]
    assert (sheet["A1"].value, sheet["A1"].data_type) == (TRAP, "s")
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_the_export_sheet_says_who_when_which_days_and_how(workbook: Any) -> None:
    sheet = workbook["Export"]
    about = {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}
    assert about["Caf"] == CAF
    assert about["Exporté par"] == "Claire (coordinatrice)"
    assert about["Exporté le"] == datetime(2026, 4, 2, 16, 5)  # Paris, summer time
    assert about["Du"] == datetime(2026, 1, 1) and about["Au (inclus)"] == datetime(2026, 3, 31)
    assert about["Période"] == "1er trimestre 2026 (du 1er janvier 2026 au 31 mars 2026)"
    assert about["Commande"].startswith("python -m bot export indicators")
    assert "mode formation" in about["Visites en mode formation"]
    assert about["Visites en mode formation"].startswith("exclues")
    assert about["Fuseau horaire"].startswith("Europe/Paris")
    assert about["Périmètre"] == "tous les sites de la Caf (3)"
    formats = {row[0].value: row[1].number_format for row in sheet.iter_rows()}
    assert formats["Du"] == formats["Au (inclus)"] == "dd/mm/yyyy"
    assert formats["Exporté le"] == "dd/mm/yyyy hh:mm"


def test_one_site_gives_its_sheet_alone(seeded: Seeded) -> None:
    raw = indicators.to_xlsx(seeded.ham_report, exported_at=EXPORTED_AT, exported_by="x")
    book = load_workbook(io.BytesIO(raw))
    assert book.sheetnames == [HAM, "Export"]
    comparison = labelled(blocks(book[HAM])["Comparaison"], 4)
    assert comparison["Visites"] == [3, 2, pytest.approx(0.5)]
    _check_sheet(book[HAM], EXPECTED_HAM)
    about = {row[0]: row[1] for row in book["Export"].iter_rows(values_only=True)}
    assert "Commande" not in about and about["Périmètre"] == "un site : Mairie de Ham (Ham)"


# ------------------------------------------------------------------------------ CSV
def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))


def csv_figures(rows: list[list[str]], site_id: str) -> dict[tuple[str, str], int]:
    return {(row[3], row[4]): int(row[5]) for row in rows[1:] if row[1] == site_id}


def expected_csv(expected: Expected) -> dict[tuple[str, str], int]:
    figures: dict[tuple[str, str], int] = {("visites", ""): expected.visits}
    for question, counts in expected.profile_full().items():
        for option, count in counts.items():
            figures[(question, option)] = count
    figures[("age", "sans_objet")] = expected.age_not_asked
    for request in taxonomy.DEMANDE.codes:
        for action in taxonomy.ACTION.codes:
            figures[("demande_action", f"{request}×{action}")] = expected.cell(request, action)
        figures[("demande", request)] = expected.requests.get(request, 0)
        for resolution in taxonomy.RESOLUTION.codes:
            count = expected.request_resolution.get(request, {}).get(resolution, 0)
            figures[("demande_resolution", f"{request}×{resolution}")] = count
    for theme in taxonomy.THEME.codes:
        figures[("theme", theme)] = expected.themes.get(theme, 0)
    return figures


def test_the_csv_is_long_form_for_french_excel(seeded: Seeded) -> None:
    text = indicators.to_csv(seeded.report)
    assert text.startswith("\ufeff") and text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    rows = read_csv(text)
    assert rows[0] == ["periode", "site_id", "site", "indicateur", "modalite", "valeur", "libelle"]
    assert {row[0] for row in rows[1:]} == {"2026-Q1"}
    # The Caf's lines first (no site id), then each site in the sheets' order.
    order = list(dict.fromkeys(row[1] for row in rows[1:]))
    ids = seeded.sites
    assert order == ["", str(ids[TRAP]), str(ids[ALBERT]), str(ids[HAM])]
    assert csv_figures(rows, "") == expected_csv(EXPECTED_CAF)
    assert csv_figures(rows, str(ids[HAM])) == expected_csv(EXPECTED_HAM)
    assert csv_figures(rows, str(ids[ALBERT])) == expected_csv(EXPECTED_ALBERT)
    assert csv_figures(rows, str(ids[TRAP])) == expected_csv(EXPECTED_NONE)
    per_scope = len(expected_csv(EXPECTED_NONE))
    assert len(rows) == 1 + 4 * per_scope
    by_key = {(row[1], row[3], row[4]): row for row in rows}
    assert by_key[("", "visites", "")][2] == CAF
    cell = by_key[(str(ids[HAM]), "demande_action", "simulation×accompagnement_en_ligne")]
    assert cell[6] == "Simulation × Accomp. démarche en ligne / promo caf.fr"
    assert by_key[(str(ids[HAM]), "age", "sans_objet")][6] == "Âge : Sans objet (personne morale)"
    for hidden in (LAON, ROYE, "Laon"):
        assert hidden not in text


def test_a_name_excel_would_run_gets_an_apostrophe_in_the_csv(seeded: Seeded) -> None:
    rows = read_csv(indicators.to_csv(seeded.report))
    trap_rows = [row for row in rows if row[1] == str(seeded.sites[TRAP])]
    assert trap_rows and {row[2] for row in trap_rows} == {"'" + TRAP}


def test_one_site_csv_has_its_lines_only(seeded: Seeded) -> None:
    rows = read_csv(indicators.to_csv(seeded.ham_report))
    assert {row[1] for row in rows[1:]} == {str(seeded.sites[HAM])}
    assert csv_figures(rows, str(seeded.sites[HAM])) == expected_csv(EXPECTED_HAM)


# ------------------------------------------------------------------------------ command line
@pytest.fixture(scope="module")
def cli(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The commands below, all at once, on a copy of the seeded database."""
    workdir = tmp_path_factory.mktemp("cli")
    for path in seeded.db_path.parent.glob("db.sqlite3*"):
        shutil.copy(path, workdir / path.name)
    ham, laon = str(seeded.sites[HAM]), str(seeded.sites[LAON])
    base = ("export", "indicators", "--caf", CAF)
    commands = {
        "xlsx": (*base, "--period", "2026-q1", "--output", "out/ind.xlsx"),
        "csv": (*base, "--period", "2026-Q1", "--format", "csv"),
        "partner": (*base, "--period", "2026-Q1", "--format", "csv", "--partner", ham),
        "bad period": (*base, "--period", "2026-13", "--output", "bad.xlsx"),
        "other caf": (*base, "--period", "2026-Q1", "--partner", laon, "--output", "x.xlsx"),
        "no period": (*base, "--format", "csv"),
        "all csv": ("export", "indicators", "--all-cafs", "--period", "2026-Q1", "--format", "csv"),
        "all xlsx": (
            "export",
            "indicators",
            "--all-cafs",
            "--period",
            "2026-Q1",
            "--output",
            "n.xlsx",
        ),
        "all and caf": (*base, "--all-cafs", "--period", "2026-Q1", "--format", "csv"),
        "no caf": ("export", "indicators", "--period", "2026-Q1", "--format", "csv"),
    }
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        runs = dict(
            zip(
                commands,
                pool.map(lambda argv: run_cli(workdir, CLI_NOW, *argv), commands.values()),
                strict=True,
            )
        )
    return {"runs": runs, "workdir": workdir}


def test_the_command_writes_the_workbook_and_says_so(cli: dict[str, Any]) -> None:
    run: Run = cli["runs"]["xlsx"]
    assert run.returncode == 0, run.describe()
    assert run.stdout == b""
    assert run.stderr.splitlines() == [
        "Export écrit : out/ind.xlsx (indicateurs de Caf de la Somme, 1er trimestre 2026, "
        "3 site(s), 5 visite(s))"
    ], run.describe()
    book = load_workbook(cli["workdir"] / "out" / "ind.xlsx")
    assert book.sheetnames[0] == "Caf" and book.sheetnames[-1] == "Export"
    _check_sheet(book[HAM], EXPECTED_HAM)
    about = {row[0]: row[1] for row in book["Export"].iter_rows(values_only=True)}
    assert about["Commande"] == (
        "python -m bot export indicators --caf 'Caf de la Somme' --period 2026-Q1 "
        "--format xlsx --output out/ind.xlsx"
    )
    assert "ligne de commande" in about["Exporté par"]
    exported = about["Exporté le"]
    assert datetime(2026, 4, 3, 9, 15) <= exported < datetime(2026, 4, 3, 9, 20)


def test_the_command_writes_the_csv_to_stdout(cli: dict[str, Any], seeded: Seeded) -> None:
    run: Run = cli["runs"]["csv"]
    assert run.returncode == 0, run.describe()
    assert run.stderr == "", run.describe()
    assert run.stdout.decode("utf-8") == indicators.to_csv(seeded.report)
    partner: Run = cli["runs"]["partner"]
    assert partner.returncode == 0, partner.describe()
    assert partner.stdout.decode("utf-8") == indicators.to_csv(seeded.ham_report)


def test_a_bad_period_or_another_cafs_site_is_one_french_line(
    cli: dict[str, Any], seeded: Seeded
) -> None:
    bad: Run = cli["runs"]["bad period"]
    assert bad.returncode == 1, bad.describe()
    assert bad.stdout == b""
    assert bad.stderr.splitlines() == [
        "Erreur : --period : mois inconnu : 2026-13 "
        "(attendu : 2026-10, 2026-Q3, 2026 ou 2026-01-01..2026-03-31)"
    ], bad.describe()
    other: Run = cli["runs"]["other caf"]
    assert other.returncode == 1, other.describe()
    assert other.stderr.splitlines() == [
        f"Erreur : le site {seeded.sites[LAON]} n'est pas un site de {CAF}"
    ], other.describe()
    for name in ("bad.xlsx", "x.xlsx"):
        assert not (cli["workdir"] / name).exists()
    missing: Run = cli["runs"]["no period"]
    assert missing.returncode == 2 and "--period" in missing.stderr, missing.describe()
    assert missing.stderr.startswith("Erreur : ")


def test_period_helpers_cover_every_written_form() -> None:
    assert indicators.period_text(parse_period("2026-03-31..2026-04-02")) == (
        "du 31 mars 2026 au 2 avril 2026"
    )
    assert indicators.period_text(parse_period("2026-10")) == (
        "octobre 2026 (du 1er octobre 2026 au 31 octobre 2026)"
    )


# ------------------------------------------------------------------------------ every Caf
def national_lines(rows: list[list[str]]) -> dict[str, dict[str, int]]:
    """Caf name → column code → figure, from the national CSV."""
    header = rows[0]
    return {
        row[2]: {code: int(v) for code, v in zip(header[3:], row[3:], strict=True)}
        for row in rows[1:]
    }


def test_all_cafs_gives_one_line_per_caf_each_counted_as_its_own_export(
    cli: dict[str, Any], seeded: Seeded
) -> None:
    run: Run = cli["runs"]["all csv"]
    assert run.returncode == 0, run.describe()
    text = run.stdout.decode("utf-8")
    assert text.startswith("\ufeff") and text.endswith("\r\n")
    rows = read_csv(text)
    codes = [code for code, _ in national_indicators.columns()]
    assert rows[0] == ["periode", "caf_id", "caf", *codes]
    assert [row[2] for row in rows[1:]] == [OTHER_CAF, CAF]  # name order
    assert {row[0] for row in rows[1:]} == {"2026-Q1"}
    lines = national_lines(rows)
    # The Somme's line is its own export's Caf total, figure for figure.
    somme = dict(zip(codes, national_indicators.figures_of(seeded.report.total), strict=True))
    assert lines[CAF] == somme
    assert somme["visites"] == EXPECTED_CAF.visits and somme["age:sans_objet"] == 2
    # The Aisne: Laon's one visit of the quarter.
    aisne = {code: n for code, n in lines[OTHER_CAF].items() if n}
    assert aisne == {
        "visites": 1,
        "sexe:homme": 1,
        "age:25_60": 1,
        "statut:allocataire": 1,
        "autonomie:autonome": 1,
        "demande:simulation": 1,
        "theme:logement_cadre_de_vie": 1,
        "resolution:oui": 1,
    }


def test_all_cafs_workbook_has_a_line_per_caf_and_the_national_total(
    cli: dict[str, Any],
) -> None:
    run: Run = cli["runs"]["all xlsx"]
    assert run.returncode == 0, run.describe()
    assert run.stderr.splitlines() == [
        "Export écrit : n.xlsx (indicateurs de 2 Caf, 1er trimestre 2026, 6 visite(s))"
    ], run.describe()
    book = load_workbook(cli["workdir"] / "n.xlsx")
    assert book.sheetnames == [national_indicators.SHEET]
    rows = list(book[national_indicators.SHEET].iter_rows(values_only=True))
    assert rows[0][:2] == ("Caf", "Visites")
    assert [row[:2] for row in rows[1:]] == [
        (OTHER_CAF, 1),
        (CAF, EXPECTED_CAF.visits),
        (national_indicators.TOTAL, 1 + EXPECTED_CAF.visits),
    ]


def test_all_cafs_with_a_caf_or_neither_is_one_french_line(cli: dict[str, Any]) -> None:
    both: Run = cli["runs"]["all and caf"]
    assert (both.returncode, both.stdout) == (1, b""), both.describe()
    assert both.stderr.splitlines() == [
        "Erreur : --all-cafs compte toutes les Caf : sans --caf ni --partner"
    ], both.describe()
    neither: Run = cli["runs"]["no caf"]
    assert (neither.returncode, neither.stdout) == (1, b""), neither.describe()
    assert neither.stderr.splitlines() == [
        "Erreur : indiquez la Caf (--caf NOM) ou toutes les Caf (--all-cafs)"
    ], neither.describe()
