"""`python -m bot demo`: the whole bot in a browser, without Telegram and without a token.

One process holds three things, all on this machine:
- the embedded Bot API (bot/sandbox/bot_api.py) on 127.0.0.1, a port chosen by the system;
- the real Application (bot.app.build_application: the same handlers, jobs and outbox as
  production) long polling it, on the system clock, with the demo's own database
  (`demo-data/demo.sqlite3` by default; never DATABASE_PATH: the demo reads neither `.env`
  nor the environment);
- the web page and its API (bot/sandbox/web.py), 127.0.0.1:8080 by default.

A new database is seeded (bot/sandbox/seed.py) as of now; an existing one is reused as it
is, `--reset` (or the page's « Réinitialiser la démo ») starts over. At each start every
person of the network "opens the bot" (/start), so that each chat shows its menu.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import signal
import socket
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from telegram import BotCommandScopeChat, Update

from bot.app import ALLOWED_UPDATES, build_application, prepare, stop_outbox
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import BotApp
from bot.domain.permissions import Role
from bot.logs import configure_logging
from bot.processing import TimedUpdateProcessor
from bot.sandbox.bot_api import SETTLE_TIMEOUT_SECONDS, TOKEN, FakeBotApi
from bot.sandbox.seed import DemoNetwork, DemoPerson
from bot.sandbox.web import create_app
from bot.services import members
from bot.ui import menus
from storage import outbox
from storage.db import Database, DatabaseTooNew, sidecars
from storage.setup import open_storage

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_DATA_DIR = Path("demo-data")
DATABASE_FILE = "demo.sqlite3"
#: The seeded network's people, kept beside the database to reuse it as it is.
NETWORK_FILE = "network.json"
#: Each chat's last message id when the demo stopped: the chats start empty at each run, but
#: the database still holds ids of messages the bot sent (to edit them), never to be reused.
MESSAGE_IDS_FILE = "message_ids.json"
READY = "Démo prête : {url}"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: Long polling against the embedded API: short enough for a quick stop, long enough to idle.
_POLL_SECONDS = 10
#: How long a start waits for the messages the seed left queued to go out before the people
#: open their chats (so that every chat reads in the same order at each reset).
_DRAIN_SECONDS = 10.0

SeedFunction = Callable[[Database, datetime], Awaitable[DemoNetwork]]


class DemoError(Exception):
    """Why the demo cannot run, in one French line for the terminal."""


class DemoSettings(Settings):
    """The code's defaults and what the demo sets: never `.env` nor the environment, so
    that nothing of a production set-up (DATABASE_PATH, DIRECTORY_DIR…) is read or written."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def demo_settings(fake: FakeBotApi, database_path: Path) -> DemoSettings:
    return DemoSettings(
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_base_url=fake.base_url,
        telegram_api_file_base_url=fake.base_file_url,
        database_path=database_path,
        polling_timeout_seconds=_POLL_SECONDS,
        log_level="WARNING",
    )


def role_label(role: Role) -> str:
    return role.label[:1].upper() + role.label[1:]


@dataclass
class _RunningBot:
    app: BotApp
    processed: set[int]
    changed: asyncio.Event


