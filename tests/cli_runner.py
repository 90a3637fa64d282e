"""`python -m bot …` as a child process on the tests' clock (tests/clocked_bot.py): for the
export tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.config import Settings
from tests.clocked_bot import ChildClock

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
    clock = ChildClock(workdir / f"clock-{os.urandom(4).hex()}", now)
    env.update(DATABASE_PATH=str(db_path or workdir / "db.sqlite3"), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "tests.clocked_bot", str(clock.path), *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr.decode("utf-8"))
