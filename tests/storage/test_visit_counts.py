"""storage/visit_counts.py against its contract: the counts kept with each visit, its change
and its cancellation are the figures a recount of the raw visits gives, whatever happened
(training visits, a transaction that failed midway, summer time, a month's end); a rebuild
and migration 0020's backfill give the same counts; a change of a Caf's zone rebuilds them.

The recount is storage/indicators.py `count_raw_rows`, the SQL that counted the visits
before the counts existed, compared through bot/domain/indicators.py `build`.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.domain import taxonomy
from bot.domain.indicators import Indicators, build
from bot.domain.models import Caf, Partner
from bot.domain.periods import Period, parse_period
from bot.domain.visits import Answers, RequestAnswer
from storage import visit_counts, visits
from storage.db import Database
from storage.indicators import count_raw_rows, count_rows
from storage.setup import open_storage
from tests.storage.world import PARIS, Network, answers, paris, start_draft
from tests.storage.world import build as build_world

START = datetime(2026, 11, 26, 9, 0, tzinfo=PARIS)
FIRST_DAY = date(2026, 10, 20)  # 20 days across the end of summer time and of October
DAYS = 20
# Minutes of the day where a local day or hour turns, tried more often than any other.
EDGES = (0, 1, 59, 60, 119, 120, 121, 179, 180, 1379, 1380, 1439)
PERIODS = (
    parse_period("2026-Q4"),
    parse_period("2026-10"),
    parse_period("2026-11"),
    parse_period("2026-10-24..2026-10-26"),  # the night summer time ends
    parse_period("2026-10-20..2026-11-08"),  # over the month's end
    parse_period("2026"),
)


class Crash(Exception):
    """What fails a transaction midway in these tests."""


# ------------------------------------------------------------------------------ drawing
@st.composite
def visit_answers(draw: st.DrawFn) -> Answers:
    sexe = draw(st.sampled_from(taxonomy.SEXE.codes))
    demandes = draw(st.lists(st.sampled_from(taxonomy.DEMANDE.codes), max_size=2, unique=True))
    requests = [
        RequestAnswer(
            demande=demande,
            actions=draw(
                st.lists(
                    st.sampled_from(taxonomy.ACTION.codes), min_size=1, max_size=2, unique=True
                )
            ),
        )
        for demande in demandes
    ]
    return Answers(
        sexe=sexe,
        age=None if sexe == taxonomy.LEGAL_PERSON else draw(st.sampled_from(taxonomy.AGE.codes)),
        statut=draw(st.sampled_from(taxonomy.STATUT.codes)),
        autonomie=draw(st.sampled_from(taxonomy.AUTONOMIE.codes)),
        requests=requests,
        themes=draw(st.lists(st.sampled_from(taxonomy.THEME.codes), max_size=2, unique=True)),
        themes_done=True,
        resolution=draw(st.sampled_from(taxonomy.RESOLUTION.codes)),
    )


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    day = FIRST_DAY + timedelta(days=draw(st.integers(0, DAYS - 1)))
    minute = draw(st.one_of(st.sampled_from(EDGES), st.integers(0, 24 * 60 - 1)))
    midnight = datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)
    # Minutes counted in UTC from local midnight: each instant of the day, 02:30 twice the
    # night summer time ends (once in summer time, once in winter time).
    return (midnight + timedelta(minutes=minute)).astimezone(PARIS)


@dataclass(frozen=True)
class Step:
    kind: str  # save, modify, cancel
    site: int  # 0 Ham, 1 Albert (the Somme), 2 Laon (the Aisne)
    at: datetime
    given: Answers
    training: bool
    pick: int  # which stored visit a modification or a cancellation is of
    crash: bool  # the transaction fails after the step's writes


steps = st.builds(
    Step,
    kind=st.sampled_from(("save", "save", "modify", "cancel")),
    site=st.integers(0, 2),
    at=instants(),
    given=visit_answers(),
    training=st.booleans(),
    pick=st.integers(0, 10_000),
    crash=st.booleans(),
)


# ------------------------------------------------------------------------------ the world
@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    """An empty migrated database, copied for each example (migrating takes longer)."""
    folder = Path(tempfile.mkdtemp(prefix="visit-counts-"))
    path = folder / "template.sqlite3"

    async def create() -> None:
        db = await open_storage(path)
        await db.close()

    asyncio.run(create())
    yield path
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Stored:
    id: int
    site: Partner
    training: bool


async def play(network: Network, plan: list[Step]) -> None:
    """Each step as the bot does it, in its own transaction; a crashing one rolls back."""
    db, now = network.db, network.now
    sites = (network.ham, network.albert, network.laon)
    stored: list[Stored] = []
    for step in plan:
        site = sites[step.site]
        agent = await network.agent_of(site)
        if step.kind == "save" or not stored:
            record = await start_draft(db, now, agent, training=step.training)
            try:
                async with db.transaction() as tx:
                    saved = await visits.save_visit(
                        tx, record, step.given, caf_id=site.caf_id, visited_at=step.at, now=now
                    )
                    if step.crash:
                        raise Crash
            except Crash:
                continue
            assert saved is not None
            stored.append(Stored(saved, site, step.training))
            continue
        target = stored[step.pick % len(stored)]
        if step.kind == "modify":
            if target.training:  # a training visit is never modified
                continue
            owner = await network.agent_of(target.site)
            record = await start_draft(db, now, owner, editing=target.id)
            try:
                async with db.transaction() as tx:
                    assert await visits.replace_visit(
                        tx, record, step.given, visited_at=step.at, now=now
                    )
                    if step.crash:
                        raise Crash
            except Crash:
                pass
            continue
        try:
            async with db.transaction() as tx:
                assert await visits.delete_visit(tx, target.id, training=target.training)
                if step.crash:
                    raise Crash
        except Crash:
            continue
        stored.remove(target)


async def figures(
    db: Database, caf: Caf, period: Period, *, raw: bool, **asked: Any
) -> dict[int, Indicators]:
    start, end = period.bounds(PARIS)
    count = count_raw_rows if raw else count_rows
    async with db.read() as snapshot:
        rows = await count(snapshot, caf_id=caf.id, start=start, end=end, tz=PARIS, **asked)
    return build(rows, PARIS)


async def assert_counts_are_a_recount(network: Network, *, every: bool = True) -> None:
    """Counted and recounted agree: by site and as one whole, each site alone, the summary;
    for every period of PERIODS, or (`every=False`, for the many examples) the quarter and
    the two that cut through a night or a month."""
    db = network.db
    periods = PERIODS if every else PERIODS[:1] + PERIODS[3:5]
    for caf, sites in ((network.somme, (network.ham, network.albert)), (network.aisne, ())):
        for period in periods:
            for partner in (None, *(site.id for site in sites)):
                for asked in ({"by_site": True}, {"by_site": False}, {"summary_only": True}):
                    if partner is not None and not every and "by_site" not in asked:
                        continue
                    counted = await figures(db, caf, period, raw=False, partner_id=partner, **asked)
                    recounted = await figures(
                        db, caf, period, raw=True, partner_id=partner, **asked
                    )
                    assert counted == recounted, (caf.name, period.key, partner, asked)


async def stored_counts(db: Database) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every count that is not 0, in a stable order."""
    counts = await db.fetch_all(
        "SELECT caf_id, span, period, partner_id, category, n FROM visit_counts WHERE n <> 0"
        " ORDER BY caf_id, span, period, partner_id, category"
    )
    hours = await db.fetch_all(
        "SELECT caf_id, day, partner_id, hour, n FROM visit_hour_counts WHERE n <> 0"
        " ORDER BY caf_id, day, partner_id, hour"
    )
    return [tuple(row) for row in counts], [tuple(row) for row in hours]


