"""New agents whose arrival the Caf's coordinators have not been told of yet.

Agents who join within minutes of each other (a team through one link) are held here and
told in one notice (bot/services/signal_notices.py, bot/jobs/new_agents.py); each one's
training need is in the inbox from the start. A row is its training signal.
"""

from __future__ import annotations

from datetime import datetime

from storage.db import Conn
from storage.timefmt import to_db


async def hold(conn: Conn, caf_id: int, signal_id: int, now: datetime) -> tuple[int, datetime]:
    """Holds a new agent's training signal for the Caf's next notice; returns the first
    signal held for that notice and when it was held (this one, when it is the first)."""
    await conn.execute(
        "INSERT INTO new_agent_arrivals (signal_id, caf_id, held_at) VALUES (:signal, :caf, :now)"
        " ON CONFLICT (signal_id) DO NOTHING",
        {"signal": signal_id, "caf": caf_id, "now": to_db(now)},
    )
    row = await conn.fetch_one(
        "SELECT signal_id, held_at FROM new_agent_arrivals WHERE caf_id = :caf"
        " ORDER BY held_at, signal_id LIMIT 1",
        {"caf": caf_id},
    )
    assert row is not None
    return int(row["signal_id"]), datetime.fromisoformat(row["held_at"])


async def take(conn: Conn, caf_id: int) -> list[int]:
    """Every signal held for the Caf, in the order they were held, and none held any more:
    the caller tells of them in the same transaction."""
    rows = await conn.fetch_all(
        "DELETE FROM new_agent_arrivals WHERE caf_id = :caf RETURNING signal_id, held_at",
        {"caf": caf_id},
    )
    return [int(r["signal_id"]) for r in sorted(rows, key=lambda r: (r["held_at"], r["signal_id"]))]
