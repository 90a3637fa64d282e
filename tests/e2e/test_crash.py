"""`python -m bot run` as a real process: SIGKILL mid-flow, restart, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.domain.permissions import Role
from bot.sandbox.bot_api import TOKEN, FakeBotApi
from tests.conftest import BotProcess, Network
from tests.e2e.test_onboarding import AGENT_MENU, COORDINATOR_MENU, MANAGER_MENU
from tests.e2e.test_visit import TYPICAL

StartBot = Callable[..., Awaitable[BotProcess]]


async def test_people_stay_registered_across_a_kill(
    network: Network, bot_process: StartBot, fake: FakeBotApi
) -> None:
    process = await bot_process()
    agent = await network.join(Role.AGENT, first_name="Agnès")
    manager = await network.join(Role.MANAGER, first_name="Marc")
    coordinator = await network.join(Role.COORDINATOR, first_name="Corinne")
    await process.kill()

    await bot_process()
    for person, menu in (
        (agent, AGENT_MENU),
        (manager, MANAGER_MENU),
        (coordinator, COORDINATOR_MENU),
    ):
        await person.send("/start")
        assert "Que souhaitez-vous faire" in person.last_message.text
        assert person.reply_keyboard == menu
    await agent.tap("📊 Mes chiffres")
    assert "Mes chiffres" in agent.last_message.text


async def test_a_visit_interrupted_by_a_kill_is_finished_after_restart(
    network: Network, bot_process: StartBot
) -> None:
    process = await bot_process()
    agent = await network.join(Role.AGENT)
    await agent.tap("📝 Nouvelle visite")
    for label in TYPICAL[:5]:
        await agent.tap(label)
    await process.kill()

    await bot_process()
    # The next tap on the same message continues the same draft.
    for label in TYPICAL[5:]:
        await agent.tap(label)
    assert "Visite enregistrée" in agent.last_message.text
    rows = await network.db.fetch_all("SELECT sexe, age, resolution FROM visits")
    assert [tuple(row) for row in rows] == [("femme", "25_60", "oui")]


async def test_sigterm_stops_cleanly_and_logs_hold_no_token(
    network: Network, bot_process: StartBot
) -> None:
    process = await bot_process()
    agent = await network.join(Role.AGENT)
    await agent.send("Mme Martin, 06 12 34 56 78")
    assert await process.terminate() == 0
    log = process.log()
    assert "Démarrage du bot" in log
    assert TOKEN not in log
    assert TOKEN.split(":")[1] not in log
    assert "Martin" not in log


async def test_webhook_mode_checks_the_secret(
    network: Network, bot_process: StartBot, fake: FakeBotApi
) -> None:
    import socket

    import aiohttp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await bot_process(
        "run",
        "--webhook",
        ready_method="setWebhook",
        WEBHOOK_URL="https://bot.example.org",
        WEBHOOK_SECRET="s3cret-Token_1-long-enough-for-the-check",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    [call] = fake.calls_to("setWebhook")
    assert call.params["url"] == "https://bot.example.org/telegram"
    assert call.params["secret_token"] == "s3cret-Token_1-long-enough-for-the-check"
    user = fake.user(4242, "Web")
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": 4242, "type": "private"},
            "from": {"id": 4242, "is_bot": False, "first_name": "Web"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    url = f"http://127.0.0.1:{port}/telegram"
    async with aiohttp.ClientSession() as session:
        for _ in range(50):  # the server may still be binding
            try:
                async with session.post(url, json=update) as response:
                    refused = response.status
                break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
        assert refused == 403
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1-long-enough-for-the-check"}
        async with session.post(url, json=update, headers=headers) as response:
            assert response.status == 200
    await fake.wait_for(lambda: bool(user.bot_messages))
    assert "lien d'invitation" in user.last_message.text
    assert await process.terminate() == 0
