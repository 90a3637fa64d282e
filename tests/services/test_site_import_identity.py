"""The optional columns of a sites import (issue #17): SIRET or RNA, postcode, phone, e-mail,
what the national standard of places of digital mediation needs of a site."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.domain import site_import as rules
from bot.services import site_import
from storage import partners
from storage.db import Database
from tests.storage import world

FILE = (
    "name;city;address;siret;code_postal;telephone;courriel\r\n"
    "Mairie de Nesle;Nesle;2 rue Haute;434 933 123 00029;80190;03 22 71 80 00;"
    "Accueil@Nesle.fr\r\n"
    "Centre social;Roye;;W802000123;;;\r\n"
)


def csv_file(text: str) -> rules.SiteTable:
    return rules.parse(rules.csv_lines(text.encode("utf-8")))


@pytest.fixture
async def network(db: Database, clock: ManualClock) -> world.Network:
    return await world.build(db, clock)


def test_the_optional_columns_are_read_checked_and_kept_in_their_normal_form() -> None:
    table = csv_file(FILE)
    assert table.ok, table.errors
    assert [dict(row.identity) for row in table.rows] == [
        {
            "siret": "43493312300029",
            "postcode": "80190",
            "phone": "+33322718000",
            "email": "accueil@nesle.fr",
        },
        {"siret": "W802000123"},
    ]


def test_a_wrong_siret_or_postcode_is_a_problem_of_its_line() -> None:
    table = csv_file(
        "name,city,address,convention_start,code_postal,siret\n"
        "Mairie de Nesle,Nesle,,2025-03-15,8019,\n"
        "Mairie de Roye,Roye,,,80700,43493312300028\n"
    )
    assert [error.located() for error in table.errors] == [
        "ligne 2 : code_postal : un code postal a 5 chiffres, par exemple 80000",
        "ligne 3 : siret : ce numéro SIRET n'est pas valide (sa clé ne correspond pas)",
    ]


async def test_the_imported_sites_have_their_siret_postcode_phone_and_email(
    network: world.Network,
) -> None:
    table = csv_file(FILE)
    done = await site_import.import_sites(network.db, network.somme, table.rows, network.now)
    assert [p.name for p in done.added] == ["Mairie de Nesle", "Centre social"]
    nesle = await partners.get(network.db, done.added[0].id)
    assert nesle is not None
    assert (nesle.siret, nesle.postcode, nesle.phone, nesle.email) == (
        "43493312300029",
        "80190",
        "+33322718000",
        "accueil@nesle.fr",
    )
    roye = await partners.get(network.db, done.added[1].id)
    assert roye is not None and (roye.siret, roye.postcode, roye.phone) == (
        "W802000123",
        None,
        None,
    )
