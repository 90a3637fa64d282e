"""Contract of storage/site_reviews.py, through its functions only: a yearly visit and its
action plan recorded, read back newest first, items marked done once, the Caf's summary per
site, and the coordinator's draft whose revision only ever grows."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.domain.models import Partner, Person
from bot.domain.site_reviews import (
    CHECK_KEYS,
    CHECK_STEPS,
    ActionItem,
    DraftState,
    Owner,
    SiteReview,
    Step,
)
from storage import site_reviews as store
from storage.db import Database, available_migrations, open_database
from tests.storage.world import TODAY, Network


def visit(
    day: date,
    *items: tuple[str, Owner, date],
    hours_ok: bool = True,
    remarks: str | None = None,
    wanting: tuple[str, ...] = (),
) -> DraftState:
    """A complete visit on `day` with its plan, as the wizard leaves it (with an action
    proposed for each point of `wanting`, answered « non »)."""
    state = DraftState().with_date(day)
    for step in CHECK_STEPS:
        ok = hours_ok if step is Step.HOURS else step.value not in wanting
        state = state.with_check(step, ok)
    state = state.with_remarks(remarks)
    if wanting:
        state = state.with_proposals(day)
    for description, owner, due in items:
        state = state.adding_item().with_description(description).with_owner(owner).with_due(due)
    return state


async def record(
    network: Network, by: Person, state: DraftState, site: Partner | None = None
) -> tuple[SiteReview, list[ActionItem]]:
    """The visit recorded now at the site (Ham unless told)."""
    site = site or network.ham
    async with network.db.transaction() as tx:
        return await store.record(
            tx, caf_id=site.caf_id, partner_id=site.id, state=state, by=by.id, now=network.now
        )


async def test_a_visit_and_its_plan_come_back_as_recorded(
    db: Database, network: Network, corinne: Person
) -> None:
    state = visit(
        TODAY,
        ("Afficher les horaires", Owner.PARTNER, TODAY + timedelta(days=90)),
        ("Former l'agent", Owner.BOTH, TODAY + timedelta(days=30)),
        hours_ok=False,
        remarks="Affichage absent.",
    )
    review, items = await record(network, corinne, state)
    assert review.visited_on == TODAY and review.remarks == "Affichage absent."
    assert (review.ok("premises"), review.ok("equipment"), review.ok("hours")) == (
        True,
        True,
        False,
    )
    assert review.recorded_by == corinne.id and review.recorded_by_name == "Corinne"
    assert [(i.description, i.owner) for i in items] == [
        ("Afficher les horaires", Owner.PARTNER),
        ("Former l'agent", Owner.BOTH),
    ]
    assert await store.items_of(db, review.id) == items
    # Open items: the soonest due first.
    assert [i.description for i in await store.open_items(db, network.ham.id)] == [
        "Former l'agent",
        "Afficher les horaires",
    ]
    assert await store.last_review(db, network.ham.id) == review
    assert await store.last_review(db, network.albert.id) is None
    assert await store.get_item(db, items[0].id) == items[0]
    assert await store.get_item(db, 999_999) is None


async def test_every_point_of_the_checklist_and_each_proposal_come_back(
    db: Database, clock: ManualClock, network: Network, corinne: Person
) -> None:
    review, items = await record(
        network, corinne, visit(TODAY, wanting=("accessibility", "safety"))
    )
    assert review.checks == {key: key not in ("accessibility", "safety") for key in CHECK_KEYS}
    assert review.missing == ("accessibility", "safety")
    assert all(review.answered(key) for key in CHECK_KEYS)
    assert [i.point for i in items] == ["accessibility", "safety"]
    assert await store.last_review(db, network.ham.id) == review
    # Open until the action proposed for it is done, site by site, Caf by Caf.
    missing = await store.open_missing_points(db, network.somme.id)
    assert missing == {network.ham.id: (TODAY, ("accessibility", "safety"))}
    assert await store.open_missing_points(db, network.somme.id, network.albert.id) == {}
    assert await store.open_missing_points(db, network.aisne.id) == {}
    async with db.transaction() as tx:
        await store.mark_done(tx, items[0].id, by=corinne.id, now=clock.now())
    missing = await store.open_missing_points(db, network.somme.id, network.ham.id)
    assert missing == {network.ham.id: (TODAY, ("safety",))}
    # A later visit that finds everything in order closes them all.
    await record(network, corinne, visit(TODAY))
    assert await store.open_missing_points(db, network.somme.id) == {}


async def test_a_visit_recorded_before_the_full_checklist_is_read_as_it_was(
    db: Database, network: Network, corinne: Person
) -> None:
    """A visit of before migration 0014 had only its three columns: they are kept, and
    the points it never asked are neither shown as answered nor as wanting."""
    review, _ = await record(network, corinne, visit(TODAY, hours_ok=False))
    old = review.model_copy(update={"checks": {}})
    assert [old.answered(key) for key in CHECK_KEYS] == [True] * 3 + [False] * 5
    assert old.missing == ("hours",) and old.ok("premises") and not old.ok("hours")
    assert old.ok("accessibility")  # not asked: not wanting


async def test_an_incomplete_visit_is_refused(
    db: Database, network: Network, corinne: Person
) -> None:
    with pytest.raises(ValueError, match="incomplete"):
        await record(network, corinne, DraftState().with_date(TODAY))
    assert await store.last_review(db, network.ham.id) is None


async def test_the_latest_visits_come_newest_first_by_visit_day(
    db: Database, network: Network, corinne: Person
) -> None:
    for days_ago in (300, 10, 200, 50):
        await record(network, corinne, visit(TODAY - timedelta(days=days_ago)))
    recent = await store.recent_reviews(db, network.ham.id, limit=3)
    assert [r.visited_on for r in recent] == [
        TODAY - timedelta(days=10),
        TODAY - timedelta(days=50),
        TODAY - timedelta(days=200),
    ]
    last = await store.last_review(db, network.ham.id)
    assert last is not None and last.visited_on == TODAY - timedelta(days=10)


async def test_an_item_is_marked_done_once(
    db: Database, clock: ManualClock, network: Network, corinne: Person
) -> None:
    _, [item] = await record(
        network, corinne, visit(TODAY, ("Former", Owner.CAF, TODAY + timedelta(30)))
    )
    assert not item.overdue(TODAY) and item.overdue(TODAY + timedelta(31))
    clock.advance(timedelta(days=2))
    async with db.transaction() as tx:
        assert await store.mark_done(tx, item.id, by=corinne.id, now=clock.now())
    async with db.transaction() as tx:
        assert not await store.mark_done(tx, item.id, by=corinne.id, now=clock.now())
    done = await store.get_item(db, item.id)
    assert done is not None and done.done_at == clock.now() and done.done_by == corinne.id
    assert not done.overdue(TODAY + timedelta(31))  # done is never late
    assert await store.open_items(db, network.ham.id) == []


async def test_items_due_by_a_day_across_sites_soonest_first(
    db: Database, network: Network, corinne: Person
) -> None:
    await record(
        network,
        corinne,
        visit(TODAY, ("Ham tard", Owner.PARTNER, TODAY + timedelta(60))),
    )
    await record(
        network,
        corinne,
        visit(TODAY, ("Albert tôt", Owner.PARTNER, TODAY + timedelta(5))),
        site=network.albert,
    )
    until = TODAY + timedelta(days=30)
    assert [i.description for i in await store.open_items_due_by(db, until)] == ["Albert tôt"]
    later = await store.open_items_due_by(db, TODAY + timedelta(days=60))
    assert [i.description for i in later] == ["Albert tôt", "Ham tard"]


async def test_the_summary_lists_every_site_of_the_caf_and_only_those(
    db: Database, clock: ManualClock, network: Network, corinne: Person
) -> None:
    _, items = await record(
        network,
        corinne,
        visit(
            TODAY - timedelta(days=40),
            ("En retard", Owner.PARTNER, TODAY - timedelta(days=1)),
            ("À venir", Owner.CAF, TODAY + timedelta(days=10)),
            ("Fait", Owner.BOTH, TODAY - timedelta(days=5)),
        ),
    )
    async with db.transaction() as tx:
        await store.mark_done(tx, items[2].id, by=corinne.id, now=clock.now())
    summary = await store.summary_by_partner(db, network.somme.id, TODAY)
    assert summary == {
        network.ham.id: (TODAY - timedelta(days=40), 2, 1),
        network.albert.id: (None, 0, 0),
    }
    last_visited_on, open_count, overdue_count = summary[network.ham.id]
    assert (open_count, overdue_count) == (2, 1)
    assert last_visited_on == summary[network.ham.id].last_visited_on
    assert set(await store.summary_by_partner(db, network.aisne.id, TODAY)) == {network.laon.id}


async def test_a_draft_moves_only_from_its_current_revision(
    db: Database, clock: ManualClock, network: Network, corinne: Person
) -> None:
    assert await store.get_draft(db, corinne.id) is None
    async with db.transaction() as tx:
        draft = await store.start_draft(
            tx, person_id=corinne.id, partner_id=network.ham.id, now=clock.now()
        )
    assert draft.state == DraftState() and draft.partner_id == network.ham.id
    assert await store.open_draft(db, corinne.id) == draft
    dated = DraftState().with_date(TODAY)
    async with db.transaction() as tx:
        moved = await store.save_draft(
            tx, person_id=corinne.id, revision=draft.revision, state=dated, now=clock.now()
        )
        # A second tap on the same button: the draft is no longer at that revision.
        again = await store.save_draft(
            tx, person_id=corinne.id, revision=draft.revision, state=dated, now=clock.now()
        )
    assert moved is not None and moved.revision > draft.revision and moved.state == dated
    assert again is None
    assert await store.open_draft(db, corinne.id) == moved


async def test_a_draft_is_saved_or_dropped_once_and_its_revision_only_grows(
    db: Database, clock: ManualClock, network: Network, corinne: Person
) -> None:
    async with db.transaction() as tx:
        first = await store.start_draft(
            tx, person_id=corinne.id, partner_id=network.ham.id, now=clock.now()
        )
        # Starting for another site replaces the visit under way.
        second = await store.start_draft(
            tx, person_id=corinne.id, partner_id=network.albert.id, now=clock.now()
        )
    assert second.partner_id == network.albert.id and second.revision > first.revision
    review, _ = await record(network, corinne, visit(TODAY), site=network.albert)
    async with db.transaction() as tx:
        assert await store.consume_draft(
            tx, corinne.id, revision=second.revision, review_id=review.id, now=clock.now()
        )
        assert not await store.consume_draft(
            tx, corinne.id, revision=None, review_id=review.id, now=clock.now()
        )
    saved = await store.get_draft(db, corinne.id)
    assert saved is not None and saved.state is None and saved.saved_review == review.id
    assert saved.revision > second.revision
    assert await store.open_draft(db, corinne.id) is None
    async with db.transaction() as tx:
        # Nothing open: a button of the saved visit moves nothing, /annuler drops nothing.
        assert (
            await store.save_draft(
                tx,
                person_id=corinne.id,
                revision=saved.revision,
                state=DraftState(),
                now=clock.now(),
            )
            is None
        )
        assert not await store.drop_draft(tx, corinne.id, clock.now())
        third = await store.start_draft(
            tx, person_id=corinne.id, partner_id=network.ham.id, now=clock.now()
        )
        assert third.revision > saved.revision
        assert await store.drop_draft(tx, corinne.id, clock.now())
    dropped = await store.get_draft(db, corinne.id)
    assert dropped is not None and dropped.state is None and dropped.saved_review is None


async def test_migration_0014_copies_a_former_visit_s_three_answers(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A visit recorded before the full checklist keeps its three answers, now per point."""
    every = available_migrations()
    monkeypatch.setattr(
        "storage.db.available_migrations", lambda: {n: s for n, s in every.items() if n < 14}
    )
    at = "2026-01-15T10:00:00+00:00"
    async with open_database(db_path, migrate=False) as db:
        await db.migrate()
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO cafs (id, name, timezone, created_at)"
                " VALUES (1, 'Caf de la Somme', 'Europe/Paris', :at)",
                {"at": at},
            )
            await tx.execute(
                "INSERT INTO partners (id, caf_id, name, label_status_since, created_at)"
                " VALUES (1, 1, 'Mairie de Ham', :at, :at)",
                {"at": at},
            )
            await tx.execute(
                "INSERT INTO site_reviews (caf_id, partner_id, visited_on, premises_ok,"
                " equipment_ok, hours_ok, recorded_at) VALUES (1, 1, '2026-01-15', 1, 0, 1, :at)",
                {"at": at},
            )
        monkeypatch.setattr("storage.db.available_migrations", lambda: every)
        assert 14 in await db.migrate()
        review = await store.last_review(db, 1)
        assert review is not None
        assert review.checks == {"premises": True, "equipment": False, "hours": True}
        assert review.missing == ("equipment",) and not review.answered("accessibility")
        assert await store.open_missing_points(db, 1) == {1: (date(2026, 1, 15), ("equipment",))}
