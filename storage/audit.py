"""The audit log: who did what, when, to what. Coordinators read their Caf's part of it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.models import AuditEntry
from storage.db import Conn
from storage.timefmt import to_db


async def record(
    conn: Conn,
    *,
    at: datetime,
    action: str,
    actor_id: int | None,
    caf_id: int | None,
    target_type: str | None = None,
    target_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, actor_id, caf_id, action, target_type, target_id, details)"
        " VALUES (:at, :actor, :caf, :action, :ttype, :tid, :details)",
        {
            "at": to_db(at),
            "actor": actor_id,
            "caf": caf_id,
            "action": action,
            "ttype": target_type,
            "tid": target_id,
            "details": json.dumps(details, ensure_ascii=False) if details else None,
        },
    )


async def list_for_caf(
    conn: Conn, caf_id: int, *, limit: int = 20, offset: int = 0
) -> list[AuditEntry]:
    rows = await conn.fetch_all(
        "SELECT * FROM audit_log WHERE caf_id = :caf ORDER BY id DESC LIMIT :limit OFFSET :offset",
        {"caf": caf_id, "limit": limit, "offset": offset},
    )
    return [AuditEntry.model_validate(dict(row)) for row in rows]


class AuditLine(AuditEntry):
    actor_name: str | None


async def page_for_caf(
    conn: Conn, caf_id: int, *, limit: int, offset: int
) -> tuple[list[AuditLine], int]:
    """One page of the Caf's audit log, newest first, with the actors' names; and the total."""
    rows = await conn.fetch_all(
        "SELECT a.*, p.display_name AS actor_name FROM audit_log a"
        " LEFT JOIN people p ON p.id = a.actor_id WHERE a.caf_id = :caf"
        " ORDER BY a.id DESC LIMIT :limit OFFSET :offset",
        {"caf": caf_id, "limit": limit, "offset": offset},
    )
    total = int(
        await conn.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE caf_id = :caf", {"caf": caf_id}
        )
    )
    return [AuditLine.model_validate(dict(row)) for row in rows], total
