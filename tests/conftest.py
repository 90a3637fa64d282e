"""Shared fixtures: a fake Bot API on 127.0.0.1, the real Application polling it, a real
SQLite file, a clock tests can move, and people of each role.

The in-process bot tells the fake exactly when it has finished with each update (through the
update processor's listeners), so tests never sleep. Any exception a handler raises is
recorded by an extra error handler and fails the test at teardown.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from telegram import Update
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application, prepare, stop_outbox
from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.models import Caf, Partner, ReportingPeriod
from bot.domain.permissions import LabelStatus, Role
from bot.processing import TimedUpdateProcessor
from bot.sandbox.bot_api import SETTLE_TIMEOUT_SECONDS, TOKEN, FakeBotApi, FakeUser
from storage import cafs, invitations, partners
from storage.db import Database
from storage.setup import open_storage
from tests.clocked_bot import ChildClock

ROOT = Path(__file__).resolve().parent.parent

hypothesis_settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("dev", max_examples=100, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Thursday 26 November 2026, 10:00 in Paris.
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak", action="store_true", help="run the long soak tests too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="long soak: run with --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


def make_settings(fake: FakeBotApi, db_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_base_url": fake.base_url,
        "telegram_api_file_base_url": fake.base_file_url,
        "database_path": db_path,
        "polling_timeout_seconds": 1,
        "broadcast_progress_seconds": 0.2,
        # Telegram's overall cap (30 calls a second) would pace every test that taps fast
        # (the authorisation matrix: 3,288 cells): its own tests set it back.
        "telegram_max_rate": 1000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "pnc.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = await open_storage(db_path)
    yield database
    await database.close()


@dataclass
class RunningBot:
    app: Application  # type: ignore[type-arg]
    settings: Settings
    errors: list[BaseException] = field(default_factory=list)
    processed: set[int] = field(default_factory=set)
    timings: list[float] = field(default_factory=list)


async def start_bot(
    fake: FakeBotApi, db: Database, clock: ManualClock, settings: Settings
) -> RunningBot:
    processor = TimedUpdateProcessor()
    app = build_application(settings, db=db, clock=clock, processor=processor)
    running = RunningBot(app=app, settings=settings)
    changed = asyncio.Event()

    def on_done(update: object, elapsed: float) -> None:
        if isinstance(update, Update):
            running.processed.add(update.update_id)
            running.timings.append(elapsed)
            changed.set()

    async def record_error(update: object, context: Any) -> None:
        running.errors.append(context.error)

    async def settle(update_id: int) -> None:
        async def done() -> None:
            while update_id not in running.processed:
                changed.clear()
                await changed.wait()

        try:
            # Only a failing test waits this long: generous for a loaded machine.
            await asyncio.wait_for(done(), timeout=SETTLE_TIMEOUT_SECONDS)
        except TimeoutError:
            raise AssertionError(f"the bot did not handle update {update_id}") from None

    processor.listeners.append(on_done)
    app.add_error_handler(record_error)
    await app.initialize()
    await prepare(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    fake.settle = settle
    return running


async def stop_bot(running: RunningBot) -> None:
    app = running.app
    await stop_outbox(app)
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Tests override settings by redefining this fixture or through `bot_factory`."""
    return {}


@pytest.fixture
async def bot(
    fake: FakeBotApi,
    db: Database,
    clock: ManualClock,
    db_path: Path,
    settings_overrides: dict[str, Any],
) -> AsyncIterator[RunningBot]:
    running = await start_bot(fake, db, clock, make_settings(fake, db_path, **settings_overrides))
    yield running
    await stop_bot(running)
    errors = [e for e in running.errors if not getattr(e, "expected_in_test", False)]
    assert not errors, f"handlers raised: {errors!r}"


# ------------------------------------------------------------------------------ the network
@dataclass
class Network:
    """A Caf with two labelled sites, and helpers to bring people in through the bot."""

    fake: FakeBotApi
    db: Database
    clock: ManualClock
    caf: Caf
    site: Partner
    other_site: Partner
    next_user_id: int = 1000

    async def invitation(
        self,
        role: Role,
        *,
        partner: Partner | None = None,
        caf: Caf | None = None,
        uses: int = 1,
        expires_in: timedelta = timedelta(days=7),
    ) -> str:
        now = self.clock.now()
        caf_id = (caf or self.caf).id if partner is None else partner.caf_id
        async with self.db.transaction() as tx:
            code, _ = await invitations.create(
                tx,
                role=role,
                caf_id=caf_id,
                partner_id=partner.id if partner else None,
                uses=uses,
                expires_at=now + expires_in,
                created_by=None,
                now=now,
            )
        return code

    def stranger(self, first_name: str = "Inconnu") -> FakeUser:
        self.next_user_id += 1
        return self.fake.user(self.next_user_id, first_name)

    async def join(
        self,
        role: Role,
        *,
        partner: Partner | None = None,
        caf: Caf | None = None,
        first_name: str = "Camille",
    ) -> FakeUser:
        if role is not Role.COORDINATOR and partner is None:
            partner = self.site
        code = await self.invitation(
            role, partner=None if role is Role.COORDINATOR else partner, caf=caf
        )
        user = self.stranger(first_name)
        await user.send(f"/start {code}")
        assert "Bienvenue" in user.last_message.text, user.last_message.text
        if role is not Role.COORDINATOR:
            # Article 5: they commit to secrecy before anything else, as a person would.
            await user.tap("✅ Je m'engage")
        return user

    async def add_caf(
        self,
        name: str,
        *,
        timezone: str = "Europe/Paris",
        period: ReportingPeriod = ReportingPeriod.MONTHLY,
    ) -> Caf:
        async with self.db.transaction() as tx:
            return await cafs.add(
                tx,
                name=name,
                period=period,
                timezone=timezone,
                notify_chat_id=None,
                now=self.clock.now(),
            )

    async def add_site(self, name: str, caf: Caf | None = None) -> Partner:
        async with self.db.transaction() as tx:
            return await partners.add(
                tx,
                caf_id=(caf or self.caf).id,
                name=name,
                city="Amiens",
                address="",
                now=self.clock.now(),
            )

    async def set_label(self, partner: Partner, status: LabelStatus) -> None:
        async with self.db.transaction() as tx:
            await partners.set_label(
                tx, partner.id, status=status, reason="test", now=self.clock.now(), by=None
            )


