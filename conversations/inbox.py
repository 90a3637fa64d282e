"""📥 Signalements (coordinators): the Caf's inbox of every signal from its sites.

Open items are listed oldest first, so those waiting longest lead; an item unacknowledged for
more than 3 working days is marked 🔴. The list filters by type and by site; the filters and
the page travel in every button (`InboxTap`), so a stale button still shows what it showed.
Each step — take charge, reply, close — is audit-logged and told to the reporter
(bot/services/signals.py); the screens are bot/ui/screens/inbox.py.
"""

from __future__ import annotations

from telegram import Message, Update

from bot.context import Ctx
from bot.domain import signals as rules
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action
from bot.domain.signals import Signal, SignalStatus
from bot.services import signals, trainings
from bot.ui.callbacks import BadCallback, InboxTap
from bot.ui.screens import Screen
from bot.ui.screens import inbox as screen
from bot.ui.screens import trainings as training_screen
from bot.ui.screens.inbox import InboxOp
from conversations.common import chat_id_of, edit, guarded, open_flow, require, send
from conversations.taps import TapTable
from conversations.text_input import TypedSteps, ask

TAPS = TapTable(InboxTap, InboxOp)
TYPED = TypedSteps()


async def _signal(ctx: Ctx, member: Member, signal_id: int) -> Signal:
    signal = await signals.of_caf(ctx.db, member.caf.id, signal_id)
    if signal is None:  # forged, or another Caf's
        raise BadCallback("not a signal of this Caf")
    return signal


async def _list(
    ctx: Ctx, member: Member, kind: str = screen.ALL, partner: int = 0, page: int = 0
) -> Screen:
    box = await signals.inbox(
        ctx.db, member.caf.id, kind=screen.kind_filter(kind), partner_id=partner, page=page
    )
    return screen.inbox(box, tz=member.caf.zone, now=ctx.clock.now())


async def _item(ctx: Ctx, member: Member, signal: Signal, tap: InboxTap | None = None) -> Screen:
    """The signal's card; « ⬅️ » goes back to the list the tap came from (unfiltered)."""
    view = await signals.view(ctx.db, signal)
    return screen.item(view, tz=member.caf.zone, now=ctx.clock.now(), back=tap)


@guarded
async def open_inbox(update: Update, ctx: Ctx) -> None:
    """The menu entry 📥 Signalements."""
    member = await open_flow(update, ctx, Action.INBOX)
    await send(ctx, chat_id_of(update), *await _list(ctx, member))


@TAPS.on(InboxOp.LIST, needs=Action.INBOX)
async def show_list(ctx: Ctx, member: Member, tap: InboxTap, message: Message | None) -> None:
    await edit(message, *await _list(ctx, member, tap.kind, tap.partner, tap.page))


@TAPS.on(InboxOp.KINDS, needs=Action.INBOX)
async def show_kinds(ctx: Ctx, member: Member, tap: InboxTap, message: Message | None) -> None:
    counts = await signals.open_counts(ctx.db, member.caf.id)
    await edit(message, *screen.kinds(counts, tap.partner))


@TAPS.on(InboxOp.SITES, needs=Action.INBOX)
async def show_sites(ctx: Ctx, member: Member, tap: InboxTap, message: Message | None) -> None:
    found = await signals.sites_with_open(ctx.db, member.caf.id)
    await edit(message, *screen.sites(found, tap.kind))


@TAPS.on(InboxOp.ITEM, needs=Action.INBOX)
async def show_item(ctx: Ctx, member: Member, tap: InboxTap, message: Message | None) -> None:
    await edit(message, *await _item(ctx, member, await _signal(ctx, member, tap.item), tap))


@TAPS.on(InboxOp.ACKNOWLEDGE, needs=Action.INBOX)
async def acknowledge(
    ctx: Ctx, member: Member, tap: InboxTap, message: Message | None
) -> str | None:
    signal = await _signal(ctx, member, tap.item)
    done = await signals.acknowledge(ctx.db, member, signal, ctx.clock.now())
    ctx.services.wake_outbox()
    await edit(message, *await _item(ctx, member, done.signal, tap))
    if done.refusal is not None:
        return done.refusal
    return screen.ACKNOWLEDGED if done.moved else screen.ALREADY_ACKNOWLEDGED


@TAPS.on(InboxOp.REPLY, needs=Action.INBOX)
@TAPS.on(InboxOp.RESOLVE, needs=Action.INBOX)
async def ask_text(ctx: Ctx, member: Member, tap: InboxTap, message: Message | None) -> str | None:
    """A reply or a closing note is typed next, and screened like any text."""
    signal = await _signal(ctx, member, tap.item)
    if signal.status is SignalStatus.RESOLVED:
        return screen.ALREADY_CLOSED
    op = InboxOp(tap.op)
    if op is InboxOp.RESOLVE and await trainings.blocks_closing(ctx.db, signal.id):
        return training_screen.TRAIN_FIRST  # recording the training closes it
    kind = "inbox_reply" if op is InboxOp.REPLY else "inbox_resolution"
    await ask(ctx, member, kind, {"signal": signal.id}, screen.ask_text(signal, op))
    return None


@TYPED.text("inbox_reply", max_length=rules.DESCRIPTION_MAX)
async def on_reply(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.INBOX)
    signal = await _signal(ctx, member, int(expected.context["signal"]))
    updated = await signals.reply(ctx.db, member, signal, text, ctx.clock.now())
    ctx.services.wake_outbox()
    if updated is None:
        await send(ctx, chat_id_of(update), screen.REPLY_TOO_LATE)
        return
    await send(ctx, chat_id_of(update), *screen.replied(await _item(ctx, member, updated)))


@TYPED.text("inbox_resolution", max_length=rules.NOTE_MAX)
async def on_resolution(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.INBOX)
    signal = await _signal(ctx, member, int(expected.context["signal"]))
    moved = await signals.resolve(ctx.db, member, signal, text, ctx.clock.now())
    ctx.services.wake_outbox()
    if not moved:
        await send(ctx, chat_id_of(update), screen.WAS_CLOSED)
        return
    await send(ctx, chat_id_of(update), *screen.resolved(signal.id, await _list(ctx, member)))
