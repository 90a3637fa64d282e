"""Article 5: an agent or manager commits to professional secrecy, once per version of the
statement (bot/domain/secrecy.py); nothing else is offered to them before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import secrecy as rules
from bot.domain.models import Member
from bot.services import audit
from storage import people
from storage.db import Database


@dataclass(frozen=True)
class Committed:
    after: Member  # the person, committed: their menu is the whole one now
    again: bool  # they had already committed to this version (a double tap): nothing changed


async def commit(db: Database, member: Member, now: datetime) -> Committed:
    """Notes the commitment to the current statement, audited."""
    async with db.transaction() as tx:
        person = member.person
        done = await people.commit_secrecy(tx, person.id, rules.SECRECY_VERSION, now)
        if done:
            await audit.record(
                tx,
                member,
                "person.committed",
                now,
                on=("person", person.id),
                details={"version": rules.SECRECY_VERSION},
            )
        after = await people.member(tx, person.id)
    assert after is not None  # the person exists: they just tapped
    return Committed(after, again=not done)
