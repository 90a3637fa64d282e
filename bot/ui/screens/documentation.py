"""📚 Documentation: the Caf's list of links and files, an item's card, the prompts to add one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.documents import TITLE_MAX, Document
from bot.domain.models import Caf
from bot.ui import callbacks
from bot.ui.callbacks import DocTap
from bot.ui.render import render
from bot.ui.screens import question
from bot.ui.screens.paging import pager_row, paginate

PAGE_SIZE = 8
# The list is shown without buttons to a reader of an empty list: no keyboard at all then.
Reply = tuple[str, InlineKeyboardMarkup | None]


class DocOp(StrEnum):
    LIST = "list"
    OPEN = "open"
    ITEM = "item"
    ADD_LINK = "addl"
    ADD_FILE = "addf"
    UP = "up"
    DOWN = "down"
    REMOVE = "rm"
    REMOVE_CONFIRMED = "rmok"


@dataclass(frozen=True)
class Shelf:
    """The Caf's list, in the coordinators' order, and whether this person may change it."""

    caf: Caf
    items: list[Document]
    editor: bool


@dataclass(frozen=True)
class Card:
    """One item, where it stands in the list, and whether this person may move it."""

    document: Document
    index: int  # from 0
    total: int
    editor: bool


def _button(label: str, op: DocOp, item: int = 0, page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(DocTap(op, item, page)))


def _label(document: Document) -> str:
    return f"{'🔗' if document.is_link else '📎'} {document.title}"


def page_of(index: int) -> int:
    """The page of the list that shows the item at `index` (from 0)."""
    return index // PAGE_SIZE


def shelf(found: Shelf, page: int) -> Reply:
    """The list, eight to a page; coordinators also get the buttons to add an item."""
    shown = paginate(found.items, page, PAGE_SIZE)
    text = render(
        "doc_list",
        caf=found.caf,
        total=len(found.items),
        page=shown.number + 1,
        pages=shown.count,
        editor=found.editor,
    )
    rows = [[_button(_label(d), DocOp.OPEN, d.id, shown.number)] for d in shown.items]
    rows.append(pager_row(shown, lambda label, n: _button(label, DocOp.LIST, 0, n)))
    if found.editor:
        rows.append(
            [
                _button("➕ Ajouter un lien", DocOp.ADD_LINK),
                _button("➕ Ajouter un fichier", DocOp.ADD_FILE),
            ]
        )
    rows = [row for row in rows if row]
    return text, InlineKeyboardMarkup(rows) if rows else None


def card(found: Card) -> Reply:
    """One item: open it (a URL button, or the file sent back); coordinators move or remove it."""
    document, page = found.document, page_of(found.index)
    text = render(
        "doc_item",
        document=document,
        editor=found.editor,
        index=found.index + 1,
        total=found.total,
    )
    rows = []
    if document.url is not None:
        rows.append([InlineKeyboardButton("🔗 Ouvrir", url=document.url)])
    else:
        rows.append([_button("📎 Recevoir le fichier", DocOp.OPEN, document.id, page)])
    if found.editor:
        if found.total > 1:
            rows.append(
                [
                    _button("⬆️ Monter", DocOp.UP, document.id, page),
                    _button("⬇️ Descendre", DocOp.DOWN, document.id, page),
                ]
            )
        rows.append([_button("🗑 Retirer", DocOp.REMOVE, document.id, page)])
    rows.append([_button("⬅️ La liste", DocOp.LIST, 0, page)])
    return text, InlineKeyboardMarkup(rows)


def confirm_remove(document: Document, page: int) -> Reply:
    yes = _button("🗑 Oui, retirer", DocOp.REMOVE_CONFIRMED, document.id, page)
    no = _button("✖️ Non", DocOp.ITEM, document.id, page)
    return question(render("doc_remove_confirm", document=document), yes, no)


def added(document: Document, found: Shelf) -> Reply:
    """The confirmation of a new item, above the list at the page that shows it."""
    text, markup = shelf(found, page_of(document.position - 1))
    return render("doc_added", document=document) + "\n\n" + text, markup


def toast(what: str) -> str:
    """sent, unavailable, gone, already_removed, removed, moved, first, last."""
    return render("doc_toast", what=what)


def gone(op: DocOp) -> str:
    """The toast of a tap on an item this Caf removed meanwhile."""
    return toast("already_removed" if op in (DocOp.REMOVE, DocOp.REMOVE_CONFIRMED) else "gone")


def moved(op: DocOp, did_move: bool) -> str:
    if did_move:
        return toast("moved")
    return toast("first" if op is DocOp.UP else "last")


def caption(document: Document) -> str:
    """The caption of a file sent back from the list."""
    return render("doc_caption", document=document)


def ask_title(kind: str) -> str:
    """`kind`: "link" or "file"."""
    return render("doc_ask", step="title", kind=kind, limit=TITLE_MAX)


def ask_url(title: str) -> str:
    return render("doc_ask", step="url", title=title)


def ask_file(title: str) -> str:
    return render("doc_ask", step="file", title=title)


def bad_url(problem: str) -> str:
    return render("doc_bad_url", problem=problem)


def file_hint(title: str) -> str:
    """A text where the file is expected: the step goes on."""
    return render("doc_file_hint", title=title) + "\n\n" + render("cancel_hint")
