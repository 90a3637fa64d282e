"""Faults, lived by the people at the counter: the bot killed at random moments, the Bot API
down for a while, the database locked by another process.

Agents log visits the way a person does: they read the screen, tap the answer it shows, and
when nothing happens they tap again (or go back through the menu and « ▶️ Reprendre »). At
the end, every visit whose confirmation was shown is stored exactly once and no other is, no
draft is unreadable, and every recipient of the news has it (twice only when it was in
flight at a kill).
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from telegram.error import NetworkError

from bot.domain.models import Partner
from bot.domain.permissions import Role
from bot.domain.visits import Draft
from bot.sandbox.bot_api import FakeBotApi, FakeMessage, FakeUser
from bot.ui import callbacks
from tests.conftest import ROOT, BotProcess, Network, RunningBot
from tests.e2e.test_broadcast import add_recipients, got, report
from tests.e2e.test_visit import TYPICAL

StartBot = Callable[..., Awaitable[BotProcess]]

NEWS = "Nouvelle procédure RSA : les justificatifs changent lundi"
NEW_VISIT = "📝 Nouvelle visite"
RESUME = "▶️ Reprendre"
ERROR = "incident technique"
#: Every method that answers a person or sends them something (all but getUpdates).
REPLIES = (
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "deleteMessage",
    "setMyCommands",
)


async def enqueued(update_id: int) -> None:
    """Settle for concurrent people: a tap returns once queued; each agent watches its screen."""


# ------------------------------------------------------------------------------ agents
@dataclass
class BotLife:
    """Whether the bot is running: an agent's patience only runs down while it is."""

    up: bool = True


def visit_screen(user: FakeUser) -> FakeMessage | None:
    """The message the agent works in: the latest one with buttons of the visit flow."""
    for message in reversed(user.bot_messages):
        for row in message.inline_buttons:
            if any(data.startswith(("v:", "sv:", "m:visit")) for _, data in row):
                return message
    return None


def saved_visit(message: FakeMessage) -> int | None:
    """The visit id under a confirmation « Visite enregistrée », None for other screens."""
    if "Visite enregistrée" not in (message.text or ""):
        return None
    for row in message.inline_buttons:
        for _, data in row:
            if data.startswith("sv:"):
                return int(callbacks.decode(data, expect=callbacks.SavedVisit).visit)
    return None


