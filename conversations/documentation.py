"""📚 Documentation (Article 3): the links and files a Caf's coordinators keep for their sites.

Agents, managers and coordinators see their own Caf's list, in the coordinators' order. A
link opens through a URL button; a file is sent back by its Telegram `file_id` (it was
never downloaded, and never is). Coordinators add, reorder and remove items.

One message is edited in place, driven by `DocTap(op, item, page)`. The tap table says what
each operation needs: reading needs `DOCUMENTATION`, changing the list the coordinators'
`MANAGE_NETWORK` (so a forged tap from an agent gets the permission table's refusal). The
use cases are bot/services/documentation.py (an item of another Caf is a stale button, one
this Caf removed shows the list again), the screens bot/ui/screens/documentation.py.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.context import Ctx
from bot.domain.documents import TITLE_MAX, URL_ALLOWED, URL_MAX, Direction, Document, FileKind
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action
from bot.services import documentation
from bot.ui.callbacks import DocTap
from bot.ui.screens import documentation as screen
from bot.ui.screens.documentation import DocOp
from conversations.common import chat_id_of, edit, guarded, open_flow, require, send
from conversations.taps import TapTable
from conversations.text_input import FileRef, TypedSteps, ask

log = logging.getLogger(__name__)

READ = Action.DOCUMENTATION
EDIT = documentation.EDIT


async def _removed(
    ctx: Ctx, member: Member, tap: DocTap, message: Message | None, _: documentation.Removed
) -> str:
    """An item this Caf removed meanwhile (a double tap, another coordinator): the list
    again, with a toast."""
    await show_list(ctx, member, tap, message)
    return screen.gone(DocOp(tap.op))


# An item never of this Caf is a stale button.
TAPS = TapTable(
    DocTap, DocOp, stale=(documentation.Unknown,), refusals={documentation.Removed: _removed}
)
TYPED = TypedSteps()


async def _send_file(ctx: Ctx, chat_id: int, document: Document) -> bool:
    """Sends the file on by its id, as a direct reply; False if Telegram no longer has it."""
    assert document.file_id is not None
    photo = document.file_kind is FileKind.PHOTO
    send_file = ctx.bot.send_photo if photo else ctx.bot.send_document
    caption = screen.caption(document)
    try:
        await send_file(chat_id, document.file_id, caption=caption, parse_mode=ParseMode.HTML)
    except BadRequest as exc:
        log.warning("Document %s could not be sent: %s", document.id, exc.message)
        return False
    return True


# ------------------------------------------------------------------------------ entry point
@guarded
async def open_documentation(update: Update, ctx: Ctx) -> None:
    """The menu entry 📚 Documentation."""
    member = await open_flow(update, ctx, READ)
    shelf = await documentation.shelf(ctx.db, member)
    await send(ctx, chat_id_of(update), *screen.shelf(shelf, 0))


# ------------------------------------------------------------------------------ taps
@TAPS.on(DocOp.LIST, needs=READ)
async def show_list(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> None:
    await edit(message, *screen.shelf(await documentation.shelf(ctx.db, member), tap.page))


@TAPS.on(DocOp.OPEN, needs=READ)
async def open_item(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> str | None:
    """A link shows its card (with its URL button); a file is sent back, and coordinators
    also get its card, to move or remove it."""
    card = await documentation.card(ctx.db, member, tap.item)
    if card.document.is_link or card.editor:
        await edit(message, *screen.card(card))
    if card.document.is_link:
        return None
    chat_id = message.chat_id if message else member.person.telegram_user_id
    assert chat_id is not None
    sent = await _send_file(ctx, chat_id, card.document)
    return screen.toast("sent" if sent else "unavailable")


@TAPS.on(DocOp.ITEM, needs=READ)
async def show_item(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> None:
    """The item's card without sending its file again (« Non » to a removal)."""
    await edit(message, *screen.card(await documentation.card(ctx.db, member, tap.item)))


@TAPS.on(DocOp.ADD_LINK, needs=EDIT)
async def add_link(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> None:
    await ask(ctx, member, "doc_title", {"type": "link"}, screen.ask_title("link"))


@TAPS.on(DocOp.ADD_FILE, needs=EDIT)
async def add_file(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> None:
    await ask(ctx, member, "doc_title", {"type": "file"}, screen.ask_title("file"))


@TAPS.on(DocOp.UP, needs=EDIT)
@TAPS.on(DocOp.DOWN, needs=EDIT)
async def move(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> str:
    direction = Direction(tap.op)  # the operations are named after the directions
    moved = await documentation.move(ctx.db, member, tap.item, direction, ctx.clock.now())
    await edit(message, *screen.card(moved.card))
    return screen.moved(DocOp(tap.op), moved.moved)


@TAPS.on(DocOp.REMOVE, needs=EDIT)
async def ask_removal(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> None:
    card = await documentation.card(ctx.db, member, tap.item)
    await edit(message, *screen.confirm_remove(card.document, tap.page))


@TAPS.on(DocOp.REMOVE_CONFIRMED, needs=EDIT)
async def remove(ctx: Ctx, member: Member, tap: DocTap, message: Message | None) -> str:
    shelf = await documentation.remove(ctx.db, member, tap.item, ctx.clock.now())
    await edit(message, *screen.shelf(shelf, tap.page))
    return screen.toast("removed")


# ------------------------------------------------------------------------------ typed answers
@TYPED.text("doc_title", max_length=TITLE_MAX)
async def on_title(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, title: str
) -> None:
    member = await require(update, ctx, EDIT)
    title = " ".join(title.split())  # one line: it becomes a button
    if expected.context.get("type") == "file":
        await ask(ctx, member, "doc_file", {"title": title}, screen.ask_file(title))
    else:
        await ask(ctx, member, "doc_url", {"title": title}, screen.ask_url(title))


@TYPED.text("doc_url", max_length=URL_MAX, allowed=URL_ALLOWED)
async def on_url(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, url: str
) -> None:
    member = await require(update, ctx, EDIT)
    title = str(expected.context["title"])
    try:
        added = await documentation.add_link(ctx.db, member, title, url, ctx.clock.now())
    except documentation.BadUrl as bad:
        await send(ctx, chat_id_of(update), screen.bad_url(bad.problem))
        return
    await send(ctx, chat_id_of(update), *screen.added(added.document, added.shelf))


@TYPED.file("doc_file")
async def on_file(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, ref: FileRef
) -> None:
    member = await require(update, ctx, EDIT)
    added = await documentation.add_file(
        ctx.db,
        member,
        str(expected.context["title"]),
        file_id=ref.file_id,
        kind=FileKind(ref.kind),
        name=ref.name,
        now=ctx.clock.now(),
    )
    await send(ctx, chat_id_of(update), *screen.added(added.document, added.shelf))


@TYPED.text("doc_file", max_length=4096)
async def on_text_instead_of_file(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """A text where the file is expected: the step goes on, with a hint."""
    await send(ctx, chat_id_of(update), screen.file_hint(str(expected.context["title"])))
