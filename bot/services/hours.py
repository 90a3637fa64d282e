"""🕘 A site's weekly opening hours (Articles 4 and 7): the draft a manager edits, and its
declaration to the Caf.

The draft lives in the database (`hours_drafts`), one per person, so a restart loses
nothing. Declaring keeps every schedule (history), tells the Caf the difference, alerts it
when the hours fall below the convention's minimum (4 half-days, 12 hours) and closes that
alert once they are back above it. Every date here is the site's day in `tz`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import closure_dates, opening_hours
from bot.domain.models import Member, Partner
from bot.domain.opening_hours import Compliance, Period, WeeklySchedule
from bot.domain.signals import Op, SignalKind
from bot.services import audit, signal_notices
from storage import closures, hours, pending
from storage import signals as signal_store
from storage.closures import Closure
from storage.db import Conn, Database, Tx
from storage.hours import Declaration, HoursDraft

__all__ = [
    "MAX_EFFECTIVE_DAYS_AHEAD",
    "AlreadySaved",
    "Declaration",
    "DraftChanged",
    "EffectiveDateRefused",
    "Home",
    "HoursDraft",
    "NothingChanged",
    "Review",
]

MAX_EFFECTIVE_DAYS_AHEAD = 365
RISK_RESOLVED = "Horaires redevenus conformes au minimum de la convention."


class EffectiveDateRefused(Exception):
    """The date a schedule would apply from is not one the bot accepts."""

    class Why(StrEnum):
        PAST = "past"
        TOO_FAR = "too_far"

    def __init__(self, why: EffectiveDateRefused.Why) -> None:
        super().__init__(why.value)
        self.why = why


class AlreadySaved(Exception):
    """The draft is gone: a double tap saved it a moment ago. Carries the home to show."""

    def __init__(self, home: Home) -> None:
        super().__init__("already saved")
        self.home = home


class DraftChanged(Exception):
    """The draft changed since the review was shown (another message of the same person)."""

    def __init__(self, review: Review) -> None:
        super().__init__("draft changed")
        self.review = review


class NothingChanged(Exception):
    """The draft is the schedule already in force on its first day: nothing is declared."""


@dataclass(frozen=True)
class Home:
    """What 🕘 Horaires et fermetures opens on."""

    partner: Partner
    today: date
    current: Declaration | None
    coming: list[Declaration]
    closures: list[Closure]
    has_draft: bool

    @property
    def compliance(self) -> Compliance | None:
        return opening_hours.check_minimum(self.current.schedule) if self.current else None


@dataclass(frozen=True)
class Review:
    """The draft against the schedule it would replace, on the day it would apply."""

    partner: Partner
    draft: HoursDraft
    today: date
    effective: date
    before: WeeklySchedule | None

    @property
    def compliance(self) -> Compliance:
        return opening_hours.check_minimum(self.draft.schedule)

    @property
    def unchanged(self) -> bool:
        return self.before == self.draft.schedule

    @property
    def changes(self) -> list[str]:
        return opening_hours.diff(self.before, self.draft.schedule)


def local_day(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def _site(member: Member) -> Partner:
    assert member.partner is not None  # MANAGE_HOURS is a site's permission
    return member.partner


# ------------------------------------------------------------------------------ reading
async def home(
    db: Database, member: Member, now: datetime, tz: ZoneInfo, *, forget_typing: bool = False
) -> Home:
    """The hours in force, those to come and the closures ahead; `forget_typing` drops an
    answer the person was asked to type (they went back to the start)."""
    if forget_typing:
        await pending.clear(db, member.person.id)
    return await _home(db, member, local_day(now, tz))


async def _home(conn: Conn, member: Member, today: date) -> Home:
    site = _site(member)
    return Home(
        partner=site,
        today=today,
        current=await hours.in_force(conn, site.id, today),
        coming=await hours.upcoming(conn, site.id, today),
        closures=await closures.upcoming(conn, site.id, today),
        has_draft=await hours.draft(conn, member.person.id) is not None,
    )


async def history(db: Database, member: Member) -> list[Declaration]:
    """The site's last ten declarations, newest first."""
    return await hours.history(db, _site(member).id, limit=10)


