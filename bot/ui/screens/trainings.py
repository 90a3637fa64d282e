"""🎓 Formations (coordinators): a person's training history, from their card in 🏢 Réseau,
and a training recorded by hand (title, then date, typed). Driven by `FormationTap`."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.models import Person
from bot.domain.trainings import TITLE_MAX, Training
from bot.ui import callbacks
from bot.ui.callbacks import FormationTap, NetworkTap
from bot.ui.render import render
from bot.ui.screens import Screen
from bot.ui.screens.paging import pager_row, paginate

PAGE_SIZE = 10
FORMATIONS = "🎓 Formations"
ADD = "➕ Ajouter une formation"
BACK = "⬅️ Sa fiche"
TRAIN_FIRST = (
    "Enregistrez d'abord la formation de cet agent (🏢 Réseau → sa fiche → 🎓 Formations) :"
    " son besoin se clôt alors tout seul."
)
RECORDED = "✅ Formation enregistrée."
EXPORT = "📤 Exporter les formations de la Caf"
REMOVE = "🗑 Oui, retirer"
KEEP = "⬅️ Non, garder"
REMOVED = "🗑 Formation retirée."
# A remove button shows the line's date and the start of its title, within Telegram's width.
REMOVE_TITLE_CHARS = 28


class FormationOp(StrEnum):
    LIST = "list"  # page: the page of the history
    ADD = "add"
    EXPORT = "export"  # the whole Caf's records, as a CSV file
    REMOVE_ASK = "ask_rm"  # training: a line recorded by hand, to confirm its removal
    REMOVE = "rm"  # training: removed, confirmed


def _button(
    label: str, op: FormationOp, person_id: int, page: int = 0, training: int = 0
) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.encode(FormationTap(op, person_id, page, training))
    )


def _line(t: Training) -> str:
    title = t.title if len(t.title) <= REMOVE_TITLE_CHARS else t.title[:REMOVE_TITLE_CHARS] + "…"
    return f"{t.on_date:%d/%m/%Y} — {title}"


def formations_button(person_id: int) -> InlineKeyboardButton:
    """The button on a person's card (bot/ui/screens/network.py)."""
    return _button(FORMATIONS, FormationOp.LIST, person_id)


def history(
    person: Person, trainings: Sequence[Training], page: int, tz: ZoneInfo, above: str = ""
) -> Screen:
    """The person's trainings, latest first; `above`, what just changed."""
    shown = paginate(trainings, page, PAGE_SIZE)
    text = render(
        "trainings_list",
        person=person,
        items=shown.items,
        total=len(trainings),
        trained=any(t.attended for t in trainings),
        page=shown.number + 1,
        pages=shown.count,
    )
    rows = []
    pager = pager_row(shown, lambda label, n: _button(label, FormationOp.LIST, person.id, n))
    if pager:
        rows.append(pager)
    # Lines typed by hand can be taken back (a training day's follow its attendance).
    for t in shown.items:
        if t.by_hand:
            label = f"🗑 {_line(t)}"
            rows.append([_button(label, FormationOp.REMOVE_ASK, person.id, shown.number, t.id)])
    rows.append([_button(ADD, FormationOp.ADD, person.id)])
    rows.append([_button(EXPORT, FormationOp.EXPORT, person.id)])
    back = NetworkTap("person", person.id, 0)
    rows.append([InlineKeyboardButton(BACK, callback_data=callbacks.encode(back))])
    return (f"{above}\n\n{text}" if above else text), InlineKeyboardMarkup(rows)


def confirm_removal(person: Person, training: Training, page: int) -> Screen:
    """« Retirer … ? » before a line recorded by hand is taken out of the history."""
    text = render("training_remove", person=person, line=_line(training))
    rows = [
        [_button(REMOVE, FormationOp.REMOVE, person.id, page, training.id)],
        [_button(KEEP, FormationOp.LIST, person.id, page)],
    ]
    return text, InlineKeyboardMarkup(rows)


def removed(person: Person, trainings: Sequence[Training], page: int, tz: ZoneInfo) -> Screen:
    return history(person, trainings, page, tz, above=REMOVED)


def ask_title(person: Person) -> str:
    return render("training_ask", person=person, step="title", limit=TITLE_MAX, title="")


def ask_day(person: Person, title: str, problem: str | None = None) -> str:
    return render(
        "training_ask", person=person, step="day", limit=TITLE_MAX, title=title, problem=problem
    )


def recorded(
    person: Person, trainings: Sequence[Training], tz: ZoneInfo, closed_need: bool
) -> Screen:
    above = render("training_recorded", person=person, closed_need=closed_need)
    return history(person, trainings, 0, tz, above=above)


def export_caption(rows: int) -> str:
    return render("trainings_exported", rows=rows)