async def with_world(template: Path, work: Any) -> None:
    """`work` on the network of tests/storage/world.py in a fresh SQLite database."""
    folder = Path(tempfile.mkdtemp(prefix="visit-counts-"))
    try:
        path = folder / "db.sqlite3"
        shutil.copy(template, path)
        db = Database(path)
        await db.open()
        try:
            await work(await build_world(db, ManualClock(START)))
        finally:
            await db.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------ the tests
@hypothesis_settings(max_examples=20, deadline=None)
@given(plan=st.lists(steps, min_size=1, max_size=20))
def test_the_counts_are_a_recount_of_the_raw_visits_whatever_happened(
    template: Path, plan: list[Step]
) -> None:
    async def work(network: Network) -> None:
        await play(network, plan)
        await assert_counts_are_a_recount(network, every=False)
        # A rebuild from the visits leaves the very rows the saves, changes and
        # cancellations left.
        kept = await stored_counts(network.db)
        async with network.db.transaction() as tx:
            for caf in (network.somme, network.aisne):
                if await visit_counts.zone_of(tx, caf.id) is not None:
                    await visit_counts.rebuild(tx, caf.id, PARIS)
        assert await stored_counts(network.db) == kept

    asyncio.run(with_world(template, work))


def a_day_of_visits() -> list[Step]:
    """A fixed plan: visits each side of the night summer time ends and of a month's end,
    a training visit, a change, a cancellation and a crash."""
    plain = answers()
    other = answers(
        sexe="personne_morale",
        resolution="partiellement",
        requests=(("simulation", ("info_conseil", "orientation")), ("paiements", ("orientation",))),
        themes=("petite_enfance", "logement_cadre_de_vie"),
    )
    at = (
        paris(2026, 10, 24, 23, 59),
        paris(2026, 10, 25, 0, 30),
        paris(2026, 10, 25, 2, 30),
        paris(2026, 10, 31, 23, 30),
        paris(2026, 11, 1, 0, 30),
    )
    plan = [
        Step("save", i % 3, instant, other if i % 2 else plain, False, 0, False)
        for i, instant in enumerate(at)
    ]
    plan += [
        Step("save", 0, at[0], plain, True, 0, False),  # training: counted nowhere
        Step("modify", 0, at[4], other, False, 0, False),
        Step("cancel", 0, at[0], plain, False, 1, False),
        Step("save", 1, at[2], other, False, 0, True),  # rolled back
        Step("cancel", 0, at[0], plain, False, 2, True),  # rolled back
    ]
    return plan


