"""bot/services/visits.py as the bot, the command line or a job would call it: a visit logged
tap by tap, and the rule that a change to a validated period's visits reopens it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.models import Member, ReportingPeriod
from bot.domain.periods import quarter_of
from bot.domain.permissions import Role
from bot.domain.visit_log import (
    Advanced,
    DraftRecord,
    Expired,
    Expiry,
    Gone,
    Saved,
    Seen,
    Shown,
    TooLate,
    Undone,
)
from bot.domain.visits import Op
from bot.services import visits
from storage import audit, cafs, invitations, partners, people, period_reports
from storage.db import Database

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


async def _member(db: Database, clock: ManualClock, caf_id: int, partner_id: int, n: int) -> Member:
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
            telegram_user_id=7000 + n,
            display_name=f"Agent {n}",
            invitation=invitation,
            now=clock.now(),
        )
    member = await people.member(db, person.id)
    assert member is not None
    return member


@pytest.fixture
async def agents(db: Database, clock: ManualClock) -> tuple[Member, Member]:
    """Two agents of one site of a Caf that reports by quarter."""
    async with db.transaction() as tx:
        caf = await cafs.add(
            tx,
            name="Caf de la Somme",
            period=ReportingPeriod.QUARTERLY,
            timezone="Europe/Paris",
            notify_chat_id=None,
            now=clock.now() - timedelta(days=400),
        )
        site = await partners.add(
            tx,
            caf_id=caf.id,
            name="Mairie de Ham",
            city="Ham",
            address="",
            now=clock.now() - timedelta(days=400),
        )
    return (
        await _member(db, clock, caf.id, site.id, 1),
        await _member(db, clock, caf.id, site.id, 2),
    )


async def begin(db: Database, member: Member, now: datetime) -> DraftRecord:
    opened = await visits.open_visit(db, member, chat_id=member.person.id, now=now, max_age=MAX_AGE)
    assert isinstance(opened, Shown)
    await visits.shown_in(db, opened.record.id, MESSAGE)
    return opened.record


async def answer(
    db: Database, member: Member, record: DraftRecord, values: list[str], now: datetime
) -> list[object]:
    outcomes: list[object] = []
    for revision, value in enumerate(values, start=record.revision):
        outcomes.append(
            await visits.tap(
                db,
                member,
                record.id,
                revision=revision,
                op=Op.ANSWER,
                value=value,
                message_id=MESSAGE,
                now=now,
            )
        )
    return outcomes


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
    db: Database, clock: ManualClock, agents: tuple[Member, Member]
) -> None:
    agent, _ = agents
    now = clock.now()
    record = await begin(db, agent, now)
    outcomes = await answer(db, agent, record, TYPICAL, now)
    saved = outcomes[-1]
    assert isinstance(saved, Saved) and saved.visit is not None and not saved.modified
    assert saved.visit.answers.resolution == "oui"
    # The last answer tapped again: the same visit, not a second one.
    again = await visits.tap(
        db,
        agent,
        record.id,
        revision=record.revision + len(TYPICAL) - 1,
        op=Op.ANSWER,
        value="oui",
        message_id=MESSAGE,
        now=now,
    )
    assert isinstance(again, Saved) and not again.first
    assert again.visit is not None and again.visit.id == saved.visit.id


async def test_a_stale_or_foreign_tap_changes_nothing(
    db: Database, clock: ManualClock, agents: tuple[Member, Member]
) -> None:
    agent, colleague = agents
    now = clock.now()
    record = await begin(db, agent, now)
    await answer(db, agent, record, TYPICAL[:2], now)
    stale = await visits.tap(
        db, agent, record.id, revision=0, op=Op.ANSWER, value="homme", message_id=MESSAGE, now=now
    )
    assert isinstance(stale, Seen) and stale.shown.record.draft.answers.sexe == "femme"
    elsewhere = await visits.tap(
        db, agent, record.id, revision=2, op=Op.ANSWER, value="allocataire", message_id=1, now=now
    )
    assert elsewhere == Expired(Expiry.NEWER)
    with pytest.raises(visits.NotYours):
        await visits.tap(
            db,
            colleague,
            record.id,
            revision=2,
            op=Op.ANSWER,
            value="allocataire",
            message_id=MESSAGE,
            now=now,
        )


async def test_saving_modifying_and_undoing_reopen_a_validated_period(
    db: Database, clock: ManualClock, agents: tuple[Member, Member]
) -> None:
    agent, _ = agents
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
    record = shown.record
    for revision, (op, value) in enumerate(
        [(Op.SECTION, "resolution"), (Op.ANSWER, "partiellement"), (Op.SAVE, "x")],
        start=record.revision,
    ):
        outcome = await visits.tap(
            db,
            agent,
            record.id,
            revision=revision,
            op=op,
            value=value,
            message_id=MESSAGE + 1,
            now=now,
        )
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
    db: Database, clock: ManualClock, agents: tuple[Member, Member]
) -> None:
    agent, _ = agents
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
    db: Database, clock: ManualClock, agents: tuple[Member, Member]
) -> None:
    agent, colleague = agents
    visit_id = await log(db, agent, clock.now())
    with pytest.raises(visits.NotYours):
        await visits.undo(db, colleague, visit_id, training=False, now=clock.now(), window=WINDOW)
    later = clock.now() + WINDOW + timedelta(seconds=1)
    late = await visits.undo(db, agent, visit_id, training=False, now=later, window=WINDOW)
    assert isinstance(late, TooLate) and late.visit.id == visit_id


async def test_my_figures_count_mine_and_the_sites(
    db: Database, clock: ManualClock, agents: tuple[Member, Member]
) -> None:
    agent, colleague = agents
    await log(db, agent, clock.now())
    await log(db, colleague, clock.now())
    figures = await visits.figures(db, agent, clock.now())
    assert (figures.mine.today, figures.mine.month) == (1, 1)
    assert (figures.site.today, figures.site.week, figures.site.month) == (2, 2, 2)
    assert (figures.site.resolved, figures.site.partly, figures.training) == (2, 0, 0)
