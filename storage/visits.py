"""Visits and their drafts.

A draft advances by compare-and-swap on its revision, so a double tap or a redelivered
update changes it once. A visit is stored in the transaction that closes its draft, with
`UNIQUE(draft_id)`: saving twice stores one visit.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from bot.domain import taxonomy
from bot.domain.visit_log import DraftRecord, VisitLine, VisitRecord
from bot.domain.visits import Answers, Draft, Profile, RequestAnswer
from storage import visit_counts
from storage.db import Conn, Tx
from storage.timefmt import to_db


def _draft(row: sqlite3.Row) -> DraftRecord:
    data = dict(row)
    data["draft"] = Draft.model_validate_json(data.pop("state"))
    return DraftRecord.model_validate(data)


async def get_draft(conn: Conn, draft_id: int) -> DraftRecord | None:
    row = await conn.fetch_one("SELECT * FROM visit_drafts WHERE id = :id", {"id": draft_id})
    return _draft(row) if row else None


async def open_draft(conn: Conn, person_id: int) -> DraftRecord | None:
    row = await conn.fetch_one(
        "SELECT * FROM visit_drafts WHERE person_id = :p AND status = 'open'", {"p": person_id}
    )
    return _draft(row) if row else None


async def start_draft(
    tx: Tx,
    *,
    person_id: int,
    partner_id: int,
    chat_id: int,
    training: bool,
    draft: Draft,
    now: datetime,
    editing_visit_id: int | None = None,
) -> DraftRecord:
    """A fresh draft; any other open draft of the person is abandoned (one at a time)."""
    await tx.execute(
        "UPDATE visit_drafts SET status = 'abandoned', updated_at = :now"
        " WHERE person_id = :p AND status = 'open'",
        {"p": person_id, "now": to_db(now)},
    )
    draft_id = await tx.execute(
        "INSERT INTO visit_drafts (person_id, partner_id, chat_id, state, training,"
        " editing_visit_id, created_at, updated_at) VALUES (:p, :partner, :chat, :state,"
        " :training, :editing, :now, :now)",
        {
            "p": person_id,
            "partner": partner_id,
            "chat": chat_id,
            "state": draft.model_dump_json(),
            "training": int(training),
            "editing": editing_visit_id,
            "now": to_db(now),
        },
    )
    record = await get_draft(tx, int(draft_id or 0))
    assert record is not None
    return record


async def set_message(conn: Conn, draft_id: int, message_id: int) -> None:
    await conn.execute(
        "UPDATE visit_drafts SET message_id = :m WHERE id = :id", {"m": message_id, "id": draft_id}
    )


async def advance(tx: Tx, record: DraftRecord, draft: Draft, now: datetime) -> bool:
    """Stores the draft's next state if nobody advanced it meanwhile."""
    changed = await tx.execute_count(
        "UPDATE visit_drafts SET state = :state, revision = revision + 1, updated_at = :now"
        " WHERE id = :id AND revision = :rev AND status = 'open'",
        {
            "state": draft.model_dump_json(),
            "now": to_db(now),
            "id": record.id,
            "rev": record.revision,
        },
    )
    return changed == 1


async def close_draft(tx: Tx, record: DraftRecord, status: str, now: datetime) -> bool:
    changed = await tx.execute_count(
        "UPDATE visit_drafts SET status = :status, revision = revision + 1, updated_at = :now"
        " WHERE id = :id AND revision = :rev AND status = 'open'",
        {"status": status, "now": to_db(now), "id": record.id, "rev": record.revision},
    )
    return changed == 1


async def abandon_open(conn: Conn, person_id: int, now: datetime) -> bool:
    row = await conn.fetch_one(
        "UPDATE visit_drafts SET status = 'abandoned', updated_at = :now, revision = revision + 1"
        " WHERE person_id = :p AND status = 'open' RETURNING id",
        {"p": person_id, "now": to_db(now)},
    )
    return row is not None


