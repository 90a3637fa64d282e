"""Who is behind an update: the registered person, read from the database every time."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Member
from storage import outbox, people
from storage.db import Database


async def by_telegram_id(db: Database, telegram_user_id: int, now: datetime) -> Member | None:
    """The person with this Telegram account, noted as seen now; None for a stranger."""
    member = await people.member_by_telegram_id(db, telegram_user_id)
    if member is not None:
        await people.touch(db, member.person, now)
        if member.person.unreachable_since is not None:
            # They write to the bot again: messages can reach them once more.
            await outbox.clear_unreachable(db, member.person.id)
    return member