@dataclass
class Agent:
    """A reception agent logging typical visits, whatever the bot goes through."""

    user: FakeUser
    life: BotLife
    rng: random.Random
    #: Seconds of a running bot without an answer before the person taps again.
    patience: float = 2.5
    confirmed: set[int] = field(default_factory=set)
    taps: int = 0
    retaps: int = 0
    resumed: int = 0
    errors_seen: int = 0

    def _seen(self) -> tuple[object, ...]:
        screen = visit_screen(self.user)
        errors = sum(ERROR in (m.text or "") for m in self.user.bot_messages)
        if screen is None:
            return (None, 0, "", errors)
        return (screen.message_id, screen.edits, screen.text, errors)

    async def _wait_for_answer(self, before: tuple[object, ...], answers: int) -> bool:
        """True once the screen changed (or the tap was answered and a moment passed);
        False when a running bot stayed silent longer than the person's patience."""
        waited, last = 0.0, time.monotonic()
        answered_at: float | None = None
        while True:
            now = time.monotonic()
            if self.life.up:  # a person cannot tell, but a bot that is down answers nobody
                waited += now - last
            last = now
            seen = self._seen()
            if seen != before:
                if seen[3] != before[3]:
                    self.errors_seen += 1
                    await asyncio.sleep(0.3)  # reads « réessayez dans un instant »
                return True
            if answered_at is None and len(self.user.callback_answers) > answers:
                answered_at = now
            if answered_at is not None and now - answered_at > 1.0:
                return True  # a toast only (e.g. « Déjà pris en compte »): look again
            if waited > self.patience:
                self.retaps += 1
                return False
            await asyncio.sleep(0.01)

    async def _press(self, label: str, message: FakeMessage | None) -> bool:
        before, answers = self._seen(), len(self.user.callback_answers)
        self.taps += 1
        if message is None:
            await self.user.send(label)  # the reply keyboard's button
        else:
            await self.user.tap(label, message)
        return await self._wait_for_answer(before, answers)

    async def log_visit(self, give_up_after: float = 120.0) -> int:
        """From « 📝 Nouvelle visite » to a confirmation not seen before; returns its id."""
        known = set(self.confirmed)
        deadline = time.monotonic() + give_up_after
        await self._press(NEW_VISIT, None)
        while True:
            assert time.monotonic() < deadline, self.describe()
            screen = visit_screen(self.user)
            visit_id = saved_visit(screen) if screen is not None else None
            if visit_id is not None and visit_id not in known:
                self.confirmed.add(visit_id)
                return visit_id
            if screen is None or visit_id is not None:
                await self._press(NEW_VISIT, None)
                continue
            if RESUME in screen.labels:
                self.resumed += 1
                await self._press(RESUME, screen)
                continue
            label = next((label for label in TYPICAL if label in screen.labels), None)
            if label is None:  # an expired or abandoned screen: start again from the menu
                await self._press(NEW_VISIT, None)
                continue
            answered = await self._press(label, screen)
            if not answered and label != TYPICAL[-1] and self.rng.random() < 0.4:
                # Some people go back through the menu, which offers to resume the draft.
                await self._press(NEW_VISIT, None)

    async def log_visits(self, until: Callable[[], bool]) -> None:
        while not until():
            await self.log_visit()
            await asyncio.sleep(self.rng.uniform(0, 0.05))

    def describe(self) -> str:
        screen = visit_screen(self.user)
        return (
            f"{self.user!r} stuck: screen {screen.text if screen else None!r} "
            f"{screen.labels if screen else []}, last answers {self.user.callback_answers[-3:]}"
        )


# ------------------------------------------------------------------------------ checks
async def assert_visits_stored_exactly_once(network: Network, agents: list[Agent]) -> None:
    """Each confirmation shown is one stored visit, and each stored visit was confirmed."""
    for agent in agents:
        rows = await network.db.fetch_all(
            "SELECT v.id, v.draft_id FROM visits v JOIN people p ON p.id = v.person_id"
            " WHERE p.telegram_user_id = :t",
            {"t": agent.user.user_id},
        )
        stored = {row["id"] for row in rows}
        assert stored == agent.confirmed, (agent.user, sorted(stored), sorted(agent.confirmed))
        assert len({row["draft_id"] for row in rows}) == len(rows)
    orphans = await network.db.fetch_value(
        "SELECT COUNT(*) FROM visit_drafts d LEFT JOIN visits v ON v.draft_id = d.id"
        " WHERE (d.status = 'saved') != (v.id IS NOT NULL)"
    )
    assert orphans == 0, "a saved draft without its visit, or a visit of an unsaved draft"


async def assert_drafts_readable(network: Network) -> None:
    """Every draft, whatever state a kill left it in, reads back as the domain's `Draft`."""
    rows = await network.db.fetch_all("SELECT id, state FROM visit_drafts")
    for row in rows:
        Draft.model_validate_json(row["state"])  # raises on a corrupted draft
    open_twice = await network.db.fetch_value(
        "SELECT COUNT(*) FROM (SELECT person_id FROM visit_drafts WHERE status = 'open'"
        " GROUP BY person_id HAVING COUNT(*) > 1) AS twice"
    )
    assert open_twice == 0, "someone has two open drafts"


def shows(user: FakeUser, text: str) -> Callable[[], bool]:
    """The bot has shown `text`, in a message or on a button (for `fake.wait_for`)."""
    return lambda: any(
        text in (m.text or "") or any(text in label for label in m.labels)
        for m in user.bot_messages
    )