@pytest.fixture
async def network(fake: FakeBotApi, db: Database, clock: ManualClock) -> Network:
    async with db.transaction() as tx:
        caf = await cafs.add(
            tx,
            name="Caf de la Somme",
            period=ReportingPeriod.QUARTERLY,
            timezone="Europe/Paris",
            notify_chat_id=None,
            now=clock.now(),
        )
        site = await partners.add(
            tx, caf_id=caf.id, name="Mairie de Ham", city="Ham", address="", now=clock.now()
        )
        other = await partners.add(
            tx,
            caf_id=caf.id,
            name="France Services Albert",
            city="Albert",
            address="",
            now=clock.now(),
        )
    return Network(fake=fake, db=db, clock=clock, caf=caf, site=site, other_site=other)


@pytest.fixture
async def agent(bot: RunningBot, network: Network) -> FakeUser:
    return await network.join(Role.AGENT, first_name="Agnès")


@pytest.fixture
async def manager(bot: RunningBot, network: Network) -> FakeUser:
    return await network.join(Role.MANAGER, first_name="Marc")


@pytest.fixture
async def coordinator(bot: RunningBot, network: Network) -> FakeUser:
    return await network.join(Role.COORDINATOR, first_name="Corinne")


# ------------------------------------------------------------------------------ subprocesses
@dataclass
class BotProcess:
    """`python -m bot run` as a child process, for crash tests (SIGKILL and restart).

    The child runs through `python -m tests.clocked_bot`, on the test's clock: it starts at
    the `clock` fixture's now (the fixed `START`, whatever the day the suite runs) and runs on
    from there; a restart carries on from where the killed child was, never earlier.
    `clock.advance(…)` moves a running child's time. See tests/clocked_bot.py for why
    `python -m bot` itself cannot be given a clock from outside.
    """

    env: dict[str, str]
    cwd: Path
    fake: FakeBotApi
    clock: ChildClock
    test_clock: ManualClock
    process: asyncio.subprocess.Process | None = None
    log_path: Path | None = None

    args: tuple[str, ...] = ("run",)
    ready_method: str = "getUpdates"

    async def start(self) -> None:
        before = len(self.fake.calls_to(self.ready_method))
        assert self.log_path is not None
        log_file = self.log_path.open("ab")
        self.clock.restart_point(self.test_clock.now())
        if self.fake.settle is None:  # the child reports each update it has handled
            self.fake.settle = self.fake.settle_reported
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.clocked_bot",
            str(self.clock.path),
            *self.args,
            cwd=self.cwd,
            env=self.env,
            stdout=log_file,
            stderr=log_file,
        )
        log_file.close()
        await self.fake.wait_for(
            lambda: len(self.fake.calls_to(self.ready_method)) > before, timeout=30
        )

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout=20)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


@pytest.fixture
async def bot_process(
    fake: FakeBotApi, db_path: Path, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Callable[..., Awaitable[BotProcess]]]:
    started: list[BotProcess] = []
    child_clock = ChildClock(tmp_path / "bot-clock", clock.now())

    async def factory(
        *args: str, ready_method: str = "getUpdates", **env_overrides: str
    ) -> BotProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "PNC_"))}
        env.update(
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": fake.base_url,
                "TELEGRAM_API_FILE_BASE_URL": fake.base_file_url,
                "DATABASE_PATH": str(db_path),
                "POLLING_TIMEOUT_SECONDS": "1",
                "TELEGRAM_MAX_RATE": "1000",  # as in-process bots (make_settings)
                "LOG_LEVEL": "INFO",
                "PYTHONPATH": str(ROOT),
            }
        )
        env.update(env_overrides)
        proc = BotProcess(
            env=env,
            cwd=tmp_path,
            fake=fake,
            clock=child_clock,
            test_clock=clock,
            log_path=tmp_path / "bot.log",
            args=args or ("run",),
            ready_method=ready_method,
        )
        await proc.start()
        started.append(proc)
        return proc

    yield factory
    for proc in started:
        await proc.kill()
