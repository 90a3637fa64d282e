"""🕘 Horaires et fermetures: the week being edited, its review, the closure calendar.

The calendar's state travels in its buttons (`HoursTap`: days as yyyymmdd, months as
yyyymm; the days ticked for the same hours as a mask), so this module also reads those
numbers back, refusing what no button of ours carries (`BadCallback`).

Every screen is drawn for a `Desk`: a site's manager (buttons `h:`), or a coordinator
declaring for a site of their Caf (buttons `hs:` naming the site, and a way back to its card
in 🏢 Réseau).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import closure_dates, opening_hours
from bot.domain import signals as rules
from bot.domain.closure_dates import ClosureDateError
from bot.domain.models import Partner
from bot.domain.opening_hours import (
    COMMON_SLOTS,
    DAY_NAMES,
    Period,
    ScheduleError,
    days_of_mask,
)
from bot.services.closures import CancelRefused, Closure
from bot.services.hours import (
    REASON_MAX,
    Declaration,
    EffectiveDateRefused,
    Home,
    HoursDraft,
    Review,
    Week,
)
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, HoursTap, NetworkTap, SignalTap, SiteHoursTap
from bot.ui.formatting import MONTHS
from bot.ui.render import render
from bot.ui.screens import Screen, question

Button = InlineKeyboardButton

WEEKDAYS_SHORT = ("L", "M", "M", "J", "V", "S", "D")
DAYS_TICKED = ("Lun", "Mar", "Mer", "Jeu", "Ven", "Sam", "Dim")
CLOSURES_LISTED = 5  # cancel buttons on the home screen, soonest first
CALENDAR_MONTHS_AHEAD = 24


class HoursOp(StrEnum):
    HOME = "home"
    NOOP = "noop"
    EDIT = "edit"
    DAY = "day"
    MULTI = "multi"  # « Mêmes horaires sur plusieurs jours », no day ticked yet
    TICK = "tick"  # a day ticked or unticked: `a` is the days ticked then
    DAYS_SLOT = "dslot"  # a ready-made slot for the days ticked (`a`)
    COPY = "copy"
    CURRENT = "current"  # « Copier la semaine actuelle »
    DROP = "drop"
    REVIEW = "review"
    FROM = "from"
    FROM_SET = "fromset"
    SAVE = "save"
    WHY = "why"  # sooner than the coming Monday: asked why before saving (`a`: revision)
    HISTORY = "hist"
    CALENDAR = "cal"
    PICK = "pick"
    REASON = "reason"
    CLOSURE_SAVE = "csave"
    CLOSURE_CANCEL = "ccx"


# Buttons.
SAME_HOURS = "🗓 Mêmes horaires sur plusieurs jours"
COPY_CURRENT = "📄 Copier la semaine actuelle"
SITE_HOURS = "🕘 Horaires du site"  # on a site's card in 🏢 Réseau (bot/ui/screens/network.py)

# Toasts.
MONDAY_COPIED = "Lundi copié sur mardi → vendredi."
CURRENT_COPIED = "Semaine actuelle copiée : changez ce qui change."
NOTHING_IN_FORCE = "Aucun horaire n'est en vigueur aujourd'hui : rien à copier."
NO_DAY_TICKED = "Cochez d'abord au moins un jour."
DROPPED = "Modification abandonnée : rien n'a changé."
ALREADY_SAVED = "Ces horaires sont déjà enregistrés."
DRAFT_CHANGED = "Les horaires ont changé depuis : vérifiez puis enregistrez."
NOTHING_CHANGED = "Rien n'a changé : il n'y a rien à enregistrer."
SAVED = "Horaires enregistrés."
REASON_NEEDED = "Indiquez d'abord pourquoi ce changement est si proche."
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


@dataclass(frozen=True)
class Desk:
    """Who declares for which site: one of its managers (`remote` False: buttons `h:`), or a
    coordinator of its Caf (buttons `hs:` that name the site)."""

    site: Partner
    remote: bool = False

    def button(self, label: str, op: HoursOp, a: int = 0, b: int = 0, c: int = 0) -> Button:
        payload: HoursTap | SiteHoursTap = (
            SiteHoursTap(op, self.site.id, a, b, c) if self.remote else HoursTap(op, a, b, c)
        )
        return InlineKeyboardButton(label, callback_data=callbacks.encode(payload))


def _markup(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(list(rows))


def site_hours_button(site_id: int) -> InlineKeyboardButton:
    """« 🕘 Horaires du site », for a site's card in 🏢 Réseau."""
    tap = SiteHoursTap(HoursOp.HOME, site_id, 0, 0, 0)
    return InlineKeyboardButton(SITE_HOURS, callback_data=callbacks.encode(tap))


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


