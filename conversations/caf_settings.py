"""⚙️ Ma Caf (/macaf, coordinators): what needed a shell on the server before — sites imported
from a file, the reporting period, the notification group, the public directory as a file.

Only a coordinator's file is ever downloaded, and only after they asked to import one
(« 📥 Importer des sites »): everyone else's documents are refused and deleted unread by the
fallback (conversations/fallback.py), as are a coordinator's outside this step. The file is
size-limited before the download, read and checked (bot/services/site_import.py), answered
with a preview, imported on « ✅ Importer » (all or nothing), and its message deleted from
the chat. Settings go through bot/services/cafs.py (the command line's `cafs set` too), the
directory through bot/services/directory.py (`export directory`). Screens:
bot/ui/screens/caf_settings.py.
"""

from __future__ import annotations

import contextlib

from telegram import InputFile, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError

from bot.context import Ctx
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action
from bot.domain.privacy import IdentifierKind
from bot.services import cafs, directory, site_import
from bot.services.cafs import CafChanges
from bot.ui.callbacks import BadCallback, CafSettingsTap
from bot.ui.screens import caf_settings as screen
from bot.ui.screens.caf_settings import CafOp
from conversations.common import chat_id_of, edit, guarded, open_flow, require, send
from conversations.taps import TapTable, toast
from conversations.text_input import FileRef, TypedSteps, ask

MANAGE = Action.MANAGE_NETWORK
TAPS = TapTable(
    CafSettingsTap,
    CafOp,
    refusals={site_import.NothingWaiting: toast(lambda _: screen.NOTHING_WAITING)},
)
TYPED = TypedSteps()
NOTIFY_CHAT = "caf_notify_chat"
CITY = "caf_city"  # the Caf's town, where its certificates are « Fait à »
# A chat id is a long number, which the privacy screen may take for a person's; the step
# accepts nothing but a chat id, and keeps nothing else.
NUMBERS = frozenset(
    {IdentifierKind.NIR, IdentifierKind.PHONE, IdentifierKind.CAF_NUMBER, IdentifierKind.RIB}
)


@guarded
async def open_caf(update: Update, ctx: Ctx) -> None:
    """The menu entry ⚙️ Ma Caf (coordinators)."""
    member = await open_flow(update, ctx, MANAGE)
    found = await cafs.settings(ctx.db, member)
    await send(ctx, chat_id_of(update), *screen.home(found.caf, found.sites))


@TAPS.on(CafOp.HOME, needs=MANAGE)
async def show_home(ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None) -> None:
    found = await cafs.settings(ctx.db, member)
    await edit(message, *screen.home(found.caf, found.sites))


# ------------------------------------------------------------------------------ import
@TAPS.on(CafOp.IMPORT, needs=MANAGE)
async def ask_file(ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None) -> None:
    """📥 Importer des sites: the file is expected next (`on_file`)."""
    await ask(ctx, member, site_import.EXPECT_FILE, {}, screen.import_prompt(member.caf))


@TYPED.file(site_import.EXPECT_FILE)
@TYPED.file(site_import.WAITING)  # another file in place of the one waiting
async def on_file(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, ref: FileRef
) -> None:
    """The coordinator's list of sites: refused unread when it is no CSV or workbook or too
    large; else downloaded, checked and previewed. A refused file leaves the chat at once,
    a previewed one after « ✅ Importer » or « ✖️ Annuler »."""
    member = await require(update, ctx, MANAGE)
    message = update.effective_message
    assert message is not None
    chat = chat_id_of(update)
    size = message.document.file_size if message.document else None
    try:
        kind = site_import.kind_of(ref.name if ref.kind == "document" else None, size)
    except site_import.NotAccepted as refused:
        await _delete(ctx, chat, message.message_id)
        shown = screen.file_refused(
            old_excel=refused.old_excel, too_large=refused.too_large, size=refused.size
        )
        await send(ctx, chat, shown)
        return
    content = await (await ctx.bot.get_file(ref.file_id)).download_as_bytearray()
    table = await site_import.read(bytes(content), kind, max_bytes=site_import.MAX_FILE_BYTES)
    found = await site_import.preview(ctx.db, member, table, message.message_id, ctx.clock.now())
    for gone in (found.replaced, None if found.table.ok else message.message_id):
        await _delete(ctx, chat, gone)
    await send(ctx, chat, *screen.preview(member.caf, found))


