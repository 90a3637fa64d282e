"""What the compliance view and the renewal reminders read: grouped queries, never one per site.

`site_facts` gathers `SiteFacts` for every site of a Caf (or one of them) in ten queries
whatever the number of sites, inside one read transaction so that they all see one state of
the database. Instants are stored in UTC; the days the rules compare are local to the Caf.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import compliance as rules
from bot.domain.compliance import (
    ActionPlanFacts,
    ClosureFacts,
    HoursFacts,
    ReviewFacts,
    SignalFacts,
    SiteFacts,
    TrainingDayFacts,
    Transmission,
    TransmissionStatus,
    UntrainedPerson,
)
from bot.domain.models import Caf, Model
from bot.domain.permissions import LabelStatus, Role
from bot.domain.secrecy import is_committed
from storage import terminations
from storage.db import Conn, Database, Tx
from storage.timefmt import date_to_db, to_db

_SITE = "p.caf_id = :caf AND (p.id = :partner OR :partner IS NULL)"


def _local_day(stored: str, tz: ZoneInfo) -> date:
    return datetime.fromisoformat(stored).astimezone(tz).date()


async def site_facts(
    db: Database, caf: Caf, *, now: datetime, partner_id: int | None = None
) -> list[SiteFacts]:
    """The facts of each site of `caf` (only `partner_id` when given), as of `now`."""
    tz = ZoneInfo(caf.timezone)
    today = now.astimezone(tz).date()
    params: dict[str, Any] = {
        "caf": caf.id,
        "partner": partner_id,
        "today": date_to_db(today),
        "from": date_to_db(rules.window_start(today)),
        "now": to_db(now),
        "window": rules.TRANSMISSION_WINDOW,
    }
    async with db.read() as tx:
        sites = await _sites(tx, params)
        hours = await _hours(tx, params)
        closures = await _closures(tx, params, today)
        transmissions = await _transmissions(tx, params)
        training = await _training_day(tx, params, tz)
        untrained = await _untrained(tx, params, tz)
        uncommitted = await _uncommitted(tx, params)
        signals = await _signals(tx, params, tz)
        reviews = await _reviews(tx, params)
        plans = await _action_plans(tx, params)
        notices = await terminations.standing_for_caf(tx, caf.id)  # Article 11
    facts = []
    for row in sites:
        pid = int(row["id"])
        last_visit = row["last_visit"]
        facts.append(
            SiteFacts(
                partner_id=pid,
                name=row["name"],
                city=row["city"],
                label_status=LabelStatus(row["label_status"]),
                label_since=_local_day(row["label_status_since"], tz),
                created_on=_local_day(row["created_at"], tz),
                label_reason=row["label_reason"],
                convention_start=(
                    date.fromisoformat(row["convention_start"]) if row["convention_start"] else None
                ),
                hours=hours.get(pid),
                closures=closures.get(pid, ClosureFacts()),
                last_visit_on=_local_day(last_visit, tz) if last_visit else None,
                transmissions=tuple(transmissions.get(pid, ())),
                training_day=training.for_site(pid) if training else None,
                untrained=tuple(untrained.get(pid, ())),
                uncommitted=tuple(uncommitted.get(pid, ())),
                difficulties=signals.get((pid, "difficulty"), SignalFacts()),
                training_needs=signals.get((pid, "training"), SignalFacts()),
                last_review=reviews.get(pid),
                action_plan=plans.get(pid, ActionPlanFacts()),
                terminated_by=notices[pid].by_party if pid in notices else None,
                terminated_on=notices[pid].effective_on if pid in notices else None,
            )
        )
    return facts


async def _sites(tx: Tx, params: dict[str, Any]) -> list[sqlite3.Row]:
    # The last visit per site: a correlated MAX is one seek in visits_by_partner per site,
    # where a GROUP BY over the Caf's visits would read every visit ever logged.
    return await tx.fetch_all(
        "SELECT p.id, p.name, p.city, p.label_status, p.label_status_since, p.label_reason,"
        " p.convention_start, p.created_at,"
        " (SELECT MAX(v.visited_at) FROM visits v WHERE v.partner_id = p.id) AS last_visit"
        f" FROM partners p WHERE {_SITE} ORDER BY p.name, p.city",
        params,
    )


async def _hours(tx: Tx, params: dict[str, Any]) -> dict[int, HoursFacts]:
    """The schedule in force today: the latest `effective_from` on or before it (storage/hours)."""
    rows = await tx.fetch_all(
        "SELECT partner_id, effective_from, half_days, minutes, compliant FROM ("
        " SELECT h.*, ROW_NUMBER() OVER (PARTITION BY h.partner_id"
        "  ORDER BY h.effective_from DESC, h.id DESC) AS rank"
        " FROM opening_hours h JOIN partners p ON p.id = h.partner_id"
        f" WHERE {_SITE} AND h.effective_from <= :today) AS ranked WHERE rank = 1",
        params,
    )
    return {
        int(r["partner_id"]): HoursFacts(
            effective_from=date.fromisoformat(r["effective_from"]),
            half_days=int(r["half_days"]),
            minutes=int(r["minutes"]),
            compliant=bool(r["compliant"]),
        )
        for r in rows
    }


async def _closures(tx: Tx, params: dict[str, Any], today: date) -> dict[int, ClosureFacts]:
    rows = await tx.fetch_all(
        "SELECT c.partner_id, COUNT(*) AS n, SUM(julianday(MIN(c.end_date, :today))"
        " - julianday(MAX(c.start_date, :from)) + 1) AS days"
        " FROM closures c JOIN partners p ON p.id = c.partner_id"
        f" WHERE {_SITE} AND c.cancelled_at IS NULL AND c.end_date >= :from"
        " AND c.start_date <= :today GROUP BY c.partner_id",
        params,
    )
    # Two overlapping closures would count their common days twice: never past the window.
    longest = (today - date.fromisoformat(params["from"])).days + 1
    return {
        int(r["partner_id"]): ClosureFacts(int(r["n"]), min(longest, int(r["days"]))) for r in rows
    }


async def _transmissions(tx: Tx, params: dict[str, Any]) -> dict[int, list[Transmission]]:
    rows = await tx.fetch_all(
        "SELECT partner_id, period, status, due_on FROM ("
        " SELECT r.partner_id, r.period, r.status, r.due_on, ROW_NUMBER() OVER"
        "  (PARTITION BY r.partner_id ORDER BY r.starts_at DESC) AS rank"
        " FROM period_reports r JOIN partners p ON p.id = r.partner_id"
        f" WHERE {_SITE}) AS ranked WHERE rank <= :window ORDER BY partner_id, rank",
        params,
    )
    found: dict[int, list[Transmission]] = defaultdict(list)
    for r in rows:
        found[int(r["partner_id"])].append(
            Transmission(
                r["period"], TransmissionStatus(r["status"]), date.fromisoformat(r["due_on"])
            )
        )
    return found


@dataclass(frozen=True)
class _LastTrainingDay:
    title: str
    day: date
    recorded: bool
    counts: dict[int, tuple[int, int]]  # site: (invited, present)

    def for_site(self, partner_id: int) -> TrainingDayFacts:
        invited, present = self.counts.get(partner_id, (0, 0))
        return TrainingDayFacts(self.title, self.day, invited, present, self.recorded)


async def _training_day(tx: Tx, params: dict[str, Any], tz: ZoneInfo) -> _LastTrainingDay | None:
    """The Caf's last training day that has taken place, and each site's people there."""
    event = await tx.fetch_one(
        "SELECT e.id, e.title, e.starts_at, EXISTS (SELECT 1 FROM event_invitations i"
        "  WHERE i.event_id = e.id AND i.attended IS NOT NULL) AS recorded"
        " FROM events e WHERE e.caf_id = :caf AND e.kind = 'training_day'"
        " AND e.status = 'published' AND e.ends_at <= :now ORDER BY e.starts_at DESC LIMIT 1",
        params,
    )
    if event is None:
        return None
    rows = await tx.fetch_all(
        "SELECT pe.partner_id, COUNT(*) AS invited, COALESCE(SUM(i.attended = 1), 0) AS came"
        " FROM event_invitations i JOIN people pe ON pe.id = i.person_id"
        " JOIN partners p ON p.id = pe.partner_id"
        f" WHERE i.event_id = :event AND {_SITE} GROUP BY pe.partner_id",
        {**params, "event": event["id"]},
    )
    return _LastTrainingDay(
        title=event["title"],
        day=_local_day(event["starts_at"], tz),
        recorded=bool(event["recorded"]),
        counts={int(r["partner_id"]): (int(r["invited"]), int(r["came"])) for r in rows},
    )


async def _untrained(
    tx: Tx, params: dict[str, Any], tz: ZoneInfo
) -> dict[int, list[UntrainedPerson]]:
    """Each site's active agents and managers with no training attended (storage/trainings)."""
    rows = await tx.fetch_all(
        "SELECT s.partner_id, pe.display_name, s.since FROM person_sites s"
        " JOIN people pe ON pe.id = s.person_id JOIN partners p ON p.id = s.partner_id"
        f" WHERE {_SITE} AND pe.status = 'active' AND pe.role IN ('agent', 'manager')"
        " AND NOT EXISTS (SELECT 1 FROM trainings t WHERE t.person_id = pe.id"
        " AND t.attended = 1) ORDER BY s.partner_id, pe.display_name",
        params,
    )
    found: dict[int, list[UntrainedPerson]] = defaultdict(list)
    for r in rows:
        found[int(r["partner_id"])].append(
            UntrainedPerson(r["display_name"], _local_day(r["since"], tz))
        )
    return found


