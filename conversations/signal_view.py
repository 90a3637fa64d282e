"""How a signal reads (for the Caf and for its reporter), and the Caf's notice of a new one.

Shared by 📣 Signaler, 🕘 Horaires et fermetures and 📥 Signalements, so a signal looks the
same wherever it shows.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import opening_hours
from bot.domain import signals as rules
from bot.domain.models import Caf
from bot.domain.signals import SignalKind
from bot.services import notify
from bot.ui import callbacks
from bot.ui.callbacks import InboxTap
from bot.ui.render import render
from storage import closures, hours
from storage import signals as signal_store
from storage.db import Conn, Tx
from storage.signals import Signal

# A card must fit in one message (4,096 characters): the latest exchanges, each shortened.
THREAD_SHOWN = 4


def category_label(signal: Signal) -> str | None:
    choices = rules.CATEGORIES.get(signal.kind)
    # A closure's reason shows with its dates, not as an "object".
    if choices is None or signal.category is None or signal.kind is SignalKind.CLOSURE:
        return None
    return rules.label_of(choices, signal.category)


def urgency_label(signal: Signal) -> str | None:
    return rules.label_of(rules.URGENCIES, signal.urgency) if signal.urgency else None


async def details(conn: Conn, signal: Signal) -> dict[str, object]:
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


async def card(
    conn: Conn, signal: Signal, *, tz: ZoneInfo, now: datetime, thread: bool = True
) -> str:
    """The signal in full: what, where, who, when, its state and (optionally) the exchange."""
    today = now.astimezone(tz).date()
    created = signal.created_at.astimezone(tz).date()
    exchanges = await signal_store.messages(conn, signal.id) if thread else []
    shown = exchanges[-THREAD_SHOWN:]
    return render(
        "signal_card",
        signal=signal,
        category=category_label(signal),
        urgency=urgency_label(signal),
        tz=tz,
        waiting=rules.working_days_waiting(created, today),
        overdue=rules.is_overdue(signal.status, created, today),
        messages=shown,
        earlier=len(exchanges) - len(shown),
        **await details(conn, signal),
    )


def open_button(signal_id: int) -> InlineKeyboardMarkup:
    data = callbacks.encode(InboxTap("item", signal_id, "all", 0, 0))
    return InlineKeyboardMarkup([[InlineKeyboardButton("📂 Ouvrir", callback_data=data)]])


async def announce(tx: Tx, caf: Caf, signal: Signal, *, tz: ZoneInfo, now: datetime) -> int:
    """Tells the Caf's coordinators (and its notification group) of a new signal."""
    text = render("signal_new_caf", card=await card(tx, signal, tz=tz, now=now, thread=False))
    return await notify.to_coordinators(
        tx,
        caf,
        kind="signal_new",
        key=f"signal:{signal.id}:new",
        text=text,
        now=now,
        markup=open_button(signal.id),
    )


def local_day(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()
