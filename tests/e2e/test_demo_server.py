"""`python -m bot demo` (issue #18): the demo's server, driven as its page drives it.

One test starts the command itself as a subprocess on a free port and goes through the
contract of bot/sandbox/web.py over HTTP and the WebSocket: the people, an agent's /start
and menu, an inline button, a document and a chart the bot sends, the limits, then Ctrl-C.
It reuses a demo database seeded with a tiny network (the real seed takes seconds; with
DEMO_REAL_SEED=1 the command seeds the real one itself). The others run the demo in this
process: a reset, a reuse, the refusals, and what the fake Bot API tells its listener.
Nothing but 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import socket
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from yarl import URL

from bot.config import Settings
from bot.domain.models import ReportingPeriod
from bot.domain.permissions import Role
from bot.sandbox import demo, web
from bot.sandbox.bot_api import TOKEN, FakeBotApi
from bot.sandbox.seed import DemoNetwork, DemoPerson
from bot.services import invitations, secrecy
from storage import cafs, partners
from storage.db import Database
from storage.setup import open_storage

ROOT = Path(__file__).resolve().parents[2]
#: DEMO_REAL_SEED=1: the command seeds the real network itself (seconds more) instead of
#: reusing a tiny one.
REAL_SEED = os.environ.get("DEMO_REAL_SEED") == "1"
READY_TIMEOUT = 90.0  # a loaded machine seeds three months of visits slowly
EVENT_TIMEOUT = 20.0


# ------------------------------------------------------------------------ the page's side
@dataclass
class Page:
    """What the demo's page does: HTTP calls, and the WebSocket's events as they come."""

    url: str
    session: aiohttp.ClientSession
    events: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    ws: aiohttp.ClientWebSocketResponse | None = None
    reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.ws = await self.session.ws_connect(self.url + "/ws")
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                self.events.append(message.json())
                self.changed.set()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader

    async def event(
        self, predicate: Callable[[dict[str, Any]], bool], since: int = 0
    ) -> dict[str, Any]:
        """The first event from index `since` on that fits, waiting for it if need be."""
        deadline = time.monotonic() + EVENT_TIMEOUT
        while True:
            for event in self.events[since:]:
                if predicate(event):
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no such event; the last ones: {self.events[-8:]}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    async def get(self, path: str) -> Any:
        async with self.session.get(self.url + path) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.post(self.url + path, json=body) as response:
            data = await response.json() if response.status != 204 else None
            return response.status, data

    async def send(self, chat_id: int, text: str) -> int:
        """The person sends `text`; the index of the events that follow it."""
        mark = len(self.events)
        status, error = await self.post(f"/api/chats/{chat_id}/send", {"text": text})
        assert status == 204, error
        return mark

    async def tap(self, chat_id: int, message: dict[str, Any], label: str) -> int:
        [data] = [
            button["callback_data"]
            for row in message["inline_keyboard"] or []
            for button in row
            if button["text"] == label
        ]
        mark = len(self.events)
        body = {"message_id": message["message_id"], "callback_data": data}
        status, error = await self.post(f"/api/chats/{chat_id}/tap", body)
        assert status == 204, error
        return mark


def from_bot(chat_id: int, kind: str = "message") -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == kind and e["chat_id"] == chat_id and e["message"]["from"] == "bot"


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for row in message["inline_keyboard"] or [] for button in row]


def with_button(chat_id: int, label: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: from_bot(chat_id)(e) and label in labels(e["message"])


# -------------------------------------------------- what the fake Bot API tells the page
async def test_the_fake_bot_api_tells_its_listener_what_a_person_would_see() -> None:
    events: list[dict[str, Any]] = []
    async with (
        FakeBotApi() as fake,
        Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as bot,
    ):
        user = fake.user(1001, "Camille", last_name="Martin")
        stop = fake.listen(events.append)
        yes = InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="y")]])
        sent = await bot.send_message(
            1001, "<b>Gras</b> &lt;script&gt; é", parse_mode=ParseMode.HTML, reply_markup=yes
        )
        [event] = events
        assert event == {
            "type": "message",
            "chat_id": 1001,
            "message": {
                "message_id": sent.message_id,
                "from": "bot",
                "date": int(sent.date.timestamp()),
                "text": "Gras <script> é",
                "entities": [{"offset": 0, "length": 4, "type": "bold"}],
                "caption": None,
                "caption_entities": [],
                "photo": None,
                "document": None,
                "inline_keyboard": [[{"text": "Oui", "callback_data": "y"}]],
                "edited": False,
            },
        }
        await bot.edit_message_text("Modifié", 1001, sent.message_id)
        assert events[-1]["type"] == "edit" and events[-1]["message"]["edited"] is True
        assert events[-1]["message"]["inline_keyboard"] is None

        await bot.send_message(1001, "Menu", reply_markup=ReplyKeyboardMarkup([["📝 Visite"]]))
        assert events[-1] == {"type": "keyboard", "chat_id": 1001, "keyboard": [["📝 Visite"]]}
        await bot.send_message(1001, "Sans", reply_markup=ReplyKeyboardRemove())
        assert events[-1] == {"type": "keyboard", "chat_id": 1001, "keyboard": None}

        await user.send("bonjour", wait=False)
        assert events[-1]["message"]["from"] == "user"
        assert events[-1]["message"]["text"] == "bonjour"
        asked = await bot.send_message(1001, "Alors ?", reply_markup=yes)
        await user.tap_data("y", fake.private_chat(1001).message(asked.message_id), wait=False)
        [*_, update] = await bot.get_updates()
        assert update.callback_query is not None and update.callback_query.data == "y"
        await bot.answer_callback_query(update.callback_query.id, "C'est noté", show_alert=True)
        assert events[-1] == {
            "type": "toast",
            "chat_id": 1001,
            "text": "C'est noté",
            "show_alert": True,
        }

        await bot.set_my_commands([BotCommand("aide", "Aide")], scope=BotCommandScopeChat(1001))
        assert events[-1] == {
            "type": "commands",
            "chat_id": 1001,
            "commands": [{"command": "aide", "description": "Aide"}],
        }
        count = len(events)
        await bot.set_my_commands([BotCommand("start", "Démarrer")])  # hidden by the chat's
        assert len(events) == count and fake.chat_commands(1001) == [("aide", "Aide")]

        await bot.delete_message(1001, sent.message_id)
        assert events[-1] == {"type": "delete", "chat_id": 1001, "message_id": sent.message_id}

        document = await bot.send_document(1001, b"PK-bytes", filename="état.xlsx")
        described = events[-1]["message"]["document"]
        assert described["name"] == "état.xlsx" and described["url"].startswith("/files/")
        stored = fake.file(described["url"].removeprefix("/files/"))
        assert stored is not None and stored.data == b"PK-bytes"
        assert document.document is not None

        stop()
        count = len(events)
        await bot.send_message(1001, "Plus personne n'écoute")
        assert len(events) == count


async def test_a_page_that_falls_too_far_behind_is_disconnected_to_catch_up() -> None:
    closed: list[bool] = []

    class Socket:
        async def close(self) -> bool:
            closed.append(True)
            return True

    hub = web.Hub()
    page = web._Page(Socket())  # type: ignore[arg-type]
    hub.pages.add(page)
    for number in range(web.MAX_PENDING_EVENTS + 1):
        hub.publish({"type": "delete", "chat_id": 1, "message_id": number})
    await asyncio.sleep(0)
    # It reconnects and re-reads its chats: the server does not hoard its events meanwhile.
    assert page not in hub.pages and closed == [True]


# ------------------------------------------------------------------ the command, for real
async def test_the_demo_command_serves_the_page_contract_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "demo"
    if not REAL_SEED:  # the command reuses a demo database as it is: seeded tiny, quickly
        data_dir.mkdir()
        db = await open_storage(data_dir / demo.DATABASE_FILE)
        try:
            network = await tiny_network(db, datetime.now(UTC))
        finally:
            await db.close()
        demo.write_network(data_dir / demo.NETWORK_FILE, network)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    # A production set-up in the environment is never read: no token, a database elsewhere.
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DATABASE_PATH": str(tmp_path / "production.sqlite3"),
            "TELEGRAM_API_BASE_URL": "http://192.0.2.1/bot",
        }
    )
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        line = (await asyncio.wait_for(process.stdout.readline(), READY_TIMEOUT)).decode()
        assert line.startswith("Démo prête : http://127.0.0.1:"), (
            line + (await process.stderr.read()).decode()
        )
        print(f"demo ready in {time.monotonic() - began:.1f} s")
        url = line.removeprefix("Démo prête : ").strip()
        async with aiohttp.ClientSession() as session:
            page = Page(url, session)
            await page.connect()
            try:
                await _through_the_contract(page)
            finally:
                await page.close()
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 10) == 0
        errors = (await process.stderr.read()).decode()
        assert "Traceback" not in errors, errors
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert not (tmp_path / "production.sqlite3").exists()
    assert (tmp_path / "demo" / demo.DATABASE_FILE).exists()


async def _through_the_contract(page: Page) -> None:
    network = await page.get("/api/people")
    roles = [person["role"] for person in network["people"]]
    assert roles == sorted(roles, key=["coordinator", "manager", "agent"].index)
    assert network["timezone"] == "Europe/Paris"  # the page shows hours in the Caf's zone
    if REAL_SEED:
        assert network["caf"] == "Caf de la Somme (démo)"
        assert roles.count("agent") == 4 and roles.count("manager") == 2
    else:
        assert network["caf"] == "Caf d'essai (démo)"
    agent = next(p for p in network["people"] if p["role"] == "agent")
    manager = next(p for p in network["people"] if p["role"] == "manager")
    assert agent["site"] and agent["role_label"] and agent["name"]

    # The agent opens the bot: the menu arrives live, and stays in the chat.
    since = await page.send(agent["id"], "/start")
    mine = await page.event(lambda e: e["type"] == "message" and e["chat_id"] == agent["id"])
    assert mine["message"]["text"] == "/start" and mine["message"]["from"] == "user"
    welcome = await page.event(from_bot(agent["id"]), since)
    assert agent["name"] in welcome["message"]["text"]
    keyboard = await page.event(
        lambda e: e["type"] == "keyboard" and e["chat_id"] == agent["id"], since
    )
    assert ["📝 Nouvelle visite"] in keyboard["keyboard"]
    chat = await page.get(f"/api/chats/{agent['id']}")
    assert chat["keyboard"] == keyboard["keyboard"]
    assert chat["messages"][-1] == welcome["message"]
    assert "aide" in [c["command"] for c in chat["commands"]]

    # A reply-keyboard button is its label sent as text; an inline button is tapped.
    since = await page.send(agent["id"], "📝 Nouvelle visite")
    question = await page.event(
        lambda e: from_bot(agent["id"])(e) and bool(e["message"]["inline_keyboard"]), since
    )
    first = question["message"]["inline_keyboard"][0][0]["text"]
    since = await page.tap(agent["id"], question["message"], first)
    await page.event(
        lambda e: e["type"] in ("edit", "message", "toast") and e["chat_id"] == agent["id"],
        since,
    )

    # A document the bot sends is downloaded from the demo's server.
    since = await page.send(manager["id"], "📈 Indicateurs")
    screen = await page.event(with_button(manager["id"], "📥 Excel"), since)
    since = await page.tap(manager["id"], screen["message"], "📥 Excel")
    sent = await page.event(
        lambda e: from_bot(manager["id"])(e) and e["message"]["document"] is not None, since
    )
    document = sent["message"]["document"]
    assert document["name"].endswith(".xlsx") and document["url"].startswith("/files/")
    async with page.session.get(page.url + document["url"]) as response:
        assert response.status == 200
        disposition = response.headers["Content-Disposition"]
        quoted = urllib.parse.quote(document["name"], safe="")
        assert disposition == f"attachment; filename*=UTF-8''{quoted}"
        workbook = load_workbook(io.BytesIO(await response.read()))
        assert workbook.sheetnames
    # A photo (a chart) is shown in the page, not downloaded.
    since = await page.tap(manager["id"], screen["message"], "📊 Graphiques")
    chart = await page.event(
        lambda e: from_bot(manager["id"])(e) and e["message"]["photo"] is not None, since
    )
    async with page.session.get(page.url + chart["message"]["photo"]["url"]) as response:
        assert response.status == 200 and response.content_type == "image/png"
        assert "Content-Disposition" not in response.headers
        assert (await response.read()).startswith(b"\x89PNG")

    # Telegram's limit, in French; an unknown message.
    status, error = await page.post(f"/api/chats/{agent['id']}/send", {"text": "a" * 4097})
    assert status == 413 and "4\N{NO-BREAK SPACE}096 caractères" in error["error"]
    status, error = await page.post(
        f"/api/chats/{agent['id']}/tap", {"message_id": 99999, "callback_data": "x"}
    )
    assert status == 404 and "message" in error["error"]


# ------------------------------------------------------------------- in this process
async def tiny_network(db: Database, now: datetime) -> DemoNetwork:
    """A Caf, a site, a coordinator and an agent who committed to secrecy: through the
    services, as the real seed does, in a few milliseconds."""
    async with db.transaction() as tx:
        caf = await cafs.add(
            tx,
            name="Caf d'essai (démo)",
            period=ReportingPeriod.QUARTERLY,
            timezone="Europe/Paris",
            notify_chat_id=None,
            now=now,
        )
        site = await partners.add(
            tx, caf_id=caf.id, name="Mairie de Ham", city="Ham", address="", now=now
        )
    people = (
        DemoPerson(2001, "Corinne", "Roux", Role.COORDINATOR, None),
        DemoPerson(2002, "Marc", "Durand", Role.MANAGER, site.name),
        DemoPerson(2003, "Agnès", "Petit", Role.AGENT, site.name),
    )
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    for person in people:
        invited = await invitations.create(
            db,
            role=person.role,
            caf=caf,
            partner_id=None if person.role is Role.COORDINATOR else site.id,
            uses=1,
            valid_for=timedelta(days=1),
            now=now,
        )
        joined = await invitations.redeem(
            db,
            settings,
            telegram_user_id=person.telegram_user_id,
            name=person.name,
            code=invited.code,
            now=now,
        )
        if person.role is not Role.COORDINATOR:
            await secrecy.commit(db, joined.member, now)
    return DemoNetwork(caf.name, people)


@dataclass
class Seeds:
    calls: int = 0

    async def __call__(self, db: Database, now: datetime) -> DemoNetwork:
        self.calls += 1
        return await tiny_network(db, now)


@contextlib.asynccontextmanager
async def running_demo(data_dir: Path, seeds: Seeds, *, reset: bool = False) -> AsyncIterator[Page]:
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    server = asyncio.create_task(
        demo.serve(
            data_dir,
            port=0,
            reset=reset,
            ready=ready.set_result,
            stop=stop,
            seed_network=seeds,
        )
    )
    try:
        done, _ = await asyncio.wait({ready, server}, return_when=asyncio.FIRST_COMPLETED)
        if server in done:
            server.result()  # its error, if it failed to start
        async with aiohttp.ClientSession() as session:
            page = Page(ready.result(), session)
            await page.connect()
            try:
                yield page
            finally:
                await page.close()
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)


AGENT = 2003


async def test_a_reset_reseeds_from_scratch_and_empties_the_chats(tmp_path: Path) -> None:
    seeds = Seeds()
    async with running_demo(tmp_path, seeds) as page:
        # At its start, each person opened the bot: their chat shows the menu.
        opened = await page.get(f"/api/chats/{AGENT}")
        assert opened["messages"][0]["text"] == "/start"
        assert ["📝 Nouvelle visite"] in opened["keyboard"]
        since = await page.send(AGENT, "Un mot de l'agent")
        await page.event(from_bot(AGENT), since)
        assert len((await page.get(f"/api/chats/{AGENT}"))["messages"]) > len(opened["messages"])

        since = len(page.events)
        assert await page.post("/api/reset") == (204, None)
        await page.event(lambda e: e["type"] == "reset", since)
        assert seeds.calls == 2
        again = await page.get(f"/api/chats/{AGENT}")
        assert "Un mot de l'agent" not in [m["text"] for m in again["messages"]]
        assert again["messages"][0]["text"] == "/start"
        assert (await page.get("/api/people"))["caf"] == "Caf d'essai (démo)"


async def test_the_demo_database_is_reused_unless_reset(tmp_path: Path) -> None:
    seeds = Seeds()
    async with running_demo(tmp_path, seeds) as page:
        assert [p["id"] for p in (await page.get("/api/people"))["people"]] == [2001, 2002, 2003]
        last = (await page.get(f"/api/chats/{AGENT}"))["messages"][-1]["message_id"]
    async with running_demo(tmp_path, seeds) as page:
        assert seeds.calls == 1
        assert (await page.get("/api/people"))["people"][2]["role_label"] == "Agent d'accueil"
        # The chats start empty again, but never give an id the database may still hold.
        first = (await page.get(f"/api/chats/{AGENT}"))["messages"][0]["message_id"]
        assert first > last
    async with running_demo(tmp_path, seeds, reset=True) as page:
        assert seeds.calls == 2
        assert (await page.get(f"/api/chats/{AGENT}"))["messages"][0]["message_id"] == 1


async def test_another_address_is_warned_of_and_a_taken_port_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = Seeds()
    with socket.create_server(("0.0.0.0", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(demo.DemoError, match=f"le port {port} est déjà pris"):
            await demo.serve(
                tmp_path / "demo",
                host="0.0.0.0",
                port=port,
                stop=asyncio.Event(),
                seed_network=seeds,
            )
    assert "Attention : la démo écoute sur 0.0.0.0" in capsys.readouterr().err
    assert seeds.calls == 0 and not (tmp_path / "demo").exists()


async def test_the_server_refuses_in_french_what_a_page_should_not_ask(tmp_path: Path) -> None:
    async with running_demo(tmp_path, Seeds()) as page:
        for path, body, status in [
            ("/api/chats/1/send", {"text": "bonjour"}, 404),  # nobody of the demo
            (f"/api/chats/{AGENT}/send", {"texte": "bonjour"}, 400),
            (f"/api/chats/{AGENT}/send", {"text": "   "}, 400),
            (f"/api/chats/{AGENT}/send", ["bonjour"], 400),
            (f"/api/chats/{AGENT}/tap", {"message_id": "1", "callback_data": "x"}, 400),
        ]:
            assert (await page.post(path, body))[0] == status, (path, body)
        chat = await page.get(f"/api/chats/{AGENT}")
        menu = chat["messages"][-1]
        status, error = await page.post(
            f"/api/chats/{AGENT}/tap",
            {"message_id": menu["message_id"], "callback_data": "forged"},
        )
        assert status == 400 and "bouton" in error["error"]
        huge = b'{"text": "' + b"a" * (2 * 1024 * 1024) + b'"}'
        async with page.session.post(page.url + f"/api/chats/{AGENT}/send", data=huge) as r:
            assert r.status == 413 and "error" in await r.json()
        # Another site's page open in the same browser may not act for the demo's people.
        async with page.session.post(
            page.url + f"/api/chats/{AGENT}/send",
            json={"text": "bonjour"},
            headers={"Origin": "http://evil.example"},
        ) as response:
            assert response.status == 403
        for path in ("/static/..%2Fdemo.py", "/files/FAKEFILE999999", "/api/nothing"):
            async with page.session.get(URL(page.url + path, encoded=True)) as response:
                assert response.status == 404 and "error" in await response.json()
        async with page.session.get(page.url + "/") as response:
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
