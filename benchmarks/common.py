"""What the benchmarks share: the machine and its load, peak RSS, percentiles, the typical
visit, the databases they fill and reuse, the processes they stop, and their sections of
benchmarks/README.md, so that every section reads the same way.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = Path(__file__).resolve().parent / "README.md"
README_HEAD = """# Benchmarks

Speed and memory are measured here, never in timed tests: medians of several runs, each
against a baseline measured in the same run, because machines are shared and noisy. Each
benchmark is a module run from the repository's root (`python -m benchmarks.NAME --help`);
its section below says with which command, on which machine and under which load its
figures were obtained.
"""

#: tests/e2e/test_visit.py TYPICAL: the shortest complete visit (8 taps after the menu).
TYPICAL_VISIT = (
    "Femme",
    "25 – 60 ans",
    "Allocataire",
    "Débutant",
    "Demande de prestation",
    "Accomp. démarche en ligne",
    "Logement et cadre de vie",
    "Oui",
)


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({model or 'unknown CPU'}), {memory:.1f} GiB RAM, "
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"
    )


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def load() -> float:
    return os.getloadavg()[0]


def proc_status_kib(pid: int | str = "self") -> dict[str, int]:
    """The sizes of /proc/PID/status (VmHWM, VmRSS, RssAnon, RssFile…), in KiB; {} if the
    process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {line.split(":")[0]: int(line.split()[1]) for line in lines if line.endswith(" kB")}


def vm_hwm_kib(pid: int | str = "self") -> int:
    """Peak resident set (VmHWM) of a process, in KiB; 0 if it is gone. Not `getrusage`'s
    ru_maxrss, which Linux carries over from the parent forked before `exec`."""
    return proc_status_kib(pid).get("VmHWM", 0)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 1 000 values is the 990th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def commit(paths: Sequence[str] = ("bot", "conversations", "storage")) -> str:
    """HEAD, and whether the measured code differs from it."""

    def git(*words: str) -> str:
        done = subprocess.run(["git", *words], cwd=ROOT, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--", *paths)
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return f"{head} ({', '.join(paths)} changed since)" if changed else head


def number(value: float, decimals: int = 0) -> str:
    """1 234.5: a space between thousands, as the indicators' section."""
    return f"{value:,.{decimals}f}".replace(",", " ")


def ms(seconds: float, decimals: int = 1) -> str:
    return f"{number(seconds * 1000, decimals)} ms"


def mb(kib: float) -> str:
    return f"{kib * 1024 / 1e6:.0f} MB"


def markers(name: str) -> tuple[str, str]:
    return (
        f"<!-- benchmarks.{name}: begin (rewritten by --readme) -->",
        f"<!-- benchmarks.{name}: end -->",
    )


def write_section(name: str, section: str) -> None:
    """Rewrites this benchmark's section of the README (between its markers), or appends it;
    every other section, and the hand-written notes after a section's end marker, stay."""
    begin, end = markers(name)
    text = README.read_text(encoding="utf-8") if README.exists() else README_HEAD
    block = f"{begin}\n{section}{end}"
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


def bot_environment(base_url: str, file_url: str, db_path: Path, **settings: str) -> dict[str, str]:
    """The environment of `python -m bot run` against a fake Bot API: this one's, less any
    setting of ours, plus the fake's addresses, the database and `settings` (NAME=value)."""
    from bot.sandbox.bot_api import TOKEN

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "PNC_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=base_url,
        TELEGRAM_API_FILE_BASE_URL=file_url,
        DATABASE_PATH=str(db_path),
        LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
    )
    env.update(settings)
    return env


def stored_marker(path: Path, key: str) -> str | None:
    """What a benchmark wrote in a database it filled (kv `key`), to reuse it when it
    matches; None when the file is not such a database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


async def stop_process(process: asyncio.subprocess.Process | None) -> None:
    """SIGTERM, as systemd stops the bot; SIGKILL if it has not ended 30 s later."""
    if process is None or process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()
