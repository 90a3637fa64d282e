"""Paths where a typed text used to escape the privacy screen (#17, item 8)."""

from __future__ import annotations

from bot.sandbox.bot_api import FakeUser
from storage import announcements, documents
from storage.db import Database
from tests.conftest import Network, RunningBot


async def test_an_identifier_typed_outside_any_flow_is_deleted_and_explained(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.send("son numéro c'est 1/85/05/78/006/084/91")
    typed = [m for m in agent.deleted_messages if not m.from_bot]
    assert [m.text for m in typed] == ["son numéro c'est 1/85/05/78/006/084/91"]
    assert "numéro de sécurité sociale" in (agent.last_message.text or "")
    assert "article 5" in (agent.last_message.text or "")


async def test_an_ordinary_text_outside_any_flow_stays(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.send("bonjour, réunion le 12/03/2026 à 10h ?")
    assert [m for m in agent.deleted_messages if not m.from_bot] == []
    assert "article 5" not in (agent.last_message.text or "")


async def test_a_text_over_the_limit_with_an_identifier_is_screened_first(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📣 Signaler")
    await agent.tap("⚠️ Une difficulté")
    await agent.tap("Matériel (poste, imprimante, réseau)")
    await agent.tap("Peut attendre")
    long_text = "L'écran clignote. " * 60 + "Rappeler la dame au O6 12 34 56 78."
    await agent.send(long_text)
    assert [m.text for m in agent.deleted_messages if not m.from_bot] == [long_text]
    assert "numéro de téléphone" in (agent.last_message.text or "")
    # Without the identifier, the same length is refused for its length and stays.
    await agent.send("L'écran clignote. " * 60)
    assert len([m for m in agent.deleted_messages if not m.from_bot]) == 1
    assert "numéro de téléphone" not in (agent.last_message.text or "")


def _link(text: str, word: str, url: str) -> list[dict[str, object]]:
    """A `text_link` entity over `word` in `text` (UTF-16 offsets: plain ASCII here)."""
    return [{"type": "text_link", "offset": text.index(word), "length": len(word), "url": url}]


async def test_an_address_behind_a_link_in_news_is_screened(
    bot: RunningBot, network: Network, coordinator: FakeUser, db: Database
) -> None:
    """The word shows nothing; the address behind it carries a NIR: refused, deleted, no draft."""
    text = "Voir le dossier ici avant jeudi."
    await coordinator.tap("📢 Diffuser")
    await coordinator.tap("✍️ Nouvelle information")
    await coordinator.send(text, entities=_link(text, "ici", "https://ex.fr/d?nir=185057800608491"))
    assert [m.text for m in coordinator.deleted_messages if not m.from_bot] == [text]
    assert "numéro de sécurité sociale" in (coordinator.last_message.text or "")
    assert await announcements.recent(db, network.caf.id) == []
    # The Caf's own e-mail behind a link is legitimate in news, as in its text.
    await coordinator.send(text, entities=_link(text, "ici", "mailto:accueil@caf80.fr"))
    [draft] = await announcements.recent(db, network.caf.id)
    assert "ici" in draft.body


async def test_a_text_outside_any_flow_is_screened_with_its_links(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    text = "le lien de la dame"
    await agent.send(text, entities=_link(text, "lien", "mailto:jean.dupont85@gmail.com"))
    assert [m.text for m in agent.deleted_messages if not m.from_bot] == [text]
    assert "adresse e-mail" in (agent.last_message.text or "")


async def test_a_documentation_file_named_after_a_person_is_refused(
    bot: RunningBot, network: Network, coordinator: FakeUser, db: Database
) -> None:
    await coordinator.tap("📚 Documentation")
    await coordinator.tap("➕ Ajouter un fichier")
    await coordinator.send("Attestation type")
    await coordinator.send_document("attestation_Dupont_Marie_née_le_12-03-1985.pdf")
    assert [m for m in coordinator.deleted_messages if not m.from_bot]
    assert "date de naissance" in (coordinator.last_message.text or "")
    assert await documents.list_for_caf(db, network.caf.id) == []
    # The step goes on: a file with an ordinary name is then taken.
    await coordinator.send_document("attestation_type_2026.pdf")
    [kept] = await documents.list_for_caf(db, network.caf.id)
    assert kept.file_name == "attestation_type_2026.pdf"


async def test_a_news_attachment_named_with_a_nir_is_refused(
    bot: RunningBot, network: Network, coordinator: FakeUser, db: Database
) -> None:
    await coordinator.tap("📢 Diffuser")
    await coordinator.tap("✍️ Nouvelle information")
    await coordinator.send_document("avis 185057800608491.pdf", caption="Le modèle")
    assert "numéro de sécurité sociale" in (coordinator.last_message.text or "")
    assert await announcements.recent(db, network.caf.id) == []