async def _insert_details(tx: Tx, visit_id: int, answers: Answers) -> None:
    """The grid's ticks and the themes, with the copies of the visit row they carry (0008)."""
    pairs = [(r.demande, a) for r in answers.requests for a in r.actions]
    await tx.executemany(
        "INSERT INTO visit_actions (visit_id, demande, action, position, lead, caf_id,"
        " partner_id, visited_at, resolution) SELECT id, :demande, :action, :pos, :lead,"
        " caf_id, partner_id, visited_at, resolution FROM visits WHERE id = :v",
        [
            {
                "v": visit_id,
                "demande": demande,
                "action": action,
                "pos": position,
                "lead": int(all(d != demande for d, _ in pairs[:position])),
            }
            for position, (demande, action) in enumerate(pairs)
        ],
    )
    await tx.executemany(
        "INSERT INTO visit_themes (visit_id, theme, caf_id, partner_id, visited_at)"
        " SELECT id, :theme, caf_id, partner_id, visited_at FROM visits WHERE id = :v",
        [{"v": visit_id, "theme": theme} for theme in answers.themes],
    )


async def save_visit(
    tx: Tx,
    record: DraftRecord,
    answers: Answers,
    *,
    caf_id: int,
    visited_at: datetime,
    now: datetime,
) -> int | None:
    """Closes the draft and stores its visit; None when the draft was already closed."""
    if not await close_draft(tx, record, "saved", now):
        return None
    if record.training:
        return await tx.execute(
            "INSERT INTO training_visits (draft_id, partner_id, person_id, visited_at, answers,"
            " created_at) VALUES (:d, :partner, :p, :at, :answers, :now)",
            {
                "d": record.id,
                "partner": record.partner_id,
                "p": record.person_id,
                "at": to_db(visited_at),
                "answers": answers.model_dump_json(),
                "now": to_db(now),
            },
        )
    visit_id = await tx.execute(
        "INSERT INTO visits (draft_id, caf_id, partner_id, person_id, visited_at, sexe, age,"
        " statut, autonomie, resolution, created_at, updated_at) VALUES (:d, :caf, :partner,"
        " :p, :at, :sexe, :age, :statut, :autonomie, :resolution, :now, :now)",
        {
            "d": record.id,
            "caf": caf_id,
            "partner": record.partner_id,
            "p": record.person_id,
            "at": to_db(visited_at),
            "sexe": answers.sexe,
            "age": answers.age,
            "statut": answers.statut,
            "autonomie": answers.autonomie,
            "resolution": answers.resolution,
            "now": to_db(now),
        },
    )
    assert visit_id is not None
    await _insert_details(tx, visit_id, answers)
    # The indicators' counts, in this transaction (migration 0020).
    await visit_counts.added(
        tx,
        visit_id,
        caf_id=caf_id,
        partner_id=record.partner_id,
        visited_at=visited_at,
        answers=answers,
    )
    return visit_id


async def replace_visit(
    tx: Tx, record: DraftRecord, answers: Answers, *, visited_at: datetime, now: datetime
) -> bool:
    """Saves a modified visit in place (same id, same draft key); False if already done."""
    assert record.editing_visit_id is not None
    if not await close_draft(tx, record, "saved", now):
        return False
    visit_id = record.editing_visit_id
    counted = await visit_counts.before_change(tx, visit_id)
    await tx.execute(
        "UPDATE visits SET visited_at = :at, sexe = :sexe, age = :age, statut = :statut,"
        " autonomie = :autonomie, resolution = :resolution, updated_at = :now WHERE id = :id",
        {
            "at": to_db(visited_at),
            "sexe": answers.sexe,
            "age": answers.age,
            "statut": answers.statut,
            "autonomie": answers.autonomie,
            "resolution": answers.resolution,
            "now": to_db(now),
            "id": visit_id,
        },
    )
    await tx.execute("DELETE FROM visit_actions WHERE visit_id = :id", {"id": visit_id})
    await tx.execute("DELETE FROM visit_themes WHERE visit_id = :id", {"id": visit_id})
    await _insert_details(tx, visit_id, answers)
    await visit_counts.changed(tx, counted, visit_id)
    return True


