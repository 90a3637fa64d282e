"""Writes a Caf's public directory to the public folder (`DIRECTORY_DIR`), which the web server
serves as it is (deploy/README.md): the JSON and the ICS of bot/exports/directory.py, and the
national standard's CSV of bot/exports/directory_national.py.

A row is due a few seconds after each change of the Caf's sites, hours or closures (bot/
services/directory.py `request_publish`, called with each such change's audit record), at
every start-up, and at each of the Caf's midnights, when the hours in force and the coming
closures move on.

Each file is replaced atomically: written to a temporary file in the same folder, flushed to
the disk, then renamed over the old one, so that the web server never serves half a file.
The files are public (mode 0644, and 0755 for a folder the job creates), whatever the
process's umask (0027 under systemd).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from bot.clock import Clock
from bot.services import directory
from storage import cafs
from storage.db import Database
from storage.scheduled import ScheduledJob

KIND = directory.PUBLISH_KIND
PUBLIC_MODE = 0o644
PUBLIC_FOLDER_MODE = 0o755


def write_atomically(folder: Path, name: str, content: bytes) -> Path:
    """`folder/name` replaced at once by `content` (temporary file, fsync, os.replace)."""
    if not folder.is_dir():
        folder.mkdir(parents=True)
        folder.chmod(PUBLIC_FOLDER_MODE)  # the web server reads it, whatever the umask
    target = folder / name
    handle, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    temporary = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        temporary.chmod(PUBLIC_MODE)
        temporary.replace(target)  # os.replace: atomic in one folder
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    # The rename itself is durable once the folder is flushed too.
    folder_handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_handle)
    finally:
        os.close(folder_handle)
    return target


async def run(job: ScheduledJob, *, db: Database, clock: Clock, folder: Path | None) -> None:
    if folder is None:  # publishing is off (DIRECTORY_DIR empty)
        return
    now = clock.now()
    caf_id = int(job.payload["caf"])
    for made in await directory.published_files(db, caf_id, now):
        await asyncio.to_thread(write_atomically, folder, made.filename, made.content)
    caf = await cafs.get(db, caf_id)
    if caf is not None:
        await directory.publish_next_midnight(db, caf, now)


async def ensure_scheduled(db: Database, clock: Clock, folder: Path | None) -> None:
    """At start-up, with publishing on: every Caf's files written at once."""
    if folder is not None:
        await directory.publish_all_now(db, clock.now())
