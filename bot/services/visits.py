"""📝 Nouvelle visite, 🗂 Mes visites and 📊 Mes chiffres: a visit's draft tap by tap, its
saving, undoing and modifying, one's recent visits, training mode, and an agent's counts.

A tap is one transaction and no more reads than the step it shows needs: a step is
progress (`durable=False`, storage/db.py), a save or an undo is a record (durable, with its
audit entry). A tap whose revision is not the draft's current one changes nothing.

One rule lives here and only here: a visit logged, modified or undone in a period that its
manager validated asks for a new validation of that period (`_reopen_periods`), in the
transaction that changes the visit. A visit is deleted one way (`_delete`): by ↩️ within the
undo window of its saving, or by 🗑 from 🗂 Mes visites while the list shows it.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from bot.domain.models import Member
from bot.domain.visit_log import (
    Advanced,
    Cancelled,
    Counts,
    DraftRecord,
    Expired,
    Expiry,
    Gone,
    Invalid,
    MyFigures,
    MyVisits,
    Quit,
    Resumed,
    Saved,
    Seen,
    Shown,
    Tapped,
    TooLate,
    Undoing,
    Undone,
    Unlisted,
    VisitRecord,
    calendar_bounds,
)
from bot.domain.visits import (
    LATE_DAYS,
    Answers,
    Draft,
    InvalidAnswer,
    Op,
    Step,
    new_draft,
    validate_complete,
    visit_time,
)
from bot.services import audit
from storage import people, period_reports
from storage import visits as store
from storage.db import Database, Tx

FREQUENT_WINDOW = timedelta(days=30)
FREQUENT_CACHE_SECONDS = 300.0
# Each database's sites' top requests, with when they were counted: they change slowly, and
# the request step is shown on most visits.
_frequent_cache: WeakKeyDictionary[Database, dict[int, tuple[float, tuple[str, ...]]]] = (
    WeakKeyDictionary()
)


class NotYours(Exception):
    """The data names a draft or a visit that is not this person's: forged, never shown."""


# ------------------------------------------------------------------------------ starting
async def open_visit(
    db: Database, member: Member, *, chat_id: int, now: datetime, max_age: timedelta
) -> DraftRecord | Shown:
    """📝 Nouvelle visite: the person's half-logged visit of this site, younger than
    `max_age`, to offer resuming; else a fresh draft, to show in a new message."""
    record = await store.open_draft(db, member.person.id)
    if (
        record is not None
        and record.partner_id == member.person.partner_id
        and (record.draft.profile_given or record.draft.editing)
        and now - record.updated_at < max_age
    ):
        return record
    return await _start(db, member, chat_id, now)


async def shown_in(db: Database, draft_id: int, message_id: int) -> None:
    """The draft's steps are in this message from now on: its buttons act, older ones expire."""
    async with db.transaction(durable=False) as tx:  # where someone is, not a record
        await store.set_message(tx, draft_id, message_id)


async def resume(
    db: Database,
    member: Member,
    draft_id: int,
    *,
    revision: int,
    message_id: int | None,
    now: datetime,
) -> Resumed | Expired:
    """▶️ Reprendre: the open draft continues in the message offering it."""
    record = await _own_draft(db, member, draft_id)
    if not record.is_open or revision != record.revision:
        return Expired(Expiry.CLOSED)
    retired = record.message_id
    if message_id is not None:
        await shown_in(db, record.id, message_id)
        record = record.model_copy(update={"message_id": message_id})
    return Resumed(await _shown(db, record, now), retired)


async def restart(
    db: Database, member: Member, draft_id: int, *, revision: int, now: datetime
) -> Shown | Expired:
    """📝 Recommencer à zéro: the open draft is abandoned, a fresh one started."""
    record = await _own_draft(db, member, draft_id)
    if not record.is_open or revision != record.revision:
        return Expired(Expiry.CLOSED)
    return await _start(db, member, record.chat_id, now, abandon=True)


