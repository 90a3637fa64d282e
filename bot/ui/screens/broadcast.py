"""📢 Diffuser: the screens of a broadcast, and the message its recipients get."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.audience import Audience, AudienceKind
from bot.domain.broadcasts import Reader, Refusal, Status, next_morning
from bot.domain.models import Announcement
from bot.ui import callbacks, pickers
from bot.ui.callbacks import BadCallback, BroadcastTap, ReadTap
from bot.ui.pickers import page_of
from bot.ui.render import render
from bot.ui.screens import Screen
from bot.ui.screens.paging import pager_row, paginate

# The moment a « Demain » or « Lundi » button programs, in the Caf's zone.
MORNING = time(9, 0)
# Names shown to a page, of who has (or has not) read a notice.
READERS_PAGE = 20


class BroadcastOp(StrEnum):
    HOME = "home"
    NEW = "new"
    ITEM = "item"
    AUDIENCE = "aud"
    MUST_READ = "must"
    SITES = "sites"
    SITE = "site"
    CONFIRM = "confirm"
    GO = "go"
    WHEN = "when"
    AT = "at"
    UNSCHEDULE = "unsched"
    DROP = "drop"
    RETRY = "retry"
    UNREAD = "unread"
    READ_BY = "readby"
    REMIND = "remind"


class ReadOp(StrEnum):
    """« J'ai lu » carries no operation: its one row is the empty one."""

    READ = ""


# The audience buttons, in order: a tap carries the index.
AUDIENCES = (
    (AudienceKind.ALL, "👥 Tout le monde"),
    (AudienceKind.MANAGERS, "Responsables"),
    (AudienceKind.AGENTS, "Agents"),
)
STATUS_MARKS: dict[str, str] = {
    Status.DRAFT: "📝",
    Status.SCHEDULED: "🗓",
    Status.SENDING: "📨",
    Status.SENT: "✅",
}


@dataclass(frozen=True)
class Figures:
    """Where a broadcast's messages stand (by outbox status) and who has read it."""

    by_status: dict[str, int]
    readers: int
    read: int

    @property
    def failed(self) -> int:
        return self.by_status.get("failed", 0)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class Draft:
    """A draft as its composer shows it: how many it reaches, and the sites chosen."""

    announcement: Announcement
    count: int
    chosen: list[str]


#: The sites a draft goes to.
SiteChoice = pickers.SiteChoice[Announcement]


@dataclass(frozen=True)
class Report:
    """A broadcast programmed, leaving or gone, with its figures."""

    announcement: Announcement
    figures: Figures


def _button(label: str, op: BroadcastOp, item: int = 0, value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.encode(BroadcastTap(op, item, value))
    )


# ------------------------------------------------------------------------------ recipients
def recipient_text(announcement: Announcement) -> str:
    """The message as its recipients get it (the coordinator's preview too)."""
    return render("broadcast_message", announcement=announcement)


def reminder_text(announcement: Announcement) -> str:
    return render("broadcast_reminder") + "\n\n" + recipient_text(announcement)


def read_markup(announcement: Announcement) -> str | None:
    """The « J'ai lu » button under a must-read notice (JSON for the outbox)."""
    if not announcement.must_read:
        return None
    data = callbacks.encode(ReadTap(announcement.id))
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("✅ J'ai lu", callback_data=data)]]
    ).to_json()


def read_toast(recorded: bool) -> str:
    return "Merci : lecture enregistrée." if recorded else "Déjà noté, merci."


# ------------------------------------------------------------------------------ coordinator
def _local(instant: datetime, tz: ZoneInfo) -> str:
    local = instant.astimezone(tz)
    return f"{local:%d/%m} {local.hour} h {local:%M}".replace(" h 00", " h")


def home(recent: Sequence[Report], tz: ZoneInfo) -> Screen:
    """The entry: a new message, and the latest broadcasts with where each stands."""
    rows = [[_button("✍️ Nouvelle information", BroadcastOp.NEW)]]
    for item in recent:
        a = item.announcement
        mark = STATUS_MARKS.get(a.status, "•")
        label = f"{mark} n° {a.id} · {_local(a.sent_at or a.scheduled_for or a.created_at, tz)}"
        if item.figures.total:
            label += f" · {item.figures.by_status.get('sent', 0)}/{item.figures.total}"
        rows.append([_button(label, BroadcastOp.ITEM, a.id)])
    return render("broadcast_home", count=len(recent)), InlineKeyboardMarkup(rows)


