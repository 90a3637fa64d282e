"""The real `python -m bot run`, at LOG_LEVEL=DEBUG, through a whole working session: its log
holds no token, no invitation code, no text anyone typed, no identifier the privacy screen
refused, no display name (README « Données personnelles » and « Déploiement »; DESIGN.md §5).

Each typed text carries a marker word found nowhere else, so a failure names what leaked.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from bot.domain.permissions import Role
from bot.sandbox.bot_api import TOKEN, FakeBotApi, FakeUser
from storage import outbox
from tests.conftest import BotProcess, Network
from tests.e2e.test_visit import TYPICAL

StartBot = Callable[..., Awaitable[BotProcess]]

NIR = "1 84 12 76 451 089 46"
IBAN = "FR14 2004 1010 0505 0001 3M02 606"

# What people type: a marker word, then the text.
TYPED = {
    "text typed mid-visit": ("Ornithorynque", "Ornithorynque tapé pendant la visite"),
    "message outside any flow": ("Quokka", "Bonjour, Quokka a une question"),
    "difficulty description": ("Wombat", "Le formulaire Wombat bloque à l'étape trois."),
    "Caf's reply": ("Pangolin", "Essayez le navigateur Pangolin puis revenez."),
    "agent's answer": ("Axolotl", "Merci, Axolotl fonctionne maintenant."),
    "closure note": ("Capybara", "Travaux Capybara dans la salle d'accueil."),
    "news item": ("Narval", "Nouvelle procédure Narval à partir de lundi."),
    "resolution note": ("Okapi", "Clos : Okapi réglé par téléphone."),
}
# Refused by the privacy screen: neither kept nor logged, identifier or words around it.
REFUSED = {
    "description with a NIR": ("Tatou", f"Madame Tatou, NIR {NIR}, ne peut pas se connecter"),
    "news item with an IBAN": ("Fennec", f"Virement Fennec sur le RIB {IBAN}"),
}
NAMES = {Role.COORDINATOR: "Zéphyrine", Role.MANAGER: "Barnabé", Role.AGENT: "Cunégonde"}


def leaks(log: str, codes: list[str]) -> list[str]:
    """What of the session's secrets and texts `log` holds, named; [] when it holds none."""
    found = []
    if TOKEN in log:
        found.append("the bot token")
    if TOKEN.split(":", 1)[1] in log:
        found.append("the token's secret part")
    found += [f"invitation code {code}" for code in codes if code in log]
    for what, (marker, _) in {**TYPED, **REFUSED}.items():
        if marker in log:
            found.append(f"the {what} ({marker})")
    compact = re.sub(r"\s", "", log)
    found += [f"the identifier {i}" for i in (NIR, IBAN) if i.replace(" ", "") in compact]
    found += [f"the display name {name}" for name in NAMES.values() if name in log]
    return found


async def join(network: Network, role: Role, codes: list[str]) -> FakeUser:
    code = await network.invitation(
        role, partner=None if role is Role.COORDINATOR else network.site
    )
    codes.append(code)
    user = network.stranger(NAMES[role])
    await user.send(f"/start {code}")
    assert "Bienvenue" in user.last_message.text, user.last_message.text
    if role is not Role.COORDINATOR:  # Article 5 first (tests/e2e/test_secrecy.py)
        await user.tap("✅ Je m'engage")
    return user


def received(user: FakeUser, marker: str) -> bool:
    return any(marker in (m.text or "") for m in user.bot_messages)


