"""📥 Signalements (coordinators): the Caf's inbox of every signal from its sites.

Open items are listed oldest first, so those waiting longest lead; an item unacknowledged for
more than 3 working days is marked 🔴. The list filters by type and by site; the filters and
the page travel in every button (`InboxTap`), so a stale button still shows what it showed.
Each step — acknowledge, reply, resolve — is audit-logged and told to the reporter.
"""

from __future__ import annotations

import math
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.context import Ctx
from bot.domain import signals as rules
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action
from bot.domain.signals import Op, SignalKind, SignalStatus
from bot.services import notify
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, InboxTap
from bot.ui.render import render
from conversations import signal_view
from conversations.common import chat_id_of, dispatch_tap, edit, guarded, require, send
from conversations.text_input import TypedSteps, ask
from storage import audit, pending, people
from storage import signals as signal_store
from storage.signals import Signal

PAGE_SIZE = 8
ALL = "all"

TYPED = TypedSteps()


def _button(
    label: str, op: str, item: int = 0, kind: str = ALL, partner: int = 0, page: int = 0
) -> InlineKeyboardButton:
    data = callbacks.encode(InboxTap(op, item, kind, partner, page))
    return InlineKeyboardButton(label, callback_data=data)


def _kind(code: str) -> SignalKind | None:
    if code == ALL:
        return None
    try:
        return SignalKind(code)
    except ValueError:
        raise BadCallback("unknown kind") from None


