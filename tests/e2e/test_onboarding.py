"""Joining with an invitation, menus by role and label, and every refusal on the way."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.permissions import LabelStatus, PersonStatus, Role
from storage import invitations, people
from tests.conftest import Network, RunningBot
from tests.fake_bot_api import FakeUser

AGENT_MENU = [
    ["📝 Nouvelle visite"],
    ["📊 Mes chiffres", "🎓 Mode formation"],
    ["📣 Signaler", "📚 Documentation"],
    ["❓ Aide"],
]
MANAGER_MENU = [
    ["📝 Nouvelle visite"],
    ["📊 Mes chiffres", "🎓 Mode formation"],
    ["📣 Signaler", "🕘 Horaires et fermetures"],
    ["📈 Indicateurs", "👥 Mon équipe"],
    ["📚 Documentation", "❓ Aide"],
]
COORDINATOR_MENU = [
    ["📥 Signalements"],
    ["📢 Diffuser", "📅 Événements"],
    ["📈 Indicateurs", "🏢 Réseau"],
    ["✅ Conformité", "📚 Documentation"],
    ["❓ Aide"],
]
# The commands Telegram offers each role, in their order.
AGENT_COMMANDS = "start visite chiffres formation signaler documentation aide mesdonnees annuler"
COORDINATOR_COMMANDS = (
    "start signalements diffuser evenements indicateurs reseau conformite documentation aide"
    " mesdonnees annuler"
)


def commands(user: FakeUser) -> str:
    return " ".join(name for name, _ in user.commands or [])


async def test_agent_joins_with_link_and_sees_their_menu(bot: RunningBot, network: Network) -> None:
    code = await network.invitation(Role.AGENT, partner=network.site)
    user = network.stranger("Agnès")
    await user.send(f"/start {code}")
    assert "Bienvenue Agnès" in user.last_message.text
    assert "agent d'accueil" in user.last_message.text
    assert "Mairie de Ham" in user.last_message.text
    assert user.reply_keyboard == AGENT_MENU
    member = await people.member_by_telegram_id(network.db, user.user_id)
    assert member is not None and member.person.role is Role.AGENT
    assert member.partner is not None and member.partner.id == network.site.id
    assert commands(user) == AGENT_COMMANDS


async def test_coordinator_joins_without_visit_entries(bot: RunningBot, network: Network) -> None:
    user = await network.join(Role.COORDINATOR)
    assert "coordinateur" in user.last_message.text
    assert user.reply_keyboard == COORDINATOR_MENU
    assert commands(user) == COORDINATOR_COMMANDS


async def test_manager_menu_has_visit_entries(bot: RunningBot, network: Network) -> None:
    user = await network.join(Role.MANAGER)
    assert "responsable de site" in user.last_message.text
    assert user.reply_keyboard == MANAGER_MENU


async def test_stranger_without_code_is_told_how_to_get_access(
    bot: RunningBot, network: Network
) -> None:
    user = network.stranger()
    await user.send("/start")
    assert "lien d'invitation" in user.last_message.text
    await user.send("/aide")
    assert "réservé au réseau" in user.last_message.text
    await user.send("📝 Nouvelle visite")
    assert "réservé aux membres" in user.last_message.text
    assert await people.member_by_telegram_id(network.db, user.user_id) is None


async def test_unknown_code_is_refused(bot: RunningBot, network: Network) -> None:
    user = network.stranger()
    await user.send("/start pas-un-vrai-code-0123456789")
    assert "n'est pas reconnu" in user.last_message.text
    await user.send("/start <b>")
    assert "n'est pas reconnu" in user.last_message.text


async def test_expired_code_is_refused(bot: RunningBot, network: Network) -> None:
    code = await network.invitation(Role.AGENT, partner=network.site, expires_in=timedelta(hours=1))
    network.clock.advance(hours=2)
    user = network.stranger()
    await user.send(f"/start {code}")
    assert "a expiré" in user.last_message.text
    assert await people.member_by_telegram_id(network.db, user.user_id) is None


async def test_used_up_code_is_refused(bot: RunningBot, network: Network) -> None:
    code = await network.invitation(Role.AGENT, partner=network.site, uses=1)
    first, second = network.stranger("Un"), network.stranger("Deux")
    await first.send(f"/start {code}")
    assert "Bienvenue" in first.last_message.text
    await second.send(f"/start {code}")
    assert "déjà servi" in second.last_message.text


async def test_code_with_several_uses_serves_each(bot: RunningBot, network: Network) -> None:
    code = await network.invitation(Role.AGENT, partner=network.site, uses=2)
    for name in ("Un", "Deux"):
        user = network.stranger(name)
        await user.send(f"/start {code}")
        assert "Bienvenue" in user.last_message.text
    third = network.stranger("Trois")
    await third.send(f"/start {code}")
    assert "déjà servi" in third.last_message.text


async def test_revoked_code_is_refused(bot: RunningBot, network: Network) -> None:
    code = await network.invitation(Role.AGENT, partner=network.site)
    found = await invitations.find_by_code(network.db, code)
    assert found is not None
    await invitations.revoke(network.db, found.id, network.clock.now())
    user = network.stranger()
    await user.send(f"/start {code}")
    assert "a été annulé" in user.last_message.text


async def test_repeated_wrong_codes_are_slowed_down(bot: RunningBot, network: Network) -> None:
    user = network.stranger()
    for attempt in range(5):
        await user.send(f"/start mauvais-code-numero-{attempt:04d}")
        assert "n'est pas reconnu" in user.last_message.text
    good = await network.invitation(Role.AGENT, partner=network.site)
    await user.send(f"/start {good}")
    assert "Trop de codes erronés" in user.last_message.text
    assert "15 minutes" in user.last_message.text
    assert await people.member_by_telegram_id(network.db, user.user_id) is None
    network.clock.advance(minutes=16)
    await user.send(f"/start {good}")
    assert "Bienvenue" in user.last_message.text


async def test_registered_person_opening_another_invitation_is_told(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    code = await network.invitation(Role.MANAGER, partner=network.other_site)
    await agent.send(f"/start {code}")
    assert "déjà inscrit" in agent.last_message.text
    member = await people.member_by_telegram_id(network.db, agent.user_id)
    assert member is not None and member.person.role is Role.AGENT
    # The invitation was not consumed: someone else can still use it.
    found = await invitations.find_by_code(network.db, code)
    assert found is not None and found.uses_left == 1


async def test_start_again_shows_the_menu(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.send("/start")
    assert "Que souhaitez-vous faire" in agent.last_message.text
    assert agent.reply_keyboard == AGENT_MENU


async def test_suspended_site_cannot_log_but_keeps_the_rest(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await network.set_label(network.site, LabelStatus.SUSPENDED)
    await agent.send("/start")
    assert "suspendu" in agent.last_message.text
    assert agent.reply_keyboard == [
        ["📊 Mes chiffres"],
        ["📣 Signaler", "📚 Documentation"],
        ["❓ Aide"],
    ]
    for entry in ("📝 Nouvelle visite", "/visite"):
        await agent.send(entry)
        assert "suspendu" in agent.last_message.text, entry
    await agent.send("📊 Mes chiffres")
    assert "Mes chiffres" in agent.last_message.text


async def test_withdrawn_site_gets_an_explanation_only(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await network.set_label(network.site, LabelStatus.WITHDRAWN)
    for entry in ("/start", "📊 Mes chiffres", "/chiffres"):
        await agent.send(entry)
        assert "a été retiré" in agent.last_message.text, entry


async def test_revoked_person_gets_an_explanation_only(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    member = await people.member_by_telegram_id(network.db, agent.user_id)
    assert member is not None
    await people.set_status(network.db, member.person.id, PersonStatus.REVOKED, network.clock.now())
    for entry in ("📝 Nouvelle visite", "/start"):
        await agent.send(entry)
        assert "accès à l'assistant a été retiré" in agent.last_message.text, entry
    assert agent.reply_keyboard is None or agent.reply_keyboard == [["❓ Aide"]]


async def test_help_is_per_role(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    await agent.send("/aide")
    assert "Nouvelle visite" in agent.last_message.text
    assert "Confidentialité" in agent.last_message.text
    await coordinator.send("❓ Aide")
    assert "Nouvelle visite" not in coordinator.last_message.text
