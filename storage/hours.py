"""Opening hours: every declared weekly schedule (history), and the draft a manager edits."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime

from pydantic import ConfigDict

from bot.domain.models import Model
from bot.domain.opening_hours import WeeklySchedule, check_minimum
from storage.db import Conn
from storage.timefmt import date_to_db, to_db


class Declaration(Model):
    """One declared schedule, as kept in the history."""

    id: int
    partner_id: int
    schedule: WeeklySchedule
    before_schedule: WeeklySchedule | None
    effective_from: date
    half_days: int
    minutes: int
    compliant: bool
    declared_by: int | None
    declared_at: datetime
    reason: str | None = None  # why it applies sooner than the coming Monday
    declared_by_name: str | None = None

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)


class HoursDraft(Model):
    person_id: int
    partner_id: int
    schedule: WeeklySchedule
    effective_from: date | None
    revision: int
    updated_at: datetime

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)


def _dump(schedule: WeeklySchedule) -> str:
    return json.dumps(schedule.to_json(), sort_keys=True)


def _declaration(row: sqlite3.Row) -> Declaration:
    data = dict(row)
    data["schedule"] = WeeklySchedule.from_json(json.loads(data["schedule"]))
    if data["before_schedule"] is not None:
        data["before_schedule"] = WeeklySchedule.from_json(json.loads(data["before_schedule"]))
    return Declaration.model_validate(data)


_SELECT = (
    "SELECT h.*, p.display_name AS declared_by_name FROM opening_hours h"
    " LEFT JOIN people p ON p.id = h.declared_by"
)


async def in_force(conn: Conn, partner_id: int, day: date) -> Declaration | None:
    """The schedule that applies on `day` (None: nothing declared yet)."""
    row = await conn.fetch_one(
        f"{_SELECT} WHERE h.partner_id = :p AND h.effective_from <= :day"
        " ORDER BY h.effective_from DESC, h.id DESC LIMIT 1",
        {"p": partner_id, "day": date_to_db(day)},
    )
    return _declaration(row) if row else None


async def upcoming(conn: Conn, partner_id: int, day: date) -> list[Declaration]:
    """Declared schedules that will apply after `day`, soonest first."""
    rows = await conn.fetch_all(
        f"{_SELECT} WHERE h.partner_id = :p AND h.effective_from > :day"
        " ORDER BY h.effective_from, h.id",
        {"p": partner_id, "day": date_to_db(day)},
    )
    return [_declaration(row) for row in rows]


async def history(conn: Conn, partner_id: int, *, limit: int = 10) -> list[Declaration]:
    rows = await conn.fetch_all(
        f"{_SELECT} WHERE h.partner_id = :p ORDER BY h.id DESC LIMIT :limit",
        {"p": partner_id, "limit": limit},
    )
    return [_declaration(row) for row in rows]


async def declare(
    conn: Conn,
    *,
    partner_id: int,
    schedule: WeeklySchedule,
    effective_from: date,
    by: int | None,
    now: datetime,
    reason: str | None = None,
) -> Declaration:
    """Keeps a new schedule, with the one it replaces on its first day, its compliance and
    (a change at short notice) why."""
    before = await in_force(conn, partner_id, effective_from)
    compliance = check_minimum(schedule)
    new_id = await conn.execute(
        "INSERT INTO opening_hours (partner_id, schedule, before_schedule, effective_from,"
        " half_days, minutes, compliant, declared_by, declared_at, reason) VALUES (:p, :s, :b,"
        " :from, :hd, :m, :ok, :by, :now, :reason)",
        {
            "p": partner_id,
            "s": _dump(schedule),
            "b": _dump(before.schedule) if before else None,
            "from": date_to_db(effective_from),
            "hd": compliance.half_days,
            "m": compliance.minutes,
            "ok": int(compliance.ok),
            "by": by,
            "now": to_db(now),
            "reason": reason,
        },
    )
    row = await conn.fetch_one(f"{_SELECT} WHERE h.id = :id", {"id": new_id})
    assert row is not None
    return _declaration(row)


async def in_force_for_caf(conn: Conn, caf_id: int, day: date) -> dict[int, Declaration]:
    """The schedule in force on `day` for each site of the Caf that declared one."""
    rows = await conn.fetch_all(
        f"{_SELECT} JOIN partners s ON s.id = h.partner_id WHERE s.caf_id = :caf"
        " AND h.effective_from <= :day ORDER BY h.partner_id, h.effective_from, h.id",
        {"caf": caf_id, "day": date_to_db(day)},
    )
    found: dict[int, Declaration] = {}
    for row in rows:  # ordered: the last one of each site wins
        found[int(row["partner_id"])] = _declaration(row)
    return found


# --------------------------------------------------------------------------- drafts


async def draft(conn: Conn, person_id: int) -> HoursDraft | None:
    row = await conn.fetch_one("SELECT * FROM hours_drafts WHERE person_id = :p", {"p": person_id})
    if row is None:
        return None
    data = dict(row)
    data["schedule"] = WeeklySchedule.from_json(json.loads(data["schedule"]))
    return HoursDraft.model_validate(data)


async def save_draft(
    conn: Conn,
    *,
    person_id: int,
    partner_id: int,
    schedule: WeeklySchedule,
    effective_from: date | None,
    now: datetime,
) -> HoursDraft:
    await conn.execute(
        "INSERT INTO hours_drafts (person_id, partner_id, schedule, effective_from, updated_at)"
        " VALUES (:p, :site, :s, :from, :now) ON CONFLICT (person_id) DO UPDATE SET"
        " partner_id = excluded.partner_id, schedule = excluded.schedule,"
        " effective_from = excluded.effective_from, revision = hours_drafts.revision + 1,"
        " updated_at = excluded.updated_at",
        {
            "p": person_id,
            "site": partner_id,
            "s": _dump(schedule),
            "from": date_to_db(effective_from) if effective_from else None,
            "now": to_db(now),
        },
    )
    saved = await draft(conn, person_id)
    assert saved is not None
    return saved


async def drop_draft(conn: Conn, person_id: int) -> bool:
    row = await conn.fetch_one(
        "DELETE FROM hours_drafts WHERE person_id = :p RETURNING person_id", {"p": person_id}
    )
    return row is not None


async def get(conn: Conn, declaration_id: int) -> Declaration | None:
    row = await conn.fetch_one(f"{_SELECT} WHERE h.id = :id", {"id": declaration_id})
    return _declaration(row) if row else None


async def latest_declared(conn: Conn, partner_id: int) -> Declaration | None:
    """The declaration that applies last (a future one if any): where a new edit starts."""
    row = await conn.fetch_one(
        f"{_SELECT} WHERE h.partner_id = :p ORDER BY h.effective_from DESC, h.id DESC LIMIT 1",
        {"p": partner_id},
    )
    return _declaration(row) if row else None
