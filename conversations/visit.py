"""📝 Nouvelle visite: logging a visit (Annexe 2) in one message, edited step by step.

Every tap carries (draft, revision). The draft lives in the database, so the next tap after a
restart continues it; a tap whose revision is not the draft's current one (a double tap, an
update redelivered after a crash) changes nothing and the current step is shown again. The
confirmation is sent only after the transaction that stored the visit has committed.

🗂 Mes visites (/mesvisites) lists one's visits of the last 7 days; a card's « ✏️ Modifier » is
the confirmation's own button (`SAVED_TAPS`); its « 🗑 » (`MY_TAPS`), a correction like ✏️, has
no time window and asks first.

The use cases are bot/services/visits.py, the screens and toasts bot/ui/screens/visit.py and
bot/ui/screens/my_visits.py. The draft's and the saved visit's tap tables answer each tap
before its message is edited (`TapTable.answering`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError

from bot.context import Ctx
from bot.domain.models import Member
from bot.domain.permissions import Action
from bot.domain.visit_log import DraftRecord, Expired, Gone, Shown
from bot.domain.visits import Op
from bot.services import visits
from bot.ui.callbacks import MyVisitsTap, SavedVisit, VisitStep
from bot.ui.screens import my_visits as listed
from bot.ui.screens import visit as screen
from bot.ui.screens.visit import MyVisitsOp, SavedOp
from conversations.common import chat_id_of, edit, guarded, open_flow, require, send
from conversations.taps import TapTable

# Both answer each tap themselves, before its message is edited: « Visite enregistrée ✅ »
# reaches the person even when the edit fails, and a tap that does not fit gets an alert.
TAPS = TapTable(VisitStep, Op, stale=(visits.NotYours,))
SAVED_TAPS = TapTable(SavedVisit, SavedOp, stale=(visits.NotYours,))
# 🗂 Mes visites: another's visit named by a tap is a stale button.
MY_TAPS = TapTable(MyVisitsTap, MyVisitsOp, stale=(visits.NotYours,))
# Every button of a step but those that end or replace the draft.
STEP_OPS = tuple(op for op in Op if op not in (Op.QUIT, Op.RESUME, Op.RESTART))


# ------------------------------------------------------------------------------ entry points
@guarded
async def new_visit(update: Update, ctx: Ctx) -> None:
    """The menu entry (and /visite): offers to resume an open draft, else starts one."""
    member = await require(update, ctx, Action.LOG_VISIT)
    chat_id = chat_id_of(update)
    if update.callback_query is not None:
        await update.callback_query.answer()
    now = ctx.clock.now()
    max_age = timedelta(hours=ctx.settings.draft_max_age_hours)
    opened = await visits.open_visit(ctx.db, member, chat_id=chat_id, now=now, max_age=max_age)
    if isinstance(opened, DraftRecord):
        await send(ctx, chat_id, *screen.resume_offer(opened, now, _tz(member)))
        return
    await _send_step(ctx, member, opened, now)


@guarded
async def toggle_training(update: Update, ctx: Ctx) -> None:
    """🎓 Mode formation: the next visits are exercises, counted nowhere (or no longer)."""
    member = await require(update, ctx, Action.LOG_VISIT)
    on = await visits.toggle_training(ctx.db, member)
    await send(ctx, chat_id_of(update), screen.training_mode(on))


async def resend_open_draft(update: Update, ctx: Ctx, member: Member) -> bool:
    """Typed text while a visit is open: show its current step again, below the text."""
    shown = await visits.open_draft_of(ctx.db, member, ctx.clock.now())
    if shown is None:
        return False
    await _retire(ctx, shown.record.chat_id, shown.record.message_id)
    await _send_step(ctx, member, shown, ctx.clock.now(), notice=screen.TYPED_NOTICE)
    return True


async def abandon_open_draft(update: Update, ctx: Ctx, member: Member) -> bool:
    """/annuler while a visit is open: it is abandoned, its message says so."""
    record = await visits.abandon_open(ctx.db, member, ctx.clock.now())
    if record is None:
        return False
    await _retire(ctx, record.chat_id, record.message_id, screen.abandoned_text())
    return True


# ------------------------------------------------------------------------------ a step's taps
@TAPS.answering(*STEP_OPS, needs=Action.LOG_VISIT)
async def on_step(ctx: Ctx, member: Member, tap: VisitStep, query: CallbackQuery) -> None:
    """An answer, ⬅️, ➕, 🕘 or 💾: the draft advances by one step, or the visit is saved."""
    now = ctx.clock.now()
    outcome = await visits.tap(
        ctx.db,
        member,
        tap.draft,
        revision=tap.revision,
        op=Op(tap.op),
        value=tap.value,
        message_id=_message_id(query),
        now=now,
    )
    await _answer(query, screen.reply(outcome, now, _tz(member), _undo_window(ctx)))


@TAPS.answering(Op.QUIT, needs=Action.LOG_VISIT)
async def on_quit(ctx: Ctx, member: Member, tap: VisitStep, query: CallbackQuery) -> None:
    """✖️ Abandonner (or ✖️ Annuler la modification)."""
    now = ctx.clock.now()
    outcome = await visits.abandon(
        ctx.db, member, tap.draft, revision=tap.revision, message_id=_message_id(query), now=now
    )
    await _answer(query, screen.reply(outcome, now, _tz(member), _undo_window(ctx)))


@TAPS.answering(Op.RESUME, needs=Action.LOG_VISIT)
async def on_resume(ctx: Ctx, member: Member, tap: VisitStep, query: CallbackQuery) -> None:
    """▶️ Reprendre: the draft moves to this message; the older one loses its buttons."""
    now = ctx.clock.now()
    outcome = await visits.resume(
        ctx.db, member, tap.draft, revision=tap.revision, message_id=_message_id(query), now=now
    )
    if isinstance(outcome, Expired):
        await _answer(query, screen.reply(outcome, now, _tz(member), _undo_window(ctx)))
        return
    await query.answer()
    await _retire(ctx, outcome.shown.record.chat_id, outcome.retired_message_id)
    await edit(_message(query), *screen.step(outcome.shown, now, _tz(member)))


@TAPS.answering(Op.RESTART, needs=Action.LOG_VISIT)
async def on_restart(ctx: Ctx, member: Member, tap: VisitStep, query: CallbackQuery) -> None:
    """📝 Recommencer à zéro: the open draft is abandoned and a fresh one sent."""
    now = ctx.clock.now()
    outcome = await visits.restart(ctx.db, member, tap.draft, revision=tap.revision, now=now)
    if isinstance(outcome, Expired):
        await _answer(query, screen.reply(outcome, now, _tz(member), _undo_window(ctx)))
        return
    await query.answer()
    await edit(_message(query), screen.abandoned_text(), None)
    await _send_step(ctx, member, outcome, now)


# ------------------------------------------------------------------------------ saved visits
@SAVED_TAPS.answering(SavedOp.UNDO, SavedOp.TRAINING_UNDO, needs=Action.LOG_VISIT)
async def on_undo(ctx: Ctx, member: Member, tap: SavedVisit, query: CallbackQuery) -> None:
    """↩️ Annuler cette visite, within the undo window."""
    window = _undo_window(ctx)
    outcome = await visits.undo(
        ctx.db,
        member,
        tap.visit,
        training=tap.op == SavedOp.TRAINING_UNDO,
        now=ctx.clock.now(),
        window=timedelta(seconds=window),
    )
    await _answer(query, screen.undo_reply(outcome, window))


@SAVED_TAPS.answering(SavedOp.EDIT, needs=Action.LOG_VISIT)
async def on_edit(ctx: Ctx, member: Member, tap: SavedVisit, query: CallbackQuery) -> None:
    """✏️ Modifier: the saved visit opens in its confirmation's message, section by section."""
    now = ctx.clock.now()
    message = _message(query)
    outcome = await visits.modify(
        ctx.db,
        member,
        tap.visit,
        chat_id=message.chat.id if message else None,
        message_id=message.message_id if message else None,
        now=now,
    )
    if isinstance(outcome, Gone):
        await _answer(query, screen.undo_reply(outcome, _undo_window(ctx)))
        return
    await query.answer()
    await edit(message, *screen.step(outcome, now, _tz(member)))


