"""🚪 A site's exceptional closures (Article 4): declared and cancelled, the Caf and the site
told, each in one transaction.

Declared by the site's managers (🕘 Horaires et fermetures), by a coordinator of the Caf for
a site with no manager (🏢 Réseau › 🕘 Horaires du site, bot/services/site_desk.py) and by
« Fermé aujourd'hui » (agents too); cancelled by those same and by whoever declared it,
until its last day. Every day here is the site's day in `tz`, the Caf's zone.

The site is explicit; `declare`, `cancellable` and `cancel` default to the person's own (an
agent's « Fermé aujourd'hui »).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import closure_dates
from bot.domain import signals as rules
from bot.domain.closure_dates import ClosureDateError
from bot.domain.models import Member, Partner
from bot.domain.permissions import Action
from bot.domain.signals import Op, SignalKind, SignalStatus
from bot.services import audit, notify, signal_notices, site_desk
from bot.ui.render import render
from storage import closures, pending
from storage import signals as signal_store
from storage.closures import Closure
from storage.db import Database, Tx

__all__ = [
    "CancelRefused",
    "Closure",
    "ClosureDateError",
    "ask_dates",
    "ask_note",
    "cancel",
    "cancellable",
    "choose_dates",
    "declare",
    "may_cancel",
    "typed_dates",
]

CANCELLED_RESOLUTION = "Fermeture annulée par le site."


class CancelRefused(Exception):
    """Why a closure cannot be cancelled by this person now."""

    class Why(StrEnum):
        NOT_YOURS = "not_yours"  # unknown, of another site, or declared by someone else
        CANCELLED = "cancelled"
        PAST = "past"

    def __init__(self, why: CancelRefused.Why, closure: Closure | None = None) -> None:
        super().__init__(why.value)
        self.why = why
        self.closure = closure


def _today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def reason_label(code: str) -> str:
    return rules.label_of(rules.CLOSURE_REASONS, code)


def _own(member: Member, site: Partner | None) -> Partner:
    """The site named, or the person's own (« Fermé aujourd'hui » names none)."""
    if site is not None:
        return site
    if member.partner is None:
        raise site_desk.NotYourSite("no site of one's own")
    return member.partner


def _asked(site: Partner, message_id: int | None, **context: object) -> dict[str, object]:
    """A typed answer's context: the site it is for and the message its screen lives in."""
    return {**context, "site": site.id, "message_id": message_id}


async def ask_dates(
    db: Database, member: Member, site: Partner, now: datetime, *, message_id: int | None
) -> None:
    """The person may type the closure's days instead of picking them."""
    site_desk.check(member, site, Action.MANAGE_CLOSURES)
    await pending.expect(db, member.person.id, "closure_dates", _asked(site, message_id), now)


async def typed_dates(
    db: Database, member: Member, site: Partner, text: str, now: datetime, tz: ZoneInfo
) -> tuple[date, date]:
    """The days typed for a closure (ClosureDateError says, in French, why they are not)."""
    site_desk.check(member, site, Action.MANAGE_CLOSURES)
    start, end = closure_dates.parse_closure_dates(text, _today(now, tz))
    await pending.clear(db, member.person.id)
    return start, end


