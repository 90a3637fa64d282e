"""🕘 Horaires et fermetures (managers): the site's weekly hours and exceptional closures.

Hours (Articles 4 and 7): a manager edits a draft copy of the schedule day by day — a
ready-made slot in one tap, or typed times in the usual French forms — sees at once whether
it meets the convention's minimum (4 half-days, 12 hours), chooses the date from which it
applies, and saves. Below the minimum they may still save: the Caf is alerted that the
label is at risk. Every declaration is kept, and the Caf gets the difference.

Closures (Article 4): one day or a range, picked on an inline calendar or typed, a reason
and an optional note; the Caf and the site's other people are told; a closure can be
cancelled until its last day.

The use cases are bot/services/hours.py and bot/services/closures.py, the screens
bot/ui/screens/hours.py; the calendar's state travels in its buttons (`HoursTap`).
"""

from __future__ import annotations

from datetime import date

from telegram import Message, Update

from bot.context import Ctx
from bot.domain.closure_dates import ClosureDateError
from bot.domain.models import Member, PendingInput
from bot.domain.opening_hours import HoursParseError, parse_periods
from bot.domain.permissions import Action
from bot.domain.signals import NOTE_MAX
from bot.services import closures, hours
from bot.ui.callbacks import BadCallback, HoursTap
from bot.ui.screens import Screen
from bot.ui.screens import hours as screen
from bot.ui.screens.hours import HoursOp
from conversations.common import chat_id_of, edit, guarded, open_flow, require, send
from conversations.taps import TapTable
from conversations.text_input import TypedSteps

TAPS = TapTable(HoursTap, HoursOp)
TYPED = TypedSteps()
HOURS = Action.MANAGE_HOURS
CLOSURES = Action.MANAGE_CLOSURES


def _today(ctx: Ctx, member: Member) -> date:
    return hours.local_day(ctx.clock.now(), member.caf.zone)


@guarded
async def open_hours(update: Update, ctx: Ctx) -> None:
    """The menu entry 🕘 Horaires et fermetures."""
    member = await open_flow(update, ctx, HOURS)
    view = await hours.home(ctx.db, member, ctx.clock.now(), member.caf.zone)
    await send(ctx, chat_id_of(update), *screen.home(view))


