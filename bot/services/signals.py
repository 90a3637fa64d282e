"""📣 Signaler and 📥 Signalements: a site's signals to its Caf (Article 4), and the Caf's work
on them — take charge, reply, close — with the reporter's answers in between.

Each step is one transaction with its audit record and its notices (through the outbox);
the caller wakes the outbox sender afterwards. Raising is idempotent per key: a redelivered
message or a double tap raises once. A step that someone else took first (another
coordinator, a closing in between) changes nothing and says so in its result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import signals as rules
from bot.domain.models import Member
from bot.domain.signals import Op, Signal, SignalKind, SignalStatus
from bot.services import audit, notify, signal_notices
from bot.ui.screens import inbox as inbox_screen
from bot.ui.screens.inbox import Inbox
from bot.ui.screens.paging import Page
from bot.ui.screens.signals import SignalView, Step
from storage import pending
from storage import signals as signal_store
from storage.db import Conn, Database, Tx


@dataclass(frozen=True)
class Raised:
    signal: Signal
    new: bool  # False: this key had raised it already, nothing was sent again


@dataclass(frozen=True)
class Acknowledged:
    signal: Signal  # as it stands now
    moved: bool  # False: someone took charge of it first
    refusal: str | None = None  # why its state does not allow it (French)


# ------------------------------------------------------------------------------ reading
async def own(db: Database, member: Member, signal_id: int) -> Signal | None:
    """One of the person's own signals (None for anyone else's)."""
    signal = await signal_store.get(db, signal_id)
    return signal if signal is not None and signal.reporter_id == member.person.id else None


async def of_caf(db: Database, caf_id: int, signal_id: int) -> Signal | None:
    """A signal of this Caf's sites (None for another Caf's)."""
    signal = await signal_store.get(db, signal_id)
    return signal if signal is not None and signal.caf_id == caf_id else None


async def mine(db: Database, member: Member) -> list[Signal]:
    """The person's own signals at their site, newest first."""
    assert member.partner is not None
    return await signal_store.for_reporter_site(db, member.person.id, member.partner.id)


async def view(conn: Conn, signal: Signal) -> SignalView:
    """The signal with its exchange and what it is about, for its card."""
    return await signal_notices.view(conn, signal)


async def inbox(
    db: Database,
    caf_id: int,
    *,
    kind: SignalKind | None = None,
    partner_id: int = 0,
    page: int = 0,
    size: int = inbox_screen.PAGE_SIZE,
) -> Inbox:
    """Page `page` (kept within the pages there are) of the Caf's open signals, oldest first."""
    partner = partner_id or None
    _, total = await signal_store.inbox(db, caf_id, kind=kind, partner_id=partner, limit=0)
    count = max(1, math.ceil(total / size))
    number = min(max(page, 0), count - 1)
    items, _ = await signal_store.inbox(
        db, caf_id, kind=kind, partner_id=partner, limit=size, offset=number * size
    )
    site = None
    if partner is not None:
        names = {i: name for i, name, _ in await signal_store.partners_with_open(db, caf_id)}
        site = names.get(partner)
    return Inbox(Page(items, number, count), total, kind, partner_id, site)


async def open_counts(db: Database, caf_id: int) -> dict[SignalKind, int]:
    return await signal_store.open_counts(db, caf_id)


async def sites_with_open(db: Database, caf_id: int) -> list[tuple[int, str, int]]:
    """(partner id, site, open signals), busiest first."""
    return await signal_store.partners_with_open(db, caf_id)


# ------------------------------------------------------------------------------ the site
async def report_difficulty(
    db: Database,
    member: Member,
    *,
    category: str,
    urgency: str,
    description: str,
    typed: tuple[int, int],
    now: datetime,
    tz: ZoneInfo,
) -> Raised:
    """A difficulty described in the message `typed` (chat, message id): raised once, even
    when Telegram delivers that message twice."""
    chat_id, message_id = typed
    return await raise_signal(
        db,
        member,
        kind=SignalKind.DIFFICULTY,
        key=f"text:{chat_id}:{message_id}",
        category=category,
        urgency=urgency,
        description=description,
        now=now,
        tz=tz,
    )


async def report_training_need(
    db: Database,
    member: Member,
    *,
    topic: str,
    prompt: int,
    note: str | None,
    now: datetime,
    tz: ZoneInfo,
) -> Raised:
    """A training need asked for under the message `prompt`: typing a note there or tapping
    « Envoyer sans précision » (twice, even) raises it once."""
    return await raise_signal(
        db,
        member,
        kind=SignalKind.TRAINING,
        key=f"training:{member.person.id}:{prompt}",
        category=topic,
        description=note,
        now=now,
        tz=tz,
    )