async def _uncommitted(tx: Tx, params: dict[str, Any]) -> dict[int, list[str]]:
    """Each site's active agents and managers not committed to the current statement of
    professional secrecy (Article 5: bot/domain/secrecy.py decides who must be)."""
    rows = await tx.fetch_all(
        "SELECT s.partner_id, pe.display_name, pe.role, pe.secrecy_version FROM person_sites s"
        " JOIN people pe ON pe.id = s.person_id JOIN partners p ON p.id = s.partner_id"
        f" WHERE {_SITE} AND pe.status = 'active' ORDER BY s.partner_id, pe.display_name",
        params,
    )
    found: dict[int, list[str]] = defaultdict(list)
    for r in rows:
        if not is_committed(Role(r["role"]), r["secrecy_version"]):
            found[int(r["partner_id"])].append(r["display_name"])
    return found


async def _signals(
    tx: Tx, params: dict[str, Any], tz: ZoneInfo
) -> dict[tuple[int, str], SignalFacts]:
    rows = await tx.fetch_all(
        "SELECT s.partner_id, s.kind, COUNT(*) AS n,"
        " MIN(CASE WHEN s.status = 'open' THEN s.created_at END) AS oldest_open"
        " FROM signals s JOIN partners p ON p.id = s.partner_id"
        f" WHERE {_SITE} AND s.caf_id = :caf AND s.kind IN ('difficulty', 'training')"
        " AND s.status != 'resolved' GROUP BY s.partner_id, s.kind",
        params,
    )
    return {
        (int(r["partner_id"]), r["kind"]): SignalFacts(
            int(r["n"]), _local_day(r["oldest_open"], tz) if r["oldest_open"] else None
        )
        for r in rows
    }


