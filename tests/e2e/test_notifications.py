"""Notifications through the outbox, seen from the people who receive them: Telegram's
refusals, a bot killed while they go out, and the nightly scheduled work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.domain.permissions import Role
from bot.jobs import housekeeping
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from storage import outbox, people, scheduled
from storage import visits as visit_store
from tests.conftest import BotProcess, Network, RunningBot
from tests.e2e.test_network import open_site

StartBot = Callable[..., Awaitable[BotProcess]]
NOTICE = "est suspendu"


async def outbox_settled(network: Network) -> None:
    """The fake shows a message before the sender has recorded Telegram's answer: wait."""
    for _ in range(500):
        in_flight = await network.db.fetch_value(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')"
        )
        if in_flight == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the outbox did not settle")


async def suspend(coordinator: FakeUser, site: str = "Mairie de Ham") -> None:
    await open_site(coordinator, site)
    await coordinator.tap("🟠 Suspendre le label")
    await coordinator.send("Contrôle en cours.")


async def test_refusals_from_telegram_are_handled_per_recipient(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    slow = await network.join(Role.AGENT, first_name="Sam")  # 429: wait, then delivered
    gone = await network.join(Role.AGENT, first_name="Gaston")  # 403: blocked the bot
    flaky = await network.join(Role.AGENT, first_name="Flore")  # 500: retried later
    fake.fail("sendMessage", status=429, retry_after=1, chat_id=slow.chat_id)
    gone.block()
    fake.fail("sendMessage", status=500, times=2, chat_id=flaky.chat_id)

    await suspend(coordinator)
    await fake.wait_for(lambda: NOTICE in slow.last_message.text)
    gone_member = await people.member_by_telegram_id(network.db, gone.user_id)
    assert gone_member is not None
    await fake.wait_for(
        lambda: bool(fake.calls_to("sendMessage") and NOTICE not in (gone.last_message.text or ""))
    )
    # The 5xx answers put the message back with a backoff measured on the bot's clock: once
    # each failure is written down, move the clock past its backoff.
    sender = bot.app.bot_data["outbox"][0]
    for attempt in (1, 2):
        for _ in range(500):
            if (
                await network.db.fetch_value(
                    "SELECT attempts FROM outbox WHERE kind = 'label_notice' AND chat_id = ?"
                    " AND status = 'pending'",
                    (flaky.chat_id,),
                )
                == attempt
            ):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"failure {attempt} of the 500s was not recorded")
        network.clock.advance(seconds=30)
        sender.wake()
    await fake.wait_for(lambda: NOTICE in flaky.last_message.text)

    await outbox_settled(network)
    rows = {
        row["chat_id"]: row
        for row in await network.db.fetch_all(
            "SELECT chat_id, status, attempts FROM outbox WHERE kind = 'label_notice'"
        )
    }
    assert rows[slow.chat_id]["status"] == "sent"
    assert rows[slow.chat_id]["attempts"] == 0  # a 429 is not a failure
    assert rows[flaky.chat_id]["status"] == "sent"
    assert rows[flaky.chat_id]["attempts"] == 2
    assert rows[gone.chat_id]["status"] == "unreachable"
    assert await outbox.unreachable_since(network.db, gone_member.person.id) is not None
    # Each got it once; the blocked one got nothing and is no longer tried.
    for user in (slow, flaky):
        assert sum(NOTICE in (m.text or "") for m in user.bot_messages) == 1
    # Writing to the bot again makes them reachable.
    gone.unblock()
    await gone.send("/start")
    assert await outbox.unreachable_since(network.db, gone_member.person.id) is None


async def test_a_kill_while_notices_go_out_loses_none(
    network: Network, bot_process: StartBot, fake: FakeBotApi
) -> None:
    process = await bot_process(BROADCAST_MAX_RATE="8")
    code = await network.invitation(Role.AGENT, partner=network.site, uses=40)
    team = []
    for number in range(30):
        user = network.stranger(f"Agent{number}")
        await user.send(f"/start {code}")
        team.append(user)
    # Joined after the team, so the 30 "new agent" training needs go to nobody yet.
    coordinator = await network.join(Role.COORDINATOR, first_name="Corinne")

    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap("🟠 Suspendre le label")

    async def fetched_only(update_id: int) -> None:
        # The default settle waits for silence, which only comes once every notice is out.
        await fake.wait_for(lambda: fake.updates_confirmed >= update_id)

    fake.settle = fetched_only
    await coordinator.send("Contrôle en cours.")
    fake.settle = None
    await fake.wait_for(lambda: sum(NOTICE in u.last_message.text for u in team) >= 5, timeout=20)
    await process.kill()
    delivered_before = sum(NOTICE in u.last_message.text for u in team)
    assert delivered_before < len(team), "the kill came too late to test anything"

    await bot_process(BROADCAST_MAX_RATE="8")
    await fake.wait_for(lambda: all(NOTICE in u.last_message.text for u in team), timeout=30)
    copies = [sum(NOTICE in (m.text or "") for m in u.bot_messages) for u in team]
    assert all(count >= 1 for count in copies)
    # Only what was in flight at the kill may arrive twice: the sender sends one at a time.
    assert sum(count - 1 for count in copies) <= 1
    await outbox_settled(network)
    statuses = await outbox.counts(network.db, kind="label_notice")
    assert statuses[outbox.OutboxStatus.SENT] == len(team)  # the only coordinator acted


async def test_nightly_housekeeping_runs_once_and_schedules_the_next_night(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    await agent.tap("Femme")
    await network.invitation(Role.AGENT, partner=network.site)
    scheduler = bot.app.bot_data["scheduler"]
    jobs = await scheduled.pending(network.db, kind=housekeeping.KIND)
    assert [job.key for job in jobs] == ["housekeeping:2026-11-27"]

    network.clock.advance(hours=20)  # 27 November, 6 h in Paris: past 3 h
    assert await scheduler.run_due() == 2  # the night's run, and the morning's hourly one
    assert await scheduler.run_due() == 0  # never twice
    member = await people.member_by_telegram_id(network.db, agent.user_id)
    assert member is not None
    assert await visit_store.open_draft(network.db, member.person.id) is not None  # < 24 h

    network.clock.advance(days=1)  # 28 November, 6 h: that night's run and the hourly one
    assert await scheduler.run_due() == 2
    assert await visit_store.open_draft(network.db, member.person.id) is None
    keys = [job.key for job in await scheduled.pending(network.db, kind=housekeeping.KIND)]
    assert keys == ["housekeeping:2026-11-29"]