async def _start(
    db: Database, member: Member, chat_id: int, now: datetime, *, abandon: bool = False
) -> Shown:
    partner_id = member.person.partner_id
    assert partner_id is not None  # logging visits is for people of a site
    async with db.transaction(durable=False) as tx:  # a draft: progress, not a record
        if abandon:
            await store.abandon_open(tx, member.person.id, now)
        record = await store.start_draft(
            tx,
            person_id=member.person.id,
            partner_id=partner_id,
            chat_id=chat_id,
            training=await store.training_mode(tx, member.person.id),
            draft=new_draft(),
            now=now,
        )
    return await _shown(db, record, now)


# ------------------------------------------------------------------------------ a step's taps
async def tap(
    db: Database,
    member: Member,
    draft_id: int,
    *,
    revision: int,
    op: Op,
    value: str,
    message_id: int | None,
    now: datetime,
) -> Tapped:
    """An answer, ⬅️, ➕, 🕘 or 💾 on the draft's message: the draft advances by one step,
    or, its last answer given, the visit is saved."""
    checked = await _checked(db, member, draft_id, revision, message_id, now)
    if not isinstance(checked, DraftRecord):
        return checked
    record = checked
    try:
        draft = await _next(db, member, record, op, value, now)
    except InvalidAnswer as invalid:
        return Invalid(str(invalid))
    if draft.step is Step.DONE or op is Op.SAVE:
        return await _save(db, member, record, draft, now)
    # A step is progress, not a record: it need not wait for the disk (storage/db.py).
    async with db.transaction(durable=False) as tx:
        moved = await store.advance(tx, record, draft, now)
    if moved:  # what was just written; no need to read it back
        fresh = record.model_copy(update={"draft": draft, "revision": record.revision + 1})
    else:
        reread = await store.get_draft(db, record.id)
        assert reread is not None
        fresh = reread
    return Advanced(await _shown(db, fresh, now), moved)


async def abandon(
    db: Database,
    member: Member,
    draft_id: int,
    *,
    revision: int,
    message_id: int | None,
    now: datetime,
) -> Tapped:
    """✖️ Abandonner: nothing is stored; a modification left keeps its visit as saved."""
    checked = await _checked(db, member, draft_id, revision, message_id, now)
    if not isinstance(checked, DraftRecord):
        return checked
    async with db.transaction() as tx:
        closed = await store.close_draft(tx, checked, "abandoned", now)
    kept = None
    if checked.editing_visit_id is not None:
        kept = await store.get_visit(db, checked.editing_visit_id)
    return Quit(closed, kept)


async def _checked(
    db: Database,
    member: Member,
    draft_id: int,
    revision: int,
    message_id: int | None,
    now: datetime,
) -> DraftRecord | Expired | Seen | Saved:
    """The draft, if a tap on `message_id` seen at `revision` may act on it; else what the
    person is told instead."""
    record = await _own_draft(db, member, draft_id)
    if record.partner_id != member.person.partner_id and not await _still_works_at(
        db, member, record.partner_id
    ):
        # Moved away from the site meanwhile; a switch between one's own sites (📍) lets
        # the visit in progress finish where it began.
        return Expired(Expiry.SITE_CHANGED)
    if record.message_id is None and message_id is not None:
        # The bot stopped between sending the step and noting its message: adopt it.
        await shown_in(db, record.id, message_id)
        record = record.model_copy(update={"message_id": message_id})
    on_its_message = message_id is not None and message_id == record.message_id
    if not record.is_open:
        if on_its_message and record.status == "saved":
            # Its last answer tapped again: the confirmation had not been shown (the bot
            # stopped, or Telegram failed, between the commit and the reply).
            modified = record.editing_visit_id is not None
            return Saved(await _visit_of(db, record), modified=modified, first=False)
        return Expired(Expiry.CLOSED)
    if not on_its_message:
        return Expired(Expiry.NEWER)
    if revision != record.revision:  # a double tap, an update redelivered
        return Seen(await _shown(db, record, now))
    return record


