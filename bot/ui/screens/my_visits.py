"""🗂 Mes visites: one's visits of the last 7 days, newest first, each opening to its card with
« ✏️ Modifier » and « 🗑 Annuler la visite ».

The card's « ✏️ Modifier » is the confirmation's own button (`SavedOp.EDIT`): the visit is
modified in the card's message exactly as from its confirmation. « 🗑 » is a correction too,
with no time window (unlike « ↩️ Annuler cette visite » under a confirmation): it cannot be
undone, so it asks first, in the card's message. A visit the list no longer shows (cancelled
meanwhile, or older than its days) is refused and the list shown as it stands.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import taxonomy as tx
from bot.domain.visit_log import Cancelled, MyVisits, Unlisted, VisitLine, VisitRecord
from bot.domain.visits import LATE_DAYS
from bot.ui import callbacks
from bot.ui.formatting import datetime_fr, hour_fr
from bot.ui.render import render
from bot.ui.screens import Screen
from bot.ui.screens.paging import pager_row, paginate
from bot.ui.screens.visit import (
    ALREADY_UNDONE,
    UNDONE,
    MyVisitsOp,
    Reply,
    SavedOp,
    fresh_visit_keyboard,
    my_visits_button,
    short_day_fr,
    summary_lines,
    when_fr,
)

PAGE_SIZE = 8
CANCEL = "🗑 Annuler la visite"
CONFIRM = "🗑 Oui, l'annuler"
KEEP = "⬅️ Non"
BACK = "⬅️ Mes visites"
# A toast (an alert): a visit named by a stale card or a forged tap, older than the list.
TOO_OLD = (
    f"Cette visite date de plus de {LATE_DAYS} jours : elle n'est plus dans « Mes visites » "
    "et ne s'y modifie ni ne s'y annule plus."
)
OUTCOMES = {"oui": "résolue", "non": "non résolue", "partiellement": "résolue en partie"}


def _button(label: str, op: MyVisitsOp, visit: int = 0, page: int = 0) -> InlineKeyboardButton:
    data = callbacks.encode(callbacks.MyVisitsTap(op, visit, page))
    return InlineKeyboardButton(label, callback_data=data)


def _demand(line: VisitLine) -> str:
    if line.demande is None or line.demande not in tx.DEMANDE.codes:
        return "Visite"
    name = tx.DEMANDE.option(line.demande).short
    return f"{name} (+{line.requests - 1})" if line.requests > 1 else name


def line_label(line: VisitLine, tz: ZoneInfo) -> str:
    """A visit's button: 🎓 ven. 4 déc. · 14 h · Demande de prestation."""
    local = line.visited_at.astimezone(tz)
    mark = "🎓 " if line.training else ""
    return f"{mark}{short_day_fr(local.date())} · {hour_fr(local)} · {_demand(line)}"


def line_text(line: VisitLine, tz: ZoneInfo, today: date) -> str:
    """A visit in the list's text: when, the main demand, the outcome."""
    outcome = OUTCOMES.get(line.resolution or "", "")
    parts = [when_fr(line.visited_at, tz, today), _demand(line)]
    if outcome:
        parts.append(outcome)
    if line.training:
        parts.append("🎓 entraînement")
    return " · ".join(parts)


def visit_list(listing: MyVisits, page: int, tz: ZoneInfo) -> Screen:
    """The list, PAGE_SIZE visits a page, newest first; each button opens its card."""
    shown = paginate(listing.lines, page, PAGE_SIZE)
    text = render(
        "my_visits",
        since=short_day_fr(listing.since),
        total=len(listing.lines),
        lines=[line_text(line, tz, listing.today) for line in shown.items],
        page=shown.number + 1,
        pages=shown.count,
    )
    if not listing.lines:
        return text, fresh_visit_keyboard()
    rows = [
        [
            _button(
                line_label(line, tz),
                MyVisitsOp.TRAINING_OPEN if line.training else MyVisitsOp.OPEN,
                line.id,
                shown.number,
            )
        ]
        for line in shown.items
    ]
    pager = pager_row(shown, lambda label, n: _button(label, MyVisitsOp.LIST, 0, n))
    return text, InlineKeyboardMarkup([*rows, pager] if pager else rows)


def _heading(visit: VisitRecord, now: datetime, tz: ZoneInfo) -> dict[str, object]:
    """What the card and the question before cancelling both show of the visit."""
    return {
        "training": visit.training,
        "when": datetime_fr(visit.visited_at, tz, year=False),
        "saved": when_fr(visit.created_at, tz, now.astimezone(tz).date()),
        "lines": summary_lines(visit.answers),
    }


def card(visit: VisitRecord, page: int, now: datetime, tz: ZoneInfo) -> Screen:
    """One visit: its answers, when it was saved, ✏️ (not for training) and 🗑."""
    first = []
    if not visit.training:
        edit = callbacks.encode(callbacks.SavedVisit(visit.id, SavedOp.EDIT))
        first.append(InlineKeyboardButton("✏️ Modifier", callback_data=edit))
    op = MyVisitsOp.TRAINING_CANCEL if visit.training else MyVisitsOp.CANCEL
    first.append(_button(CANCEL, op, visit.id, page))
    rows = [first, [my_visits_button(page, BACK)]]
    return render("my_visit", **_heading(visit, now, tz)), InlineKeyboardMarkup(rows)


def question(visit: VisitRecord, page: int, now: datetime, tz: ZoneInfo) -> Screen:
    """🗑 on a card: « Annuler définitivement cette visite ? », in the card's message; « ⬅️ Non »
    goes back to the card."""
    training = visit.training
    confirm = MyVisitsOp.TRAINING_CONFIRM_CANCEL if training else MyVisitsOp.CONFIRM_CANCEL
    back = MyVisitsOp.TRAINING_OPEN if training else MyVisitsOp.OPEN
    row = [_button(CONFIRM, confirm, visit.id, page), _button(KEEP, back, visit.id, page)]
    text = render("my_visit_cancel", **_heading(visit, now, tz))
    return text, InlineKeyboardMarkup([row])


def _unlisted(found: Unlisted, page: int, tz: ZoneInfo) -> Reply:
    """A visit the list no longer shows: refused, and the list as it stands."""
    if found.too_old:
        return Reply(TOO_OLD, alert=True, screen=visit_list(found.listing, page, tz))
    return Reply(ALREADY_UNDONE, screen=visit_list(found.listing, page, tz))


def opened(found: VisitRecord | Unlisted, page: int, now: datetime, tz: ZoneInfo) -> Reply:
    """A visit of the list (or « ⬅️ Non ») tapped: its card, or why not and the list."""
    if isinstance(found, VisitRecord):
        return Reply(screen=card(found, page, now, tz))
    return _unlisted(found, page, tz)


def asked(found: VisitRecord | Unlisted, page: int, now: datetime, tz: ZoneInfo) -> Reply:
    """🗑 on a card: the question before cancelling, or why not and the list."""
    if isinstance(found, VisitRecord):
        return Reply(screen=question(found, page, now, tz))
    return _unlisted(found, page, tz)


def cancel_reply(done: Cancelled | Unlisted, page: int, tz: ZoneInfo) -> Reply:
    """🗑 Oui, l'annuler: the list without the visit, or why it was not cancelled."""
    if isinstance(done, Unlisted):
        return _unlisted(done, page, tz)
    return Reply(
        UNDONE if done.deleted else ALREADY_UNDONE, screen=visit_list(done.listing, page, tz)
    )