# ------------------------------------------------------------------------------ 🗂 Mes visites
@guarded
async def my_visits(update: Update, ctx: Ctx) -> None:
    """The menu entry (and /mesvisites): one's visits of the last 7 days, newest first."""
    member = await open_flow(update, ctx, Action.LOG_VISIT)
    listing = await visits.my_visits(ctx.db, member, ctx.clock.now())
    await send(ctx, chat_id_of(update), *listed.visit_list(listing, 0, _tz(member)))


@MY_TAPS.on(MyVisitsOp.LIST, needs=Action.LOG_VISIT)
async def show_list(ctx: Ctx, member: Member, tap: MyVisitsTap, message: Message | None) -> None:
    """A page of the list, or back to it from a card or a confirmation."""
    listing = await visits.my_visits(ctx.db, member, ctx.clock.now())
    await edit(message, *listed.visit_list(listing, tap.page, _tz(member)))


@MY_TAPS.answering(MyVisitsOp.OPEN, MyVisitsOp.TRAINING_OPEN, needs=Action.LOG_VISIT)
async def show_visit(ctx: Ctx, member: Member, tap: MyVisitsTap, query: CallbackQuery) -> None:
    """A visit's card (or back to it from « ⬅️ Non »), with ✏️ and 🗑."""
    now = ctx.clock.now()
    training = tap.op == MyVisitsOp.TRAINING_OPEN
    found = await visits.my_visit(ctx.db, member, tap.visit, training=training, now=now)
    await _answer(query, listed.opened(found, tap.page, now, _tz(member)))


