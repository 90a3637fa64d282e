"""Declaring and cancelling a closure: one transaction, the Caf and the site told.

Used by 🕘 Horaires et fermetures (managers) and by « Fermé aujourd'hui » (agents too).
"""

from __future__ import annotations

from datetime import date

from bot.context import Ctx
from bot.domain import signals as rules
from bot.domain.models import Member
from bot.domain.permissions import Action, decide
from bot.domain.signals import SignalKind, SignalStatus
from bot.services import notify
from bot.ui.render import render
from conversations import signal_view
from storage import audit, closures
from storage import signals as signal_store
from storage.closures import Closure


async def declare(
    ctx: Ctx, member: Member, *, start: date, end: date, reason: str, note: str | None
) -> tuple[Closure, bool]:
    """The closure, and False when the same dates were already declared (nothing sent)."""
    assert member.partner is not None
    partner = member.partner
    now = ctx.clock.now()
    tz = ctx.settings.tz
    async with ctx.db.transaction() as tx:
        closure, new = await closures.declare(
            tx,
            partner_id=partner.id,
            start=start,
            end=end,
            reason=reason,
            note=note,
            by=member.person.id,
            now=now,
        )
        if new:
            signal, _ = await signal_store.raise_signal(
                tx,
                caf_id=member.caf.id,
                partner_id=partner.id,
                kind=SignalKind.CLOSURE,
                reporter_id=member.person.id,
                category=reason,
                ref_id=closure.id,
                dedup_key=f"closure:{closure.id}",
                now=now,
            )
            await audit.record(
                tx,
                at=now,
                action="closure.declared",
                actor_id=member.person.id,
                caf_id=member.caf.id,
                target_type="closure",
                target_id=closure.id,
                details={"start": start.isoformat(), "end": end.isoformat(), "reason": reason},
            )
            await signal_view.announce(tx, member.caf, signal, tz=tz, now=now)
            await notify.to_site(
                tx,
                partner.id,
                kind="closure_site",
                key=f"closure:{closure.id}:site",
                text=render(
                    "closure_site_notice",
                    closure=closure,
                    reason=rules.label_of(rules.CLOSURE_REASONS, reason),
                    by=member.person,
                    site=partner.title,
                    cancelled=False,
                ),
                now=now,
                exclude_person_id=member.person.id,
            )
    ctx.services.wake_outbox()
    return closure, new


def may_cancel(member: Member, closure: Closure) -> bool:
    """The site's managers, and whoever declared it (an agent's « fermé aujourd'hui »)."""
    if member.partner is None or closure.partner_id != member.partner.id:
        return False
    return (
        decide(member.actor, Action.MANAGE_CLOSURES) is None
        or closure.declared_by == member.person.id
    )


async def cancel(ctx: Ctx, member: Member, closure: Closure) -> bool:
    """True when this call cancelled it; the Caf's item is closed and everyone told."""
    now = ctx.clock.now()
    reason = rules.label_of(rules.CLOSURE_REASONS, closure.reason)
    async with ctx.db.transaction() as tx:
        if not await closures.cancel(tx, closure.id, by=member.person.id, now=now):
            return False
        await audit.record(
            tx,
            at=now,
            action="closure.cancelled",
            actor_id=member.person.id,
            caf_id=member.caf.id,
            target_type="closure",
            target_id=closure.id,
        )
        signal = await signal_store.by_ref(tx, SignalKind.CLOSURE, closure.id)
        if signal is not None and signal.status is not SignalStatus.RESOLVED:
            await signal_store.set_status(
                tx,
                signal.id,
                status=SignalStatus.RESOLVED,
                expected=signal.status,
                by=member.person.id,
                now=now,
                resolution="Fermeture annulée par le site.",
            )
        text = render(
            "closure_site_notice",
            closure=closure,
            reason=reason,
            by=member.person,
            site=member.partner.title if member.partner else "",
            cancelled=True,
        )
        await notify.to_coordinators(
            tx,
            member.caf,
            kind="closure_cancelled",
            key=f"closure:{closure.id}:cancel",
            text=text,
            now=now,
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
    ctx.services.wake_outbox()
    return True
