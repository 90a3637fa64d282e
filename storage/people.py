"""People: agents, managers and coordinators, each known by their Telegram account."""

from __future__ import annotations

from collections.abc import Set
from datetime import date, datetime, timedelta
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


# How many sites the person belongs to comes with them (person_sites' primary key starts
# with person_id): every update knows whether to ask for the day's site, at no extra query.
_MEMBER_SELECT = (
    f"SELECT {_columns(Person, 'p')}, {_columns(Partner, 'pa')}, {_columns(Caf, 'c')},"
    " (SELECT COUNT(*) FROM person_sites s WHERE s.person_id = p.id) AS site_count"
    " FROM people p JOIN cafs c ON c.id = p.caf_id"
    " LEFT JOIN partners pa ON pa.id = p.partner_id"
)


def _member(row: Any) -> Member:
    partner = _pick(row, "pa", Partner)
    return Member(
        person=Person.model_validate(_pick(row, "p", Person)),
        partner=Partner.model_validate(partner) if partner["id"] is not None else None,
        caf=Caf.model_validate(_pick(row, "c", Caf)),
        site_count=int(row["site_count"]),
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
    if invitation.partner_id is not None:
        await add_site(conn, person.id, invitation.partner_id, now)
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
        "SELECT p.* FROM person_sites s JOIN people p ON p.id = s.person_id"
        " WHERE s.partner_id = :partner"
        + (" AND p.status = 'active'" if active_only else "")
        + " ORDER BY p.role DESC, p.display_name",
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
        "SELECT s.partner_id, COUNT(*) AS n FROM person_sites s JOIN people p ON p.id ="
        " s.person_id WHERE p.caf_id = :caf AND p.status = 'active' GROUP BY s.partner_id",
        {"caf": caf_id},
    )
    return {int(row["partner_id"]): int(row["n"]) for row in rows}


async def sites_with_manager(conn: Conn, caf_id: int) -> set[int]:
    """The Caf's sites that have an active manager (the others cannot validate a period)."""
    rows = await conn.fetch_all(
        "SELECT DISTINCT s.partner_id FROM person_sites s JOIN people p ON p.id = s.person_id"
        " WHERE p.caf_id = :caf AND p.role = 'manager' AND p.status = 'active'",
        {"caf": caf_id},
    )
    return {row["partner_id"] for row in rows}


# ------------------------------------------------------------------------------ several sites
async def sites_of(conn: Conn, person_id: int) -> list[Partner]:
    """Every site the person belongs to, by name."""
    rows = await conn.fetch_all(
        "SELECT pa.* FROM person_sites s JOIN partners pa ON pa.id = s.partner_id"
        " WHERE s.person_id = :person ORDER BY pa.name, pa.id",
        {"person": person_id},
    )
    return [Partner.model_validate(dict(row)) for row in rows]


async def add_site(conn: Conn, person_id: int, partner_id: int, now: datetime) -> bool:
    """The person works at this site too; False when they already did."""
    params = {"person": person_id, "partner": partner_id, "now": to_db(now)}
    if await conn.fetch_value(
        "SELECT 1 FROM person_sites WHERE person_id = :person AND partner_id = :partner", params
    ):
        return False
    await conn.execute(
        "INSERT INTO person_sites (person_id, partner_id, since) VALUES (:person, :partner, :now)",
        params,
    )
    return True


async def remove_site(conn: Conn, person_id: int, partner_id: int) -> None:
    """The person no longer works at this site; their current site is never removed here."""
    await conn.execute(
        "DELETE FROM person_sites WHERE person_id = :person AND partner_id = :partner"
        " AND partner_id != (SELECT COALESCE(partner_id, 0) FROM people WHERE id = :person)",
        {"person": person_id, "partner": partner_id},
    )


async def set_current_site(
    conn: Conn, person_id: int, partner_id: int, chosen_on: date | None
) -> None:
    """The site the person works at now (one of theirs), and the local day they said so."""
    await conn.execute(
        "UPDATE people SET partner_id = :partner, site_chosen_on = :day WHERE id = :person"
        " AND EXISTS (SELECT 1 FROM person_sites WHERE person_id = :person"
        " AND partner_id = :partner)",
        {
            "person": person_id,
            "partner": partner_id,
            "day": chosen_on.isoformat() if chosen_on else None,
        },
    )


async def set_sites(
    conn: Conn, person_id: int, sites: Set[int], current: int, now: datetime
) -> None:
    """The person belongs to exactly `sites` from now on (those they kept keep their date),
    working at `current`, one of them. The day they last chose is forgotten: with several
    sites they say again where they work."""
    if current not in sites:
        raise ValueError("the current site must be one of the person's sites")
    for site in sorted(sites):
        await add_site(conn, person_id, site, now)
    await conn.execute(
        "UPDATE people SET partner_id = :current, site_chosen_on = NULL WHERE id = :person",
        {"current": current, "person": person_id},
    )
    kept = {f"s{i}": site for i, site in enumerate(sorted(sites))}
    await conn.execute(
        "DELETE FROM person_sites WHERE person_id = :person"
        f" AND partner_id NOT IN ({', '.join(':' + name for name in kept)})",
        {"person": person_id, **kept},
    )


async def set_role(conn: Conn, person_id: int, role: Role) -> None:
    """Agent ↔ manager only: a coordinator belongs to no site (the table's CHECK)."""
    await conn.execute(
        "UPDATE people SET role = :role WHERE id = :id AND role != 'coordinator'",
        {"role": role.value, "id": person_id},
    )


async def reactivate(conn: Conn, person_id: int, invitation: Invitation, now: datetime) -> None:
    """A revoked person back through a new invitation: its role, Caf and site, history kept.

    The sites they had before are dropped: they come back where the invitation says."""
    await conn.execute("DELETE FROM person_sites WHERE person_id = :id", {"id": person_id})
    await conn.execute(
        "UPDATE people SET status = 'active', revoked_at = NULL, role = :role, caf_id = :caf,"
        " partner_id = :partner, site_chosen_on = NULL WHERE id = :id",
        {
            "role": invitation.role.value,
            "caf": invitation.caf_id,
            "partner": invitation.partner_id,
            "id": person_id,
        },
    )
    if invitation.partner_id is not None:
        await add_site(conn, person_id, invitation.partner_id, now)


async def commit_secrecy(conn: Conn, person_id: int, version: int, now: datetime) -> bool:
    """Notes the person's commitment to professional secrecy (Article 5) in `version` of
    the statement; False when they had already committed to it (a double tap)."""
    changed = await conn.execute(
        "UPDATE people SET secrecy_committed_at = :now, secrecy_version = :version"
        " WHERE id = :id AND (secrecy_version IS NULL OR secrecy_version <> :version)",
        {"now": to_db(now), "version": version, "id": person_id},
    )
    return changed is not None
