"""Yearly visits to the sites (Article 9), their action plans, and the visit being recorded.

What other modules read (the compliance view among them):

* ``open_items(conn, partner_id) -> list[ActionItem]`` — the site's action items not done yet,
  soonest due first. ``ActionItem.overdue(today)`` says whether one is late.
* ``last_review(conn, partner_id) -> SiteReview | None`` — the site's latest visit (by visit
  date, then by when it was recorded); None when it was never visited.
* ``summary_by_partner(conn, caf_id, today) -> dict[int, ReviewSummary]`` — for every site of
  the Caf (visited or not), keyed by partner id: ``ReviewSummary(last_visited_on: date | None,
  open_count: int, overdue_count: int)``, a NamedTuple, so it unpacks as the triple
  ``(last_visited_on, open_count, overdue_count)``. Counted in SQL.
* ``open_missing_points(conn, caf_id) -> dict[int, tuple[date, tuple[str, ...]]]`` — for every
  site of the Caf whose latest visit found checklist points wanting that are still open (no
  action item proposed for the point done since): the visit's date and the points' codes.

Every point answered is a `site_review_checks` row (migration 0014); the three columns of
`site_reviews` are still written for the first three points, and a visit recorded before the
full checklist has only those three rows.

The records (`SiteReview`, `ActionItem`, `ReviewSummary`, `ReviewDraft`) are defined in
bot/domain/site_reviews.py, so that the screens can name them; they are imported here.

The draft (`review_drafts`, one row per coordinator) is kept once created: saving or
abandoning a visit empties its state and bumps its revision, so the revision only ever grows
and a button of an earlier visit's wizard can never pass for one of the current visit's.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from typing import Any

from bot.domain.site_reviews import (
    CHECK_KEYS,
    LEGACY_KEYS,
    ActionItem,
    DraftState,
    ReviewDraft,
    ReviewSummary,
    SiteReview,
)
from storage.db import Conn
from storage.timefmt import date_to_db, to_db

# --------------------------------------------------------------------------- reading

_REVIEWS = (
    "SELECT r.*, p.display_name AS recorded_by_name FROM site_reviews r"
    " LEFT JOIN people p ON p.id = r.recorded_by"
)


async def last_review(conn: Conn, partner_id: int) -> SiteReview | None:
    found = await recent_reviews(conn, partner_id, limit=1)
    return found[0] if found else None


async def recent_reviews(conn: Conn, partner_id: int, *, limit: int = 3) -> list[SiteReview]:
    """The site's latest visits, newest first."""
    rows = await conn.fetch_all(
        f"{_REVIEWS} WHERE r.partner_id = :p ORDER BY r.visited_on DESC, r.id DESC LIMIT :limit",
        {"p": partner_id, "limit": limit},
    )
    return await _with_checks(conn, rows)


async def _with_checks(conn: Conn, rows: list[sqlite3.Row]) -> list[SiteReview]:
    """The reviews of `rows`, each with its answers read from `site_review_checks`."""
    ids = [int(row["id"]) for row in rows]
    checks: dict[int, dict[str, bool]] = {review_id: {} for review_id in ids}
    if ids:
        found = await conn.fetch_all(
            "SELECT review_id, item, ok FROM site_review_checks"
            " WHERE review_id IN (SELECT value FROM json_each(:ids))",
            {"ids": json.dumps(ids)},
        )
        for row in found:
            if row["item"] in CHECK_KEYS:  # a point since dropped from the checklist is not shown
                checks[int(row["review_id"])][row["item"]] = bool(row["ok"])
    return [
        SiteReview.model_validate({**dict(row), "checks": checks[int(row["id"])]}) for row in rows
    ]


async def open_items(conn: Conn, partner_id: int) -> list[ActionItem]:
    rows = await conn.fetch_all(
        "SELECT * FROM action_items WHERE partner_id = :p AND done_at IS NULL ORDER BY due_on, id",
        {"p": partner_id},
    )
    return [ActionItem.model_validate(dict(row)) for row in rows]


async def open_items_due_by(conn: Conn, until: date) -> list[ActionItem]:
    """Every site's open items due on or before `until`, soonest first (the reminders)."""
    rows = await conn.fetch_all(
        "SELECT * FROM action_items WHERE done_at IS NULL AND due_on <= :until ORDER BY due_on, id",
        {"until": date_to_db(until)},
    )
    return [ActionItem.model_validate(dict(row)) for row in rows]


