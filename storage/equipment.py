"""The site's equipment (Article 8): ``of_site(conn, partner_id) -> dict[str, bool]`` (item
code → present, only the items told), ``declare(conn, partner_id, item, present, now)``, and
``missing_by_site(conn, caf_id, partner_id=None) -> dict[int, tuple[str, ...]]``: the labels of
the items each site of the Caf lists as missing, in the list's order (compliance)."""

from __future__ import annotations

from datetime import datetime

from bot.domain.equipment import CODES, EQUIPMENT
from storage.db import Conn
from storage.timefmt import to_db


async def of_site(conn: Conn, partner_id: int) -> dict[str, bool]:
    rows = await conn.fetch_all(
        "SELECT item, present FROM site_equipment WHERE partner_id = :p", {"p": partner_id}
    )
    return {row["item"]: bool(row["present"]) for row in rows if row["item"] in CODES}


async def declare(conn: Conn, partner_id: int, item: str, present: bool, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO site_equipment (partner_id, item, present, updated_at)"
        " VALUES (:p, :item, :present, :now) ON CONFLICT (partner_id, item) DO UPDATE SET"
        " present = excluded.present, updated_at = excluded.updated_at",
        {"p": partner_id, "item": item, "present": int(present), "now": to_db(now)},
    )


async def missing_by_site(
    conn: Conn, caf_id: int, partner_id: int | None = None
) -> dict[int, tuple[str, ...]]:
    rows = await conn.fetch_all(
        "SELECT e.partner_id, e.item FROM site_equipment e JOIN partners p ON p.id = e.partner_id"
        " WHERE p.caf_id = :caf AND (p.id = :p OR :p IS NULL) AND e.present = 0",
        {"caf": caf_id, "p": partner_id},
    )
    found: dict[int, set[str]] = {}
    for row in rows:
        found.setdefault(int(row["partner_id"]), set()).add(row["item"])
    return {
        site: labels
        for site, items in found.items()
        if (labels := tuple(item.label for item in EQUIPMENT if item.code in items))
    }
