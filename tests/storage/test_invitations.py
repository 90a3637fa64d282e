"""Contract of storage/invitations.py, through its functions only: an invitation is found by
its clear code (only its hash is kept), each use is taken once while it is valid, wrong
codes are counted per account and for all accounts within a sliding window, and the live
links of a Caf or a site are listed and cancelled (one, or all those of one maker)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.domain import invitations as rules
from bot.domain.invitations import InvitationLink, ThrottleScope
from bot.domain.models import Caf, Partner, Person
from bot.domain.permissions import PersonStatus, Role
from storage import invitations, people
from storage.db import Database, available_migrations, open_database
from tests.storage import world
from tests.storage.world import Network, Staff

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


# ------------------------------------------------------------------------------ live links
async def made_by(
    db: Database, now: datetime, maker: Person | None, at: Caf | Partner, role: Role, **kw: Any
) -> int:
    """A link `maker` made now (None: the command line), to a site or (a coordinator's) a Caf."""
    caf_id, site_id = (at.caf_id, at.id) if isinstance(at, Partner) else (at.id, None)
    async with db.transaction() as tx:
        _, invitation = await invitations.create(
            tx,
            role=role,
            caf_id=caf_id,
            partner_id=site_id,
            uses=kw.get("uses", 1),
            expires_at=now + timedelta(days=kw.get("days", 7)),
            created_by=maker.id if maker else None,
            now=now,
        )
    return invitation.id


async def test_live_links_are_the_cafs_or_a_sites_usable_ones_newest_first(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    corinne, marc = staff.coordinator, staff.manager
    team = await made_by(db, clock.now(), corinne, network.ham, Role.AGENT, uses=10)
    clock.advance(minutes=1)
    coordination = await made_by(db, clock.now(), None, network.somme, Role.COORDINATOR)
    clock.advance(minutes=1)
    manager = await made_by(db, clock.now(), corinne, network.albert, Role.MANAGER)
    short = await made_by(db, clock.now(), marc, network.ham, Role.AGENT, days=1)
    used = await made_by(db, clock.now(), marc, network.ham, Role.AGENT)
    cancelled = await made_by(db, clock.now(), marc, network.ham, Role.AGENT)
    aisne = await made_by(db, clock.now(), None, network.laon, Role.AGENT)
    assert await invitations.consume(db, used, clock.now())
    assert await invitations.cancel(db, cancelled, clock.now())
    now = clock.now()

    def ids(found: list[InvitationLink]) -> list[int]:
        return [link.id for link in found]

    somme = await invitations.live_links(db, caf_id=network.somme.id, now=now)
    assert ids(somme) == [short, manager, coordination, team]
    ham = await invitations.live_links(
        db, caf_id=network.somme.id, now=now, partner_id=network.ham.id
    )
    assert ids(ham) == [short, team]
    agents = await invitations.live_links(db, caf_id=network.somme.id, now=now, role=Role.AGENT)
    assert ids(agents) == [short, team]
    assert ids(await invitations.live_links(db, caf_id=network.aisne.id, now=now)) == [aisne]
    by_id = {link.id: link for link in somme}
    assert (by_id[team].maker_name, by_id[team].site, by_id[team].uses_left) == (
        "Corinne",
        "Mairie de Ham (Ham)",
        10,
    )
    assert (by_id[coordination].maker_name, by_id[coordination].site) == (None, None)
    clock.advance(days=1)  # `short` expires
    later = await invitations.live_links(db, caf_id=network.somme.id, now=clock.now())
    assert ids(later) == [manager, coordination, team]
    # One link, live or not, with its maker and site.
    gone = await invitations.link(db, cancelled)
    assert gone is not None and gone.revoked_at == now and gone.maker_name == "Marc"
    assert await invitations.link(db, 999_999) is None


async def test_a_link_is_cancelled_once_and_only_while_live(
    db: Database, clock: ManualClock, network: Network
) -> None:
    _, live = await invite(db, network, uses=3)
    _, used = await invite(db, network)
    _, short = await invite(db, network, days=1)
    assert await invitations.consume(db, used, clock.now())
    assert await invitations.cancel(db, live, clock.now())
    assert not await invitations.cancel(db, live, clock.now())  # a double tap
    assert not await invitations.cancel(db, used, clock.now())
    clock.advance(days=1)
    assert not await invitations.cancel(db, short, clock.now())
    kept = await invitations.get(db, live)
    assert kept is not None and kept.uses_left == 3 and kept.revoked_at is not None
    for untouched in (used, short):
        found = await invitations.get(db, untouched)
        assert found is not None and found.revoked_at is None
    assert not await invitations.consume(db, live, clock.now())


async def test_a_persons_live_links_are_cancelled_with_them_and_no_one_elses(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    corinne, marc = staff.coordinator, staff.manager
    hers = [
        await made_by(db, clock.now(), corinne, network.somme, Role.COORDINATOR, uses=10),
        await made_by(db, clock.now(), corinne, network.albert, Role.MANAGER),
    ]
    expired = await made_by(db, clock.now(), corinne, network.ham, Role.AGENT, days=1)
    his = await made_by(db, clock.now(), marc, network.ham, Role.AGENT)
    from_shell = await made_by(db, clock.now(), None, network.ham, Role.AGENT)
    clock.advance(days=1)
    cancelled = await invitations.cancel_made_by(db, corinne.id, clock.now())
    assert [link.id for link in cancelled] == hers
    assert {link.caf_id for link in cancelled} == {network.somme.id}
    assert await invitations.cancel_made_by(db, corinne.id, clock.now()) == []
    gone = await invitations.get(db, expired)
    assert gone is not None and gone.revoked_at is None  # expired, not cancelled
    for kept in (his, from_shell):
        found = await invitations.get(db, kept)
        assert found is not None and found.revoked_at is None


async def test_migration_0011_cancels_the_links_of_people_revoked_before_it(
    db_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Links used to outlive their makers: a database of an earlier version is mended once."""
    shipped = available_migrations()
    monkeypatch.setattr(
        "storage.db.available_migrations", lambda: {n: shipped[n] for n in shipped if n < 11}
    )
    async with open_database(db_path) as db:
        network = await world.build(db, clock)
        staff = await world.staff(network)
        revoked = await made_by(db, clock.now(), staff.coordinator, network.somme, Role.COORDINATOR)
        kept = await made_by(db, clock.now(), staff.manager, network.ham, Role.AGENT)
        await people.set_status(db, staff.coordinator.id, PersonStatus.REVOKED, clock.now())
    monkeypatch.setattr("storage.db.available_migrations", lambda: shipped)
    async with open_database(db_path) as db:
        gone = await invitations.get(db, revoked)
        assert gone is not None and gone.revoked_at is not None
        still = await invitations.get(db, kept)
        assert still is not None and still.revoked_at is None
