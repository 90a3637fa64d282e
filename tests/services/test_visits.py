"""bot/services/visits.py as the bot, the command line or a job would call it: a visit logged
tap by tap, and the rule that a change to a validated period's visits reopens it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.models import Member, Partner
from bot.domain.periods import quarter_of
from bot.domain.permissions import Role
from bot.domain.visit_log import (
    Advanced,
    Cancelled,
    DraftRecord,
    Expired,
    Expiry,
    Gone,
    Invalid,
    MyVisits,
    Saved,
    Seen,
    Shown,
    TooLate,
    Undone,
    Unlisted,
    VisitRecord,
)
from bot.domain.visits import Op
from bot.services import visits
from storage import audit, people, period_reports
from storage import visits as visit_store
from storage.db import Database
from tests.storage import world

TYPICAL = [
    "femme",
    "25_60",
    "allocataire",
    "debutant",
    "demande_prestation",
    "accompagnement_en_ligne",
    "logement_cadre_de_vie",
    "oui",
]
MESSAGE = 500
WINDOW = timedelta(minutes=10)
MAX_AGE = timedelta(hours=24)


@pytest.fixture
async def ham(db: Database, clock: ManualClock) -> Partner:
    """A site of a Caf that reports by quarter (tests/storage/world.py)."""
    return (await world.build(db, clock)).ham


async def member(db: Database, clock: ManualClock, site: Partner, n: int) -> Member:
    """Agent n of the site."""
    async with db.transaction() as tx:
        person = await world.join(tx, clock.now(), Role.AGENT, site, 7000 + n, f"Agent {n}")
    found = await people.member(db, person.id)
    assert found is not None
    return found


@pytest.fixture
async def agent(db: Database, clock: ManualClock, ham: Partner) -> Member:
    return await member(db, clock, ham, 1)


@pytest.fixture
async def colleague(db: Database, clock: ManualClock, ham: Partner) -> Member:
    return await member(db, clock, ham, 2)


async def begin(db: Database, member: Member, now: datetime) -> DraftRecord:
    opened = await visits.open_visit(db, member, chat_id=member.person.id, now=now, max_age=MAX_AGE)
    assert isinstance(opened, Shown)
    await visits.shown_in(db, opened.record.id, MESSAGE)
    return opened.record


@dataclass
class Message:
    """A visit's message as Telegram delivers its taps: its draft, its id, the time."""

    db: Database
    record: DraftRecord
    now: datetime
    message_id: int = MESSAGE

    async def tap(self, who: Member, revision: int, value: str, op: Op = Op.ANSWER) -> object:
        return await visits.tap(
            self.db,
            who,
            self.record.id,
            revision=revision,
            op=op,
            value=value,
            message_id=self.message_id,
            now=self.now,
        )


async def answer(
    db: Database, member: Member, record: DraftRecord, values: list[str], now: datetime
) -> list[object]:
    """Each value tapped in turn, from the draft's revision on."""
    message = Message(db, record, now)
    revisions = range(record.revision, record.revision + len(values))
    return [await message.tap(member, r, value) for r, value in zip(revisions, values, strict=True)]


async def log(db: Database, member: Member, now: datetime) -> int:
    record = await begin(db, member, now)
    *steps, last = await answer(db, member, record, TYPICAL, now)
    assert all(isinstance(s, Advanced) and s.moved for s in steps)
    assert isinstance(last, Saved) and last.first and last.visit is not None
    return last.visit.id


async def validated_quarter(db: Database, member: Member, now: datetime) -> int:
    """This quarter's report of the member's site, validated by its manager."""
    tz = ZoneInfo(member.caf.timezone)
    quarter = quarter_of(now.astimezone(tz).date())
    async with db.transaction() as tx:
        await period_reports.open_for_caf(
            tx,
            member.caf.id,
            quarter,
            starts_at=datetime.combine(quarter.first, datetime.min.time(), tzinfo=tz),
            ends_at=datetime.combine(
                quarter.last + timedelta(days=1), datetime.min.time(), tzinfo=tz
            ),
            now=now,
        )
    report = await period_reports.of_partner(db, member.person.partner_id or 0, quarter.key)
    assert report is not None
    async with db.transaction() as tx:
        assert await period_reports.validate(
            tx, report.id, person_id=member.person.id, visits=0, now=now
        )
    return report.id


async def status(db: Database, report_id: int) -> str:
    report = await period_reports.get(db, report_id)
    assert report is not None
    return report.status


