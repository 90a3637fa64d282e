"""Contract of storage/personal_data.py, through its functions only (and the repositories'
own to set the scene and read it back): the summary and the export of what names a person,
an erasure that happens once and keeps what the convention needs, the people the nightly run
erases, and free texts replaced by the retention marker once, and only when old enough.

tests/test_retention.py goes through the whole nightly run and the inventory of columns."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.domain.models import Person
from bot.domain.permissions import PersonStatus
from bot.domain.personal_data import erased_name, retention_marker
from bot.domain.site_reviews import Owner
from storage import audit, outbox, pending, people, personal_data
from storage import site_reviews as reviews
from storage.db import Database
from tests.storage.test_site_reviews import record, visit
from tests.storage.world import TODAY, Network, Staff


async def yearly_visit(db: Database, clock: ManualClock, network: Network, by: Person) -> int:
    """A visit with remarks and one action item, marked done; returns the item's id."""
    due = TODAY + timedelta(days=30)
    state = visit(TODAY, ("Afficher les horaires", Owner.PARTNER, due), remarks="Très bon accueil.")
    _, [item] = await record(network, by, state)
    async with db.transaction() as tx:
        assert await reviews.mark_done(tx, item.id, by=by.id, now=clock.now())
    return item.id


async def test_the_summary_counts_what_names_the_person(
    db: Database, clock: ManualClock, network: Network, corinne: Person
) -> None:
    await yearly_visit(db, clock, network, corinne)
    async with db.transaction() as tx:
        await audit.record(
            tx, at=clock.now(), action="test.act", actor_id=corinne.id, caf_id=network.somme.id
        )
    summary = await personal_data.summary(db, corinne.id)
    assert summary is not None
    assert summary.identity["telegram_user_id"] == 7001
    assert summary.identity["display_name"] == "Corinne"
    assert summary.identity["caf"] == "Caf de la Somme"
    assert (summary.visits, summary.training_visits) == (0, 0)
    counts = dict(summary.counts)
    assert counts["Visites annuelles enregistrées"] == 1
    assert counts["Actions de plan marquées faites"] == 1
    assert counts["Lignes du journal d'audit"] == 1
    assert all(n > 0 for _, n in summary.counts)  # what is not there is not listed
    assert await personal_data.summary(db, 999_999) is None


async def test_the_export_has_every_section_and_reads_json_as_json(
    db: Database, clock: ManualClock, network: Network, corinne: Person
) -> None:
    await yearly_visit(db, clock, network, corinne)
    await pending.expect(db, corinne.id, "review_remarks", {"partner": network.ham.id}, clock.now())
    data = await personal_data.export(db, corinne.id)
    assert data is not None
    assert set(personal_data.SECTION_KEYS) <= set(data)
    assert data["identite"]["display_name"] == "Corinne"
    assert data["visites"]["total"] == 0
    [recorded] = data["visites_annuelles"]
    assert recorded["site"] == "Mairie de Ham" and recorded["remarques"] == "Très bon accueil."
    assert data["actions_du_plan_faites"][0]["description"] == "Afficher les horaires"
    [expected] = data["reponse_attendue"]
    assert expected["contexte"] == {"partner": network.ham.id}  # JSON, not a string of it
    assert await personal_data.export(db, 999_999) is None


async def test_an_erasure_happens_once_and_keeps_what_the_convention_needs(
    db: Database, clock: ManualClock, network: Network, corinne: Person
) -> None:
    await yearly_visit(db, clock, network, corinne)
    await pending.expect(db, corinne.id, "review_date", {}, clock.now())
    async with db.transaction() as tx:
        await reviews.start_draft(
            tx, person_id=corinne.id, partner_id=network.ham.id, now=clock.now()
        )
        assert await personal_data.erase(tx, corinne.id, clock.now())
    async with db.transaction() as tx:
        assert not await personal_data.erase(tx, corinne.id, clock.now())
        assert not await personal_data.erase(tx, 999_999, clock.now())

    erased = await people.get(db, corinne.id)
    assert erased is not None
    assert erased.telegram_user_id is None
    assert erased.display_name == erased_name(corinne.id)
    assert erased.status is PersonStatus.REVOKED
    assert await people.member_by_telegram_id(db, 7001) is None
    # What only served her is gone…
    assert await pending.get(db, corinne.id) is None
    assert await reviews.get_draft(db, corinne.id) is None
    # …the yearly visit stays, now recorded by « someone ».
    review = await reviews.last_review(db, network.ham.id)
    assert review is not None and review.remarks == "Très bon accueil."
    assert review.recorded_by == corinne.id
    assert review.recorded_by_name == erased_name(corinne.id)


