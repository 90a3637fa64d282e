"""Cafs: one deployment may serve several, each with its own settings."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Caf, ReportingPeriod
from storage.db import Conn
from storage.timefmt import to_db


class DuplicateCaf(Exception):
    pass


async def add(
    conn: Conn,
    *,
    name: str,
    period: ReportingPeriod,
    timezone: str,
    notify_chat_id: int | None,
    now: datetime,
) -> Caf:
    if await get_by_name(conn, name) is not None:
        raise DuplicateCaf(name)
    caf_id = await conn.execute(
        "INSERT INTO cafs (name, reporting_period, timezone, notify_chat_id, created_at)"
        " VALUES (:name, :period, :tz, :chat, :now)",
        {
            "name": name,
            "period": period.value,
            "tz": timezone,
            "chat": notify_chat_id,
            "now": to_db(now),
        },
    )
    caf = await get(conn, int(caf_id or 0))
    assert caf is not None
    return caf


async def get(conn: Conn, caf_id: int) -> Caf | None:
    row = await conn.fetch_one("SELECT * FROM cafs WHERE id = :id", {"id": caf_id})
    return Caf.model_validate(dict(row)) if row else None


async def get_by_name(conn: Conn, name: str) -> Caf | None:
    """Case-insensitive, accents included (SQLite's NOCASE folds ASCII only)."""
    wanted = name.strip().casefold()
    for caf in await list_all(conn):
        if caf.name.casefold() == wanted:
            return caf
    return None


async def list_all(conn: Conn) -> list[Caf]:
    rows = await conn.fetch_all("SELECT * FROM cafs ORDER BY name")
    return [Caf.model_validate(dict(row)) for row in rows]


async def update(
    conn: Conn,
    caf_id: int,
    *,
    period: ReportingPeriod | None = None,
    timezone: str | None = None,
    notify_chat_id: int | None = None,
    clear_notify_chat: bool = False,
    name: str | None = None,
) -> None:
    if period is not None:
        await conn.execute(
            "UPDATE cafs SET reporting_period = :v WHERE id = :id",
            {"v": period.value, "id": caf_id},
        )
    if timezone is not None:
        await conn.execute(
            "UPDATE cafs SET timezone = :v WHERE id = :id", {"v": timezone, "id": caf_id}
        )
    if notify_chat_id is not None or clear_notify_chat:
        await conn.execute(
            "UPDATE cafs SET notify_chat_id = :v WHERE id = :id",
            {"v": notify_chat_id, "id": caf_id},
        )
    if name is not None:
        await conn.execute("UPDATE cafs SET name = :v WHERE id = :id", {"v": name, "id": caf_id})


async def set_logo(conn: Conn, caf_id: int, logo_path: str | None) -> None:
    """The logo printed on the Caf's label certificates: a file on the server, or None."""
    await conn.execute(
        "UPDATE cafs SET logo_path = :v WHERE id = :id", {"v": logo_path, "id": caf_id}
    )


async def set_city(conn: Conn, caf_id: int, city: str | None) -> None:
    """The Caf's town, where its certificates are « Fait à »; None: left blank on them."""
    await conn.execute("UPDATE cafs SET city = :v WHERE id = :id", {"v": city, "id": caf_id})
