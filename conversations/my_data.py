"""/mesdonnees (everyone registered, revoked people and withdrawn sites included) and the
erasure of a person by a coordinator of their Caf.

/mesdonnees shows a summary of what the bot holds about the person and « 📥 Télécharger »
sends all of it as a JSON file made on the spot and kept nowhere. A stranger is told the bot
holds nothing about them, but for the wrong invitation codes their account sent lately.

Erasure: from the person card (🏢 Réseau), confirmed, audit-logged; storage/personal_data.py
says what it does to each table. The person is told once, directly (an outbox row would keep
their chat id), and becomes a stranger to the bot. The use cases are
bot/services/personal_data.py, the screens bot/ui/screens/my_data.py.
"""

from __future__ import annotations

import logging

from telegram import BotCommandScopeChat, InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.context import Ctx
from bot.domain.models import Caf, Member
from bot.domain.permissions import Action, decide
from bot.services import personal_data
from bot.services.network import NotTheirs
from bot.ui.callbacks import BadCallback, PersonalDataTap
from bot.ui.screens import my_data as screen
from bot.ui.screens.my_data import PersonalDataOp
from conversations.common import Refused, chat_id_of, current_member, edit, guarded, send
from conversations.taps import TapTable

log = logging.getLogger(__name__)

# Someone not of the coordinator's Caf (or the coordinator) is a stale button.
TAPS = TapTable(PersonalDataTap, PersonalDataOp, stale=(NotTheirs,))


@guarded
async def show(update: Update, ctx: Ctx) -> None:
    """/mesdonnees: the summary, with « 📥 Télécharger »."""
    chat_id = chat_id_of(update)
    member = await current_member(update, ctx)
    if member is None:
        user = update.effective_user
        failures = await personal_data.wrong_codes(ctx.db, user.id) if user else []
        await send(ctx, chat_id, screen.stranger(failures, ctx.settings.tz))
        return
    refusal = decide(member.actor, Action.MY_DATA)
    if refusal is not None:
        raise Refused(refusal, member)
    found = await personal_data.summary(ctx.db, member)
    await send(ctx, chat_id, *screen.summary(member, found, ctx.settings.retention_months))


# Not `slow`: a slow tap is answered before its handler runs, so a forged button could no
# longer be answered « expiré ». One person's file takes a few queries.
async def _a_download_button(ctx: Ctx, member: Member, tap: PersonalDataTap) -> None:
    if tap.person != 0 or tap.step != 0:
        raise BadCallback("not a download button")
    return None


@TAPS.on(PersonalDataOp.DOWNLOAD, needs=Action.MY_DATA, slow=True, check=_a_download_button)
async def download(ctx: Ctx, member: Member, tap: PersonalDataTap, message: Message | None) -> None:
    """The whole export as a JSON document: generated for this tap, stored nowhere."""
    months = ctx.settings.retention_months
    made = await personal_data.download(ctx.db, member, ctx.clock.now(), months)
    chat_id = member.person.telegram_user_id
    assert chat_id is not None
    await ctx.bot.send_document(
        chat_id,
        InputFile(made.content, filename=made.filename),
        caption=screen.file_caption(made.day),
        parse_mode=ParseMode.HTML,
    )


@TAPS.on(PersonalDataOp.ERASE, needs=Action.MANAGE_NETWORK)
async def erase(
    ctx: Ctx, member: Member, tap: PersonalDataTap, message: Message | None
) -> str | None:
    """A coordinator erases a person of their own Caf (never themselves): step 0 asks,
    step 1 erases."""
    if tap.step not in (0, 1):
        raise BadCallback("not an erasure step")
    try:
        if tap.step == 0:
            person = await personal_data.erasable(ctx.db, member, tap.person)
            await edit(message, *screen.erase_confirm(person))
            return None
        person = await personal_data.erase(ctx.db, member, tap.person, ctx.clock.now())
    except personal_data.AlreadyErased:
        return screen.already_erased()
    assert person.telegram_user_id is not None
    await _tell_the_erased(ctx, person.telegram_user_id, member.caf)
    await edit(message, *screen.erased(person))
    return screen.ERASED


async def _tell_the_erased(ctx: Ctx, chat_id: int, caf: Caf) -> None:
    """Once, directly: no outbox row may keep the chat id of someone just erased. Their
    command list goes back to a stranger's. Both are courtesies: a blocked bot is fine."""
    text, markup = screen.erase_notice(caf)
    try:
        await ctx.bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
        await ctx.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except TelegramError as exc:
        log.info("The erased person could not be told: %s", type(exc).__name__)
