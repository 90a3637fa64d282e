"""📥 Signalements: the Caf's inbox of its sites' signals, and the notices that lead to it.

The filters and the page travel in every button (`InboxTap`), so a stale button still shows
what it showed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import signals as rules
from bot.domain.models import Person
from bot.domain.signals import Signal, SignalKind, SignalStatus
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, InboxTap
from bot.ui.render import render
from bot.ui.screens import Screen
from bot.ui.screens.paging import Page, pager_row
from bot.ui.screens.signals import SignalView, card

PAGE_SIZE = 8
SITES_SHOWN = 30  # the site filter's buttons, busiest sites first
ALL = "all"  # no filter by type

# Toasts and short answers.
ACKNOWLEDGED = "Pris en charge : le site est prévenu."
ALREADY_ACKNOWLEDGED = "Déjà pris en charge."
ALREADY_CLOSED = "Ce signalement est déjà clos."
WAS_CLOSED = "Ce signalement était déjà clos."
REPLY_TOO_LATE = "Ce signalement a été clos entre-temps : rien n'a été envoyé."
NO_OPEN_SITE = "site sans signalement ouvert"


class InboxOp(StrEnum):
    LIST = "list"
    KINDS = "kinds"
    SITES = "sites"
    ITEM = "item"
    ACKNOWLEDGE = "ack"
    REPLY = "reply"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Inbox:
    """One page of the Caf's open signals, oldest first, as filtered."""

    page: Page[Signal]
    total: int
    kind: SignalKind | None
    partner_id: int  # 0: every site
    site: str | None  # the filtered site, when it has open signals

    @property
    def kind_code(self) -> str:
        return self.kind.value if self.kind else ALL


def _button(
    label: str, op: InboxOp, item: int = 0, kind: str = ALL, partner: int = 0, page: int = 0
) -> InlineKeyboardButton:
    data = callbacks.encode(InboxTap(op, item, kind, partner, page))
    return InlineKeyboardButton(label, callback_data=data)


def kind_filter(code: str) -> SignalKind | None:
    """The type a button filters on (None: every type)."""
    if code == ALL:
        return None
    try:
        return SignalKind(code)
    except ValueError:
        raise BadCallback("unknown kind") from None


def open_button(signal_id: int) -> InlineKeyboardMarkup:
    """Under a notice to the Caf: the signal in the inbox."""
    data = callbacks.encode(InboxTap(InboxOp.ITEM, signal_id, ALL, 0, 0))
    return InlineKeyboardMarkup([[InlineKeyboardButton("📂 Ouvrir", callback_data=data)]])


def new_signal_notice(view: SignalView, *, tz: ZoneInfo, now: datetime) -> Screen:
    """To the Caf: a signal just raised."""
    text = render("signal_new_caf", card=card(view, tz=tz, now=now))
    return text, open_button(view.signal.id)


def answer_notice(signal: Signal, *, author: Person, body: str) -> Screen:
    """To the Caf: the reporter's answer on their signal."""
    text = render("signal_answer_caf", signal=signal, author=author, body=body)
    return text, open_button(signal.id)


def inbox(box: Inbox, *, tz: ZoneInfo, now: datetime) -> Screen:
    """The page of open signals, each marked 🔴 overdue, 🟡 received or 🟢 acknowledged."""
    today = now.astimezone(tz).date()
    code, partner, number = box.kind_code, box.partner_id, box.page.number
    rows = []
    overdue = 0
    for s in box.page.items:
        created = s.created_at.astimezone(tz).date()
        late = rules.is_overdue(s.status, created, today)
        overdue += late
        mark = "🔴" if late else ("🟡" if s.status is SignalStatus.OPEN else "🟢")
        days = rules.working_days_waiting(created, today)
        label = f"{mark} {s.kind.emoji} n° {s.id} · {s.partner_name} · {days} j"
        rows.append([_button(label, InboxOp.ITEM, s.id, code, partner, number)])
    pager = pager_row(box.page, lambda label, n: _button(label, InboxOp.LIST, 0, code, partner, n))
    if pager:
        rows.append(pager)
    rows.append(
        [
            _button("🔎 Par type", InboxOp.KINDS, 0, code, partner),
            _button("🏢 Par site", InboxOp.SITES, 0, code, partner),
        ]
    )
    if box.kind is not None or partner:
        rows.append([_button("✖️ Tout afficher", InboxOp.LIST)])
    text = render(
        "inbox_list",
        total=box.total,
        kind=box.kind,
        site=(box.site or NO_OPEN_SITE) if partner else None,
        page=number + 1,
        pages=box.page.count,
        overdue=overdue,
        deadline=rules.ACK_DEADLINE_WORKING_DAYS,
    )
    return text, InlineKeyboardMarkup(rows)


def kinds(counts: dict[SignalKind, int], partner: int) -> Screen:
    """The type filter, with each type's open signals."""
    rows = [
        [_button(f"{k.emoji} {k.label} ({counts.get(k, 0)})", InboxOp.LIST, 0, k.value, partner)]
        for k in SignalKind
    ]
    rows.append([_button("Tous les types", InboxOp.LIST, 0, ALL, partner)])
    return render("inbox_filter", by="type"), InlineKeyboardMarkup(rows)


def sites(found: Sequence[tuple[int, str, int]], kind: str) -> Screen:
    """The site filter: (partner id, site, open signals), busiest first."""
    rows = [
        [_button(f"{name} ({n})", InboxOp.LIST, 0, kind, pid)]
        for pid, name, n in found[:SITES_SHOWN]
    ]
    rows.append([_button("Tous les sites", InboxOp.LIST, 0, kind, 0)])
    return render("inbox_filter", by="site"), InlineKeyboardMarkup(rows)


def item(view: SignalView, *, tz: ZoneInfo, now: datetime, back: InboxTap | None = None) -> Screen:
    """A signal with the Caf's next steps; « ⬅️ » goes back to the list as `back` (the tap
    that led here) had it filtered, or to the whole list."""
    signal = view.signal
    keep = (back.kind, back.partner, back.page) if back else (ALL, 0, 0)
    rows = []
    if signal.status is SignalStatus.OPEN:
        rows.append([_button("✅ Prendre en charge", InboxOp.ACKNOWLEDGE, signal.id, *keep)])
    if signal.status is not SignalStatus.RESOLVED:
        rows.append(
            [
                _button("↩️ Répondre", InboxOp.REPLY, signal.id, *keep),
                _button("✔️ Clore", InboxOp.RESOLVE, signal.id, *keep),
            ]
        )
    rows.append([_button("⬅️ Signalements", InboxOp.LIST, 0, *keep)])
    return card(view, tz=tz, now=now), InlineKeyboardMarkup(rows)


def ask_text(signal: Signal, op: InboxOp) -> str:
    """A reply, or a closing note, is typed next."""
    step, limit = (
        ("reply", rules.DESCRIPTION_MAX) if op is InboxOp.REPLY else ("resolve", rules.NOTE_MAX)
    )
    return render("ask_inbox_text", signal=signal, step=step, limit=limit)


def replied(shown: Screen) -> Screen:
    """The signal as it now stands, under the confirmation of the reply."""
    text, markup = shown
    return "✅ Réponse envoyée au site.\n\n" + text, markup


def resolved(signal_id: int, shown: Screen) -> Screen:
    """The inbox, under the confirmation that a signal is closed."""
    text, markup = shown
    return f"✔️ Signalement n° {signal_id} clos, le site est prévenu.\n\n" + text, markup
