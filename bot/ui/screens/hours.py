"""🕘 Horaires et fermetures: the week being edited, its review, the closure calendar.

The calendar's state travels in its buttons (`HoursTap`: days as yyyymmdd, months as
yyyymm), so this module also reads those numbers back, refusing what no button of ours
carries (`BadCallback`).
"""

from __future__ import annotations

import html
from datetime import date, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import closure_dates, opening_hours
from bot.domain import signals as rules
from bot.domain.closure_dates import ClosureDateError
from bot.domain.models import Partner
from bot.domain.opening_hours import COMMON_SLOTS, DAY_NAMES, Period
from bot.services.closures import CancelRefused, Closure
from bot.services.hours import Declaration, EffectiveDateRefused, Home, HoursDraft, Review
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, HoursTap, SignalTap
from bot.ui.formatting import MONTHS
from bot.ui.render import render
from bot.ui.screens import Screen, question

WEEKDAYS_SHORT = ("L", "M", "M", "J", "V", "S", "D")
CLOSURES_LISTED = 5  # cancel buttons on the home screen, soonest first
CALENDAR_MONTHS_AHEAD = 24


class HoursOp(StrEnum):
    HOME = "home"
    NOOP = "noop"
    EDIT = "edit"
    DAY = "day"
    SLOT = "slot"
    COPY = "copy"
    DROP = "drop"
    REVIEW = "review"
    FROM = "from"
    FROM_SET = "fromset"
    SAVE = "save"
    HISTORY = "hist"
    CALENDAR = "cal"
    PICK = "pick"
    REASON = "reason"
    CLOSURE_SAVE = "csave"
    CLOSURE_CANCEL = "ccx"


# Toasts.
MONDAY_COPIED = "Lundi copié sur mardi → vendredi."
DROPPED = "Modification abandonnée : rien n'a changé."
ALREADY_SAVED = "Ces horaires sont déjà enregistrés."
DRAFT_CHANGED = "Les horaires ont changé depuis : vérifiez puis enregistrez."
NOTHING_CHANGED = "Rien n'a changé : il n'y a rien à enregistrer."
SAVED = "Horaires enregistrés."
DAY_PAST = "Ce jour est passé."
CLOSURE_ALREADY_SAVED = "Déjà enregistrée."
CLOSURE_CANCELLED = "Fermeture annulée."
CANCEL_REFUSED = {
    CancelRefused.Why.CANCELLED: "Cette fermeture est déjà annulée.",
    CancelRefused.Why.PAST: "Cette fermeture est passée : elle ne peut plus être annulée.",
}
EFFECTIVE_REFUSED = {
    EffectiveDateRefused.Why.PAST: (
        "Cette date est passée : les horaires s'appliquent à partir d'aujourd'hui au plus tôt."
    ),
    EffectiveDateRefused.Why.TOO_FAR: "Choisissez une date dans l'année qui vient.",
}


def _button(label: str, op: HoursOp, a: int = 0, b: int = 0, c: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(HoursTap(op, a, b, c)))


