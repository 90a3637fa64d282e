"""People: agents, managers and coordinators, each known by their Telegram account."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from bot.domain.models import Caf, Invitation, Member, Partner, Person
from bot.domain.permissions import PersonStatus, Role
from storage.db import Conn
from storage.timefmt import to_db

# last_seen_at is refreshed at most this often, so that ordinary taps do not write.
LAST_SEEN_GRANULARITY = timedelta(hours=1)


def _columns(model: type[BaseModel], alias: str) -> str:
    return ", ".join(f"{alias}.{name} AS {alias}_{name}" for name in model.model_fields)


def _pick(row: Any, alias: str, model: type[BaseModel]) -> dict[str, Any]:
    return {name: row[f"{alias}_{name}"] for name in model.model_fields}


_MEMBER_SELECT = (
    f"SELECT {_columns(Person, 'p')}, {_columns(Partner, 'pa')}, {_columns(Caf, 'c')}"
    " FROM people p JOIN cafs c ON c.id = p.caf_id"
    " LEFT JOIN partners pa ON pa.id = p.partner_id"
)


def _member(row: Any) -> Member:
    partner = _pick(row, "pa", Partner)
    return Member(
        person=Person.model_validate(_pick(row, "p", Person)),
        partner=Partner.model_validate(partner) if partner["id"] is not None else None,
        caf=Caf.model_validate(_pick(row, "c", Caf)),
    )


async def member_by_telegram_id(conn: Conn, telegram_user_id: int) -> Member | None:
    row = await conn.fetch_one(
        f"{_MEMBER_SELECT} WHERE p.telegram_user_id = :tg", {"tg": telegram_user_id}
    )
    return _member(row) if row else None


async def member(conn: Conn, person_id: int) -> Member | None:
    row = await conn.fetch_one(f"{_MEMBER_SELECT} WHERE p.id = :id", {"id": person_id})
    return _member(row) if row else None


async def get(conn: Conn, person_id: int) -> Person | None:
    row = await conn.fetch_one("SELECT * FROM people WHERE id = :id", {"id": person_id})
    return Person.model_validate(dict(row)) if row else None


async def register(
    conn: Conn,
    *,
    telegram_user_id: int,
    display_name: str,
    invitation: Invitation,
    now: datetime,
) -> Person:
    person_id = await conn.execute(
        "INSERT INTO people (telegram_user_id, display_name, role, caf_id, partner_id, status,"
        " joined_at, last_seen_at) VALUES (:tg, :name, :role, :caf, :partner, 'active', :now,"
        " :now)",
        {
            "tg": telegram_user_id,
            "name": display_name,
            "role": invitation.role.value,
            "caf": invitation.caf_id,
            "partner": invitation.partner_id,
            "now": to_db(now),
        },
    )
    person = await get(conn, int(person_id or 0))
    assert person is not None
    return person


async def touch(conn: Conn, person: Person, now: datetime) -> None:
    if now - person.last_seen_at >= LAST_SEEN_GRANULARITY:
        await conn.execute(
            "UPDATE people SET last_seen_at = :now WHERE id = :id",
            {"now": to_db(now), "id": person.id},
        )


async def list_for_partner(
    conn: Conn, partner_id: int, *, active_only: bool = True
) -> list[Person]:
    rows = await conn.fetch_all(
        "SELECT * FROM people WHERE partner_id = :partner"
        + (" AND status = 'active'" if active_only else "")
        + " ORDER BY role DESC, display_name",
        {"partner": partner_id},
    )
    return [Person.model_validate(dict(row)) for row in rows]


async def list_for_caf(
    conn: Conn, caf_id: int, *, role: Role | None = None, active_only: bool = True
) -> list[Person]:
    sql = "SELECT * FROM people WHERE caf_id = :caf"
    if role is not None:
        sql += " AND role = :role"
    if active_only:
        sql += " AND status = 'active'"
    rows = await conn.fetch_all(
        sql + " ORDER BY display_name", {"caf": caf_id, "role": role.value if role else None}
    )
    return [Person.model_validate(dict(row)) for row in rows]


async def set_status(conn: Conn, person_id: int, status: PersonStatus, now: datetime) -> None:
    await conn.execute(
        "UPDATE people SET status = :status, revoked_at = :at WHERE id = :id",
        {
            "status": status.value,
            "at": to_db(now) if status is PersonStatus.REVOKED else None,
            "id": person_id,
        },
    )


async def count_active_by_partner(conn: Conn, caf_id: int) -> dict[int, int]:
    rows = await conn.fetch_all(
        "SELECT partner_id, COUNT(*) AS n FROM people WHERE caf_id = :caf AND status = 'active'"
        " AND partner_id IS NOT NULL GROUP BY partner_id",
        {"caf": caf_id},
    )
    return {int(row["partner_id"]): int(row["n"]) for row in rows}


async def sites_with_manager(conn: Conn, caf_id: int) -> set[int]:
    """The Caf's sites that have an active manager (the others cannot validate a period)."""
    rows = await conn.fetch_all(
        "SELECT DISTINCT partner_id FROM people WHERE caf_id = :caf AND role = 'manager'"
        " AND status = 'active'",
        {"caf": caf_id},
    )
    return {row["partner_id"] for row in rows}