# ------------------------------------------------------------------------------ screens
async def _list(
    ctx: Ctx, member: Member, kind_code: str, partner_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    kind = _kind(kind_code)
    now = ctx.clock.now()
    today = signal_view.local_day(now, ctx.settings.tz)
    _, total = await signal_store.inbox(
        ctx.db, member.caf.id, kind=kind, partner_id=partner_id or None, limit=0
    )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    items, _ = await signal_store.inbox(
        ctx.db,
        member.caf.id,
        kind=kind,
        partner_id=partner_id or None,
        limit=PAGE_SIZE,
        offset=page * PAGE_SIZE,
    )
    site = None
    if partner_id:
        sites = dict(
            (i, name) for i, name, _ in await signal_store.partners_with_open(ctx.db, member.caf.id)
        )
        site = sites.get(partner_id, "site sans signalement ouvert")
    overdue = [
        s.id
        for s in items
        if rules.is_overdue(s.status, s.created_at.astimezone(ctx.settings.tz).date(), today)
    ]
    text = render(
        "inbox_list",
        total=total,
        kind=kind,
        site=site,
        page=page + 1,
        pages=pages,
        overdue=len(overdue),
        deadline=rules.ACK_DEADLINE_WORKING_DAYS,
    )
    rows = []
    for s in items:
        days = rules.working_days_waiting(s.created_at.astimezone(ctx.settings.tz).date(), today)
        mark = "🔴" if s.id in overdue else ("🟡" if s.status is SignalStatus.OPEN else "🟢")
        label = f"{mark} {s.kind.emoji} n° {s.id} · {s.partner_name} · {days} j"
        rows.append([_button(label, "item", s.id, kind_code, partner_id, page)])
    pager = []
    if page > 0:
        pager.append(_button("◀️ Précédents", "list", 0, kind_code, partner_id, page - 1))
    if page + 1 < pages:
        pager.append(_button("Suivants ▶️", "list", 0, kind_code, partner_id, page + 1))
    if pager:
        rows.append(pager)
    rows.append(
        [
            _button("🔎 Par type", "kinds", 0, kind_code, partner_id),
            _button("🏢 Par site", "sites", 0, kind_code, partner_id),
        ]
    )
    if kind is not None or partner_id:
        rows.append([_button("✖️ Tout afficher", "list")])
    return text, InlineKeyboardMarkup(rows)


async def _item(
    ctx: Ctx, member: Member, signal: Signal, tap: InboxTap
) -> tuple[str, InlineKeyboardMarkup]:
    text = await signal_view.card(ctx.db, signal, tz=ctx.settings.tz, now=ctx.clock.now())
    keep = (tap.kind, tap.partner, tap.page)
    rows = []
    if signal.status is SignalStatus.OPEN:
        rows.append([_button("✅ Prendre en charge", "ack", signal.id, *keep)])
    if signal.status is not SignalStatus.RESOLVED:
        rows.append(
            [
                _button("↩️ Répondre", "reply", signal.id, *keep),
                _button("✔️ Clore", "resolve", signal.id, *keep),
            ]
        )
    rows.append([_button("⬅️ Signalements", "list", 0, *keep)])
    return text, InlineKeyboardMarkup(rows)


async def _own_signal(ctx: Ctx, member: Member, signal_id: int) -> Signal:
    signal = await signal_store.get(ctx.db, signal_id)
    if signal is None or signal.caf_id != member.caf.id:
        raise BadCallback("not a signal of this Caf")
    return signal


# ------------------------------------------------------------------------------ entry points
@guarded
async def open_inbox(update: Update, ctx: Ctx) -> None:
    """The menu entry 📥 Signalements."""
    member = await require(update, ctx, Action.INBOX)
    await pending.clear(ctx.db, member.person.id)
    text, markup = await _list(ctx, member, ALL, 0, 0)
    await send(ctx, chat_id_of(update), text, markup)


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    await dispatch_tap(update, ctx, payload=InboxTap, taps=TAPS, action=Action.INBOX)


async def tap_list(ctx: Ctx, member: Member, tap: InboxTap, message: Message | None) -> None:
    await edit(message, *await _list(ctx, member, tap.kind, tap.partner, tap.page))


async def tap_kinds(ctx: Ctx, member: Member, tap: InboxTap, message: Message | None) -> None:
    counts = await signal_store.open_counts(ctx.db, member.caf.id)
    rows = [
        [_button(f"{k.emoji} {k.label} ({counts.get(k, 0)})", "list", 0, k.value, tap.partner)]
        for k in SignalKind
    ]
    rows.append([_button("Tous les types", "list", 0, ALL, tap.partner)])
    await edit(message, render("inbox_filter", by="type"), InlineKeyboardMarkup(rows))


async def tap_sites(ctx: Ctx, member: Member, tap: InboxTap, message: Message | None) -> None:
    sites = await signal_store.partners_with_open(ctx.db, member.caf.id)
    rows = [[_button(f"{name} ({n})", "list", 0, tap.kind, pid)] for pid, name, n in sites[:30]]
    rows.append([_button("Tous les sites", "list", 0, tap.kind, 0)])
    await edit(message, render("inbox_filter", by="site"), InlineKeyboardMarkup(rows))


async def tap_item(ctx: Ctx, member: Member, tap: InboxTap, message: Message | None) -> None:
    signal = await _own_signal(ctx, member, tap.item)
    await edit(message, *await _item(ctx, member, signal, tap))


async def tap_acknowledge(
    ctx: Ctx, member: Member, tap: InboxTap, message: Message | None
) -> str | None:
    signal = await _own_signal(ctx, member, tap.item)
    try:
        rules.after(signal.status, Op.ACKNOWLEDGE)
    except rules.SignalError as error:
        await edit(message, *await _item(ctx, member, signal, tap))
        return str(error)
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        moved = await signal_store.set_status(
            tx,
            signal.id,
            status=SignalStatus.ACKNOWLEDGED,
            expected=signal.status,
            by=member.person.id,
            now=now,
        )
        if moved:
            await _record(tx, member, signal, "signal.acknowledged", now)
            await _tell_reporter(tx, signal, step="acknowledged", by=member, body=None, now=now)
    ctx.services.wake_outbox()
    fresh = await _own_signal(ctx, member, signal.id)
    await edit(message, *await _item(ctx, member, fresh, tap))
    return "Pris en charge : le site est prévenu." if moved else "Déjà pris en charge."


async def tap_reply(ctx: Ctx, member: Member, tap: InboxTap, message: Message | None) -> str | None:
    return await _ask_text(ctx, member, tap, "reply")


async def tap_resolve(
    ctx: Ctx, member: Member, tap: InboxTap, message: Message | None
) -> str | None:
    return await _ask_text(ctx, member, tap, "resolve")


async def _ask_text(ctx: Ctx, member: Member, tap: InboxTap, step: str) -> str | None:
    """A reply or a closing note is typed next, and screened like any text."""
    signal = await _own_signal(ctx, member, tap.item)
    if signal.status is SignalStatus.RESOLVED:
        return "Ce signalement est déjà clos."
    kind, limit = (
        ("inbox_reply", rules.DESCRIPTION_MAX)
        if step == "reply"
        else (
            "inbox_resolution",
            rules.NOTE_MAX,
        )
    )
    await ask(
        ctx,
        member,
        kind,
        {"signal": signal.id},
        render("ask_inbox_text", signal=signal, step=step, limit=limit),
    )
    return None


TAPS: dict[str, Any] = {
    "list": tap_list,
    "kinds": tap_kinds,
    "sites": tap_sites,
    "item": tap_item,
    "ack": tap_acknowledge,
    "reply": tap_reply,
    "resolve": tap_resolve,
}


# ------------------------------------------------------------------------------ helpers
async def _record(tx: Any, member: Member, signal: Signal, action: str, now: Any) -> None:
    await audit.record(
        tx,
        at=now,
        action=action,
        actor_id=member.person.id,
        caf_id=member.caf.id,
        target_type="signal",
        target_id=signal.id,
        details={"kind": signal.kind.value, "partner": signal.partner_id},
    )


async def _tell_reporter(
    tx: Any, signal: Signal, *, step: str, by: Member, body: str | None, now: Any, key: str = ""
) -> None:
    if signal.reporter_id is None:
        return
    reporter = await people.get(tx, signal.reporter_id)
    if reporter is None:
        return
    data = callbacks.encode(callbacks.SignalTap("one", signal.id, "0", "0"))
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton("📂 Voir le signalement", callback_data=data)]]
    )
    await notify.to_person(
        tx,
        reporter,
        kind=f"signal_{step}",
        key=key or f"signal:{signal.id}:{step}",
        text=render("signal_update", signal=signal, step=step, by=by.person, body=body),
        now=now,
        markup=markup,
    )


