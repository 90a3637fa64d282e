"""Text typed where a flow has buttons: that flow's current step comes again, below the text,
with its buttons, and the older copy keeps none; with no flow in progress, the menu and a
hint as before. Driven in 🕘 Horaires, 📣 Signaler and 🏢 Réseau as their users would."""

from __future__ import annotations

from bot.sandbox.bot_api import FakeBotApi, FakeMessage, FakeUser
from tests.conftest import Network, RunningBot
from tests.e2e.conftest import Restart
from tests.e2e.test_network import open_site

NOTICE = "⌨️ Pas besoin d'écrire ici : répondez avec les boutons ci-dessous."
NOT_UNDERSTOOD = "Je n'ai pas compris"


async def typed_brings_the_step_back(user: FakeUser, text: str = "bonjour ?") -> FakeMessage:
    """Types where buttons are expected; the step is shown again, the only live copy."""
    step = user.last_message
    shown, labels = step.text or "", step.labels
    assert labels, "the test starts on a step with buttons"
    await user.send(text)
    again = user.last_message
    assert again is not step
    assert (again.text or "").startswith(NOTICE)
    assert (again.text or "").endswith(shown)
    assert again.labels == labels
    assert step.labels == []
    assert [m for m in user.bot_messages if m.inline_buttons] == [again]
    return again


async def test_text_in_the_hours_shows_the_week_again_and_the_flow_goes_on(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    week = await typed_brings_the_step_back(manager, "je voudrais changer le lundi")
    await manager.tap("Lundi : Fermé")
    await manager.send("9h-12h / 14h-17h")  # the answer expected: in the new copy, in place
    assert manager.last_message is week
    assert "✅ Lundi : 9 h – 12 h, 14 h – 17 h" in week.text
    await manager.tap("Suivant ▶️")
    review = await typed_brings_the_step_back(manager)
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert "Horaires enregistrés" in review.text
    # Twice in a row: one live copy still, and the notice is not piled up.
    await manager.tap("⬅️ Horaires et fermetures")
    await typed_brings_the_step_back(manager)
    home = await typed_brings_the_step_back(manager)
    assert (home.text or "").count(NOTICE) == 1
    assert await network.db.fetch_value("SELECT COUNT(*) FROM opening_hours") == 1


async def test_text_in_signaler_shows_its_step_again(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📣 Signaler")
    await agent.tap("⚠️ Une difficulté")
    await typed_brings_the_step_back(agent, "le site de la Caf ne marche pas")
    await agent.tap("Une téléprocédure")
    assert "Peut attendre" in agent.last_message.labels


async def test_text_in_the_network_shows_the_site_card_again(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await open_site(coordinator, "Mairie de Ham")
    card = await typed_brings_the_step_back(coordinator, "Mairie de Ham")
    assert "Mairie de Ham" in (card.text or "")
    await coordinator.tap("👥 Personnes")
    assert coordinator.last_message is card


async def test_with_no_flow_in_progress_text_gets_the_menu_as_before(
    bot: RunningBot, network: Network, agent: FakeUser, restart: Restart
) -> None:
    await agent.send("bonjour")  # nothing shown yet
    assert NOT_UNDERSTOOD in agent.last_message.text and agent.reply_keyboard
    # A flow that ended in its message (a training need sent): no step left.
    await agent.tap("📣 Signaler")
    await agent.tap("🎓 Un besoin de formation")
    await agent.tap("Téléprocédures")
    await agent.tap("📨 Envoyer sans précision")
    await agent.send("merci")
    assert NOT_UNDERSTOOD in agent.last_message.text
    # /annuler: back to the menu, no step left.
    await agent.tap("📣 Signaler")
    await agent.send("/annuler")
    await agent.send("merci")
    assert NOT_UNDERSTOOD in agent.last_message.text
    # After a restart nothing is remembered: the menu is the answer.
    await agent.tap("📣 Signaler")
    await restart()
    await agent.send("merci")
    assert NOT_UNDERSTOOD in agent.last_message.text
