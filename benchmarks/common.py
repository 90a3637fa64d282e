"""What the issue #8 benchmarks share: the machine and its load, peak RSS, percentiles, the
rate limiter raised for a measurement, and their sections of benchmarks/README.md.

`benchmarks.indicators` keeps its own copies of some of these (it came first); the
machine's description and the peak RSS are taken from it so that every section of the
README reads the same way.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path

from telegram.ext import AIORateLimiter

from benchmarks.indicators import README, README_HEAD, _machine, _uptime

ROOT = Path(__file__).resolve().parent.parent

#: AIORateLimiter's overall cap for a measurement (PTB's default, used by bot/app.py, is
#: Telegram's 30 messages a second). Still a limiter, so its cost per call stays measured.
RAISED_OVERALL_RATE = 1_000_000


def machine() -> str:
    return _machine()


def uptime() -> str:
    return _uptime()


def load() -> float:
    return os.getloadavg()[0]


class RaisedRateLimiter(AIORateLimiter):
    """`AIORateLimiter` as bot/app.py builds it (`max_retries=3`, group limits untouched),
    with the overall cap raised. There is no setting for that cap: a benchmark that runs the
    real wiring puts this class in `bot.app`'s namespace before `build_application`."""

    def __init__(
        self, overall_max_rate: float = RAISED_OVERALL_RATE, *args: object, **kwargs: object
    ) -> None:
        super().__init__(overall_max_rate, *args, **kwargs)  # type: ignore[arg-type]


def raise_rate_limit() -> None:
    """For the bot built in this process (call before `build_application`)."""
    import bot.app

    bot.app.AIORateLimiter = RaisedRateLimiter  # type: ignore[misc]


def proc_status_kib(pid: int | str = "self") -> dict[str, int]:
    """The sizes of /proc/PID/status (VmHWM, VmRSS, RssAnon, RssFile…), in KiB; {} if the
    process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {line.split(":")[0]: int(line.split()[1]) for line in lines if line.endswith(" kB")}


SNIFFIO_VARIABLE = "BENCHMARK_STUB_SNIFFIO"


def stub_sniffio() -> None:
    """For `--stub-sniffio` (a diagnosis, set through SNIFFIO_VARIABLE): httpcore tries
    `import sniffio` whenever it makes a lock; the package is not installed (nothing requires
    it any more), so every try is a failed import that scans sys.path. A stub answering
    "asyncio", as sniffio would here, shows what that costs."""
    if os.environ.get(SNIFFIO_VARIABLE):
        import sys
        import types

        stub = types.ModuleType("sniffio")
        stub.current_async_library = lambda: "asyncio"  # type: ignore[attr-defined]
        sys.modules.setdefault("sniffio", stub)


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