async def test_a_whole_session_at_debug_level_logs_no_secret_and_no_typed_text(
    network: Network, bot_process: StartBot, fake: FakeBotApi
) -> None:
    process = await bot_process(LOG_LEVEL="DEBUG")
    codes: list[str] = []
    coordinator = await join(network, Role.COORDINATOR, codes)
    manager = await join(network, Role.MANAGER, codes)
    agent = await join(network, Role.AGENT, codes)
    stranger, wrong = network.stranger(), codes[0][::-1]
    codes.append(wrong)
    await stranger.send(f"/start {wrong}")
    assert "Bienvenue" not in stranger.last_message.text

    # A visit, with a text typed in the middle of it (not kept: the step is shown again).
    await agent.tap("📝 Nouvelle visite")
    for label in TYPICAL[:3]:
        await agent.tap(label)
    await agent.send(TYPED["text typed mid-visit"][1])
    for label in TYPICAL[3:]:
        await agent.tap(label)
    assert "Visite enregistrée" in agent.last_message.text
    await agent.send(TYPED["message outside any flow"][1])

    # A difficulty: the description with a NIR is refused, the reworded one goes to the Caf.
    await agent.tap("📣 Signaler")
    await agent.tap("⚠️ Une difficulté")
    await agent.tap("Une téléprocédure")
    await agent.tap("Urgente : le public est bloqué")
    assert (await agent.send(REFUSED["description with a NIR"][1])).deleted
    await agent.send(TYPED["difficulty description"][1])
    assert "envoyé à la Caf" in agent.last_message.text
    await fake.wait_for(lambda: received(coordinator, "Wombat"))

    # The Caf takes it and replies; the agent answers.
    await coordinator.tap("📥 Signalements")
    [item] = [label for label in coordinator.last_message.labels if "⚠️" in label]
    await coordinator.tap(item)
    await coordinator.tap("✅ Prendre en charge")
    await coordinator.tap("↩️ Répondre")
    await coordinator.send(TYPED["Caf's reply"][1])
    await fake.wait_for(lambda: received(agent, "Pangolin"))
    await agent.tap("📂 Voir le signalement")
    await agent.tap("↩️ Répondre à la Caf")
    await agent.send(TYPED["agent's answer"][1])
    await fake.wait_for(lambda: received(coordinator, "Axolotl"))

    # The manager declares tomorrow closed, with a note.
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("➕ Fermeture exceptionnelle")
    await manager.send("demain")
    await manager.tap("Congés, pont")
    await manager.send(TYPED["closure note"][1])
    assert "Fermeture enregistrée" in manager.last_message.text
    await fake.wait_for(lambda: received(agent, "Capybara"))

    # A news item: the one with an IBAN is refused, the next one reaches the site.
    await coordinator.tap("📢 Diffuser")
    await coordinator.tap("✍️ Nouvelle information")
    assert (await coordinator.send(REFUSED["news item with an IBAN"][1])).deleted
    await coordinator.send(TYPED["news item"][1])
    await coordinator.tap("📨 Envoyer maintenant")
    await coordinator.tap("✅ Oui, envoyer à 2 personnes")
    await fake.wait_for(lambda: received(agent, "Narval") and received(manager, "Narval"))

    # The Caf closes the difficulty with a note.
    await coordinator.tap("📥 Signalements")
    [item] = [label for label in coordinator.last_message.labels if "⚠️" in label]
    await coordinator.tap(item)
    await coordinator.tap("✔️ Clore")
    await coordinator.send(TYPED["resolution note"][1])
    await fake.wait_for(lambda: received(agent, "Okapi"))

    assert await process.terminate() == 0
    log = process.log()
    assert "Démarrage du bot" in log
    # DEBUG was in force (asyncio's one DEBUG line): a library logging at DEBUG would show.
    assert " DEBUG " in log
    assert leaks(log, codes) == []


async def test_a_429_on_a_notice_is_one_warning_line_not_an_error_with_a_traceback(
    network: Network, bot_process: StartBot, fake: FakeBotApi
) -> None:
    """The outbox handles Telegram's 429 itself (every send pauses, the row goes back in the
    queue); python-telegram-bot's limiter would log it at ERROR with a traceback."""
    process = await bot_process()
    agent = fake.user(4242, "Agnès")  # a chat Telegram knows; the notice needs no more
    fake.fail("sendMessage", status=429, retry_after=1, chat_id=agent.chat_id)
    async with network.db.transaction() as tx:
        await outbox.enqueue(
            tx,
            kind="label_notice",
            dedup_key="label:notice:1",
            chat_id=agent.chat_id,
            text="Avis Lémurien",
            now=network.clock.now(),
        )
    await fake.wait_for(lambda: received(agent, "Lémurien"), timeout=15)

    assert await process.terminate() == 0
    log = process.log()
    pauses = [line for line in log.splitlines() if "Telegram demande une pause" in line]
    assert len(pauses) == 1 and " WARNING bot.jobs.outbox_sender: " in pauses[0], pauses
    assert "Rate limit hit" not in log
    assert "Traceback" not in log
    assert " ERROR " not in log
