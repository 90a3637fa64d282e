"""🕘 Horaires et fermetures (managers): the site's weekly hours and exceptional closures.

Hours (Articles 4 and 7): a manager edits a draft copy of the schedule day by day — a
ready-made slot in one tap, or typed times in the usual French forms — sees at once whether
it meets the convention's minimum (4 half-days, 12 hours), chooses the date from which it
applies, and saves. Below the minimum they may still save: the Caf is alerted that the
label is at risk. Every declaration is kept, and the Caf gets the difference.

Closures (Article 4): one day or a range, picked on an inline calendar or typed, a reason
and an optional note; the Caf and the site's other people are told; a closure can be
cancelled until its last day.

The draft lives in the database (`hours_drafts`), so a restart loses nothing; the calendar's
state travels in its buttons (`HoursTap`).
"""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.context import Ctx
from bot.domain import closure_dates, opening_hours
from bot.domain import signals as rules
from bot.domain.models import Member, PendingInput
from bot.domain.opening_hours import COMMON_SLOTS, DAY_NAMES, HoursParseError, WeeklySchedule
from bot.domain.permissions import Action
from bot.domain.signals import SignalKind, SignalStatus
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, HoursTap, SignalTap
from bot.ui.formatting import MONTHS
from bot.ui.render import render
from conversations import closure_ops, signal_view
from conversations.common import chat_id_of, edit, guarded, require, send
from conversations.text_input import TypedSteps
from storage import audit, closures, hours, pending
from storage import signals as signal_store
from storage.hours import Declaration, HoursDraft

WEEKDAYS_SHORT = ("L", "M", "M", "J", "V", "S", "D")
MAX_EFFECTIVE_DAYS_AHEAD = 365

TYPED = TypedSteps()


def _button(label: str, op: str, a: int = 0, b: int = 0, c: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(HoursTap(op, a, b, c)))


def day_number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def from_number(value: int) -> date:
    try:
        return date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        raise BadCallback("not a date") from None


def _today(ctx: Ctx) -> date:
    return signal_view.local_day(ctx.clock.now(), ctx.settings.tz)


def _site(member: Member) -> int:
    assert member.partner is not None
    return member.partner.id


# ------------------------------------------------------------------------------ home
async def _home(ctx: Ctx, member: Member) -> tuple[str, InlineKeyboardMarkup]:
    partner_id = _site(member)
    today = _today(ctx)
    current = await hours.in_force(ctx.db, partner_id, today)
    coming = await hours.upcoming(ctx.db, partner_id, today)
    upcoming_closures = await closures.upcoming(ctx.db, partner_id, today)
    draft = await hours.draft(ctx.db, member.person.id)
    text = render(
        "hours_home",
        partner=member.partner,
        current=current,
        compliance=opening_hours.check_minimum(current.schedule) if current else None,
        coming=coming,
        closures=upcoming_closures,
        reason=lambda code: rules.label_of(rules.CLOSURE_REASONS, code),
        today=today,
    )
    edit_label = "✏️ Reprendre la modification" if draft else "✏️ Modifier les horaires"
    rows = [
        [_button(edit_label, "edit")],
        [_button("➕ Fermeture exceptionnelle", "cal")],
        [
            InlineKeyboardButton(
                "🚪 Fermé aujourd'hui",
                callback_data=callbacks.encode(SignalTap("today", 0, "0", "0")),
            )
        ],
    ]
    for closure in upcoming_closures[:5]:
        rows.append([_button(f"✖️ Annuler la fermeture {_span(closure)}", "ccx", closure.id)])
    rows.append([_button("📜 Historique des horaires", "hist")])
    return text, InlineKeyboardMarkup(rows)


def _span(closure: closures.Closure) -> str:
    if closure.start_date == closure.end_date:
        return f"du {closure.start_date:%d/%m}"
    return f"{closure.start_date:%d/%m} → {closure.end_date:%d/%m}"


@guarded
async def open_hours(update: Update, ctx: Ctx) -> None:
    """The menu entry 🕘 Horaires et fermetures."""
    member = await require(update, ctx, Action.MANAGE_HOURS)
    await pending.clear(ctx.db, member.person.id)
    await send(ctx, chat_id_of(update), *await _home(ctx, member))


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=HoursTap)
    entry = TAPS.get(tap.op)
    if entry is None:
        raise BadCallback("unknown op")
    action, handler = entry
    member = await require(update, ctx, action)
    message = query.message if isinstance(query.message, Message) else None
    answer = await handler(ctx, member, tap, message)
    await query.answer(answer)


