"""📚 Documentation (Article 3): the links and files a Caf's coordinators keep for their sites.

Agents, managers and coordinators see their own Caf's list, in the coordinators' order. A
link opens through a URL button; a file is sent back by its Telegram `file_id` (it was
never downloaded, and never is). Coordinators add, reorder and remove items.

One message is edited in place, driven by `DocTap(op, item, page)`. Every tap is authorised
from the database: the management taps need the coordinators' `MANAGE_NETWORK` (so a forged
one from an agent gets the permission table's refusal), and an item must belong to the
tapper's Caf, else the button is treated as stale. Every change is audit-logged.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.context import Ctx
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action, decide
from bot.domain.privacy import IdentifierKind
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, DocTap
from bot.ui.render import render
from conversations.common import chat_id_of, edit, guarded, require, send
from conversations.text_input import FileRef, TypedSteps, ask
from storage import audit, pending
from storage import documents as store
from storage.documents import Direction, Document, FileKind

log = logging.getLogger(__name__)

PAGE_SIZE = 8
TITLE_MAX = 120
URL_MAX = 2000
# Who keeps the list: the Caf's coordinators, through their "manage the network" right.
EDIT = Action.MANAGE_NETWORK
EDIT_OPS = frozenset({"addl", "addf", "up", "down", "rm", "rmok"})
# A web address may look like a phone number (an id in a query string) or an e-mail address
# (a booking page's `name@caf…` path); never like a NIR, an IBAN, a RIB, a Carte Vitale or a
# Caf file number, and it holds no space, so never like a postal address either.
URL_ALLOWED = frozenset({IdentifierKind.PHONE, IdentifierKind.EMAIL})
_HOST = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)

Reply = tuple[str, InlineKeyboardMarkup | None]

TYPED = TypedSteps()


def _button(label: str, op: str, item: int = 0, page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(DocTap(op, item, page)))


def _toast(what: str) -> str:
    return render("doc_toast", what=what)


def _is_editor(member: Member) -> bool:
    return decide(member.actor, EDIT) is None


def url_problem(text: str) -> str | None:
    """Why `text` is not a web address a button can open (None when it is one)."""
    if any(char.isspace() for char in text):
        return "spaces"
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return "host"
    if parts.scheme.lower() not in ("http", "https") or not text.lower().startswith(
        ("http://", "https://")
    ):
        return "scheme"
    if parts.username is not None or parts.password is not None:
        return "credentials"
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except UnicodeError:
        return "host"
    return None if _HOST.fullmatch(host) else "host"


# ------------------------------------------------------------------------------ screens
async def _list(ctx: Ctx, member: Member, page: int) -> Reply:
    items = await store.list_for_caf(ctx.db, member.caf.id)
    editor = _is_editor(member)
    pages = max(1, math.ceil(len(items) / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    text = render(
        "doc_list", caf=member.caf, total=len(items), page=page + 1, pages=pages, editor=editor
    )
    rows = [[_button(_label(d), "open", d.id, page)] for d in shown]
    pager = []
    if page > 0:
        pager.append(_button("◀️ Précédents", "list", 0, page - 1))
    if page + 1 < pages:
        pager.append(_button("Suivants ▶️", "list", 0, page + 1))
    rows.append(pager)
    if editor:
        rows.append(
            [_button("➕ Ajouter un lien", "addl"), _button("➕ Ajouter un fichier", "addf")]
        )
    rows = [row for row in rows if row]
    return text, InlineKeyboardMarkup(rows) if rows else None


def _label(document: Document) -> str:
    return f"{'🔗' if document.is_link else '📎'} {document.title}"


async def _item(ctx: Ctx, member: Member, document: Document) -> Reply:
    items = await store.list_for_caf(ctx.db, member.caf.id)
    index = next((i for i, d in enumerate(items) if d.id == document.id), 0)
    page = index // PAGE_SIZE
    editor = _is_editor(member)
    text = render("doc_item", document=document, editor=editor, index=index + 1, total=len(items))
    rows = []
    if document.url is not None:
        rows.append([InlineKeyboardButton("🔗 Ouvrir", url=document.url)])
    else:
        rows.append([_button("📎 Recevoir le fichier", "open", document.id, page)])
    if editor:
        if len(items) > 1:
            rows.append(
                [
                    _button("⬆️ Monter", "up", document.id, page),
                    _button("⬇️ Descendre", "down", document.id, page),
                ]
            )
        rows.append([_button("🗑 Retirer", "rm", document.id, page)])
    rows.append([_button("⬅️ La liste", "list", 0, page)])
    return text, InlineKeyboardMarkup(rows)


async def _own_document(ctx: Ctx, member: Member, document_id: int) -> Document | None:
    """The item if it is one of this Caf's; None if this Caf removed it; else a stale button."""
    document = await store.get(ctx.db, document_id)
    if document is not None and document.caf_id == member.caf.id:
        return document
    if document is None and await store.was_removed(ctx.db, member.caf.id, document_id):
        return None
    raise BadCallback("not a document of this Caf")