def ask_body(limit: int) -> str:
    return render("broadcast_ask_body", limit=limit)


def caption_too_long(length: int, limit: int) -> str:
    return render("broadcast_caption_too_long", limit=limit, length=length)


def compose(draft: Draft) -> Screen:
    """The draft's controls: audience, must-read, send now or program, abandon."""
    a, audience = draft.announcement, draft.announcement.audience
    text = render(
        "broadcast_compose",
        announcement=a,
        audience=audience,
        count=draft.count,
        chosen=draft.chosen,
    )
    partners = audience.kind is AudienceKind.PARTNERS
    rows = [
        [
            _button(("🔘 " if audience.kind is kind else "") + label, BroadcastOp.AUDIENCE, a.id, i)
            for i, (kind, label) in enumerate(AUDIENCES)
        ],
        [_button(("🔘 " if partners else "") + "🏢 Choisir des sites", BroadcastOp.SITES, a.id)],
        [
            _button(
                ("☑️" if a.must_read else "☐") + " À lire obligatoirement",
                BroadcastOp.MUST_READ,
                a.id,
            )
        ],
    ]
    if draft.count:
        rows.append(
            [
                _button("📨 Envoyer maintenant", BroadcastOp.CONFIRM, a.id),
                _button("🗓 Programmer", BroadcastOp.WHEN, a.id),
            ]
        )
    rows.append([_button("✖️ Abandonner", BroadcastOp.DROP, a.id)])
    return text, InlineKeyboardMarkup(rows)


def audience_of(value: int) -> Audience:
    """The audience an audience button names."""
    if not 0 <= value < len(AUDIENCES):
        raise BadCallback("unknown audience")
    return Audience(AUDIENCES[value][0])


def sites(choice: SiteChoice, page: int) -> Screen:
    """The sites to tick, a page at a time."""
    a = choice.subject
    return pickers.sites_screen(
        choice,
        page,
        lambda label, op, value: _button(label, BroadcastOp(op), a.id, value),
        _button("✔️ Terminé", BroadcastOp.ITEM, a.id),
    )


def sites_around(choice: SiteChoice, partner_id: int) -> Screen:
    """The checklist again, at the page of the site just ticked."""
    return sites(choice, page_of(choice.sites, partner_id))


def confirm(draft: Draft) -> Screen:
    a, count = draft.announcement, draft.count
    rows = [
        [
            _button(
                f"✅ Oui, envoyer à {count} personne{'s' if count > 1 else ''}",
                BroadcastOp.GO,
                a.id,
            )
        ],
        [_button("⬅️ Retour", BroadcastOp.ITEM, a.id)],
    ]
    return render("broadcast_confirm", count=count, announcement=a), InlineKeyboardMarkup(rows)


def _number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def when(a: Announcement, now: datetime, tz: ZoneInfo) -> Screen:
    """Tomorrow or next Monday at 9, or a moment typed."""
    today = now.astimezone(tz).date()
    tomorrow, monday = next_morning(today), next_morning(today, 0)
    rows = [
        [_button(f"Demain ({tomorrow:%d/%m}) à 9 h", BroadcastOp.AT, a.id, _number(tomorrow))],
        [_button(f"Lundi {monday:%d/%m} à 9 h", BroadcastOp.AT, a.id, _number(monday))],
        [_button("⬅️ Retour", BroadcastOp.ITEM, a.id)],
    ]
    return render("broadcast_when"), InlineKeyboardMarkup(rows)


def morning_of(value: int, tz: ZoneInfo) -> datetime:
    """The moment a « Demain » or « Lundi » button names."""
    try:
        day = date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        raise BadCallback("not a date") from None
    return datetime.combine(day, MORNING, tzinfo=tz)


def moment_error(error: Exception) -> str:
    """A moment that could not be read: the explanation quotes what was typed, escaped."""
    return html.escape(str(error), quote=False)


