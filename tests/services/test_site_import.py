"""bot/services/site_import.py (and its rules, bot/domain/site_import.py) as the command line
and the bot call it: a file of sites read, checked line by line, and imported all or nothing."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from bot.clock import ManualClock
from bot.domain import site_import as rules
from bot.domain.models import Member
from bot.domain.permissions import Role
from bot.services import site_import
from bot.services.site_import import FileKind
from storage import partners, people
from storage.db import Database
from tests.storage import world


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_file(text: str, encoding: str = "utf-8") -> rules.SiteTable:
    return rules.parse(rules.csv_lines(text.encode(encoding)))


@pytest.fixture
async def network(db: Database, clock: ManualClock) -> world.Network:
    return await world.build(db, clock)


async def coordinator(network: world.Network) -> Member:
    person = await network.join(Role.COORDINATOR, network.somme, 7001, "Corinne")
    found = await people.member(network.db, person.id)
    assert found is not None
    return found


# ------------------------------------------------------------------------------ the rules
def test_a_clean_csv_gives_its_sites_with_their_lines() -> None:
    table = csv_file(
        "name;city;address;convention_start\r\n"
        "Mairie de Nesle;Nesle;2 rue Haute;2025-03-15\r\n"
        "\r\n"
        "Centre social;80200 Péronne;;\r\n"
    )
    assert table.ok
    assert [(r.line, r.values()) for r in table.rows] == [
        (2, ("Mairie de Nesle", "Nesle", "2 rue Haute", date(2025, 3, 15))),
        (4, ("Centre social", "80200 Péronne", "", None)),
    ]


def test_every_problem_is_told_with_its_line_the_header_being_line_1() -> None:
    table = csv_file(
        "name,city,address,convention_start\n"
        "Mairie de Nesle,Nesle,,\n"  # 2: fine
        ",Roye,1 rue Haute,\n"  # 3: no name
        "Mairie de Roye,Roye\n"  # 4: two columns
        "Mairie de Ham,Ham,,15/03/2025\n"  # 5: not an ISO date
        "MAIRIE  de nesle,NESLE,,\n"  # 6: line 2 again
        "Mairie de Chaulnes,Chaulnes,Tél. 03 22 85 00 00,\n"  # 7: a phone number
        + "X" * 201
        + ",Ham,,\n"  # 8: too long
    )
    assert not table.ok
    assert [e.located() for e in table.errors] == [
        "ligne 3 : le nom du site est vide",
        "ligne 4 : 3 colonnes attendues (name,city,address)",
        "ligne 5 : convention_start « 15/03/2025 » n'est pas une date AAAA-MM-JJ",
        "ligne 6 : même site que la ligne 2",
        "ligne 7 : l'adresse semble contenir un numéro de téléphone : un fichier de sites ne"
        " contient aucune donnée personnelle (article 5)",
        "ligne 8 : valeur trop longue",
    ]
    assert [r.line for r in table.rows] == [2]


def test_a_wrong_header_an_empty_file_and_a_header_alone_are_refused() -> None:
    [header] = csv_file("nom,ville,adresse\nMairie,Ham,\n").errors
    assert header.located() == (
        "ligne 1 : l'en-tête doit être « name,city,address » (trouvé : « nom,ville,adresse »)"
    )
    assert csv_file("").errors[0].line == 1
    assert [e.located() for e in csv_file("name,city,address\n\n").errors] == [
        "aucun site à importer"
    ]


def test_a_file_of_more_than_2000_sites_is_refused() -> None:
    lines = "".join(f"Site {n},Amiens,\n" for n in range(rules.MAX_ROWS + 1))
    table = csv_file("name,city,address\n" + lines)
    assert [e.located() for e in table.errors] == ["plus de 2\u202f000 sites : découpez le fichier"]
    assert csv_file("name,city,address\n" + lines.split("\n", 1)[1]).ok


def test_a_windows_1252_csv_is_read() -> None:
    table = csv_file("name;city;address\r\nPôle Enfance;Péronne;\r\n", encoding="cp1252")
    assert [r.title for r in table.rows] == ["Pôle Enfance (Péronne)"]


async def test_a_workbook_is_read_in_a_child_process_with_dates_and_numbers() -> None:
    content = workbook(
        [
            ["name", "city", "address", "convention_start"],
            ["Mairie de Nesle", "Nesle", "2 rue Haute", datetime(2025, 3, 15)],
            [None, None, None, None],
            ["Mairie de Ham", 80400, None, None],
            ["", "Ham", "", ""],
        ]
    )
    table = await site_import.read(content, FileKind.XLSX)
    assert [(r.line, r.values()) for r in table.rows] == [
        (2, ("Mairie de Nesle", "Nesle", "2 rue Haute", date(2025, 3, 15))),
        (4, ("Mairie de Ham", "80400", "", None)),
    ]
    assert [e.located() for e in table.errors] == ["ligne 5 : le nom du site est vide"]


async def test_what_is_no_workbook_or_too_heavy_is_told_in_french() -> None:
    broken = await site_import.read(b"PK\x03\x04 not really a workbook", FileKind.XLSX)
    assert [e.located() for e in broken.errors] == [
        "ce classeur Excel ne peut pas être lu (fichier .xlsx)"
    ]
    heavy = await site_import.read(b"x" * 20, FileKind.CSV, max_bytes=10)
    assert [e.located() for e in heavy.errors] == ["fichier trop lourd"]


def test_a_file_is_known_by_its_name_and_refused_when_too_large() -> None:
    assert site_import.kind_of("Sites.XLSX", 10) is FileKind.XLSX
    assert site_import.kind_of("sites.csv", None) is FileKind.CSV
    with pytest.raises(site_import.NotAccepted) as old:
        site_import.kind_of("sites.xls", 10)
    assert old.value.old_excel
    with pytest.raises(site_import.NotAccepted) as other:
        site_import.kind_of("guide.pdf", 10)
    assert not other.value.old_excel and not other.value.too_large
    with pytest.raises(site_import.NotAccepted) as large:
        site_import.kind_of("sites.csv", site_import.MAX_FILE_BYTES + 1)
    assert large.value.too_large


# ------------------------------------------------------------------------------ importing
async def test_the_command_line_skips_the_sites_there_and_adds_the_rest(
    network: world.Network,
) -> None:
    table = csv_file("name,city,address\nmairie de ham,HAM,\nMairie de Nesle,Nesle,1 rue Haute\n")
    done = await site_import.import_sites(
        network.db, network.somme, table.rows, network.now, skip_existing=True
    )
    assert [p.name for p in done.added] == ["Mairie de Nesle"]
    assert done.skipped == ["mairie de ham (HAM)"]
    assert done.total == 3
    [details] = await network.db.fetch_all(
        "SELECT actor_id, caf_id, details FROM audit_log WHERE action = 'partners.imported'"
    )
    assert (details[0], details[1]) == (None, network.somme.id)
    assert json.loads(details[2]) == {"added": 1, "skipped": 1}


async def test_the_bot_previews_then_imports_all_or_nothing(network: world.Network) -> None:
    corinne = await coordinator(network)
    table = csv_file("name,city,address\nMairie de Nesle,Nesle,\nMairie de Roye,Roye,\n")
    shown = await site_import.preview(network.db, corinne, table, 41, network.now)
    assert shown.table.ok and shown.existing == 2 and shown.replaced is None
    # A second file takes the first one's place.
    again = await site_import.preview(network.db, corinne, table, 42, network.now)
    assert again.replaced == 41
    with pytest.raises(site_import.NothingWaiting):
        await site_import.confirm(network.db, corinne, 41, network.now)
    # Meanwhile, one of the sites is added by hand: nothing is imported.
    async with network.db.transaction() as tx:
        await partners.add(
            tx,
            caf_id=network.somme.id,
            name="Mairie de Roye",
            city="Roye",
            address="",
            now=network.now,
        )
    refused = await site_import.confirm(network.db, corinne, 42, network.now)
    assert refused.imported is not None and refused.imported.added == []
    assert [e.located() for e in refused.imported.refused] == [
        "ligne 3 : « Mairie de Roye (Roye) » existe déjà dans la Caf"
    ]
    assert len(await partners.list_for_caf(network.db, network.somme.id)) == 3
    with pytest.raises(site_import.NothingWaiting):  # the waiting import is over
        await site_import.confirm(network.db, corinne, 42, network.now)


async def test_a_preview_refuses_the_sites_the_caf_has_by_line(network: world.Network) -> None:
    corinne = await coordinator(network)
    table = csv_file("name,city,address\nMairie de Nesle,Nesle,\nMairie de Ham,Ham,\n")
    shown = await site_import.preview(network.db, corinne, table, 7, network.now)
    assert [e.located() for e in shown.table.errors] == [
        "ligne 3 : « Mairie de Ham (Ham) » existe déjà dans la Caf"
    ]
    with pytest.raises(site_import.NothingWaiting):  # a corrected file is expected instead
        await site_import.confirm(network.db, corinne, 7, network.now)
    expected = await network.db.fetch_value(
        "SELECT kind FROM pending_inputs WHERE person_id = :p", {"p": corinne.person.id}
    )
    assert expected == site_import.EXPECT_FILE


async def test_a_confirmed_import_is_audited_as_the_coordinator(network: world.Network) -> None:
    corinne = await coordinator(network)
    table = csv_file("name,city,address,convention_start\nMairie de Nesle,Nesle,,2024-01-31\n")
    await site_import.preview(network.db, corinne, table, 9, network.now)
    done = await site_import.confirm(network.db, corinne, 9, network.now)
    assert done.file_message == 9 and done.imported is not None
    [nesle] = done.imported.added
    assert (nesle.name, nesle.convention_start, nesle.label_status.value) == (
        "Mairie de Nesle",
        date(2024, 1, 31),
        "active",
    )
    actor = await network.db.fetch_value(
        "SELECT actor_id FROM audit_log WHERE action = 'partners.imported'"
    )
    assert actor == corinne.person.id
    assert await network.db.fetch_value("SELECT COUNT(*) FROM pending_inputs") == 0
