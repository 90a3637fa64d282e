"""Paths where a typed text used to escape the privacy screen (#17, item 8)."""

from __future__ import annotations

from bot.sandbox.bot_api import FakeUser
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