async def join(
    network: Network, role: Role, first_name: str, partner: Partner | None = None
) -> FakeUser:
    """`Network.join` for a bot in another process: waits for the welcome, not for a
    silence (a loaded machine can leave the bot quiet longer than the fake's heuristic)."""
    site = None if role is Role.COORDINATOR else partner or network.site
    code = await network.invitation(role, partner=site)
    user = network.stranger(first_name)
    await user.send(f"/start {code}")
    await network.fake.wait_for(shows(user, "Bienvenue"), timeout=30)
    if role is not Role.COORDINATOR:  # Article 5 first (tests/e2e/test_secrecy.py)
        await user.tap("✅ Je m'engage")
        await network.fake.wait_for(shows(user, "engagement est enregistré"), timeout=30)
    return user


async def prepare_news(coordinator: FakeUser, fake: FakeBotApi) -> str:
    """The coordinator writes the news for the whole Caf; returns the confirm button."""
    await coordinator.send("📢 Diffuser")
    await fake.wait_for(shows(coordinator, "✍️ Nouvelle information"), timeout=30)
    await coordinator.tap("✍️ Nouvelle information")
    await fake.wait_for(shows(coordinator, "Écrivez le message"), timeout=30)
    await coordinator.send(NEWS)
    await fake.wait_for(shows(coordinator, "📨 Envoyer maintenant"), timeout=30)
    await coordinator.tap("📨 Envoyer maintenant")
    await fake.wait_for(shows(coordinator, "✅ Oui, envoyer"), timeout=30)
    [confirm] = [label for label in coordinator.last_message.labels if label.startswith("✅")]
    return confirm


async def send_news(coordinator: FakeUser, confirm: str, network: Network) -> int:
    """Taps the confirm button; returns how many rows the broadcast queued."""
    await coordinator.tap(confirm)
    expected = int(confirm.split("envoyer à ")[1].split()[0])
    for _ in range(1500):
        queued = await network.db.fetch_value(
            "SELECT COUNT(*) FROM outbox WHERE kind LIKE 'broadcast:%'"
        )
        if queued == expected:
            return expected
        await asyncio.sleep(0.02)
    raise AssertionError(f"the broadcast was not queued ({queued} of {expected} rows)")


async def news_settled(network: Network, within: float = 60.0) -> None:
    """Every broadcast row reached its end (the fake shows a message before it is noted)."""
    deadline = time.monotonic() + within
    while True:
        left = await network.db.fetch_value(
            "SELECT COUNT(*) FROM outbox WHERE kind LIKE 'broadcast:%' AND status != 'sent'"
        )
        if left == 0:
            return
        assert time.monotonic() < deadline, f"{left} broadcast rows not sent"
        await asyncio.sleep(0.05)


async def telegram_ids(network: Network) -> dict[int, int]:
    rows = await network.db.fetch_all("SELECT id, telegram_user_id FROM people")
    return {row["telegram_user_id"]: row["id"] for row in rows}


# ------------------------------------------------------------------------------ 1. kills
@dataclass
class KillReport:
    """What the kills hit: rows of the news 'sending' at a kill may legitimately arrive twice."""

    kills: int = 0
    after_an_update: int = 0
    in_flight: Counter[int] = field(default_factory=Counter)  # person id -> kills while sending


async def kill_repeatedly(
    process: BotProcess,
    start: StartBot,
    settings: dict[str, str],
    network: Network,
    fake: FakeBotApi,
    life: BotLife,
    rng: random.Random,
    kills: int,
) -> KillReport:
    """SIGKILLs the bot `kills` times at random moments and restarts it each time.

    Half the kills come a few milliseconds after the bot took an update from Telegram, so
    that they land inside a handler (between its commit and its reply, say) rather than
    while the bot idles.
    """
    result = KillReport()
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        if rng.random() < 0.5:
            taken = fake.updates_confirmed
            try:
                await fake.wait_for(lambda t=taken: fake.updates_confirmed > t, timeout=3)
                await asyncio.sleep(rng.uniform(0, 0.03))
                result.after_an_update += 1
            except AssertionError:
                pass  # nobody tapped: a plain random moment then
        life.up = False
        await process.kill()
        result.kills += 1
        rows = await network.db.fetch_all(
            "SELECT person_id FROM outbox WHERE kind LIKE 'broadcast:%' AND status = 'sending'"
        )
        result.in_flight.update(row["person_id"] for row in rows)
        await asyncio.sleep(rng.uniform(0, 0.4))  # taps keep coming while it is down
        process = await start(**settings)
        life.up = True
    return result


