"""Moving a deployment from SQLite to PostgreSQL (`python -m bot copy-database`, issue #19
item 2, storage/copy.py), and the command line facing PostgreSQL: `backup` on PostgreSQL,
an unreachable server, the password kept out of every line.

The SQLite deployment is the demo's network (bot/sandbox/seed.py: a Caf, five sites, seven
people, three months of visits, signals, broadcasts, an event with answers, the audit log),
seeded through the services once for the module, with one visit cancelled by its agent. The
PostgreSQL databases come from the tests' throwaway cluster (tests/postgres.py).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

from bot.cli import database_secrets
from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.permissions import Role
from bot.logs import RedactingFilter
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from bot.sandbox.demo import open_demo_storage
from bot.sandbox.seed import PEOPLE, seed
from bot.services import members
from bot.services import visits as visit_service
from storage import copy
from storage.db import redacted
from storage.setup import open_storage
from tests.conftest import START, make_settings, start_bot, stop_bot
from tests.e2e.test_visit import TYPICAL, log_visit
from tests.postgres import Cluster, pg_cluster  # noqa: F401 - the session's cluster
from tests.test_cli import Operator

RAM_DISK = Path("/dev/shm")
AGENT = next(p for p in PEOPLE if p.role is Role.AGENT)
COORDINATOR = next(p for p in PEOPLE if p.role is Role.COORDINATOR)
PASSWORD = "Sup3r-Secret-Pw"


# ------------------------------------------------------------------------------ the deployment
@pytest.fixture(scope="module")
def deployment() -> Iterator[Path]:
    """A SQLite database used for real: the demo's network as of START, then one visit
    cancelled from 🗂 Mes visites by the agent who logged it (never to be modified)."""

    async def build(path: Path) -> None:
        db = await open_demo_storage(path)
        try:
            await seed(db, START)
            agent = await members.by_telegram_id(db, AGENT.telegram_user_id, START)
            assert agent is not None
            listed = await visit_service.my_visits(db, agent, START)
            assert listed.lines, "the agent logged no visit this week"
            line = listed.lines[-1]
            await visit_service.cancel(db, agent, line.id, training=line.training, now=START)
        finally:
            await db.close()

    parent = RAM_DISK if RAM_DISK.is_dir() else None
    with tempfile.TemporaryDirectory(dir=parent, prefix="copy-db-") as folder:
        path = Path(folder) / "deployment.sqlite3"
        asyncio.run(build(path))
        yield path


@pytest.fixture
def source(deployment: Path, tmp_path: Path) -> Path:
    """A copy of the deployment for a test that runs the bot on it (which writes)."""
    path = tmp_path / "pnc.sqlite3"
    shutil.copy(deployment, path)
    return path


def sqlite_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the bot, sorted, by table (not the instances' lease and
    heartbeats: the processes of one database, never copied)."""
    with closing(sqlite3.connect(path)) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
            if table not in copy.RUNTIME_TABLES
        }


async def postgres_counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " AND table_name <> 'schema_version'"
        )
        return {
            row[0]: int(await conn.fetchval(f'SELECT COUNT(*) FROM "{row[0]}"'))
            for row in tables
            if row[0] not in copy.RUNTIME_TABLES
        }
    finally:
        await conn.close()


def printed_counts(lines: list[str]) -> dict[str, int]:
    """`copy-database`'s table: `  table   rows` a line, between the heading and the total."""
    counts = {}
    for line in lines:
        cells = line.split()
        if line.startswith("  ") and len(cells) == 2 and cells[1].isdigit() and cells[0] != "total":
            counts[cells[0]] = int(cells[1])
    return counts


