"""The demo's seeded network (bot/sandbox/seed.py, issue #18): what the page shows is there,
read back through the services, at two fixed instants (never today's: it passes any day),
and the same at every reset.

Three seedings are shared by the module's tests (about 2 s each on idle cores): two at the
same instant, one at another. Their databases go to a RAM disk when the machine has one:
what is checked here is the seed's data, not the disk's fsyncs. How long the seed takes is
measured apart (bot/sandbox/seed.py's docstring), never in a timed test.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.models import Member
from bot.domain.periods import reporting_period_of
from bot.domain.permissions import LabelStatus, Role
from bot.domain.signals import SignalKind
from bot.sandbox.demo import open_demo_storage
from bot.sandbox.seed import CAF_NAME, DemoNetwork, seed
from bot.services import (
    broadcasts,
    documentation,
    events,
    indicators,
    members,
    partners,
    signals,
    work_site,
)
from bot.ui.screens.indicators import WHOLE_CAF
from storage import outbox
from storage import visits as visit_store
from storage.db import Database
from storage.outbox import OutboxStatus
from storage.setup import open_storage

# Thursday 26 November 2026, 10:00 in Paris (tests/conftest.py START), and Monday 29 March
# 2027, 8:30 in Paris: Easter Monday (no visit today), the day after the change to summer
# time, in the last week of a quarter.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
OTHER_NOW = datetime(2027, 3, 29, 6, 30, tzinfo=UTC)
RAM_DISK = Path("/dev/shm")


@dataclass(frozen=True)
class Seeded:
    now: datetime
    path: Path
    network: DemoNetwork


def _seed(path: Path, now: datetime) -> Seeded:
    async def run() -> Seeded:
        db = await open_demo_storage(path)
        try:
            return Seeded(now, path, await seed(db, now))
        finally:
            await db.close()

    return asyncio.run(run())


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Seeded, Seeded, Seeded]]:
    """Two seedings at NOW, into two databases, and one at OTHER_NOW."""
    parent = RAM_DISK if RAM_DISK.is_dir() else None
    with tempfile.TemporaryDirectory(dir=parent, prefix="demo-seed-") as folder:
        root = Path(folder)
        yield (
            _seed(root / "first.sqlite3", NOW),
            _seed(root / "again.sqlite3", NOW),
            _seed(root / "other.sqlite3", OTHER_NOW),
        )


@asynccontextmanager
async def opened(seeded: Seeded) -> AsyncIterator[Database]:
    db = await open_storage(seeded.path)
    try:
        yield db
    finally:
        await db.close()


async def _member(db: Database, telegram_user_id: int, now: datetime) -> Member:
    member = await members.by_telegram_id(db, telegram_user_id, now)
    assert member is not None, telegram_user_id
    return member


async def _coordinator(db: Database, seeded: Seeded) -> Member:
    return await _member(db, seeded.network.people[0].telegram_user_id, seeded.now)


async def _visits_by_site(db: Database, seeded: Seeded, start: datetime) -> dict[str, int]:
    coordinator = await _coordinator(db, seeded)
    overview = await partners.overview(db, coordinator.caf)
    counted = {}
    for site in overview.sites:
        counted[site.name] = (
            await visit_store.count_visits(db, start=start, end=seeded.now, partner_id=site.id)
        )[0]
    return counted


@pytest.fixture(params=["now", "other_now"])
def one(request: pytest.FixtureRequest, seeded: tuple[Seeded, Seeded, Seeded]) -> Seeded:
    """Each test at both instants."""
    return seeded[0] if request.param == "now" else seeded[2]


# ------------------------------------------------------------------------------ the network
async def test_the_caf_its_five_sites_one_suspended(one: Seeded) -> None:
    async with opened(one) as db:
        coordinator = await _coordinator(db, one)
        assert coordinator.caf.name == CAF_NAME == one.network.caf_name
        assert coordinator.caf.timezone == "Europe/Paris"
        assert coordinator.caf.city
        sites = (await partners.overview(db, coordinator.caf)).sites
    assert len(sites) == 5
    assert [s.label_status for s in sites].count(LabelStatus.SUSPENDED) == 1
    assert all(s.label_status is not LabelStatus.WITHDRAWN for s in sites)
    assert len({s.city for s in sites}) == 5


async def test_seven_people_with_their_roles_all_committed(one: Seeded) -> None:
    people = one.network.people
    assert [p.role for p in people] == [Role.COORDINATOR] + [Role.MANAGER] * 2 + [Role.AGENT] * 4
    assert [p.telegram_user_id for p in people] == list(range(1001, 1008))
    assert people[0].site is None and all(p.site for p in people[1:])
    assert len({p.name for p in people}) == 7
    async with opened(one) as db:
        for person in people:
            member = await _member(db, person.telegram_user_id, one.now)
            assert (
                member.person.display_name
                == person.name
                == f"{person.first_name} {person.last_name}"
            )
            assert member.person.role is person.role
            # Article 5: everyone committed, so an agent's /start opens the menu at once.
            assert member.person.committed, person.name
            if person.role is not Role.COORDINATOR:
                assert member.person.secrecy_committed_at is not None
                sites = {site.name for site in await work_site.sites(db, member)}
                assert person.site in sites
    # The two managers each have an agent at their site.
    agents_sites = {p.site for p in people if p.role is Role.AGENT}
    assert all(p.site in agents_sites for p in people if p.role is Role.MANAGER)


async def test_three_months_of_visits_at_every_site(one: Seeded) -> None:
    async with opened(one) as db:
        recent = await _visits_by_site(db, one, one.now - timedelta(days=92))
        everything = await _visits_by_site(db, one, one.now - timedelta(days=400))
        after = await visit_store.count_visits(db, start=one.now, end=one.now + timedelta(days=400))
        last_month = await _visits_by_site(db, one, one.now - timedelta(days=31))
    assert recent == everything, "nothing older than three months"
    assert after[0] == 0, "nothing after `now`"
    assert all(count >= 100 for count in recent.values()), recent
    assert 1000 <= sum(recent.values()) <= 2500, recent
    assert all(count > 0 for count in last_month.values()), last_month


async def test_the_visits_fall_within_each_sites_declared_hours(one: Seeded) -> None:
    async with opened(one) as db:
        coordinator = await _coordinator(db, one)
        day = indicators.today(coordinator, one.now) - timedelta(days=45)
        period = reporting_period_of(day, coordinator.caf.reporting_period)
        for site in (await partners.overview(db, coordinator.caf)).sites:
            where = await indicators.scope(db, coordinator, site.id, period.code, one.now)
            overview = await indicators.overview(db, coordinator, where, one.now)
            assert overview.outside == 0, site.name


async def test_indicators_of_the_last_quarter_show_something(one: Seeded) -> None:
    """What 📈 Indicateurs shows for the quarter 45 days ago (whole in the three months, or
    most of it) and for the quarter under way, as a coordinator and as a manager."""
    async with opened(one) as db:
        coordinator = await _coordinator(db, one)
        manager = await _member(db, one.network.people[1].telegram_user_id, one.now)
        day = indicators.today(coordinator, one.now) - timedelta(days=45)
        period = reporting_period_of(day, coordinator.caf.reporting_period)
        caf = await indicators.scope(db, coordinator, WHOLE_CAF, period.code, one.now)
        whole = await indicators.overview(db, coordinator, caf, one.now)
        site = await indicators.scope(
            db, manager, manager.person.partner_id or 0, period.code, one.now
        )
        own = await indicators.overview(db, manager, site, one.now)
        home = await indicators.overview(
            db, coordinator, await indicators.home(db, coordinator, one.now), one.now
        )
    assert whole.figures.visits > 300
    assert 0 < own.figures.visits < whole.figures.visits
    assert home.figures.visits > 0


# ------------------------------------------------------------------------------ the Caf's side
async def test_open_signals_a_difficulty_a_training_need_a_closure(one: Seeded) -> None:
    async with opened(one) as db:
        coordinator = await _coordinator(db, one)
        counts = await signals.open_counts(db, coordinator.caf.id)
    assert {kind: n for kind, n in counts.items() if n} == {
        SignalKind.DIFFICULTY: 1,
        SignalKind.TRAINING: 1,
        SignalKind.CLOSURE: 1,
    }


async def test_a_must_read_notice_is_the_one_message_waiting(one: Seeded) -> None:
    async with opened(one) as db:
        coordinator = await _coordinator(db, one)
        reports = await broadcasts.recent(db, coordinator)
        notices = [r.announcement for r in reports if r.announcement.must_read]
        assert len(notices) == 1
        notice = notices[0]
        waiting = await outbox.counts(db, notice.kind)
        everything = await outbox.counts(db)
    readers = sum(1 for p in one.network.people if p.role is not Role.COORDINATOR)
    assert waiting[OutboxStatus.PENDING] == readers
    # The demo's chats start clean: the rest of three months' notices are out already.
    assert everything[OutboxStatus.PENDING] == readers
    assert everything[OutboxStatus.SENDING] == everything[OutboxStatus.FAILED] == 0
    assert any(not r.announcement.must_read for r in reports), "an information too"


async def test_a_training_day_with_answers(one: Seeded) -> None:
    async with opened(one) as db:
        coordinator = await _coordinator(db, one)
        lines = await events.overview(db, coordinator.caf)
        assert len(lines) == 1
        line = lines[0]
        answers = await events.answers(db, coordinator, line.event.id)
    assert line.event.starts_at > one.now
    assert line.event.rsvp_deadline > one.now
    assert line.going >= 3
    answered = [i for i in answers.everyone if i.answered_at is not None]
    assert len(answered) >= 4
    assert len(answered) < len(answers.everyone), "someone has not answered yet"


async def test_documentation_links(one: Seeded) -> None:
    async with opened(one) as db:
        coordinator = await _coordinator(db, one)
        shelf = await documentation.shelf(db, coordinator)
    urls = [d.url for d in shelf.items if d.url]
    assert len(urls) >= 3
    assert all(
        u.startswith(("https://www.caf.fr/", "https://www.service-public.fr/")) for u in urls
    )


# ------------------------------------------------------------------------------ every reset
async def test_the_same_instant_gives_the_same_network(
    seeded: tuple[Seeded, Seeded, Seeded],
) -> None:
    first, again, other = seeded
    assert first.network == again.network == other.network
    async with opened(first) as db:
        one = await _visits_by_site(db, first, first.now - timedelta(days=400))
    async with opened(again) as db:
        two = await _visits_by_site(db, again, again.now - timedelta(days=400))
    async with opened(other) as db:
        three = await _visits_by_site(db, other, other.now - timedelta(days=400))
    assert one == two
    assert one != three  # another day, other visits
