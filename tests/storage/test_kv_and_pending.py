"""Contracts of storage/kv.py (small cached facts) and storage/pending.py (the answer a person
is expected to type next), through their functions only."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.domain.models import Person
from storage import kv, pending
from storage.db import Database


async def test_a_fact_is_stored_replaced_and_read_back(db: Database) -> None:
    assert await kv.get(db, "bot_username") is None
    await kv.put(db, "bot_username", "pnc_bot")
    await kv.put(db, "bot_username", "pnc_caf_bot")
    assert await kv.get(db, "bot_username") == "pnc_caf_bot"
    async with db.transaction() as tx:
        await kv.put(tx, "autre", "é")
    assert await kv.get(db, "autre") == "é"


async def test_a_person_expects_one_answer_at_a_time(
    db: Database, clock: ManualClock, corinne: Person
) -> None:
    person = corinne.id  # a person registered the way the bot registers one
    assert await pending.get(db, person) is None

    await pending.expect(
        db, person, "label_reason", {"partner": 3, "statut": "suspendu"}, clock.now()
    )
    clock.advance(minutes=1)
    await pending.expect(db, person, "doc_title", {"page": 2}, clock.now())
    expected = await pending.get(db, person)
    assert expected is not None
    assert (expected.kind, expected.context, expected.created_at) == (
        "doc_title",
        {"page": 2},
        clock.now(),
    )
    assert await pending.clear(db, person)
    assert not await pending.clear(db, person)
    assert await pending.get(db, person) is None
