"""The audit log as a coordinator reads it: their Caf's part, newest first, a page at a time.

Every use case writes its own record (storage.audit.record) in its own transaction; this
module is the reading side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.domain.models import Caf
from storage import audit
from storage.audit import AuditLine
from storage.db import Database

PAGE_SIZE = 10


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