async def _send_file(ctx: Ctx, chat_id: int, document: Document) -> bool:
    """Sends the file on by its id, as a direct reply; False if Telegram no longer has it."""
    assert document.file_id is not None
    caption = render("doc_caption", document=document)
    try:
        if document.file_kind is FileKind.PHOTO:
            await ctx.bot.send_photo(
                chat_id, document.file_id, caption=caption, parse_mode=ParseMode.HTML
            )
        else:
            await ctx.bot.send_document(
                chat_id, document.file_id, caption=caption, parse_mode=ParseMode.HTML
            )
    except BadRequest as exc:
        log.warning("Document %s could not be sent: %s", document.id, exc.message)
        return False
    return True


# ------------------------------------------------------------------------------ entry points
@guarded
async def open_documentation(update: Update, ctx: Ctx) -> None:
    """The menu entry 📚 Documentation."""
    member = await require(update, ctx, Action.DOCUMENTATION)
    await pending.clear(ctx.db, member.person.id)
    text, markup = await _list(ctx, member, 0)
    await send(ctx, chat_id_of(update), text, markup)


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=DocTap)
    handler = TAPS.get(tap.op)
    if handler is None:
        raise BadCallback("unknown op")
    member = await require(update, ctx, EDIT if tap.op in EDIT_OPS else Action.DOCUMENTATION)
    message = query.message if isinstance(query.message, Message) else None
    answer = await handler(ctx, member, tap, message)
    await query.answer(answer)


# ------------------------------------------------------------------------------ tap handlers
TapHandler = Callable[[Ctx, Member, DocTap, Message | None], Awaitable[str | None]]


