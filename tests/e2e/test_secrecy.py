"""Article 5 (issue #17): agents and managers commit to professional secrecy before anything
else, with « ✅ Je m'engage »; the bot keeps when, and to which version of the statement.
Driven as the newcomer, the person who joined before, and the coordinator would."""

from __future__ import annotations

import pytest

from bot.domain import secrecy as rules
from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeMessage, FakeUser
from bot.ui import callbacks
from bot.ui.screens import secrecy as screen
from tests.conftest import Network
from tests.e2e.test_onboarding import AGENT_MENU
from tests.e2e.test_visit import TYPICAL, log_visit

COMMIT = "✅ Je m'engage"
STATEMENT = "Secret professionnel — article 5"


def shows_statement(message: FakeMessage) -> bool:
    return STATEMENT in (message.text or "") and message.labels == [COMMIT]


async def commitment(network: Network, user: FakeUser) -> tuple[str | None, int | None]:
    row = await network.db.fetch_one(
        "SELECT secrecy_committed_at, secrecy_version FROM people WHERE telegram_user_id = :tg",
        {"tg": user.user_id},
    )
    assert row is not None
    return row["secrecy_committed_at"], row["secrecy_version"]


async def audited(network: Network) -> int:
    return int(
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'person.committed'"
        )
    )


async def visits(network: Network) -> int:
    return int(await network.db.fetch_value("SELECT COUNT(*) FROM visits"))


async def newcomer(network: Network, name: str, role: Role = Role.AGENT) -> FakeUser:
    """Joins through an invitation and stops at the statement (network.join commits)."""
    user = network.stranger(name)
    await user.send(f"/start {await network.invitation(role, partner=network.site)}")
    return user


@pytest.mark.usefixtures("bot")
async def test_a_new_agent_commits_before_anything_else_and_a_double_tap_changes_nothing(
    network: Network,
) -> None:
    nadia = await newcomer(network, "Nadia")
    welcome = nadia.last_message
    assert "Bienvenue Nadia" in welcome.text and shows_statement(welcome)
    assert "mot de passe caf.fr" in welcome.text and "226-13" in welcome.text
    assert nadia.reply_keyboard is None  # the statement stands for the whole menu
    assert [name for name, _ in nadia.commands or []] == ["start", "aide", "mesdonnees", "annuler"]
    assert await commitment(network, nadia) == (None, None)

    # Every way in is refused with the statement and its button: the menu's text, its
    # command, an inline shortcut, the help.
    for attempt in ("📝 Nouvelle visite", "/visite", "/chiffres", "/aide", "/start"):
        await nadia.send(attempt)
        assert shows_statement(nadia.last_message), attempt
    await nadia.tap_data(callbacks.encode(callbacks.MenuTap("visit")), welcome)
    assert "engagez-vous au secret professionnel" in (nadia.last_callback_answer or {})["text"]
    assert shows_statement(nadia.last_message)
    assert await visits(network) == 0
    await nadia.send("/mesdonnees")  # what the bot holds on her stays hers to see
    assert not shows_statement(nadia.last_message)

    before = len(nadia.bot_messages)
    await nadia.tap(COMMIT, welcome)
    assert (nadia.last_callback_answer or {}).get("text") == screen.COMMITTED
    assert "Vous vous êtes engagé·e le" in welcome.text and welcome.labels == []
    assert "agent d'accueil" in nadia.last_message.text
    assert nadia.reply_keyboard == AGENT_MENU
    assert "visite" in [name for name, _ in nadia.commands or []]
    at, version = await commitment(network, nadia)
    assert version == rules.SECRECY_VERSION and at is not None
    assert at.startswith(network.clock.now().isoformat()[:16])
    assert await audited(network) == 1
    assert len(nadia.bot_messages) == before + 1  # the menu

    # A double tap (the same button again, or another statement's): nothing changes.
    await nadia.tap_data(callbacks.encode(callbacks.SecrecyTap("ok", rules.SECRECY_VERSION)))
    assert (nadia.last_callback_answer or {}).get("text") == screen.ALREADY
    assert await audited(network) == 1 and await commitment(network, nadia) == (at, version)
    assert len(nadia.bot_messages) == before + 1

    assert await log_visit(nadia, TYPICAL) == 8
    assert await visits(network) == 1