# ------------------------------------------------------------------------------ the bot on it
async def session(location: Path | str, clock: ManualClock, workdir: Path) -> dict[str, str]:
    """The real Application on `location`: what the agent and the coordinator see, then
    the agent's new visit; the screens' texts by name, and the new visit's id."""
    async with FakeBotApi() as fake:
        db = await open_storage(location)
        overrides = {"database_url": location} if isinstance(location, str) else {}
        settings = make_settings(fake, workdir / "unused.sqlite3", **overrides)
        running = await start_bot(fake, db, clock, settings)
        try:
            agent = fake.user(AGENT.telegram_user_id, AGENT.first_name)
            coordinator = fake.user(COORDINATOR.telegram_user_id, COORDINATOR.first_name)
            await agent.send("/start")
            seen = {"Mes visites": await screen(agent, "🗂 Mes visites", "Mes visites")}
            seen["Mes chiffres"] = await screen(agent, "📊 Mes chiffres", "Mes chiffres")
            await coordinator.send("/start")
            seen["Indicateurs"] = await screen(coordinator, "📈 Indicateurs", "Indicateurs")
            before = await db.fetch_value("SELECT MAX(id) FROM visits")
            await log_visit(agent, TYPICAL)
            assert any("Visite enregistrée" in (m.text or "") for m in agent.bot_messages[-3:])
            seen["new visit id"] = str(await db.fetch_value("SELECT MAX(id) FROM visits"))
            seen["previous id"] = str(before)
            seen["Mes chiffres after"] = await screen(agent, "📊 Mes chiffres", "Mes chiffres")
        finally:
            await stop_bot(running)
            await db.close()
        assert not running.errors, running.errors
    return seen


async def screen(user: FakeUser, label: str, heading: str) -> str:
    """The screen `label` opens (the newest message holding `heading`: the outbox may send
    the must-read notice meanwhile)."""
    await user.tap(label)
    for message in reversed(user.bot_messages):
        if heading in (message.text or ""):
            return message.text or ""
    raise AssertionError(f"no {heading!r} after {label!r}: {user.last_message.text!r}")