async def chaos(
    network: Network,
    start: StartBot,
    fake: FakeBotApi,
    *,
    kills: int,
    recipients: int,
    rate: int,
    seed: int,
) -> None:
    settings = {"BROADCAST_MAX_RATE": str(rate), "BROADCAST_PROGRESS_SECONDS": "1"}
    fake.settle = enqueued
    process = await start(**settings)
    coordinator = await join(network, Role.COORDINATOR, "Corinne")
    life = BotLife()
    sites = (network.site, network.other_site)
    agents = [
        Agent(
            await join(network, Role.AGENT, f"Agent {i}", sites[i % 2]),
            life,
            random.Random(seed + 1 + i),
        )
        for i in range(4)
    ]
    team = [a.user for a in agents] + await add_recipients(network, fake, recipients)
    confirm = await prepare_news(coordinator, fake)
    began = time.monotonic()
    assert await send_news(coordinator, confirm, network) == len(team)

    done = False
    working = [asyncio.create_task(a.log_visits(lambda: done)) for a in agents]
    killed = await kill_repeatedly(
        process, start, settings, network, fake, life, random.Random(seed), kills
    )
    chaos_seconds = time.monotonic() - began
    done = True
    await asyncio.wait_for(asyncio.gather(*working), timeout=120)
    await fake.wait_for(lambda: all(got(u, "procédure RSA") for u in team), timeout=90)
    await news_settled(network)
    await fake.wait_for(lambda: "Envoi terminé" in report(coordinator), timeout=30)
    assert f"reçus : {len(team)}" in report(coordinator), report(coordinator)

    person_of = await telegram_ids(network)
    copies = {
        user: sum("procédure RSA" in (m.text or "") for m in user.bot_messages) for user in team
    }
    print(
        f"\n{killed.kills} kills ({killed.after_an_update} right after an update) in "
        f"{chaos_seconds:.1f} s; per agent (visits, taps, taps again, resumed): "
        f"{[(len(a.confirmed), a.taps, a.retaps, a.resumed) for a in agents]}; "
        f"news to {len(team)}, in flight at a kill {sum(killed.in_flight.values())}, "
        f"duplicates {sum(copies.values()) - len(team)}; total {time.monotonic() - began:.1f} s"
    )
    await assert_visits_stored_exactly_once(network, agents)
    await assert_drafts_readable(network)
    beyond = {
        user: (n, killed.in_flight[person_of[user.user_id]])
        for user, n in copies.items()
        if not 1 <= n <= 1 + killed.in_flight[person_of[user.user_id]]
    }
    assert not beyond, f"(copies, kills while in flight) outside what a kill explains: {beyond}"
    assert all(a.confirmed for a in agents), "an agent never got through"


async def test_random_kills_lose_no_confirmed_visit_and_no_news(
    network: Network, bot_process: StartBot, fake: FakeBotApi
) -> None:
    await chaos(network, bot_process, fake, kills=5, recipients=300, rate=25, seed=8)


@pytest.mark.soak
async def test_soak_fifty_random_kills(
    network: Network, bot_process: StartBot, fake: FakeBotApi
) -> None:
    await chaos(network, bot_process, fake, kills=50, recipients=2000, rate=20, seed=50)


