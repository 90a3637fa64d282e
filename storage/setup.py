"""Opening the database the way the bot and the command line both need it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from storage import taxonomy
from storage.db import Database, connect


async def open_storage(path: Path | str) -> Database:
    """Opens, migrates, and syncs the taxonomy (options are data defined in code); `path`
    is a SQLite file or a `postgresql://…` address (storage/db.py `connect`)."""
    db = connect(path)
    await db.open(migrate=True)
    try:
        await taxonomy.sync(db)
    except BaseException:
        await db.close()
        raise
    return db


@asynccontextmanager
async def storage(path: Path | str) -> AsyncIterator[Database]:
    db = await open_storage(path)
    try:
        yield db
    finally:
        await db.close()
