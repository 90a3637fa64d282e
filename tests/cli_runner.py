"""`python -m bot …` as a child process with the bot's clock set: for the export tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30.0
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: bytes
    stderr: str

    def describe(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout!r}\n--- stderr\n{self.stderr}"


def run_cli(workdir: Path, now: datetime, *args: str, db_path: Path | None = None) -> Run:
    """`python -m bot …` in `workdir`, with no setting inherited and the clock at `now`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "PNC_")) and key.upper() not in SETTING_NAMES
    }
    clock_file = workdir / f"clock-{os.urandom(4).hex()}"
    clock_file.write_text(str((now - datetime.now(UTC)).total_seconds()))
    env.update(
        DATABASE_PATH=str(db_path or workdir / "db.sqlite3"),
        PYTHONPATH=str(ROOT),
        PNC_CLOCK_FILE=str(clock_file),
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr.decode("utf-8"))