async def items_of(conn: Conn, review_id: int) -> list[ActionItem]:
    rows = await conn.fetch_all(
        "SELECT * FROM action_items WHERE review_id = :r ORDER BY id", {"r": review_id}
    )
    return [ActionItem.model_validate(dict(row)) for row in rows]


async def get_item(conn: Conn, item_id: int) -> ActionItem | None:
    row = await conn.fetch_one("SELECT * FROM action_items WHERE id = :id", {"id": item_id})
    return ActionItem.model_validate(dict(row)) if row else None


async def summary_by_partner(conn: Conn, caf_id: int, today: date) -> dict[int, ReviewSummary]:
    """Every site of the Caf: its last visit date, open and overdue action items."""
    rows = await conn.fetch_all(
        "SELECT s.id,"
        " (SELECT MAX(r.visited_on) FROM site_reviews r WHERE r.partner_id = s.id),"
        " (SELECT COUNT(*) FROM action_items a WHERE a.partner_id = s.id AND a.done_at IS NULL),"
        " (SELECT COUNT(*) FROM action_items a WHERE a.partner_id = s.id AND a.done_at IS NULL"
        "  AND a.due_on < :today)"
        " FROM partners s WHERE s.caf_id = :caf ORDER BY s.id",
        {"caf": caf_id, "today": date_to_db(today)},
    )
    return {
        int(row[0]): ReviewSummary(
            date.fromisoformat(row[1]) if row[1] else None, int(row[2]), int(row[3])
        )
        for row in rows
    }


async def open_missing_points(
    conn: Conn, caf_id: int, partner_id: int | None = None
) -> dict[int, tuple[date, tuple[str, ...]]]:
    """The sites whose latest visit found points wanting that no done action item answers."""
    rows = await conn.fetch_all(
        "WITH latest AS (SELECT id, partner_id, visited_on FROM ("
        "  SELECT r.id, r.partner_id, r.visited_on, ROW_NUMBER() OVER (PARTITION BY r.partner_id"
        "   ORDER BY r.visited_on DESC, r.id DESC) AS rank FROM site_reviews r"
        "  WHERE r.caf_id = :caf AND (r.partner_id = :p OR :p IS NULL)) AS ranked WHERE rank = 1)"
        " SELECT l.partner_id, l.visited_on, c.item FROM latest l"
        " JOIN site_review_checks c ON c.review_id = l.id AND c.ok = 0"
        " WHERE NOT EXISTS (SELECT 1 FROM action_items a WHERE a.review_id = l.id"
        "  AND a.point = c.item AND a.done_at IS NOT NULL)",
        {"caf": caf_id, "p": partner_id},
    )
    found: dict[int, tuple[date, set[str]]] = {}
    for row in rows:
        _, points = found.setdefault(
            int(row["partner_id"]), (date.fromisoformat(row["visited_on"]), set())
        )
        points.add(row["item"])
    # In the checklist's order (a point since dropped from it is not reported).
    return {
        partner: (day, tuple(key for key in CHECK_KEYS if key in points))
        for partner, (day, points) in found.items()
        if any(key in points for key in CHECK_KEYS)
    }


# --------------------------------------------------------------------------- writing


async def record(
    conn: Conn,
    *,
    caf_id: int,
    partner_id: int,
    state: DraftState,
    by: int,
    now: datetime,
) -> tuple[SiteReview, list[ActionItem]]:
    """Keeps a visit and its action plan; call it inside the transaction that consumes the draft."""
    if not state.complete or state.visited_on is None:
        raise ValueError("an incomplete visit cannot be recorded")
    review_id = await conn.execute(
        "INSERT INTO site_reviews (caf_id, partner_id, visited_on, premises_ok, equipment_ok,"
        " hours_ok, remarks, recorded_by, recorded_at) VALUES (:caf, :p, :on, :premises,"
        " :equipment, :hours, :remarks, :by, :now)",
        {
            "caf": caf_id,
            "p": partner_id,
            "on": date_to_db(state.visited_on),
            **{key: int(state.answers[key]) for key in LEGACY_KEYS},
            "remarks": state.remarks,
            "by": by,
            "now": to_db(now),
        },
    )
    assert review_id is not None
    await conn.executemany(
        "INSERT INTO site_review_checks (review_id, item, ok) VALUES (:r, :item, :ok)",
        [{"r": review_id, "item": key, "ok": int(state.answers[key])} for key in CHECK_KEYS],
    )
    await conn.executemany(
        "INSERT INTO action_items (review_id, partner_id, description, owner, due_on, point,"
        " created_at) VALUES (:r, :p, :description, :owner, :due, :point, :now)",
        [
            {
                "r": review_id,
                "p": partner_id,
                "description": item.description,
                "owner": item.owner.value,
                "due": date_to_db(item.due_on),
                "point": item.point,
                "now": to_db(now),
            }
            for item in state.items
        ],
    )
    rows = await conn.fetch_all(f"{_REVIEWS} WHERE r.id = :id", {"id": review_id})
    [review] = await _with_checks(conn, rows)
    return review, await items_of(conn, review_id)


