"""📣 Signaler and 📥 Signalements: difficulties and training needs, from the site to the Caf
and back, driven through the fake Bot API as agents, managers and coordinators would."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeBotApi, FakeMessage, FakeUser
from bot.ui import callbacks
from storage import signals as signal_store
from tests.conftest import Network, RunningBot
from tests.e2e.test_notifications import outbox_settled
from tests.fuzz import harness
from tests.fuzz.harness import go, say, tap

NIR = "1 84 12 76 451 089 46"


async def report_difficulty(user: FakeUser, description: str) -> FakeMessage:
    await user.tap("📣 Signaler")
    await user.tap("⚠️ Une difficulté")
    await user.tap("Une téléprocédure")
    await user.tap("Urgente : le public est bloqué")
    assert "Décrivez la difficulté" in user.last_message.text
    return await user.send(description)


def everything_stored(db_path: Path) -> str:
    """Every text value of every table, to check what was (not) kept."""
    found = []
    with sqlite3.connect(db_path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table}"):
                found.extend(str(value) for value in row if value is not None)
    return "\n".join(found)


async def test_a_difficulty_goes_round_the_whole_inbox_cycle(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    colleague = await network.join(Role.COORDINATOR, first_name="Claire")
    group = fake.group(-100555, "Caf — signalements")
    async with network.db.transaction() as tx:
        await tx.execute(
            "UPDATE cafs SET notify_chat_id = :g WHERE id = :id",
            {"g": group.chat_id, "id": network.caf.id},
        )
    await report_difficulty(agent, "La déclaration trimestrielle RSA bloque à l'étape 3.")
    assert "Signalement n° " in agent.last_message.text
    assert "envoyé à la Caf" in agent.last_message.text

    for person in (coordinator, colleague):
        await fake.wait_for(lambda p=person: "Nouveau signalement" in (p.last_message.text or ""))
        notice = person.last_message
        assert "Mairie de Ham" in notice.text and "Agnès" in notice.text
        assert "bloque à l'étape 3" in notice.text
        assert "Urgente" in notice.text
        assert "📂 Ouvrir" in notice.labels
    await fake.wait_for(lambda: bool(group.bot_messages))
    assert group.last_message.reply_markup is None or not group.last_message.labels

    # The coordinator works it from the inbox.
    await coordinator.tap("📥 Signalements")
    # The agent's own arrival raised a training need (new agent) before.
    assert "2 signalements non clos" in coordinator.last_message.text
    [item] = [label for label in coordinator.last_message.labels if "⚠️" in label]
    assert item.startswith("🟡")
    await coordinator.tap(item)
    assert "État : reçu" in coordinator.last_message.text
    await coordinator.tap("✅ Prendre en charge")
    assert "État : pris en charge" in coordinator.last_message.text
    await fake.wait_for(lambda: "a pris en charge" in agent.last_message.text)

    await coordinator.tap("↩️ Répondre")
    await coordinator.send("Videz le cache du navigateur puis réessayez.")
    assert "Réponse envoyée" in coordinator.last_message.text
    await fake.wait_for(lambda: "Réponse de la Caf" in agent.last_message.text)
    assert "Videz le cache" in agent.last_message.text

    # The agent answers from the notice.
    await agent.tap("📂 Voir le signalement")
    assert "Videz le cache" in agent.last_message.text
    await agent.tap("↩️ Répondre à la Caf")
    await agent.send("Ça marche, merci !")
    assert "transmis à la Caf" in agent.last_message.text
    await fake.wait_for(lambda: "Ça marche, merci" in (coordinator.last_message.text or ""))

    await coordinator.tap("📂 Ouvrir")
    await coordinator.tap("✔️ Clore")
    await coordinator.send("Résolu par le vidage du cache.")
    assert "clos, le site est prévenu" in coordinator.last_message.text
    assert "1 signalement non clos" in coordinator.last_message.text
    await fake.wait_for(lambda: "La Caf a clos" in agent.last_message.text)
    assert "Résolu par le vidage du cache" in agent.last_message.text

    await agent.tap("📣 Signaler")
    await agent.tap("📋 Mes signalements")
    assert "traité" in agent.last_message.text
    [signal_label] = [label for label in agent.last_message.labels if "⚠️" in label]
    await agent.tap(signal_label)
    assert "↩️ Répondre à la Caf" not in agent.last_message.labels
    assert "Ça marche, merci" in agent.last_message.text

    actions = [
        row[0]
        for row in await network.db.fetch_all(
            "SELECT action FROM audit_log WHERE action LIKE 'signal.%' ORDER BY id"
        )
    ]
    assert actions == [
        "signal.raised",
        "signal.acknowledged",
        "signal.replied",
        "signal.answered",
        "signal.resolved",
    ]
    await outbox_settled(network)


async def test_a_nir_typed_in_a_description_is_refused_and_appears_nowhere(
    bot: RunningBot, network: Network, agent: FakeUser, db_path: Path
) -> None:
    typed = await report_difficulty(agent, f"Madame X, NIR {NIR}, ne peut pas se connecter")
    assert "sécurité sociale" in agent.last_message.text.lower()
    assert typed.deleted
    assert (
        await network.db.fetch_value("SELECT COUNT(*) FROM signals WHERE kind = 'difficulty'") == 0
    )
    assert NIR.replace(" ", "") not in everything_stored(db_path).replace(" ", "")
    # The flow goes on: a reworded description is accepted.
    await agent.send("Une usagère ne peut pas se connecter à Mon Compte.")
    assert "envoyé à la Caf" in agent.last_message.text
    assert (
        await network.db.fetch_value("SELECT COUNT(*) FROM signals WHERE kind = 'difficulty'") == 1
    )


async def test_identifiers_are_refused_in_every_free_text_of_the_inbox(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser, db_path: Path
) -> None:
    await report_difficulty(agent, "Problème de connexion à Mon Compte.")
    await coordinator.tap("📥 Signalements")
    [item] = [label for label in coordinator.last_message.labels if "⚠️" in label]
    await coordinator.tap(item)
    await coordinator.tap("↩️ Répondre")
    await coordinator.send("Rappelez-la au 06 12 34 56 78")
    assert "téléphone" in coordinator.last_message.text.lower()
    await coordinator.send("/annuler")
    await coordinator.tap("📥 Signalements")
    await coordinator.tap(item)
    await coordinator.tap("✔️ Clore")
    await coordinator.send("Écrit à jean.dupont@example.org")
    assert "e-mail" in coordinator.last_message.text.lower()
    await agent.tap("📣 Signaler")
    await agent.tap("🎓 Un besoin de formation")
    await agent.tap("Téléprocédures")
    await agent.send("Pour le dossier de FR7630006000011234567890189")
    assert (
        "iban" in coordinator.last_message.text.lower() or "iban" in agent.last_message.text.lower()
    )
    await agent.send("/annuler")
    # The agent's answer to the Caf, on their own signal.
    await agent.tap("📣 Signaler")
    await agent.tap("📋 Mes signalements")
    [mine] = [label for label in agent.last_message.labels if "⚠️" in label]
    await agent.tap(mine)
    await agent.tap("↩️ Répondre à la Caf")
    await agent.send("Son numéro allocataire est 1234567")
    assert "allocataire" in agent.last_message.text.lower()
    stored = everything_stored(db_path)
    for secret in (
        "06 12 34 56 78",
        "jean.dupont@example.org",
        "FR7630006000011234567890189",
        "1234567",
    ):
        assert secret not in stored
    assert await network.db.fetch_value("SELECT COUNT(*) FROM signal_messages") == 0


async def test_a_training_need_with_or_without_a_note_and_a_double_tap_raises_once(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser, coordinator: FakeUser
) -> None:
    await manager.tap("📣 Signaler")
    await manager.tap("🎓 Un besoin de formation")
    await manager.tap("Rendez-vous en visio")
    prompt = manager.last_message
    send_without_note = prompt.inline_buttons[0][0][1]
    await manager.tap_data(send_without_note, prompt)
    await manager.tap_data(send_without_note, prompt)  # a double tap
    assert "Déjà envoyé" in (manager.last_callback_answer or {}).get("text", "")
    assert "envoyé à la Caf" in prompt.text
    await manager.tap("📣 Signaler")
    await manager.tap("🎓 Un besoin de formation")
    await manager.tap("Mon Compte (espace personnel)")
    await manager.send("Deux nouvelles collègues à former en janvier.")
    assert "envoyé à la Caf" in manager.last_message.text
    rows = await network.db.fetch_all(
        "SELECT category, description FROM signals WHERE kind = 'training' ORDER BY id"
    )
    assert [(r[0], r[1]) for r in rows] == [
        ("visio", None),
        ("mon_compte", "Deux nouvelles collègues à former en janvier."),
    ]
    await fake.wait_for(lambda: "Deux nouvelles collègues" in (coordinator.last_message.text or ""))


async def test_a_new_agent_joining_raises_a_training_need_for_the_caf(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    newcomer = await network.join(Role.AGENT, first_name="Nadia")
    # Told once nobody else has joined for a few minutes (tests/e2e/test_links.py: a batch).
    network.clock.advance(minutes=5)
    await bot.app.bot_data["scheduler"].run_due()
    await fake.wait_for(lambda: "Nouveau signalement" in (coordinator.last_message.text or ""))
    assert "Nouvel agent à former" in coordinator.last_message.text
    assert "Nadia" in coordinator.last_message.text
    [signal] = (await signal_store.inbox(network.db, network.caf.id, limit=10))[0]
    assert signal.category == "nouvel_agent"
    # The newcomer follows it like any signal of theirs.
    await newcomer.tap("📣 Signaler")
    await newcomer.tap("📋 Mes signalements")
    assert "Besoin de formation" in newcomer.last_message.text
    # A manager joining is not a new agent to train automatically.
    await network.join(Role.MANAGER, first_name="Mathis")
    assert await network.db.fetch_value("SELECT COUNT(*) FROM signals") == 1


async def test_signals_unacknowledged_for_more_than_three_working_days_are_highlighted(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    # Thursday 26 November 2026, 10 h in Paris.
    await report_difficulty(agent, "Imprimante en panne.")
    network.clock.advance(timedelta(days=4))  # Monday 30: 2 working days
    await agent.tap("📣 Signaler")
    await agent.tap("⚠️ Une difficulté")
    await agent.tap("Matériel (poste, imprimante, réseau)")
    await agent.tap("Peut attendre")
    await agent.send("Écran qui clignote.")
    await coordinator.tap("📥 Signalements")
    assert "🔴" not in coordinator.last_message.text
    network.clock.advance(timedelta(days=2))  # Wednesday 2 December: 4 working days
    await coordinator.tap("📥 Signalements")
    # The agent's arrival (a training need) and the printer, both of Thursday, are late.
    assert "🔴 2 sans prise en charge depuis plus de 3 jours" in coordinator.last_message.text
    labels = [label for label in coordinator.last_message.labels if "n° " in label]
    assert [label[0] for label in labels] == ["🔴", "🔴", "🟡"]
    assert "🎓" in labels[0] and "⚠️" in labels[1] and "⚠️" in labels[2]
    await coordinator.tap(labels[1])
    assert "Sans réponse depuis 4 jours ouvrés" in coordinator.last_message.text
    await coordinator.tap("✅ Prendre en charge")
    await coordinator.tap("⬅️ Signalements")
    assert "🔴 1 sans prise en charge" in coordinator.last_message.text
    labels = [label for label in coordinator.last_message.labels if "n° " in label]
    assert [label[0] for label in labels] == ["🔴", "🟢", "🟡"]
    labels = [label for label in coordinator.last_message.labels if "n° " in label]
    assert [label[0] for label in labels] == ["🔴", "🟢", "🟡"]


async def test_the_inbox_filters_by_type_and_by_site(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    other = await network.join(Role.AGENT, partner=network.other_site, first_name="Olga")
    await report_difficulty(agent, "Connexion impossible.")
    await report_difficulty(other, "Scanner en panne.")
    await coordinator.tap("📥 Signalements")
    # Two automatic training needs (the agents joined) and two difficulties.
    assert "4 signalements non clos" in coordinator.last_message.text
    await coordinator.tap("🔎 Par type")
    await coordinator.tap("⚠️ Difficulté (2)")
    assert "2 signalements non clos" in coordinator.last_message.text
    await coordinator.tap("🏢 Par site")
    [albert] = [label for label in coordinator.last_message.labels if "Albert" in label]
    await coordinator.tap(albert)
    assert "1 signalement non clos" in coordinator.last_message.text
    assert (
        "Difficulté" in coordinator.last_message.text and "Albert" in coordinator.last_message.text
    )
    await coordinator.tap("✖️ Tout afficher")
    assert "4 signalements non clos" in coordinator.last_message.text


async def test_each_signal_is_refused_to_the_roles_the_permission_table_excludes(
    bot: RunningBot, network: Network, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    await coordinator.send("/signaler")
    assert "pas ouverte à votre rôle" in coordinator.last_message.text
    await agent.send("/signalements")
    assert "pas ouverte à votre rôle" in agent.last_message.text
    await manager.send("/signalements")
    assert "pas ouverte à votre rôle" in manager.last_message.text
    await report_difficulty(agent, "Connexion impossible.")
    signal_id = await network.db.fetch_value("SELECT id FROM signals WHERE kind = 'difficulty'")
    before = await network.db.fetch_value("SELECT total_changes()")
    # Forged buttons: an agent acting on the inbox, a manager on someone else's signal.
    await agent.tap_data(f"ib:ack:{signal_id}:all:0:0")
    assert "pas ouverte" in (agent.last_callback_answer or {}).get("text", "")
    await manager.tap_data(f"sg:one:{signal_id}:0:0")
    await manager.tap_data(f"sg:reply:{signal_id}:0:0")
    assert (
        await network.db.fetch_value("SELECT status FROM signals WHERE id = :id", {"id": signal_id})
        == "open"
    )
    # A coordinator of another Caf sees nothing of this one.
    other_caf = await network.add_caf("Caf de l'Oise")
    stranger_coordinator = await network.join(Role.COORDINATOR, caf=other_caf, first_name="Oscar")
    await stranger_coordinator.tap_data(f"ib:item:{signal_id}:all:0:0")
    await stranger_coordinator.tap_data(f"ib:ack:{signal_id}:all:0:0")
    assert (
        await network.db.fetch_value("SELECT status FROM signals WHERE id = :id", {"id": signal_id})
        == "open"
    )
    await stranger_coordinator.tap("📥 Signalements")
    assert "Rien en attente" in stranger_coordinator.last_message.text
    del before


async def test_a_suspended_site_still_signals_and_a_withdrawn_one_cannot(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    from bot.domain.permissions import LabelStatus

    await network.set_label(network.site, LabelStatus.SUSPENDED)
    await report_difficulty(agent, "Question sur le label.")
    assert "envoyé à la Caf" in agent.last_message.text
    await network.set_label(network.site, LabelStatus.WITHDRAWN)
    await agent.send("/signaler")
    assert "retiré" in agent.last_message.text


# Found by the fuzzing (tests/fuzz/), pinned down.
@pytest.mark.parametrize("settings_overrides", [harness.FAST_OUTBOX], ids=["fast_outbox"])
async def test_a_long_exchange_on_a_signal_still_fits_in_its_card(
    bot: RunningBot, network: Network, fake: FakeBotApi
) -> None:
    """Found by the fuzzing: every answer (up to 1,000 characters) was added to the signal's
    card until it passed 4,096 characters, and neither the site nor the Caf could open it."""
    w = await harness.build_world(bot, network, fake)
    agent, coordinator = w.users["agent"], w.users["coordinator"]
    await go(agent, w, *harness._DESCRIPTION, say("D" * 1000))
    signal_id = await harness._first_id(w, "SELECT MAX(id) FROM signals")
    for number in range(6):
        reply = [
            say("/signalements"),
            harness.press(lambda w: callbacks.InboxTap("item", signal_id, "all", 0, 0)),
        ]
        # Each notice delivered first: on a slower engine it may land after the card.
        await outbox_settled(network)
        await go(coordinator, w, *reply, tap("↩️ Répondre"), say(f"{number}" + "c" * 999))
        await outbox_settled(network)
        own = [
            say("/signaler"),
            harness.press(lambda w: callbacks.SignalTap("one", signal_id, "0", "0")),
        ]
        await go(agent, w, *own, tap("↩️ Répondre à la Caf"), say(f"{number}" + "a" * 999))
        assert not bot.errors, bot.errors
    await go(agent, w, *own)
    await go(coordinator, w, *reply)
    assert not bot.errors, bot.errors
    for card in (agent.last_message.text or "", coordinator.last_message.text or ""):
        assert "D" * 1000 in card and "8 messages plus anciens" in card
        assert "5" + "a" * 200 in card
    await outbox_settled(network)
    await harness.outbox_clean(w)
