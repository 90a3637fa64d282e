"""🏢 Réseau and 👥 Mon équipe, driven as a coordinator and a manager would."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.domain.permissions import LabelStatus, PersonStatus, Role
from bot.logs import quiet_third_party
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from bot.ui import callbacks
from storage import cafs, partners, people
from tests.conftest import Network, RunningBot
from tests.e2e.test_visit import TYPICAL, log_visit

IBAN = "FR14 2004 1010 0505 0001 3M02 606"


async def open_site(coordinator: FakeUser, title: str) -> None:
    await coordinator.tap("🏢 Réseau")
    [label] = [label for label in coordinator.last_message.labels if title in label]
    await coordinator.tap(label)


@pytest.mark.usefixtures("bot")
async def test_suspending_a_label_tells_the_site_and_changes_its_menus(
    network: Network, fake: FakeBotApi, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    colleague = await network.join(Role.COORDINATOR, first_name="Claire")
    group = fake.group(-100777, "Équipe Caf")
    async with network.db.transaction() as tx:
        await cafs.update(tx, network.caf.id, notify_chat_id=group.chat_id)
    await open_site(coordinator, "Mairie de Ham")
    assert "Agnès — agent d'accueil" in coordinator.last_message.text
    await coordinator.tap("🟠 Suspendre le label")
    assert "écrivez le motif" in coordinator.last_message.text
    await coordinator.send("Indicateurs non transmis depuis deux trimestres.")
    assert "Label suspendu pour Mairie de Ham" in coordinator.last_message.text
    assert "2 personnes du site sont prévenues" in coordinator.last_message.text

    for person in (agent, manager):
        await fake.wait_for(lambda p=person: "est suspendu" in p.last_message.text)
        assert "Indicateurs non transmis" in person.last_message.text
        # Suspension warns, it does not stop the work: the menu keeps the visit.
        assert ["📝 Nouvelle visite"] in (person.reply_keyboard or [])
        assert "visite" in [name for name, _ in person.commands or []]
    await fake.wait_for(lambda: "suspendu" in (colleague.last_message.text or ""))
    await fake.wait_for(lambda: bool(group.bot_messages))
    assert "par Corinne" in group.last_message.text
    partner = await partners.get(network.db, network.site.id)
    assert partner is not None and partner.label_status is LabelStatus.SUSPENDED
    await agent.send("/visite")
    assert "Nouvelle visite" in agent.last_message.text
    history = await network.db.fetch_value(
        "SELECT COUNT(*) FROM label_history WHERE partner_id = :p", {"p": network.site.id}
    )
    assert history == 2
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'label.changed'"
        )
        == 1
    )

    await coordinator.tap("🟢 Réactiver le label")
    await coordinator.send("Indicateurs reçus.")
    await fake.wait_for(lambda: "de nouveau" in agent.last_message.text)
    assert ["📝 Nouvelle visite"] in (agent.reply_keyboard or [])
    assert await log_visit(agent, TYPICAL) == 8


@pytest.mark.usefixtures("bot", "agent")
async def test_an_iban_in_a_label_reason_is_refused_and_appears_nowhere(
    network: Network, coordinator: FakeUser, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    quiet_third_party()  # what `python -m bot run` does at any LOG_LEVEL
    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap("⛔ Retirer le label")
    typed = await coordinator.send(f"Usager a donné son RIB {IBAN} au guichet")
    assert typed.deleted
    assert "IBAN" in coordinator.last_message.text
    assert "reformulez" in coordinator.last_message.text.lower()
    partner = await partners.get(network.db, network.site.id)
    assert partner is not None and partner.label_status is LabelStatus.ACTIVE
    compact = IBAN.replace(" ", "")
    for path in db_path.parent.glob(db_path.name + "*"):
        content = path.read_bytes()
        assert IBAN.encode() not in content and compact.encode() not in content
    assert IBAN not in caplog.text and compact not in caplog.text
    # The question still stands: a clean reason is accepted.
    await coordinator.send("Locaux fermés depuis trois mois.")
    partner = await partners.get(network.db, network.site.id)
    assert partner is not None and partner.label_status is LabelStatus.WITHDRAWN


async def test_a_coordinator_adds_and_edits_a_site(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await coordinator.tap("🏢 Réseau")
    await coordinator.tap("➕ Ajouter un site")
    await coordinator.send("Centre social Les Coquelicots")
    await coordinator.send("Péronne")
    await coordinator.send("3 rue de la Paix, 80200 Péronne")
    assert "Site ajouté" in coordinator.last_message.text
    assert "3 rue de la Paix" in coordinator.last_message.text
    await coordinator.tap("✏️ Modifier")
    await coordinator.tap("Nom", coordinator.last_message)
    await coordinator.send("Centre social <b>Coquelicots</b>")
    assert "Modification enregistrée" in coordinator.last_message.text
    assert "<b>Coquelicots</b>" in coordinator.last_message.text  # shown escaped, as typed
    sites = await partners.list_for_caf(network.db, network.caf.id)
    assert any(site.name == "Centre social <b>Coquelicots</b>" for site in sites)
    await coordinator.tap("✏️ Modifier")
    await coordinator.tap("Nom", coordinator.last_message)
    await coordinator.send("Mairie de Ham")
    await coordinator.tap("Ville", coordinator.bot_messages[-3])  # the edit menu
    await coordinator.send("Ham")
    assert "existe déjà" in coordinator.last_message.text


async def test_a_coordinator_invites_an_agent_who_joins(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await open_site(coordinator, "France Services Albert")
    await coordinator.tap("➕ Inviter un agent")
    await coordinator.tap("Pour 1 personne (7 jours)")
    text = coordinator.last_message.text
    assert "https://t.me/pnc_test_bot?start=" in text
    code = text.split("?start=")[1].split()[0]
    newcomer = network.stranger("Nadia")
    await newcomer.send(f"/start {code}")
    assert "France Services Albert" in newcomer.last_message.text
    member = await people.member_by_telegram_id(network.db, newcomer.user_id)
    assert member is not None and member.person.partner_id == network.other_site.id


async def test_a_coordinator_revokes_a_person(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap("👥 Personnes")
    await coordinator.tap("Agnès · agent d'accueil")
    await coordinator.tap("🚫 Retirer l'accès")
    await coordinator.tap("🚫 Oui, retirer l'accès")
    assert "Accès retiré" in coordinator.last_message.text
    await fake.wait_for(lambda: "accès à l'assistant" in agent.last_message.text)
    assert agent.reply_keyboard is None
    member = await people.member_by_telegram_id(network.db, agent.user_id)
    assert member is not None and member.person.status is PersonStatus.REVOKED
    await agent.send("/visite")
    assert "accès à l'assistant a été retiré" in agent.last_message.text


async def test_a_manager_manages_the_agents_of_their_site_only(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, manager: FakeUser
) -> None:
    co_manager = await network.join(Role.MANAGER, first_name="Mona")
    await manager.tap("👥 Mon équipe")
    labels = manager.last_message.labels
    assert "Agnès · agent d'accueil" in labels
    await manager.tap("Mona · responsable de site")
    assert "expiré" in (manager.last_callback_answer or {}).get("text", "")
    await manager.tap("👥 Mon équipe")
    await manager.tap("➕ Inviter un agent")
    await manager.tap("Pour une équipe (10 personnes, 30 jours)")
    assert "10 personnes" in manager.last_message.text
    # Forged taps towards another site, a label, or a manager change nothing.
    menu = manager.last_message
    for forged in [
        callbacks.NetworkTap("people", network.other_site.id, 0),
        callbacks.NetworkTap("label", network.site.id, 1),
        callbacks.NetworkTap("home", 0, 0),
    ]:
        await manager.tap_data(callbacks.encode(forged), menu)
    co = await people.member_by_telegram_id(network.db, co_manager.user_id)
    assert co is not None
    await manager.tap_data(callbacks.encode(callbacks.NetworkTap("revoke", co.person.id, 1)), menu)
    assert co.person.status is PersonStatus.ACTIVE
    partner = await partners.get(network.db, network.site.id)
    assert partner is not None and partner.label_status is LabelStatus.ACTIVE
    still = await people.get(network.db, co.person.id)
    assert still is not None and still.status is PersonStatus.ACTIVE
    await manager.tap("👥 Mon équipe")
    await manager.tap("Agnès · agent d'accueil")
    await manager.tap("🚫 Retirer l'accès")
    await manager.tap("🚫 Oui, retirer l'accès")
    await fake.wait_for(lambda: "accès à l'assistant" in agent.last_message.text)


async def test_another_cafs_coordinator_cannot_touch_this_network(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    other_caf = await network.add_caf("Caf de l'Oise")
    outsider = await network.join(Role.COORDINATOR, caf=other_caf, first_name="Octave")
    await outsider.tap("🏢 Réseau")
    assert "Mairie de Ham" not in outsider.last_message.text
    assert not any("Mairie de Ham" in label for label in outsider.last_message.labels)
    menu = outsider.last_message
    before = await network.db.fetch_value("SELECT COUNT(*) FROM audit_log")
    for forged in [
        callbacks.NetworkTap("site", network.site.id, 0),
        callbacks.NetworkTap("label", network.site.id, 2),
        callbacks.NetworkTap("ia", network.site.id, 1),
        callbacks.NetworkTap("people", network.site.id, 0),
    ]:
        await outsider.tap_data(callbacks.encode(forged), menu)
        assert "expiré" in (outsider.last_callback_answer or {}).get("text", "")
    assert await network.db.fetch_value("SELECT COUNT(*) FROM audit_log") == before
    assert await network.db.fetch_value("SELECT COUNT(*) FROM pending_inputs") == 0


async def test_agents_cannot_open_the_network(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.send("/reseau")
    assert "pas ouverte à votre rôle" in agent.last_message.text
    await agent.tap_data(callbacks.encode(callbacks.NetworkTap("home", 0, 0)), agent.last_message)
    assert "pas ouverte" in (agent.last_callback_answer or {}).get("text", "")


async def test_long_lists_are_paged_and_the_audit_log_is_readable(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    for number in range(12):
        await network.add_site(f"Site {number:02d}")
    await coordinator.tap("🏢 Réseau")
    assert "Page 1 sur 2" in coordinator.last_message.text
    await coordinator.tap("Suivants ▶️")
    assert "Page 2 sur 2" in coordinator.last_message.text
    await coordinator.tap("📜 Journal")
    assert "inscription" in coordinator.last_message.text
    assert "Corinne" in coordinator.last_message.text


async def test_cancel_drops_a_pending_question(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap("🟠 Suspendre le label")
    await coordinator.send("/annuler")
    assert "Action annulée" in coordinator.last_message.text
    await coordinator.send("Une phrase quelconque")
    assert "Je n'ai pas compris" in coordinator.last_message.text
    partner = await partners.get(network.db, network.site.id)
    assert partner is not None and partner.label_status is LabelStatus.ACTIVE


async def test_oversized_reason_is_refused_without_losing_the_question(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap("🟠 Suspendre le label")
    await coordinator.send("a" * 600)
    assert "trop long" in coordinator.last_message.text
    await coordinator.send("Motif bref.")
    partner = await partners.get(network.db, network.site.id)
    assert partner is not None and partner.label_status is LabelStatus.SUSPENDED
