"""/mesdonnees and the erasure of a person, driven as the people concerned would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.domain.models import Caf
from bot.domain.permissions import LabelStatus, PersonStatus, Role
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from bot.ui import callbacks
from storage import people, personal_data
from storage.db import Database
from storage.personal_data import OnErase
from storage.timefmt import to_db
from tests.conftest import Network, RunningBot
from tests.e2e.test_network import open_site
from tests.e2e.test_notifications import outbox_settled
from tests.e2e.test_signals import report_difficulty
from tests.e2e.test_visit import TYPICAL, log_visit
from tests.fuzz.harness import (
    FAST_OUTBOX,
    NETWORK_FLOW,
    actor_of,
    build_world,
    compare,
    go,
    snapshot,
    tap,
)


async def person_id(network: Network, user: FakeUser) -> int:
    member = await people.member_by_telegram_id(network.db, user.user_id)
    assert member is not None
    return member.person.id


async def download(user: FakeUser) -> dict[str, Any]:
    await user.send("/mesdonnees")
    await user.tap("📥 Télécharger")
    document = user.last_message
    assert document.kind == "document", document
    assert document.document_name is not None and document.document_name.endswith(".json")
    assert document.document_bytes is not None
    return json.loads(document.document_bytes.decode("utf-8"))  # type: ignore[no-any-return]


async def test_an_agent_sees_and_downloads_what_the_bot_holds_about_them(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    assert await log_visit(agent, TYPICAL) == 8
    await report_difficulty(agent, "Le simulateur d'aide au logement reste bloqué.")

    await agent.send("/mesdonnees")
    summary = agent.last_message.text
    assert f"Compte Telegram n° {agent.user_id}" in summary
    assert "« Agnès »" in summary
    assert "Agent d'accueil — Mairie de Ham (Ham), Caf de la Somme" in summary
    assert "Visites enregistrées : 1" in summary
    # The difficulty, and the training need raised for them on arrival (Article 4).
    assert "Signalements envoyés à la Caf : 2" in summary
    assert "📥 Télécharger" in agent.last_message.labels

    data = await download(agent)
    assert data["identite"]["telegram_user_id"] == agent.user_id
    assert data["identite"]["display_name"] == "Agnès"
    assert data["visites"]["total"] == 1
    assert data["visites"]["par_site"][0]["site"] == "Mairie de Ham"
    descriptions = [signal["description"] for signal in data["signalements_envoyes"]]
    assert "Le simulateur d'aide au logement reste bloqué." in descriptions
    assert any(line["action"] == "person.joined" for line in data["journal"])
    assert set(personal_data.SECTION_KEYS) <= set(data)
    # Counts only: nothing of the visit's answers about the person received.
    text = json.dumps(data)
    assert "femme" not in text and "sexe" not in text


async def test_revoked_people_and_withdrawn_sites_keep_their_access_to_their_data(
    bot: RunningBot, network: Network, agent: FakeUser, manager: FakeUser
) -> None:
    await people.set_status(
        network.db, await person_id(network, agent), PersonStatus.REVOKED, network.clock.now()
    )
    await network.set_label(network.site, LabelStatus.WITHDRAWN)
    await agent.send("/visite")
    assert "/mesdonnees" in agent.last_message.text  # the refusal says where to look
    for user, name in ((agent, "Agnès"), (manager, "Marc")):
        await user.send("/mesdonnees")
        assert f"« {name} »" in user.last_message.text
        data = await download(user)
        assert data["identite"]["display_name"] == name
    await agent.send("/mesdonnees")
    assert "Accès retiré le" in agent.last_message.text


async def test_a_stranger_is_told_the_bot_holds_nothing_but_their_wrong_codes(
    bot: RunningBot, network: Network
) -> None:
    stranger = network.stranger()
    await stranger.send("/mesdonnees")
    assert "ne garde aucune donnée sur vous." in stranger.last_message.text
    assert "réservé aux membres" in stranger.last_message.text
    await stranger.send("/start code-qui-n-existe-pas-0001")
    await stranger.send("/mesdonnees")
    assert "sauf 1 code d'invitation erroné" in stranger.last_message.text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM people") == 0
    await stranger.tap_data(
        callbacks.encode(callbacks.PersonalDataTap("dl", 0, 0)), stranger.last_message
    )
    assert "réservé aux membres" in (stranger.last_callback_answer or {}).get("text", "")


async def references(db: Database, person: int, telegram_user_id: int) -> dict[str, int]:
    """Rows that still name the person where an erasure must leave none."""
    left = {}
    for column in personal_data.PERSON_COLUMNS:
        if column.on_erase in (OnErase.DELETED, OnErase.CLEARED, OnErase.IDENTITY):
            value = telegram_user_id if column.telegram else person
            n = await db.fetch_value(
                f"SELECT COUNT(*) FROM {column.table} WHERE {column.column} = :v", {"v": value}
            )
            if n:
                left[f"{column.table}.{column.column}"] = n
    return left


@pytest.mark.usefixtures("bot")
async def test_a_coordinator_erases_an_agent_whose_visits_stay_as_anonymous_figures(
    network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    agent_id = await person_id(network, agent)
    assert await log_visit(agent, TYPICAL) == 8
    await agent.tap("📝 Nouvelle visite")
    await agent.tap("Femme")  # a visit left half-filled
    await agent.send("/start code-qui-n-existe-pas-0002")
    now = to_db(network.clock.now())
    async with network.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO outbox (kind, dedup_key, person_id, chat_id, text, not_before,"
            " created_at, updated_at) VALUES ('notice', 'later', :p, :tg, 'Plus tard',"
            " '2099-01-01T00:00:00+00:00', :now, :now)",
            {"p": agent_id, "tg": agent.user_id, "now": now},
        )
    assert await references(network.db, agent_id, agent.user_id)

    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap("👥 Personnes")
    await coordinator.tap("Agnès · agent d'accueil")
    await coordinator.tap("🗑 Effacer ses données")
    assert "Effacer les données d'Agnès (agent d'accueil) ?" in coordinator.last_message.text
    assert "définitif" in coordinator.last_message.text
    await coordinator.tap("✖️ Non")
    assert (await people.get(network.db, agent_id)).telegram_user_id == agent.user_id  # type: ignore[union-attr]
    await coordinator.tap("🗑 Effacer ses données")
    await coordinator.tap("🗑 Oui, effacer définitivement")
    assert f"Personne effacée n° {agent_id}" in coordinator.last_message.text

    erased = await people.get(network.db, agent_id)
    assert erased is not None
    assert erased.telegram_user_id is None
    assert erased.display_name == f"Personne effacée n° {agent_id}"
    assert erased.status is PersonStatus.REVOKED
    assert await references(network.db, agent_id, agent.user_id) == {}
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM visit_drafts WHERE person_id = :p AND status = 'open'",
            {"p": agent_id},
        )
        == 0
    )
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM visits WHERE person_id = :p", {"p": agent_id}
        )
        == 1
    )
    audit = await network.db.fetch_one("SELECT * FROM audit_log WHERE action = 'person.erased'")
    assert audit is not None and audit["target_id"] == agent_id
    assert audit["actor_id"] == await person_id(network, coordinator)

    # Told once, directly; their keyboard and commands are a stranger's again.
    assert "Vos données ont été effacées" in agent.last_message.text
    assert agent.reply_keyboard is None
    assert agent.commands is None
    await agent.send("/start")
    assert "lien d'invitation" in agent.last_message.text
    await agent.send("/mesdonnees")
    assert "ne garde aucune donnée sur vous." in agent.last_message.text

    # The card now reads as an anonymous row; a second erasure is impossible.
    await coordinator.tap("⬅️ Retour")
    await coordinator.tap(f"🚫 Personne effacée n° {agent_id} · agent d'accueil")
    assert "🗑 Effacer ses données" not in coordinator.last_message.labels
    await coordinator.tap_data(
        callbacks.encode(callbacks.PersonalDataTap("erase", agent_id, 1)),
        coordinator.last_message,
    )
    assert "déjà effacées" in (coordinator.last_callback_answer or {}).get("text", "")

    # They may come back, as a new person, with a new invitation.
    code = await network.invitation(Role.AGENT, partner=network.site)
    await agent.send(f"/start {code}")
    assert "Bienvenue Agnès" in agent.last_message.text
    assert await person_id(network, agent) != agent_id


@pytest.mark.usefixtures("bot")
async def test_only_a_coordinator_of_the_same_caf_erases_and_never_themselves(
    network: Network, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    agent_id = await person_id(network, agent)
    coordinator_id = await person_id(network, coordinator)
    other_caf = await network.add_caf("Caf de l'Oise")
    outsider = await network.join(Role.COORDINATOR, caf=other_caf, first_name="Octave")

    await coordinator.tap("🏢 Réseau")
    await coordinator.tap("👥 Coordination")
    await coordinator.tap("Corinne · coordinateur·rice Caf")
    assert "🗑 Effacer ses données" not in coordinator.last_message.labels
    attempts = [
        (coordinator, callbacks.PersonalDataTap("erase", coordinator_id, 1), "expiré"),
        (outsider, callbacks.PersonalDataTap("erase", agent_id, 1), "expiré"),
        (manager, callbacks.PersonalDataTap("erase", agent_id, 1), "pas ouverte à votre rôle"),
        (agent, callbacks.PersonalDataTap("erase", coordinator_id, 1), "pas ouverte"),
        (agent, callbacks.PersonalDataTap("dl", 5, 0), "expiré"),  # not canonical
    ]
    for user, payload, answer in attempts:
        await user.send("/mesdonnees")
        await user.tap_data(callbacks.encode(payload), user.last_message)
        assert answer in (user.last_callback_answer or {}).get("text", ""), user
    for user in (agent, coordinator):
        person = await people.member_by_telegram_id(network.db, user.user_id)
        assert person is not None and person.person.status is PersonStatus.ACTIVE
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'person.erased'"
        )
        == 0
    )


# Found by the fuzzing (tests/fuzz/), pinned down.
@pytest.mark.parametrize("settings_overrides", [FAST_OUTBOX], ids=["fast_outbox"])
async def test_erasing_a_person_leaves_another_cafs_namesake_alone(
    bot: RunningBot, network: Network, fake: FakeBotApi
) -> None:
    """Found by the fuzzing's rights check: erasing this Caf's Chloé blanked every message
    the bot had recorded with « Chloé » in it, the other Caf's own Chloé's included."""
    w = await build_world(bot, network, fake)
    who = await actor_of(w, "coordinator")
    await NETWORK_FLOW.steps["erase"](w)
    await outbox_settled(network)
    before = await snapshot(w, who)
    await go(w.users["coordinator"], w, tap("🗑 Oui, effacer définitivement"))
    assert "Données effacées" in (w.users["coordinator"].last_message.text or "")
    await outbox_settled(network)
    assert not compare(before, await snapshot(w, who))

    async def mentions(caf: Caf) -> int:
        return int(
            await network.db.fetch_value(
                "SELECT COUNT(*) FROM outbox WHERE instr(text, 'Chloé') > 0 AND person_id IN"
                " (SELECT id FROM people WHERE caf_id = :caf)",
                {"caf": caf.id},
            )
        )

    assert await mentions(network.caf) == 0  # the erased person's name is gone from here
    assert await mentions(w.caf_b) >= 1  # and the other Caf's Chloé is still named there