def days(value: int) -> int:
    """The days ticked, as a button carries them (a mask of weekdays)."""
    try:
        days_of_mask(value)
    except ScheduleError:
        raise BadCallback("not a set of days") from None
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


def home(desk: Desk, view: Home) -> Screen:
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
    rows = [
        [desk.button(edit_label, HoursOp.EDIT)],
        [desk.button("➕ Fermeture exceptionnelle", HoursOp.CALENDAR)],
    ]
    if not desk.remote:  # « Fermé aujourd'hui » is the site's own (📣 Signaler)
        closed_today = SignalTap("today", 0, "0", "0")
        rows.append(
            [
                InlineKeyboardButton(
                    "🚪 Fermé aujourd'hui", callback_data=callbacks.encode(closed_today)
                )
            ]
        )
    for closure in view.closures[:CLOSURES_LISTED]:
        label = f"✖️ Annuler la fermeture {_span(closure)}"
        rows.append([desk.button(label, HoursOp.CLOSURE_CANCEL, closure.id)])
    rows.append([desk.button("📜 Historique des horaires", HoursOp.HISTORY)])
    if desk.remote:
        back = NetworkTap("site", desk.site.id, 0)  # conversations/network.py
        rows.append([InlineKeyboardButton("⬅️ Le site", callback_data=callbacks.encode(back))])
    return text, InlineKeyboardMarkup(rows)


def week(desk: Desk, view: Week, above: str = "") -> Screen:
    """The week being edited, a day a button, with whether it meets the minimum and the
    shortcuts: the same hours on several days, Monday on the week, the week in force."""
    schedule = view.draft.schedule
    rows = [
        [
            desk.button(
                f"{DAY_NAMES[d]} : {opening_hours.format_periods(schedule[d])}", HoursOp.DAY, d
            )
        ]
        for d in range(7)
    ]
    rows.append([desk.button(SAME_HOURS, HoursOp.MULTI)])
    if schedule[0]:
        rows.append([desk.button("📋 Copier le lundi sur mardi → vendredi", HoursOp.COPY, 0)])
    if view.may_copy_current:
        rows.append([desk.button(COPY_CURRENT, HoursOp.CURRENT)])
    rows.append(
        [desk.button("✖️ Abandonner", HoursOp.DROP), desk.button("Suivant ▶️", HoursOp.REVIEW)]
    )
    text = render("hours_week", partner=view.partner, compliance=view.compliance, above=above)
    return text, InlineKeyboardMarkup(rows)


def _day_names(mask: int) -> str:
    names = [DAY_NAMES[d] for d in days_of_mask(mask)]
    return ", ".join([names[0], *(name.lower() for name in names[1:])])


def days_set(desk: Desk, view: Week, mask: int, periods: tuple[Period, ...]) -> Screen:
    """Typed hours taken for the days ticked: said, above the week."""
    done = render(
        "hours_days_set", days=_day_names(mask), hours=opening_hours.format_periods(periods)
    )
    return week(desk, view, above=done)


def day(desk: Desk, draft: HoursDraft, mask: int, error: str | None = None) -> Screen:
    """The days ticked (one, from its button on the week, or several): a ready-made slot
    for them all, or their hours typed; the other days can be ticked too."""
    ticks = [
        desk.button(("✅ " if mask >> d & 1 else "⬜ ") + short, HoursOp.TICK, mask ^ 1 << d)
        for d, short in enumerate(DAYS_TICKED)
    ]
    rows = [ticks[:4], ticks[4:]]
    rows += [
        [desk.button(label, HoursOp.DAYS_SLOT, mask, i)]
        for i, (label, _) in enumerate(COMMON_SLOTS)
    ]
    rows.append([desk.button("⬅️ Retour", HoursOp.EDIT)])
    current = [
        (DAY_NAMES[d], opening_hours.format_periods(draft.schedule[d])) for d in days_of_mask(mask)
    ]
    return render("hours_day", days=current, error=error), InlineKeyboardMarkup(rows)


def days_not_understood(
    desk: Desk, draft: HoursDraft, mask: int, error: opening_hours.ScheduleError
) -> Screen:
    """Typed hours refused: why, above the same question (the answer is still expected)."""
    return day(desk, draft, mask, error=str(error))