class Demo:
    """The running demo: the embedded Bot API, the demo's database, the real bot on both."""

    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Clock | None = None,
        seed_network: SeedFunction | None = None,
    ) -> None:
        self.fake = FakeBotApi(bot_username="pnc_demo_bot")
        self.data_dir = data_dir
        self._clock = clock or SystemClock()
        self._seed = seed_network
        self._network: DemoNetwork | None = None
        self._db: Database | None = None
        self._bot: _RunningBot | None = None
        self._lock = asyncio.Lock()

    @property
    def database_path(self) -> Path:
        return self.data_dir / DATABASE_FILE

    # ------------------------------------------------------------------ web.Backend

    def people(self) -> dict[str, Any]:
        network = self._network
        if network is None:
            return {"caf": "", "people": []}
        return {
            "caf": network.caf_name,
            "people": [
                {
                    "id": person.telegram_user_id,
                    "name": person.name,
                    "role": person.role.value,
                    "role_label": role_label(person.role),
                    "site": person.site,
                }
                for person in network.people
            ],
        }

    async def reset(self) -> None:
        """Start over: the bot stops, every chat is emptied, the database is seeded anew."""
        async with self._lock:
            await self._stop_bot()
            self.fake.forget_chats()
            await self._open(fresh=True)
            await self._start_bot()

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, fresh: bool = False) -> None:
        """Seed (a new or `fresh` database) or reuse, then start the API and the bot."""
        async with self._lock:
            await self.fake.start()
            await self._open(fresh=fresh)
            await self._start_bot()

    async def stop(self) -> None:
        async with self._lock:
            await self._stop_bot()
            await self.fake.stop()
            if self._network is not None:
                self._save_message_ids()
            if self._db is not None:
                await self._db.close()
                self._db = None

    # ------------------------------------------------------------------ steps

    async def _open(self, *, fresh: bool) -> None:
        """The demo's database, migrated: seeded when new or `fresh`, else as it was."""
        if self._db is not None:
            await self._db.close()
            self._db = None
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DemoError(
                f"dossier de la démo impossible à créer : {self.data_dir} ({exc.strerror})"
            ) from None
        network_path = self.data_dir / NETWORK_FILE
        ids_path = self.data_dir / MESSAGE_IDS_FILE
        network = None if fresh else read_network(network_path)
        if network is not None and self.database_path.exists():
            self._db = await open_demo_storage(self.database_path)
        else:
            # Its files only: the folder may hold anything else.
            demo_files = (network_path, ids_path, self.database_path)
            for path in (*demo_files, *sidecars(self.database_path)):
                path.unlink(missing_ok=True)
            self._db = await open_demo_storage(self.database_path)
            seed = self._seed or _default_seed()
            network = await seed(self._db, self._clock.now())
            write_network(network_path, network)
        self._network = network
        last_ids = _read_json(ids_path)
        for person in network.people:
            user = self.fake.user(
                person.telegram_user_id, person.first_name, last_name=person.last_name
            )
            last = last_ids.get(str(person.telegram_user_id)) if last_ids else None
            if isinstance(last, int):
                user.continue_after(last)

    def _save_message_ids(self) -> None:
        assert self._network is not None
        last_ids = {}
        for person in self._network.people:
            user = self.fake.private_chat(person.telegram_user_id)
            if user is not None:
                last_ids[str(user.chat_id)] = user.last_message_id
        _write_json(self.data_dir / MESSAGE_IDS_FILE, last_ids)

    async def _start_bot(self) -> None:
        assert self._db is not None
        processor = TimedUpdateProcessor()
        settings = demo_settings(self.fake, self.database_path)
        app = build_application(settings, db=self._db, clock=self._clock, processor=processor)
        running = _RunningBot(app, set(), asyncio.Event())
        self._bot = running  # from now on, a stop (even half-way through the start) stops it

        def on_done(update: object, elapsed: float) -> None:
            if isinstance(update, Update):
                running.processed.add(update.update_id)
                running.changed.set()

        processor.listeners.append(on_done)
        await app.initialize()
        await prepare(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=_POLL_SECONDS, allowed_updates=ALLOWED_UPDATES
        )
        self.fake.settle = self._settle
        await self._open_chats()

    async def _settle(self, update_id: int) -> None:
        """The exact wait of a person's action the demo makes itself (/start at a start)."""
        running = self._bot
        assert running is not None

        async def done() -> None:
            while update_id not in running.processed:
                running.changed.clear()
                await running.changed.wait()
            running.processed.discard(update_id)

        try:
            await asyncio.wait_for(done(), timeout=SETTLE_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("La démo n'a pas vu le bot traiter la mise à jour %s", update_id)

    async def _open_chats(self) -> None:
        """Each person's « / » list as the bot sets it when they join, then their /start:
        every chat opens on its menu, after what the seed left to send."""
        assert self._db is not None and self._bot is not None and self._network is not None
        people = self._network.people
        await self._drain([p.telegram_user_id for p in people])
        bot = self._bot.app.bot
        now = self._clock.now()
        for person in people:
            member = await members.by_telegram_id(self._db, person.telegram_user_id, now)
            if member is not None:
                await bot.set_my_commands(
                    menus.commands_for(member.actor),
                    scope=BotCommandScopeChat(person.telegram_user_id),
                )
        for person in people:
            await self.fake.user(person.telegram_user_id).send("/start")

    async def _drain(self, chat_ids: list[int]) -> None:
        assert self._db is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _DRAIN_SECONDS
        while loop.time() < deadline:
            due = await outbox.due_chats(self._db, self._clock.now(), chat_ids)
            sending = (await outbox.counts(self._db)).get(outbox.OutboxStatus.SENDING, 0)
            if not due and not sending:
                return
            await asyncio.sleep(0.02)

    async def _stop_bot(self) -> None:
        running, self._bot = self._bot, None
        if running is None:
            return
        app = running.app
        await stop_outbox(app)
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()


async def open_demo_storage(path: Path) -> Database:
    """The demo's database, whose commits never wait for the disk: it is thrown away at each
    reset, and seeding logs its thousand visits one transaction each."""
    db = await open_storage(path)
    db.fsync = False
    return db


def _default_seed() -> SeedFunction:
    from bot.sandbox.seed import seed

    return seed


def write_network(path: Path, network: DemoNetwork) -> None:
    data = {
        "caf": network.caf_name,
        "people": [
            {
                "id": p.telegram_user_id,
                "first_name": p.first_name,
                "last_name": p.last_name,
                "role": p.role.value,
                "site": p.site,
            }
            for p in network.people
        ],
    }
    _write_json(path, data)


def read_network(path: Path) -> DemoNetwork | None:
    """The network a previous run seeded; None if there is none (or it is unreadable)."""
    data = _read_json(path)
    try:
        people = tuple(
            DemoPerson(
                telegram_user_id=int(p["id"]),
                first_name=str(p["first_name"]),
                last_name=str(p["last_name"]),
                role=Role(p["role"]),
                site=None if p["site"] is None else str(p["site"]),
            )
            for p in data["people"]
        )
        return DemoNetwork(str(data["caf"]), people)
    except (ValueError, KeyError, TypeError):
        return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(path)


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object written by `_write_json`; {} if there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------------------- command


def address(host: str, port: int) -> str:
    shown = DEFAULT_HOST if host in ("", "0.0.0.0", "::") else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


async def serve(
    data_dir: Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    reset: bool = False,
    ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
    seed_network: SeedFunction | None = None,
) -> None:
    """Run the demo until `stop` is set (SIGINT or SIGTERM when `stop` is not given);
    `ready` receives the page's address once everything answers."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    if host not in _LOOPBACK:
        print(
            f"Attention : la démo écoute sur {host}, pas seulement sur cette machine. Toute "
            "personne qui la joint peut agir au nom des personnes de la démo et la "
            "réinitialiser (ses données sont fictives).",
            file=sys.stderr,
            flush=True,
        )
    listening = _listen(host, port)  # at once: a port already taken fails before the seed
    demo = Demo(data_dir, seed_network=seed_network)
    runner = web.AppRunner(create_app(demo), access_log=None, shutdown_timeout=1.0)
    try:
        if not await _unless_stopped(demo.start(fresh=reset), stop):
            return  # Ctrl-C while seeding: a half-seeded database is seeded anew next time
        await runner.setup()
        # A page that connects meanwhile waits in the listening queue, and is served now.
        await web.SockSite(runner, listening).start()
        (ready or _print_ready)(address(host, int(listening.getsockname()[1])))
        await stop.wait()
    finally:
        await runner.cleanup()
        await demo.stop()
        listening.close()


async def _unless_stopped(work: Awaitable[None], stop: asyncio.Event) -> bool:
    """Run `work` unless `stop` comes first (then cancel it): whether it ran to its end."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False
    task.result()
    return True


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            reason = f"le port {port} est déjà pris"
        else:
            reason = f"impossible d'écouter sur {host}:{port} ({exc.strerror or exc})"
        raise DemoError(
            f"{reason} : choisissez-en un autre avec --port (--port 0 : un port libre)"
        ) from None


def _print_ready(url: str) -> None:
    print(READY.format(url=url), flush=True)


def run(*, host: str, port: int, reset: bool, data_dir: Path) -> int:
    """`python -m bot demo`: 0 once stopped by Ctrl-C (or SIGTERM), 1 if it cannot run."""
    configure_logging("WARNING", [TOKEN])
    logging.getLogger("telegram").setLevel(logging.WARNING)  # no start/stop chatter
    try:
        asyncio.run(serve(data_dir, host=host, port=port, reset=reset))
    except DemoError as exc:
        print(f"Erreur : {exc}.", file=sys.stderr)
        return 1
    except (DatabaseTooNew, sqlite3.DatabaseError) as exc:
        print(
            f"Erreur : la base de la démo ({data_dir / DATABASE_FILE}) ne peut pas servir "
            f"({exc}) : relancez avec --reset pour repartir de zéro.",
            file=sys.stderr,
        )
        return 1
    return 0
