"""Charts, workbooks and certificates are made in a short-lived child process.

The bot runs for months. Drawing the first chart imports matplotlib (+51 MB), the first
Excel export openpyxl (+18 MB), the first certificate reportlab and Pillow (+6 MB), and none
of it is given back: modules stay imported and CPython keeps its arenas (benchmarks/README.md,
« Peak RSS of the running bot »). So the bot does the counting itself (SQL, a few plain
figures) and `run` hands the rendering to a fresh Python process, which exits, memory and
all, as soon as the bytes are back.

Decisions:

* A new interpreter per job (`sys.executable -c …`), not a fork: a fork would start from the
  bot's 90 MB and carry its sockets. It gets the bot's `sys.path` and environment (the
  MPLCONFIGDIR bot/charts.py chose, so the font cache is built once) less the variables
  named like a secret (the bot token, the webhook secret): it needs none, and nothing of
  ours is on its command line either.
* No process kept warm: each request pays an interpreter's start (0.07 s) and its library's
  import (about half a second for matplotlib; benchmarks/README.md), the price of giving
  the memory back. Several people's updates are handled at once (bot/processing.py), so
  at most `MAX_CHILDREN` children run at a time and the others wait their turn: a few
  exports asked together cost a few children's memory, not eight.
* The job is a function of a module that is cheap to import (bot.charts,
  bot.exports.indicators, bot.exports.certificate load their heavy library inside the
  functions), given plain arguments: it and they go to the child pickled on stdin, the
  result comes back pickled on stdout. The child's own stdout is pointed at its stderr
  first, so a stray print cannot spoil the result.
* What the child logs at WARNING and above is replayed in the bot's log, through the bot's
  handlers (and so its token filter), as if logged here.
* A child that raises, dies (killed, out of memory) or takes more than `TIMEOUT_SECONDS`
  raises `RenderFailed` here: the update's handler fails and the person gets the usual
  French « incident technique », with nothing recorded half-way. The child is killed and
  reaped whatever happens, a cancelled handler included: no process is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import re
import resource
import sys
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

__all__ = ["TIMEOUT_SECONDS", "RenderFailed", "run"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

TIMEOUT_SECONDS = 60.0
MAX_CHILDREN = 2
"""A Caf's 102-sheet workbook takes about a second: a minute only catches a stuck child."""
FORWARDED_LEVEL = logging.WARNING
STDERR_TAIL = 2_000  # characters of a dead child's stderr kept in the error
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY", re.IGNORECASE)

# Runs in the child: the bot's sys.path first, so that `bot` imports as it does in the bot.
_BOOTSTRAP = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from bot.offload import _child; _child()"
)


class RenderFailed(RuntimeError):
    """The child process gave no result: its job raised, it died, or it took too long."""


def _name(job: Callable[..., Any]) -> str:
    named = getattr(job, "func", job)  # a functools.partial: its function's name
    return f"{named.__module__}.{getattr(named, '__qualname__', type(named).__name__)}"


# One bound per event loop (each test runs its own loop; a bot has one).
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def run(job: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`job(*args, **kwargs)` in a child process of its own; its result, or `RenderFailed`."""
    slots = _SLOTS.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(MAX_CHILDREN))
    async with slots:
        return await _run(job, *args, **kwargs)


async def _run(job: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    name = _name(job)
    # Pickled here, so that an argument that cannot cross is a plain error in the bot.
    payload = pickle.dumps(sys.path) + pickle.dumps((job, args, kwargs))
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _BOOTSTRAP,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not SECRET_NAME.search(k)},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(payload), TIMEOUT_SECONDS)
    except TimeoutError:
        raise RenderFailed(f"{name} : pas de résultat après {TIMEOUT_SECONDS:g} s") from None
    finally:
        if process.returncode is None:  # timed out or cancelled: never leave it running
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    try:
        ok, value, peak_kib, records = pickle.loads(out)
    except Exception:
        stderr = err.decode(errors="replace")[-STDERR_TAIL:]
        raise RenderFailed(
            f"{name} : processus de rendu arrêté (code {process.returncode}) sans résultat"
            + (f"\n{stderr}" if stderr.strip() else "")
        ) from None
    for record in records:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)
    if not ok:
        raise RenderFailed(f"{name} a échoué dans le processus de rendu :\n{value}")
    log.info(
        "Rendu hors processus : %s en %.1f s, pic de mémoire %.0f Mo",
        name,
        time.monotonic() - began,
        peak_kib * 1024 / 1e6,
    )
    return cast(T, value)  # what `job` returned, unpickled


# ------------------------------------------------------------------------------ the child
class _Kept(logging.Handler):
    """Keeps the child's records, made picklable, to be replayed in the bot's log."""

    def __init__(self) -> None:
        super().__init__(FORWARDED_LEVEL)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)


def _child() -> None:
    """The child's main: read the job, run it, write (ok, result or traceback, peak, logs)."""
    result = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # prints and C libraries' output go to stderr, not into the result
    kept = _Kept()
    logging.getLogger().addHandler(kept)
    logging.getLogger().setLevel(FORWARDED_LEVEL)
    try:
        job, args, kwargs = pickle.load(sys.stdin.buffer)
        outcome: tuple[bool, Any] = (True, job(*args, **kwargs))
    except BaseException:  # SystemExit included: the bot must hear about it
        outcome = (False, traceback.format_exc())
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    try:
        data = pickle.dumps((*outcome, peak_kib, kept.records))
    except Exception:
        data = pickle.dumps((False, traceback.format_exc(), peak_kib, []))
    result.write(data)
    result.close()
