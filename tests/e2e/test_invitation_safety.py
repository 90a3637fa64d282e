"""Guessing invitation codes: wrong codes pause the account that sent them (and, in a storm
of them, after one), logged without the codes; a valid code is never refused for anybody
else's; expired, exhausted and revoked codes never work."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeUser
from storage import invitations, people
from tests.conftest import Network, RunningBot


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
        if r.levelno == logging.WARNING and "Invitation codes" in r.getMessage()
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

    # The account in its own pause waits, a valid code included (bot/domain/invitations.py
    # `throttle` says why); everyone else is untouched.
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


async def test_throwaway_accounts_cannot_keep_a_newcomer_with_a_valid_code_out(
    bot: RunningBot, network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue #16: six accounts sending five wrong codes each used to pause every code check,
    in every Caf at once, a genuine link included. Only failures pause, and only their
    sender's account; the storm makes each account wait after one wrong code."""
    caplog.set_level(logging.INFO)
    settings = bot.settings
    assert (settings.invite_max_failures, settings.invite_global_max_failures) == (5, 30)
    throwaways = [network.stranger(f"Jetable {n}") for n in range(6)]
    n = 0
    for account in throwaways:
        for _ in range(5):
            n += 1
            network.clock.advance(seconds=5)
            await account.send(f"/start {wrong(n)}")
            assert "n'est pas reconnu" in account.last_message.text
    assert await failures(network) == 30  # the old global budget, used up
    await throwaways[0].send(f"/start {wrong(100)}")
    assert "Trop de codes erronés" in throwaways[0].last_message.text  # its own pause

    # Newcomers with a valid link join at once, in this Caf and in another one.
    lucie = network.stranger("Lucie")
    await lucie.send(f"/start {await network.invitation(Role.AGENT, partner=network.site)}")
    assert "Bienvenue Lucie" in lucie.last_message.text
    oise = await network.add_caf("Caf de l'Oise")
    odile = network.stranger("Odile")
    await odile.send(f"/start {await network.invitation(Role.COORDINATOR, caf=oise)}")
    assert "Bienvenue Odile" in odile.last_message.text
    assert "suspendu" not in lucie.last_message.text + odile.last_message.text

    # The storm still slows wrong codes down: a seventh account waits after a single one,
    # and that wait is neither recorded nor stretched by what it sends meanwhile.
    seventh = network.stranger("Jetable 7")
    await seventh.send(f"/start {wrong(200)}")
    assert "n'est pas reconnu" in seventh.last_message.text
    for attempt in range(3):
        await seventh.send(f"/start {wrong(201 + attempt)}")
        text = seventh.last_message.text
        assert "Beaucoup de codes d'invitation erronés" in text and "15 minutes" in text
    assert await failures(network) == 31
    # Its own wait holds a valid code back too: its codes are not looked at until it ends.
    later = await network.invitation(Role.AGENT, partner=network.site)
    await seventh.send(f"/start {later}")
    assert "Beaucoup de codes" in seventh.last_message.text
    assert not await is_registered(network, seventh)

    # The operator is warned of the storm, without a code or an account.
    storm = [w for w in throttle_warnings(caplog) if "all accounts" in w]
    assert storm and all("valid codes still pass" in w for w in storm)
    for code in (wrong(1), wrong(200), later):
        assert code not in caplog.text
    assert str(seventh.user_id) not in "\n".join(throttle_warnings(caplog))

    # Once the wrong codes have left the window, the seventh account's link lets it in.
    network.clock.advance(minutes=15, seconds=1)
    await seventh.send(f"/start {later}")
    assert "Bienvenue" in seventh.last_message.text


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