async def raise_signal(
    db: Database,
    member: Member,
    *,
    kind: SignalKind,
    key: str,
    now: datetime,
    tz: ZoneInfo,
    category: str | None = None,
    urgency: str | None = None,
    description: str | None = None,
) -> Raised:
    """Raises a signal of the person's site once per `key`, audit-logs it and tells the Caf;
    any typed answer the person was expected to give is done with."""
    assert member.partner is not None
    async with db.transaction() as tx:
        signal, new = await signal_store.raise_signal(
            tx,
            caf_id=member.caf.id,
            partner_id=member.partner.id,
            kind=kind,
            reporter_id=member.person.id,
            category=category,
            urgency=urgency,
            description=description,
            dedup_key=key,
            now=now,
        )
        if new:
            details = {"kind": kind.value}
            await audit.record(
                tx, member, "signal.raised", now, ("signal", signal.id), details=details
            )
            await signal_notices.announce(tx, member.caf, signal, tz=tz, now=now)
        await pending.clear(tx, member.person.id)
    return Raised(signal, new)


async def answer(db: Database, member: Member, signal: Signal, body: str, now: datetime) -> bool:
    """The reporter's message to the Caf on their signal; False (nothing sent) when the Caf
    closed it in the meantime."""
    async with db.transaction() as tx:
        await pending.clear(tx, member.person.id)
        fresh = await signal_store.get(tx, signal.id)
        if fresh is None or fresh.status is SignalStatus.RESOLVED:
            return False
        message_id = await signal_store.add_message(
            tx, signal.id, author_id=member.person.id, from_caf=False, body=body, now=now
        )
        await audit.record(tx, member, "signal.answered", now, ("signal", signal.id))
        text, markup = inbox_screen.answer_notice(signal, author=member.person, body=body)
        await notify.to_coordinators(
            tx,
            member.caf,
            kind="signal_answer",
            key=f"signal:{signal.id}:msg{message_id}",
            text=text,
            now=now,
            markup=markup,
        )
    return True


# ------------------------------------------------------------------------------ the Caf
async def _record(tx: Tx, member: Member, signal: Signal, action: str, now: datetime) -> None:
    """A step of the Caf's work on the signal, audited with what the signal is."""
    details = {"kind": signal.kind.value, "partner": signal.partner_id}
    await audit.record(tx, member, action, now, ("signal", signal.id), details=details)


async def acknowledge(db: Database, member: Member, signal: Signal, now: datetime) -> Acknowledged:
    """A coordinator takes charge of the signal; its reporter is told."""
    try:
        rules.after(signal.status, Op.ACKNOWLEDGE)
    except rules.SignalError as error:
        return Acknowledged(signal, moved=False, refusal=str(error))
    async with db.transaction() as tx:
        moved = await signal_notices.move(tx, signal, Op.ACKNOWLEDGE, by=member.person, now=now)
        if moved:
            await _record(tx, member, signal, "signal.acknowledged", now)
            await signal_notices.tell_reporter(
                tx, signal, step=Step.ACKNOWLEDGED, by=member.person, body=None, now=now
            )
        fresh = await signal_store.get(tx, signal.id)
    assert fresh is not None
    return Acknowledged(fresh, moved)


async def reply(
    db: Database, member: Member, signal: Signal, body: str, now: datetime
) -> Signal | None:
    """The Caf's answer to the reporter (an acknowledgement too, if it was not yet); the
    signal as it now stands, or None (nothing sent) when it was closed in the meantime."""
    async with db.transaction() as tx:
        await pending.clear(tx, member.person.id)
        fresh = await signal_store.get(tx, signal.id)
        assert fresh is not None
        if fresh.status is SignalStatus.RESOLVED:
            return None
        message_id = await signal_store.add_message(
            tx, signal.id, author_id=member.person.id, from_caf=True, body=body, now=now
        )
        if fresh.status is SignalStatus.OPEN:
            await signal_notices.move(tx, fresh, Op.REPLY, by=member.person, now=now)
        await _record(tx, member, signal, "signal.replied", now)
        await signal_notices.tell_reporter(
            tx,
            fresh,
            step=Step.REPLIED,
            by=member.person,
            body=body,
            now=now,
            key=f"signal:{signal.id}:msg{message_id}",
        )
        updated = await signal_store.get(tx, signal.id)
    assert updated is not None
    return updated


async def resolve(db: Database, member: Member, signal: Signal, note: str, now: datetime) -> bool:
    """The Caf closes the signal with a note the reporter is sent; False when it was closed
    already."""
    async with db.transaction() as tx:
        await pending.clear(tx, member.person.id)
        fresh = await signal_store.get(tx, signal.id)
        assert fresh is not None
        moved = fresh.status is not SignalStatus.RESOLVED and await signal_notices.move(
            tx, fresh, Op.RESOLVE, by=member.person, now=now, resolution=note
        )
        if moved:
            await _record(tx, member, signal, "signal.resolved", now)
            await signal_notices.tell_reporter(
                tx, fresh, step=Step.RESOLVED, by=member.person, body=note, now=now
            )
    return moved