@TAPS.on(HoursOp.HOME, needs=HOURS)
async def show_home(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    now, tz = ctx.clock.now(), member.caf.zone
    await edit(message, *screen.home(await hours.home(ctx.db, member, now, tz, forget_typing=True)))


@TAPS.on(HoursOp.NOOP, needs=HOURS)
async def nothing(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    """The calendar's labels (month, weekdays, days out of reach)."""


# ------------------------------------------------------------------------------ hours
@TAPS.on(HoursOp.EDIT, needs=HOURS)
async def show_week(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    draft = await hours.edit(ctx.db, member, ctx.clock.now())
    await edit(message, *screen.week(member.partner, draft))


@TAPS.on(HoursOp.DAY, needs=HOURS)
async def show_day(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    day = screen.weekday(tap.a)
    draft = await hours.ask_day(ctx.db, member, day, ctx.clock.now())
    await edit(message, *screen.day(draft, day))


@TAPS.on(HoursOp.SLOT, needs=HOURS)
async def choose_slot(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    day, periods = screen.weekday(tap.a), screen.slot(tap.b)
    draft = await hours.set_day(ctx.db, member, day, periods, ctx.clock.now())
    await edit(message, *screen.week(member.partner, draft))


@TAPS.on(HoursOp.COPY, needs=HOURS)
async def copy_monday(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> str:
    draft = await hours.copy_monday(ctx.db, member, ctx.clock.now())
    await edit(message, *screen.week(member.partner, draft))
    return screen.MONDAY_COPIED


@TAPS.on(HoursOp.DROP, needs=HOURS)
async def drop(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> str:
    view = await hours.drop(ctx.db, member, ctx.clock.now(), member.caf.zone)
    await edit(message, *screen.home(view))
    return screen.DROPPED


@TAPS.on(HoursOp.REVIEW, needs=HOURS)
async def show_review(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    now, tz = ctx.clock.now(), member.caf.zone
    view = await hours.review(ctx.db, member, now, tz, forget_typing=True)
    await edit(message, *screen.review(view))


@TAPS.on(HoursOp.FROM, needs=HOURS)
async def ask_effective(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    today = await hours.ask_effective(ctx.db, member, ctx.clock.now(), member.caf.zone)
    await edit(message, *screen.effective_from(today))


@TAPS.on(HoursOp.FROM_SET, needs=HOURS)
async def set_effective(
    ctx: Ctx, member: Member, tap: HoursTap, message: Message | None
) -> str | None:
    day = screen.from_number(tap.a)
    try:
        view = await hours.set_effective(ctx.db, member, day, ctx.clock.now(), member.caf.zone)
    except hours.EffectiveDateRefused as refused:
        return screen.EFFECTIVE_REFUSED[refused.why]
    await edit(message, *screen.review(view))
    return None


@TAPS.on(HoursOp.SAVE, needs=HOURS)
async def save(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> str:
    try:
        declared = await hours.declare(ctx.db, member, tap.a, ctx.clock.now(), member.caf.zone)
    except hours.AlreadySaved as done:
        await edit(message, *screen.home(done.home))
        return screen.ALREADY_SAVED
    except hours.DraftChanged as changed:
        await edit(message, *screen.review(changed.review))
        return screen.DRAFT_CHANGED
    except hours.NothingChanged:
        return screen.NOTHING_CHANGED
    ctx.services.wake_outbox()
    await edit(message, *screen.saved(declared))
    return screen.SAVED


@TAPS.on(HoursOp.HISTORY, needs=HOURS)
async def show_history(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    declarations = await hours.history(ctx.db, member)
    await edit(message, *screen.history(member.partner, declarations, member.caf.zone))


# ------------------------------------------------------------------------------ closures
@TAPS.on(HoursOp.CALENDAR, needs=CLOSURES)
async def show_calendar(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    """A month of the calendar; `tap.b` is the first day when it is picked already."""
    today = _today(ctx, member)
    year, month = screen.month_of(tap.a, today)
    start = screen.from_number(tap.b) if tap.b else None
    if start is None:
        await closures.ask_dates(ctx.db, member, ctx.clock.now())
    await edit(message, *screen.calendar(member.partner, today, year, month, start))


@TAPS.on(HoursOp.PICK, needs=CLOSURES)
async def pick_day(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> str | None:
    """A day of the calendar: the first of the closure, or (`tap.b` set) its last."""
    today, day = _today(ctx, member), screen.from_number(tap.a)
    year, month = screen.month_of(tap.c, today)
    if not tap.b:
        if day < today:
            return screen.DAY_PAST
        await edit(message, *screen.calendar(member.partner, today, year, month, day))
        return None
    now, tz = ctx.clock.now(), member.caf.zone
    try:
        start, end = await closures.choose_dates(
            ctx.db, member, screen.from_number(tap.b), day, now, tz
        )
    except ClosureDateError as error:
        return screen.dates_refused_toast(error)
    await edit(message, *screen.reasons(start, end))
    return None


@TAPS.on(HoursOp.REASON, needs=CLOSURES)
async def choose_reason(ctx: Ctx, member: Member, tap: HoursTap, message: Message | None) -> None:
    start, end = screen.from_number(tap.a), screen.from_number(tap.b)
    reason = screen.reason_code(tap.c)
    await closures.ask_note(ctx.db, member, start, end, reason, ctx.clock.now())
    await edit(message, *screen.note(start, end, tap.c))


@TAPS.on(HoursOp.CLOSURE_SAVE, needs=CLOSURES)
async def save_closure(
    ctx: Ctx, member: Member, tap: HoursTap, message: Message | None
) -> str | None:
    """« Enregistrer sans note »."""
    start, end = screen.from_number(tap.a), screen.from_number(tap.b)
    shown, new = await _declare(ctx, member, start, end, screen.reason_code(tap.c), None)
    await edit(message, *shown)
    return None if new else screen.CLOSURE_ALREADY_SAVED


async def _declare(
    ctx: Ctx, member: Member, start: date, end: date, reason: str, note: str | None
) -> tuple[Screen, bool]:
    """The closure declared and what to show; True when it is new (or was refused)."""
    now, tz = ctx.clock.now(), member.caf.zone
    try:
        closure, new = await closures.declare(
            ctx.db,
            member,
            start=start,
            end=end,
            reason=reason,
            note=note,
            now=now,
            tz=tz,
            forget_typing=True,
        )
    except ClosureDateError as error:  # days gone by since they were picked
        return screen.closure_dates_refused(error), True
    ctx.services.wake_outbox()
    return screen.closure_saved(closure, new), new


@TAPS.on(HoursOp.CLOSURE_CANCEL, needs=CLOSURES)
async def cancel_closure(
    ctx: Ctx, member: Member, tap: HoursTap, message: Message | None
) -> str | None:
    """✖️ Annuler la fermeture: asked to confirm first (`tap.b` is 1 once confirmed)."""
    now, tz = ctx.clock.now(), member.caf.zone
    try:
        if tap.b != 1:
            closure = await closures.cancellable(ctx.db, member, tap.a, now, tz)
            await edit(message, *screen.cancel_confirm(closure))
            return None
        closure = await closures.cancel(ctx.db, member, tap.a, now, tz)
    except closures.CancelRefused as refused:
        return await _cancel_refused(ctx, member, refused, message)
    ctx.services.wake_outbox()
    then = await hours.home(ctx.db, member, now, tz)
    await edit(message, *screen.closure_cancelled(closure, then))
    return screen.CLOSURE_CANCELLED


async def _cancel_refused(
    ctx: Ctx, member: Member, refused: closures.CancelRefused, message: Message | None
) -> str:
    if refused.why is closures.CancelRefused.Why.NOT_YOURS:
        raise BadCallback("not a closure of this site")
    if refused.why is closures.CancelRefused.Why.CANCELLED:
        await edit(
            message,
            *screen.home(await hours.home(ctx.db, member, ctx.clock.now(), member.caf.zone)),
        )
    return screen.CANCEL_REFUSED[refused.why]


# ------------------------------------------------------------------------------ typed answers
@TYPED.text("hours_day", max_length=120)
async def on_hours_day(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, HOURS)
    day = screen.weekday(int(expected.context["weekday"]))
    try:
        periods = parse_periods(text)
    except HoursParseError as error:
        await send(ctx, chat_id_of(update), screen.day_not_understood(day, error))
        return
    draft = await hours.set_day(ctx.db, member, day, periods, ctx.clock.now())
    await send(ctx, chat_id_of(update), *screen.day_set(member.partner, draft, day, periods))


@TYPED.text("hours_from", max_length=60)
async def on_hours_from(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, HOURS)
    now, tz = ctx.clock.now(), member.caf.zone
    try:
        view = await hours.set_effective_typed(ctx.db, member, text, now, tz)
    except ClosureDateError as error:
        await send(ctx, chat_id_of(update), screen.date_not_understood(error))
        return
    except hours.EffectiveDateRefused as refused:
        await send(ctx, chat_id_of(update), screen.EFFECTIVE_REFUSED[refused.why])
        return
    await send(ctx, chat_id_of(update), *screen.review(view))


@TYPED.text("closure_dates", max_length=80)
async def on_closure_dates(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, CLOSURES)
    now, tz = ctx.clock.now(), member.caf.zone
    try:
        start, end = await closures.typed_dates(ctx.db, member, text, now, tz)
    except ClosureDateError as error:
        await send(ctx, chat_id_of(update), screen.date_not_understood(error))
        return
    await send(ctx, chat_id_of(update), *screen.reasons(start, end))


@TYPED.text("closure_note", max_length=NOTE_MAX)
async def on_closure_note(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, CLOSURES)
    start = date.fromisoformat(str(expected.context["start"]))
    end = date.fromisoformat(str(expected.context["end"]))
    reason = screen.typed_reason(str(expected.context["reason"]))
    shown, _ = await _declare(ctx, member, start, end, reason, text)
    await send(ctx, chat_id_of(update), *shown)
