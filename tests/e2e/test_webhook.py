"""`python -m bot run --webhook` behind its secret: a request without the secret, or with a
wrong one, is refused *and* has no effect; the secret and the refused requests stay out of
the log. (tests/e2e/test_crash.py checks the status codes and that setWebhook carries the
secret; this one checks that nothing of a refused request reaches the bot.)"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.domain.permissions import Role
from bot.sandbox.bot_api import TOKEN, FakeBotApi
from tests.conftest import BotProcess, Network

StartBot = Callable[..., Awaitable[BotProcess]]
SECRET = "Webhook-Secret_Kinkajou-42_long-enough"
WRONG = "Webhook-Secret_Suricate-42"
USER_ID = 4242


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def text_update(update_id: int, text: str) -> dict[str, Any]:
    entities = (
        [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if text.startswith("/")
        else []
    )
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1,
            "chat": {"id": USER_ID, "type": "private"},
            "from": {"id": USER_ID, "is_bot": False, "first_name": "Web"},
            "text": text,
            "entities": entities,
        },
    }


async def post(
    session: aiohttp.ClientSession, url: str, update: dict[str, Any], secret: str | None
) -> int:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    for _ in range(50):  # the server may still be binding its port
        try:
            async with session.post(url, json=update, headers=headers) as response:
                return response.status
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"nothing listens on {url}")


async def test_a_request_without_the_right_secret_is_refused_and_changes_nothing(
    network: Network, bot_process: StartBot, fake: FakeBotApi
) -> None:
    port = free_port()
    process = await bot_process(
        "run",
        "--webhook",
        ready_method="setWebhook",
        WEBHOOK_URL="https://bot.example.org",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        LOG_LEVEL="DEBUG",
    )
    user = fake.user(USER_ID, "Web")
    code = await network.invitation(Role.AGENT, partner=network.site)
    url = f"http://127.0.0.1:{port}/telegram"
    async with aiohttp.ClientSession() as session:
        # A forged update that would make anyone an agent of the site, if it got through.
        assert await post(session, url, text_update(1, f"/start {code}"), None) == 403
        assert await post(session, url, text_update(2, f"/start {code}"), WRONG) == 403
        assert await post(session, url, text_update(3, f"/start {code}"), "") == 403
        # Telegram's own request: the bot answers it, and only it (updates are handled in
        # order, so any refused one would have been handled before this one).
        assert await post(session, url, text_update(4, "Bonjour Tamanoir"), SECRET) == 200
        await fake.wait_for(lambda: bool(user.bot_messages))
        assert len(user.bot_messages) == 1
        assert "Bienvenue" not in user.last_message.text
        people = "SELECT COUNT(*) FROM people WHERE telegram_user_id = :id"
        assert await network.db.fetch_value(people, {"id": USER_ID}) == 0
        # The single-use code was not spent by the refused requests.
        assert await post(session, url, text_update(5, f"/start {code}"), SECRET) == 200
        await fake.wait_for(lambda: "Bienvenue" in (user.last_message.text or ""))
    assert await network.db.fetch_value(people, {"id": USER_ID}) == 1

    assert await process.terminate() == 0
    log = process.log()
    assert "Démarrage du bot (webhook)" in log
    for secret in (SECRET, WRONG, TOKEN, TOKEN.split(":", 1)[1], code, "Tamanoir"):
        assert secret not in log, secret
