"""Several bot processes in webhook mode on one PostgreSQL database (issue #19, item 4).

The harness plays Telegram's side: the fake Bot API (`fake`) serves both processes' calls,
and each update a person makes is POSTed to one instance's webhook (`Balancer`), as the
reverse proxy of deploy/ would pick one. A refused or broken connection (a dead instance)
sends the update to another one, as Telegram redelivers what it could not hand over.

Each instance is `python -m tests.clocked_bot CLOCK run --webhook` (tests/clocked_bot.py:
on the tests' clock, reporting each update it has handled), with its own port, log file and
INSTANCE_NAME, on the test's own database of the throwaway cluster (tests/postgres.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from bot.clock import ManualClock
from bot.sandbox.bot_api import TOKEN, FakeBotApi
from storage.db import Database
from storage.setup import open_storage
from tests.clocked_bot import ChildClock
from tests.conftest import ROOT
from tests.postgres import Cluster, pg_cluster  # noqa: F401 - the session's cluster

SECRET = "Webhook-Secret_Multi-Instance-Kinkajou-42"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Settings of ours a developer's environment must not slip into the children.
_OWN_SETTINGS = (
    "TELEGRAM_",
    "PNC_",
    "DATABASE_",
    "WEBHOOK_",
    "BROADCAST_",
    "OUTBOX_",
    "INSTANCE_NAME",
    "LEASE_SECONDS",
    "LOG_LEVEL",
)
#: Only a failing test waits this long: generous for a loaded 2-core machine.
START_TIMEOUT_SECONDS = 30.0
DELIVERY_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def enqueued(update_id: int) -> None:
    """Settle for people acting at once: a tap returns once an instance took it."""


@dataclass
class Instance:
    """One `python -m bot run --webhook` process of the deployment."""

    name: str
    port: int
    env: dict[str, str]
    cwd: Path
    clock: ChildClock
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    killed_at: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        with self.log_path.open("ab") as log_file:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.clocked_bot",
                str(self.clock.path),
                "run",
                "--webhook",
                cwd=self.cwd,
                env=self.env,
                stdout=log_file,
                stderr=log_file,
            )

    async def ready(self) -> None:
        """Until its webhook takes connections (its start-up work is done by then)."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert self.alive, f"{self.name} exited at start:\n{self.log()}"
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                assert time.monotonic() < deadline, f"{self.name} never listened:\n{self.log()}"
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

    async def kill(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
            self.killed_at = time.monotonic()

    async def lose_host(self, database_url: str) -> None:
        """Its machine is lost: frozen (SIGSTOP), marked as running elsewhere in the
        `instances` table, then SIGKILLed; `killed_at` is when it froze.

        On one machine the survivor sees a dead leader's pid gone and takes over at once
        (bot/jobs/leadership.py, `dead_here`); from another machine only the lease's
        deadline tells, and that is the takeover a lost host gets. Frozen first so that it
        cannot write its own host back with a heartbeat; the row is changed on a plain
        connection, outside the writers' lock a frozen transaction of its may hold.
        """
        assert self.process is not None and self.alive
        self.process.send_signal(signal.SIGSTOP)
        self.killed_at = time.monotonic()
        conn = await asyncpg.connect(database_url)
        try:
            changed = await conn.execute(
                "UPDATE instances SET host = 'a host now lost' WHERE name = $1",
                self.name,
                timeout=10,
            )
        finally:
            await conn.close()
        assert changed == "UPDATE 1", changed
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def wait_log(
        self,
        needle: str,
        *,
        seen: int = 0,
        timeout: float = START_TIMEOUT_SECONDS,  # noqa: ASYNC109
    ) -> float:
        """When `needle` appeared in the log more than `seen` times (time.monotonic(), to
        a poll of 10 ms)."""
        deadline = time.monotonic() + timeout
        while self.log().count(needle) <= seen:
            assert time.monotonic() < deadline, f"no {needle!r} in {self.name}'s log:\n{self.log()}"
            await asyncio.sleep(0.01)
        return time.monotonic()


def sender_of(update: dict[str, Any]) -> int | None:
    for kind in ("message", "callback_query"):
        if kind in update:
            return int(update[kind]["from"]["id"])
    return None


@dataclass
class Balancer:
    """Telegram's webhook delivery and the proxy in front of the instances, in one.

    Each update goes to an instance drawn by a seeded RNG, or to the one a person is
    `pinned` to. An instance that refuses the connection, breaks it or answers an error
    (killed, or not started) gets nothing: the update goes to the next one, as Telegram
    redelivers. An update an instance acknowledged and then lost (killed before handling
    it) is lost, as with Telegram: the person taps again.
    """

    instances: list[Instance]
    rng: random.Random
    session: aiohttp.ClientSession
    pinned: dict[int, Instance] = field(default_factory=dict)
    taken: Counter[str] = field(default_factory=Counter)  # updates each instance took
    redelivered: int = 0  # times an update went on to another instance

    async def push(self, update: dict[str, Any]) -> None:
        user_id = sender_of(update)
        first = self.pinned.get(user_id) if user_id is not None else None
        first = first or self.rng.choice(self.instances)
        order = [first, *(i for i in self.instances if i is not first)]
        deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
        while True:
            for instance in order:
                if await self._post(instance, update):
                    self.taken[instance.name] += 1
                    return
                self.redelivered += 1
            assert time.monotonic() < deadline, f"no instance took update {update['update_id']}"
            await asyncio.sleep(0.05)

    async def _post(self, instance: Instance, update: dict[str, Any]) -> bool:
        try:
            async with self.session.post(
                instance.url, json=update, headers={SECRET_HEADER: SECRET}
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False


@dataclass
class Deployment:
    instances: list[Instance]
    balancer: Balancer
    database_url: str


StartDeployment = Callable[..., Awaitable[Deployment]]


@pytest.fixture
async def database_url(pg_cluster: Cluster) -> AsyncIterator[str]:  # noqa: F811
    url = await pg_cluster.fresh_database()
    yield url
    await pg_cluster.drop(url)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The test's side of the shared database (tests/conftest.py's `network` uses it)."""
    database = await open_storage(database_url)
    yield database
    await database.close()


@pytest.fixture
async def deployment(
    fake: FakeBotApi, database_url: str, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[StartDeployment]:
    """`await deployment("alpha", "beta", seed=1, **SETTINGS)`: the instances started
    together and listening, and the fake pushing people's updates to them."""
    started: list[Instance] = []
    child_clock = ChildClock(tmp_path / "bot-clock", clock.now())
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))

    async def start(*names: str, seed: int, **settings: str) -> Deployment:
        base = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_SETTINGS)}
        base.update(
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": fake.base_url,
                "TELEGRAM_API_FILE_BASE_URL": fake.base_file_url,
                "DATABASE_URL": database_url,
                "WEBHOOK_URL": "https://bot.example.org",  # the proxy's address, for Telegram
                "WEBHOOK_SECRET": SECRET,
                "WEBHOOK_LISTEN": "127.0.0.1",
                "TELEGRAM_MAX_RATE": "1000",
                "LOG_LEVEL": "INFO",
                "PYTHONPATH": str(ROOT),
            }
        )
        child_clock.restart_point(clock.now())
        for name in names:
            port = free_port()
            instance = Instance(
                name=name,
                port=port,
                env={**base, **settings, "INSTANCE_NAME": name, "WEBHOOK_PORT": str(port)},
                cwd=tmp_path,
                clock=child_clock,
                log_path=tmp_path / f"{name}.log",
            )
            await instance.start()
            started.append(instance)
        await asyncio.gather(*(instance.ready() for instance in started))
        balancer = Balancer(list(started), random.Random(seed), session)
        fake.push = balancer.push
        fake.settle = enqueued
        return Deployment(list(started), balancer, database_url)

    yield start
    fake.push = None
    for instance in started:
        await instance.kill()
    await session.close()