async def get_visit(conn: Conn, visit_id: int) -> VisitRecord | None:
    row = await conn.fetch_one("SELECT * FROM visits WHERE id = :id", {"id": visit_id})
    if row is None:
        return None
    actions = await conn.fetch_all(
        "SELECT demande, action FROM visit_actions WHERE visit_id = :id ORDER BY position",
        {"id": visit_id},
    )
    themes = await conn.fetch_all(
        "SELECT theme FROM visit_themes WHERE visit_id = :id", {"id": visit_id}
    )
    requests: list[RequestAnswer] = []
    for action_row in actions:
        if not requests or requests[-1].demande != action_row["demande"]:
            requests.append(RequestAnswer(demande=action_row["demande"]))
        requests[-1].actions.append(action_row["action"])
    answers = Answers(
        sexe=row["sexe"],
        age=row["age"],
        statut=row["statut"],
        autonomie=row["autonomie"],
        requests=requests,
        themes=[t["theme"] for t in themes],
        themes_done=True,
        resolution=row["resolution"],
    )
    return VisitRecord(
        id=row["id"],
        draft_id=row["draft_id"],
        person_id=row["person_id"],
        partner_id=row["partner_id"],
        visited_at=row["visited_at"],
        created_at=row["created_at"],
        answers=answers,
    )


async def get_training_visit(conn: Conn, visit_id: int) -> VisitRecord | None:
    row = await conn.fetch_one("SELECT * FROM training_visits WHERE id = :id", {"id": visit_id})
    if row is None:
        return None
    return VisitRecord(
        id=row["id"],
        draft_id=row["draft_id"],
        person_id=row["person_id"],
        partner_id=row["partner_id"],
        visited_at=row["visited_at"],
        created_at=row["created_at"],
        answers=Answers.model_validate_json(row["answers"]),
        training=True,
    )


async def recent_of_person(
    conn: Conn, person_id: int, since: datetime, *, limit: int = 500
) -> list[VisitLine]:
    """The person's visits, training ones too, from `since` on, newest first (🗂 Mes visites).
    The two tables number their rows apart: a line says which one it comes from."""
    rows = await conn.fetch_all(
        "SELECT v.id, 0 AS training, v.visited_at, v.created_at, v.resolution,"
        " (SELECT a.demande FROM visit_actions a WHERE a.visit_id = v.id"
        "  ORDER BY a.position LIMIT 1) AS demande,"
        " (SELECT COUNT(*) FROM visit_actions a WHERE a.visit_id = v.id AND a.lead = 1)"
        "  AS requests"
        " FROM visits v WHERE v.person_id = :p AND v.visited_at >= :since"
        " UNION ALL"
        " SELECT t.id, 1, t.visited_at, t.created_at, json_extract(t.answers, '$.resolution'),"
        " json_extract(t.answers, '$.requests[0].demande'),"
        " json_array_length(t.answers, '$.requests')"
        " FROM training_visits t WHERE t.person_id = :p AND t.visited_at >= :since"
        " ORDER BY visited_at DESC, created_at DESC, training, id DESC LIMIT :limit",
        {"p": person_id, "since": to_db(since), "limit": limit},
    )
    return [VisitLine.model_validate(dict(row)) for row in rows]


async def delete_visit(tx: Tx, visit_id: int, *, training: bool) -> bool:
    if training:  # counted nowhere
        return (
            await tx.execute_count("DELETE FROM training_visits WHERE id = :id", {"id": visit_id})
            == 1
        )
    counted = await visit_counts.before_change(tx, visit_id)
    if await tx.execute_count("DELETE FROM visits WHERE id = :id", {"id": visit_id}) != 1:
        return False
    await visit_counts.changed(tx, counted, None)
    return True


async def visit_of_draft(conn: Conn, draft_id: int, *, training: bool) -> int | None:
    table = "training_visits" if training else "visits"
    visit_id: int | None = await conn.fetch_value(
        f"SELECT id FROM {table} WHERE draft_id = :d", {"d": draft_id}
    )
    return visit_id