async def tap_list(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> None:
    await edit(message, *await _list(ctx, member, tap.page))


async def tap_open(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> str | None:
    document = await _own_document(ctx, member, tap.item)
    if document is None:
        await edit(message, *await _list(ctx, member, tap.page))
        return _toast("gone")
    if document.is_link:
        await edit(message, *await _item(ctx, member, document))
        return None
    if _is_editor(member):  # the card, to move or remove it; the file comes too
        await edit(message, *await _item(ctx, member, document))
    chat_id = message.chat_id if message else member.person.telegram_user_id
    assert chat_id is not None
    return _toast("sent" if await _send_file(ctx, chat_id, document) else "unavailable")


async def tap_item(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> str | None:
    """The item's card without sending its file again (« Non » to a removal)."""
    document = await _own_document(ctx, member, tap.item)
    if document is None:
        await edit(message, *await _list(ctx, member, tap.page))
        return _toast("gone")
    await edit(message, *await _item(ctx, member, document))
    return None


async def tap_add(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> None:
    kind = "file" if tap.op == "addf" else "link"
    await ask(
        ctx,
        member,
        "doc_title",
        {"type": kind},
        render("doc_ask", step="title", kind=kind, limit=TITLE_MAX),
    )


async def tap_move(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> str:
    document = await _own_document(ctx, member, tap.item)
    if document is None:
        await edit(message, *await _list(ctx, member, tap.page))
        return _toast("gone")
    direction = Direction.UP if tap.op == "up" else Direction.DOWN
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        moved = await store.move(tx, document.id, direction)
        if moved is not None:
            await audit.record(
                tx,
                at=now,
                action="document.moved",
                actor_id=member.person.id,
                caf_id=member.caf.id,
                target_type="document",
                target_id=moved.id,
                details={"direction": direction.value, "position": moved.position},
            )
    current = moved or await store.get(ctx.db, document.id)
    if current is None:  # removed meanwhile
        await edit(message, *await _list(ctx, member, tap.page))
        return _toast("gone")
    await edit(message, *await _item(ctx, member, current))
    if moved is None:
        return _toast("first" if direction is Direction.UP else "last")
    return _toast("moved")


async def tap_remove(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> str | None:
    document = await _own_document(ctx, member, tap.item)
    if document is None:
        await edit(message, *await _list(ctx, member, tap.page))
        return _toast("already_removed")
    if tap.op == "rm":  # first tap: ask for confirmation
        rows = [
            [_button("🗑 Oui, retirer", "rmok", document.id, tap.page)],
            [_button("✖️ Non", "item", document.id, tap.page)],
        ]
        text = render("doc_remove_confirm", document=document)
        await edit(message, text, InlineKeyboardMarkup(rows))
        return None
    async with ctx.db.transaction() as tx:
        removed = await store.remove(
            tx, document.id, actor_id=member.person.id, now=ctx.clock.now()
        )
    await edit(message, *await _list(ctx, member, tap.page))
    return _toast("removed" if removed is not None else "already_removed")


TAPS: dict[str, TapHandler] = {
    "list": tap_list,
    "open": tap_open,
    "item": tap_item,
    "addl": tap_add,
    "addf": tap_add,
    "up": tap_move,
    "down": tap_move,
    "rm": tap_remove,
    "rmok": tap_remove,
}


# ------------------------------------------------------------------------------ typed answers
@TYPED.text("doc_title", max_length=TITLE_MAX)
async def on_title(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, title: str
) -> None:
    member = await require(update, ctx, EDIT)
    title = " ".join(title.split())  # one line: it becomes a button
    if expected.context.get("type") == "file":
        prompt = render("doc_ask", step="file", title=title)
        await ask(ctx, member, "doc_file", {"title": title}, prompt)
    else:
        prompt = render("doc_ask", step="url", title=title)
        await ask(ctx, member, "doc_url", {"title": title}, prompt)


@TYPED.text("doc_url", max_length=URL_MAX, allowed=URL_ALLOWED)
async def on_url(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, url: str
) -> None:
    member = await require(update, ctx, EDIT)
    problem = url_problem(url)
    if problem is not None:
        chat_id = chat_id_of(update)
        await send(ctx, chat_id, render("doc_bad_url", problem=problem))
        return
    await _add(update, ctx, member, str(expected.context["title"]), url=url)


@TYPED.file("doc_file")
async def on_file(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, ref: FileRef
) -> None:
    member = await require(update, ctx, EDIT)
    await _add(
        update,
        ctx,
        member,
        str(expected.context["title"]),
        file_id=ref.file_id,
        file_kind=FileKind(ref.kind),
        file_name=ref.name,
    )


@TYPED.text("doc_file", max_length=4096)
async def on_text_instead_of_file(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """A text where the file is expected: the step goes on, with a hint."""
    chat_id = chat_id_of(update)
    hint = render("doc_file_hint", title=str(expected.context["title"]))
    await send(ctx, chat_id, hint + "\n\n" + render("cancel_hint"))


async def _add(
    update: Update,
    ctx: Ctx,
    member: Member,
    title: str,
    *,
    url: str | None = None,
    file_id: str | None = None,
    file_kind: FileKind | None = None,
    file_name: str | None = None,
) -> None:
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        document = await store.add(
            tx,
            caf_id=member.caf.id,
            title=title,
            url=url,
            file_id=file_id,
            file_kind=file_kind,
            file_name=file_name,
            created_by=member.person.id,
            now=now,
        )
        await pending.clear(tx, member.person.id)
        await audit.record(
            tx,
            at=now,
            action="document.added",
            actor_id=member.person.id,
            caf_id=member.caf.id,
            target_type="document",
            target_id=document.id,
            details={"kind": "link" if url is not None else str(file_kind)},
        )
    text, markup = await _list(ctx, member, (document.position - 1) // PAGE_SIZE)
    chat_id = chat_id_of(update)
    await send(ctx, chat_id, render("doc_added", document=document) + "\n\n" + text, markup)
