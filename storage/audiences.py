"""The people an audience reaches, at the moment it is asked (broadcasts, invitations)."""

from __future__ import annotations

import json

from bot.domain.audience import Audience, AudienceKind
from bot.domain.models import Person
from bot.domain.permissions import Role
from storage.db import Conn


def _where(audience: Audience, with_coordinators: bool) -> tuple[str, dict[str, object]]:
    roles = [
        role.value
        for role in audience.kind.roles
        if with_coordinators or role is not Role.COORDINATOR
    ]
    sql = (
        " FROM people p LEFT JOIN partners s ON s.id = p.partner_id"
        " WHERE p.caf_id = :caf AND p.status = 'active' AND p.telegram_user_id IS NOT NULL"
        " AND p.role IN (SELECT value FROM json_each(:roles))"
        # A withdrawn site's people no longer use the bot (permission table).
        " AND (p.partner_id IS NULL OR s.label_status != 'withdrawn')"
        " AND (p.id != :exclude OR :exclude IS NULL)"
    )
    params: dict[str, object] = {"roles": json.dumps(roles)}
    if audience.kind is AudienceKind.PARTNERS:
        sql += " AND p.partner_id IN (SELECT value FROM json_each(:partners))"
        params["partners"] = json.dumps(sorted(audience.partners))
    return sql, params


async def people_of(
    conn: Conn,
    caf_id: int,
    audience: Audience,
    *,
    exclude_person_id: int | None = None,
    with_coordinators: bool = True,
) -> list[Person]:
    """Coordinators hear news sent to everyone, but are not invited to their own events."""
    where, params = _where(audience, with_coordinators)
    rows = await conn.fetch_all(
        f"SELECT p.*{where} ORDER BY p.id",
        {**params, "caf": caf_id, "exclude": exclude_person_id},
    )
    return [Person.model_validate(dict(row)) for row in rows]


async def count(
    conn: Conn,
    caf_id: int,
    audience: Audience,
    *,
    exclude_person_id: int | None = None,
    with_coordinators: bool = True,
) -> int:
    where, params = _where(audience, with_coordinators)
    return int(
        await conn.fetch_value(
            f"SELECT COUNT(*){where}", {**params, "caf": caf_id, "exclude": exclude_person_id}
        )
    )
