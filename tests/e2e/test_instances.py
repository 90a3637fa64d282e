"""`python -m bot run` (long polling) beside another live instance on the same database
(here one in webhook mode): refused, exit status 1, with one French line naming it;
Telegram hands updates to one poller only. (A killed one does not hold a restart up:
tests/e2e/test_crash.py restarts a poller at once after a SIGKILL.)

Child bots on the SQLite file of the test (the rule is the same on PostgreSQL: it reads
only the `instances` table, tests/test_leadership.py runs it on both engines, with several
webhook instances side by side; so does the multi-process kill test, on PostgreSQL)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from tests.conftest import BotProcess
from tests.e2e.test_webhook import free_port

StartBot = Callable[..., Awaitable[BotProcess]]
SECRET = "Webhook-Secret_Instances-42_long-enough"


async def refused(beside: BotProcess, **env: str) -> tuple[int, list[str]]:
    """Starts `python -m bot run` (polling) with the same settings as `beside`; returns its
    exit status and the lines of its standard error."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.clocked_bot",
        str(beside.clock.path),
        "run",
        cwd=beside.cwd,
        env={**beside.env, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, err.decode().splitlines()


async def webhook(bot_process: StartBot, name: str) -> BotProcess:
    return await bot_process(
        "run",
        "--webhook",
        ready_method="setWebhook",
        INSTANCE_NAME=name,
        WEBHOOK_URL="https://bot.example.org",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_PORT=str(free_port()),
    )


async def test_polling_is_refused_beside_a_live_instance(
    bot_process: StartBot,
) -> None:
    first = await webhook(bot_process, "web-a")
    status, lines = await refused(first, INSTANCE_NAME="poller")
    assert status != 0
    errors = [line for line in lines if line.startswith("Erreur")]
    assert errors == [
        "Erreur : démarrage refusé : l'instance « web-a » (mode webhook) tourne déjà sur cette "
        "base : en long polling, une seule instance est possible (arrêtez-la, ou passez toutes "
        "les instances en mode webhook)"
    ], lines
    assert first.process is not None and first.process.returncode is None
    assert "Leadership taken by web-a" in first.log()