@MY_TAPS.answering(MyVisitsOp.CANCEL, MyVisitsOp.TRAINING_CANCEL, needs=Action.LOG_VISIT)
async def ask_cancel(ctx: Ctx, member: Member, tap: MyVisitsTap, query: CallbackQuery) -> None:
    """🗑 Annuler la visite: « Annuler définitivement cette visite ? » in the card's message."""
    now = ctx.clock.now()
    training = tap.op == MyVisitsOp.TRAINING_CANCEL
    found = await visits.my_visit(ctx.db, member, tap.visit, training=training, now=now)
    await _answer(query, listed.asked(found, tap.page, now, _tz(member)))


@MY_TAPS.answering(
    MyVisitsOp.CONFIRM_CANCEL, MyVisitsOp.TRAINING_CONFIRM_CANCEL, needs=Action.LOG_VISIT
)
async def cancel_visit(ctx: Ctx, member: Member, tap: MyVisitsTap, query: CallbackQuery) -> None:
    """🗑 Oui, l'annuler: the visit goes, at any time while the list shows it; then the list."""
    training = tap.op == MyVisitsOp.TRAINING_CONFIRM_CANCEL
    done = await visits.cancel(ctx.db, member, tap.visit, training=training, now=ctx.clock.now())
    await _answer(query, listed.cancel_reply(done, tap.page, _tz(member)))


# ------------------------------------------------------------------------------ helpers
def _tz(member: Member) -> ZoneInfo:
    return member.caf.zone


def _undo_window(ctx: Ctx) -> int:
    return ctx.settings.undo_window_seconds


def _message(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None


def _message_id(query: CallbackQuery) -> int | None:
    message = _message(query)
    return message.message_id if message else None


async def _answer(query: CallbackQuery, reply: screen.Reply) -> None:
    """The toast first, then the message: what was done is told even if the edit fails."""
    await query.answer(reply.toast, show_alert=reply.alert)
    message = _message(query)
    if reply.screen is not None:
        await edit(message, *reply.screen)
    elif reply.keyboard is not None and message is not None:
        await message.edit_reply_markup(reply.keyboard)


async def _send_step(
    ctx: Ctx, member: Member, shown: Shown, now: datetime, *, notice: str | None = None
) -> None:
    """The draft's step in a new message, the one its buttons act in from now on."""
    text, markup = screen.step(shown, now, _tz(member), notice=notice)
    sent = await send(ctx, shown.record.chat_id, text, markup)
    await visits.shown_in(ctx.db, shown.record.id, sent.message_id)


async def _retire(ctx: Ctx, chat_id: int, message_id: int | None, text: str | None = None) -> None:
    """Takes the buttons off a draft's older message, so only one message is live."""
    if message_id is None:
        return
    try:
        if text is None:
            await ctx.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
        else:
            await ctx.bot.edit_message_text(text, chat_id, message_id, parse_mode="HTML")
    except TelegramError:
        pass  # best effort: the old message may be gone already