async def mark_done(conn: Conn, item_id: int, *, by: int, now: datetime) -> bool:
    """False when the item was already done (a double tap)."""
    row = await conn.fetch_one(
        "UPDATE action_items SET done_at = :now, done_by = :by"
        " WHERE id = :id AND done_at IS NULL RETURNING id",
        {"id": item_id, "by": by, "now": to_db(now)},
    )
    return row is not None


# --------------------------------------------------------------------------- drafts


def _draft(row: sqlite3.Row) -> ReviewDraft:
    data: dict[str, Any] = dict(row)
    state = json.loads(data.pop("state"))
    data["state"] = DraftState.from_json(state) if "step" in state else None
    data["saved_review"] = state.get("review")
    return ReviewDraft.model_validate(data)


async def get_draft(conn: Conn, person_id: int) -> ReviewDraft | None:
    """The person's draft row, open or not (None: they never started a visit)."""
    row = await conn.fetch_one("SELECT * FROM review_drafts WHERE person_id = :p", {"p": person_id})
    return _draft(row) if row else None


async def open_draft(conn: Conn, person_id: int) -> ReviewDraft | None:
    found = await get_draft(conn, person_id)
    return found if found is not None and found.state is not None else None


async def start_draft(conn: Conn, *, person_id: int, partner_id: int, now: datetime) -> ReviewDraft:
    """A fresh visit for this site, replacing whatever the person was recording."""
    row = await conn.fetch_one(
        "INSERT INTO review_drafts (person_id, partner_id, state, revision, updated_at)"
        " VALUES (:p, :partner, :state, 1, :now) ON CONFLICT (person_id) DO UPDATE SET"
        " partner_id = excluded.partner_id, state = excluded.state,"
        " revision = review_drafts.revision + 1, updated_at = excluded.updated_at RETURNING *",
        {
            "p": person_id,
            "partner": partner_id,
            "state": json.dumps(DraftState().to_json(), ensure_ascii=False),
            "now": to_db(now),
        },
    )
    assert row is not None
    return _draft(row)


async def save_draft(
    conn: Conn, *, person_id: int, revision: int, state: DraftState, now: datetime
) -> ReviewDraft | None:
    """The draft moved on from `revision`; None when it is no longer at that revision."""
    row = await conn.fetch_one(
        "UPDATE review_drafts SET state = :state, revision = revision + 1, updated_at = :now"
        " WHERE person_id = :p AND revision = :rev AND json_extract(state, '$.step') IS NOT NULL"
        " RETURNING *",
        {
            "p": person_id,
            "rev": revision,
            "state": json.dumps(state.to_json(), ensure_ascii=False),
            "now": to_db(now),
        },
    )
    return _draft(row) if row else None


async def consume_draft(
    conn: Conn, person_id: int, *, revision: int | None, review_id: int | None, now: datetime
) -> bool:
    """Empties an open draft once (saved as `review_id`, or abandoned when None).

    With `revision`, only the draft at that revision; False when there was nothing to empty.
    """
    row = await conn.fetch_one(
        "UPDATE review_drafts SET state = :state, revision = revision + 1, updated_at = :now"
        " WHERE person_id = :p AND json_extract(state, '$.step') IS NOT NULL"
        " AND (revision = :rev OR :rev IS NULL) RETURNING person_id",
        {
            "p": person_id,
            "rev": revision,
            "state": json.dumps({"review": review_id}),
            "now": to_db(now),
        },
    )
    return row is not None


async def drop_draft(conn: Conn, person_id: int, now: datetime) -> bool:
    """/annuler and « Abandonner »: the visit being recorded is forgotten."""
    return await consume_draft(conn, person_id, revision=None, review_id=None, now=now)
