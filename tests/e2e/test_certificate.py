"""📜 Certificat on a site's card: the coordinator receives the Annexe 1 certificate as a PDF;
nobody else can have one made, even with a forged button."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from bot.domain.permissions import LabelStatus, Role
from bot.exports.certificate import BLANK_TOWN
from bot.sandbox.bot_api import FakeBotApi, FakeMessage, FakeUser
from bot.ui import callbacks
from storage import cafs, partners
from tests.conftest import Network, RunningBot
from tests.e2e.test_network import open_site

CERTIFY_HAM = "📜 Certificat"


def pdf_text(message: FakeMessage) -> str:
    assert message.document_bytes is not None
    reader = PdfReader(io.BytesIO(message.document_bytes))
    return " ".join(reader.pages[0].extract_text().split())


def documents(fake: FakeBotApi) -> int:
    return len(fake.calls_to("sendDocument"))


async def certificates_made(network: Network) -> int:
    return int(
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'certificate.generated'"
        )
    )


@pytest.mark.usefixtures("bot")
async def test_a_coordinator_receives_the_sites_certificate_and_keeps_the_card(
    network: Network, coordinator: FakeUser, tmp_path: Path
) -> None:
    logo, site_logo = tmp_path / "caf.png", tmp_path / "ham.jpg"
    Image.new("RGB", (400, 150), (11, 79, 138)).save(logo, "PNG")
    Image.new("RGB", (200, 200), (200, 30, 30)).save(site_logo, "JPEG")
    async with network.db.transaction() as tx:
        await cafs.set_logo(tx, network.caf.id, str(logo))
        await partners.set_logo(tx, network.site.id, str(site_logo))
    network.clock.advance(timedelta(hours=14, minutes=30))  # 23:30 UTC: Friday in Paris
    await open_site(coordinator, "Mairie de Ham")
    card = coordinator.last_message
    card_before = (card.text, card.edits)
    await coordinator.tap(CERTIFY_HAM)

    assert coordinator.last_callback_answer is not None
    # Drawn in a child process: the tap is answered at once, the PDF follows.
    assert coordinator.last_callback_answer.get("text") == "⏳ Préparation…"
    sent = coordinator.last_message
    assert sent.kind == "document"
    assert sent.document_name == "certificat-point-numerique-caf-mairie-de-ham.pdf"
    assert sent.text is not None
    assert "Certificat « Point numérique Caf » de Mairie de Ham (Ham)" in sent.text
    assert "daté du 27 novembre 2026" in sent.text
    text = pdf_text(sent)
    assert "La Caf de la Somme a attribué le label « Point numérique Caf » à" in text
    assert "Mairie de Ham" in text
    # The day in Paris, not in UTC; the Caf has given no town: a line to fill by hand.
    assert f"Fait à {BLANK_TOWN}, le 27 novembre 2026" in text
    assert "Fait à Ham" not in text
    reader = PdfReader(io.BytesIO(sent.document_bytes or b""))
    assert len(reader.pages[0].images) == 2  # the Caf's logo and the site's
    assert reader.metadata is not None and reader.metadata.author == "Caf de la Somme"
    # The card stays as it was, ready for the next tap.
    assert not card.deleted
    assert CERTIFY_HAM in card.labels
    assert (card.text, card.edits) == card_before
    row = await network.db.fetch_one(
        "SELECT actor_id, target_type, target_id, details FROM audit_log"
        " WHERE action = 'certificate.generated'"
    )
    assert row is not None
    assert (row["target_type"], row["target_id"]) == ("partner", network.site.id)
    assert row["details"] == '{"date": "2026-11-27"}'


async def test_a_name_with_markup_is_printed_and_captioned_as_typed(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await network.add_site("Centre social <b>Cœur</b> & Co")
    await open_site(coordinator, "Centre social <b>Cœur</b> & Co")
    await coordinator.tap(CERTIFY_HAM)
    sent = coordinator.last_message
    assert sent.document_name == "certificat-point-numerique-caf-centre-social-b-coeur-b-co.pdf"
    assert "Centre social <b>Cœur</b> & Co (Amiens)" in (sent.text or "")
    assert "Centre social <b>Cœur</b> & Co" in pdf_text(sent)
    assert f"Fait à {BLANK_TOWN}, le 26 novembre 2026" in pdf_text(sent)  # not the site's


async def test_the_caf_s_town_set_in_ma_caf_is_where_certificates_are_made(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    colleague = await network.join(Role.COORDINATOR, first_name="Claire")
    await coordinator.tap("⚙️ Ma Caf")
    home = coordinator.last_message
    assert "Ville des certificats : aucune (« Fait à » laissé en blanc)" in home.text
    await coordinator.tap("🏛 Ville des certificats", home)
    assert "Aucune ville pour l'instant" in home.text
    assert home.labels == ["✏️ Indiquer la ville", "⬅️ Retour"]
    await coordinator.tap("✏️ Indiquer la ville", home)
    assert "ville de la Caf" in coordinator.last_message.text
    await coordinator.send("Amiens\nSomme")
    assert "Ce n'est pas un nom de ville" in coordinator.last_message.text
    await coordinator.send("  Amiens ")
    saved = coordinator.last_message
    assert "désormais « Fait à <b>Amiens</b> »" in (saved.html or "")
    assert "Ville des certificats : Amiens" in saved.text
    caf = await cafs.get(network.db, network.caf.id)
    assert caf is not None and caf.city == "Amiens"
    await fake.wait_for(lambda: "ville des certificats" in colleague.last_message.text)
    assert "Amiens" in colleague.last_message.text and "par Corinne" in colleague.last_message.text

    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap(CERTIFY_HAM)
    text = pdf_text(coordinator.last_message)
    assert "Fait à Amiens, le 26 novembre 2026" in text
    assert "Mairie de Ham Ham" in text  # the site's town, under its name

    await coordinator.tap("⚙️ Ma Caf")
    await coordinator.tap("🏛 Ville des certificats")
    await coordinator.tap("🗑 Retirer la ville")
    assert (coordinator.last_callback_answer or {}).get("text") == "Ville des certificats retirée."
    caf = await cafs.get(network.db, network.caf.id)
    assert caf is not None and caf.city is None
    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap(CERTIFY_HAM)
    assert f"Fait à {BLANK_TOWN}, le 26 novembre 2026" in pdf_text(coordinator.last_message)
    details = [
        json.loads(text)
        for (text,) in await network.db.fetch_all(
            "SELECT details FROM audit_log WHERE action = 'caf.updated' ORDER BY id"
        )
    ]
    assert details == [{"city": "Amiens"}, {"city": None}]


async def test_no_certificate_for_a_withdrawn_label(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    await network.set_label(network.site, LabelStatus.WITHDRAWN)
    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap(CERTIFY_HAM)
    answer = coordinator.last_callback_answer or {}
    assert answer.get("text") == "Le label de ce site est retiré : pas de certificat."
    assert documents(fake) == 0
    assert await certificates_made(network) == 0


@pytest.mark.usefixtures("bot")
async def test_agents_managers_and_other_cafs_cannot_have_one_made(
    network: Network, fake: FakeBotApi, agent: FakeUser, manager: FakeUser
) -> None:
    forged = callbacks.encode(callbacks.NetworkTap("cert", network.site.id, 0))
    # The manager of the very site: the certificate is the Caf's to give.
    await manager.tap("👥 Mon équipe")
    await manager.tap_data(forged, manager.last_message)
    assert "pas ouverte à votre rôle" in (manager.last_callback_answer or {}).get("text", "")
    await agent.tap_data(forged, agent.last_message)
    assert "pas ouverte à votre rôle" in (agent.last_callback_answer or {}).get("text", "")
    other_caf = await network.add_caf("Caf de l'Oise")
    outsider = await network.join(Role.COORDINATOR, caf=other_caf, first_name="Octave")
    await outsider.tap("🏢 Réseau")
    await outsider.tap_data(forged, outsider.last_message)
    assert "expiré" in (outsider.last_callback_answer or {}).get("text", "")
    assert documents(fake) == 0
    assert await certificates_made(network) == 0
