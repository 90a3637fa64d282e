"""/annuler: whatever a person had half done is dropped, and nothing of it is kept.

The typed answer they were expected to give, the opening hours being edited and the yearly
visit being recorded go in one transaction. A visit being logged (📝) is the visit flow's:
its message is edited to say so, which conversations/visit.py does.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Member
from storage import hours, pending, site_reviews
from storage.db import Database


async def drop(db: Database, member: Member, now: datetime) -> bool:
    """True when there was something to drop."""
    person_id = member.person.id
    async with db.transaction() as tx:
        dropped = [
            await pending.clear(tx, person_id),
            await hours.drop_draft(tx, person_id),
            await site_reviews.drop_draft(tx, person_id, now),
        ]
    return any(dropped)
