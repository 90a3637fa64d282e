"""📜 Certificat on a site's card: the coordinator receives the Annexe 1 certificate as a PDF;
nobody else can have one made, even with a forged button."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from bot.domain.permissions import LabelStatus, Role
from bot.ui import callbacks
from storage import cafs
from tests.conftest import Network, RunningBot
from tests.e2e.test_network import open_site
from tests.fake_bot_api import FakeBotApi, FakeMessage, FakeUser

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
    logo = tmp_path / "caf.png"
    Image.new("RGB", (400, 150), (11, 79, 138)).save(logo, "PNG")
    async with network.db.transaction() as tx:
        await cafs.set_logo(tx, network.caf.id, str(logo))
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
    assert "Fait à Ham, le 27 novembre 2026" in text  # the day in Paris, not in UTC
    reader = PdfReader(io.BytesIO(sent.document_bytes or b""))
    assert len(reader.pages[0].images) == 1  # the Caf's logo
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
    assert "Fait à Amiens, le 26 novembre 2026" in pdf_text(sent)


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
