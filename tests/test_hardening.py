"""Issue #17's smaller holes: files only the bot's user reads, a webhook secret no one
guesses, and CSV cells that never turn into formulas.

The file modes are checked under umask 022 (the usual one, which leaves new files readable
by everyone), set for the test in this process and restored after it.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import cli
from bot.config import SettingsError, load_settings
from bot.domain.models import Partner, ReportingPeriod
from bot.domain.permissions import LabelStatus
from bot.exports import directory
from bot.exports.directory import DirectoryEntry
from storage import cafs
from storage.setup import storage

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
TRAP = '=HYPERLINK("http://x","y")'


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ------------------------------------------------------------------------------ file modes
async def test_the_database_and_its_wal_and_shm_are_created_owner_only(
    tmp_path: Path, umask_022: None
) -> None:
    path = tmp_path / "data" / "pnc.sqlite3"
    async with storage(path) as db, db.transaction() as tx:
        await cafs.add(
            tx,
            name="Caf de la Somme",
            period=ReportingPeriod.MONTHLY,
            timezone="Europe/Paris",
            notify_chat_id=None,
            now=NOW,
        )
        wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
        assert wal.exists() and shm.exists()
        assert {p.name: mode(p) for p in (path, wal, shm)} == {
            path.name: 0o600,
            wal.name: 0o600,
            shm.name: 0o600,
        }


async def test_a_database_left_readable_by_an_older_version_is_tightened(
    tmp_path: Path, umask_022: None
) -> None:
    path = tmp_path / "pnc.sqlite3"
    async with storage(path):
        pass
    path.chmod(0o644)
    async with storage(path):
        assert mode(path) == 0o600


async def test_a_backup_is_created_owner_only(
    tmp_path: Path, umask_022: None, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "pnc.sqlite3"
    async with storage(source):
        pass
    target = tmp_path / "backups" / "copy.sqlite3"
    assert cli.backup(source, target) == 0
    assert mode(target) == 0o600
    assert capsys.readouterr().out == f"Sauvegarde écrite : {target}\n"
    with pytest.raises(cli.CliError, match="existe déjà"):
        cli.backup(source, target)


def test_the_backup_command_under_umask_022_writes_an_owner_only_copy(tmp_path: Path) -> None:
    """As the operator or the nightly service runs it: a child process with umask 022."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DATABASE_PATH": str(tmp_path / "pnc.sqlite3"),
        "PYTHONIOENCODING": "utf-8",
    }

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            preexec_fn=lambda: os.umask(0o022),
        )

    assert run("migrate").returncode == 0
    done = run("backup", "copy.sqlite3")
    assert done.returncode == 0, done.stderr
    assert mode(tmp_path / "pnc.sqlite3") == 0o600
    assert mode(tmp_path / "copy.sqlite3") == 0o600


# ------------------------------------------------------------------------------ WEBHOOK_SECRET
@pytest.mark.parametrize(
    "secret",
    ["a", "x" * 31, "with spaces in it but long enough to pass", "é" * 40, "x" * 257],
)
def test_a_weak_or_malformed_webhook_secret_is_refused_at_start_up(secret: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, webhook_secret=secret)
    message = str(refused.value)
    assert message.startswith("Réglage WEBHOOK_SECRET invalide : au moins 32 caractères")
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    assert len(secret) == 1 or secret not in message  # a secret, even refused, is not echoed


@pytest.mark.parametrize("secret", ["0123456789abcdef0123456789abcdef", "A_b-" * 64])
def test_a_strong_webhook_secret_is_accepted_and_blank_means_polling(secret: str) -> None:
    settings = load_settings(_env_file=None, webhook_secret=secret)
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == secret
    assert load_settings(_env_file=None, webhook_secret="  ").webhook_secret is None


def test_the_bot_refuses_to_start_with_a_weak_secret(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DATABASE_PATH": str(tmp_path / "pnc.sqlite3"),
        "TELEGRAM_BOT_TOKEN": "123456789:AAE-not-a-real-token-but-shaped-like-one",
        "WEBHOOK_URL": "https://bot.example.org",
        "WEBHOOK_SECRET": "a",
        "PYTHONIOENCODING": "utf-8",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--webhook"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "WEBHOOK_SECRET invalide : au moins 32 caractères" in done.stderr
    assert "secrets.token_urlsafe(32)" in done.stderr


def test_the_example_settings_say_how_to_make_a_secret() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert "au moins 32 caractères" in example
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in example


# ------------------------------------------------------------------------------ CSV formulas
def test_the_directory_csv_never_writes_a_formula() -> None:
    site = Partner(
        id=7,
        caf_id=1,
        name=TRAP,
        city="+33 ville",
        address="@SUM(A1)",
        label_status=LabelStatus.ACTIVE,
        label_status_since=NOW,
        label_reason=None,
        convention_start=None,
        created_at=NOW,
    )
    entry = DirectoryEntry(site=site, hours=None, next_change=None, closures=())
    text = directory.to_csv([entry])
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))
    assert rows[1][:4] == ["7", "'" + TRAP, "'+33 ville", "'@SUM(A1)"]
    assert rows[1][4] == directory.NOT_DECLARED  # ordinary text is left as it is


async def test_a_database_path_that_cannot_be_created_is_sqlite_s_refusal(
    tmp_path: Path, umask_022: None
) -> None:
    """The command line turns SQLite's refusals into one French line (bot/cli.py)."""
    folder = tmp_path / "db"
    folder.mkdir()
    with pytest.raises(sqlite3.DatabaseError):
        async with storage(folder):  # a folder where the file should be
            pass
    assert mode(folder) & 0o755 == 0o755  # a folder is left as it was, never made 0600
