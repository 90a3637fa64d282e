"""Contract of storage/audit.py, through its functions only: who did what, when, to what;
each Caf reads its own part of the log, newest first, with the actors' names."""

from __future__ import annotations

import json

from bot.clock import ManualClock
from bot.domain.models import Person
from storage import audit
from storage.db import Database
from tests.storage.world import Network


async def test_records_are_read_newest_first_within_their_caf(
    db: Database, clock: ManualClock, network: Network
) -> None:
    async with db.transaction() as tx:
        await audit.record(
            tx, at=clock.now(), action="caf.created", actor_id=None, caf_id=network.somme.id
        )
    clock.advance(minutes=5)
    await audit.record(
        db,
        at=clock.now(),
        action="label.changed",
        actor_id=None,
        caf_id=network.somme.id,
        target_type="partner",
        target_id=network.ham.id,
        details={"from": "active", "to": "suspended", "motif": "Locaux fermés"},
    )
    await audit.record(
        db, at=clock.now(), action="caf.created", actor_id=None, caf_id=network.aisne.id
    )

    somme = await audit.list_for_caf(db, network.somme.id)
    assert [e.action for e in somme] == ["label.changed", "caf.created"]
    newest = somme[0]
    assert (newest.at, newest.caf_id, newest.target_type, newest.target_id) == (
        clock.now(),
        network.somme.id,
        "partner",
        network.ham.id,
    )
    assert newest.details is not None
    assert json.loads(newest.details) == {
        "from": "active",
        "to": "suspended",
        "motif": "Locaux fermés",
    }
    assert somme[1].details is None and somme[1].target_type is None
    assert [e.action for e in await audit.list_for_caf(db, network.aisne.id)] == ["caf.created"]
    assert [
        e.action for e in await audit.list_for_caf(db, network.somme.id, limit=1, offset=1)
    ] == ["caf.created"]


async def test_a_page_names_the_actors_and_counts_the_whole_log(
    db: Database, clock: ManualClock, network: Network, corinne: Person
) -> None:
    for number in range(12):
        clock.advance(minutes=1)
        await audit.record(
            db,
            at=clock.now(),
            action="partner.updated",
            actor_id=corinne.id if number % 2 else None,  # None: the command line
            caf_id=network.somme.id,
            target_type="partner",
            target_id=network.ham.id,
            details={"n": number},
        )
    first, total = await audit.page_for_caf(db, network.somme.id, limit=10, offset=0)
    assert total == 12 and len(first) == 10
    assert [json.loads(e.details or "{}")["n"] for e in first] == list(range(11, 1, -1))
    assert [e.actor_name for e in first[:2]] == ["Corinne", None]
    last, total = await audit.page_for_caf(db, network.somme.id, limit=10, offset=10)
    assert total == 12 and [json.loads(e.details or "{}")["n"] for e in last] == [1, 0]
    beyond, total = await audit.page_for_caf(db, network.somme.id, limit=10, offset=20)
    assert beyond == [] and total == 12
    assert await audit.page_for_caf(db, network.aisne.id, limit=10, offset=0) == ([], 0)