# ------------------------------------------------------------------------------ SQLite → PG
async def test_a_sqlite_deployment_moves_to_postgresql_and_the_bot_carries_on(
    pg_cluster: Cluster,  # noqa: F811
    source: Path,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    url = await pg_cluster.empty_database()  # as `createdb --locale=C` leaves it: no schema
    operator = Operator(tmp_path, env_extra={"DATABASE_PATH": str(source)})

    copied = (await operator.arun("copy-database", "--to", url)).ok()

    # The table printed is what each side holds, table by table.
    expected = {table: len(rows) for table, rows in sqlite_rows(source).items()}
    assert printed_counts(copied.lines) == expected, copied.describe()
    assert await postgres_counts(url) == expected
    assert expected["visits"] > 1000 and expected["audit_log"] > 50, expected
    assert copied.lines[-1].startswith(f"Copie vérifiée : {len(expected)} tables"), copied.stdout

    # The bot carries on on PostgreSQL: the same screens as on SQLite, and a new visit
    # takes the next id (the identity sequences were set past the copied ids).
    on_sqlite = await session(source, clock, tmp_path)
    on_postgres = await session(url, clock, tmp_path)
    assert on_postgres == on_sqlite
    assert int(on_postgres["new visit id"]) == int(on_postgres["previous id"]) + 1
    assert on_postgres["Mes chiffres after"] != on_postgres["Mes chiffres"]


async def test_the_copy_is_one_snapshot_while_the_bot_writes(
    pg_cluster: Cluster,  # noqa: F811
    source: Path,
) -> None:
    """Each write of the running bot adds a row to two tables at once; the copy reads the
    tables one after the other, while those writes go on: each table must show them all
    or none, as they stood at one instant."""
    url = await pg_cluster.empty_database()
    bot_db = await open_storage(source)
    bot_db.fsync = False  # commits on the loop, between the copy's own awaits
    during = 0
    copying = False
    stop = asyncio.Event()

    async def write() -> None:
        nonlocal during
        number = 0
        while not stop.is_set():
            number += 1
            async with bot_db.transaction() as tx:
                await tx.execute("INSERT INTO kv (key, value) VALUES (?, 'x')", (f"w{number}",))
                await tx.execute(
                    "INSERT INTO audit_log (at, action) VALUES (?, 'probe')", (START.isoformat(),)
                )
            during += copying
            await asyncio.sleep(0)

    writer = asyncio.create_task(write())
    try:
        await asyncio.sleep(0.05)
        copying = True
        done = await copy.sqlite_to_postgres(source, url)
        copying = False
    finally:
        stop.set()
        await writer
        await bot_db.close()
    assert during > 0, "no write happened while the copy ran"
    conn = await asyncpg.connect(url)
    try:
        pairs = await conn.fetchval("SELECT COUNT(*) FROM kv WHERE key LIKE 'w%'")
        probes = await conn.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'probe'")
    finally:
        await conn.close()
    assert pairs == probes == done.counts["kv"]
    assert list(done.counts).index("kv") < list(done.counts).index("audit_log")


async def test_a_target_holding_data_is_refused_and_left_as_it_was(
    pg_cluster: Cluster,  # noqa: F811
    deployment: Path,
    tmp_path: Path,
) -> None:
    url = await pg_cluster.empty_database()
    await copy.sqlite_to_postgres(deployment, url)
    before = await postgres_counts(url)
    operator = Operator(tmp_path, env_extra={"DATABASE_PATH": str(deployment)})

    again = await operator.arun("copy-database", "--to", url)

    error = again.single_error()
    assert "n'est pas vide (announcement_recipients, announcements, audit_log" in error, error
    assert "rien n'a été écrit" in error
    assert await postgres_counts(url) == before
    # Migrated by `python -m bot migrate` first (schema and taxonomy): still empty, accepted.
    migrated = await pg_cluster.fresh_database()
    assert (await copy.sqlite_to_postgres(deployment, migrated)).counts == {
        table: count for table, count in before.items()
    }


async def test_a_target_at_another_schema_version_is_refused_naming_both(
    pg_cluster: Cluster,  # noqa: F811
    deployment: Path,
) -> None:
    url = await pg_cluster.empty_database()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE schema_version (version BIGINT NOT NULL)")
        await conn.execute("INSERT INTO schema_version VALUES (7)")
    finally:
        await conn.close()
    with pytest.raises(copy.CopyRefused) as refused:
        await copy.sqlite_to_postgres(deployment, url)
    latest = max(copy.postgres.available_migrations())
    assert f"au schéma 7, la source {deployment} au schéma {latest}" in str(refused.value)


async def test_values_sqlite_typed_loosely_are_converted_or_the_copy_stops_whole(
    pg_cluster: Cluster,  # noqa: F811
    source: Path,
) -> None:
    """SQLite keeps a value of any type in any column; PostgreSQL does not."""
    with closing(sqlite3.connect(source)) as conn, conn:
        conn.execute("INSERT INTO kv (key, value) VALUES ('bytes', X'6F6B')")  # text as a BLOB
    url = await pg_cluster.empty_database()
    await copy.sqlite_to_postgres(source, url)
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT value FROM kv WHERE key = 'bytes'") == "ok"
    finally:
        await conn.close()

    with closing(sqlite3.connect(source)) as conn, conn:
        conn.execute("UPDATE audit_log SET target_id = 'douze' WHERE id = 3")  # not a number
    url = await pg_cluster.empty_database()
    with pytest.raises(copy.CopyFailed) as failed:
        await copy.sqlite_to_postgres(source, url)
    assert str(failed.value) == (
        "table audit_log, colonne target_id : une valeur n'est pas du type bigint attendu : "
        "copie annulée, rien n'a été écrit"
    )
    assert set((await postgres_counts(url)).values()) == {0}


# ------------------------------------------------------------------------------ PG → SQLite
async def test_postgresql_copied_back_into_a_new_sqlite_file_holds_every_row(
    pg_cluster: Cluster,  # noqa: F811
    deployment: Path,
    tmp_path: Path,
) -> None:
    url = await pg_cluster.empty_database()
    await copy.sqlite_to_postgres(deployment, url)
    home = tmp_path / "copie.sqlite3"
    operator = Operator(tmp_path)

    back = (await operator.arun("copy-database", "--from", url, "--to", str(home))).ok()

    assert sqlite_rows(home) == sqlite_rows(deployment)  # every value, as it was
    with closing(sqlite3.connect(home)) as conn:  # what is left out exists (not renamed)
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert names >= copy.RUNTIME_TABLES
    assert printed_counts(back.lines) == await postgres_counts(url)
    assert home.stat().st_mode & 0o777 == 0o600
    with pytest.raises(copy.CopyRefused, match="existe déjà"):
        await copy.copy_database(url, home)


# ------------------------------------------------------------------------------ the CLI facing PG
async def test_a_missing_postgresql_database_is_one_line(
    pg_cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    missing = pg_cluster.url("nowhere")
    outcome = await Operator(tmp_path).arun("migrate", env={"DATABASE_URL": missing})
    error = outcome.single_error()
    assert error.startswith("Erreur : PostgreSQL injoignable (postgresql://postgres@/nowhere")
    assert '"nowhere" does not exist' in error and error.endswith("vérifiez DATABASE_URL.")


def test_an_unreachable_postgresql_is_one_line_without_its_password(tmp_path: Path) -> None:
    refused = f"postgresql://pnc:{PASSWORD}@127.0.0.1:1/pnc"
    no_socket = f"postgresql://pnc:{PASSWORD}@/pnc?host={tmp_path / 'no-such-folder'}"
    operator = Operator(tmp_path)
    outcomes = operator.run_all(
        [
            (("migrate",), {"DATABASE_URL": refused, "LOG_LEVEL": "DEBUG"}),
            (("cafs", "list"), {"DATABASE_URL": no_socket}),
            (("backup", str(tmp_path / "b.sqlite3")), {"DATABASE_URL": refused}),
        ]
    )
    for outcome in outcomes:
        assert PASSWORD not in outcome.stdout + outcome.stderr, outcome.describe()
    # At LOG_LEVEL=DEBUG the log may speak first (asyncio's selector): the error ends it.
    debug = outcomes[0]
    assert debug.returncode == 1 and "Traceback" not in debug.stderr, debug.describe()
    errors = [debug.stderr.splitlines()[-1]] + [o.single_error() for o in outcomes[1:]]
    assert errors[0].startswith(
        "Erreur : PostgreSQL injoignable (postgresql://pnc:***@127.0.0.1:1/pnc)"
    )
    assert errors[0].endswith("vérifiez DATABASE_URL.")
    assert "postgresql://pnc:***@/pnc?host=" in errors[1]
    assert "pg_dump" in errors[2] and "deploy/README.md" in errors[2]
    assert not (tmp_path / "b.sqlite3").exists()


def test_copies_within_one_engine_or_from_nowhere_are_refused(tmp_path: Path) -> None:
    refused = f"postgresql://pnc:{PASSWORD}@127.0.0.1:1/pnc"

    def refusal(source: Path | str, target: Path | str) -> str:
        with pytest.raises(copy.CopyRefused) as caught:
            asyncio.run(copy.copy_database(source, target))
        assert PASSWORD not in str(caught.value)
        return str(caught.value)

    assert "base introuvable" in refusal(tmp_path / "absent.sqlite3", refused)
    assert "python -m bot backup" in refusal(tmp_path / "a.sqlite3", tmp_path / "b.sqlite3")
    assert "pg_dump" in refusal(refused, refused)
    unreachable = refusal(refused, tmp_path / "c.sqlite3")
    assert unreachable.startswith("PostgreSQL injoignable (postgresql://pnc:***@127.0.0.1:1/pnc)")
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------ the logs
def test_the_database_password_never_reaches_the_logs() -> None:
    url = f"postgresql://pnc:{PASSWORD}@db.example:5432/pnc?sslmode=require"
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(RedactingFilter(database_secrets(settings)))
    log = logging.getLogger("tests.copy_database.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("ouverture de %s", url)
        log.warning("mot de passe seul : %s", PASSWORD)
        log.warning("une autre adresse : postgres://autre:hunter2@h/b")
        log.warning("un @ dans le mot : postgresql://at:s3cr@t@h/b")
        log.warning("dans la requête : postgresql://q@h/b?sslmode=require&password=qu3ry")
        try:
            raise ConnectionError(f"connexion refusée à {url}")
        except ConnectionError:
            log.exception("échec")
    finally:
        log.removeHandler(handler)
    text = "\n".join(records)
    assert PASSWORD not in text and "hunter2" not in text, text
    assert "s3cr" not in text and "qu3ry" not in text, text
    assert "postgresql://q@h/b?sslmode=require&password=***" in text
    assert "postgresql://pnc:***@db.example:5432/pnc?sslmode=require" in text
    assert "postgres://autre:***@h/b" in text
    assert "ConnectionError" in text  # the traceback stays, without the password


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://pnc:pw@h:5432/b", "postgresql://pnc:***@h:5432/b"),
        ("postgresql://pnc:p@ss@h/b", "postgresql://pnc:***@h/b"),
        (
            "postgresql://pnc@h/b?password=pw&sslmode=require",
            "postgresql://pnc@h/b?password=***&sslmode=require",
        ),
        ("postgresql://postgres@/b?host=/run/pg", "postgresql://postgres@/b?host=/run/pg"),
    ],
)
def test_an_address_is_shown_without_its_password_wherever_it_stands(url: str, shown: str) -> None:
    assert redacted(url) == shown
    assert Settings(_env_file=None, database_url=url).database_shown == shown  # type: ignore[call-arg]
