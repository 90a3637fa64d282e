"""A person's life in the network (issue #16), driven as the coordinator, the manager and the
agent would: a move to another site, several sites and the question of the day, a role
changed, each change audited and told, and what is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.permissions import LabelStatus, Role
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from bot.ui import callbacks
from bot.ui.callbacks import NetworkTap
from storage import invitations, people
from tests.conftest import Network
from tests.e2e.test_visit import TYPICAL, log_visit

HAM, ALBERT = "Mairie de Ham (Ham)", "France Services Albert (Albert)"
QUESTION = "Où travaillez-vous aujourd'hui ?"


async def open_person(user: FakeUser, site: str | None, label: str) -> None:
    """A person's card: from 🏢 Réseau → the site → 👥 Personnes (a coordinator), or from
    👥 Mon équipe (a manager, `site` None)."""
    if site is None:
        await user.tap("👥 Mon équipe")
    else:
        await user.tap("🏢 Réseau")
        [title] = [t for t in user.last_message.labels if t.startswith(site)]
        await user.tap(title)
        await user.tap("👥 Personnes")
    await user.tap(label)


async def person_id(network: Network, user: FakeUser) -> int:
    member = await people.member_by_telegram_id(network.db, user.user_id)
    assert member is not None
    return member.person.id


async def visits_at(network: Network, site_id: int) -> int:
    return int(
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM visits WHERE partner_id = :p", {"p": site_id}
        )
    )


async def audited(network: Network, action: str, target: int) -> int:
    return int(
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = :a AND target_id = :t",
            {"a": action, "t": target},
        )
    )


async def give_site(coordinator: FakeUser, site: str, label: str, title: str) -> None:
    """🗂 Ses sites on the person's card: `title` ticked."""
    await open_person(coordinator, site, label)
    await coordinator.tap("🗂 Ses sites")
    await coordinator.tap(f"▫️ {title}")
    assert (coordinator.last_callback_answer or {}).get("text") == "Site ajouté."
    assert f"✅ {title}" in coordinator.last_message.labels


