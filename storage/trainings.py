"""🎓 Formations: each person's training history, and what reads it (the new agent's
training need, the Caf's export). The models are bot/domain/trainings.py's.

Compliance reads who is untrained in its own grouped query (storage/compliance.py).
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

from bot.domain.trainings import Training, TrainingRecord
from storage.db import Conn, Tx
from storage.timefmt import date_to_db, to_db

# The « nouvel agent à former » need raised when an agent joins (bot/services/invitations.py).
NEW_AGENT_KEY = "new_agent:{person}"


def _training(row: sqlite3.Row) -> Training:
    return Training(
        id=int(row["id"]),
        person_id=int(row["person_id"]),
        title=row["title"],
        on_date=date.fromisoformat(row["on_date"]),
        attended=bool(row["attended"]),
        event_id=row["event_id"],
        recorded_by=row["recorded_by"],
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
    )


async def record_event(
    tx: Tx,
    *,
    caf_id: int,
    person_id: int,
    event_id: int,
    title: str,
    on_date: date,
    attended: bool | None,
    by: int,
    now: datetime,
) -> None:
    """A training day's attendance in the person's history: an upsert, removed when the
    attendance goes back to « not recorded »."""
    if attended is None:
        await tx.execute(
            "DELETE FROM trainings WHERE event_id = :e AND person_id = :p",
            {"e": event_id, "p": person_id},
        )
        return
    await tx.execute(
        "INSERT INTO trainings (caf_id, person_id, event_id, title, on_date, attended,"
        " recorded_by, recorded_at) VALUES (:caf, :p, :e, :title, :day, :a, :by, :now)"
        " ON CONFLICT (event_id, person_id) WHERE event_id IS NOT NULL DO UPDATE SET"
        " attended = excluded.attended, title = excluded.title, on_date = excluded.on_date,"
        " recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
        {
            "caf": caf_id,
            "p": person_id,
            "e": event_id,
            "title": title,
            "day": date_to_db(on_date),
            "a": int(attended),
            "by": by,
            "now": to_db(now),
        },
    )


async def add(
    tx: Tx,
    *,
    caf_id: int,
    person_id: int,
    title: str,
    on_date: date,
    by: int,
    now: datetime,
    attended: bool = True,
) -> int:
    """A training recorded by hand by the Caf."""
    new_id = await tx.execute(
        "INSERT INTO trainings (caf_id, person_id, title, on_date, attended, recorded_by,"
        " recorded_at) VALUES (:caf, :p, :title, :day, :a, :by, :now)",
        {
            "caf": caf_id,
            "p": person_id,
            "title": title,
            "day": date_to_db(on_date),
            "a": int(attended),
            "by": by,
            "now": to_db(now),
        },
    )
    return int(new_id or 0)


async def remove_by_hand(tx: Tx, training_id: int, person_id: int) -> Training | None:
    """Deletes a training recorded by hand (a training day's line follows its attendance,
    corrected on the event); None when there is no such line of this person."""
    row = await tx.fetch_one(
        "SELECT * FROM trainings WHERE id = :t AND person_id = :p AND event_id IS NULL",
        {"t": training_id, "p": person_id},
    )
    if row is None:
        return None
    await tx.execute("DELETE FROM trainings WHERE id = :t", {"t": training_id})
    return _training(row)


async def of_person(conn: Conn, person_id: int) -> list[Training]:
    """The person's history, latest first."""
    rows = await conn.fetch_all(
        "SELECT * FROM trainings WHERE person_id = :p ORDER BY on_date DESC, id DESC",
        {"p": person_id},
    )
    return [_training(row) for row in rows]


async def is_trained(conn: Conn, person_id: int) -> bool:
    row = await conn.fetch_one(
        "SELECT 1 FROM trainings WHERE person_id = :p AND attended = 1 LIMIT 1", {"p": person_id}
    )
    return row is not None


async def open_new_agent_need(conn: Conn, person_id: int) -> int | None:
    """The id of the person's « nouvel agent à former » need while it is open."""
    row = await conn.fetch_one(
        "SELECT id FROM signals WHERE dedup_key = :key AND status != 'resolved'",
        {"key": NEW_AGENT_KEY.format(person=person_id)},
    )
    return int(row["id"]) if row else None


async def untrained_new_agent(conn: Conn, signal_id: int) -> bool:
    """True when the signal is a new agent's training need and the agent has no training
    attended yet: it closes itself once one is recorded, not by hand before."""
    row = await conn.fetch_one(
        "SELECT 1 FROM signals s WHERE s.id = :id AND s.reporter_id IS NOT NULL"
        " AND s.dedup_key = 'new_agent:' || s.reporter_id AND NOT EXISTS (SELECT 1 FROM"
        " trainings t WHERE t.person_id = s.reporter_id AND t.attended = 1)",
        {"id": signal_id},
    )
    return row is not None


async def records(conn: Conn, caf_id: int) -> list[TrainingRecord]:
    """Every training of the Caf's people, by day then name (the export)."""
    rows = await conn.fetch_all(
        "SELECT p.display_name AS person, p.role, COALESCE(pa.name, '') AS site, t.title,"
        " t.on_date, t.attended, t.event_id, COALESCE(r.display_name, '') AS recorded_by,"
        " t.recorded_at FROM trainings t JOIN people p ON p.id = t.person_id"
        " LEFT JOIN partners pa ON pa.id = p.partner_id"
        " LEFT JOIN people r ON r.id = t.recorded_by"
        " WHERE t.caf_id = :caf ORDER BY t.on_date, p.display_name, t.id",
        {"caf": caf_id},
    )
    return [
        TrainingRecord(
            person=row["person"],
            role=row["role"],
            site=row["site"],
            title=row["title"],
            on_date=date.fromisoformat(row["on_date"]),
            attended=bool(row["attended"]),
            by_hand=row["event_id"] is None,
            recorded_by=row["recorded_by"],
            recorded_at=datetime.fromisoformat(row["recorded_at"]),
        )
        for row in rows
    ]
