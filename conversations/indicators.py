"""📈 Indicateurs: the Annexe 2 figures of a site or of the whole Caf, period by period.

Managers see their own site; coordinators the whole Caf or any of its sites. One message,
edited in place: the period's figures against the previous period, « ◀️ / ▶️ » to move
between the Caf's reporting periods, « 📊 Graphiques » (three PNGs sent as photos),
« 📥 Excel » and « 📄 CSV » (sent as documents), and the transmission of the period
(Article 9): « ✅ Je valide et transmets » for managers, who validated and who is late for
coordinators. Every tap is authorised from the database: a manager reaches only their
site, a coordinator only their Caf's.

The use cases are bot/services/indicators.py and bot/services/transmission.py, the screens
bot/ui/screens/indicators.py.
"""

from __future__ import annotations

import logging

from telegram import InputFile, Message, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.context import Ctx
from bot.domain.models import Member
from bot.domain.permissions import Action
from bot.services import indicators, transmission
from bot.services.indicators import FileFormat
from bot.ui.callbacks import IndicatorTap, TransmitTap
from bot.ui.screens import Screen
from bot.ui.screens import indicators as screen
from bot.ui.screens.indicators import IndicatorOp, Scope, TransmitOp
from conversations.common import chat_id_of, edit, guarded, open_flow, send
from conversations.taps import TapTable

log = logging.getLogger(__name__)


# A tap naming a site, period or report out of this person's reach is a stale button.
OUT_OF_REACH = (indicators.OutOfReach, transmission.NotThisSite)
TAPS = TapTable(IndicatorTap, IndicatorOp, stale=OUT_OF_REACH)
TRANSMIT = TapTable(TransmitTap, TransmitOp, stale=OUT_OF_REACH)


async def _scope(ctx: Ctx, member: Member, partner: int, period: int) -> Scope:
    return await indicators.scope(ctx.db, member, partner, period, ctx.clock.now())


async def _in_reach(ctx: Ctx, member: Member, tap: IndicatorTap) -> None:
    """What a slow tap names, checked before the tap is answered « ⏳ Préparation… »."""
    await _scope(ctx, member, tap.partner, tap.period)


async def _summary(ctx: Ctx, member: Member, where: Scope) -> Screen:
    overview = await indicators.overview(ctx.db, member, where, ctx.clock.now())
    return screen.summary(overview, member.person.role)


@guarded
async def open_indicators(update: Update, ctx: Ctx) -> None:
    """The menu entry 📈 Indicateurs: one's site (or the Caf), the current period."""
    member = await open_flow(update, ctx, Action.INDICATORS)
    where = await indicators.home(ctx.db, member, ctx.clock.now())
    await send(ctx, chat_id_of(update), *await _summary(ctx, member, where))


@TAPS.on(IndicatorOp.VIEW, needs=Action.INDICATORS)
async def show(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> None:
    where = await _scope(ctx, member, tap.partner, tap.period)
    await edit(message, *await _summary(ctx, member, where))


@TAPS.on(IndicatorOp.SHOW, needs=Action.INDICATORS)
async def show_anew(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> None:
    """From a notice (a period to validate): a new message, the notice stays as it is."""
    where = await _scope(ctx, member, tap.partner, tap.period)
    await send(ctx, member.person.telegram_user_id or 0, *await _summary(ctx, member, where))


async def _working(ctx: Ctx, member: Member, action: ChatAction) -> None:
    """« envoie une photo… » in the chat's header while a file is made (a second or two in a
    child process); only a courtesy, so a refusal of it changes nothing."""
    try:
        await ctx.bot.send_chat_action(member.person.telegram_user_id or 0, action)
    except TelegramError as error:
        log.info("sendChatAction refusé : %s", error)


@TAPS.on(IndicatorOp.CHARTS, needs=Action.INDICATORS, slow=True, check=_in_reach)
async def charts(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> None:
    where = await _scope(ctx, member, tap.partner, tap.period)
    await _working(ctx, member, ChatAction.UPLOAD_PHOTO)
    pictures = await indicators.charts(ctx.db, member, where)
    for name, png in pictures:
        photo = InputFile(png, filename=f"{name}.png")
        await ctx.bot.send_photo(member.person.telegram_user_id or 0, photo=photo)


async def _send_file(ctx: Ctx, member: Member, tap: IndicatorTap, file_format: FileFormat) -> None:
    where = await _scope(ctx, member, tap.partner, tap.period)
    await _working(ctx, member, ChatAction.UPLOAD_DOCUMENT)
    file = await indicators.export_file(ctx.db, member, where, file_format, ctx.clock.now())
    await ctx.bot.send_document(
        member.person.telegram_user_id or 0,
        document=InputFile(file.content, filename=file.filename),
        caption=screen.export_caption(member.caf, where),
    )


@TAPS.on(IndicatorOp.XLSX, needs=Action.INDICATORS, slow=True, check=_in_reach)
async def workbook(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> None:
    await _send_file(ctx, member, tap, FileFormat.XLSX)


@TAPS.on(IndicatorOp.CSV, needs=Action.INDICATORS, slow=True, check=_in_reach)
async def table(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> None:
    await _send_file(ctx, member, tap, FileFormat.CSV)


@TAPS.on(IndicatorOp.SITES, needs=Action.INDICATORS)
async def sites(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> None:
    """The Caf's sites to choose from (coordinators; `partner` carries the page)."""
    where, found = await indicators.sites(ctx.db, member, tap.period, ctx.clock.now())
    await edit(message, *screen.sites(where.period, found, tap.partner))


@TAPS.on(IndicatorOp.TRANSMISSIONS, needs=Action.INDICATORS)
async def follow_up(ctx: Ctx, member: Member, tap: IndicatorTap, message: Message | None) -> None:
    """Who validated the period, who is waiting, who is late (coordinators; `partner`
    carries the page)."""
    now = ctx.clock.now()
    where, lines = await indicators.follow_up(ctx.db, member, tap.period, now)
    day = indicators.today(member, now)
    await edit(message, *screen.transmissions(where.period, lines, day, tap.partner))


@TRANSMIT.on(TransmitOp.OK, needs=Action.VALIDATE_PERIOD)
async def validate(ctx: Ctx, member: Member, tap: TransmitTap, message: Message | None) -> str:
    """« ✅ Je valide et transmets »: one manager of the site validates the period."""
    done = await transmission.validate(ctx.db, member, tap.report, ctx.clock.now())
    await edit(message, screen.validated(done, member.caf), None)
    return screen.validated_toast(done)
