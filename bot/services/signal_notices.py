"""How a signal is shown, told and moved on, inside the caller's transaction.

Every flow that raises a signal (📣 Signaler, 🕘 Horaires et fermetures) tells the Caf with
`announce`; an agent's arrival is held (`hold_new_agent`) so that the agents who join
together are told in one notice (`announce_new_agents`, run by bot/jobs/new_agents.py);
the inbox tells the reporter of each step with
`tell_reporter`; the inbox, a closure cancelled and hours back above the minimum move a
signal on with `move`. The texts and buttons are those of bot/ui/screens/signals.py and inbox.py.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import invitations as joining
from bot.domain import opening_hours
from bot.domain import signals as rules
from bot.domain.models import Caf, Person
from bot.domain.permissions import Role
from bot.domain.signals import Op, Signal, SignalKind
from bot.services import notify
from bot.ui.screens import inbox as inbox_screen
from bot.ui.screens import onboarding as onboarding_screen
from bot.ui.screens import signals as screen
from bot.ui.screens.signals import SignalView
from storage import arrivals, cafs, closures, hours, people, scheduled
from storage import signals as signal_store
from storage.db import Conn, Database, Tx

# The scheduled job that tells the Caf of the agents held since the first of a batch.
NEW_AGENTS_KIND = "new_agents"


async def about(conn: Conn, signal: Signal) -> dict[str, object]:
    """What the signal is about: the schedule declared or the closure, when it has one."""
    if signal.ref_id is None:
        return {}
    if signal.kind in (SignalKind.HOURS, SignalKind.LABEL_RISK):
        declaration = await hours.get(conn, signal.ref_id)
        if declaration is None:
            return {}
        return {
            "declaration": declaration,
            "changes": opening_hours.diff(declaration.before_schedule, declaration.schedule),
            "compliance": opening_hours.check_minimum(declaration.schedule).explain(),
        }
    if signal.kind is SignalKind.CLOSURE:
        closure = await closures.get(conn, signal.ref_id)
        if closure is None:
            return {}
        return {
            "closure": closure,
            "reason": rules.label_of(rules.CLOSURE_REASONS, closure.reason),
        }
    return {}


async def view(conn: Conn, signal: Signal, *, thread: bool = True) -> SignalView:
    """The signal with what its card shows: what it is about and (optionally) the exchange."""
    messages = await signal_store.messages(conn, signal.id) if thread else []
    return SignalView(signal, messages, await about(conn, signal))


async def announce(tx: Tx, caf: Caf, signal: Signal, *, tz: ZoneInfo, now: datetime) -> int:
    """Tells the Caf's coordinators (and its notification group) of a new signal."""
    text, markup = inbox_screen.new_signal_notice(
        await view(tx, signal, thread=False), tz=tz, now=now
    )
    return await notify.to_coordinators(
        tx, caf, kind="signal_new", key=f"signal:{signal.id}:new", text=text, now=now, markup=markup
    )


async def hold_new_agent(tx: Tx, caf: Caf, signal: Signal, now: datetime) -> bool:
    """A new agent's training need, told with the others who join within minutes of them.

    The first one held arms the notice, each one after pushes it back (NEW_AGENTS_QUIET after
    the last, at most NEW_AGENTS_MAX_WAIT after the first): twenty-two agents joining through
    one link are one notice, while the inbox holds the twenty-two needs at once. With nobody
    to tell now (no coordinator yet, no group), nothing is held: the inbox has it. False then.
    """
    anyone = caf.notify_chat_id is not None or bool(
        await people.list_for_caf(tx, caf.id, role=Role.COORDINATOR)
    )
    if not anyone:
        return False
    first, since = await arrivals.hold(tx, caf.id, signal.id, now)
    armed = await scheduled.reschedule(
        tx,
        kind=NEW_AGENTS_KIND,
        key=f"{NEW_AGENTS_KIND}:{caf.id}:{first}",
        due_at=joining.new_agents_notice_at(since, now),
        payload={"caf": caf.id},
        now=now,
    )
    if not armed:
        # That batch's notice is running (it takes this one too, or leaves it to this job)
        # or it failed for good: a notice of this one's own, which takes whatever is held.
        await scheduled.schedule(
            tx,
            kind=NEW_AGENTS_KIND,
            key=f"{NEW_AGENTS_KIND}:{caf.id}:{signal.id}",
            due_at=joining.new_agents_notice_at(now, now),
            payload={"caf": caf.id},
            now=now,
        )
    return True


async def announce_new_agents(db: Database, caf_id: int, now: datetime) -> int:
    """Tells the Caf's coordinators (and its group) of the new agents held for it: the one
    signal's own notice, or one notice for them all. Idempotent: what is told is no longer
    held, in the same transaction. Returns how many messages were queued."""
    async with db.transaction() as tx:
        caf = await cafs.get(tx, caf_id)
        held = await arrivals.take(tx, caf_id)
        found = [await signal_store.get(tx, signal_id) for signal_id in held]
        signals = [signal for signal in found if signal is not None]
        if caf is None or not signals:
            return 0
        if len(signals) == 1:
            return await announce(tx, caf, signals[0], tz=caf.zone, now=now)
        text, markup = onboarding_screen.new_agents_notice(signals)
        return await notify.to_coordinators(
            tx,
            caf,
            kind="signal_new",
            key=f"{NEW_AGENTS_KIND}:{caf.id}:{signals[0].id}",
            text=text,
            now=now,
            markup=markup,
        )


async def move(
    tx: Tx,
    signal: Signal,
    op: Op,
    *,
    by: Person,
    now: datetime,
    resolution: str | None = None,
) -> bool:
    """The signal, as it was read, moved on by `op` to the status the rule gives (SignalError
    when it cannot be); False when someone moved it first."""
    status, expected = rules.after(signal.status, op), signal.status
    return await signal_store.set_status(
        tx, signal.id, status=status, expected=expected, by=by.id, now=now, resolution=resolution
    )


async def tell_reporter(
    tx: Tx,
    signal: Signal,
    *,
    step: screen.Step,
    by: Person,
    body: str | None,
    now: datetime,
    key: str = "",
) -> bool:
    """Tells whoever raised the signal that the Caf acknowledged, answered or closed it."""
    if signal.reporter_id is None:
        return False
    reporter = await people.get(tx, signal.reporter_id)
    if reporter is None:
        return False
    text, markup = screen.reporter_notice(signal, step=step, by=by, body=body)
    return await notify.to_person(
        tx,
        reporter,
        kind=f"signal_{step}",
        key=key or f"signal:{signal.id}:{step}",
        text=text,
        now=now,
        markup=markup,
    )