@pytest.mark.usefixtures("bot")
async def test_a_manager_who_joined_before_is_asked_at_their_next_use(
    network: Network, manager: FakeUser
) -> None:
    # Joined before the statement existed (migration 0013 left them NULL).
    await network.db.execute(
        "UPDATE people SET secrecy_version = NULL, secrecy_committed_at = NULL"
    )
    await manager.tap("🕘 Horaires et fermetures")  # their old keyboard is still there
    assert shows_statement(manager.last_message)
    assert "Avant toute chose" in manager.last_message.text
    await manager.send("bonjour")  # a text outside any flow: the statement again
    assert shows_statement(manager.last_message)
    await manager.tap(COMMIT)
    assert (manager.last_callback_answer or {}).get("text") == screen.COMMITTED
    assert "responsable de site" in manager.last_message.text
    await manager.tap("🕘 Horaires et fermetures")
    assert not shows_statement(manager.last_message)
    assert await audited(network) == 2  # at joining (network.join), and now


@pytest.mark.usefixtures("bot")
async def test_the_coordinator_sees_who_has_not_committed(
    network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    nadia = await newcomer(network, "Nadia")
    await coordinator.tap("🏢 Réseau")
    [site] = [t for t in coordinator.last_message.labels if "Mairie de Ham" in t]
    await coordinator.tap(site)
    await coordinator.tap("👥 Personnes")
    labels = coordinator.last_message.labels
    assert "🔏 Nadia · agent d'accueil" in labels
    assert "Agnès · agent d'accueil" in labels  # the agent fixture, committed
    assert "1 personne pas encore engagée" in coordinator.last_message.text
    # Caf-wide, the compliance view names them on their site's card, « à surveiller ».
    await coordinator.send("/conformite")
    [card] = [t for t in coordinator.last_message.labels if "Mairie de Ham" in t]
    await coordinator.tap(card)
    expected = "🟠 1 personne pas encore engagée au secret professionnel (article 5) : Nadia."
    assert expected in coordinator.last_message.text

    await nadia.tap(COMMIT)
    await coordinator.send("/conformite")
    [card] = [t for t in coordinator.last_message.labels if "Mairie de Ham" in t]
    await coordinator.tap(card)
    assert "🟢 Toutes les personnes du site sont engagées" in coordinator.last_message.text
    await coordinator.tap("🏢 Fiche du site")
    await coordinator.tap("⬅️ Le site")
    await coordinator.tap("👥 Personnes")
    assert "Nadia · agent d'accueil" in coordinator.last_message.labels
    assert "pas encore engagée" not in coordinator.last_message.text
    await coordinator.tap("🏢 Réseau")
    await coordinator.tap("📜 Journal")
    assert "engagement au secret professionnel" in coordinator.last_message.text


@pytest.mark.usefixtures("bot")
async def test_a_new_version_of_the_text_asks_everyone_again(
    network: Network, agent: FakeUser, coordinator: FakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = callbacks.encode(callbacks.SecrecyTap("ok", rules.SECRECY_VERSION))
    monkeypatch.setattr(rules, "SECRECY_VERSION", rules.SECRECY_VERSION + 1)

    await agent.tap("📊 Mes chiffres")
    assert shows_statement(agent.last_message)
    assert f"Version {rules.SECRECY_VERSION} du texte" in agent.last_message.text
    # The former statement's button commits to nothing: the new text takes its place.
    await agent.tap_data(old)
    assert (agent.last_callback_answer or {}).get("text") == screen.NEW_TEXT
    assert (await commitment(network, agent))[1] == rules.SECRECY_VERSION - 1
    assert shows_statement(agent.last_message)

    await agent.tap(COMMIT)
    assert (await commitment(network, agent))[1] == rules.SECRECY_VERSION
    assert await audited(network) == 2
    await agent.tap("📊 Mes chiffres")
    assert not shows_statement(agent.last_message)
    # Coordinators are not asked (bound by their employer, the Caf).
    await coordinator.tap("🏢 Réseau")
    assert not shows_statement(coordinator.last_message)
