"""📚 Documentation (Article 3): the links and files a Caf's coordinators keep for their sites.

Everyone of the Caf reads the list; its coordinators (`EDIT`, their "manage the network"
right) add, reorder and remove items, each change audit-logged in its own transaction. An
item is reached by id only within the person's own Caf.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.documents import Direction, Document, FileKind, url_problem
from bot.domain.models import Member
from bot.domain.permissions import Action, decide
from bot.services import audit
from bot.ui.screens.documentation import Card, Shelf
from storage import documents as store
from storage import pending
from storage.db import Conn, Database

# Who keeps the list: the Caf's coordinators, through their "manage the network" right.
EDIT = Action.MANAGE_NETWORK


class Unknown(LookupError):
    """An id that names no item of this Caf, now or before: forged, or another Caf's."""


class Removed(Exception):
    """The item was this Caf's and has been removed (a double tap, another coordinator)."""


class BadUrl(ValueError):
    """A link that is not a web address a button can open; `problem` says why."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class Moved:
    card: Card
    moved: bool  # False when it was already first (up) or last (down)


@dataclass(frozen=True)
class Added:
    document: Document
    shelf: Shelf


def is_editor(member: Member) -> bool:
    return decide(member.actor, EDIT) is None


async def shelf(db: Conn, member: Member) -> Shelf:
    items = await store.list_for_caf(db, member.caf.id)
    return Shelf(member.caf, items, is_editor(member))


async def card(db: Database, member: Member, document_id: int) -> Card:
    """The item of this Caf; `Removed` if this Caf removed it, `Unknown` otherwise."""
    return await _card(db, member, await _own(db, member, document_id))


async def move(
    db: Database, member: Member, document_id: int, direction: Direction, now: datetime
) -> Moved:
    """Swaps the item with its neighbour (nothing when it is already at that end)."""
    async with db.transaction() as tx:
        document = await _own(tx, member, document_id)
        moved = await store.move(tx, document.id, direction)
        if moved is not None:
            details = {"direction": direction.value, "position": moved.position}
            await audit.record(tx, member, "document.moved", now, _on(moved), details=details)
        return Moved(await _card(tx, member, moved or document), moved is not None)


async def remove(db: Database, member: Member, document_id: int, now: datetime) -> Shelf:
    """Takes the item off the list (audit-logged by the repository: the log is its tombstone);
    returns the list without it."""
    async with db.transaction() as tx:
        document = await _own(tx, member, document_id)
        await store.remove(tx, document.id, actor_id=member.person.id, now=now)
    return await shelf(db, member)


async def add_link(db: Database, member: Member, title: str, url: str, now: datetime) -> Added:
    """Appends a link; `BadUrl` if it is not a web address a button can open."""
    problem = url_problem(url)
    if problem is not None:
        raise BadUrl(problem)
    return await _add(db, member, title, now, url=url)


async def add_file(
    db: Database,
    member: Member,
    title: str,
    *,
    file_id: str,
    kind: FileKind,
    name: str | None,
    now: datetime,
) -> Added:
    """Appends a file, kept as Telegram's `file_id` only."""
    return await _add(db, member, title, now, file_id=file_id, file_kind=kind, file_name=name)


async def _add(
    db: Database,
    member: Member,
    title: str,
    now: datetime,
    *,
    url: str | None = None,
    file_id: str | None = None,
    file_kind: FileKind | None = None,
    file_name: str | None = None,
) -> Added:
    async with db.transaction() as tx:
        document = await store.add(
            tx,
            caf_id=member.caf.id,
            title=title,
            url=url,
            file_id=file_id,
            file_kind=file_kind,
            file_name=file_name,
            created_by=member.person.id,
            now=now,
        )
        await pending.clear(tx, member.person.id)
        kind = "link" if url is not None else str(file_kind)
        await audit.record(tx, member, "document.added", now, _on(document), details={"kind": kind})
    return Added(document, await shelf(db, member))


async def _own(conn: Conn, member: Member, document_id: int) -> Document:
    document = await store.get(conn, document_id)
    if document is not None and document.caf_id == member.caf.id:
        return document
    if document is None and await store.was_removed(conn, member.caf.id, document_id):
        raise Removed(document_id)
    raise Unknown(document_id)


async def _card(conn: Conn, member: Member, document: Document) -> Card:
    items = await store.list_for_caf(conn, member.caf.id)
    index = next((i for i, d in enumerate(items) if d.id == document.id), 0)
    return Card(document, index, len(items), is_editor(member))


def _on(document: Document) -> tuple[str, int]:
    """What the audit records of an item are about."""
    return ("document", document.id)