async def test_a_typical_visit_is_saved_once(
    db: Database, clock: ManualClock, agent: Member
) -> None:
    now = clock.now()
    record = await begin(db, agent, now)
    outcomes = await answer(db, agent, record, TYPICAL, now)
    saved = outcomes[-1]
    assert isinstance(saved, Saved) and saved.visit is not None and not saved.modified
    assert saved.visit.answers.resolution == "oui"
    # The last answer tapped again: the same visit, not a second one.
    again = await Message(db, record, now).tap(agent, record.revision + len(TYPICAL) - 1, "oui")
    assert isinstance(again, Saved) and not again.first
    assert again.visit is not None and again.visit.id == saved.visit.id


async def test_a_stale_or_foreign_tap_changes_nothing(
    db: Database, clock: ManualClock, agent: Member, colleague: Member
) -> None:
    now = clock.now()
    record = await begin(db, agent, now)
    await answer(db, agent, record, TYPICAL[:2], now)
    message = Message(db, record, now)
    stale = await message.tap(agent, 0, "homme")
    assert isinstance(stale, Seen) and stale.shown.record.draft.answers.sexe == "femme"
    elsewhere = await Message(db, record, now, message_id=1).tap(agent, 2, "allocataire")
    assert elsewhere == Expired(Expiry.NEWER)
    with pytest.raises(visits.NotYours):
        await message.tap(colleague, 2, "allocataire")


async def test_saving_modifying_and_undoing_reopen_a_validated_period(
    db: Database, clock: ManualClock, agent: Member
) -> None:
    now = clock.now()
    report_id = await validated_quarter(db, agent, now)

    visit_id = await log(db, agent, now)
    assert await status(db, report_id) == "modified"

    async with db.transaction() as tx:
        await period_reports.validate(tx, report_id, person_id=agent.person.id, visits=1, now=now)
    shown = await visits.modify(
        db, agent, visit_id, chat_id=agent.person.id, message_id=MESSAGE + 1, now=now
    )
    assert isinstance(shown, Shown) and shown.record.editing_visit_id == visit_id
    record, edited = shown.record, Message(db, shown.record, now, MESSAGE + 1)
    for revision, (op, value) in enumerate(
        [(Op.SECTION, "resolution"), (Op.ANSWER, "partiellement"), (Op.SAVE, "x")],
        start=record.revision,
    ):
        outcome = await edited.tap(agent, revision, value, op)
    assert isinstance(outcome, Saved) and outcome.modified and outcome.visit is not None
    assert (outcome.visit.id, outcome.visit.answers.resolution) == (visit_id, "partiellement")
    assert await status(db, report_id) == "modified"

    async with db.transaction() as tx:
        await period_reports.validate(tx, report_id, person_id=agent.person.id, visits=1, now=now)
    undone = await visits.undo(db, agent, visit_id, training=False, now=now, window=WINDOW)
    assert undone == Undone(deleted=True)
    assert await status(db, report_id) == "modified"
    assert await visits.undo(db, agent, visit_id, training=False, now=now, window=WINDOW) == Gone()
    actions = [entry.action for entry in await audit.list_for_caf(db, agent.caf.id)]
    assert "visit.modified" in actions and "visit.cancelled" in actions


async def test_training_visits_leave_a_validated_period_alone(
    db: Database, clock: ManualClock, agent: Member
) -> None:
    now = clock.now()
    report_id = await validated_quarter(db, agent, now)
    assert await visits.toggle_training(db, agent)
    record = await begin(db, agent, now)
    assert record.training
    *_, saved = await answer(db, agent, record, TYPICAL, now)
    assert isinstance(saved, Saved) and saved.visit is not None and saved.visit.training
    undone = await visits.undo(db, agent, saved.visit.id, training=True, now=now, window=WINDOW)
    assert undone == Undone(deleted=True)
    assert await status(db, report_id) == "validated"


async def test_undo_is_refused_after_the_window(
    db: Database, clock: ManualClock, agent: Member, colleague: Member
) -> None:
    visit_id = await log(db, agent, clock.now())
    with pytest.raises(visits.NotYours):
        await visits.undo(db, colleague, visit_id, training=False, now=clock.now(), window=WINDOW)
    later = clock.now() + WINDOW + timedelta(seconds=1)
    late = await visits.undo(db, agent, visit_id, training=False, now=later, window=WINDOW)
    assert isinstance(late, TooLate) and late.visit.id == visit_id


async def test_my_figures_count_mine_and_the_sites(
    db: Database, clock: ManualClock, agent: Member, colleague: Member
) -> None:
    await log(db, agent, clock.now())
    await log(db, colleague, clock.now())
    figures = await visits.figures(db, agent, clock.now())
    assert (figures.mine.today, figures.mine.month) == (1, 1)
    assert (figures.site.today, figures.site.week, figures.site.month) == (2, 2, 2)
    assert (figures.site.resolved, figures.site.partly, figures.training) == (2, 0, 0)