async def _next(
    db: Database, member: Member, record: DraftRecord, op: Op, value: str, now: datetime
) -> Draft:
    if op is Op.SAVE:
        if not (record.draft.editing and record.draft.complete):
            raise InvalidAnswer("La visite n'est pas complète.")
        return record.draft
    previous = None
    if op is Op.SAME_PROFILE:
        previous = await store.last_profile(db, member.person.id, training=record.training)
    return record.draft.apply(
        op, value, previous_profile=previous, now_local=now.astimezone(_tz(member))
    )


async def _save(
    db: Database, member: Member, record: DraftRecord, draft: Draft, now: datetime
) -> Saved:
    answers = draft.answers
    validate_complete(answers)
    visited_at = visit_time(answers, now, _tz(member))
    modifying = record.editing_visit_id is not None
    async with db.transaction() as tx:
        if modifying:
            visit_id = await _replace(tx, member, record, answers, visited_at, now)
        else:
            visit_id = await _log(tx, member, record, answers, visited_at, now)
    if visit_id is None:  # an earlier tap saved it
        return Saved(None, modified=modifying, first=False)
    _frequent_cache.get(db, {}).pop(record.partner_id, None)
    # The confirmation shows what was stored, read back after the commit.
    stored = await _load(db, visit_id, training=record.training)
    assert stored is not None
    return Saved(stored, modified=modifying, first=True)


async def _log(
    tx: Tx,
    member: Member,
    record: DraftRecord,
    answers: Answers,
    visited_at: datetime,
    now: datetime,
) -> int | None:
    visit_id = await store.save_visit(
        tx, record, answers, caf_id=member.caf.id, visited_at=visited_at, now=now
    )
    if visit_id is not None and not record.training:
        await _reopen_periods(tx, member, record.partner_id, [visited_at], now)
    return visit_id


async def _replace(
    tx: Tx,
    member: Member,
    record: DraftRecord,
    answers: Answers,
    visited_at: datetime,
    now: datetime,
) -> int | None:
    visit_id = record.editing_visit_id
    assert visit_id is not None
    before = await store.get_visit(tx, visit_id)
    if not await store.replace_visit(tx, record, answers, visited_at=visited_at, now=now):
        return None
    # Its period, and the one it was in if its time changed.
    instants = [visited_at] + ([before.visited_at] if before else [])
    await _reopen_periods(tx, member, record.partner_id, instants, now)
    await audit.record(tx, member, "visit.modified", now, ("visit", visit_id))
    return visit_id


async def _reopen_periods(
    tx: Tx, member: Member, partner_id: int, instants: list[datetime], now: datetime
) -> None:
    """The rule: visits logged, modified or undone at these instants change the figures of
    their periods, so a validated period asks its manager for a new validation."""
    await period_reports.visits_changed(tx, partner_id, instants, now=now, tz=_tz(member))


# ------------------------------------------------------------------------------ saved visits
async def undo(
    db: Database,
    member: Member,
    visit_id: int,
    *,
    training: bool,
    now: datetime,
    window: timedelta,
) -> Undoing:
    """↩️ Annuler cette visite: within `window` of its saving, the visit is deleted."""
    visit = await _load(db, visit_id, training=training)
    if visit is None:
        return Gone()
    _own(visit, member)
    if now - visit.created_at > window:
        return TooLate(visit)
    return Undone(await _delete(db, member, visit, now))


async def _delete(db: Database, member: Member, visit: VisitRecord, now: datetime) -> bool:
    """The one way a visit is deleted (↩️ on its confirmation, 🗑 from 🗂 Mes visites): its
    periods reopened and the deletion audited, in one transaction; False if it was gone."""
    async with db.transaction() as tx:
        deleted = await store.delete_visit(tx, visit.id, training=visit.training)
        if deleted and not visit.training:  # training visits count nowhere
            await _reopen_periods(tx, member, visit.partner_id, [visit.visited_at], now)
            await audit.record(tx, member, "visit.cancelled", now, ("visit", visit.id))
    return deleted