# ------------------------------------------------------------------------------ the draft
async def _draft(conn: Conn, member: Member, now: datetime) -> HoursDraft:
    """The person's draft, started from the latest declared schedule when there is none."""
    site = _site(member)
    found = await hours.draft(conn, member.person.id)
    if found is not None and found.partner_id == site.id:
        return found
    latest = await hours.latest_declared(conn, site.id)
    return await hours.save_draft(
        conn,
        person_id=member.person.id,
        partner_id=site.id,
        schedule=latest.schedule if latest else WeeklySchedule.closed(),
        effective_from=None,
        now=now,
    )


async def _save(
    tx: Tx,
    member: Member,
    draft: HoursDraft,
    now: datetime,
    *,
    schedule: WeeklySchedule | None = None,
    effective_from: date | None = None,
) -> HoursDraft:
    return await hours.save_draft(
        tx,
        person_id=member.person.id,
        partner_id=draft.partner_id,
        schedule=draft.schedule if schedule is None else schedule,
        effective_from=draft.effective_from if effective_from is None else effective_from,
        now=now,
    )


async def edit(db: Database, member: Member, now: datetime) -> HoursDraft:
    """The week being edited (started if need be); no typed answer is expected any more."""
    async with db.transaction() as tx:
        await pending.clear(tx, member.person.id)
        return await _draft(tx, member, now)


async def ask_day(db: Database, member: Member, weekday: int, now: datetime) -> HoursDraft:
    """The person is to pick a slot for `weekday` or type its hours."""
    async with db.transaction() as tx:
        draft = await _draft(tx, member, now)
        await pending.expect(tx, member.person.id, "hours_day", {"weekday": weekday}, now)
    return draft


async def set_day(
    db: Database, member: Member, weekday: int, periods: tuple[Period, ...], now: datetime
) -> HoursDraft:
    async with db.transaction() as tx:
        draft = await _draft(tx, member, now)
        await pending.clear(tx, member.person.id)
        return await _save(
            tx, member, draft, now, schedule=draft.schedule.with_day(weekday, periods)
        )


async def copy_monday(db: Database, member: Member, now: datetime) -> HoursDraft:
    """Monday's hours on Tuesday to Friday."""
    async with db.transaction() as tx:
        draft = await _draft(tx, member, now)
        schedule = draft.schedule
        for weekday in range(1, 5):
            schedule = schedule.with_day(weekday, draft.schedule[0])
        return await _save(tx, member, draft, now, schedule=schedule)


async def drop(db: Database, member: Member, now: datetime, tz: ZoneInfo) -> Home:
    """Abandons the draft: nothing declared changes."""
    async with db.transaction() as tx:
        await hours.drop_draft(tx, member.person.id)
        await pending.clear(tx, member.person.id)
    return await _home(db, member, local_day(now, tz))


async def review(
    db: Database, member: Member, now: datetime, tz: ZoneInfo, *, forget_typing: bool = False
) -> Review:
    """The draft as it would be declared; `forget_typing` as for `home`."""
    async with db.transaction() as tx:
        if forget_typing:
            await pending.clear(tx, member.person.id)
        return await _review(tx, member, await _draft(tx, member, now), local_day(now, tz))


async def _review(conn: Conn, member: Member, draft: HoursDraft, today: date) -> Review:
    effective = max(draft.effective_from or today, today)
    before = await hours.in_force(conn, draft.partner_id, effective)
    return Review(_site(member), draft, today, effective, before.schedule if before else None)


async def ask_effective(db: Database, member: Member, now: datetime, tz: ZoneInfo) -> date:
    """The person is to pick or type the first day of the new hours; today is returned, the
    choices offered depend on it."""
    await pending.expect(db, member.person.id, "hours_from", {}, now)
    return local_day(now, tz)


