"""Jobs for bot/offload.py's child process in tests: each misbehaves in its own way.

Top-level functions of a module with light imports, as the child imports it to find them.
Those that take `pid_file` write the child's pid there first, so a test can check that the
process is gone afterwards (a zombie still has its /proc entry).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("tests.render_jobs")


def exists(pid: int | str) -> bool:
    """Whether a process is running or a zombie (both still have a /proc entry)."""
    return Path(f"/proc/{pid}").exists()


def noted_exists(pid_file: Path) -> bool:
    """Whether the child whose pid a job noted in `pid_file` still exists."""
    return exists(pid_file.read_text())


def _note_pid(pid_file: Path | None) -> None:
    if pid_file is not None:
        pid_file.write_text(str(os.getpid()))


def echo(value: Any, *, noise: bool = False) -> tuple[int, Any]:
    """The child's pid and `value`; with `noise`, prints and logs on the way."""
    if noise:
        print("a stray line on stdout")
        sys.stdout.flush()
        log.info("not forwarded: below WARNING")
        log.warning("logo ignoré, %s illisible", "caf.png")
    return os.getpid(), value


def what_it_was_given() -> tuple[dict[str, str], bytes]:
    """The child's environment and its command line, as /proc shows it to anyone."""
    return dict(os.environ), Path("/proc/self/cmdline").read_bytes()


def fail(*args: Any, **kwargs: Any) -> bytes:
    raise ValueError("a renderer's own error")


def killed(*args: Any, pid_file: Path | None = None, **kwargs: Any) -> bytes:
    """The child killed from outside (the OOM killer would do the same)."""
    _note_pid(pid_file)
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def stuck(*args: Any, pid_file: Path | None = None, **kwargs: Any) -> bytes:
    _note_pid(pid_file)
    time.sleep(600)
    raise AssertionError("unreachable")


def allocate(megabytes: int) -> int:
    """Touches `megabytes` MB in the child; returns how many bytes."""
    block = b"x" * (megabytes * 1024 * 1024)
    return len(block)