async def _reviews(tx: Tx, params: dict[str, Any]) -> dict[int, ReviewFacts]:
    rows = await tx.fetch_all(
        "SELECT partner_id, visited_on, premises_ok, equipment_ok, hours_ok FROM ("
        " SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.partner_id"
        "  ORDER BY r.visited_on DESC, r.id DESC) AS rank"
        " FROM site_reviews r JOIN partners p ON p.id = r.partner_id"
        f" WHERE {_SITE}) AS ranked WHERE rank = 1",
        params,
    )
    return {
        int(r["partner_id"]): ReviewFacts(
            date.fromisoformat(r["visited_on"]),
            bool(r["premises_ok"]),
            bool(r["equipment_ok"]),
            bool(r["hours_ok"]),
        )
        for r in rows
    }


async def _action_plans(tx: Tx, params: dict[str, Any]) -> dict[int, ActionPlanFacts]:
    rows = await tx.fetch_all(
        "SELECT a.partner_id, COUNT(*) AS n, COALESCE(SUM(a.due_on < :today), 0) AS late"
        " FROM action_items a JOIN partners p ON p.id = a.partner_id"
        f" WHERE {_SITE} AND a.done_at IS NULL GROUP BY a.partner_id",
        params,
    )
    return {int(r["partner_id"]): ActionPlanFacts(int(r["n"]), int(r["late"])) for r in rows}


# --------------------------------------------------------------------------- renewal
class Convention(Model):
    """A labelled site's convention, for the renewal reminders (Article 11)."""

    partner_id: int
    caf_id: int
    timezone: str
    name: str
    city: str
    convention_start: date


async def conventions_to_remind(conn: Conn) -> list[Convention]:
    """Every convention with a known start whose label is not withdrawn, all Cafs."""
    rows = await conn.fetch_all(
        "SELECT p.id AS partner_id, p.caf_id, c.timezone, p.name, p.city, p.convention_start"
        " FROM partners p JOIN cafs c ON c.id = p.caf_id"
        " WHERE p.label_status != 'withdrawn' AND p.convention_start IS NOT NULL"
        " ORDER BY p.caf_id, p.name, p.city"
    )
    return [Convention.model_validate(dict(r)) for r in rows]


async def reminded(conn: Conn, partner_id: int, deadline: date) -> bool:
    """Whether the coordinators were already reminded of this (site, notice deadline)."""
    found = await conn.fetch_value(
        "SELECT 1 FROM renewal_reminders WHERE partner_id = :p AND notice_deadline = :deadline",
        {"p": partner_id, "deadline": date_to_db(deadline)},
    )
    return found is not None


async def record_reminder(tx: Tx, partner_id: int, deadline: date, now: datetime) -> bool:
    """Notes that the reminder of (site, notice deadline) is sent; False if it already was."""
    row = await tx.fetch_one(
        "INSERT INTO renewal_reminders (partner_id, notice_deadline, sent_at)"
        " VALUES (:p, :deadline, :now) ON CONFLICT DO NOTHING RETURNING partner_id",
        {"p": partner_id, "deadline": date_to_db(deadline), "now": to_db(now)},
    )
    return row is not None


async def reminders_sent(conn: Conn, partner_id: int) -> list[date]:
    rows = await conn.fetch_all(
        "SELECT notice_deadline FROM renewal_reminders WHERE partner_id = :p"
        " ORDER BY notice_deadline",
        {"p": partner_id},
    )
    return [date.fromisoformat(r[0]) for r in rows]