def detail(a: Announcement, figures: Figures, tz: ZoneInfo) -> Screen:
    """A broadcast's figures and actions; also what the progress loop keeps up to date."""
    text = render(
        "broadcast_detail",
        announcement=a,
        counts=figures.by_status,
        total=figures.total,
        read=figures.read,
        readers=figures.readers,
        tz=tz,
    )
    rows = []
    if figures.failed:
        rows.append(
            [_button(f"🔁 Relancer les échecs ({figures.failed})", BroadcastOp.RETRY, a.id)]
        )
    if a.must_read and figures.readers:
        silent = figures.read < figures.readers
        who = []
        if figures.read:
            who.append(_button(f"✅ Qui a lu ? ({figures.read})", BroadcastOp.READ_BY, a.id))
        if silent:
            who.append(_button("👀 Qui n'a pas lu ?", BroadcastOp.UNREAD, a.id))
        rows.append(who)
        if silent:
            rows.append([_button("🔔 Relancer", BroadcastOp.REMIND, a.id)])
    if a.status == Status.SCHEDULED:
        rows.append([_button("✖️ Annuler l'envoi programmé", BroadcastOp.UNSCHEDULE, a.id)])
    rows.append([_button("⬅️ Diffusions", BroadcastOp.HOME)])
    return text, InlineKeyboardMarkup(rows)


def report(item: Report, tz: ZoneInfo) -> Screen:
    return detail(item.announcement, item.figures, tz)


def item(view: Draft | Report, tz: ZoneInfo) -> Screen:
    """A broadcast from the list: a draft's controls, or the others' figures."""
    return compose(view) if isinstance(view, Draft) else report(view, tz)


def readers(a: Announcement, everyone: Sequence[Reader], page: int) -> Screen:
    """Who has not read a must-read notice yet, a page at a time, with the button to remind
    them."""
    unread = [r for r in everyone if r.read_at is None]
    shown = paginate(unread, page, READERS_PAGE)
    text = render(
        "broadcast_readers",
        announcement=a,
        unread=shown.items,
        unread_count=len(unread),
        read=len(everyone) - len(unread),
        total=len(everyone),
        page=shown.number + 1,
        pages=shown.count,
    )
    rows = [pager_row(shown, lambda label, n: _button(label, BroadcastOp.UNREAD, a.id, n))]
    if unread:
        rows.append([_button("🔔 Relancer", BroadcastOp.REMIND, a.id)])
    rows.append([_button("⬅️ Retour", BroadcastOp.ITEM, a.id)])
    return text, InlineKeyboardMarkup([row for row in rows if row])


def read_by(a: Announcement, everyone: Sequence[Reader], page: int, tz: ZoneInfo) -> Screen:
    """Who has read a must-read notice, and when (in the Caf's zone), first readers first,
    a page at a time."""
    read = sorted((r for r in everyone if r.read_at), key=lambda r: (r.read_at, r.display_name))
    shown = paginate(read, page, READERS_PAGE)
    text = render(
        "broadcast_read_by",
        announcement=a,
        readers=shown.items,
        read=len(read),
        total=len(everyone),
        page=shown.number + 1,
        pages=shown.count,
        tz=tz,
    )
    rows = [pager_row(shown, lambda label, n: _button(label, BroadcastOp.READ_BY, a.id, n))]
    if len(read) < len(everyone):
        rows.append([_button("👀 Qui n'a pas lu ?", BroadcastOp.UNREAD, a.id)])
    rows.append([_button("⬅️ Retour", BroadcastOp.ITEM, a.id)])
    return text, InlineKeyboardMarkup([row for row in rows if row])


# ------------------------------------------------------------------------------ toasts
SCHEDULED = "Envoi programmé."
UNSCHEDULED = "Envoi programmé annulé : le message est de nouveau en brouillon."
DROPPED = "Brouillon abandonné : rien n'a été envoyé."
# What a tap that changes nothing is told.
REFUSALS: dict[Refusal, str] = {
    Refusal.NOT_A_DRAFT: "Cette diffusion est déjà partie ou programmée.",
    Refusal.ALREADY_SENT: "Cette diffusion est déjà partie.",
    Refusal.PAST: "Ce moment est passé : choisissez un moment à venir.",
    Refusal.NOT_SCHEDULED: "Cette diffusion n'est plus programmée (elle est peut-être partie).",
}


def refusal(reason: Refusal) -> str:
    return REFUSALS[reason]


def launched(count: int) -> str:
    return f"Envoi lancé : {count} destinataire{'s' if count > 1 else ''}."


def retried(count: int) -> str:
    return f"{count} envoi(s) relancé(s)." if count else "Aucun échec à relancer."


def reminded(count: int) -> str:
    return f"Rappel envoyé à {count} personne{'s' if count > 1 else ''}."