async def tap_home(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    await pending.clear(ctx.db, member.person.id)
    await edit(message, *await _home(ctx, member))


async def tap_noop(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    return None


# ------------------------------------------------------------------------------ hours draft
async def _draft(ctx: Ctx, member: Member) -> HoursDraft:
    """The person's draft, started from the latest declared schedule when there is none."""
    found = await hours.draft(ctx.db, member.person.id)
    if found is not None and found.partner_id == _site(member):
        return found
    latest = await hours.latest_declared(ctx.db, _site(member))
    return await hours.save_draft(
        ctx.db,
        person_id=member.person.id,
        partner_id=_site(member),
        schedule=latest.schedule if latest else WeeklySchedule.closed(),
        effective_from=None,
        now=ctx.clock.now(),
    )


def _week(member: Member, draft: HoursDraft) -> tuple[str, InlineKeyboardMarkup]:
    schedule = draft.schedule
    rows = [
        [_button(f"{DAY_NAMES[d]} : {opening_hours.format_periods(schedule[d])}", "day", d)]
        for d in range(7)
    ]
    if schedule[0]:
        rows.append([_button("📋 Copier le lundi sur mardi → vendredi", "copy", 0)])
    rows.append([_button("✖️ Abandonner", "drop"), _button("Suivant ▶️", "review")])
    text = render(
        "hours_week",
        partner=member.partner,
        compliance=opening_hours.check_minimum(schedule),
    )
    return text, InlineKeyboardMarkup(rows)


async def tap_edit(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    await pending.clear(ctx.db, member.person.id)
    await edit(message, *_week(member, await _draft(ctx, member)))


def _weekday(value: int) -> int:
    if not 0 <= value <= 6:
        raise BadCallback("not a weekday")
    return value


async def tap_day(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    weekday = _weekday(tap.a)
    draft = await _draft(ctx, member)
    await pending.expect(
        ctx.db, member.person.id, "hours_day", {"weekday": weekday}, ctx.clock.now()
    )
    rows = [[_button(label, "slot", weekday, i)] for i, (label, _) in enumerate(COMMON_SLOTS)]
    rows.append([_button("⬅️ Retour", "edit")])
    text = render(
        "hours_day",
        day=DAY_NAMES[weekday],
        current=opening_hours.format_periods(draft.schedule[weekday]),
    )
    await edit(message, text, InlineKeyboardMarkup(rows))


async def _set_day(
    ctx: Ctx, member: Member, weekday: int, periods: tuple[opening_hours.Period, ...]
) -> HoursDraft:
    draft = await _draft(ctx, member)
    async with ctx.db.transaction() as tx:
        await pending.clear(tx, member.person.id)
        return await hours.save_draft(
            tx,
            person_id=member.person.id,
            partner_id=draft.partner_id,
            schedule=draft.schedule.with_day(weekday, periods),
            effective_from=draft.effective_from,
            now=ctx.clock.now(),
        )


async def tap_slot(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    weekday = _weekday(tap.a)
    if not 0 <= tap.b < len(COMMON_SLOTS):
        raise BadCallback("unknown slot")
    draft = await _set_day(ctx, member, weekday, COMMON_SLOTS[tap.b][1])
    await edit(message, *_week(member, draft))


async def tap_copy(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> str:
    draft = await _draft(ctx, member)
    monday = draft.schedule[0]
    schedule = draft.schedule
    for weekday in range(1, 5):
        schedule = schedule.with_day(weekday, monday)
    saved = await hours.save_draft(
        ctx.db,
        person_id=member.person.id,
        partner_id=draft.partner_id,
        schedule=schedule,
        effective_from=draft.effective_from,
        now=ctx.clock.now(),
    )
    await edit(message, *_week(member, saved))
    return "Lundi copié sur mardi → vendredi."


async def tap_drop(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> str:
    await hours.drop_draft(ctx.db, member.person.id)
    await pending.clear(ctx.db, member.person.id)
    await edit(message, *await _home(ctx, member))
    return "Modification abandonnée : rien n'a changé."


async def _review(ctx: Ctx, member: Member) -> tuple[str, InlineKeyboardMarkup]:
    draft = await _draft(ctx, member)
    today = _today(ctx)
    effective = max(draft.effective_from or today, today)
    before = await hours.in_force(ctx.db, draft.partner_id, effective)
    before_schedule = before.schedule if before else None
    compliance = opening_hours.check_minimum(draft.schedule)
    unchanged = before_schedule == draft.schedule
    text = render(
        "hours_review",
        partner=member.partner,
        schedule=draft.schedule,
        compliance=compliance,
        changes=opening_hours.diff(before_schedule, draft.schedule),
        unchanged=unchanged,
        effective=effective,
        today=today,
    )
    rows = []
    if not unchanged:
        rows.append([_button("✅ Enregistrer et prévenir la Caf", "save", draft.revision)])
    rows.append([_button("📅 Changer la date d'effet", "from")])
    rows.append([_button("✏️ Modifier", "edit"), _button("✖️ Abandonner", "drop")])
    return text, InlineKeyboardMarkup(rows)


async def tap_review(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    await pending.clear(ctx.db, member.person.id)
    await edit(message, *await _review(ctx, member))


def _effective_choices(today: date) -> list[tuple[str, date]]:
    next_monday = today + timedelta(days=7 - today.weekday())
    first_next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return [
        ("Aujourd'hui", today),
        (f"Lundi prochain ({next_monday:%d/%m})", next_monday),
        (f"Le 1er {MONTHS[first_next_month.month - 1]}", first_next_month),
    ]


async def tap_from(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    today = _today(ctx)
    await pending.expect(ctx.db, member.person.id, "hours_from", {}, ctx.clock.now())
    rows = [
        [_button(label, "fromset", day_number(day))] for label, day in _effective_choices(today)
    ]
    rows.append([_button("⬅️ Retour", "review")])
    await edit(message, render("hours_from"), InlineKeyboardMarkup(rows))


async def _set_effective(ctx: Ctx, member: Member, day: date) -> str | None:
    """None when set; else why the date is refused (French)."""
    today = _today(ctx)
    if day < today:
        return (
            "Cette date est passée : les horaires s'appliquent à partir d'aujourd'hui au plus tôt."
        )
    if day > today + timedelta(days=MAX_EFFECTIVE_DAYS_AHEAD):
        return "Choisissez une date dans l'année qui vient."
    draft = await _draft(ctx, member)
    async with ctx.db.transaction() as tx:
        await pending.clear(tx, member.person.id)
        await hours.save_draft(
            tx,
            person_id=member.person.id,
            partner_id=draft.partner_id,
            schedule=draft.schedule,
            effective_from=day,
            now=ctx.clock.now(),
        )
    return None


async def tap_from_set(
    ctx: Ctx, member: Member, tap: HoursTap, message: Message | None
) -> str | None:
    problem = await _set_effective(ctx, member, from_number(tap.a))
    if problem:
        return problem
    await edit(message, *await _review(ctx, member))
    return None


async def tap_save(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> str | None:
    draft = await hours.draft(ctx.db, member.person.id)
    if draft is None:
        await edit(message, *await _home(ctx, member))
        return "Ces horaires sont déjà enregistrés."
    if draft.revision != tap.a:
        await edit(message, *await _review(ctx, member))
        return "Les horaires ont changé depuis : vérifiez puis enregistrez."
    declaration = await save_declaration(ctx, member, draft)
    if declaration is None:
        return "Rien n'a changé : il n'y a rien à enregistrer."
    rows = [[_button("⬅️ Horaires et fermetures", "home")]]
    await edit(
        message,
        render(
            "hours_saved",
            declaration=declaration,
            compliance=opening_hours.check_minimum(declaration.schedule),
        ),
        InlineKeyboardMarkup(rows),
    )
    return "Horaires enregistrés."


async def save_declaration(ctx: Ctx, member: Member, draft: HoursDraft) -> Declaration | None:
    """Keeps the schedule, tells the Caf the difference, alerts it when below the minimum."""
    now = ctx.clock.now()
    tz = ctx.settings.tz
    today = _today(ctx)
    effective = max(draft.effective_from or today, today)
    async with ctx.db.transaction() as tx:
        if not await hours.drop_draft(tx, member.person.id):
            return None  # saved by a double tap a moment ago
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
        await audit.record(
            tx,
            at=now,
            action="hours.declared",
            actor_id=member.person.id,
            caf_id=member.caf.id,
            target_type="partner",
            target_id=draft.partner_id,
            details={
                "effective_from": effective.isoformat(),
                "compliant": declaration.compliant,
                "declaration": declaration.id,
            },
        )
        for kind in (SignalKind.HOURS, SignalKind.LABEL_RISK):
            if kind is SignalKind.LABEL_RISK and declaration.compliant:
                continue
            signal, _ = await signal_store.raise_signal(
                tx,
                caf_id=member.caf.id,
                partner_id=draft.partner_id,
                kind=kind,
                reporter_id=member.person.id,
                ref_id=declaration.id,
                dedup_key=f"{kind.value}:{declaration.id}",
                now=now,
            )
            await signal_view.announce(tx, member.caf, signal, tz=tz, now=now)
        if declaration.compliant and effective <= today:
            await _close_label_risks(tx, member, declaration, now)
    ctx.services.wake_outbox()
    return declaration


async def _close_label_risks(tx: Any, member: Member, declaration: Declaration, now: Any) -> None:
    """Hours back above the minimum: the site's open label-risk alerts are closed."""
    open_risks, _ = await signal_store.inbox(
        tx, member.caf.id, kind=SignalKind.LABEL_RISK, partner_id=declaration.partner_id, limit=50
    )
    for risk in open_risks:
        await signal_store.set_status(
            tx,
            risk.id,
            status=SignalStatus.RESOLVED,
            expected=risk.status,
            by=member.person.id,
            now=now,
            resolution="Horaires redevenus conformes au minimum de la convention.",
        )


async def tap_history(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    declarations = await hours.history(ctx.db, _site(member), limit=10)
    text = render(
        "hours_history",
        partner=member.partner,
        declarations=declarations,
        tz=ctx.settings.tz,
        describe=lambda d: opening_hours.diff(d.before_schedule, d.schedule),
    )
    await edit(message, text, InlineKeyboardMarkup([[_button("⬅️ Retour", "home")]]))


# ------------------------------------------------------------------------------ closures
def _calendar(
    today: date, year: int, month: int, start: date | None
) -> list[list[InlineKeyboardButton]]:
    cursor = year * 100 + month
    first = (today.year, today.month)
    last = closure_dates.add_months(today.year, today.month, 24)
    start_number = day_number(start) if start else 0
    previous = closure_dates.add_months(year, month, -1)
    following = closure_dates.add_months(year, month, 1)
    header = [
        _button("◀️", "cal", previous[0] * 100 + previous[1], start_number)
        if (year, month) > first
        else _button("·", "noop"),
        _button(f"{MONTHS[month - 1].capitalize()} {year}", "noop"),
        _button("▶️", "cal", following[0] * 100 + following[1], start_number)
        if (year, month) < last
        else _button("·", "noop"),
    ]
    rows = [header, [_button(d, "noop") for d in WEEKDAYS_SHORT]]
    lowest = start or today
    for week in closure_dates.month_grid(year, month):
        if all(day is None or day < lowest for day in week):
            continue  # a week wholly past: nothing to pick there
        row = []
        for day in week:
            if day is None or day < lowest:
                row.append(_button("·", "noop"))
            elif start is not None and day == start:
                row.append(_button(f"[{day.day}]", "pick", day_number(day), start_number, cursor))
            else:
                row.append(_button(str(day.day), "pick", day_number(day), start_number, cursor))
        rows.append(row)
    rows.append([_button("⬅️ Retour", "home")])
    return rows


def _month_of(value: int, today: date) -> tuple[int, int]:
    if value == 0:
        return today.year, today.month
    year, month = divmod(value, 100)
    if not 1 <= month <= 12 or not today.year - 1 <= year <= today.year + 3:
        raise BadCallback("not a month")
    return year, month


async def tap_calendar(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    today = _today(ctx)
    year, month = _month_of(tap.a, today)
    start = from_number(tap.b) if tap.b else None
    if start is None:
        await pending.expect(ctx.db, member.person.id, "closure_dates", {}, ctx.clock.now())
    await edit(
        message,
        render("closure_calendar", start=start, partner=member.partner),
        InlineKeyboardMarkup(_calendar(today, year, month, start)),
    )


async def tap_pick(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> str | None:
    today = _today(ctx)
    day = from_number(tap.a)
    year, month = _month_of(tap.c, today)
    if not tap.b:
        if day < today:
            return "Ce jour est passé."
        await edit(
            message,
            render("closure_calendar", start=day, partner=member.partner),
            InlineKeyboardMarkup(_calendar(today, year, month, day)),
        )
        return None
    start = from_number(tap.b)
    try:
        start, end = closure_dates.check_range(start, day, today)
    except closure_dates.ClosureDateError as error:
        return str(error)[:200]
    await pending.clear(ctx.db, member.person.id)
    await edit(message, *_reasons(start, end))
    return None


def _reasons(start: date, end: date) -> tuple[str, InlineKeyboardMarkup]:
    rows = [
        [_button(reason.label, "reason", day_number(start), day_number(end), i)]
        for i, reason in enumerate(rules.CLOSURE_REASONS)
    ]
    rows.append([_button("⬅️ Autres dates", "cal")])
    return render("closure_reason", start=start, end=end, step="reason"), InlineKeyboardMarkup(rows)


def _reason_code(index: int) -> str:
    if not 0 <= index < len(rules.CLOSURE_REASONS):
        raise BadCallback("unknown reason")
    return rules.CLOSURE_REASONS[index].code


async def tap_reason(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    start, end = from_number(tap.a), from_number(tap.b)
    reason = _reason_code(tap.c)
    await pending.expect(
        ctx.db,
        member.person.id,
        "closure_note",
        {"start": start.isoformat(), "end": end.isoformat(), "reason": reason},
        ctx.clock.now(),
    )
    rows = [
        [_button("💾 Enregistrer sans note", "csave", tap.a, tap.b, tap.c)],
        [_button("⬅️ Autre motif", "pick", tap.b, tap.a, tap.b // 100)],
    ]
    text = render(
        "closure_reason",
        start=start,
        end=end,
        step="note",
        reason=rules.label_of(rules.CLOSURE_REASONS, reason),
        limit=rules.NOTE_MAX,
    )
    await edit(message, text, InlineKeyboardMarkup(rows))


async def _save_closure(
    ctx: Ctx, member: Member, start: date, end: date, reason: str, note: str | None
) -> tuple[str, InlineKeyboardMarkup | None, bool]:
    try:
        start, end = closure_dates.check_range(start, end, _today(ctx))
    except closure_dates.ClosureDateError as error:
        text = html.escape(str(error), quote=False)
        return text, InlineKeyboardMarkup([[_button("📅 Autres dates", "cal")]]), False
    await pending.clear(ctx.db, member.person.id)
    closure, new = await closure_ops.declare(
        ctx, member, start=start, end=end, reason=reason, note=note
    )
    text = render(
        "closure_saved",
        closure=closure,
        again=not new,
        reason=rules.label_of(rules.CLOSURE_REASONS, closure.reason),
    )
    rows = [
        [_button("✖️ Annuler cette fermeture", "ccx", closure.id)],
        [_button("⬅️ Horaires et fermetures", "home")],
    ]
    return text, InlineKeyboardMarkup(rows), new


async def tap_closure_save(
    ctx: Ctx, member: Member, tap: HoursTap, message: Message | None
) -> str | None:
    text, markup, new = await _save_closure(
        ctx, member, from_number(tap.a), from_number(tap.b), _reason_code(tap.c), None
    )
    await edit(message, text, markup)
    return None if new else "Déjà enregistrée."


async def tap_closure_cancel(
    ctx: Ctx, member: Member, tap: HoursTap, message: Message | None
) -> str | None:
    closure = await closures.get(ctx.db, tap.a)
    if closure is None or not closure_ops.may_cancel(member, closure):
        raise BadCallback("not a closure of this site")
    if closure.cancelled_at is not None:
        await edit(message, *await _home(ctx, member))
        return "Cette fermeture est déjà annulée."
    if closure.end_date < _today(ctx):
        return "Cette fermeture est passée : elle ne peut plus être annulée."
    if tap.b != 1:
        rows = [
            [_button("✖️ Oui, annuler la fermeture", "ccx", closure.id, 1)],
            [_button("⬅️ Non, la garder", "home")],
        ]
        await edit(
            message,
            render(
                "closure_cancel_confirm",
                closure=closure,
                reason=rules.label_of(rules.CLOSURE_REASONS, closure.reason),
            ),
            InlineKeyboardMarkup(rows),
        )
        return None
    await closure_ops.cancel(ctx, member, closure)
    text, markup = await _home(ctx, member)
    await edit(message, render("closure_cancelled", closure=closure) + "\n\n" + text, markup)
    return "Fermeture annulée."


TAPS: dict[str, tuple[Action, Any]] = {
    "home": (Action.MANAGE_HOURS, tap_home),
    "noop": (Action.MANAGE_HOURS, tap_noop),
    "edit": (Action.MANAGE_HOURS, tap_edit),
    "day": (Action.MANAGE_HOURS, tap_day),
    "slot": (Action.MANAGE_HOURS, tap_slot),
    "copy": (Action.MANAGE_HOURS, tap_copy),
    "drop": (Action.MANAGE_HOURS, tap_drop),
    "review": (Action.MANAGE_HOURS, tap_review),
    "from": (Action.MANAGE_HOURS, tap_from),
    "fromset": (Action.MANAGE_HOURS, tap_from_set),
    "save": (Action.MANAGE_HOURS, tap_save),
    "hist": (Action.MANAGE_HOURS, tap_history),
    "cal": (Action.MANAGE_CLOSURES, tap_calendar),
    "pick": (Action.MANAGE_CLOSURES, tap_pick),
    "reason": (Action.MANAGE_CLOSURES, tap_reason),
    "csave": (Action.MANAGE_CLOSURES, tap_closure_save),
    "ccx": (Action.MANAGE_CLOSURES, tap_closure_cancel),
}


# ------------------------------------------------------------------------------ typed answers
@TYPED.text("hours_day", max_length=120)
async def on_hours_day(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_HOURS)
    weekday = _weekday(int(expected.context["weekday"]))
    chat_id = chat_id_of(update)
    try:
        periods = opening_hours.parse_periods(text)
    except HoursParseError as error:
        await send(
            ctx, chat_id, render("hours_parse_error", day=DAY_NAMES[weekday], error=str(error))
        )
        return
    draft = await _set_day(ctx, member, weekday, periods)
    week_text, markup = _week(member, draft)
    done = f"✅ {DAY_NAMES[weekday]} : {opening_hours.format_periods(periods)}"
    await send(ctx, chat_id, f"{done}\n\n{week_text}", markup)


@TYPED.text("hours_from", max_length=60)
async def on_hours_from(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_HOURS)
    chat_id = chat_id_of(update)
    try:
        day = closure_dates.parse_day(text, _today(ctx))
    except closure_dates.ClosureDateError as error:  # it quotes what was typed: escaped
        await send(ctx, chat_id, html.escape(str(error), quote=False))
        return
    problem = await _set_effective(ctx, member, day)
    if problem:
        await send(ctx, chat_id, problem)
        return
    await send(ctx, chat_id, *await _review(ctx, member))


@TYPED.text("closure_dates", max_length=80)
async def on_closure_dates(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_CLOSURES)
    chat_id = chat_id_of(update)
    try:
        start, end = closure_dates.parse_closure_dates(text, _today(ctx))
    except closure_dates.ClosureDateError as error:  # it quotes what was typed: escaped
        await send(ctx, chat_id, html.escape(str(error), quote=False))
        return
    await pending.clear(ctx.db, member.person.id)
    await send(ctx, chat_id, *_reasons(start, end))


@TYPED.text("closure_note", max_length=rules.NOTE_MAX)
async def on_closure_note(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_CLOSURES)
    start = date.fromisoformat(str(expected.context["start"]))
    end = date.fromisoformat(str(expected.context["end"]))
    reason = str(expected.context["reason"])
    if not rules.is_code(rules.CLOSURE_REASONS, reason):
        raise BadCallback("unknown reason")
    text_out, markup, _ = await _save_closure(ctx, member, start, end, reason, text)
    await send(ctx, chat_id_of(update), text_out, markup)
