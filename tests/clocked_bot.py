"""`python -m tests.clocked_bot CLOCK_FILE COMMAND …`: `python -m bot COMMAND …` on the
tests' clock.

A bot the suite starts as a child process (crash tests, exports, benchmarks) must live on the
same clock as the test that made its data, the fixed `START` of `tests/conftest.py`, never on
the machine's: an invitation made at `START` for 7 days must not have expired in the child
because the suite runs a week, or five years, later.

The clock file holds one ISO 8601 instant. The child's time is that instant when the child
first reads it, and runs on from there at the pace of `time.monotonic()`, whatever the
machine's date (under `faketime`, every child's wall clock restarts at the faked date, so a
wall-clock offset would be wrong by however long the parent had run). Writing another
instant into the file moves the child's time there; `ChildClock` is the parent's side.

Production cannot pick this clock up by accident: `python -m bot` reads no clock from its
environment or its files; only this module, which is not part of the installed package,
hands one to `bot.cli.main`.

The child also tells the fake Bot API each update it has handled (`ReportingProcessor`), so
a test waits for exactly that (`FakeBotApi.settle_reported`) rather than for a pause in the
bot's calls, which a loaded machine stretches.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.processing import TimedUpdateProcessor
from bot.sandbox.bot_api import REPORT_PATH


class FileClock:
    """The child's side: the file's instant, then running on."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen = self._read()  # a missing or malformed file fails the start, loudly
        self._instant = datetime.fromisoformat(self._seen[0]).astimezone(UTC)
        self._anchor = time.monotonic()

    def _read(self) -> tuple[str, int]:
        return self._path.read_text().strip(), self._path.stat().st_mtime_ns

    def now(self) -> datetime:
        key = self._read()
        if key != self._seen:
            self._seen = key
            self._instant = datetime.fromisoformat(key[0]).astimezone(UTC)
            self._anchor = time.monotonic()
        return self._instant + timedelta(seconds=time.monotonic() - self._anchor)


class ChildClock:
    """The parent's side: writes the instant a child starts from, and knows where it is now.

    `now()` is never behind the clock of a child started from this file, so a restarted child
    (`restart_point()`) carries on from where its predecessor was killed, never earlier.
    """

    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        self.set(start)

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("ChildClock needs an aware datetime")
        self._instant = instant.astimezone(UTC)
        self._written = time.monotonic()
        # Written aside then renamed: a child reading at that moment sees one instant or
        # the other, never an empty file.
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(self._instant.isoformat())
        partial.replace(self.path)

    def now(self) -> datetime:
        return self._instant + timedelta(seconds=time.monotonic() - self._written)

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)

    def restart_point(self, floor: datetime) -> None:
        """Before a (re)start: from `floor` (the test's clock) or later, never back in time."""
        self.set(max(self.now(), floor))


class ReportingProcessor(TimedUpdateProcessor):
    """The bot's own update processor, telling the fake Bot API of each update handled."""

    def __init__(self, api_base_url: str) -> None:
        super().__init__()
        origin = urllib.parse.urlsplit(api_base_url)
        self._report_url = f"{origin.scheme}://{origin.netloc}{REPORT_PATH}"
        self.listeners.append(self._report)

    def _report(self, update: object, elapsed: float) -> None:
        update_id = getattr(update, "update_id", None)
        if not isinstance(update_id, int):
            return
        request = urllib.request.Request(
            self._report_url,
            data=json.dumps({"update_id": update_id}).encode(),
            headers={"Content-Type": "application/json"},
        )
        # Blocking on purpose, and on 127.0.0.1: the report is out before this person's next
        # update is let in (the processor calls its listeners before that).
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=5):
            pass


def main(argv: list[str]) -> int:
    from bot.cli import main as bot_main

    if len(argv) < 1:
        print("usage : python -m tests.clocked_bot CLOCK_FILE COMMANDE …", file=sys.stderr)
        return 2
    api = os.environ.get("TELEGRAM_API_BASE_URL", "")
    processor = ReportingProcessor(api) if api.startswith("http://127.0.0.1:") else None
    return bot_main(argv[1:], clock=FileClock(Path(argv[0])), processor=processor)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