async def last_profile(conn: Conn, person_id: int, *, training: bool) -> Profile | None:
    """The profile of the person's latest visit (for "🔁 Même profil")."""
    if training:
        row = await conn.fetch_one(
            "SELECT answers FROM training_visits WHERE person_id = :p ORDER BY id DESC LIMIT 1",
            {"p": person_id},
        )
        if row is None:
            return None
        answers = json.loads(row["answers"])
        return Profile(
            sexe=answers["sexe"],
            age=answers["age"],
            statut=answers["statut"],
            autonomie=answers["autonomie"],
        )
    row = await conn.fetch_one(
        "SELECT sexe, age, statut, autonomie FROM visits WHERE person_id = :p"
        " ORDER BY id DESC LIMIT 1",
        {"p": person_id},
    )
    return Profile.model_validate(dict(row)) if row else None


async def frequent_requests(
    conn: Conn, partner_id: int, since: datetime, *, limit: int = 3, minimum: int = 5
) -> list[str]:
    """The site's most frequent request types lately (each seen at least `minimum` times)."""
    rows = await conn.fetch_all(
        "SELECT a.demande, COUNT(DISTINCT a.visit_id) AS n FROM visit_actions a"
        " JOIN visits v ON v.id = a.visit_id"
        " WHERE v.partner_id = :partner AND v.visited_at >= :since"
        " GROUP BY a.demande HAVING COUNT(DISTINCT a.visit_id) >= :minimum"
        " ORDER BY n DESC, a.demande LIMIT :limit",
        {"partner": partner_id, "since": to_db(since), "minimum": minimum, "limit": limit},
    )
    return [row["demande"] for row in rows]


async def count_visits(
    conn: Conn,
    *,
    start: datetime,
    end: datetime,
    partner_id: int | None = None,
    person_id: int | None = None,
) -> tuple[int, int, int]:
    """(visits, resolved, partly resolved) in [start, end), for a site and/or a person; what
    counts as resolved is the taxonomy's (bot/domain/taxonomy.py `Outcome`)."""
    row = await conn.fetch_one(
        "SELECT COUNT(*) AS n,"
        " COALESCE(SUM(resolution = :resolved), 0) AS yes,"
        " COALESCE(SUM(resolution = :partly), 0) AS partly"
        " FROM visits WHERE visited_at >= :start AND visited_at < :end"
        " AND (partner_id = :partner OR :partner IS NULL)"
        " AND (person_id = :person OR :person IS NULL)",
        {
            "start": to_db(start),
            "end": to_db(end),
            "partner": partner_id,
            "person": person_id,
            "resolved": taxonomy.RESOLVED.code,
            "partly": taxonomy.PARTLY_RESOLVED.code,
        },
    )
    assert row is not None
    return int(row["n"]), int(row["yes"]), int(row["partly"])


async def count_training(conn: Conn, person_id: int) -> int:
    return int(
        await conn.fetch_value(
            "SELECT COUNT(*) FROM training_visits WHERE person_id = :p", {"p": person_id}
        )
    )


async def set_training_mode(conn: Conn, person_id: int, on: bool) -> None:
    await conn.execute(
        "UPDATE people SET training_mode = :on WHERE id = :id", {"on": int(on), "id": person_id}
    )


async def training_mode(conn: Conn, person_id: int) -> bool:
    return bool(
        await conn.fetch_value("SELECT training_mode FROM people WHERE id = :id", {"id": person_id})
    )


# ------------------------------------------------------------------------------ nightly clean-up
async def abandon_stale_drafts(conn: Conn, cut: datetime, now: datetime) -> None:
    """Drafts left open since before `cut` are abandoned (their buttons then say so)."""
    await conn.execute(
        "UPDATE visit_drafts SET status = 'abandoned', updated_at = :now,"
        " revision = revision + 1 WHERE status = 'open' AND updated_at < :cut",
        {"now": to_db(now), "cut": to_db(cut)},
    )


async def delete_abandoned_drafts(conn: Conn) -> None:
    """Abandoned drafts serve nobody: gone (a draft a visit was saved from stays with it)."""
    await conn.execute(
        "DELETE FROM visit_drafts WHERE status = 'abandoned'"
        " AND id NOT IN (SELECT draft_id FROM visits)"
        " AND id NOT IN (SELECT draft_id FROM training_visits)"
    )