async def set_effective(
    db: Database, member: Member, day: date, now: datetime, tz: ZoneInfo
) -> Review:
    """The first day of the new hours: from today to a year ahead."""
    today = local_day(now, tz)
    if day < today:
        raise EffectiveDateRefused(EffectiveDateRefused.Why.PAST)
    if day > today + timedelta(days=MAX_EFFECTIVE_DAYS_AHEAD):
        raise EffectiveDateRefused(EffectiveDateRefused.Why.TOO_FAR)
    async with db.transaction() as tx:
        draft = await _draft(tx, member, now)
        await pending.clear(tx, member.person.id)
        saved = await _save(tx, member, draft, now, effective_from=day)
        return await _review(tx, member, saved, today)


async def set_effective_typed(
    db: Database, member: Member, text: str, now: datetime, tz: ZoneInfo
) -> Review:
    """As `set_effective`, for a typed date (ClosureDateError when it is not one)."""
    day = closure_dates.parse_day(text, local_day(now, tz))
    return await set_effective(db, member, day, now, tz)


# ------------------------------------------------------------------------------ declaring
async def declare(
    db: Database, member: Member, revision: int, now: datetime, tz: ZoneInfo
) -> Declaration:
    """Declares the draft the person reviewed (`revision`), audited; the Caf gets the
    difference, and an alert when the hours are below the minimum.

    Raises AlreadySaved (a double tap), DraftChanged (the draft moved on since the review)
    or NothingChanged (those hours already apply then; the draft is dropped)."""
    today = local_day(now, tz)
    draft = await hours.draft(db, member.person.id)
    if draft is None:
        raise AlreadySaved(await _home(db, member, today))
    if draft.revision != revision:
        raise DraftChanged(await _review(db, member, await _draft(db, member, now), today))
    effective = max(draft.effective_from or today, today)
    async with db.transaction() as tx:
        declaration = await _declare(tx, member, draft, effective, now)
        if declaration is not None:
            await _tell_caf(tx, member, declaration, now, tz)
            if declaration.compliant and effective <= today:
                await _close_label_risks(tx, member, declaration, now)
    if declaration is None:
        raise NothingChanged()
    return declaration


async def _declare(
    tx: Tx, member: Member, draft: HoursDraft, effective: date, now: datetime
) -> Declaration | None:
    """The declaration, audited; None when a double tap saved it already or nothing changes
    (the draft is dropped either way)."""
    if not await hours.drop_draft(tx, member.person.id):
        return None
    before = await hours.in_force(tx, draft.partner_id, effective)
    if before is not None and before.schedule == draft.schedule:
        return None
    declaration = await hours.declare(
        tx,
        partner_id=draft.partner_id,
        schedule=draft.schedule,
        effective_from=effective,
        by=member.person.id,
        now=now,
    )
    details = {
        "effective_from": effective.isoformat(),
        "compliant": declaration.compliant,
        "declaration": declaration.id,
    }
    on = ("partner", draft.partner_id)
    await audit.record(tx, member, "hours.declared", now, on, details=details)
    return declaration


async def _tell_caf(
    tx: Tx, member: Member, declaration: Declaration, now: datetime, tz: ZoneInfo
) -> None:
    """The Caf's item for the new hours, and a label-risk alert when below the minimum."""
    kinds = (
        [SignalKind.HOURS] if declaration.compliant else [SignalKind.HOURS, SignalKind.LABEL_RISK]
    )
    for kind in kinds:
        signal, _ = await signal_store.raise_signal(
            tx,
            caf_id=member.caf.id,
            partner_id=declaration.partner_id,
            kind=kind,
            reporter_id=member.person.id,
            ref_id=declaration.id,
            dedup_key=f"{kind.value}:{declaration.id}",
            now=now,
        )
        await signal_notices.announce(tx, member.caf, signal, tz=tz, now=now)


async def _close_label_risks(
    tx: Tx, member: Member, declaration: Declaration, now: datetime
) -> None:
    """Hours back above the minimum: the site's open label-risk alerts are closed."""
    open_risks, _ = await signal_store.inbox(
        tx, member.caf.id, kind=SignalKind.LABEL_RISK, partner_id=declaration.partner_id, limit=50
    )
    for risk in open_risks:
        await signal_notices.move(
            tx, risk, Op.RESOLVE, by=member.person, now=now, resolution=RISK_RESOLVED
        )
