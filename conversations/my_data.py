"""/mesdonnees (everyone registered, revoked people and withdrawn sites included) and the
erasure of a person by a coordinator of their Caf.

/mesdonnees shows a summary of what the bot holds about the person and « 📥 Télécharger »
sends all of it as a JSON file made on the spot and kept nowhere. A stranger is told the bot
holds nothing about them, but for the wrong invitation codes their account sent lately.

Erasure: from the person card (🏢 Réseau), confirmed, audit-logged; storage/personal_data.py
says what it does to each table. The person is told once, directly (an outbox row would keep
their chat id), and becomes a stranger to the bot.
"""

from __future__ import annotations

import json
import logging
from zoneinfo import ZoneInfo

from telegram import (
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.context import Ctx
from bot.domain.models import Member
from bot.domain.permissions import Action, decide
from bot.domain.personal_data import erased_name
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, NetworkTap, PersonalDataTap
from bot.ui.render import render
from conversations.common import Refused, chat_id_of, current_member, edit, guarded, require, send
from storage import audit, people, personal_data
from storage import invitations as invitation_store

log = logging.getLogger(__name__)


def _button(label: str, payload: callbacks.Callback) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(payload))


# ------------------------------------------------------------------------------ /mesdonnees
@guarded
async def show(update: Update, ctx: Ctx) -> None:
    """/mesdonnees: the summary, with « 📥 Télécharger »."""
    chat_id = chat_id_of(update)
    member = await current_member(update, ctx)
    if member is None:
        user = update.effective_user
        failures = await invitation_store.failures_of(ctx.db, user.id) if user else []
        await send(
            ctx,
            chat_id,
            render(
                "mydata_stranger",
                failures=failures,
                tz=ctx.settings.tz,
                refusal="stranger",
            ),
        )
        return
    refusal = decide(member.actor, Action.MY_DATA)
    if refusal is not None:
        raise Refused(refusal, member)
    async with ctx.db.report_read() as conn:
        summary = await personal_data.summary(conn, member.person.id)
    assert summary is not None
    text = render(
        "mydata_summary",
        member=member,
        summary=summary,
        tz=ZoneInfo(member.caf.timezone),
        months=ctx.settings.retention_months,
    )
    markup = InlineKeyboardMarkup([[_button("📥 Télécharger", PersonalDataTap("dl", 0, 0))]])
    await send(ctx, chat_id, text, markup)


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=PersonalDataTap)
    message = query.message if isinstance(query.message, Message) else None
    if tap.op == "dl" and tap.person == 0 and tap.step == 0:
        await _download(update, ctx, query)
    elif tap.op == "erase" and tap.step in (0, 1):
        await _erase(update, ctx, query, tap, message)
    else:
        raise BadCallback("unknown personal-data tap")


async def _download(update: Update, ctx: Ctx, query: CallbackQuery) -> None:
    """The whole export as a JSON document: generated for this tap, stored nowhere."""
    member = await require(update, ctx, Action.MY_DATA)
    now = ctx.clock.now()
    async with ctx.db.report_read() as conn:
        data = await personal_data.export(conn, member.person.id)
    assert data is not None
    document = {
        "document": "Vos données dans l'assistant des Points numériques Caf",
        "genere_le": now.isoformat(timespec="seconds"),
        "explication": render("mydata_json_note", months=ctx.settings.retention_months),
        **data,
    }
    content = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    day = now.astimezone(ZoneInfo(member.caf.timezone)).date()
    await query.answer()
    await ctx.bot.send_document(
        chat_id_of(update),
        InputFile(content, filename=f"mes-donnees-{day.isoformat()}.json"),
        caption=render("mydata_file", day=day),
        parse_mode=ParseMode.HTML,
    )


# ------------------------------------------------------------------------------ erasure
async def _erase(
    update: Update,
    ctx: Ctx,
    query: CallbackQuery,
    tap: PersonalDataTap,
    message: Message | None,
) -> None:
    """A coordinator erases a person of their own Caf (never themselves), after confirming."""
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    person = await people.get(ctx.db, tap.person)
    if person is None or person.caf_id != member.caf.id or person.id == member.person.id:
        raise BadCallback("not a person this coordinator may erase")
    back = _button(
        "⬅️ Retour",
        NetworkTap("people", person.partner_id, 0)
        if person.partner_id
        else NetworkTap("coords", 0, 0),
    )
    if person.telegram_user_id is None:
        await query.answer(render("erase_already"))
        return
    if tap.step == 0:
        rows = [
            [_button("🗑 Oui, effacer définitivement", PersonalDataTap("erase", person.id, 1))],
            [_button("✖️ Non", NetworkTap("person", person.id, 0))],
        ]
        await query.answer()
        await edit(message, render("erase_confirm", person=person), InlineKeyboardMarkup(rows))
        return
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        erased = await personal_data.erase(tx, person.id, now)
        if erased:
            await audit.record(
                tx,
                at=now,
                action="person.erased",
                actor_id=member.person.id,
                caf_id=member.caf.id,
                target_type="person",
                target_id=person.id,
                details={"role": person.role.value},
            )
    if erased:
        await _tell_the_erased(ctx, person.telegram_user_id, member)
    await query.answer(render("erase_already") if not erased else "Données effacées.")
    await edit(
        message,
        render("erase_done", name=erased_name(person.id), role=person.role),
        InlineKeyboardMarkup([[back]]),
    )


async def _tell_the_erased(ctx: Ctx, chat_id: int, member: Member) -> None:
    """Once, directly: no outbox row may keep the chat id of someone just erased. Their
    command list goes back to a stranger's. Both are courtesies: a blocked bot is fine."""
    try:
        await ctx.bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
        await ctx.bot.send_message(
            chat_id,
            render("erase_notice", caf=member.caf),
            parse_mode=ParseMode.HTML,
            reply_markup=ReplyKeyboardRemove(),
        )
    except TelegramError as exc:
        log.info("The erased person could not be told: %s", type(exc).__name__)
