"""Joining with an invitation (or coming back with one), menus by role and label, and every
refusal on the way."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.permissions import LabelStatus, PersonStatus, Role
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from storage import invitations, people
from tests.conftest import Network, RunningBot
from tests.e2e.test_visit import TYPICAL, log_visit

AGENT_MENU = [
    ["📝 Nouvelle visite"],
    ["🗂 Mes visites", "📊 Mes chiffres"],
    ["📰 Actualités", "🎓 Mode formation"],
    ["📣 Signaler", "📚 Documentation"],
    ["❓ Aide"],
]
MANAGER_MENU = [
    ["📝 Nouvelle visite"],
    ["🗂 Mes visites", "📊 Mes chiffres"],
    ["📰 Actualités", "🎓 Mode formation"],
    ["📣 Signaler", "🕘 Horaires et fermetures"],
    ["📈 Indicateurs", "👥 Mon équipe"],
    ["📚 Documentation", "❓ Aide"],
]
COORDINATOR_MENU = [
    ["📥 Signalements"],
    ["📢 Diffuser", "📅 Événements"],
    ["📈 Indicateurs", "🏢 Réseau"],
    ["⚙️ Ma Caf", "✅ Conformité"],
    ["📚 Documentation", "❓ Aide"],
]
# The commands Telegram offers each role, in their order.
AGENT_COMMANDS = (
    "start visite mesvisites chiffres actualites formation signaler documentation aide"
    " mesdonnees annuler"
)
COORDINATOR_COMMANDS = (
    "start signalements diffuser evenements indicateurs reseau macaf conformite documentation aide"
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
    await user.tap("✅ Je m'engage")  # Article 5 first (tests/e2e/test_secrecy.py)
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


async def test_a_suspended_site_is_flagged_and_keeps_logging_visits(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    """Issue #16: a label under review is still in force (Articles 4 and 9)."""
    await network.set_label(network.site, LabelStatus.SUSPENDED)
    await agent.send("/start")
    assert "suspendu" in agent.last_message.text
    assert "Le service continue" in agent.last_message.text
    assert agent.reply_keyboard == AGENT_MENU
    placeholder = (agent.last_message.reply_markup or {}).get("input_field_placeholder", "")
    assert "Label suspendu" in placeholder
    for entry in ("📝 Nouvelle visite", "/visite"):
        await agent.send(entry)
        assert "Nouvelle visite" in agent.last_message.text, entry
    await network.set_label(network.site, LabelStatus.ACTIVE)
    await agent.send("/start")
    assert "suspendu" not in agent.last_message.text
    placeholder = (agent.last_message.reply_markup or {}).get("input_field_placeholder", "")
    assert "suspendu" not in placeholder


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


# ------------------------------------------------------------------------------ coming back
async def revoke_through_the_bot(coordinator: FakeUser, site: str, who: str) -> None:
    await coordinator.tap("🏢 Réseau")
    [label] = [label for label in coordinator.last_message.labels if site in label]
    await coordinator.tap(label)
    await coordinator.tap("👥 Personnes")
    await coordinator.tap(who)
    await coordinator.tap("🚫 Retirer l'accès")
    await coordinator.tap("🚫 Oui, retirer l'accès")
    assert "Accès retiré" in coordinator.last_message.text


async def test_a_revoked_agent_comes_back_through_a_new_link_with_their_visits(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    """Issue #16: a revoked agent re-invited was told « déjà inscrit·e » and could not come
    back; only an erasure freed them, and it cut them from their past visits."""
    await log_visit(agent, TYPICAL)
    before = await people.member_by_telegram_id(network.db, agent.user_id)
    assert before is not None
    await revoke_through_the_bot(coordinator, "Mairie de Ham", "Agnès · agent d'accueil")
    await fake.wait_for(lambda: "accès à l'assistant" in (agent.last_message.text or ""))

    code = await network.invitation(Role.AGENT, partner=network.other_site)
    await agent.send(f"/start {code}")
    text = agent.last_message.text
    assert "Bon retour Agnès" in text and "France Services Albert" in text
    assert "Vos visites déjà enregistrées" in text
    assert ["📝 Nouvelle visite"] in (agent.reply_keyboard or [])
    assert "visite" in commands(agent).split()
    member = await people.member_by_telegram_id(network.db, agent.user_id)
    assert member is not None and member.person.id == before.person.id
    assert member.person.status is PersonStatus.ACTIVE and member.person.revoked_at is None
    assert member.partner is not None and member.partner.id == network.other_site.id
    # Their past visit is still theirs, and they log again.
    visits = "SELECT COUNT(*) FROM visits WHERE person_id = :p"
    assert await network.db.fetch_value(visits, {"p": before.person.id}) == 1
    await log_visit(agent, TYPICAL)
    assert await network.db.fetch_value(visits, {"p": before.person.id}) == 2
    rejoined = "SELECT COUNT(*) FROM audit_log WHERE action = 'person.rejoined' AND actor_id = :p"
    assert await network.db.fetch_value(rejoined, {"p": before.person.id}) == 1
    assert await network.db.fetch_value("SELECT COUNT(*) FROM people") == 2

    # Active again, another link finds them registered, and stays unused.
    again = await network.invitation(Role.MANAGER, partner=network.site)
    await agent.send(f"/start {again}")
    assert "déjà inscrit" in agent.last_message.text
    found = await invitations.find_by_code(network.db, again)
    assert found is not None and found.uses_left == 1


async def test_a_revoked_coordinator_comes_back_with_a_coordinators_menu(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    colleague = await network.join(Role.COORDINATOR, first_name="Claire")
    await colleague.tap("🏢 Réseau")
    await colleague.tap("👥 Coordination")
    await colleague.tap("Corinne · coordinateur·rice Caf")
    await colleague.tap("🚫 Retirer l'accès")
    await colleague.tap("🚫 Oui, retirer l'accès")
    await fake.wait_for(lambda: "accès à l'assistant" in (coordinator.last_message.text or ""))
    await coordinator.send("/start")
    assert "accès à l'assistant a été retiré" in coordinator.last_message.text

    await coordinator.send(f"/start {await network.invitation(Role.COORDINATOR)}")
    assert "Bon retour Corinne" in coordinator.last_message.text
    assert ["📥 Signalements"] in (coordinator.reply_keyboard or [])
    assert "reseau" in commands(coordinator).split()


async def test_an_erased_person_registers_anew(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    before = await people.member_by_telegram_id(network.db, agent.user_id)
    assert before is not None
    await coordinator.tap("🏢 Réseau")
    await coordinator.tap(next(b for b in coordinator.last_message.labels if "Ham" in b))
    await coordinator.tap("👥 Personnes")
    await coordinator.tap("Agnès · agent d'accueil")
    await coordinator.tap("🗑 Effacer ses données")
    await coordinator.tap("🗑 Oui, effacer définitivement")
    assert await people.member_by_telegram_id(network.db, agent.user_id) is None

    await agent.send(f"/start {await network.invitation(Role.AGENT, partner=network.site)}")
    assert "Bienvenue Agnès" in agent.last_message.text
    member = await people.member_by_telegram_id(network.db, agent.user_id)
    assert member is not None and member.person.id != before.person.id
    erased = await people.get(network.db, before.person.id)
    assert erased is not None and erased.telegram_user_id is None