def _markup(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(list(rows))


# ------------------------------------------------------------------------------ button data
def day_number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def from_number(value: int) -> date:
    """A day carried by a button (yyyymmdd)."""
    try:
        return date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        raise BadCallback("not a date") from None


def weekday(value: int) -> int:
    if not 0 <= value <= 6:
        raise BadCallback("not a weekday")
    return value


def slot(value: int) -> tuple[Period, ...]:
    """The periods of a ready-made slot button."""
    if not 0 <= value < len(COMMON_SLOTS):
        raise BadCallback("unknown slot")
    return COMMON_SLOTS[value][1]


def month_of(value: int, today: date) -> tuple[int, int]:
    """The calendar's month (yyyymm; 0 is this month), within the years a button shows."""
    if value == 0:
        return today.year, today.month
    year, month = divmod(value, 100)
    if not 1 <= month <= 12 or not today.year - 1 <= year <= today.year + 3:
        raise BadCallback("not a month")
    return year, month


def reason_code(index: int) -> str:
    """The closure reason of a button (its index among the reasons)."""
    if not 0 <= index < len(rules.CLOSURE_REASONS):
        raise BadCallback("unknown reason")
    return rules.CLOSURE_REASONS[index].code


def typed_reason(code: str) -> str:
    """The closure reason kept with a typed note (the pending answer's context)."""
    if not rules.is_code(rules.CLOSURE_REASONS, code):
        raise BadCallback("unknown reason")
    return code


def _reason(code: str) -> str:
    return rules.label_of(rules.CLOSURE_REASONS, code)


# ------------------------------------------------------------------------------ hours
def _span(closure: Closure) -> str:
    if closure.start_date == closure.end_date:
        return f"du {closure.start_date:%d/%m}"
    return f"{closure.start_date:%d/%m} → {closure.end_date:%d/%m}"


def home(view: Home) -> Screen:
    """The hours in force and to come, the closures ahead, and what can be done."""
    text = render(
        "hours_home",
        partner=view.partner,
        current=view.current,
        compliance=view.compliance,
        coming=view.coming,
        closures=view.closures,
        reason=_reason,
        today=view.today,
    )
    edit_label = "✏️ Reprendre la modification" if view.has_draft else "✏️ Modifier les horaires"
    closed_today = SignalTap("today", 0, "0", "0")
    rows = [
        [_button(edit_label, HoursOp.EDIT)],
        [_button("➕ Fermeture exceptionnelle", HoursOp.CALENDAR)],
        [
            InlineKeyboardButton(
                "🚪 Fermé aujourd'hui", callback_data=callbacks.encode(closed_today)
            )
        ],
    ]
    for closure in view.closures[:CLOSURES_LISTED]:
        label = f"✖️ Annuler la fermeture {_span(closure)}"
        rows.append([_button(label, HoursOp.CLOSURE_CANCEL, closure.id)])
    rows.append([_button("📜 Historique des horaires", HoursOp.HISTORY)])
    return text, InlineKeyboardMarkup(rows)


def week(partner: Partner | None, draft: HoursDraft) -> Screen:
    """The week being edited, a day a button, with whether it meets the minimum."""
    schedule = draft.schedule
    rows = [
        [_button(f"{DAY_NAMES[d]} : {opening_hours.format_periods(schedule[d])}", HoursOp.DAY, d)]
        for d in range(7)
    ]
    if schedule[0]:
        rows.append([_button("📋 Copier le lundi sur mardi → vendredi", HoursOp.COPY, 0)])
    rows.append([_button("✖️ Abandonner", HoursOp.DROP), _button("Suivant ▶️", HoursOp.REVIEW)])
    text = render("hours_week", partner=partner, compliance=opening_hours.check_minimum(schedule))
    return text, InlineKeyboardMarkup(rows)


def day_set(
    partner: Partner | None, draft: HoursDraft, day: int, periods: tuple[Period, ...]
) -> Screen:
    """A day's typed hours taken: said, then the week."""
    text, markup = week(partner, draft)
    done = f"✅ {DAY_NAMES[day]} : {opening_hours.format_periods(periods)}"
    return f"{done}\n\n{text}", markup


def day(draft: HoursDraft, day: int) -> Screen:
    """One day: a ready-made slot, or its hours typed."""
    rows = [[_button(label, HoursOp.SLOT, day, i)] for i, (label, _) in enumerate(COMMON_SLOTS)]
    rows.append([_button("⬅️ Retour", HoursOp.EDIT)])
    text = render(
        "hours_day", day=DAY_NAMES[day], current=opening_hours.format_periods(draft.schedule[day])
    )
    return text, InlineKeyboardMarkup(rows)


def day_not_understood(day: int, error: opening_hours.HoursParseError) -> str:
    return render("hours_parse_error", day=DAY_NAMES[day], error=str(error))


def review(view: Review) -> Screen:
    """The new hours against those they replace, the day they apply, and « Enregistrer »."""
    text = render(
        "hours_review",
        partner=view.partner,
        schedule=view.draft.schedule,
        compliance=view.compliance,
        changes=view.changes,
        unchanged=view.unchanged,
        effective=view.effective,
        today=view.today,
    )
    rows = []
    if not view.unchanged:
        label = "✅ Enregistrer et prévenir la Caf"
        rows.append([_button(label, HoursOp.SAVE, view.draft.revision)])
    rows.append([_button("📅 Changer la date d'effet", HoursOp.FROM)])
    rows.append([_button("✏️ Modifier", HoursOp.EDIT), _button("✖️ Abandonner", HoursOp.DROP)])
    return text, InlineKeyboardMarkup(rows)


def _effective_choices(today: date) -> list[tuple[str, date]]:
    next_monday = today + timedelta(days=7 - today.weekday())
    first_next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return [
        ("Aujourd'hui", today),
        (f"Lundi prochain ({next_monday:%d/%m})", next_monday),
        (f"Le 1er {MONTHS[first_next_month.month - 1]}", first_next_month),
    ]


def effective_from(today: date) -> Screen:
    """When the new hours apply: three usual days, or a date typed."""
    rows = [
        [_button(label, HoursOp.FROM_SET, day_number(day))]
        for label, day in _effective_choices(today)
    ]
    rows.append([_button("⬅️ Retour", HoursOp.REVIEW)])
    return render("hours_from"), InlineKeyboardMarkup(rows)


def date_not_understood(error: ClosureDateError) -> str:
    """A typed date refused: the message quotes what was typed, so it is escaped."""
    return html.escape(str(error), quote=False)


def saved(declaration: Declaration) -> Screen:
    text = render(
        "hours_saved",
        declaration=declaration,
        compliance=opening_hours.check_minimum(declaration.schedule),
    )
    return text, _markup([_button("⬅️ Horaires et fermetures", HoursOp.HOME)])


def history(partner: Partner | None, declarations: list[Declaration], tz: ZoneInfo) -> Screen:
    text = render(
        "hours_history",
        partner=partner,
        declarations=declarations,
        tz=tz,
        describe=lambda d: opening_hours.diff(d.before_schedule, d.schedule),
    )
    return text, _markup([_button("⬅️ Retour", HoursOp.HOME)])


# ------------------------------------------------------------------------------ closures
def _day_button(day: date, start: date | None, cursor: int) -> InlineKeyboardButton:
    label = f"[{day.day}]" if start is not None and day == start else str(day.day)
    start_number = day_number(start) if start else 0
    return _button(label, HoursOp.PICK, day_number(day), start_number, cursor)


def _calendar_rows(
    today: date, year: int, month: int, start: date | None
) -> list[list[InlineKeyboardButton]]:
    first = (today.year, today.month)
    last = closure_dates.add_months(today.year, today.month, CALENDAR_MONTHS_AHEAD)
    start_number = day_number(start) if start else 0
    previous = closure_dates.add_months(year, month, -1)
    following = closure_dates.add_months(year, month, 1)
    blank = _button("·", HoursOp.NOOP)
    header = [
        _button("◀️", HoursOp.CALENDAR, previous[0] * 100 + previous[1], start_number)
        if (year, month) > first
        else blank,
        _button(f"{MONTHS[month - 1].capitalize()} {year}", HoursOp.NOOP),
        _button("▶️", HoursOp.CALENDAR, following[0] * 100 + following[1], start_number)
        if (year, month) < last
        else blank,
    ]
    rows = [header, [_button(d, HoursOp.NOOP) for d in WEEKDAYS_SHORT]]
    lowest = start or today
    for days in closure_dates.month_grid(year, month):
        if all(d is None or d < lowest for d in days):
            continue  # a week wholly past: nothing to pick there
        rows.append(
            [
                blank if d is None or d < lowest else _day_button(d, start, year * 100 + month)
                for d in days
            ]
        )
    rows.append([_button("⬅️ Retour", HoursOp.HOME)])
    return rows


def calendar(
    partner: Partner | None, today: date, year: int, month: int, start: date | None
) -> Screen:
    """A month to pick the first day of a closure on, then its last (`start` chosen)."""
    text = render("closure_calendar", start=start, partner=partner)
    return text, InlineKeyboardMarkup(_calendar_rows(today, year, month, start))


def reasons(start: date, end: date) -> Screen:
    rows = [
        [_button(reason.label, HoursOp.REASON, day_number(start), day_number(end), i)]
        for i, reason in enumerate(rules.CLOSURE_REASONS)
    ]
    rows.append([_button("⬅️ Autres dates", HoursOp.CALENDAR)])
    return render("closure_reason", start=start, end=end, step="reason"), InlineKeyboardMarkup(rows)


def note(start: date, end: date, reason: int) -> Screen:
    """An optional note for the closure, its reason (an index among the reasons) chosen."""
    a, b = day_number(start), day_number(end)
    rows = [
        [_button("💾 Enregistrer sans note", HoursOp.CLOSURE_SAVE, a, b, reason)],
        [_button("⬅️ Autre motif", HoursOp.PICK, b, a, b // 100)],
    ]
    text = render(
        "closure_reason",
        start=start,
        end=end,
        step="note",
        reason=_reason(reason_code(reason)),
        limit=rules.NOTE_MAX,
    )
    return text, InlineKeyboardMarkup(rows)


def closure_saved(closure: Closure, new: bool) -> Screen:
    text = render("closure_saved", closure=closure, again=not new, reason=_reason(closure.reason))
    rows = [
        [_button("✖️ Annuler cette fermeture", HoursOp.CLOSURE_CANCEL, closure.id)],
        [_button("⬅️ Horaires et fermetures", HoursOp.HOME)],
    ]
    return text, InlineKeyboardMarkup(rows)


def dates_refused_toast(error: ClosureDateError) -> str:
    """Days picked on the calendar that make no closure (a toast: plain, 200 characters)."""
    return str(error)[:200]


def closure_dates_refused(error: ClosureDateError) -> Screen:
    """Days that cannot be declared (they may have passed since they were picked)."""
    return date_not_understood(error), _markup([_button("📅 Autres dates", HoursOp.CALENDAR)])


def cancel_confirm(closure: Closure) -> Screen:
    text = render("closure_cancel_confirm", closure=closure, reason=_reason(closure.reason))
    yes = _button("✖️ Oui, annuler la fermeture", HoursOp.CLOSURE_CANCEL, closure.id, 1)
    return question(text, yes, _button("⬅️ Non, la garder", HoursOp.HOME))


def closure_cancelled(closure: Closure, then: Home) -> Screen:
    """The cancellation said, above the home screen."""
    text, markup = home(then)
    return render("closure_cancelled", closure=closure) + "\n\n" + text, markup
