"""storage/visits.py through its public functions only: drafts, visits, counts.

A second database engine will run these same tests, so they never read a table directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain import taxonomy
from bot.domain.models import ReportingPeriod
from bot.domain.permissions import Role
from bot.domain.visit_log import DraftRecord
from bot.domain.visits import Answers, Op, Profile, RequestAnswer, new_draft
from storage import cafs, invitations, partners, people
from storage import visits as store
from storage.db import Database


@dataclass(frozen=True)
class Agent:
    person_id: int
    partner_id: int
    caf_id: int


@dataclass(frozen=True)
class World:
    agent: Agent  # at the first site
    colleague: Agent  # same site
    elsewhere: Agent  # another site of the same Caf


async def _agent(db: Database, clock: ManualClock, caf_id: int, partner_id: int, n: int) -> Agent:
    async with db.transaction() as tx:
        _, invitation = await invitations.create(
            tx,
            role=Role.AGENT,
            caf_id=caf_id,
            partner_id=partner_id,
            uses=1,
            expires_at=clock.now() + timedelta(days=7),
            created_by=None,
            now=clock.now(),
        )
        person = await people.register(
            tx,
            telegram_user_id=5000 + n,
            display_name=f"Agent {n}",
            invitation=invitation,
            now=clock.now(),
        )
    return Agent(person.id, partner_id, caf_id)


@pytest.fixture
async def world(db: Database, clock: ManualClock) -> World:
    async with db.transaction() as tx:
        caf = await cafs.add(
            tx,
            name="Caf de la Somme",
            period=ReportingPeriod.QUARTERLY,
            timezone="Europe/Paris",
            notify_chat_id=None,
            now=clock.now(),
        )
        site = await partners.add(
            tx, caf_id=caf.id, name="Mairie de Ham", city="Ham", address="", now=clock.now()
        )
        other = await partners.add(
            tx, caf_id=caf.id, name="Centre social", city="Amiens", address="", now=clock.now()
        )
    return World(
        agent=await _agent(db, clock, caf.id, site.id, 1),
        colleague=await _agent(db, clock, caf.id, site.id, 2),
        elsewhere=await _agent(db, clock, caf.id, other.id, 3),
    )


def answers(
    *,
    sexe: str = "femme",
    requests: tuple[tuple[str, tuple[str, ...]], ...] = (("paiements", ("info_conseil",)),),
    themes: tuple[str, ...] = ("petite_enfance",),
    resolution: str = "oui",
) -> Answers:
    return Answers(
        sexe=sexe,
        age=None if sexe == taxonomy.LEGAL_PERSON else "25_60",
        statut="allocataire",
        autonomie="debutant",
        requests=[RequestAnswer(demande=d, actions=list(a)) for d, a in requests],
        themes=list(themes),
        themes_done=True,
        resolution=resolution,
    )


async def start(
    db: Database,
    clock: ManualClock,
    who: Agent,
    *,
    training: bool = False,
    editing_visit_id: int | None = None,
) -> DraftRecord:
    async with db.transaction() as tx:
        return await store.start_draft(
            tx,
            person_id=who.person_id,
            partner_id=who.partner_id,
            chat_id=who.person_id * 10,
            training=training,
            draft=new_draft(),
            now=clock.now(),
            editing_visit_id=editing_visit_id,
        )


async def log(
    db: Database,
    clock: ManualClock,
    who: Agent,
    given: Answers | None = None,
    *,
    training: bool = False,
    ago: timedelta = timedelta(0),
) -> int:
    """A visit saved the way the bot saves one: a draft, then the visit closing it."""
    record = await start(db, clock, who, training=training)
    async with db.transaction() as tx:
        visit_id = await store.save_visit(
            tx,
            record,
            given or answers(),
            caf_id=who.caf_id,
            visited_at=clock.now() - ago,
            now=clock.now(),
        )
    assert visit_id is not None
    return visit_id


# ------------------------------------------------------------------------------ drafts
async def test_a_draft_advances_once_per_revision(
    db: Database, clock: ManualClock, world: World
) -> None:
    record = await start(db, clock, world.agent)
    assert record.is_open and record.revision == 0 and record.message_id is None
    assert await store.open_draft(db, world.agent.person_id) == record
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
    db: Database, clock: ManualClock, world: World
) -> None:
    first = await start(db, clock, world.agent)
    theirs = await start(db, clock, world.colleague)
    second = await start(db, clock, world.agent)
    old = await store.get_draft(db, first.id)
    assert old is not None and old.status == "abandoned"
    assert await store.open_draft(db, world.agent.person_id) == second
    assert await store.open_draft(db, world.colleague.person_id) == theirs  # untouched
    await store.set_message(db, second.id, 777)
    noted = await store.get_draft(db, second.id)
    assert noted is not None and noted.message_id == 777


async def test_a_draft_is_closed_or_abandoned_once(
    db: Database, clock: ManualClock, world: World
) -> None:
    record = await start(db, clock, world.agent)
    async with db.transaction() as tx:
        assert await store.close_draft(tx, record, "abandoned", clock.now())
        assert not await store.close_draft(tx, record, "abandoned", clock.now())
    assert await store.open_draft(db, world.agent.person_id) is None
    await start(db, clock, world.agent)
    assert await store.abandon_open(db, world.agent.person_id, clock.now())
    assert not await store.abandon_open(db, world.agent.person_id, clock.now())
    assert await store.open_draft(db, world.agent.person_id) is None


# ------------------------------------------------------------------------------ visits
async def test_a_saved_visit_is_read_back_whole_and_saved_once(
    db: Database, clock: ManualClock, world: World
) -> None:
    given = answers(
        requests=(
            ("paiements", ("info_conseil", "orientation")),
            ("agenda", ("aide_redactionnelle",)),
        ),
        themes=("petite_enfance", "enfance_jeunesse"),
        resolution="partiellement",
    )
    record = await start(db, clock, world.agent)
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
        world.agent.person_id,
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
    db: Database, clock: ManualClock, world: World
) -> None:
    assert not await store.training_mode(db, world.agent.person_id)
    await store.set_training_mode(db, world.agent.person_id, True)
    assert await store.training_mode(db, world.agent.person_id)
    assert not await store.training_mode(db, world.colleague.person_id)
    visit_id = await log(db, clock, world.agent, answers(sexe="homme"), training=True)
    training = await store.get_training_visit(db, visit_id)
    assert training is not None and training.training and training.answers.sexe == "homme"
    assert await store.count_training(db, world.agent.person_id) == 1
    day = (clock.now() - timedelta(hours=1), clock.now() + timedelta(hours=1))
    counted = await store.count_visits(
        db, start=day[0], end=day[1], person_id=world.agent.person_id
    )
    assert counted == (0, 0, 0)
    # Its profile is offered to the next training visit only.
    assert await store.last_profile(db, world.agent.person_id, training=False) is None
    profile = await store.last_profile(db, world.agent.person_id, training=True)
    assert profile is not None and profile.sexe == "homme"


async def test_a_modified_visit_keeps_its_id(
    db: Database, clock: ManualClock, world: World
) -> None:
    visit_id = await log(db, clock, world.agent)
    record = await start(db, clock, world.agent, editing_visit_id=visit_id)
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


async def test_a_visit_is_deleted_once(db: Database, clock: ManualClock, world: World) -> None:
    visit_id = await log(db, clock, world.agent)
    training_id = await log(db, clock, world.agent, training=True)
    async with db.transaction() as tx:
        assert await store.delete_visit(tx, visit_id, training=False)
        assert not await store.delete_visit(tx, visit_id, training=False)
        assert await store.delete_visit(tx, training_id, training=True)
    assert await store.get_visit(db, visit_id) is None
    assert await store.get_training_visit(db, training_id) is None


# ------------------------------------------------------------------------------ reads
async def test_the_last_profile_is_the_persons_latest_visit(
    db: Database, clock: ManualClock, world: World
) -> None:
    assert await store.last_profile(db, world.agent.person_id, training=False) is None
    await log(db, clock, world.agent, answers(sexe="homme"))
    await log(db, clock, world.agent, answers(sexe=taxonomy.LEGAL_PERSON))
    await log(db, clock, world.colleague, answers(sexe="femme"))
    assert await store.last_profile(db, world.agent.person_id, training=False) == Profile(
        sexe=taxonomy.LEGAL_PERSON, age=None, statut="allocataire", autonomie="debutant"
    )


async def test_frequent_requests_are_the_sites_own_and_recent(
    db: Database, clock: ManualClock, world: World
) -> None:
    for _ in range(5):
        await log(db, clock, world.agent, answers(requests=(("agenda", ("orientation",)),)))
    for _ in range(6):
        await log(db, clock, world.colleague, answers(requests=(("paiements", ("orientation",)),)))
    for _ in range(4):  # below the minimum
        await log(db, clock, world.agent, answers(requests=(("simulation", ("orientation",)),)))
    for _ in range(7):  # another site's
        await log(
            db, clock, world.elsewhere, answers(requests=(("attestations", ("orientation",)),))
        )
    since = clock.now() - timedelta(days=30)
    assert await store.frequent_requests(db, world.agent.partner_id, since) == [
        "paiements",
        "agenda",
    ]
    assert await store.frequent_requests(db, world.agent.partner_id, since, limit=1) == [
        "paiements"
    ]
    assert await store.frequent_requests(db, world.agent.partner_id, since, minimum=4) == [
        "paiements",
        "agenda",
        "simulation",
    ]
    later = clock.now() + timedelta(minutes=1)
    assert await store.frequent_requests(db, world.agent.partner_id, later) == []


async def test_counts_by_person_and_site_follow_the_taxonomys_outcomes(
    db: Database, clock: ManualClock, world: World
) -> None:
    await log(db, clock, world.agent, answers(resolution=taxonomy.RESOLVED.code))
    await log(db, clock, world.agent, answers(resolution=taxonomy.PARTLY_RESOLVED.code))
    await log(db, clock, world.colleague, answers(resolution=taxonomy.UNRESOLVED.code))
    await log(db, clock, world.colleague, answers(resolution=taxonomy.RESOLVED.code))
    await log(db, clock, world.agent, ago=timedelta(days=2))  # before the window
    await log(db, clock, world.elsewhere)  # another site
    start, end = clock.now() - timedelta(hours=1), clock.now() + timedelta(seconds=1)
    mine = await store.count_visits(db, start=start, end=end, person_id=world.agent.person_id)
    site = await store.count_visits(db, start=start, end=end, partner_id=world.agent.partner_id)
    both = await store.count_visits(
        db,
        start=start,
        end=end,
        person_id=world.colleague.person_id,
        partner_id=world.agent.partner_id,
    )
    assert mine == (2, 1, 1)
    assert site == (4, 2, 1)
    assert both == (2, 1, 0)
    # The window is half-open: a visit at `end` is not in it.
    assert await store.count_visits(
        db, start=end, end=end + timedelta(hours=1), partner_id=world.agent.partner_id
    ) == (0, 0, 0)
