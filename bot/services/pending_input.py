"""What a person is to type next (a label's reason, a site's name…), kept in the database so
that a restart between the question and the answer loses nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.models import PendingInput
from storage import pending
from storage.db import Database


async def expect(
    db: Database, person_id: int, kind: str, context: dict[str, Any], now: datetime
) -> None:
    await pending.expect(db, person_id, kind, context, now)


async def get(db: Database, person_id: int) -> PendingInput | None:
    return await pending.get(db, person_id)


async def clear(db: Database, person_id: int) -> bool:
    """Forgets any typed answer expected (a menu entry, /annuler); True if one was."""
    return await pending.clear(db, person_id)
