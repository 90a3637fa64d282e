"""The audit log: every use case writes its record here, in its own transaction; a
coordinator reads their Caf's part, newest first, a page at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.models import Caf, Member, Person
from bot.services import directory
from storage import audit
from storage.audit import AuditLine
from storage.db import Database, Tx

PAGE_SIZE = 10


async def record(
    tx: Tx,
    by: Member | Person | None,
    action: str,
    now: datetime,
    on: tuple[str, int] | None = None,
    *,
    caf_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Who did `action` on what (`on`: the target's type and id), in the use case's
    transaction. `by` is the member acting, a newcomer who has just joined, or None for the
    server's operator at the command line; the record is their Caf's unless `caf_id` names
    the one acted on."""
    if isinstance(by, Member):
        actor_id, own_caf = by.person.id, by.caf.id
    elif by is not None:
        actor_id, own_caf = by.id, by.caf_id
    else:
        actor_id, own_caf = None, None
    await audit.record(
        tx,
        at=now,
        action=action,
        actor_id=actor_id,
        caf_id=own_caf if caf_id is None else caf_id,
        target_type=on[0] if on else None,
        target_id=on[1] if on else None,
        details=details,
    )
    caf = own_caf if caf_id is None else caf_id
    if action in directory.PUBLISHED_ACTIONS and caf is not None:
        await directory.request_publish(tx, caf, now)  # the public directory, rewritten


@dataclass(frozen=True)
class Journal:
    entries: list[AuditLine]
    number: int  # from 0
    count: int  # at least 1


async def journal(db: Database, caf: Caf, page: int) -> Journal:
    """Page `page` of the Caf's log (the last one past the end)."""
    entries, total = await audit.page_for_caf(db, caf.id, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
    count = max(1, math.ceil(total / PAGE_SIZE))
    if page >= count:
        page = count - 1
        entries, total = await audit.page_for_caf(
            db, caf.id, limit=PAGE_SIZE, offset=page * PAGE_SIZE
        )
    return Journal(entries, page, count)