async def test_the_nightly_run_erases_people_revoked_before_the_cut_only(
    db: Database, clock: ManualClock, staff: Staff
) -> None:
    agent, manager = staff.agent, staff.manager  # Agnès, Marc: at Ham
    long_ago = clock.now() - timedelta(days=800)
    async with db.transaction() as tx:
        await people.set_status(tx, agent.id, PersonStatus.REVOKED, long_ago)
        await people.set_status(tx, manager.id, PersonStatus.REVOKED, clock.now())
    cut = clock.now() - timedelta(days=730)
    assert await personal_data.revoked_before(db, cut) == [agent.id]
    async with db.transaction() as tx:
        assert await personal_data.erase(tx, agent.id, clock.now())
    assert await personal_data.revoked_before(db, cut) == []  # erased once, never again


async def test_old_free_texts_become_the_marker_once_and_young_ones_stay(
    db: Database, clock: ManualClock, network: Network, corinne: Person
) -> None:
    item_id = await yearly_visit(db, clock, network, corinne)
    marker = retention_marker(24)
    async with db.transaction() as tx:
        young = await personal_data.purge_texts(tx, clock.now() - timedelta(days=1), marker)
    assert young["site_reviews.remarks"] == 0 and young["action_items.description"] == 0
    review = await reviews.last_review(db, network.ham.id)
    assert review is not None and review.remarks == "Très bon accueil."

    later = clock.now() + timedelta(days=1)
    async with db.transaction() as tx:
        purged = await personal_data.purge_texts(tx, later, marker)
        again = await personal_data.purge_texts(tx, later, marker)
    assert purged["site_reviews.remarks"] == 1 and purged["action_items.description"] == 1
    assert again["site_reviews.remarks"] == 0 and again["action_items.description"] == 0
    review = await reviews.last_review(db, network.ham.id)
    item = await reviews.get_item(db, item_id)
    assert review is not None and review.remarks == marker
    assert item is not None and item.description == marker


async def test_an_erasure_deletes_unsent_messages_naming_the_person_and_blanks_the_others(
    db: Database, clock: ManualClock, network: Network, staff: Staff
) -> None:
    """Issue #16: a pending « Nouveau signalement de Agnès » was delivered after the erasure."""
    agnes, corinne = staff.agent, staff.coordinator
    about_her = f"📣 Nouveau signalement de {staff.agent.display_name} (Mairie de Ham)"
    ids: dict[str, int] = {}
    async with db.transaction() as tx:
        for status in ("pending", "sending", "sent", "failed", "unreachable"):
            assert await outbox.enqueue(
                tx,
                kind="test",
                dedup_key=f"about-her:{status}",
                chat_id=7001,
                person_id=corinne.id,
                text=about_her,
                now=clock.now(),
            )
            ids[status] = int(
                await tx.fetch_value(
                    "SELECT id FROM outbox WHERE dedup_key = :k", {"k": f"about-her:{status}"}
                )
            )
            await tx.execute(
                "UPDATE outbox SET status = :s WHERE id = :id", {"s": status, "id": ids[status]}
            )
        assert await outbox.enqueue(
            tx,
            kind="test",
            dedup_key="about-someone-else",
            chat_id=7001,
            person_id=corinne.id,
            text="📣 Nouveau signalement de Bruno",
            now=clock.now(),
        )
        assert await personal_data.erase(tx, agnes.id, clock.now())

    assert await outbox.get(db, ids["pending"]) is None  # never sent after the erasure
    for status in ("sending", "sent", "failed", "unreachable"):
        kept = await outbox.get(db, ids[status])
        assert kept is not None and agnes.display_name not in kept.text, status
    untouched = await db.fetch_value(
        "SELECT text FROM outbox WHERE dedup_key = 'about-someone-else'"
    )
    assert untouched == "📣 Nouveau signalement de Bruno"
