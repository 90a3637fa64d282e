"""The two engines behind one `Database`: what the repositories rely on behaves alike on
SQLite and on PostgreSQL (every test here runs on both, see conftest.py), and the
statement translation of storage/dialect.py."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings, SettingsError, load_settings
from bot.domain.models import ReportingPeriod
from storage import cafs, kv, outbox
from storage.db import Database, connect
from storage.dialect import placeholders, translate
from storage.postgres import PostgresDatabase
from storage.setup import open_storage
from tests import postgres as postgres_tests
from tests.storage.world import Network

IDS = frozenset({"cafs", "outbox"})


def test_named_and_question_mark_placeholders_become_numbers_once_per_name() -> None:
    assert placeholders("SELECT * FROM t WHERE a = :a AND b = :b OR a > :a") == (
        "SELECT * FROM t WHERE a = $1 AND b = $2 OR a > $1",
        ("a", "b"),
    )
    assert placeholders("UPDATE t SET a = ? WHERE id = ?") == (
        "UPDATE t SET a = $1 WHERE id = $2",
        None,
    )


def test_literals_quoted_names_comments_and_casts_keep_their_colons() -> None:
    sql = (
        'SELECT \':no\', "odd:name", x::text, \'{"kind": "all"}\' -- :nor ?\n'
        " FROM t WHERE y = :yes AND z = 'it''s :still'"
    )
    text, names = placeholders(sql)
    assert names == ("yes",)
    assert text == sql.replace(":yes", "$1")


def test_mixed_placeholder_styles_are_refused() -> None:
    with pytest.raises(ValueError, match="mêle"):
        placeholders("SELECT :a, ?")


def test_an_insert_into_a_table_with_an_id_returns_it_and_hints_are_dropped() -> None:
    statement = translate("INSERT INTO cafs (name) VALUES (:name)", IDS)
    assert statement.sql == "INSERT INTO cafs (name) VALUES ($1) RETURNING id"
    assert statement.returns_id and statement.arguments({"name": "Somme"}) == ["Somme"]
    assert not translate("INSERT INTO kv (key) VALUES (?)", IDS).returns_id
    assert not translate("INSERT INTO cafs (name) VALUES (?) RETURNING id", IDS).returns_id
    hinted = translate("SELECT COUNT(*) FROM visits INDEXED BY visits_by_caf WHERE a = ?", IDS)
    assert hinted.sql == "SELECT COUNT(*) FROM visits WHERE a = $1"


def test_sqlite_s_list_parameter_and_scalar_min_max_are_rewritten() -> None:
    statement = translate(
        "SELECT MAX(a), MIN(MAX(b, :c), 3) FROM t"
        " WHERE o.chat_id NOT IN (SELECT value FROM json_each(:excluded))",
        IDS,
    )
    assert statement.sql == (
        "SELECT MAX(a), LEAST(GREATEST(b, $1), 3) FROM t"
        " WHERE o.chat_id::text NOT IN (SELECT json_array_elements_text(CAST($2 AS json)))"
    )
    assert statement.arguments({"c": 1, "excluded": "[]"}) == [1, "[]"]


async def test_execute_answers_the_new_id_or_none_and_counts_changes(
    db: Database, clock: ManualClock
) -> None:
    now = clock.now()
    first = await cafs.add(
        db,
        name="Somme",
        period=ReportingPeriod.QUARTERLY,
        now=now,
        timezone="Europe/Paris",
        notify_chat_id=None,
    )
    second = await cafs.add(
        db,
        name="Oise",
        period=ReportingPeriod.QUARTERLY,
        now=now,
        timezone="Europe/Paris",
        notify_chat_id=None,
    )
    assert second.id > first.id
    async with db.transaction() as tx:
        changed = await tx.execute(
            "UPDATE cafs SET city = :c WHERE id = :id", {"c": "Amiens", "id": first.id}
        )
        unchanged = await tx.execute(
            "UPDATE cafs SET city = :c WHERE id = :id", {"c": "Amiens", "id": -1}
        )
        count = await tx.execute_count("UPDATE cafs SET city = ?", ("Beauvais",))
    assert changed is not None and unchanged is None and count == 2
    # A name is unique whatever its case (SQLite's NOCASE).
    assert await cafs.get_by_name(db, "SOMME") is not None
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(
            "INSERT INTO cafs (name, timezone, created_at) VALUES (?, ?, ?)",
            ("somme", "Europe/Paris", "2026-11-26T09:00:00+00:00"),
        )


async def test_a_failed_transaction_leaves_nothing_and_reads_see_one_state(
    db: Database, network: Network, clock: ManualClock
) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await kv.put(tx, "k", "v")
            raise RuntimeError
    assert await kv.get(db, "k") is None
    async with db.transaction(durable=False) as tx:
        await kv.put(tx, "k", "w")
    async with db.read() as tx:
        assert await tx.fetch_value("SELECT value FROM kv WHERE key = ?", ("k",)) == "w"
    async with db.report_read() as report:
        rows = await report.fetch_all("SELECT id, name FROM cafs ORDER BY id")
    assert [row["name"] for row in rows] == [row[1] for row in rows]
    assert [row["id"] for row in rows] == [network.somme.id, network.aisne.id]


async def test_many_inserts_count_only_the_new_rows_and_sums_are_whole_numbers(
    db: Database, clock: ManualClock
) -> None:
    now: datetime = clock.now()
    items = [
        outbox.OutboxItem(kind="test", dedup_key=f"k{n % 3}", person_id=None, chat_id=n, text="t")
        for n in range(5)
    ]
    async with db.transaction() as tx:
        assert await outbox.enqueue_many(tx, items, now) == 3
        assert await outbox.enqueue_many(tx, items, now) == 0
    total = await db.fetch_value("SELECT SUM(chat_id) FROM outbox")
    assert total == 0 + 1 + 2 and isinstance(total, int)
    flags = await db.fetch_value("SELECT SUM(chat_id > 0) FROM outbox")
    assert flags == 2
    assert await db.fetch_value("SELECT SUM(chat_id) FROM outbox WHERE chat_id < 0") is None


def test_database_url_selects_postgresql_and_is_never_shown_with_its_password(
    tmp_path: Path,
) -> None:
    settings = Settings(
        database_path=tmp_path / "pnc.sqlite3",
        database_url="postgresql://bot:s3cret@db.example/pnc",  # type: ignore[arg-type]
    )
    assert settings.database == "postgresql://bot:s3cret@db.example/pnc"
    assert isinstance(connect(settings.database), PostgresDatabase)
    assert settings.database_shown == "postgresql://bot:***@db.example/pnc"
    blank = Settings(database_path=tmp_path / "pnc.sqlite3", database_url="")  # type: ignore[arg-type]
    assert blank.database == tmp_path / "pnc.sqlite3"
    assert type(connect(blank.database)) is Database
    with pytest.raises(SettingsError, match="DATABASE_URL") as refused:
        load_settings(database_url="mysql://bot:s3cret@db/pnc")
    assert "s3cret" not in str(refused.value)


async def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://bot:s3cret@/pnc?host={tmp_path}"  # no server listens there
    with pytest.raises(sqlite3.OperationalError, match="PostgreSQL injoignable") as refused:
        await open_storage(url)
    assert "s3cret" not in str(refused.value) and "***" in str(refused.value)


def test_missing_binaries_skip_but_fail_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="initdb"):
        postgres_tests.unavailable("initdb introuvable")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="requis en CI"):
        postgres_tests.unavailable("initdb introuvable")


async def test_write_transactions_follow_one_another_so_no_update_is_lost(db: Database) -> None:
    """SQLite's BEGIN IMMEDIATE, PostgreSQL's writers' lock: a read-then-write inside a
    transaction sees every write committed before it, however many run at once."""
    await kv.put(db, "n", "0")

    async def increment() -> None:
        async with db.transaction() as tx:
            value = int(await kv.get(tx, "n") or 0)
            await asyncio.sleep(0)  # let the others start meanwhile
            await kv.put(tx, "n", str(value + 1))

    await asyncio.gather(*(increment() for _ in range(20)))
    assert await kv.get(db, "n") == "20"
