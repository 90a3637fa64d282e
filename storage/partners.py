"""Partners: one labelled site each (one convention, one address, one schedule)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from bot.domain.models import Partner
from bot.domain.permissions import LabelStatus
from storage.db import Conn
from storage.timefmt import date_to_db, to_db


class DuplicatePartner(Exception):
    pass


async def add(
    conn: Conn,
    *,
    caf_id: int,
    name: str,
    city: str,
    address: str,
    now: datetime,
    convention_start: date | None = None,
    identity: Mapping[str, str] | None = None,
) -> Partner:
    """`identity`: some of OPTIONAL_FIELDS (SIRET or RNA, postcode, phone, e-mail), checked."""
    exists = await conn.fetch_value(
        "SELECT id FROM partners WHERE caf_id = :caf AND name = :name AND city = :city",
        {"caf": caf_id, "name": name, "city": city},
    )
    if exists:
        raise DuplicatePartner(f"{name} ({city})")
    partner_id = await conn.execute(
        "INSERT INTO partners (caf_id, name, city, address, label_status, label_status_since,"
        " convention_start, created_at) VALUES (:caf, :name, :city, :address, 'active', :now,"
        " :start, :now)",
        {
            "caf": caf_id,
            "name": name,
            "city": city,
            "address": address,
            "now": to_db(now),
            "start": date_to_db(convention_start or now.date()),
        },
    )
    await conn.execute(
        "INSERT INTO label_history (partner_id, status, reason, changed_at)"
        " VALUES (:id, 'active', 'Labellisation', :now)",
        {"id": partner_id, "now": to_db(now)},
    )
    for field, value in (identity or {}).items():
        await update_field(conn, int(partner_id or 0), field, value)
    partner = await get(conn, int(partner_id or 0))
    assert partner is not None
    return partner


PartnerRow = (
    tuple[str, str, str]
    | tuple[str, str, str, date | None]
    | tuple[str, str, str, date | None, Mapping[str, str]]
)


async def add_many(
    conn: Conn, *, caf_id: int, rows: Iterable[PartnerRow], now: datetime
) -> tuple[list[Partner], list[str]]:
    """Adds (name, city, address[, convention start[, identity]]) rows; returns the partners
    added and the duplicates skipped. Without a start, the convention starts on the day of the
    import."""
    added, skipped = [], []
    for row in rows:
        name, city, address, *rest = row
        start = rest[0] if rest and isinstance(rest[0], date) else None
        identity = rest[1] if len(rest) > 1 and isinstance(rest[1], Mapping) else None
        try:
            added.append(
                await add(
                    conn,
                    caf_id=caf_id,
                    name=name,
                    city=city,
                    address=address,
                    now=now,
                    convention_start=start,
                    identity=identity,
                )
            )
        except DuplicatePartner as exc:
            skipped.append(str(exc))
    return added, skipped


async def get(conn: Conn, partner_id: int) -> Partner | None:
    row = await conn.fetch_one("SELECT * FROM partners WHERE id = :id", {"id": partner_id})
    return Partner.model_validate(dict(row)) if row else None


async def list_for_caf(conn: Conn, caf_id: int) -> list[Partner]:
    rows = await conn.fetch_all(
        "SELECT * FROM partners WHERE caf_id = :caf ORDER BY name, city", {"caf": caf_id}
    )
    return [Partner.model_validate(dict(row)) for row in rows]


async def list_all(conn: Conn) -> list[Partner]:
    rows = await conn.fetch_all("SELECT * FROM partners ORDER BY caf_id, name, city")
    return [Partner.model_validate(dict(row)) for row in rows]


async def set_label(
    conn: Conn,
    partner_id: int,
    *,
    status: LabelStatus,
    reason: str,
    now: datetime,
    by: int | None,
) -> int:
    """Changes the label and keeps the change in its history; returns the history row id."""
    await conn.execute(
        "UPDATE partners SET label_status = :status, label_status_since = :now,"
        " label_reason = :reason WHERE id = :id",
        {"status": status.value, "now": to_db(now), "reason": reason, "id": partner_id},
    )
    history_id = await conn.execute(
        "INSERT INTO label_history (partner_id, status, reason, changed_at, changed_by)"
        " VALUES (:id, :status, :reason, :now, :by)",
        {"id": partner_id, "status": status.value, "reason": reason, "now": to_db(now), "by": by},
    )
    return int(history_id or 0)


EDITABLE_FIELDS = ("name", "city", "address", "siret", "postcode", "phone", "email")
# Optional fields (bot/domain/site_identity.py): NULL when cleared.
OPTIONAL_FIELDS = ("siret", "postcode", "phone", "email")


async def exists(
    conn: Conn, *, caf_id: int, name: str, city: str, exclude_id: int | None = None
) -> bool:
    found = await conn.fetch_value(
        "SELECT id FROM partners WHERE caf_id = :caf AND name = :name AND city = :city"
        " AND (id != :exclude OR :exclude IS NULL)",
        {"caf": caf_id, "name": name, "city": city, "exclude": exclude_id},
    )
    return found is not None


async def update_field(conn: Conn, partner_id: int, field: str, value: str | None) -> None:
    if field not in EDITABLE_FIELDS or (value is None and field not in OPTIONAL_FIELDS):
        raise ValueError(f"not an editable field: {field}")
    # The column name comes from the fixed list above, never from input.
    await conn.execute(
        f"UPDATE partners SET {field} = :v WHERE id = :id", {"v": value, "id": partner_id}
    )


async def set_convention_start(conn: Conn, partner_id: int, start: date) -> None:
    """The day the convention took effect (Article 11): its anniversaries and notices follow."""
    await conn.execute(
        "UPDATE partners SET convention_start = :start WHERE id = :id",
        {"start": date_to_db(start), "id": partner_id},
    )


async def set_logo(conn: Conn, partner_id: int, logo_path: str | None) -> None:
    """The site's logo, printed on its certificate beside the Caf's: a file on the server."""
    await conn.execute(
        "UPDATE partners SET logo_path = :v WHERE id = :id", {"v": logo_path, "id": partner_id}
    )


async def last_changes(conn: Conn, caf_id: int) -> dict[int, datetime]:
    """When each site of the Caf last changed as the public sees it: added, label, a field
    edited, hours declared, a closure declared or cancelled (`date_maj` of the national
    standard). Instants are compared as the one text format they are stored in."""
    rows = await conn.fetch_all(
        "SELECT p.id, max(p.created_at, p.label_status_since,"
        " coalesce((SELECT max(declared_at) FROM opening_hours h WHERE h.partner_id = p.id), ''),"
        " coalesce((SELECT max(max(declared_at, coalesce(cancelled_at, ''))) FROM closures c"
        "   WHERE c.partner_id = p.id), ''),"
        " coalesce((SELECT max(at) FROM audit_log a WHERE a.target_type = 'partner'"
        "   AND a.target_id = p.id AND a.action = 'partner.updated'), '')) AS changed"
        " FROM partners p WHERE p.caf_id = :caf",
        {"caf": caf_id},
    )
    return {int(row[0]): datetime.fromisoformat(str(row[1])) for row in rows}