# ------------------------------------------------------------------------------ 2. the API down
async def test_the_bot_rides_out_a_bot_api_outage(
    network: Network, bot_process: StartBot, fake: FakeBotApi
) -> None:
    """5xx for everything, then 5xx for replies only (updates still arrive), then replies
    held past the client's 5 s read timeout: the bot keeps running, people get their
    answers once Telegram is back, the news is retried and arrives once to each."""
    fake.settle = enqueued
    process = await bot_process(BROADCAST_MAX_RATE="10", BROADCAST_PROGRESS_SECONDS="1")
    coordinator = await join(network, Role.COORDINATOR, "Corinne")
    life = BotLife()
    rng = random.Random(2)
    agents = [Agent(await join(network, Role.AGENT, f"Agent {i}"), life, rng) for i in range(4)]
    team = [a.user for a in agents] + await add_recipients(network, fake, 40)
    confirm = await prepare_news(coordinator, fake)

    async def three_visits(agent: Agent) -> None:
        for _ in range(3):
            await agent.log_visit()

    working = [asyncio.create_task(three_visits(a)) for a in agents]
    await fake.wait_for(lambda: sum(a.taps for a in agents) >= 10)
    assert await send_news(coordinator, confirm, network) == len(team)
    await fake.wait_for(lambda: sum(got(u, "procédure RSA") for u in team) >= 3)
    began = time.monotonic()
    fake.outage(502)  # everything, getUpdates included
    await asyncio.sleep(1.5)
    fake.outage(503, methods=REPLIES)  # taps arrive and are handled; answers fail
    await asyncio.sleep(1.5)
    fake.outage(0, methods=REPLIES, hold=6)  # answers never come back: PTB times out
    await asyncio.sleep(1.0)
    fake.end_outage()
    # The outbox retries after 2, 4, 8 s… of the bot's clock: make its time run 20 times
    # faster until the news is out, rather than wait for the real seconds.
    while not all(got(u, "procédure RSA") for u in team):
        assert time.monotonic() - began < 60, "the news did not get out after the outage"
        process.clock.advance(timedelta(seconds=10))
        await asyncio.sleep(0.5)
    await asyncio.wait_for(asyncio.gather(*working), timeout=60)
    await news_settled(network, within=30)

    assert process.process is not None and process.process.returncode is None
    assert fake.outage_failures > 20
    await assert_visits_stored_exactly_once(network, agents)
    assert all(len(a.confirmed) == 3 for a in agents)
    await assert_drafts_readable(network)
    copies = [sum("procédure RSA" in (m.text or "") for m in u.bot_messages) for u in team]
    assert copies == [1] * len(team), copies
    retried = await network.db.fetch_value(
        "SELECT COUNT(*) FROM outbox WHERE kind LIKE 'broadcast:%' AND attempts > 0"
    )
    assert retried > 0, "the outage missed the news: nothing to retry"
    print(
        f"\noutage: {fake.outage_failures} calls failed or held; news to {len(team)}, "
        f"{retried} retried; taps {sum(a.taps for a in agents)}, taps again "
        f"{sum(a.retaps for a in agents)}; {time.monotonic() - began:.1f} s from the outage"
    )


async def test_a_visit_saved_while_replies_fail_is_confirmed_on_the_next_tap(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser
) -> None:
    """The save committed but no reply got through (the same happens when the bot is killed
    between the commit and the reply): tapping the last answer again shows the
    confirmation, with its undo, instead of a toast over a screen still asking."""
    await agent.tap(NEW_VISIT)
    for label in TYPICAL[:-1]:
        await agent.tap(label)
    screen = agent.last_message
    fake.outage(503, methods=REPLIES)
    await agent.tap("Oui", screen)
    fake.end_outage()
    assert await network.db.fetch_value("SELECT COUNT(*) FROM visits") == 1
    assert "Oui" in screen.labels  # the person saw nothing happen
    await agent.tap("Oui", screen)  # …so they tap again
    assert "Visite enregistrée" in screen.text
    assert "↩️ Annuler cette visite" in screen.labels
    assert await network.db.fetch_value("SELECT COUNT(*) FROM visits") == 1
    assert bot.errors and all(isinstance(e, NetworkError) for e in bot.errors), bot.errors
    bot.errors.clear()