async def test_a_known_history_is_counted_from_the_counts(network: Network) -> None:
    """On either engine (the `network` fixture's database)."""
    await play(network, a_day_of_visits())
    # The counts are what is read: the Caf's zone is recorded, the rows are there.
    assert await visit_counts.zone_of(network.db, network.somme.id) == "Europe/Paris"
    counts, hours = await stored_counts(network.db)
    assert counts and hours
    await assert_counts_are_a_recount(network)
    whole = await figures(network.db, network.somme, parse_period("2026-10"), raw=False)
    # Ham's 31 October; its 24 October moved to November, Albert's cancelled, Laon's
    # the Aisne's, the training visit nowhere.
    assert {site: f.visits for site, f in whole.items()} == {network.ham.id: 1}


async def test_migration_0020_backfills_what_the_saves_would_have_counted(
    network: Network,
) -> None:
    """An existing deployment upgrades in place: its visits, migrated, give the counts the
    saves would have kept (on either engine: each has its own script)."""
    await play(network, a_day_of_visits())
    kept = await stored_counts(network.db)
    db = network.db
    # The database as it was before 0020, with its visits; then migrated.
    async with db.transaction() as tx:
        # 0020's tables, and those of the migrations after it (0021: the lease).
        for table in (
            "visit_counts",
            "visit_hour_counts",
            "visit_count_zones",
            "leases",
            "instances",
        ):
            await tx.execute(f"DROP TABLE {table}")
        if hasattr(db, "pool"):  # PostgreSQL (storage/postgres.py)
            await tx.execute("UPDATE schema_version SET version = 19")
        else:
            await tx.execute("PRAGMA user_version = 19")
    assert await db.migrate() == [20, 21]
    assert await stored_counts(db) == kept
    assert await visit_counts.zone_of(db, network.somme.id) == "Europe/Paris"
    await assert_counts_are_a_recount(network)


async def test_a_caf_in_another_zone_is_recounted_in_it(network: Network) -> None:
    """Counts follow the zone they were built in: another zone asked reads the raw visits,
    and a rebuild in that zone makes the counts its own (on either engine)."""
    await play(network, a_day_of_visits())
    reunion = parse_period("2026-10")
    zone = ZoneInfo("Indian/Reunion")
    start, end = reunion.bounds(zone)

    async def both() -> tuple[dict[int, Indicators], dict[int, Indicators]]:
        async with network.db.read() as snapshot:
            asked: dict[str, Any] = {
                "caf_id": network.somme.id,
                "start": start,
                "end": end,
                "tz": zone,
            }
            return (
                build(await count_rows(snapshot, **asked), zone),
                build(await count_raw_rows(snapshot, **asked), zone),
            )

    counted, recounted = await both()
    assert counted == recounted
    async with network.db.transaction() as tx:
        await visit_counts.rebuild(tx, network.somme.id, zone)
    assert await visit_counts.zone_of(network.db, network.somme.id) == "Indian/Reunion"
    counted, recounted = await both()
    assert counted == recounted


def test_no_one_is_named_in_the_counts(template: Path) -> None:
    """Erasure (storage/personal_data.py) has nothing to do here: no column names anyone."""

    async def work(network: Network) -> None:
        for table in ("visit_counts", "visit_hour_counts", "visit_count_zones"):
            columns = {
                row["name"] for row in await network.db.fetch_all(f"PRAGMA table_info({table})")
            }
            assert not columns & {"person_id", "telegram_user_id", "chat_id", "visit_id"}

    asyncio.run(with_world(template, work))


def test_migration_0020_follows_summer_time_in_paris_every_year() -> None:
    """The backfill's SQL rule (SQLite has no zone database) against Python's, on each
    side of every change of 2020–2035, to the second."""
    script = (
        Path(visit_counts.__file__).parent / "migrations" / "0020_visit_counts.sql"
    ).read_text(encoding="utf-8")
    rule = script[script.index("datetime(v.visited_at, CASE z.timezone") :]
    rule = rule[: rule.index("FROM visits v")].strip().rstrip(",")
    instants: list[datetime] = []
    for year in range(2020, 2036):
        for month, day in ((3, 24), (10, 24)):
            first = datetime(year, month, day, tzinfo=UTC)
            instants += [first + timedelta(minutes=30 * step) for step in range(8 * 48)]
    instants += [
        instant + timedelta(seconds=delta) for instant in instants[::2] for delta in (-1, 1)
    ]
    conn = sqlite3.connect(":memory:")
    try:
        for instant in instants:
            stored = instant.isoformat(timespec="seconds")
            query = rule.replace("v.visited_at", "?").replace("z.timezone", "'Europe/Paris'")
            found = conn.execute(f"SELECT {query}", (stored,) * query.count("?")).fetchone()[0]
            assert found == instant.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S"), stored
    finally:
        conn.close()
