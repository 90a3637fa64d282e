"""📚 Documentation: the links and files a Caf's coordinators keep for their network.

Each Caf's items carry positions 1, 2, 3… without gaps: adding appends, moving swaps two
neighbours, removing closes the gap. The writes that touch several rows take a `Tx`, so the
caller's transaction holds them together with their audit entry.

A file item is a Telegram `file_id` only (the file itself is never downloaded). The schema
has no column for the kind of file, so the file name tells it: a photo has none, a document
always has one (Telegram's, or "document" when the client sent none). The model, `Document`,
is bot/domain/documents.py (re-exported here).

Ids are never reused: SQLite would hand the highest id out again once its row is deleted,
and a stale button naming it would then reach a newer item. Removals are audit-logged in the
same transaction as the delete (by `remove` itself), so the audit log is the tombstone `add`
skips past and `was_removed` reads.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.documents import Direction, Document, FileKind
from storage import audit
from storage.db import Conn, Tx
from storage.timefmt import to_db

REMOVED = "document.removed"
DEFAULT_FILE_NAME = "document"


async def list_for_caf(conn: Conn, caf_id: int) -> list[Document]:
    rows = await conn.fetch_all(
        "SELECT * FROM documents WHERE caf_id = :caf ORDER BY position, id", {"caf": caf_id}
    )
    return [Document.model_validate(dict(row)) for row in rows]


async def get(conn: Conn, document_id: int) -> Document | None:
    row = await conn.fetch_one("SELECT * FROM documents WHERE id = :id", {"id": document_id})
    return Document.model_validate(dict(row)) if row else None


async def add(
    tx: Tx,
    *,
    caf_id: int,
    title: str,
    url: str | None = None,
    file_id: str | None = None,
    file_kind: FileKind | None = None,
    file_name: str | None = None,
    created_by: int | None,
    now: datetime,
) -> Document:
    """Appends a link (`url`) or a file (`file_id` and its kind) at the end of the Caf's list."""
    if (url is None) == (file_id is None):
        raise ValueError("a document is either a link or a file")
    if file_id is not None:
        if file_kind is None:
            raise ValueError("a file needs its kind")
        file_name = None if file_kind is FileKind.PHOTO else (file_name or DEFAULT_FILE_NAME)
    else:
        file_name = None
    document_id = await tx.execute(
        "INSERT INTO documents (id, caf_id, position, title, url, file_id, file_name,"
        " created_by, created_at) VALUES ("
        " 1 + MAX(COALESCE((SELECT MAX(id) FROM documents), 0),"
        "         COALESCE((SELECT MAX(target_id) FROM audit_log"
        "                   WHERE action = :removed AND target_type = 'document'), 0)),"
        " :caf,"
        " 1 + COALESCE((SELECT MAX(position) FROM documents WHERE caf_id = :caf), 0),"
        " :title, :url, :file_id, :file_name, :by, :now)",
        {
            "removed": REMOVED,
            "caf": caf_id,
            "title": title,
            "url": url,
            "file_id": file_id,
            "file_name": file_name,
            "by": created_by,
            "now": to_db(now),
        },
    )
    document = await get(tx, int(document_id or 0))
    assert document is not None
    return document


async def move(tx: Tx, document_id: int, direction: Direction) -> Document | None:
    """Swaps the item with its neighbour; None when it is already first (up) or last (down)."""
    if direction is Direction.UP:
        sql = (
            "SELECT id, position FROM documents WHERE caf_id = :caf AND position < :pos"
            " ORDER BY position DESC LIMIT 1"
        )
    else:
        sql = (
            "SELECT id, position FROM documents WHERE caf_id = :caf AND position > :pos"
            " ORDER BY position LIMIT 1"
        )
    current = await get(tx, document_id)  # its position now, inside the transaction
    if current is None:
        return None
    neighbour = await tx.fetch_one(sql, {"caf": current.caf_id, "pos": current.position})
    if neighbour is None:
        return None
    await tx.execute(
        "UPDATE documents SET position"
        " = CASE id WHEN :a THEN CAST(:pos_b AS INTEGER) ELSE CAST(:pos_a AS INTEGER) END"
        " WHERE id IN (:a, :b)",
        {
            "a": current.id,
            "b": neighbour["id"],
            "pos_a": current.position,
            "pos_b": neighbour["position"],
        },
    )
    return await get(tx, current.id)


async def remove(
    tx: Tx, document_id: int, *, actor_id: int | None, now: datetime
) -> Document | None:
    """Deletes the item, closes the gap and logs the removal; None when it was already gone.

    The audit entry is written here, not by the caller, because it is also the tombstone
    that keeps the id from being reused.
    """
    row = await tx.fetch_one(
        "DELETE FROM documents WHERE id = :id RETURNING *", {"id": document_id}
    )
    if row is None:
        return None
    removed = Document.model_validate(dict(row))
    await tx.execute(
        "UPDATE documents SET position = position - 1 WHERE caf_id = :caf AND position > :pos",
        {"caf": removed.caf_id, "pos": removed.position},
    )
    await audit.record(
        tx,
        at=now,
        action=REMOVED,
        actor_id=actor_id,
        caf_id=removed.caf_id,
        target_type="document",
        target_id=removed.id,
        details={"title": removed.title},
    )
    return removed


async def was_removed(conn: Conn, caf_id: int, document_id: int) -> bool:
    """True when this Caf once had this item and removed it (a stale button, a double tap)."""
    found = await conn.fetch_value(
        "SELECT 1 FROM audit_log WHERE caf_id = :caf AND action = :removed"
        " AND target_type = 'document' AND target_id = :id LIMIT 1",
        {"caf": caf_id, "removed": REMOVED, "id": document_id},
    )
    return found is not None