async def modify(
    db: Database,
    member: Member,
    visit_id: int,
    *,
    chat_id: int | None,
    message_id: int | None,
    now: datetime,
) -> Shown | Gone:
    """✏️ Modifier: a draft of the saved visit, shown in its confirmation's message; saving it
    replaces the visit in place."""
    visit = await store.get_visit(db, visit_id)
    if visit is None:
        return Gone()
    _own(visit, member)
    if member.person.partner_id is None or chat_id is None or message_id is None:
        raise NotYours("no site, or no message to modify it in")
    answers = visit.answers.model_copy(update={"fixed_at": visit.visited_at})
    async with db.transaction() as tx:
        record = await store.start_draft(
            tx,
            person_id=member.person.id,
            partner_id=visit.partner_id,
            chat_id=chat_id,
            training=False,
            draft=new_draft(editing_from=answers),
            now=now,
            editing_visit_id=visit.id,
        )
        await store.set_message(tx, record.id, message_id)
    return await _shown(db, record.model_copy(update={"message_id": message_id}), now)


# ------------------------------------------------------------------------------ 🗂 Mes visites
async def my_visits(db: Database, member: Member, now: datetime) -> MyVisits:
    """🗂 Mes visites: the person's visits of the days a visit may still be logged for (today
    and the 6 before, in their Caf's zone), training ones too, newest first."""
    since, today, start = _listed_days(member, now)
    lines = await store.recent_of_person(db, member.person.id, start)
    return MyVisits(since=since, today=today, lines=lines)


async def my_visit(
    db: Database, member: Member, visit_id: int, *, training: bool, now: datetime
) -> VisitRecord | Unlisted:
    """One of the person's visits, opened from 🗂 Mes visites (another's is refused), for its
    card or the question before cancelling it; the list as it stands if it was cancelled
    meanwhile or is older than the list's days."""
    visit = await _load(db, visit_id, training=training)
    if visit is not None:
        _own(visit, member)
    if visit is None or not _listed(visit, member, now):
        return Unlisted(await my_visits(db, member, now), too_old=visit is not None)
    return visit


async def cancel(
    db: Database, member: Member, visit_id: int, *, training: bool, now: datetime
) -> Cancelled | Unlisted:
    """🗑 Oui, l'annuler, from 🗂 Mes visites: any visit the list shows is deleted, however
    long ago it was saved — a correction, like ✏️ Modifier: its validated periods are asked
    again and it is audited (`_delete`). Then the list as it stands."""
    found = await my_visit(db, member, visit_id, training=training, now=now)
    if isinstance(found, Unlisted):
        return found
    deleted = await _delete(db, member, found, now)
    return Cancelled(deleted, await my_visits(db, member, now))


def _listed_days(member: Member, now: datetime) -> tuple[date, date, datetime]:
    """The list's first day and today, in the person's Caf's zone, and when the first began."""
    tz = _tz(member)
    today = now.astimezone(tz).date()
    since = today - timedelta(days=LATE_DAYS - 1)
    return since, today, datetime.combine(since, datetime.min.time(), tzinfo=tz)


def _listed(visit: VisitRecord, member: Member, now: datetime) -> bool:
    """Whether 🗂 Mes visites shows this visit of the person's (the rule of `my_visits`)."""
    return visit.visited_at >= _listed_days(member, now)[2]


# ------------------------------------------------------------------------------ other entries
async def open_draft_of(db: Database, member: Member, now: datetime) -> Shown | None:
    """The person's open draft of their current site, if any, as its message shows it."""
    record = await store.open_draft(db, member.person.id)
    if record is None or record.partner_id != member.person.partner_id:
        return None
    return await _shown(db, record, now)


