"""The directory in the national standard of places of digital mediation (issue #17), driven
as a coordinator would: 🏢 Réseau → a site → ✏️ Modifier gives the fields the standard needs
(SIRET or RNA, postcode, the site's public phone and e-mail), and « ⚙️ Ma Caf » sends the
standard's CSV, which frictionless validates against the schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox.bot_api import FakeUser
from storage import partners
from tests.conftest import Network
from tests.test_export_directory import assert_valid_national, national_rows


async def open_edit_menu(coordinator: FakeUser, title: str) -> None:
    await coordinator.tap("🏢 Réseau")
    [label] = [label for label in coordinator.last_message.labels if title in label]
    await coordinator.tap(label)
    await coordinator.tap("✏️ Modifier")


@pytest.mark.usefixtures("bot")
async def test_a_coordinator_gives_a_sites_siret_postcode_phone_and_email(
    network: Network, coordinator: FakeUser
) -> None:
    await open_edit_menu(coordinator, "Mairie de Ham")
    menu = coordinator.last_message
    await coordinator.tap("SIRET / RNA", menu)
    await coordinator.send("434 933 123 00028")  # a wrong key: the question stands
    assert "n'est pas valide" in coordinator.last_message.text
    await coordinator.send("434 933 123 00029")
    assert "Modification enregistrée" in coordinator.last_message.text
    assert "SIRET / RNA : 43493312300029" in coordinator.last_message.text
    for button, typed in (
        ("Code postal", "80400"),
        ("☎️ Téléphone", "03 22 71 80 00"),  # the site's own: not refused as personal data
        ("✉️ Courriel", "accueil@mairie-ham.fr"),
    ):
        await open_edit_menu(coordinator, "Mairie de Ham")
        await coordinator.tap(button, coordinator.last_message)
        await coordinator.send(typed)
        assert "Modification enregistrée" in coordinator.last_message.text, button
    site = await partners.get(network.db, network.site.id)
    assert site is not None
    assert (site.siret, site.postcode, site.phone, site.email) == (
        "43493312300029",
        "80400",
        "+33322718000",
        "accueil@mairie-ham.fr",
    )
    await open_edit_menu(coordinator, "Mairie de Ham")
    await coordinator.tap("☎️ Téléphone", coordinator.last_message)
    assert "Écrivez « - » pour l'effacer" in coordinator.last_message.text
    await coordinator.send("-")
    site = await partners.get(network.db, network.site.id)
    assert site is not None and site.phone is None
    [row] = await network.db.fetch_all(
        "SELECT count(*) FROM audit_log WHERE action = 'partner.updated'"
    )
    assert row[0] == 5


@pytest.mark.usefixtures("bot")
async def test_ma_caf_sends_the_national_csv_and_names_the_sites_to_complete(
    network: Network, coordinator: FakeUser, tmp_path: Path
) -> None:
    async with network.db.transaction() as tx:
        for field, value in (
            ("address", "Place de l'Hôtel de Ville"),
            ("siret", "21800409400015"),
            ("postcode", "80400"),
        ):
            await partners.update_field(tx, network.site.id, field, value)
    await coordinator.tap("⚙️ Ma Caf")
    await coordinator.tap("🗺 Standard national (CSV)", coordinator.last_message)
    document = coordinator.last_message
    assert document.document_name == "lieux-mediation-numerique-caf-de-la-somme.csv"
    assert "France Services Albert (Albert)" in (document.text or "")
    assert "✏️ Modifier" in (document.text or "")
    path = tmp_path / "lieux.csv"
    path.write_bytes(document.document_bytes or b"")
    assert_valid_national(path)
    [ham] = national_rows(path.read_text(encoding="utf-8"))
    assert (ham["nom"], ham["pivot"], ham["code_postal"]) == (
        "Mairie de Ham",
        "21800409400015",
        "80400",
    )
    assert ham["dispositif_programmes_nationaux"] == "Point d'accès numérique CAF"