def no_day_ticked(desk: Desk, draft: HoursDraft) -> Screen:
    """Hours typed before any day was ticked: asked to tick first (the hours are not kept)."""
    return day(desk, draft, 0, error=NO_DAY_TICKED)


def review(desk: Desk, view: Review) -> Screen:
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
        needs_reason=view.needs_reason,
    )
    rows = []
    if not view.unchanged and view.needs_reason:
        label = "✍️ Indiquer la raison puis enregistrer"
        rows.append([desk.button(label, HoursOp.WHY, view.draft.revision)])
    elif not view.unchanged:
        label = "✅ Enregistrer et prévenir la Caf"
        rows.append([desk.button(label, HoursOp.SAVE, view.draft.revision)])
    if view.effective != view.default:
        label = f"📅 À partir du lundi {view.default:%d/%m} (conseillé)"
        rows.append([desk.button(label, HoursOp.FROM_SET, day_number(view.default))])
    rows.append([desk.button("📅 Changer la date d'effet", HoursOp.FROM)])
    rows.append(
        [desk.button("✏️ Modifier", HoursOp.EDIT), desk.button("✖️ Abandonner", HoursOp.DROP)]
    )
    return text, InlineKeyboardMarkup(rows)


def _effective_choices(today: date) -> list[tuple[str, date]]:
    """The coming Monday first (the default, Article 7); today last, since it needs a reason."""
    next_monday = opening_hours.default_effective(today)
    first_next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return [
        (f"Lundi prochain ({next_monday:%d/%m}) — conseillé", next_monday),
        (f"Le 1er {MONTHS[first_next_month.month - 1]}", first_next_month),
        ("Aujourd'hui (raison à indiquer)", today),
    ]


def effective_from(desk: Desk, today: date, error: str | None = None) -> Screen:
    """When the new hours apply: three usual days, or a date typed (`error`: why the last
    one typed was refused)."""
    rows = [
        [desk.button(label, HoursOp.FROM_SET, day_number(day))]
        for label, day in _effective_choices(today)
    ]
    rows.append([desk.button("⬅️ Retour", HoursOp.REVIEW)])
    return render("hours_from", error=error), InlineKeyboardMarkup(rows)


def effective_not_understood(desk: Desk, today: date, error: ClosureDateError) -> Screen:
    return effective_from(desk, today, error=str(error))


def effective_refused(desk: Desk, today: date, why: EffectiveDateRefused.Why) -> Screen:
    return effective_from(desk, today, error=EFFECTIVE_REFUSED[why])


def date_not_understood(error: ClosureDateError) -> str:
    """A typed date refused: the message quotes what was typed, so it is escaped."""
    return html.escape(str(error), quote=False)


def ask_reason(desk: Desk, view: Review, error: str | None = None) -> Screen:
    """Why new hours apply sooner than the coming Monday: typed (the answer declares them),
    or the coming Monday in one tap."""
    text = render(
        "hours_reason", effective=view.effective, today=view.today, limit=REASON_MAX, error=error
    )
    monday = f"📅 Plutôt à partir du lundi {view.default:%d/%m}"
    rows = [
        [desk.button(monday, HoursOp.FROM_SET, day_number(view.default))],
        [desk.button("⬅️ Retour", HoursOp.REVIEW)],
    ]
    return text, InlineKeyboardMarkup(rows)


def saved(desk: Desk, declaration: Declaration, today: date) -> Screen:
    """The declaration done; the Caf is told again on the first day when it is later."""
    text = render(
        "hours_saved",
        declaration=declaration,
        compliance=opening_hours.check_minimum(declaration.schedule),
        later=declaration.effective_from > today,
    )
    return text, _markup([desk.button("⬅️ Horaires et fermetures", HoursOp.HOME)])


def history(desk: Desk, declarations: list[Declaration], tz: ZoneInfo) -> Screen:
    text = render(
        "hours_history",
        partner=desk.site,
        declarations=declarations,
        tz=tz,
        describe=lambda d: opening_hours.diff(d.before_schedule, d.schedule),
    )
    return text, _markup([desk.button("⬅️ Retour", HoursOp.HOME)])


# ------------------------------------------------------------------------------ closures
def _day_button(desk: Desk, day: date, start: date | None, cursor: int) -> InlineKeyboardButton:
    label = f"[{day.day}]" if start is not None and day == start else str(day.day)
    start_number = day_number(start) if start else 0
    return desk.button(label, HoursOp.PICK, day_number(day), start_number, cursor)