async def abandon_open(db: Database, member: Member, now: datetime) -> DraftRecord | None:
    """/annuler: the person's open draft, if any, abandoned; returns it as it was."""
    async with db.transaction() as tx:
        record = await store.open_draft(tx, member.person.id)
        if record is not None:
            await store.abandon_open(tx, member.person.id, now)
    return record


async def toggle_training(db: Database, member: Member) -> bool:
    """🎓 Mode formation, switched; returns whether it is now on."""
    async with db.transaction() as tx:
        on = not await store.training_mode(tx, member.person.id)
        await store.set_training_mode(tx, member.person.id, on)
    return on


async def figures(db: Database, member: Member, now: datetime) -> MyFigures:
    """📊 Mes chiffres: the person's and their site's visits this day, week and month."""
    tz = _tz(member)
    today = now.astimezone(tz).date()
    person_id, partner_id = member.person.id, member.person.partner_id
    mine, site = {}, {}
    async with db.read() as conn:  # one snapshot: the figures agree with each other
        for name, (start, end) in calendar_bounds(today, tz).items():
            mine[name] = await store.count_visits(conn, start=start, end=end, person_id=person_id)
            site[name] = await store.count_visits(conn, start=start, end=end, partner_id=partner_id)
        training = await store.count_training(conn, person_id)
    return MyFigures(
        today=today,
        mine=Counts(mine["today"][0], mine["week"][0], mine["month"][0]),
        site=Counts(
            site["today"][0],
            site["week"][0],
            site["month"][0],
            resolved=site["month"][1],
            partly=site["month"][2],
        ),
        training=training,
    )


# ------------------------------------------------------------------------------ helpers
def _tz(member: Member) -> ZoneInfo:
    return member.caf.zone


async def _own_draft(db: Database, member: Member, draft_id: int) -> DraftRecord:
    record = await store.get_draft(db, draft_id)
    if record is None or record.person_id != member.person.id:
        raise NotYours("not this person's draft")
    return record


async def _still_works_at(db: Database, member: Member, partner_id: int) -> bool:
    return any(site.id == partner_id for site in await people.sites_of(db, member.person.id))


def _own(visit: VisitRecord, member: Member) -> None:
    if visit.person_id != member.person.id:
        raise NotYours("not this person's visit")


async def _load(db: Database, visit_id: int, *, training: bool) -> VisitRecord | None:
    return await (store.get_training_visit if training else store.get_visit)(db, visit_id)


async def _visit_of(db: Database, record: DraftRecord) -> VisitRecord | None:
    """The visit a closed draft saved (or modified), if it is still there."""
    visit_id = record.editing_visit_id or await store.visit_of_draft(
        db, record.id, training=record.training
    )
    return None if visit_id is None else await _load(db, visit_id, training=record.training)


async def _shown(db: Database, record: DraftRecord, now: datetime) -> Shown:
    """The draft with what its step offers: the previous profile at the first question, the
    site's frequent requests at the request question."""
    step = record.draft.step
    if step is Step.SEXE:
        previous = await store.last_profile(db, record.person_id, training=record.training)
        return Shown(record, has_previous_profile=previous is not None)
    if step is Step.DEMANDE:
        return Shown(record, frequent=await _frequent(db, record.partner_id, now))
    return Shown(record)


async def _frequent(db: Database, partner_id: int, now: datetime) -> tuple[str, ...]:
    """The site's top requests, cached a few minutes: they change slowly."""
    cache = _frequent_cache.setdefault(db, {})
    cached = cache.get(partner_id)
    if cached is not None and time.monotonic() - cached[0] < FREQUENT_CACHE_SECONDS:
        return cached[1]
    codes = tuple(await store.frequent_requests(db, partner_id, now - FREQUENT_WINDOW))
    cache[partner_id] = (time.monotonic(), codes)
    return codes
