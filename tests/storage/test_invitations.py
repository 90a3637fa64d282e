"""Contract of storage/invitations.py, through its functions only: an invitation is found by
its clear code (only its hash is kept), each use is taken once while it is valid, and wrong
codes are counted per account and for all accounts within a sliding window."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.domain import invitations as rules
from bot.domain.invitations import ThrottleScope
from bot.domain.permissions import Role
from storage import invitations
from storage.db import Database
from tests.storage import world
from tests.storage.world import Network

WINDOW = timedelta(minutes=15)


async def invite(
    db: Database, network: Network, *, uses: int = 1, days: int = 7
) -> tuple[str, int]:
    """An agent's invitation to Ham."""
    async with db.transaction() as tx:
        code, invitation = await world.invite(
            tx, network.now, Role.AGENT, network.ham, uses=uses, days=days
        )
    return code, invitation.id


async def test_an_invitation_is_found_by_its_clear_code(
    db: Database, clock: ManualClock, network: Network
) -> None:
    code, invitation_id = await invite(db, network, uses=3)
    assert rules.well_formed(code)
    found = await invitations.find_by_code(db, code)
    assert found is not None and found == await invitations.get(db, invitation_id)
    assert (found.role, found.caf_id, found.partner_id, found.uses_left) == (
        Role.AGENT,
        network.somme.id,
        network.ham.id,
        3,
    )
    assert found.expires_at == clock.now() + timedelta(days=7) and found.revoked_at is None
    assert await invitations.find_by_code(db, code[:-1] + ("A" if code[-1] != "A" else "B")) is None
    other, _ = await invite(db, network)
    assert other != code  # random, never reused


async def test_each_use_is_taken_once_until_none_is_left(
    db: Database, clock: ManualClock, network: Network
) -> None:
    _, invitation_id = await invite(db, network, uses=2)
    assert await invitations.consume(db, invitation_id, clock.now())
    assert await invitations.consume(db, invitation_id, clock.now())
    assert not await invitations.consume(db, invitation_id, clock.now())
    used = await invitations.get(db, invitation_id)
    assert used is not None and used.uses_left == 0


async def test_an_expired_or_revoked_invitation_gives_no_use(
    db: Database, clock: ManualClock, network: Network
) -> None:
    _, expiring = await invite(db, network, uses=5, days=1)
    _, revoked = await invite(db, network, uses=5)
    await invitations.revoke(db, revoked, clock.now())
    cancelled = await invitations.get(db, revoked)
    assert cancelled is not None and cancelled.revoked_at == clock.now()
    assert not await invitations.consume(db, revoked, clock.now())
    clock.advance(days=1)
    assert not await invitations.consume(db, expiring, clock.now())
    for invitation_id in (expiring, revoked):
        kept = await invitations.get(db, invitation_id)
        assert kept is not None and kept.uses_left == 5


async def test_wrong_codes_are_counted_per_account_within_the_window(
    db: Database, clock: ManualClock
) -> None:
    await invitations.record_failure(db, 1001, clock.now())
    clock.advance(minutes=10)
    await invitations.record_failure(db, 1001, clock.now())
    await invitations.record_failure(db, 2002, clock.now())
    count, oldest = await invitations.recent_failures(db, 1001, clock.now(), WINDOW)
    assert count == 2 and oldest == clock.now() - timedelta(minutes=10)
    clock.advance(minutes=6)  # the first one has left the window
    count, oldest = await invitations.recent_failures(db, 1001, clock.now(), WINDOW)
    assert count == 1 and oldest == clock.now() - timedelta(minutes=6)
    assert await invitations.recent_failures(db, 3003, clock.now(), WINDOW) == (0, None)
    # Kept for /mesdonnees, oldest first, whatever the window.
    assert await invitations.failures_of(db, 1001) == [
        clock.now() - timedelta(minutes=16),
        clock.now() - timedelta(minutes=6),
    ]
    assert await invitations.failures_of(db, 3003) == []


async def test_the_failure_window_says_when_checks_resume(db: Database, clock: ManualClock) -> None:
    start = clock.now()
    for minutes, account in ((0, 1001), (1, 1001), (2, 2002), (3, 1001)):
        await invitations.record_failure(db, account, start + timedelta(minutes=minutes))
    clock.set(start + timedelta(minutes=4))

    mine = await invitations.failure_window(
        db, telegram_user_id=1001, now=clock.now(), window=WINDOW, limit=3
    )
    assert (mine.scope, mine.failures, mine.limit) == (ThrottleScope.ACCOUNT, 3, 3)
    # One of the three must leave the window: the oldest, 15 minutes after it was sent.
    assert mine.exceeded and mine.release_at == start + WINDOW

    everyone = await invitations.failure_window(
        db, telegram_user_id=None, now=clock.now(), window=WINDOW, limit=3
    )
    assert (everyone.scope, everyone.failures) == (ThrottleScope.EVERYONE, 4)
    # Two must leave: the second oldest of all decides.
    assert everyone.release_at == start + timedelta(minutes=1) + WINDOW

    other = await invitations.failure_window(
        db, telegram_user_id=2002, now=clock.now(), window=WINDOW, limit=3
    )
    assert other.failures == 1 and not other.exceeded and other.release_at is None
