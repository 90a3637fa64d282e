"""🕘 Horaires et fermetures (managers): the site's weekly hours and exceptional closures.

Hours (Articles 4 and 7): a manager edits a draft copy of the schedule in one message — a
day's ready-made slot in one tap, or its hours typed in the usual French forms; several days
ticked together get the same hours at once; « Copier la semaine actuelle » starts again from
the hours in force — sees at once whether it meets the convention's minimum (4 half-days, 12
hours), chooses the date from which it applies (the coming Monday unless they pick
another; a day sooner asks why, typed, Article 7), and saves. Below the minimum they may still
save: the Caf is alerted that the label is at risk. Every declaration is kept, and the Caf
gets the difference.

Closures (Article 4): one day or a range, picked on an inline calendar or typed, a reason
and an optional note; the Caf and the site's other people are told; a closure can be
cancelled until its last day.

A coordinator does the same for a site of their Caf that has no manager (🏢 Réseau › the
site › « 🕘 Horaires du site »): the same handlers serve their buttons (`SiteHoursTap`, which
name the site), audited as the coordinator.

A typed answer is shown in the message of the step it answers (conversations/live_screen.py),
so the week stays one message. The use cases are bot/services/hours.py and
bot/services/closures.py, the screens bot/ui/screens/hours.py; the calendar's state and the
days ticked travel in the buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from telegram import Message, Update

from bot.context import Ctx
from bot.domain.closure_dates import ClosureDateError
from bot.domain.models import Member, PendingInput
from bot.domain.opening_hours import HoursParseError, day_mask, parse_periods
from bot.domain.permissions import Action
from bot.domain.signals import NOTE_MAX
from bot.services import closures, hours, site_desk
from bot.ui.callbacks import BadCallback, HoursTap, SiteHoursTap
from bot.ui.screens import Screen
from bot.ui.screens import hours as screen
from bot.ui.screens.hours import Desk, HoursOp
from conversations import live_screen
from conversations.common import chat_id_of, edit, guarded, open_flow, send
from conversations.taps import TapHandler, TapTable, require_any
from conversations.text_input import TypedSteps

TAPS = TapTable(HoursTap, HoursOp, stale=(site_desk.NotYourSite,))
SITE_TAPS = TapTable(SiteHoursTap, HoursOp, stale=(site_desk.NotYourSite,))
TYPED = TypedSteps(stale=(site_desk.NotYourSite,))
HOURS = Action.MANAGE_HOURS
CLOSURES = Action.MANAGE_CLOSURES
NETWORK = Action.MANAGE_NETWORK  # a coordinator, for a site of their Caf
Tap = HoursTap | SiteHoursTap
H = TypeVar("H", bound=TapHandler)


def _on(op: HoursOp, needs: Action) -> Callable[[H], H]:
    """One handler for the manager's button (`needs`) and the coordinator's (NETWORK)."""

    def register(handler: H) -> H:
        TAPS.on(op, needs=needs)(handler)
        SITE_TAPS.on(op, needs=NETWORK)(handler)
        return handler

    return register


async def _desk(ctx: Ctx, member: Member, site_id: int) -> Desk:
    site = await site_desk.site_for(ctx.db, member, site_id)
    return Desk(site, remote=site_desk.is_coordinator(member))


async def _tapped(ctx: Ctx, member: Member, tap: Tap) -> Desk:
    """The site a button names: the coordinator's buttons carry it, a manager's own."""
    return await _desk(ctx, member, tap.site if isinstance(tap, SiteHoursTap) else 0)


def _today(ctx: Ctx, member: Member) -> date:
    return hours.local_day(ctx.clock.now(), member.caf.zone)


def _id(message: Message | None) -> int | None:
    return message.message_id if message else None


@guarded
async def open_hours(update: Update, ctx: Ctx) -> None:
    """The menu entry 🕘 Horaires et fermetures."""
    member = await open_flow(update, ctx, HOURS)
    desk = await _desk(ctx, member, site_desk.OWN_SITE)
    view = await hours.home(ctx.db, member, desk.site, ctx.clock.now(), member.caf.zone)
    await send(ctx, chat_id_of(update), *screen.home(desk, view))


@_on(HoursOp.HOME, needs=HOURS)
async def show_home(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    """The home screen (for a coordinator, from the site's card: « 🕘 Horaires du site »)."""
    desk, now, tz = await _tapped(ctx, member, tap), ctx.clock.now(), member.caf.zone
    view = await hours.home(ctx.db, member, desk.site, now, tz, forget_typing=True)
    await edit(message, *screen.home(desk, view))


@_on(HoursOp.NOOP, needs=HOURS)
async def nothing(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    """The calendar's labels (month, weekdays, days out of reach): nothing to do, but a
    site that is not the person's is refused like any button."""
    await _tapped(ctx, member, tap)


# ------------------------------------------------------------------------------ hours
@_on(HoursOp.EDIT, needs=HOURS)
async def show_week(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    desk = await _tapped(ctx, member, tap)
    week = await hours.edit(ctx.db, member, desk.site, ctx.clock.now(), member.caf.zone)
    await edit(message, *screen.week(desk, week))


@_on(HoursOp.DAY, needs=HOURS)
async def show_day(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    """A day of the week: its hours, the other days to tick for the same ones."""
    await _ask_days(ctx, member, tap, day_mask([screen.weekday(tap.a)]), message)


@_on(HoursOp.MULTI, needs=HOURS)
async def show_days(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    """« Mêmes horaires sur plusieurs jours »: the checklist, no day ticked yet."""
    await _ask_days(ctx, member, tap, 0, message)


@_on(HoursOp.TICK, needs=HOURS)
async def tick_day(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    await _ask_days(ctx, member, tap, screen.days(tap.a), message)


async def _ask_days(ctx: Ctx, member: Member, tap: Tap, mask: int, message: Message | None) -> None:
    """The days ticked, asked for a slot or their hours typed (answered in this message)."""
    desk, now = await _tapped(ctx, member, tap), ctx.clock.now()
    draft = await hours.ask_days(ctx.db, member, desk.site, mask, now, message_id=_id(message))
    await edit(message, *screen.day(desk, draft, mask))


@_on(HoursOp.DAYS_SLOT, needs=HOURS)
async def choose_slot(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> str | None:
    """A ready-made slot for every day ticked."""
    mask, periods = screen.days(tap.a), screen.slot(tap.b)
    if not mask:
        return screen.NO_DAY_TICKED
    desk, now, tz = await _tapped(ctx, member, tap), ctx.clock.now(), member.caf.zone
    week = await hours.set_days(ctx.db, member, desk.site, mask, periods, now, tz)
    await edit(message, *screen.week(desk, week))
    return None


@_on(HoursOp.COPY, needs=HOURS)
async def copy_monday(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> str:
    desk, now, tz = await _tapped(ctx, member, tap), ctx.clock.now(), member.caf.zone
    week = await hours.copy_monday(ctx.db, member, desk.site, now, tz)
    await edit(message, *screen.week(desk, week))
    return screen.MONDAY_COPIED


@_on(HoursOp.CURRENT, needs=HOURS)
async def copy_current(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> str:
    """« Copier la semaine actuelle »: the draft starts again from the hours in force."""
    desk, now, tz = await _tapped(ctx, member, tap), ctx.clock.now(), member.caf.zone
    try:
        week = await hours.copy_current(ctx.db, member, desk.site, now, tz)
    except hours.NothingInForce:
        return screen.NOTHING_IN_FORCE
    await edit(message, *screen.week(desk, week))
    return screen.CURRENT_COPIED


@_on(HoursOp.DROP, needs=HOURS)
async def drop(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> str:
    desk = await _tapped(ctx, member, tap)
    view = await hours.drop(ctx.db, member, desk.site, ctx.clock.now(), member.caf.zone)
    await edit(message, *screen.home(desk, view))
    return screen.DROPPED


@_on(HoursOp.REVIEW, needs=HOURS)
async def show_review(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    desk, now, tz = await _tapped(ctx, member, tap), ctx.clock.now(), member.caf.zone
    view = await hours.review(ctx.db, member, desk.site, now, tz, forget_typing=True)
    await edit(message, *screen.review(desk, view))


@_on(HoursOp.FROM, needs=HOURS)
async def ask_effective(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    desk, now, tz = await _tapped(ctx, member, tap), ctx.clock.now(), member.caf.zone
    today = await hours.ask_effective(ctx.db, member, desk.site, now, tz, message_id=_id(message))
    await edit(message, *screen.effective_from(desk, today))


@_on(HoursOp.FROM_SET, needs=HOURS)
async def set_effective(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> str | None:
    day, desk = screen.from_number(tap.a), await _tapped(ctx, member, tap)
    now, tz = ctx.clock.now(), member.caf.zone
    try:
        view = await hours.set_effective(ctx.db, member, desk.site, day, now, tz)
    except hours.EffectiveDateRefused as refused:
        return screen.EFFECTIVE_REFUSED[refused.why]
    await edit(message, *screen.review(desk, view))
    return None


@_on(HoursOp.SAVE, needs=HOURS)
async def save(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> str | None:
    desk = await _tapped(ctx, member, tap)
    shown, toast = await _save(ctx, member, desk, tap.a, None)
    await edit(message, *shown)
    return toast


@_on(HoursOp.WHY, needs=HOURS)
async def ask_reason(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    """Sooner than the coming Monday: why, typed (the answer declares the hours)."""
    desk, now, tz = await _tapped(ctx, member, tap), ctx.clock.now(), member.caf.zone
    view = await hours.ask_reason(
        ctx.db, member, desk.site, tap.a, now, tz, message_id=_id(message)
    )
    await edit(message, *screen.ask_reason(desk, view))


async def _save(
    ctx: Ctx, member: Member, desk: Desk, revision: int, reason: str | None
) -> tuple[Screen, str | None]:
    """The draft reviewed (`revision`) declared, and what to show with which toast."""
    now, tz = ctx.clock.now(), member.caf.zone
    hour = ctx.settings.notify_hour
    try:
        declared = await hours.declare(
            ctx.db, member, desk.site, revision, now, tz, notify_hour=hour, reason=reason
        )
    except hours.AlreadySaved as done:
        return screen.home(desk, done.home), screen.ALREADY_SAVED
    except hours.DraftChanged as changed:
        return screen.review(desk, changed.review), screen.DRAFT_CHANGED
    except hours.ReasonNeeded as needed:
        return screen.review(desk, needed.review), screen.REASON_NEEDED
    except hours.NothingChanged:
        return screen.home(desk, await hours.home(ctx.db, member, desk.site, now, tz)), (
            screen.NOTHING_CHANGED
        )
    ctx.services.wake_outbox()
    return screen.saved(desk, declared, _today(ctx, member)), screen.SAVED


@_on(HoursOp.HISTORY, needs=HOURS)
async def show_history(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    desk = await _tapped(ctx, member, tap)
    declarations = await hours.history(ctx.db, member, desk.site)
    await edit(message, *screen.history(desk, declarations, member.caf.zone))


# ------------------------------------------------------------------------------ closures
@_on(HoursOp.CALENDAR, needs=CLOSURES)
async def show_calendar(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    """A month of the calendar; `tap.b` is the first day when it is picked already."""
    desk, today = await _tapped(ctx, member, tap), _today(ctx, member)
    year, month = screen.month_of(tap.a, today)
    start = screen.from_number(tap.b) if tap.b else None
    if start is None:
        now = ctx.clock.now()
        await closures.ask_dates(ctx.db, member, desk.site, now, message_id=_id(message))
    await edit(message, *screen.calendar(desk, today, year, month, start))


@_on(HoursOp.PICK, needs=CLOSURES)
async def pick_day(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> str | None:
    """A day of the calendar: the first of the closure, or (`tap.b` set) its last."""
    desk, day = await _tapped(ctx, member, tap), screen.from_number(tap.a)
    today = _today(ctx, member)
    year, month = screen.month_of(tap.c, today)
    if not tap.b:
        if day < today:
            return screen.DAY_PAST
        await edit(message, *screen.calendar(desk, today, year, month, day))
        return None
    now, tz, first = ctx.clock.now(), member.caf.zone, screen.from_number(tap.b)
    try:
        start, end = await closures.choose_dates(ctx.db, member, desk.site, first, day, now, tz)
    except ClosureDateError as error:
        return screen.dates_refused_toast(error)
    await edit(message, *screen.reasons(desk, start, end))
    return None


@_on(HoursOp.REASON, needs=CLOSURES)
async def choose_reason(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> None:
    desk = await _tapped(ctx, member, tap)
    start, end = screen.from_number(tap.a), screen.from_number(tap.b)
    reason, now = screen.reason_code(tap.c), ctx.clock.now()
    await closures.ask_note(
        ctx.db, member, desk.site, start, end, reason, now, message_id=_id(message)
    )
    await edit(message, *screen.note(desk, start, end, tap.c))


@_on(HoursOp.CLOSURE_SAVE, needs=CLOSURES)
async def save_closure(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> str | None:
    """« Enregistrer sans note »."""
    desk = await _tapped(ctx, member, tap)
    start, end = screen.from_number(tap.a), screen.from_number(tap.b)
    shown, new = await _declare(ctx, member, desk, start, end, screen.reason_code(tap.c), None)
    await edit(message, *shown)
    return None if new else screen.CLOSURE_ALREADY_SAVED


async def _declare(
    ctx: Ctx, member: Member, desk: Desk, start: date, end: date, reason: str, note: str | None
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
            site=desk.site,
            forget_typing=True,
        )
    except ClosureDateError as error:  # days gone by since they were picked
        return screen.closure_dates_refused(desk, error), True
    ctx.services.wake_outbox()
    return screen.closure_saved(desk, closure, new), new


@_on(HoursOp.CLOSURE_CANCEL, needs=CLOSURES)
async def cancel_closure(ctx: Ctx, member: Member, tap: Tap, message: Message | None) -> str | None:
    """✖️ Annuler la fermeture: asked to confirm first (`tap.b` is 1 once confirmed)."""
    desk, now, tz = await _tapped(ctx, member, tap), ctx.clock.now(), member.caf.zone
    try:
        if tap.b != 1:
            closure = await closures.cancellable(ctx.db, member, tap.a, now, tz, site=desk.site)
            await edit(message, *screen.cancel_confirm(desk, closure))
            return None
        closure = await closures.cancel(ctx.db, member, tap.a, now, tz, site=desk.site)
    except closures.CancelRefused as refused:
        return await _cancel_refused(ctx, member, desk, refused, message)
    ctx.services.wake_outbox()
    then = await hours.home(ctx.db, member, desk.site, now, tz)
    await edit(message, *screen.closure_cancelled(desk, closure, then))
    return screen.CLOSURE_CANCELLED


async def _cancel_refused(
    ctx: Ctx, member: Member, desk: Desk, refused: closures.CancelRefused, message: Message | None
) -> str:
    if refused.why is closures.CancelRefused.Why.NOT_YOURS:
        raise BadCallback("not a closure of this site")
    if refused.why is closures.CancelRefused.Why.CANCELLED:
        now, tz = ctx.clock.now(), member.caf.zone
        await edit(
            message, *screen.home(desk, await hours.home(ctx.db, member, desk.site, now, tz))
        )
    return screen.CANCEL_REFUSED[refused.why]


# ------------------------------------------------------------------------------ typed answers
async def _typed(
    update: Update, ctx: Ctx, expected: PendingInput, action: Action
) -> tuple[Member, Desk]:
    """Who answers, for which site: the person, authorised again (the site's manager, or a
    coordinator of its Caf), and the site the question was asked for."""
    member = await require_any(update, ctx, (action, NETWORK))
    site_id = expected.context.get("site", site_desk.OWN_SITE)
    return member, await _desk(ctx, member, int(str(site_id)))


def _asked_in(expected: PendingInput) -> int | None:
    """The message of the step the answer is for (None: asked before this was noted)."""
    message_id = expected.context.get("message_id")
    return int(str(message_id)) if message_id is not None else None


async def _show(update: Update, ctx: Ctx, expected: PendingInput, shown: Screen) -> None:
    """In the message of the step the answer is for, while nothing was sent below it."""
    await live_screen.show(ctx, chat_id_of(update), _asked_in(expected), *shown)


def _days_asked(expected: PendingInput) -> int:
    """The days ticked when the question was asked (a single weekday, before the checklist)."""
    if "days" in expected.context:
        return screen.days(int(str(expected.context["days"])))
    return day_mask([screen.weekday(int(str(expected.context.get("weekday", 0))))])


@TYPED.text("hours_day", max_length=120)
async def on_hours_day(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """The hours of the days ticked, typed: the week again, in the same message."""
    member, desk = await _typed(update, ctx, expected, HOURS)
    mask, now, tz = _days_asked(expected), ctx.clock.now(), member.caf.zone
    try:
        periods = parse_periods(text)
        if not mask:
            raise HoursParseError(screen.NO_DAY_TICKED)
    except HoursParseError as error:
        where = _asked_in(expected)
        draft = await hours.ask_days(ctx.db, member, desk.site, mask, now, message_id=where)
        await _show(update, ctx, expected, screen.days_not_understood(desk, draft, mask, error))
        return
    week = await hours.set_days(ctx.db, member, desk.site, mask, periods, now, tz)
    await _show(update, ctx, expected, screen.days_set(desk, week, mask, periods))


@TYPED.text("hours_from", max_length=60)
async def on_hours_from(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member, desk = await _typed(update, ctx, expected, HOURS)
    now, tz = ctx.clock.now(), member.caf.zone
    try:
        view = await hours.set_effective_typed(ctx.db, member, desk.site, text, now, tz)
    except ClosureDateError as error:
        shown = screen.effective_not_understood(desk, _today(ctx, member), error)
    except hours.EffectiveDateRefused as refused:
        shown = screen.effective_refused(desk, _today(ctx, member), refused.why)
    else:
        shown = screen.review(desk, view)
    await _show(update, ctx, expected, shown)


@TYPED.text("hours_reason", max_length=hours.REASON_MAX)
async def on_hours_reason(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """Why the hours apply so soon, typed: they are declared with it, in the same message."""
    member, desk = await _typed(update, ctx, expected, HOURS)
    revision = int(str(expected.context.get("revision", 0)))
    shown, _ = await _save(ctx, member, desk, revision, text)
    await _show(update, ctx, expected, shown)


@TYPED.text("closure_dates", max_length=80)
async def on_closure_dates(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member, desk = await _typed(update, ctx, expected, CLOSURES)
    now, tz, today = ctx.clock.now(), member.caf.zone, _today(ctx, member)
    try:
        start, end = await closures.typed_dates(ctx.db, member, desk.site, text, now, tz)
    except ClosureDateError as error:
        shown = screen.calendar(desk, today, today.year, today.month, None, error)
    else:
        shown = screen.reasons(desk, start, end)
    await _show(update, ctx, expected, shown)


@TYPED.text("closure_note", max_length=NOTE_MAX)
async def on_closure_note(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member, desk = await _typed(update, ctx, expected, CLOSURES)
    start = date.fromisoformat(str(expected.context["start"]))
    end = date.fromisoformat(str(expected.context["end"]))
    reason = screen.typed_reason(str(expected.context["reason"]))
    shown, _ = await _declare(ctx, member, desk, start, end, reason, text)
    await _show(update, ctx, expected, shown)
