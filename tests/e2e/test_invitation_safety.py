"""Guessing invitation codes: slowed down from one account and across accounts, logged
without the codes; expired, exhausted and revoked codes never work."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.permissions import Role
from storage import invitations, people
from tests.conftest import Network, RunningBot
from tests.fake_bot_api import FakeUser

GLOBAL_LIMIT = 8  # wrong codes from all accounts within 15 minutes


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"invite_global_max_failures": GLOBAL_LIMIT}


def wrong(n: int) -> str:
    return f"pas-le-bon-code-{n:06d}"


async def failures(network: Network) -> int:
    return int(await network.db.fetch_value("SELECT COUNT(*) FROM invitation_failures"))


async def is_registered(network: Network, user: FakeUser) -> bool:
    return await people.member_by_telegram_id(network.db, user.user_id) is not None


def throttle_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "throttled" in r.getMessage()
    ]


async def test_one_account_hammering_is_held_back_alone_and_logged_without_codes(
    bot: RunningBot, network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    hammer = network.stranger("Marteau")
    tried = [wrong(n) for n in range(30)]
    for code in tried[:5]:
        await hammer.send(f"/start {code}")
        assert "n'est pas reconnu" in hammer.last_message.text
    good = await network.invitation(Role.AGENT, partner=network.site)
    for code in [*tried[5:], good]:
        await hammer.send(f"/start {code}")
        assert "Trop de codes erronés" in hammer.last_message.text
    # Throttled tries are not even checked, nor counted: the pause does not grow.
    assert await failures(network) == 5
    assert not await is_registered(network, hammer)
    found = await invitations.find_by_code(network.db, good)
    assert found is not None and found.uses_left == 1

    # Everyone else is untouched: five wrong codes are far from the global limit.
    newcomer = network.stranger("Nadia")
    other = await network.invitation(Role.AGENT, partner=network.site)
    await newcomer.send(f"/start {other}")
    assert "Bienvenue Nadia" in newcomer.last_message.text

    warnings = throttle_warnings(caplog)
    assert len(warnings) == 26 and all("this account" in w for w in warnings)
    for code in [*tried, good, other]:
        assert code not in caplog.text
    assert str(hammer.user_id) not in "\n".join(warnings)

    network.clock.advance(minutes=15, seconds=1)
    await hammer.send(f"/start {good}")
    assert "Bienvenue Marteau" in hammer.last_message.text


async def test_many_accounts_trying_a_few_codes_each_slow_everyone_down(
    bot: RunningBot, network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    guessers = [network.stranger(f"Robot {n}") for n in range(4)]
    n = 0
    for _ in range(2):  # two each: well under the per-account limit of five
        for guesser in guessers:
            n += 1
            network.clock.advance(seconds=10)
            await guesser.send(f"/start {wrong(n)}")
            assert "n'est pas reconnu" in guesser.last_message.text
    assert await failures(network) == GLOBAL_LIMIT

    # The storm pauses every check, a genuine link included: codes cannot be told apart
    # without checking them.
    legit = network.stranger("Lucie")
    code = await network.invitation(Role.AGENT, partner=network.site)
    await legit.send(f"/start {code}")
    text = legit.last_message.text
    # The first wrong code came 70 s before the last: 15 minutes after it is 14 from now.
    assert "les invitations sont suspendues" in text and "14 minutes" in text
    assert not await is_registered(network, legit)
    for guesser in guessers:  # the storm goes on, and changes nothing
        n += 1
        await guesser.send(f"/start {wrong(n)}")
        assert "suspendues" in guesser.last_message.text
    assert await failures(network) == GLOBAL_LIMIT
    warnings = throttle_warnings(caplog)
    assert len(warnings) == 5 and all("all accounts" in w for w in warnings)
    assert code not in caplog.text and wrong(1) not in caplog.text

    # The pause ends when the oldest wrong codes leave the window: then one goes through.
    network.clock.advance(minutes=13)
    await legit.send(f"/start {code}")
    assert "suspendues" in legit.last_message.text
    assert "1 minute" in legit.last_message.text
    network.clock.advance(minutes=1)
    await legit.send(f"/start {code}")
    assert "Bienvenue Lucie" in legit.last_message.text
    found = await invitations.find_by_code(network.db, code)
    assert found is not None and found.uses_left == 0


async def test_expired_exhausted_and_revoked_codes_never_work(
    bot: RunningBot, network: Network
) -> None:
    expired = await network.invitation(
        Role.AGENT, partner=network.site, uses=5, expires_in=timedelta(hours=1)
    )
    exhausted = await network.invitation(Role.AGENT, partner=network.site, uses=1)
    revoked = await network.invitation(Role.MANAGER, partner=network.site, uses=3)
    first = network.stranger("Première")
    await first.send(f"/start {exhausted}")
    assert "Bienvenue" in first.last_message.text
    found = await invitations.find_by_code(network.db, revoked)
    assert found is not None
    await invitations.revoke(network.db, found.id, network.clock.now())
    network.clock.advance(hours=2)

    cases = [(expired, "a expiré"), (exhausted, "déjà servi"), (revoked, "a été annulé")]
    for code, said in cases:
        # A fresh account each time, and again after any pause: never let in.
        for attempt in range(2):
            user = network.stranger(f"Essai {attempt}")
            await user.send(f"/start {code}")
            assert said in user.last_message.text, (code, user.last_message.text)
            assert not await is_registered(network, user)
            network.clock.advance(minutes=20)
    # Each refusal counts as a wrong code (they are guesses as much as unknown codes).
    assert await failures(network) == 6
    for code, uses in ((expired, 5), (exhausted, 0), (revoked, 3)):
        found = await invitations.find_by_code(network.db, code)
        assert found is not None and found.uses_left == uses
    assert await network.db.fetch_value("SELECT COUNT(*) FROM people") == 1