def _calendar_rows(
    desk: Desk, today: date, year: int, month: int, start: date | None
) -> list[list[InlineKeyboardButton]]:
    first = (today.year, today.month)
    last = closure_dates.add_months(today.year, today.month, CALENDAR_MONTHS_AHEAD)
    start_number = day_number(start) if start else 0
    previous = closure_dates.add_months(year, month, -1)
    following = closure_dates.add_months(year, month, 1)
    blank = desk.button("·", HoursOp.NOOP)
    header = [
        desk.button("◀️", HoursOp.CALENDAR, previous[0] * 100 + previous[1], start_number)
        if (year, month) > first
        else blank,
        desk.button(f"{MONTHS[month - 1].capitalize()} {year}", HoursOp.NOOP),
        desk.button("▶️", HoursOp.CALENDAR, following[0] * 100 + following[1], start_number)
        if (year, month) < last
        else blank,
    ]
    rows = [header, [desk.button(d, HoursOp.NOOP) for d in WEEKDAYS_SHORT]]
    lowest = start or today
    for days in closure_dates.month_grid(year, month):
        if all(d is None or d < lowest for d in days):
            continue  # a week wholly past: nothing to pick there
        rows.append(
            [
                blank
                if d is None or d < lowest
                else _day_button(desk, d, start, year * 100 + month)
                for d in days
            ]
        )
    rows.append([desk.button("⬅️ Retour", HoursOp.HOME)])
    return rows


def calendar(
    desk: Desk,
    today: date,
    year: int,
    month: int,
    start: date | None,
    error: ClosureDateError | None = None,
) -> Screen:
    """A month to pick the first day of a closure on, then its last (`start` chosen);
    `error`: why the dates last typed were refused."""
    text = render(
        "closure_calendar", start=start, partner=desk.site, error=str(error) if error else None
    )
    return text, InlineKeyboardMarkup(_calendar_rows(desk, today, year, month, start))


def reasons(desk: Desk, start: date, end: date) -> Screen:
    rows = [
        [desk.button(reason.label, HoursOp.REASON, day_number(start), day_number(end), i)]
        for i, reason in enumerate(rules.CLOSURE_REASONS)
    ]
    rows.append([desk.button("⬅️ Autres dates", HoursOp.CALENDAR)])
    return render("closure_reason", start=start, end=end, step="reason"), InlineKeyboardMarkup(rows)


def note(desk: Desk, start: date, end: date, reason: int) -> Screen:
    """An optional note for the closure, its reason (an index among the reasons) chosen."""
    a, b = day_number(start), day_number(end)
    rows = [
        [desk.button("💾 Enregistrer sans note", HoursOp.CLOSURE_SAVE, a, b, reason)],
        [desk.button("⬅️ Autre motif", HoursOp.PICK, b, a, b // 100)],
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


def closure_saved(desk: Desk, closure: Closure, new: bool) -> Screen:
    text = render("closure_saved", closure=closure, again=not new, reason=_reason(closure.reason))
    rows = [
        [desk.button("✖️ Annuler cette fermeture", HoursOp.CLOSURE_CANCEL, closure.id)],
        [desk.button("⬅️ Horaires et fermetures", HoursOp.HOME)],
    ]
    return text, InlineKeyboardMarkup(rows)


def dates_refused_toast(error: ClosureDateError) -> str:
    """Days picked on the calendar that make no closure (a toast: plain, 200 characters)."""
    return str(error)[:200]


def closure_dates_refused(desk: Desk, error: ClosureDateError) -> Screen:
    """Days that cannot be declared (they may have passed since they were picked)."""
    return date_not_understood(error), _markup([desk.button("📅 Autres dates", HoursOp.CALENDAR)])


def cancel_confirm(desk: Desk, closure: Closure) -> Screen:
    text = render("closure_cancel_confirm", closure=closure, reason=_reason(closure.reason))
    yes = desk.button("✖️ Oui, annuler la fermeture", HoursOp.CLOSURE_CANCEL, closure.id, 1)
    return question(text, yes, desk.button("⬅️ Non, la garder", HoursOp.HOME))


def closure_cancelled(desk: Desk, closure: Closure, then: Home) -> Screen:
    """The cancellation said, above the home screen."""
    text, markup = home(desk, then)
    return render("closure_cancelled", closure=closure) + "\n\n" + text, markup