async def choose_dates(
    db: Database,
    member: Member,
    site: Partner,
    start: date,
    end: date,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[date, date]:
    """The days a closure would cover, checked (ClosureDateError says why not, in French);
    typing the dates is no longer expected."""
    site_desk.check(member, site, Action.MANAGE_CLOSURES)
    start, end = closure_dates.check_range(start, end, _today(now, tz))
    await pending.clear(db, member.person.id)
    return start, end


async def ask_note(
    db: Database,
    member: Member,
    site: Partner,
    start: date,
    end: date,
    reason: str,
    now: datetime,
    *,
    message_id: int | None,
) -> None:
    """The person may type a note for the closure, or save it without one."""
    site_desk.check(member, site, Action.MANAGE_CLOSURES)
    context = _asked(site, message_id, start=start.isoformat(), end=end.isoformat(), reason=reason)
    await pending.expect(db, member.person.id, "closure_note", context, now)


async def declare(
    db: Database,
    member: Member,
    *,
    start: date,
    end: date,
    reason: str,
    note: str | None,
    now: datetime,
    tz: ZoneInfo,
    site: Partner | None = None,
    forget_typing: bool = False,
) -> tuple[Closure, bool]:
    """The closure of `site` (the person's own by default), and False when the same days
    were already declared (nothing sent twice).

    Raises ClosureDateError (French) for days that cannot be declared. A new closure is
    audited as whoever declared it, raised to the Caf as a signal and told to the site's
    people (but the one declaring)."""
    site = _own(member, site)
    if site_desk.is_coordinator(member):
        site_desk.check(member, site, Action.MANAGE_CLOSURES)
    elif member.partner is None or site.id != member.partner.id:
        raise site_desk.NotYourSite("not the person's own site")
    start, end = closure_dates.check_range(start, end, _today(now, tz))
    async with db.transaction() as tx:
        if forget_typing:
            await pending.clear(tx, member.person.id)
        closure, new = await closures.declare(
            tx,
            partner_id=site.id,
            start=start,
            end=end,
            reason=reason,
            note=note,
            by=member.person.id,
            now=now,
        )
        if new:
            await _announce(tx, member, site, closure, now, tz)
    return closure, new


async def _announce(
    tx: Tx, member: Member, site: Partner, closure: Closure, now: datetime, tz: ZoneInfo
) -> None:
    signal, _ = await signal_store.raise_signal(
        tx,
        caf_id=member.caf.id,
        partner_id=closure.partner_id,
        kind=SignalKind.CLOSURE,
        reporter_id=member.person.id,
        category=closure.reason,
        ref_id=closure.id,
        dedup_key=f"closure:{closure.id}",
        now=now,
    )
    details = {
        "start": closure.start_date.isoformat(),
        "end": closure.end_date.isoformat(),
        "reason": closure.reason,
    }
    await audit.record(
        tx, member, "closure.declared", now, ("closure", closure.id), details=details
    )
    await site_desk.announce(tx, member, signal, tz=tz, now=now)
    await notify.to_site(
        tx,
        closure.partner_id,
        kind="closure_site",
        key=f"closure:{closure.id}:site",
        text=_notice(member, site, closure, cancelled=False),
        now=now,
        exclude_person_id=member.person.id,
    )


def _notice(member: Member, site: Partner, closure: Closure, *, cancelled: bool) -> str:
    return render(
        "closure_site_notice",
        closure=closure,
        reason=reason_label(closure.reason),
        by=member.person,
        caf=member.caf.name if site_desk.is_coordinator(member) else None,
        site=site.title,
        cancelled=cancelled,
    )


def may_cancel(member: Member, closure: Closure, site: Partner | None = None) -> bool:
    """Those who may declare the site's closures, and whoever declared this one (an
    agent's « fermé aujourd'hui »)."""
    if site is None:
        site = member.partner
    if site is None or closure.partner_id != site.id:
        return False
    if site_desk.may_declare(member, site, Action.MANAGE_CLOSURES):
        return True
    return (
        member.partner is not None
        and member.partner.id == site.id
        and closure.declared_by == member.person.id
    )


async def cancellable(
    db: Database,
    member: Member,
    closure_id: int,
    now: datetime,
    tz: ZoneInfo,
    *,
    site: Partner | None = None,
) -> Closure:
    """The closure, if this person may cancel it today; else CancelRefused says why."""
    closure = await closures.get(db, closure_id)
    if closure is None or not may_cancel(member, closure, site):
        raise CancelRefused(CancelRefused.Why.NOT_YOURS)
    if closure.cancelled_at is not None:
        raise CancelRefused(CancelRefused.Why.CANCELLED, closure)
    if closure.end_date < _today(now, tz):
        raise CancelRefused(CancelRefused.Why.PAST, closure)
    return closure


async def cancel(
    db: Database,
    member: Member,
    closure_id: int,
    now: datetime,
    tz: ZoneInfo,
    *,
    site: Partner | None = None,
) -> Closure:
    """Cancels the closure (CancelRefused as for `cancellable`), audited; the Caf's item is
    closed and the Caf and the site are told. A double tap cancels, and tells, once."""
    closure = await cancellable(db, member, closure_id, now, tz, site=site)
    site = _own(member, site)
    async with db.transaction() as tx:
        if await closures.cancel(tx, closure.id, by=member.person.id, now=now):
            await _tell_cancelled(tx, member, site, closure, now)
    return closure


async def _tell_cancelled(
    tx: Tx, member: Member, site: Partner, closure: Closure, now: datetime
) -> None:
    await audit.record(tx, member, "closure.cancelled", now, ("closure", closure.id))
    signal = await signal_store.by_ref(tx, SignalKind.CLOSURE, closure.id)
    if signal is not None and signal.status is not SignalStatus.RESOLVED:
        await signal_notices.move(
            tx, signal, Op.RESOLVE, by=member.person, now=now, resolution=CANCELLED_RESOLUTION
        )
    text = _notice(member, site, closure, cancelled=True)
    await notify.to_coordinators(
        tx,
        member.caf,
        kind="closure_cancelled",
        key=f"closure:{closure.id}:cancel",
        text=text,
        now=now,
        exclude_person_id=member.person.id,
    )
    await notify.to_site(
        tx,
        closure.partner_id,
        kind="closure_cancelled",
        key=f"closure:{closure.id}:cancel:site",
        text=text,
        now=now,
        exclude_person_id=member.person.id,
    )