@TYPED.text(site_import.EXPECT_FILE, max_length=4096)
async def on_text_instead_of_file(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    await send(ctx, chat_id_of(update), screen.file_hint())


@TYPED.text(site_import.WAITING, max_length=4096)
async def on_text_while_waiting(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    await send(ctx, chat_id_of(update), screen.waiting_hint())


@TAPS.on(CafOp.CONFIRM, needs=MANAGE)
async def confirm_import(
    ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None
) -> str:
    """✅ Importer: every site of the file, or none; the file leaves the chat either way."""
    done = await site_import.confirm(ctx.db, member, tap.value, ctx.clock.now())
    await _delete(ctx, member.person.telegram_user_id, done.file_message)
    assert done.imported is not None
    await edit(message, *screen.imported(member.caf, done.imported, done.imported.total))
    return screen.IMPORTED


@TAPS.on(CafOp.CANCEL, needs=MANAGE)
async def cancel_import(
    ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None
) -> str:
    done = await site_import.cancel(ctx.db, member, tap.value)
    await _delete(ctx, member.person.telegram_user_id, done.file_message)
    await edit(message, screen.import_cancelled(), None)
    return screen.CANCELLED


async def _delete(ctx: Ctx, chat_id: int | None, message_id: int | None) -> None:
    """The coordinator's file leaves the chat; one already gone (or too old for Telegram to
    delete) changes nothing."""
    if chat_id is None or message_id is None:
        return
    with contextlib.suppress(TelegramError):
        await ctx.bot.delete_message(chat_id, message_id)


# ------------------------------------------------------------------------------ settings
@TAPS.on(CafOp.PERIOD, needs=MANAGE)
async def show_period(
    ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None
) -> None:
    await edit(message, *screen.period(member.caf))


@TAPS.on(CafOp.SET_PERIOD, needs=MANAGE)
async def set_period(ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None) -> str:
    """Monthly or quarterly (Article 9): audited, the other coordinators told."""
    if not 0 <= tap.value < len(screen.PERIODS):
        raise BadCallback("unknown period")
    chosen = screen.PERIODS[tap.value]
    if chosen is member.caf.reporting_period:
        return screen.PERIOD_UNCHANGED
    changes = CafChanges(period=chosen)
    found = await cafs.change(ctx.db, member, changes, ctx.clock.now())
    ctx.services.wake_outbox()
    await edit(message, *screen.home(found.caf, found.sites, screen.period_saved(found.caf)))
    return screen.PERIOD_SAVED


@TAPS.on(CafOp.GROUP, needs=MANAGE)
async def show_group(
    ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None
) -> None:
    await edit(message, *screen.group(member.caf))


@TAPS.on(CafOp.GROUP_ASK, needs=MANAGE)
async def ask_group(ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None) -> None:
    """✏️ Indiquer le groupe: its chat id is typed next (`on_group_id`)."""
    await ask(ctx, member, NOTIFY_CHAT, {}, screen.group_prompt())


@TAPS.on(CafOp.GROUP_CLEAR, needs=MANAGE)
async def clear_group(
    ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None
) -> str:
    if member.caf.notify_chat_id is None:
        return screen.NO_GROUP
    changes = CafChanges(clear_notify_chat=True)
    found = await cafs.change(ctx.db, member, changes, ctx.clock.now())
    ctx.services.wake_outbox()
    await edit(message, *screen.home(found.caf, found.sites, screen.group_cleared(found.caf)))
    return screen.GROUP_CLEARED


@TYPED.text(NOTIFY_CHAT, max_length=40, allowed=NUMBERS)
async def on_group_id(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """The group's chat id as typed: checked with Telegram (the bot must be in it), then
    saved; the question stands after a refusal."""
    member = await require(update, ctx, MANAGE)
    chat = chat_id_of(update)
    try:
        group_id = cafs.parse_notify_chat(text)
    except cafs.NotAChatId:
        group_id = None
    if group_id is None:
        await send(ctx, chat, screen.group_problem("not_an_id"))
        return
    title, problem = await _group(ctx, group_id)
    if problem is not None:
        await send(ctx, chat, screen.group_problem(problem))
        return
    changes = CafChanges(notify_chat_id=group_id)
    found = await cafs.change(ctx.db, member, changes, ctx.clock.now())
    ctx.services.wake_outbox()
    await send(
        ctx, chat, *screen.home(found.caf, found.sites, screen.group_saved(found.caf, title))
    )


async def _group(ctx: Ctx, chat_id: int) -> tuple[str, str | None]:
    """The group's title, or why it cannot be the Caf's group (see `screen.group_problem`)."""
    try:
        chat = await ctx.bot.get_chat(chat_id)
    except TelegramError:
        return "", "not_found"
    if chat.type == ChatType.PRIVATE:
        return "", "private"
    return chat.title or str(chat_id), None


# ------------------------------------------------------------------------------ town
@TAPS.on(CafOp.CITY, needs=MANAGE)
async def show_city(ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None) -> None:
    await edit(message, *screen.city(member.caf))


@TAPS.on(CafOp.CITY_ASK, needs=MANAGE)
async def ask_city(ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None) -> None:
    """✏️ Indiquer la ville: the Caf's town is typed next (`on_city`)."""
    await ask(ctx, member, CITY, {}, screen.city_prompt(cafs.CITY_MAX))


@TAPS.on(CafOp.CITY_CLEAR, needs=MANAGE)
async def clear_city(ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None) -> str:
    """Certificates are then « Fait à » a blank line, filled by hand."""
    if member.caf.city is None:
        return screen.NO_CITY
    found = await cafs.change(ctx.db, member, CafChanges(clear_city=True), ctx.clock.now())
    ctx.services.wake_outbox()
    await edit(message, *screen.home(found.caf, found.sites, screen.city_saved(found.caf)))
    return screen.CITY_CLEARED


@TYPED.text(CITY, max_length=cafs.CITY_MAX)
async def on_city(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """The Caf's town as typed (« none » removes it); the question stands after a refusal."""
    member = await require(update, ctx, MANAGE)
    try:
        city = cafs.parse_city(text)
    except cafs.NotACity:
        await send(ctx, chat_id_of(update), screen.city_prompt(cafs.CITY_MAX, refused=True))
        return
    changes = CafChanges(city=city, clear_city=city is None)
    found = await cafs.change(ctx.db, member, changes, ctx.clock.now())
    ctx.services.wake_outbox()
    shown = screen.home(found.caf, found.sites, screen.city_saved(found.caf))
    await send(ctx, chat_id_of(update), *shown)


# ------------------------------------------------------------------------------ directory
async def _known_format(ctx: Ctx, member: Member, tap: CafSettingsTap) -> None:
    """Checked before « ⏳ Préparation… »: a format of the list."""
    if not 0 <= tap.value < len(screen.DIRECTORY_FORMATS):
        raise BadCallback("unknown format")


@TAPS.on(CafOp.DIRECTORY, needs=MANAGE, slow=True, check=_known_format)
async def send_directory(
    ctx: Ctx, member: Member, tap: CafSettingsTap, message: Message | None
) -> None:
    """🌐 Annuaire: the public directory as a document (JSON, CSV, ICS or the national
    standard's CSV); the screen stays."""
    file_format = directory.DirectoryFormat(screen.DIRECTORY_FORMATS[tap.value])
    made = await directory.directory_file(ctx.db, member.caf, file_format, ctx.clock.now())
    await ctx.bot.send_document(
        member.person.telegram_user_id or 0,
        InputFile(made.content, filename=made.filename),
        caption=screen.directory_caption(member.caf, made),
        parse_mode=ParseMode.HTML,
    )
