"""Invitations: only the hash of a code is stored; a use is consumed atomically; the live
links of a Caf or a site are listed with their makers, and cancelled one by one or all
those of one maker."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import invitations as rules
from bot.domain.invitations import InvitationLink
from bot.domain.models import Invitation
from bot.domain.permissions import Role
from storage.db import Conn
from storage.timefmt import to_db


async def create(
    conn: Conn,
    *,
    role: Role,
    caf_id: int,
    partner_id: int | None,
    uses: int,
    expires_at: datetime,
    created_by: int | None,
    now: datetime,
) -> tuple[str, Invitation]:
    """Creates an invitation; returns the clear code (shown once, never stored) and the row."""
    code = rules.new_code()
    invitation_id = await conn.execute(
        "INSERT INTO invitations (code_hash, role, caf_id, partner_id, uses_left, expires_at,"
        " created_by, created_at) VALUES (:hash, :role, :caf, :partner, :uses, :expires, :by,"
        " :now)",
        {
            "hash": rules.hash_code(code),
            "role": role.value,
            "caf": caf_id,
            "partner": partner_id,
            "uses": uses,
            "expires": to_db(expires_at),
            "by": created_by,
            "now": to_db(now),
        },
    )
    invitation = await get(conn, int(invitation_id or 0))
    assert invitation is not None
    return code, invitation


async def get(conn: Conn, invitation_id: int) -> Invitation | None:
    row = await conn.fetch_one("SELECT * FROM invitations WHERE id = :id", {"id": invitation_id})
    return Invitation.model_validate(dict(row)) if row else None


async def find_by_code(conn: Conn, code: str) -> Invitation | None:
    row = await conn.fetch_one(
        "SELECT * FROM invitations WHERE code_hash = :hash", {"hash": rules.hash_code(code)}
    )
    return Invitation.model_validate(dict(row)) if row else None


async def consume(conn: Conn, invitation_id: int, now: datetime) -> bool:
    """Takes one use if the invitation is still usable; False when someone was faster."""
    row = await conn.fetch_one(
        "UPDATE invitations SET uses_left = uses_left - 1 WHERE id = :id AND uses_left > 0"
        " AND revoked_at IS NULL AND expires_at > :now RETURNING id",
        {"id": invitation_id, "now": to_db(now)},
    )
    return row is not None


async def revoke(conn: Conn, invitation_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE invitations SET revoked_at = :now WHERE id = :id",
        {"now": to_db(now), "id": invitation_id},
    )


# ------------------------------------------------------------------------------ live links
_LINK_SELECT = (
    "SELECT i.*, m.display_name AS maker_name, p.name AS partner_name, p.city AS partner_city"
    " FROM invitations i LEFT JOIN people m ON m.id = i.created_by"
    " LEFT JOIN partners p ON p.id = i.partner_id"
)


def _live(alias: str = "") -> str:
    """What `rules.is_live` says, in SQL (`:now` in the database's format)."""
    return f"{alias}revoked_at IS NULL AND {alias}uses_left > 0 AND {alias}expires_at > :now"


async def link(conn: Conn, invitation_id: int) -> InvitationLink | None:
    """One invitation, live or not, with its maker's name and its site."""
    row = await conn.fetch_one(f"{_LINK_SELECT} WHERE i.id = :id", {"id": invitation_id})
    return InvitationLink.model_validate(dict(row)) if row else None


async def live_links(
    conn: Conn,
    *,
    caf_id: int,
    now: datetime,
    partner_id: int | None = None,
    role: Role | None = None,
) -> list[InvitationLink]:
    """The Caf's links that can still let someone in (only the site's, with `partner_id`;
    only those of `role`), newest first."""
    sql = f"{_LINK_SELECT} WHERE i.caf_id = :caf AND {_live('i.')}"
    if partner_id is not None:
        sql += " AND i.partner_id = :partner"
    if role is not None:
        sql += " AND i.role = :role"
    params = {
        "caf": caf_id,
        "now": to_db(now),
        "partner": partner_id,
        "role": role.value if role else None,
    }
    rows = await conn.fetch_all(sql + " ORDER BY i.created_at DESC, i.id DESC", params)
    return [InvitationLink.model_validate(dict(row)) for row in rows]


async def cancel(conn: Conn, invitation_id: int, now: datetime) -> bool:
    """Cancels a live link; False when it was no longer live (cancelled, expired, used up)."""
    row = await conn.fetch_one(
        f"UPDATE invitations SET revoked_at = :now WHERE id = :id AND {_live()} RETURNING id",
        {"id": invitation_id, "now": to_db(now)},
    )
    return row is not None


async def cancel_made_by(conn: Conn, person_id: int, now: datetime) -> list[Invitation]:
    """Cancels every live link this person made (they are revoked or erased); those links."""
    rows = await conn.fetch_all(
        f"UPDATE invitations SET revoked_at = :now WHERE created_by = :person AND {_live()}"
        " RETURNING *",
        {"person": person_id, "now": to_db(now)},
    )
    return sorted((Invitation.model_validate(dict(row)) for row in rows), key=lambda i: i.id)


# ------------------------------------------------------------------------------ wrong codes
async def record_failure(conn: Conn, telegram_user_id: int, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO invitation_failures (telegram_user_id, at) VALUES (:tg, :now)",
        {"tg": telegram_user_id, "now": to_db(now)},
    )


async def recent_failures(
    conn: Conn, telegram_user_id: int, now: datetime, window: timedelta
) -> tuple[int, datetime | None]:
    """How many wrong codes this account sent within the window, and the oldest of them."""
    row = await conn.fetch_one(
        "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM invitation_failures"
        " WHERE telegram_user_id = :tg AND at > :since",
        {"tg": telegram_user_id, "since": to_db(now - window)},
    )
    assert row is not None
    oldest = datetime.fromisoformat(row["oldest"]) if row["oldest"] else None
    return int(row["n"]), oldest


async def failure_window(
    conn: Conn,
    *,
    telegram_user_id: int | None,
    now: datetime,
    window: timedelta,
    limit: int,
) -> rules.FailureWindow:
    """Wrong codes within the window from one account (or from all, with None), and when
    enough of them will have expired for the count to fall back under `limit`."""
    one = telegram_user_id is not None
    scope = rules.ThrottleScope.ACCOUNT if one else rules.ThrottleScope.EVERYONE
    where = "at > :since" + (" AND telegram_user_id = :tg" if one else "")
    params = {"tg": telegram_user_id, "since": to_db(now - window)}
    failures = int(
        await conn.fetch_value(f"SELECT COUNT(*) FROM invitation_failures WHERE {where}", params)
    )
    release_at = None
    if failures >= limit:
        # The (failures - limit + 1)-th oldest failure leaving the window lets checks resume.
        at = await conn.fetch_value(
            f"SELECT at FROM invitation_failures WHERE {where} ORDER BY at LIMIT 1 OFFSET :skip",
            {**params, "skip": failures - limit},
        )
        release_at = datetime.fromisoformat(at) + window
    return rules.FailureWindow(scope, failures, limit, release_at)


async def failures_of(conn: Conn, telegram_user_id: int) -> list[datetime]:
    """When this account sent wrong codes (kept a day): what /mesdonnees tells a stranger."""
    rows = await conn.fetch_all(
        "SELECT at FROM invitation_failures WHERE telegram_user_id = :tg ORDER BY at",
        {"tg": telegram_user_id},
    )
    return [datetime.fromisoformat(row["at"]) for row in rows]