async def test_a_late_visit_takes_the_chosen_day_and_is_refused_beyond_seven_days(
    db: Database, clock: ManualClock, agent: Member
) -> None:
    now = clock.now()  # Thursday 26 November 2026, 10 h in Paris
    record = await begin(db, agent, now)
    message = Message(db, record, now)
    opened = await message.tap(agent, record.revision, "x", Op.WHEN)
    assert isinstance(opened, Advanced)
    too_old = await message.tap(agent, record.revision + 1, "20261119", Op.DAY)
    assert isinstance(too_old, Invalid) and "7 derniers jours" in too_old.reason
    friday = await message.tap(agent, record.revision + 1, "20261120", Op.DAY)
    assert isinstance(friday, Advanced)
    await message.tap(agent, record.revision + 2, "14")
    *_, saved = await answer(db, agent, record.model_copy(update={"revision": 3}), TYPICAL, now)
    assert isinstance(saved, Saved) and saved.visit is not None
    paris = ZoneInfo("Europe/Paris")
    assert saved.visit.visited_at == datetime(2026, 11, 20, 14, tzinfo=paris)


async def test_my_visits_lists_the_last_seven_days_and_cancels_any_listed_visit(
    db: Database, clock: ManualClock, agent: Member, colleague: Member
) -> None:
    now = clock.now()
    report_id = await validated_quarter(db, agent, now)
    mine = await log(db, agent, now)
    theirs = await log(db, colleague, now)
    listing = await visits.my_visits(db, agent, now)
    assert [line.id for line in listing.lines] == [mine]
    assert (listing.today, listing.since) == (date(2026, 11, 26), date(2026, 11, 20))

    opened = await visits.my_visit(db, agent, mine, training=False, now=now)
    assert isinstance(opened, VisitRecord) and opened.id == mine
    with pytest.raises(visits.NotYours):
        await visits.my_visit(db, agent, theirs, training=False, now=now)
    with pytest.raises(visits.NotYours):
        await visits.cancel(db, agent, theirs, training=False, now=now)

    async with db.transaction() as tx:
        await period_reports.validate(tx, report_id, person_id=agent.person.id, visits=1, now=now)
    # Long past the undo window (↩️ refuses), 🗑 from the list still cancels it, as a
    # correction: the validated quarter is asked again and the cancellation audited.
    later = now + timedelta(days=6)
    late = await visits.undo(db, agent, mine, training=False, now=later, window=WINDOW)
    assert isinstance(late, TooLate)
    done = await visits.cancel(db, agent, mine, training=False, now=later)
    assert done == Cancelled(True, MyVisits(date(2026, 11, 26), date(2026, 12, 2), []))
    assert await status(db, report_id) == "modified"
    gone = await visits.my_visit(db, agent, mine, training=False, now=later)
    assert isinstance(gone, Unlisted) and not gone.too_old and gone.listing.lines == []
    again = await visits.cancel(db, agent, mine, training=False, now=later)
    assert isinstance(again, Unlisted) and not again.too_old
    actions = [entry.action for entry in await audit.list_for_caf(db, agent.caf.id)]
    assert actions.count("visit.cancelled") == 1


async def test_a_visit_older_than_the_lists_days_is_neither_opened_nor_cancelled(
    db: Database, clock: ManualClock, agent: Member
) -> None:
    now = clock.now()  # Thursday 26 November 2026, 10 h in Paris
    visit_id = await log(db, agent, now)
    paris = ZoneInfo("Europe/Paris")
    last_evening = datetime(2026, 12, 2, 23, 59, tzinfo=paris)  # its last day in the list
    assert isinstance(
        await visits.my_visit(db, agent, visit_id, training=False, now=now), VisitRecord
    )
    listed = await visits.my_visit(db, agent, visit_id, training=False, now=last_evening)
    assert isinstance(listed, VisitRecord)
    past_midnight = datetime(2026, 12, 3, 0, 1, tzinfo=paris)
    old = await visits.my_visit(db, agent, visit_id, training=False, now=past_midnight)
    assert isinstance(old, Unlisted) and old.too_old and old.listing.lines == []
    refused = await visits.cancel(db, agent, visit_id, training=False, now=past_midnight)
    assert isinstance(refused, Unlisted) and refused.too_old
    assert await visit_store.get_visit(db, visit_id) is not None
    actions = [entry.action for entry in await audit.list_for_caf(db, agent.caf.id)]
    assert "visit.cancelled" not in actions
