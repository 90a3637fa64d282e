"""🎓 Formations: each person's training history (issue #17, item 3).

Filled two ways: from a training day's attendance, as a coordinator marks it
(bot/services/events.py `mark` calls `on_attendance` in its own transaction), and by hand
by a coordinator from the person's card (`add`). Either way, the first training attended
closes the person's « nouvel agent à former » need with a note; until then that need
cannot be closed by hand (`blocks_closing`): the coordinator is asked to record the
training first, which closes it. Each change is audited.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain import trainings as rules
from bot.domain.events import Event
from bot.domain.models import Caf, Member, Person
from bot.domain.permissions import Role
from bot.domain.person_sites import SITE_ROLES
from bot.domain.signals import Op
from bot.domain.trainings import Training, TrainingRecord
from bot.exports.csv_format import CSV_BOM, csv_text
from bot.services import audit, signal_notices
from storage import pending, people
from storage import signals as signal_store
from storage import trainings as store
from storage.db import Conn, Database, Tx


class UnknownPerson(LookupError):
    """Not an agent or manager of the member's Caf (forged, another Caf's, a coordinator)."""


@dataclass(frozen=True)
class History:
    person: Person
    trainings: list[Training]

    @property
    def trained(self) -> bool:
        return rules.is_trained(self.trainings)


@dataclass(frozen=True)
class Added:
    history: History
    closed_need: bool  # the person's « nouvel agent à former » need was closed by it


async def _person(conn: Conn, member: Member, person_id: int) -> Person:
    person = await people.get(conn, person_id)
    if person is None or person.caf_id != member.caf.id or person.role not in SITE_ROLES:
        raise UnknownPerson("not a site person of this Caf")
    return person


async def history(db: Database, member: Member, person_id: int) -> History:
    """The person's trainings, latest first."""
    person = await _person(db, member, person_id)
    return History(person, await store.of_person(db, person.id))


async def add(
    db: Database, member: Member, person_id: int, title: str, day_text: str, now: datetime
) -> Added:
    """A training the person attended, recorded by hand (TrainingDateError for a date that
    cannot be used: nothing is recorded, the date is asked again)."""
    day = rules.parse_training_day(day_text, now.astimezone(member.caf.zone).date())
    async with db.transaction() as tx:
        person = await _person(tx, member, person_id)
        await pending.clear(tx, member.person.id)
        training_id = await store.add(
            tx,
            caf_id=member.caf.id,
            person_id=person.id,
            title=title,
            on_date=day,
            by=member.person.id,
            now=now,
        )
        details = {"person": person.id, "on": day.isoformat()}
        await audit.record(
            tx, member, "training.recorded", now, ("training", training_id), details=details
        )
        closed = await _close_need(tx, member, person.id, title, day, now)
        found = History(person, await store.of_person(tx, person.id))
    return Added(found, closed)


async def remove(
    db: Database, member: Member, person_id: int, training_id: int, now: datetime
) -> History:
    """A training recorded by hand by mistake, taken out of the history, audited. A need
    it closed stays closed (its note says when and why); compliance counts the person as
    untrained again if nothing else is left. Gone already (a double tap): nothing changes."""
    async with db.transaction() as tx:
        person = await _person(tx, member, person_id)
        gone = await store.remove_by_hand(tx, training_id, person.id)
        if gone is not None:
            details = {"person": person.id, "on": gone.on_date.isoformat()}
            await audit.record(
                tx, member, "training.removed", now, ("training", gone.id), details=details
            )
        return History(person, await store.of_person(tx, person.id))


async def on_attendance(
    tx: Tx, member: Member, event: Event, person_id: int, attended: bool | None, now: datetime
) -> None:
    """A training day's attendance just marked (the caller audits the marking)."""
    day = event.starts_at.astimezone(member.caf.zone).date()
    await store.record_event(
        tx,
        caf_id=event.caf_id,
        person_id=person_id,
        event_id=event.id,
        title=event.title,
        on_date=day,
        attended=attended,
        by=member.person.id,
        now=now,
    )
    if attended:
        await _close_need(tx, member, person_id, event.title, day, now)


async def _close_need(
    tx: Tx, member: Member, person_id: int, title: str, day: date, now: datetime
) -> bool:
    """Closes the person's open « nouvel agent à former » need, with a note saying why."""
    signal_id = await store.open_new_agent_need(tx, person_id)
    signal = await signal_store.get(tx, signal_id) if signal_id is not None else None
    if signal is None:
        return False
    note = rules.closing_note(title, day)
    moved = await signal_notices.move(
        tx, signal, Op.RESOLVE, by=member.person, now=now, resolution=note
    )
    if moved:
        details = {"kind": signal.kind.value, "partner": signal.partner_id, "by": "training"}
        await audit.record(
            tx, member, "signal.resolved", now, ("signal", signal.id), details=details
        )
    return moved


async def blocks_closing(db: Database, signal_id: int) -> bool:
    """A new agent's training need whose agent has no training attended: not closed by hand."""
    return await store.untrained_new_agent(db, signal_id)


# ------------------------------------------------------------------------------ export
CSV_HEADER = (
    "personne",
    "rôle",
    "site",
    "formation",
    "date",
    "présence",
    "origine",
    "enregistrée par",
    "enregistrée le",
)


def _cells(record: TrainingRecord, caf: Caf) -> list[object]:
    return [
        record.person,
        Role(record.role).label,
        record.site,
        record.title,
        record.on_date.strftime("%d/%m/%Y"),
        "présent" if record.attended else "absent",
        "saisie à la main" if record.by_hand else "journée de formation",
        record.recorded_by,
        record.recorded_at.astimezone(caf.zone),
    ]


async def export_csv(db: Database, caf: Caf) -> tuple[bytes, int]:
    """The Caf's training records as French Excel opens them (BOM, `;`, CRLF), every typed
    text guarded against formulas; and how many rows."""
    async with db.read() as snapshot:
        found = await store.records(snapshot, caf.id)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for record in found:
        writer.writerow([csv_text(value) for value in _cells(record, caf)])
    return (CSV_BOM + out.getvalue()).encode("utf-8"), len(found)


@dataclass(frozen=True)
class Exported:
    content: bytes
    filename: str
    rows: int


async def export_file(db: Database, member: Member, person_id: int, now: datetime) -> Exported:
    """« 📤 Exporter les formations », under the history of `person_id`: the Caf's records, as
    the command line writes them; the export is audited (it names people)."""
    await _person(db, member, person_id)  # a button of this Caf's, not a forged one
    content, rows = await export_csv(db, member.caf)
    async with db.transaction() as tx:
        await audit.record(tx, member, "training.exported", now, details={"rows": rows})
    day = now.astimezone(member.caf.zone).date()
    return Exported(content, f"formations-{day.isoformat()}.csv", rows)