# ------------------------------------------------------------------------------ typed answers
@TYPED.text("inbox_reply", max_length=rules.DESCRIPTION_MAX)
async def on_reply(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.INBOX)
    signal = await _own_signal(ctx, member, int(expected.context["signal"]))
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        await pending.clear(tx, member.person.id)
        fresh = await signal_store.get(tx, signal.id)
        assert fresh is not None
        closed = fresh.status is SignalStatus.RESOLVED
        if not closed:
            message_id = await signal_store.add_message(
                tx, signal.id, author_id=member.person.id, from_caf=True, body=text, now=now
            )
            if fresh.status is SignalStatus.OPEN:  # a reply is an acknowledgement too
                await signal_store.set_status(
                    tx,
                    signal.id,
                    status=rules.after(fresh.status, Op.REPLY),
                    expected=fresh.status,
                    by=member.person.id,
                    now=now,
                )
            await _record(tx, member, signal, "signal.replied", now)
            await _tell_reporter(
                tx,
                fresh,
                step="replied",
                by=member,
                body=text,
                now=now,
                key=f"signal:{signal.id}:msg{message_id}",
            )
    ctx.services.wake_outbox()
    chat_id = chat_id_of(update)
    if closed:
        await send(ctx, chat_id, "Ce signalement a été clos entre-temps : rien n'a été envoyé.")
        return
    updated = await _own_signal(ctx, member, signal.id)
    text_out, markup = await _item(ctx, member, updated, InboxTap("item", signal.id, ALL, 0, 0))
    await send(ctx, chat_id, "✅ Réponse envoyée au site.\n\n" + text_out, markup)


@TYPED.text("inbox_resolution", max_length=rules.NOTE_MAX)
async def on_resolution(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.INBOX)
    signal = await _own_signal(ctx, member, int(expected.context["signal"]))
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        await pending.clear(tx, member.person.id)
        fresh = await signal_store.get(tx, signal.id)
        assert fresh is not None
        moved = fresh.status is not SignalStatus.RESOLVED and await signal_store.set_status(
            tx,
            signal.id,
            status=rules.after(fresh.status, Op.RESOLVE),
            expected=fresh.status,
            by=member.person.id,
            now=now,
            resolution=text,
        )
        if moved:
            await _record(tx, member, signal, "signal.resolved", now)
            await _tell_reporter(tx, fresh, step="resolved", by=member, body=text, now=now)
    ctx.services.wake_outbox()
    chat_id = chat_id_of(update)
    if not moved:
        await send(ctx, chat_id, "Ce signalement était déjà clos.")
        return
    text_out, markup = await _list(ctx, member, ALL, 0, 0)
    await send(
        ctx,
        chat_id,
        f"✔️ Signalement n° {signal.id} clos, le site est prévenu.\n\n" + text_out,
        markup,
    )