# ------------------------------------------------------------------------------ a move
@pytest.mark.usefixtures("bot")
async def test_an_agent_moved_to_another_site_logs_there_and_the_first_site_keeps_its_figures(
    network: Network, fake: FakeBotApi, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    assert await log_visit(agent, TYPICAL) == 8  # at Ham
    agnes = await person_id(network, agent)

    await open_person(coordinator, "🟢 Mairie de Ham", "Agnès · agent d'accueil")
    await coordinator.tap("🏠 Changer de site")
    assert "Où travaille désormais Agnès" in coordinator.last_message.text
    assert f"✅ {HAM}" in coordinator.last_message.labels
    await coordinator.tap(ALBERT)
    assert (coordinator.last_callback_answer or {}).get("text") == "Site changé."
    assert "Agnès travaille désormais à France Services Albert" in coordinator.last_message.text
    assert "Travaille sur" not in coordinator.last_message.text  # one site only

    await fake.wait_for(lambda: "Vos sites ont changé" in agent.last_message.text)
    notice = agent.last_message.text
    assert "par la coordination de Caf de la Somme" in notice
    assert "Vous travaillez désormais à France Services Albert" in notice
    assert ["📝 Nouvelle visite"] in (agent.reply_keyboard or [])
    assert await audited(network, "person.moved", agnes) == 1

    assert await log_visit(agent, TYPICAL) == 8  # not asked: one site, Albert
    assert await visits_at(network, network.other_site.id) == 1
    assert await visits_at(network, network.site.id) == 1
    await agent.tap("📊 Mes chiffres")
    assert "Mes chiffres — France Services Albert" in agent.last_message.text
    await manager.tap("📊 Mes chiffres")  # Ham's figures: its one visit, before the move
    assert "Mes chiffres — Mairie de Ham" in manager.last_message.text
    assert "Le site\n• Aujourd'hui : 1" in manager.last_message.text
    # Ham's people no longer list her; Albert's do.
    await manager.tap("👥 Mon équipe")
    assert "Agnès · agent d'accueil" not in manager.last_message.labels
    albert = await people.list_for_partner(network.db, network.other_site.id)
    assert [p.display_name for p in albert] == ["Agnès"]


# ------------------------------------------------------------------------------ several sites
@pytest.mark.usefixtures("bot")
async def test_an_agent_of_two_sites_is_asked_once_a_day_and_switches_from_the_menu(
    network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    agnes = await person_id(network, agent)
    assert ["📍 Changer de site"] not in (agent.reply_keyboard or [])
    await give_site(coordinator, "🟢 Mairie de Ham", "Agnès · agent d'accueil", ALBERT)
    await coordinator.tap("✔️ Terminé")
    assert "Travaille sur 2 sites" in coordinator.last_message.text
    assert await audited(network, "person.site_added", agnes) == 1

    await fake.wait_for(lambda: "Vos sites ont changé" in agent.last_message.text)
    assert "Chaque jour, l'assistant vous demandera" in agent.last_message.text
    assert any("📍 Changer de site" in row for row in agent.reply_keyboard or [])
    assert "site" in [name for name, _ in agent.commands or []]

    # The first entry of the day asks, and the answer goes straight on into the visit.
    await agent.tap("📝 Nouvelle visite")
    assert QUESTION in agent.last_message.text
    assert agent.last_message.labels == [f"📍 {ALBERT}", f"📍 {HAM}"]
    question = agent.last_message
    await agent.tap(f"📍 {HAM}")
    assert "Vous travaillez aujourd'hui à Mairie de Ham" in question.text
    for label in TYPICAL:  # no second tap: the visit's first step is there
        await agent.tap(label)
    assert await visits_at(network, network.site.id) == 1

    # « 📍 Changer de site » at any time; the current site is ticked.
    await agent.tap("📍 Changer de site")
    assert f"✅ {HAM}" in agent.last_message.labels
    await agent.tap(f"📍 {ALBERT}")
    assert "Vous travaillez maintenant à France Services Albert" in agent.last_message.text
    assert await log_visit(agent, TYPICAL) == 8  # not asked again today
    assert await visits_at(network, network.other_site.id) == 1
    await agent.tap("📊 Mes chiffres")
    assert "Mes chiffres — France Services Albert" in agent.last_message.text
    assert await audited(network, "person.site_chosen", network.other_site.id) == 1

    # The next day in the Caf's zone (00:10 in Paris, still the same day in UTC): asked again.
    now = network.clock.now()
    network.clock.advance(timedelta(hours=23 - now.hour, minutes=10 - now.minute))
    await agent.tap("📊 Mes chiffres")
    assert QUESTION in agent.last_message.text
    question = agent.last_message
    await agent.tap(f"📍 {ALBERT}")
    assert "Mes chiffres — France Services Albert" in agent.last_message.text
    # A second tap on that question (a double tap) opens nothing twice.
    answered = len(agent.bot_messages)
    again = callbacks.WorkSiteTap(network.other_site.id, "figures")
    await agent.tap_data(callbacks.encode(again), question)
    assert (agent.last_callback_answer or {}).get("text") == "Déjà pris en compte."
    assert len(agent.bot_messages) == answered


@pytest.mark.usefixtures("bot")
async def test_a_manager_moves_an_agent_among_their_own_two_sites(
    network: Network, fake: FakeBotApi, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    elsewhere = await network.add_site("Médiathèque de Péronne")
    await give_site(coordinator, "🟢 Mairie de Ham", "Marc · responsable de site", ALBERT)
    await fake.wait_for(lambda: "Vos sites ont changé" in manager.last_message.text)

    await manager.tap("👥 Mon équipe")
    assert QUESTION in manager.last_message.text
    await manager.tap(f"📍 {HAM}")
    assert "Agnès · agent d'accueil" in manager.last_message.labels  # Ham's team, at once
    await manager.tap("Agnès · agent d'accueil")
    card = manager.last_message.labels
    assert "🏠 Changer de site" in card and "🗂 Ses sites" in card
    assert not any("responsable" in label for label in card)  # the Caf changes roles
    await manager.tap("🏠 Changer de site")
    assert manager.last_message.labels[:2] == [ALBERT, f"✅ {HAM}"]
    assert not any("Péronne" in label for label in manager.last_message.labels)
    await manager.tap(ALBERT)
    assert "Agnès travaille désormais à France Services Albert" in manager.last_message.text

    await fake.wait_for(lambda: "Vos sites ont changé" in agent.last_message.text)
    assert "par le ou la responsable de votre site" in agent.last_message.text
    agnes = await person_id(network, agent)
    assert await audited(network, "person.moved", agnes) == 1
    assert await log_visit(agent, TYPICAL) == 8
    assert await visits_at(network, network.other_site.id) == 1

    # Out of his reach: another site, and roles.
    before = await network.db.fetch_value("SELECT COUNT(*) FROM audit_log")
    menu = manager.last_message
    await manager.tap_data(callbacks.encode(NetworkTap("moveto", agnes, elsewhere.id)), menu)
    assert "expiré" in (manager.last_callback_answer or {}).get("text", "")
    await manager.tap_data(callbacks.encode(NetworkTap("roleok", agnes, 2)), menu)
    assert "pas ouverte à votre rôle" in (manager.last_callback_answer or {}).get("text", "")
    assert await network.db.fetch_value("SELECT COUNT(*) FROM audit_log") == before
    moved = await people.get(network.db, agnes)
    assert moved is not None and moved.role is Role.AGENT
    assert moved.partner_id == network.other_site.id


# ------------------------------------------------------------------------------ a role
@pytest.mark.usefixtures("bot")
async def test_an_agent_made_manager_gets_the_managers_menu_and_commands_at_once(
    network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    agnes = await person_id(network, agent)
    await open_person(coordinator, "🟢 Mairie de Ham", "Agnès · agent d'accueil")
    await coordinator.tap("⬆️ Passer responsable de site")
    assert (
        "Passer Agnès responsable de site à Mairie de Ham (Ham) ?" in coordinator.last_message.text
    )
    await coordinator.tap("✅ Oui, responsable de site")
    assert (coordinator.last_callback_answer or {}).get("text") == "Rôle changé."
    assert "Agnès est maintenant responsable de site" in coordinator.last_message.text
    assert "⬇️ Passer agent d'accueil" in coordinator.last_message.labels

    await fake.wait_for(lambda: "Votre rôle a changé" in agent.last_message.text)
    assert "responsable de site" in agent.last_message.text
    assert "par la coordination de Caf de la Somme" in agent.last_message.text
    keyboard = [label for row in agent.reply_keyboard or [] for label in row]
    assert "🕘 Horaires et fermetures" in keyboard and "👥 Mon équipe" in keyboard
    commands = [name for name, _ in agent.commands or []]
    assert "horaires" in commands and "equipe" in commands
    await agent.send("/start")
    assert "👥 Mon équipe" in [label for row in agent.reply_keyboard or [] for label in row]
    await agent.tap("🕘 Horaires et fermetures")
    assert "pas ouverte" not in agent.last_message.text
    assert await audited(network, "person.role_changed", agnes) == 1

    # As a manager she invites an agent; the link goes when she is an agent again.
    async with network.db.transaction() as tx:
        code, _ = await invitations.create(
            tx,
            role=Role.AGENT,
            caf_id=network.caf.id,
            partner_id=network.site.id,
            uses=5,
            expires_at=network.clock.now() + timedelta(days=7),
            created_by=agnes,
            now=network.clock.now(),
        )

    # And back: the manager's entries go, and her link with them.
    await coordinator.tap("⬇️ Passer agent d'accueil")
    await coordinator.tap("✅ Oui, agent d'accueil")
    await fake.wait_for(lambda: "agent d'accueil" in agent.last_message.text)
    refreshed = await invitations.find_by_code(network.db, code)
    assert refreshed is not None and refreshed.revoked_at is not None
    keyboard = [label for row in agent.reply_keyboard or [] for label in row]
    assert "🕘 Horaires et fermetures" not in keyboard
    assert "horaires" not in [name for name, _ in agent.commands or []]
    assert await audited(network, "person.role_changed", agnes) == 2


# ------------------------------------------------------------------------------ refusals
@pytest.mark.usefixtures("bot")
async def test_what_cannot_change_is_refused_and_changes_nothing(
    network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    colleague = await network.join(Role.COORDINATOR, first_name="Claire")
    other_caf = await network.add_caf("Caf de l'Oise")
    beauvais = await network.add_site("Mairie de Beauvais", caf=other_caf)
    roye = await network.add_site("Centre social de Roye")
    await network.set_label(roye, LabelStatus.WITHDRAWN)
    agnes, claire = await person_id(network, agent), await person_id(network, colleague)
    await open_person(coordinator, "🟢 Mairie de Ham", "Agnès · agent d'accueil")
    await coordinator.tap("🗂 Ses sites")
    assert not any("Roye" in label for label in coordinator.last_message.labels)
    assert not any("Beauvais" in label for label in coordinator.last_message.labels)
    before = await network.db.fetch_value("SELECT COUNT(*) FROM audit_log")
    menu = coordinator.last_message

    async def told(tap: NetworkTap) -> str:
        await coordinator.tap_data(callbacks.encode(tap), menu)
        return str((coordinator.last_callback_answer or {}).get("text", ""))

    await coordinator.tap(f"✅ {HAM}")  # her only site
    assert "garde au moins un site" in (coordinator.last_callback_answer or {}).get("text", "")
    assert "ne se change pas ici" in await told(NetworkTap("roleok", claire, 1))
    assert "ne se change pas ici" in await told(NetworkTap("role", claire, 1))
    assert "perdu son label" in await told(NetworkTap("padd", agnes, roye.id))
    assert "perdu son label" in await told(NetworkTap("moveto", agnes, roye.id))
    assert "expiré" in await told(NetworkTap("padd", agnes, beauvais.id))
    assert "expiré" in await told(NetworkTap("moveto", agnes, beauvais.id))
    assert "Déjà pris en compte" in await told(NetworkTap("roleok", agnes, 1))  # an agent
    assert "Déjà pris en compte" in await told(NetworkTap("moveto", agnes, network.site.id))
    assert await network.db.fetch_value("SELECT COUNT(*) FROM audit_log") == before
    assert (
        await network.db.fetch_value("SELECT COUNT(*) FROM outbox WHERE kind LIKE 'person_%'") == 0
    )
    still = await people.member(network.db, agnes)
    assert still is not None and still.partner == network.site and still.site_count == 1
    assert still.person.role is Role.AGENT

    # A person of one site has nothing to choose.
    await agent.send("/site")
    assert "un seul site" in agent.last_message.text
    data = callbacks.encode(callbacks.WorkSiteTap(network.other_site.id, "visit"))
    await agent.tap_data(data, agent.last_message)
    assert "un seul site" in (agent.last_callback_answer or {}).get("text", "")


@pytest.mark.usefixtures("bot")
async def test_a_visit_begun_before_a_switch_of_site_finishes_where_it_began(
    network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    await give_site(coordinator, "🟢 Mairie de Ham", "Agnès · agent d'accueil", ALBERT)
    await coordinator.tap("✔️ Terminé")
    await fake.wait_for(lambda: "Vos sites ont changé" in agent.last_message.text)
    await agent.tap("📝 Nouvelle visite")
    await agent.tap(f"📍 {HAM}")
    visit = agent.last_message
    for label in TYPICAL[:4]:
        await agent.tap(label, visit)
    # Half-way, she says she now works at Albert (📍), then finishes the visit she began.
    await agent.tap("📍 Changer de site")
    await agent.tap(f"📍 {ALBERT}")
    for label in TYPICAL[4:]:
        await agent.tap(label, visit)
    assert "Visite enregistrée" in visit.text
    assert (
        await visits_at(network, network.site.id),
        await visits_at(network, network.other_site.id),
    ) == (1, 0)
