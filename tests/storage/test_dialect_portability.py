"""SQLite statements that the end-to-end suite on PostgreSQL (tests/postgres_everywhere.py)
found untranslated, pinned on both engines (see conftest.py): storage/dialect.py turns
them into PostgreSQL's own."""

from __future__ import annotations

from bot.clock import ManualClock
from storage.db import Database
from storage.dialect import translate
from tests.storage import world
from tests.storage.world import Network


def test_is_and_is_not_a_parameter_become_null_safe_comparisons() -> None:
    statement = translate(
        "SELECT id FROM t WHERE a IS NOT :a AND b IS :b AND c IS NULL AND d IS NOT NULL"
        " AND e = 'IS :not a parameter' AND f is not :a",
        frozenset(),
    )
    assert translate("SELECT 1 WHERE x IS ?", frozenset()).sql == (
        "SELECT 1 WHERE x IS NOT DISTINCT FROM $1"
    )
    assert statement.sql == (
        "SELECT id FROM t WHERE a IS DISTINCT FROM $1 AND b IS NOT DISTINCT FROM $2"
        " AND c IS NULL AND d IS NOT NULL AND e = 'IS :not a parameter'"
        " AND f IS DISTINCT FROM $1"
    )


async def test_a_column_compared_with_a_parameter_that_may_be_null(
    db: Database, network: Network, clock: ManualClock
) -> None:
    """SQLite's `x IS :p` / `x IS NOT :p`: NULL equals NULL, and differs from any value."""
    async with db.transaction() as tx:
        oise = await world.add_caf(tx, "Caf de l'Oise", clock.now(), notify_chat_id=-100)

    async def names(sql: str, chat: int | None) -> list[str]:
        rows = await db.fetch_all(f"SELECT name FROM cafs WHERE {sql} ORDER BY id", {"c": chat})
        return [row["name"] for row in rows]

    somme, aisne = network.somme.name, network.aisne.name
    assert await names("notify_chat_id IS :c", None) == [somme, aisne]
    assert await names("notify_chat_id IS :c", -100) == [oise.name]
    assert await names("notify_chat_id IS NOT :c", None) == [oise.name]
    assert await names("notify_chat_id IS NOT :c", -100) == [somme, aisne]
