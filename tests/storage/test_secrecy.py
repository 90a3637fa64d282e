"""people.commit_secrecy (Article 5): a commitment is noted once per version of the
statement, with its moment; the member read on every update carries it."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.domain.secrecy import SECRECY_VERSION
from storage import people
from storage.db import Database
from tests.storage.world import Staff

NEXT = SECRECY_VERSION + 1


async def test_a_commitment_is_noted_once_per_version(
    db: Database, clock: ManualClock, staff: Staff
) -> None:
    agent = staff.agent
    assert (
        agent.secrecy_version == SECRECY_VERSION and agent.committed
    )  # the world's people committed
    clock.advance(days=3)
    assert (
        await people.commit_secrecy(db, agent.id, SECRECY_VERSION, clock.now()) is False
    )  # a double tap
    unchanged = await people.get(db, agent.id)
    assert unchanged is not None and unchanged.secrecy_committed_at == agent.secrecy_committed_at

    assert await people.commit_secrecy(db, agent.id, NEXT, clock.now()) is True  # a new text
    member = await people.member(db, agent.id)
    assert member is not None
    assert (
        member.person.secrecy_version == NEXT and member.person.secrecy_committed_at == clock.now()
    )
    assert not member.actor.committed  # not the current text
    other = await people.get(db, staff.albert_agent.id)
    assert other is not None and other.secrecy_version == SECRECY_VERSION  # nobody else's changed
