"""🕘 A site's weekly opening hours (Articles 4 and 7): the draft a manager edits, and its
declaration to the Caf.

The draft lives in the database (`hours_drafts`), one per person, so a restart loses
nothing. Declaring keeps every schedule (history), tells the Caf the difference, alerts it
when the hours fall below the convention's minimum (4 half-days, 12 hours) and closes that
alert once they are back above it. Every date here is the site's day in `tz`, the Caf's
zone.

Article 7 (announced in advance): new hours apply from the coming Monday unless the person
picks another day; a day sooner asks why (typed, screened like every typed text), kept with
the declaration and shown to the Caf. A declaration for a later day books a scheduled job
(`IN_EFFECT_KIND`, one per declaration) that tells the coordinators and the site's people at
`NOTIFY_HOUR` on that day that the new hours apply from today.

Every use case takes the site explicitly: a manager's own, or any site of a coordinator's
Caf (a site with no manager, bot/services/site_desk.py), checked and audited as whoever acts.
A typed answer expected (`pending`) names the site and the message its screen lives in, so
the answer is shown in that very message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import closure_dates, opening_hours
from bot.domain.models import Member, Partner
from bot.domain.opening_hours import Compliance, Period, WeeklySchedule, days_of_mask
from bot.domain.signals import Op, SignalKind
from bot.services import audit, notify, signal_notices, site_desk
from bot.ui.render import render
from storage import cafs, closures, hours, partners, pending, scheduled
from storage import signals as signal_store
from storage.closures import Closure
from storage.db import Conn, Database, Tx
from storage.hours import Declaration, HoursDraft

__all__ = [
    "IN_EFFECT_KIND",
    "MAX_EFFECTIVE_DAYS_AHEAD",
    "REASON_MAX",
    "AlreadySaved",
    "Declaration",
    "DraftChanged",
    "EffectiveDateRefused",
    "Home",
    "HoursDraft",
    "NothingChanged",
    "NothingInForce",
    "ReasonNeeded",
    "Review",
    "Week",
]

MAX_EFFECTIVE_DAYS_AHEAD = 365
REASON_MAX = 300
IN_EFFECT_KIND = "hours_in_effect"
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


class ReasonNeeded(Exception):
    """New hours sooner than the coming Monday, declared without saying why."""

    def __init__(self, review: Review) -> None:
        super().__init__("reason needed")
        self.review = review


class NothingInForce(Exception):
    """« Copier la semaine actuelle » when no hours apply today: there is nothing to copy."""


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
class Week:
    """The week being edited, beside the hours in force today (what « Copier la semaine
    actuelle » brings back)."""

    partner: Partner
    draft: HoursDraft
    current: WeeklySchedule | None

    @property
    def compliance(self) -> Compliance:
        return opening_hours.check_minimum(self.draft.schedule)

    @property
    def may_copy_current(self) -> bool:
        return self.current is not None and self.current != self.draft.schedule


@dataclass(frozen=True)
class Review:
    """The draft against the schedule it would replace, on the day it would apply."""

    partner: Partner
    draft: HoursDraft
    today: date
    effective: date
    before: WeeklySchedule | None
    first: bool  # the site has declared no hours yet: they apply from today

    @property
    def compliance(self) -> Compliance:
        return opening_hours.check_minimum(self.draft.schedule)

    @property
    def unchanged(self) -> bool:
        return self.before == self.draft.schedule

    @property
    def changes(self) -> list[str]:
        return opening_hours.diff(self.before, self.draft.schedule)

    @property
    def default(self) -> date:
        """The day new hours apply from unless another is chosen (the coming Monday)."""
        return opening_hours.default_effective(self.today, first=self.first)

    @property
    def needs_reason(self) -> bool:
        """Sooner than the coming Monday: the person must say why before declaring."""
        return opening_hours.needs_reason(self.effective, self.today, first=self.first)


def effective_day(chosen: date | None, today: date, *, first: bool) -> date:
    """The first day of new hours: the day chosen (today at the earliest: a day chosen
    yesterday may be past), else the coming Monday (today for a site's first hours)."""
    if chosen is None:
        return opening_hours.default_effective(today, first=first)
    return max(chosen, today)


async def _first(conn: Conn, site_id: int) -> bool:
    return await hours.latest_declared(conn, site_id) is None


def local_day(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def _asked(site: Partner, message_id: int | None, **context: object) -> dict[str, object]:
    """A typed answer's context: the site it is for and the message its screen lives in."""
    return {**context, "site": site.id, "message_id": message_id}


# ------------------------------------------------------------------------------ reading
async def home(
    db: Database,
    member: Member,
    site: Partner,
    now: datetime,
    tz: ZoneInfo,
    *,
    forget_typing: bool = False,
) -> Home:
    """The hours in force, those to come and the closures ahead; `forget_typing` drops an
    answer the person was asked to type (they went back to the start)."""
    site_desk.check(member, site)
    if forget_typing:
        await pending.clear(db, member.person.id)
    return await _home(db, member, site, local_day(now, tz))


async def _home(conn: Conn, member: Member, site: Partner, today: date) -> Home:
    draft = await hours.draft(conn, member.person.id)
    return Home(
        partner=site,
        today=today,
        current=await hours.in_force(conn, site.id, today),
        coming=await hours.upcoming(conn, site.id, today),
        closures=await closures.upcoming(conn, site.id, today),
        has_draft=draft is not None and draft.partner_id == site.id,
    )


async def history(db: Database, member: Member, site: Partner) -> list[Declaration]:
    """The site's last ten declarations, newest first."""
    site_desk.check(member, site)
    return await hours.history(db, site.id, limit=10)


# ------------------------------------------------------------------------------ the draft
async def _draft(conn: Conn, member: Member, site: Partner, now: datetime) -> HoursDraft:
    """The person's draft for this site, started from the site's latest declared schedule
    when there is none (one draft a person: another site's is replaced)."""
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


async def _week(conn: Conn, site: Partner, draft: HoursDraft, today: date) -> Week:
    current = await hours.in_force(conn, site.id, today)
    return Week(site, draft, current.schedule if current else None)


async def edit(db: Database, member: Member, site: Partner, now: datetime, tz: ZoneInfo) -> Week:
    """The week being edited (started if need be); no typed answer is expected any more."""
    site_desk.check(member, site)
    async with db.transaction() as tx:
        await pending.clear(tx, member.person.id)
        draft = await _draft(tx, member, site, now)
        return await _week(tx, site, draft, local_day(now, tz))


async def ask_days(
    db: Database,
    member: Member,
    site: Partner,
    days: int,
    now: datetime,
    *,
    message_id: int | None,
) -> HoursDraft:
    """The person is to pick a slot for the days ticked (`days`, a mask) or type their hours,
    in the message `message_id`."""
    site_desk.check(member, site)
    days_of_mask(days)  # a number that is no set of days goes no further
    context = _asked(site, message_id, days=days)
    async with db.transaction() as tx:
        draft = await _draft(tx, member, site, now)
        await pending.expect(tx, member.person.id, "hours_day", context, now)
    return draft


async def set_days(
    db: Database,
    member: Member,
    site: Partner,
    days: int,
    periods: tuple[Period, ...],
    now: datetime,
    tz: ZoneInfo,
) -> Week:
    """The same hours on every day of `days` (a mask; one day or several)."""
    site_desk.check(member, site)
    weekdays = days_of_mask(days)
    async with db.transaction() as tx:
        draft = await _draft(tx, member, site, now)
        await pending.clear(tx, member.person.id)
        schedule = draft.schedule.with_days(weekdays, periods)
        saved = await _save(tx, member, draft, now, schedule=schedule)
        return await _week(tx, site, saved, local_day(now, tz))


async def copy_monday(
    db: Database, member: Member, site: Partner, now: datetime, tz: ZoneInfo
) -> Week:
    """Monday's hours on Tuesday to Friday."""
    site_desk.check(member, site)
    async with db.transaction() as tx:
        draft = await _draft(tx, member, site, now)
        schedule = draft.schedule.with_days(range(1, 5), draft.schedule[0])
        saved = await _save(tx, member, draft, now, schedule=schedule)
        return await _week(tx, site, saved, local_day(now, tz))


async def copy_current(
    db: Database, member: Member, site: Partner, now: datetime, tz: ZoneInfo
) -> Week:
    """« Copier la semaine actuelle »: the draft starts again from the hours in force today
    (NothingInForce when none apply yet)."""
    site_desk.check(member, site)
    today = local_day(now, tz)
    async with db.transaction() as tx:
        current = await hours.in_force(tx, site.id, today)
        if current is None:
            raise NothingInForce()
        draft = await _draft(tx, member, site, now)
        await pending.clear(tx, member.person.id)
        saved = await _save(tx, member, draft, now, schedule=current.schedule)
        return await _week(tx, site, saved, today)


async def drop(db: Database, member: Member, site: Partner, now: datetime, tz: ZoneInfo) -> Home:
    """Abandons the draft: nothing declared changes."""
    site_desk.check(member, site)
    async with db.transaction() as tx:
        await hours.drop_draft(tx, member.person.id)
        await pending.clear(tx, member.person.id)
    return await _home(db, member, site, local_day(now, tz))


async def review(
    db: Database,
    member: Member,
    site: Partner,
    now: datetime,
    tz: ZoneInfo,
    *,
    forget_typing: bool = False,
) -> Review:
    """The draft as it would be declared; `forget_typing` as for `home`."""
    site_desk.check(member, site)
    async with db.transaction() as tx:
        if forget_typing:
            await pending.clear(tx, member.person.id)
        draft = await _draft(tx, member, site, now)
        return await _review(tx, site, draft, local_day(now, tz))


async def _review(conn: Conn, site: Partner, draft: HoursDraft, today: date) -> Review:
    first = await _first(conn, draft.partner_id)
    effective = effective_day(draft.effective_from, today, first=first)
    before = await hours.in_force(conn, draft.partner_id, effective)
    return Review(site, draft, today, effective, before.schedule if before else None, first)


async def ask_effective(
    db: Database,
    member: Member,
    site: Partner,
    now: datetime,
    tz: ZoneInfo,
    *,
    message_id: int | None,
) -> date:
    """The person is to pick or type the first day of the new hours; today is returned, the
    choices offered depend on it."""
    site_desk.check(member, site)
    await pending.expect(db, member.person.id, "hours_from", _asked(site, message_id), now)
    return local_day(now, tz)


async def set_effective(
    db: Database, member: Member, site: Partner, day: date, now: datetime, tz: ZoneInfo
) -> Review:
    """The first day of the new hours: from today to a year ahead."""
    site_desk.check(member, site)
    today = local_day(now, tz)
    if day < today:
        raise EffectiveDateRefused(EffectiveDateRefused.Why.PAST)
    if day > today + timedelta(days=MAX_EFFECTIVE_DAYS_AHEAD):
        raise EffectiveDateRefused(EffectiveDateRefused.Why.TOO_FAR)
    async with db.transaction() as tx:
        draft = await _draft(tx, member, site, now)
        await pending.clear(tx, member.person.id)
        saved = await _save(tx, member, draft, now, effective_from=day)
        return await _review(tx, site, saved, today)


async def set_effective_typed(
    db: Database, member: Member, site: Partner, text: str, now: datetime, tz: ZoneInfo
) -> Review:
    """As `set_effective`, for a typed date (ClosureDateError when it is not one)."""
    day = closure_dates.parse_day(text, local_day(now, tz))
    return await set_effective(db, member, site, day, now, tz)


# ------------------------------------------------------------------------------ declaring
async def ask_reason(
    db: Database,
    member: Member,
    site: Partner,
    revision: int,
    now: datetime,
    tz: ZoneInfo,
    *,
    message_id: int | None,
) -> Review:
    """New hours sooner than the coming Monday: the person is to type why, for the draft
    they reviewed (`revision`; the typed answer declares it)."""
    site_desk.check(member, site)
    context = _asked(site, message_id, revision=revision)
    async with db.transaction() as tx:
        draft = await _draft(tx, member, site, now)
        await pending.expect(tx, member.person.id, "hours_reason", context, now)
        return await _review(tx, site, draft, local_day(now, tz))


async def declare(
    db: Database,
    member: Member,
    site: Partner,
    revision: int,
    now: datetime,
    tz: ZoneInfo,
    *,
    notify_hour: int,
    reason: str | None = None,
) -> Declaration:
    """Declares the draft the person reviewed (`revision`), audited as whoever acts; the Caf
    gets the difference (and `reason`, why it applies so soon), and an alert when the hours
    are below the minimum. New hours for a later day book the notice of their first day, at
    `notify_hour` in `tz`.

    Raises AlreadySaved (a double tap), DraftChanged (the draft moved on since the review),
    ReasonNeeded (sooner than the coming Monday, no reason given) or NothingChanged (those
    hours already apply then; the draft is dropped)."""
    site_desk.check(member, site)
    today = local_day(now, tz)
    draft = await hours.draft(db, member.person.id)
    if draft is None:
        raise AlreadySaved(await _home(db, member, site, today))
    if draft.revision != revision or draft.partner_id != site.id:
        raise DraftChanged(await _review(db, site, await _draft(db, member, site, now), today))
    first = await _first(db, site.id)
    effective = effective_day(draft.effective_from, today, first=first)
    if opening_hours.needs_reason(effective, today, first=first) and not reason:
        raise ReasonNeeded(await _review(db, site, draft, today))
    async with db.transaction() as tx:
        await pending.clear(tx, member.person.id)
        declaration = await _declare(tx, member, draft, effective, now, reason)
        if declaration is not None:
            await _tell_caf(tx, member, declaration, now, tz)
            if declaration.compliant and effective <= today:
                await _close_label_risks(tx, member, declaration, now)
            if effective > today:
                await _book_in_effect(tx, declaration, now, tz, notify_hour)
    if declaration is None:
        raise NothingChanged()
    return declaration


async def _book_in_effect(
    tx: Tx, declaration: Declaration, now: datetime, tz: ZoneInfo, hour: int
) -> None:
    """The notice of the new hours' first day, at `hour` that day in the Caf's zone."""
    day = declaration.effective_from
    due = datetime.combine(day, time(hour), tzinfo=tz)
    await scheduled.schedule(
        tx,
        kind=IN_EFFECT_KIND,
        key=f"hours:{declaration.id}:in_effect",
        due_at=due,
        payload={"declaration": declaration.id},
        now=now,
    )


async def tell_in_effect(db: Database, declaration_id: int, at: datetime) -> int:
    """The new hours' first day: the Caf's coordinators (and group) and the site's people
    are told they apply from today. Nothing when another declaration replaced them before
    that day; a second run queues nothing (one key per declaration and person)."""
    async with db.transaction() as tx:
        declaration = await hours.get(tx, declaration_id)
        if declaration is None:
            return 0
        applying = await hours.in_force(tx, declaration.partner_id, declaration.effective_from)
        site = await partners.get(tx, declaration.partner_id)
        caf = await cafs.get(tx, site.caf_id) if site is not None else None
        if applying is None or applying.id != declaration.id or site is None or caf is None:
            return 0
        text = render("hours_in_effect", site=site, declaration=declaration)
        key = f"hours:{declaration.id}:in_effect"
        told = await notify.to_coordinators(
            tx, caf, kind=IN_EFFECT_KIND, key=key, text=text, now=at
        )
        return told + await notify.to_site(
            tx, site.id, kind=IN_EFFECT_KIND, key=key, text=text, now=at
        )


async def _declare(
    tx: Tx,
    member: Member,
    draft: HoursDraft,
    effective: date,
    now: datetime,
    reason: str | None,
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
        reason=reason,
    )
    details = {
        "effective_from": effective.isoformat(),
        "compliant": declaration.compliant,
        "declaration": declaration.id,
        "short_notice": reason is not None,
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
        await site_desk.announce(tx, member, signal, tz=tz, now=now)


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
