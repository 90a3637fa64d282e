"""The text a person is expected to type next, kept in the database so a restart keeps it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.models import PendingInput
from storage.db import Conn
from storage.timefmt import to_db


async def expect(
    conn: Conn, person_id: int, kind: str, context: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO pending_inputs (person_id, kind, context, created_at)"
        " VALUES (:p, :kind, :context, :now) ON CONFLICT (person_id) DO UPDATE SET"
        " kind = excluded.kind, context = excluded.context, created_at = excluded.created_at",
        {
            "p": person_id,
            "kind": kind,
            "context": json.dumps(context, ensure_ascii=False),
            "now": to_db(now),
        },
    )


async def get(conn: Conn, person_id: int) -> PendingInput | None:
    row = await conn.fetch_one(
        "SELECT * FROM pending_inputs WHERE person_id = :p", {"p": person_id}
    )
    if row is None:
        return None
    data = dict(row)
    data["context"] = json.loads(data["context"])
    return PendingInput.model_validate(data)


async def clear(conn: Conn, person_id: int) -> bool:
    row = await conn.fetch_one(
        "DELETE FROM pending_inputs WHERE person_id = :p RETURNING person_id", {"p": person_id}
    )
    return row is not None
