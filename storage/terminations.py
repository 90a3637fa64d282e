"""Notices of termination (Article 11): recorded, listed, withdrawn, taken effect."""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.termination import Party, Termination
from storage.db import Conn, Tx
from storage.timefmt import date_to_db, to_db


async def record(
    conn: Conn,
    *,
    partner_id: int,
    by_party: Party,
    recorded_by: int | None,
    effective_on: date,
    reason: str,
    now: datetime,
) -> int:
    new_id = await conn.execute(
        "INSERT INTO terminations (partner_id, by_party, recorded_by, recorded_at,"
        " effective_on, reason) VALUES (:partner, :party, :by, :now, :on, :reason)",
        {
            "partner": partner_id,
            "party": by_party.value,
            "by": recorded_by,
            "now": to_db(now),
            "on": date_to_db(effective_on),
            "reason": reason,
        },
    )
    assert new_id is not None
    return int(new_id)


async def get(conn: Conn, termination_id: int) -> Termination | None:
    row = await conn.fetch_one("SELECT * FROM terminations WHERE id = :id", {"id": termination_id})
    return Termination.model_validate(dict(row)) if row else None


async def standing(conn: Conn, partner_id: int) -> Termination | None:
    """The site's notice neither withdrawn nor taken effect, if any."""
    row = await conn.fetch_one(
        "SELECT * FROM terminations WHERE partner_id = :partner"
        " AND cancelled_at IS NULL AND done_at IS NULL",
        {"partner": partner_id},
    )
    return Termination.model_validate(dict(row)) if row else None


async def standing_for_caf(conn: Conn, caf_id: int) -> dict[int, Termination]:
    """Every standing notice of the Caf's sites, by site."""
    rows = await conn.fetch_all(
        "SELECT t.* FROM terminations t JOIN partners p ON p.id = t.partner_id"
        " WHERE p.caf_id = :caf AND t.cancelled_at IS NULL AND t.done_at IS NULL",
        {"caf": caf_id},
    )
    found = [Termination.model_validate(dict(row)) for row in rows]
    return {t.partner_id: t for t in found}


async def cancel(conn: Tx, termination_id: int, by: int | None, now: datetime) -> bool:
    """Withdraws a standing notice; False if it was not standing any more."""
    changed = await conn.execute_count(
        "UPDATE terminations SET cancelled_at = :now, cancelled_by = :by"
        " WHERE id = :id AND cancelled_at IS NULL AND done_at IS NULL",
        {"now": to_db(now), "by": by, "id": termination_id},
    )
    return changed > 0


async def mark_done(conn: Tx, termination_id: int, now: datetime) -> bool:
    """The notice took effect; False if it was not standing any more."""
    changed = await conn.execute_count(
        "UPDATE terminations SET done_at = :now"
        " WHERE id = :id AND cancelled_at IS NULL AND done_at IS NULL",
        {"now": to_db(now), "id": termination_id},
    )
    return changed > 0