async def test_an_error_after_the_answer_still_tells_the_person(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser
) -> None:
    """The handler had answered the tap when the edit failed: the error message still
    comes (answering the same tap twice is refused by Telegram)."""
    await agent.tap(NEW_VISIT)
    for label in TYPICAL[:-1]:
        await agent.tap(label)
    screen = agent.last_message
    fake.fail("editMessageText", status=502)
    await agent.tap("Oui", screen)
    assert agent.last_callback_answer is not None
    assert "Visite enregistrée" in (agent.last_callback_answer.get("text") or "")
    assert ERROR in agent.last_message.text
    await agent.tap("Oui", screen)
    assert "Visite enregistrée" in screen.text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM visits") == 1
    assert [type(e) for e in bot.errors] == [NetworkError], bot.errors
    bot.errors.clear()


# ------------------------------------------------------------------------------ 3. the database
LOCKER = """
import select, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
select.select([sys.stdin], [], [], 30)  # until told (at most 30 s)
db.execute("COMMIT")
"""


@dataclass
class WriteLock:
    """Another process holding the database's write lock until `release`."""

    process: asyncio.subprocess.Process

    @classmethod
    async def take(cls, db_path: Path) -> WriteLock:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            LOCKER,
            str(db_path),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 10) == b"locked\n"
        return cls(process)

    async def release(self, after: float = 0.0) -> None:
        await asyncio.sleep(after)
        assert self.process.stdin is not None
        self.process.stdin.write(b"\n")
        await self.process.stdin.drain()
        assert await asyncio.wait_for(self.process.wait(), 10) == 0


async def fill_visit(user: FakeUser) -> FakeMessage:
    """Every answer but the last: the next tap saves."""
    await user.tap(NEW_VISIT)
    for label in TYPICAL[:-1]:
        await user.tap(label)
    return user.last_message


async def test_saves_wait_for_a_lock_held_by_another_process_and_a_backup(
    bot: RunningBot, network: Network, fake: FakeBotApi, db_path: Path, tmp_path: Path
) -> None:
    agents = [await network.join(Role.AGENT, first_name=f"Agent {i}") for i in range(4)]
    screens = [await fill_visit(a) for a in agents]
    lock = await WriteLock.take(db_path)
    started = time.monotonic()
    await asyncio.gather(
        lock.release(after=1.5), *(a.tap("Oui", s) for a, s in zip(agents, screens, strict=True))
    )
    waited = time.monotonic() - started
    assert all("Visite enregistrée" in s.text for s in screens)
    assert waited > 1.0, f"the saves did not meet the lock ({waited:.2f} s)"

    # A backup while the same agents log their next visit: it never blocks them.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "PNC_"))}
    env.update(DATABASE_PATH=str(db_path), PYTHONPATH=str(ROOT))
    copy = tmp_path / "sauvegarde.sqlite3"
    backup = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "backup",
        str(copy),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    more = [await fill_visit(a) for a in agents]
    await asyncio.gather(*(a.tap("Oui", s) for a, s in zip(agents, more, strict=True)))
    out, _ = await backup.communicate()
    assert backup.returncode == 0 and b"Sauvegarde" in out
    assert all("Visite enregistrée" in s.text for s in more)
    assert await network.db.fetch_value("SELECT COUNT(*) FROM visits") == 8
    with sqlite3.connect(copy) as saved:
        assert saved.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert 4 <= saved.execute("SELECT COUNT(*) FROM visits").fetchone()[0] <= 8
    print(f"\nfour saves waited {waited:.2f} s for the lock")


async def test_a_lock_longer_than_the_busy_timeout_shows_an_error_and_keeps_the_draft(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, db_path: Path
) -> None:
    # The production timeout is 5 s (storage/db.py); a shorter one keeps the test short.
    network.db.busy_timeout = 0.2
    screen = await fill_visit(agent)
    lock = await WriteLock.take(db_path)
    await agent.tap("Oui", screen)
    assert ERROR in agent.last_message.text  # « réessayez dans un instant »
    assert "Oui" in screen.labels
    assert await network.db.fetch_value("SELECT COUNT(*) FROM visits") == 0
    await lock.release()

    await agent.tap("Oui", screen)
    assert "Visite enregistrée" in screen.text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM visits") == 1
    assert bot.errors and all("locked" in str(e) for e in bot.errors), bot.errors
    bot.errors.clear()
