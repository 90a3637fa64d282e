"""/mesdonnees and erasure: what the bot holds about a person, shown, downloaded, erased.

storage/personal_data.py knows every column that names a person and what an erasure does to
it; here are the use cases around it. The download is made on the spot and kept nowhere.
An erasure is a coordinator's act on a person of their own Caf (never themselves), audited
in the same transaction; telling the person is the caller's, directly (an outbox row would
keep the chat id of someone just erased).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.models import Member, Person
from bot.domain.personal_data import Summary
from bot.services import audit, links
from bot.services.network import NotTheirs, own_person
from bot.ui.render import render
from storage import invitations, personal_data
from storage.db import Conn, Database

TITLE = "Vos données dans l'assistant des Points numériques Caf"


class AlreadyErased(Exception):
    """The person's data were erased already (a double tap, another coordinator)."""


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes
    day: date  # in the person's Caf's zone


async def wrong_codes(db: Database, telegram_user_id: int) -> list[datetime]:
    """A stranger's wrong invitation codes of the last day: all the bot holds about them."""
    return await invitations.failures_of(db, telegram_user_id)


async def summary(db: Database, member: Member) -> Summary:
    """What /mesdonnees shows: the person, and how many rows of each kind name them."""
    async with db.report_read() as conn:
        found = await personal_data.summary(conn, member.person.id)
    assert found is not None
    return found


async def download(db: Database, member: Member, now: datetime, months: int) -> Download:
    """Everything the bot holds about the person, as a JSON document made for them now.

    `months`: the retention of free texts, which the document explains."""
    async with db.report_read() as conn:
        data = await personal_data.export(conn, member.person.id)
    assert data is not None
    document = {
        "document": TITLE,
        "genere_le": now.isoformat(timespec="seconds"),
        "explication": render("mydata_json_note", months=months),
        **data,
    }
    content = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    day = now.astimezone(ZoneInfo(member.caf.timezone)).date()
    return Download(f"mes-donnees-{day.isoformat()}.json", content, day)


async def _erasable(conn: Conn, by: Member, person_id: int) -> Person:
    person = await own_person(conn, by, person_id)
    if person.id == by.person.id:
        raise NotTheirs("one does not erase oneself")
    if person.telegram_user_id is None:
        raise AlreadyErased(person.id)
    return person


async def erasable(db: Database, by: Member, person_id: int) -> Person:
    """The person this coordinator may erase now (to confirm it)."""
    return await _erasable(db, by, person_id)


async def erase(db: Database, by: Member, person_id: int, now: datetime) -> Person:
    """Erases a person of the coordinator's Caf, audited; returns them as they were (their
    Telegram account is the one to tell)."""
    async with db.transaction() as tx:
        person = await _erasable(tx, by, person_id)
        erased = await personal_data.erase(tx, person.id, now)
        await links.cancel_made_by(tx, by, person.id, now)  # their links go with them
        assert erased  # read under the same lock: not erased in between
        details = {"role": person.role.value}
        await audit.record(tx, by, "person.erased", now, ("person", person.id), details=details)
    return person
