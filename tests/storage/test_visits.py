"""storage/visits.py through its public functions only: drafts, visits, counts.

A second database engine will run these same tests, so they never read a table directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain import taxonomy
from bot.domain.models import Person
from bot.domain.permissions import Role
from bot.domain.visits import Answers, Op, Profile
from storage import visits as store
from storage.db import Database
from tests.storage.world import Network, answers, log_visit, start_draft


@dataclass(frozen=True)
class Agents:
    network: Network
    agent: Person  # at Ham
    colleague: Person  # at Ham too
    elsewhere: Person  # at Albert, another site of the same Caf

    async def log(self, who: Person, given: Answers | None = None, training: bool = False) -> int:
        """A visit of now, saved now."""
        now = self.network.now
        return await log_visit(self.network.db, now, who, given or answers(), now, training)


@pytest.fixture
async def world(network: Network) -> Agents:
    ham, albert = network.ham, network.albert
    colleague = await network.join(Role.AGENT, ham, 5002, "Agent 2")
    agent, elsewhere = await network.agent_of(ham), await network.agent_of(albert)
    return Agents(network, agent, colleague, elsewhere)


# ------------------------------------------------------------------------------ drafts
async def test_a_draft_advances_once_per_revision(
    db: Database, clock: ManualClock, world: Agents
) -> None:
    record = await start_draft(db, clock.now(), world.agent)
    assert record.is_open and record.revision == 0 and record.message_id is None
    assert await store.open_draft(db, world.agent.id) == record
    answered = record.draft.apply(Op.ANSWER, "femme")
    async with db.transaction() as tx:
        assert await store.advance(tx, record, answered, clock.now())
    async with db.transaction() as tx:  # the same tap again: its revision is gone
        assert not await store.advance(tx, record, answered.apply(Op.ANSWER, "25_60"), clock.now())
    stored = await store.get_draft(db, record.id)
    assert stored is not None
    assert (stored.revision, stored.draft.answers.sexe, stored.draft.answers.age) == (
        1,
        "femme",
        None,
    )


async def test_one_open_draft_a_person_and_its_message_noted(
    db: Database, clock: ManualClock, world: Agents
) -> None:
    first = await start_draft(db, clock.now(), world.agent)
    theirs = await start_draft(db, clock.now(), world.colleague)
    second = await start_draft(db, clock.now(), world.agent)
    old = await store.get_draft(db, first.id)
    assert old is not None and old.status == "abandoned"
    assert await store.open_draft(db, world.agent.id) == second
    assert await store.open_draft(db, world.colleague.id) == theirs  # untouched
    await store.set_message(db, second.id, 777)
    noted = await store.get_draft(db, second.id)
    assert noted is not None and noted.message_id == 777


async def test_a_draft_is_closed_or_abandoned_once(
    db: Database, clock: ManualClock, world: Agents
) -> None:
    record = await start_draft(db, clock.now(), world.agent)
    async with db.transaction() as tx:
        assert await store.close_draft(tx, record, "abandoned", clock.now())
        assert not await store.close_draft(tx, record, "abandoned", clock.now())
    assert await store.open_draft(db, world.agent.id) is None
    await start_draft(db, clock.now(), world.agent)
    assert await store.abandon_open(db, world.agent.id, clock.now())
    assert not await store.abandon_open(db, world.agent.id, clock.now())
    assert await store.open_draft(db, world.agent.id) is None


# ------------------------------------------------------------------------------ visits
async def test_a_saved_visit_is_read_back_whole_and_saved_once(
    db: Database, clock: ManualClock, world: Agents
) -> None:
    given = answers(
        requests=(
            ("paiements", ("info_conseil", "orientation")),
            ("agenda", ("aide_redactionnelle",)),
        ),
        themes=("petite_enfance", "enfance_jeunesse"),
        resolution="partiellement",
    )
    record = await start_draft(db, clock.now(), world.agent)
    async with db.transaction() as tx:
        visit_id = await store.save_visit(
            tx, record, given, caf_id=world.agent.caf_id, visited_at=clock.now(), now=clock.now()
        )
    async with db.transaction() as tx:  # a double tap on the last answer
        again = await store.save_visit(
            tx, record, given, caf_id=world.agent.caf_id, visited_at=clock.now(), now=clock.now()
        )
    assert visit_id is not None and again is None
    visit = await store.get_visit(db, visit_id)
    assert visit is not None
    assert (visit.person_id, visit.partner_id, visit.training) == (
        world.agent.id,
        world.agent.partner_id,
        False,
    )
    assert visit.visited_at == clock.now()
    assert visit.answers.requests == given.requests  # in the order given
    assert sorted(visit.answers.themes) == sorted(given.themes)
    assert visit.answers.resolution == "partiellement"
    assert await store.visit_of_draft(db, record.id, training=False) == visit_id
    closed = await store.get_draft(db, record.id)
    assert closed is not None and closed.status == "saved"


async def test_training_visits_are_kept_apart(
    db: Database, clock: ManualClock, world: Agents
) -> None:
    assert not await store.training_mode(db, world.agent.id)
    await store.set_training_mode(db, world.agent.id, True)
    assert await store.training_mode(db, world.agent.id)
    assert not await store.training_mode(db, world.colleague.id)
    visit_id = await world.log(world.agent, answers(sexe="homme"), training=True)
    training = await store.get_training_visit(db, visit_id)
    assert training is not None and training.training and training.answers.sexe == "homme"
    assert await store.count_training(db, world.agent.id) == 1
    day = (clock.now() - timedelta(hours=1), clock.now() + timedelta(hours=1))
    counted = await store.count_visits(db, start=day[0], end=day[1], person_id=world.agent.id)
    assert counted == (0, 0, 0)
    # Its profile is offered to the next training visit only.
    assert await store.last_profile(db, world.agent.id, training=False) is None
    profile = await store.last_profile(db, world.agent.id, training=True)
    assert profile is not None and profile.sexe == "homme"


async def test_a_modified_visit_keeps_its_id(
    db: Database, clock: ManualClock, world: Agents
) -> None:
    visit_id = await world.log(world.agent)
    record = await start_draft(db, clock.now(), world.agent, editing=visit_id)
    assert record.editing_visit_id == visit_id
    changed = answers(requests=(("agenda", ("orientation",)),), themes=(), resolution="non")
    earlier = clock.now() - timedelta(hours=2)
    async with db.transaction() as tx:
        assert await store.replace_visit(tx, record, changed, visited_at=earlier, now=clock.now())
        assert not await store.replace_visit(
            tx, record, changed, visited_at=earlier, now=clock.now()
        )
    visit = await store.get_visit(db, visit_id)
    assert visit is not None
    assert visit.visited_at == earlier
    assert visit.answers.requests == changed.requests
    assert (visit.answers.themes, visit.answers.resolution) == ([], "non")


async def test_a_visit_is_deleted_once(db: Database, world: Agents) -> None:
    visit_id = await world.log(world.agent)
    training_id = await world.log(world.agent, training=True)
    async with db.transaction() as tx:
        assert await store.delete_visit(tx, visit_id, training=False)
        assert not await store.delete_visit(tx, visit_id, training=False)
        assert await store.delete_visit(tx, training_id, training=True)
    assert await store.get_visit(db, visit_id) is None
    assert await store.get_training_visit(db, training_id) is None


# ------------------------------------------------------------------------------ reads
async def test_the_last_profile_is_the_persons_latest_visit(db: Database, world: Agents) -> None:
    assert await store.last_profile(db, world.agent.id, training=False) is None
    await world.log(world.agent, answers(sexe="homme"))
    await world.log(world.agent, answers(sexe=taxonomy.LEGAL_PERSON))
    await world.log(world.colleague, answers(sexe="femme"))
    assert await store.last_profile(db, world.agent.id, training=False) == Profile(
        sexe=taxonomy.LEGAL_PERSON, age=None, statut="allocataire", autonomie="debutant"
    )


async def test_frequent_requests_are_the_sites_own_and_recent(
    db: Database, clock: ManualClock, world: Agents
) -> None:
    for _ in range(5):
        await world.log(world.agent, answers(requests=(("agenda", ("orientation",)),)))
    for _ in range(6):
        await world.log(world.colleague, answers(requests=(("paiements", ("orientation",)),)))
    for _ in range(4):  # below the minimum
        await world.log(world.agent, answers(requests=(("simulation", ("orientation",)),)))
    for _ in range(7):  # another site's
        await world.log(world.elsewhere, answers(requests=(("attestations", ("orientation",)),)))
    since, ham = clock.now() - timedelta(days=30), world.network.ham.id  # the agent's site
    assert await store.frequent_requests(db, ham, since) == [
        "paiements",
        "agenda",
    ]
    assert await store.frequent_requests(db, ham, since, limit=1) == ["paiements"]
    assert await store.frequent_requests(db, ham, since, minimum=4) == [
        "paiements",
        "agenda",
        "simulation",
    ]
    later = clock.now() + timedelta(minutes=1)
    assert await store.frequent_requests(db, ham, later) == []


async def test_counts_by_person_and_site_follow_the_taxonomys_outcomes(
    db: Database, clock: ManualClock, world: Agents
) -> None:
    await world.log(world.agent, answers(resolution=taxonomy.RESOLVED.code))
    await world.log(world.agent, answers(resolution=taxonomy.PARTLY_RESOLVED.code))
    await world.log(world.colleague, answers(resolution=taxonomy.UNRESOLVED.code))
    await world.log(world.colleague, answers(resolution=taxonomy.RESOLVED.code))
    two_days_ago = clock.now() - timedelta(days=2)
    await log_visit(db, clock.now(), world.agent, answers(), two_days_ago)  # before the window
    await world.log(world.elsewhere)  # another site
    start, end = clock.now() - timedelta(hours=1), clock.now() + timedelta(seconds=1)
    mine = await store.count_visits(db, start=start, end=end, person_id=world.agent.id)
    site = await store.count_visits(db, start=start, end=end, partner_id=world.agent.partner_id)
    both = await store.count_visits(
        db,
        start=start,
        end=end,
        person_id=world.colleague.id,
        partner_id=world.agent.partner_id,
    )
    assert mine == (2, 1, 1)
    assert site == (4, 2, 1)
    assert both == (2, 1, 0)
    # The window is half-open: a visit at `end` is not in it.
    assert await store.count_visits(
        db, start=end, end=end + timedelta(hours=1), partner_id=world.agent.partner_id
    ) == (0, 0, 0)


async def test_recent_visits_of_a_person_are_theirs_training_ones_too_newest_first(
    db: Database, clock: ManualClock, world: Agents
) -> None:
    now = clock.now()
    two_requests = answers(
        requests=(("paiements", ("orientation",)), ("agenda", ("info_conseil", "orientation"))),
        resolution=taxonomy.PARTLY_RESOLVED.code,
    )
    older = await log_visit(db, now, world.agent, answers(), now - timedelta(days=8))
    yesterday = await log_visit(db, now, world.agent, two_requests, now - timedelta(days=1))
    training = await log_visit(db, now, world.agent, answers(), now - timedelta(hours=2), True)
    latest = await world.log(world.agent)
    await world.log(world.colleague)  # someone else's
    since = now - timedelta(days=7)
    lines = await store.recent_of_person(db, world.agent.id, since)
    assert [(line.id, line.training) for line in lines] == [
        (latest, False),
        (training, True),
        (yesterday, False),
    ]
    assert older not in [line.id for line in lines if not line.training]
    first, trained, earlier = lines
    assert (first.demande, first.requests, first.resolution) == ("simulation", 1, "oui")
    assert (trained.demande, trained.requests, trained.resolution) == ("simulation", 1, "oui")
    assert (earlier.demande, earlier.requests) == ("paiements", 2)
    assert earlier.resolution == taxonomy.PARTLY_RESOLVED.code
    assert earlier.visited_at == now - timedelta(days=1) and earlier.created_at == now
    assert await store.recent_of_person(db, world.agent.id, now + timedelta(seconds=1)) == []
    assert len(await store.recent_of_person(db, world.agent.id, since, limit=2)) == 2
