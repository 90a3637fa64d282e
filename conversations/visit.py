"""📝 Nouvelle visite: logging a visit (Annexe 2) in one message, edited step by step.

Every tap carries (draft, revision). The draft lives in the database, so the next tap after a
restart continues it; a tap whose revision is not the draft's current one (a double tap, an
update redelivered after a crash) changes nothing and the current step is shown again. The
confirmation is sent only after the transaction that stored the visit has committed.
"""

from __future__ import annotations

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot.context import Ctx
from bot.domain.models import Member
from bot.domain.permissions import Action
from bot.domain.visits import (
    Draft,
    InvalidAnswer,
    Op,
    Step,
    new_draft,
    validate_complete,
    visit_time,
)
from bot.ui import callbacks, visit_view
from bot.ui.formatting import short_datetime_fr
from bot.ui.render import render
from bot.ui.visit_view import VisitScreen
from conversations.common import chat_id_of, edit, guarded, require, send
from storage import audit, period_reports
from storage import visits as store
from storage.visits import DraftRecord

FREQUENT_WINDOW = timedelta(days=30)
FREQUENT_CACHE_SECONDS = 300.0


# ------------------------------------------------------------------------------ entry points
@guarded
async def new_visit(update: Update, ctx: Ctx) -> None:
    """The menu entry (and /visite): offers to resume an open draft, else starts one."""
    member = await require(update, ctx, Action.LOG_VISIT)
    chat_id = chat_id_of(update)
    if update.callback_query is not None:
        await update.callback_query.answer()
    now = ctx.clock.now()
    record = await store.open_draft(ctx.db, member.person.id)
    max_age = timedelta(hours=ctx.settings.draft_max_age_hours)
    if (
        record is not None
        and record.partner_id == member.person.partner_id
        and (record.draft.profile_given or record.draft.editing)
        and now - record.updated_at < max_age
    ):
        await _offer_resume(ctx, chat_id, record, _tz(member))
        return
    await _start(ctx, member, chat_id)


async def _start(ctx: Ctx, member: Member, chat_id: int) -> None:
    assert member.person.partner_id is not None
    training = await store.training_mode(ctx.db, member.person.id)
    async with ctx.db.transaction(durable=False) as tx:  # a draft: progress, not a record
        record = await store.start_draft(
            tx,
            person_id=member.person.id,
            partner_id=member.person.partner_id,
            chat_id=chat_id,
            training=training,
            draft=new_draft(),
            now=ctx.clock.now(),
        )
    text, markup = await _screen(ctx, member, record)
    message = await send(ctx, chat_id, text, markup)
    async with ctx.db.transaction(durable=False) as tx:
        await store.set_message(tx, record.id, message.message_id)


async def _offer_resume(ctx: Ctx, chat_id: int, record: DraftRecord, tz: ZoneInfo) -> None:
    now = ctx.clock.now()
    text = render(
        "visit_resume",
        started=short_datetime_fr(record.created_at, tz, today=now.astimezone(tz).date()),
        lines=visit_view.summary_lines(record.draft.answers),
    )
    await send(ctx, chat_id, text, visit_view.resume_keyboard(record.id, record.revision))


@guarded
async def on_step(update: Update, ctx: Ctx) -> None:
    """A tap on a visit's step: parse, authorise, apply, store, render."""
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=callbacks.VisitStep)
    member = await require(update, ctx, Action.LOG_VISIT)
    record = await store.get_draft(ctx.db, tap.draft)
    if record is None or record.person_id != member.person.id:
        raise callbacks.BadCallback("not this person's draft")
    message = query.message if isinstance(query.message, Message) else None

    if tap.op in (Op.RESUME, Op.RESTART):
        await _resume_or_restart(query, ctx, member, record, tap, message)
        return
    if record.partner_id != member.person.partner_id:
        await _expired(query, message, "vous avez changé de site")
        return
    if record.message_id is None and message is not None:
        # The bot stopped between sending the step and noting its message: adopt it.
        await store.set_message(ctx.db, record.id, message.message_id)
        record = record.model_copy(update={"message_id": message.message_id})
    on_current_message = message is not None and message.message_id == record.message_id
    if not record.is_open:
        if on_current_message and record.status == "saved":
            await query.answer("Cette visite est déjà enregistrée ✅")
            await _confirm_again(ctx, member, record, message)
        else:
            await _expired(query, message, None)
        return
    if not on_current_message:
        await _expired(query, message, "une saisie plus récente est en cours")
        return
    if tap.revision != record.revision:
        await query.answer("Déjà pris en compte.")
        await _render(ctx, member, record, message)
        return
    if tap.op == Op.QUIT:
        await _quit(query, ctx, member, record, message)
        return
    await _advance(query, ctx, member, record, tap, message)


async def _advance(
    query: CallbackQuery,
    ctx: Ctx,
    member: Member,
    record: DraftRecord,
    tap: callbacks.VisitStep,
    message: Message | None,
) -> None:
    now = ctx.clock.now()
    tz = _tz(member)
    try:
        if tap.op == Op.SAVE:
            if not (record.draft.editing and record.draft.complete):
                raise InvalidAnswer("La visite n'est pas complète.")
            draft = record.draft
        else:
            previous = None
            if tap.op == Op.SAME_PROFILE:
                previous = await store.last_profile(
                    ctx.db, member.person.id, training=record.training
                )
            draft = record.draft.apply(
                tap.op, tap.value, previous_profile=previous, now_local=now.astimezone(tz)
            )
    except InvalidAnswer as invalid:
        await query.answer(str(invalid), show_alert=True)
        return
    if draft.step is Step.DONE or tap.op == Op.SAVE:
        await _save(query, ctx, member, record, draft, message)
        return
    # A step is progress, not a record: it need not wait for the disk (storage/db.py).
    async with ctx.db.transaction(durable=False) as tx:
        advanced = await store.advance(tx, record, draft, now)
    await query.answer(None if advanced else "Déjà pris en compte.")
    if advanced:  # what was just written; no need to read it back
        fresh = record.model_copy(update={"draft": draft, "revision": record.revision + 1})
    else:
        reread = await store.get_draft(ctx.db, record.id)
        assert reread is not None
        fresh = reread
    await _render(ctx, member, fresh, message)


async def _save(
    query: CallbackQuery,
    ctx: Ctx,
    member: Member,
    record: DraftRecord,
    draft: Draft,
    message: Message | None,
) -> None:
    answers = draft.answers
    validate_complete(answers)
    now = ctx.clock.now()
    tz = _tz(member)
    visited_at = visit_time(answers, now, tz)
    async with ctx.db.transaction() as tx:
        if record.editing_visit_id is not None:
            before = await store.get_visit(tx, record.editing_visit_id)
            saved = await store.replace_visit(tx, record, answers, visited_at=visited_at, now=now)
            visit_id = record.editing_visit_id if saved else None
            if saved:
                instants = [visited_at] + ([before.visited_at] if before else [])
                await period_reports.visits_changed(tx, record.partner_id, instants, now=now, tz=tz)
                await audit.record(
                    tx,
                    at=now,
                    action="visit.modified",
                    actor_id=member.person.id,
                    caf_id=member.caf.id,
                    target_type="visit",
                    target_id=visit_id,
                )
        else:
            visit_id = await store.save_visit(
                tx, record, answers, caf_id=member.caf.id, visited_at=visited_at, now=now
            )
            if visit_id is not None and not record.training:
                await period_reports.visits_changed(
                    tx, record.partner_id, [visited_at], now=now, tz=tz
                )
    if visit_id is None:
        await query.answer("Cette visite est déjà enregistrée ✅")
        return
    ctx.bot_data.get("frequent", {}).pop(record.partner_id, None)
    await query.answer("Visite enregistrée ✅" if not record.training else "Entraînement noté 🎓")
    # The confirmation shows what was stored, read back after the commit.
    load = store.get_training_visit if record.training else store.get_visit
    stored = await load(ctx.db, visit_id)
    assert stored is not None
    await _show_saved(message, ctx, member, stored, modified=record.editing_visit_id is not None)


async def _confirm_again(
    ctx: Ctx, member: Member, record: DraftRecord, message: Message | None
) -> None:
    """The last step tapped again after its visit was saved: the confirmation had not been
    shown (the bot stopped, or Telegram failed, between the commit and the reply), so the
    message still offered the answers. Show it now, with its undo and modify buttons."""
    visit_id = record.editing_visit_id or await store.visit_of_draft(
        ctx.db, record.id, training=record.training
    )
    load = store.get_training_visit if record.training else store.get_visit
    visit = await load(ctx.db, visit_id) if visit_id is not None else None
    if visit is not None:
        await _show_saved(message, ctx, member, visit, modified=record.editing_visit_id is not None)


async def _quit(
    query: CallbackQuery, ctx: Ctx, member: Member, record: DraftRecord, message: Message | None
) -> None:
    async with ctx.db.transaction() as tx:
        closed = await store.close_draft(tx, record, "abandoned", ctx.clock.now())
    await query.answer("Saisie abandonnée." if closed else None)
    if record.editing_visit_id is not None:
        # Leaving a modification: the visit stays as it was saved; show it again.
        visit = await store.get_visit(ctx.db, record.editing_visit_id)
        if visit is not None:
            await _show_saved(message, ctx, member, visit, modified=False, unchanged=True)
            return
    await edit(message, render("visit_abandoned"), visit_view.fresh_visit_keyboard())


async def _resume_or_restart(
    query: CallbackQuery,
    ctx: Ctx,
    member: Member,
    record: DraftRecord,
    tap: callbacks.VisitStep,
    message: Message | None,
) -> None:
    if not record.is_open or tap.revision != record.revision:
        await _expired(query, message, None)
        return
    await query.answer()
    if tap.op == Op.RESTART:
        await store.abandon_open(ctx.db, member.person.id, ctx.clock.now())
        await edit(message, render("visit_abandoned"), None)
        await _start(ctx, member, record.chat_id)
        return
    # Resume: this message becomes the draft's message; the older one loses its buttons.
    await _retire_message(ctx, record)
    if message is not None:
        await store.set_message(ctx.db, record.id, message.message_id)
        record = record.model_copy(update={"message_id": message.message_id})
    await _render(ctx, member, record, message)


async def _show_saved(
    message: Message | None,
    ctx: Ctx,
    member: Member,
    visit: store.VisitRecord,
    *,
    modified: bool,
    unchanged: bool = False,
) -> None:
    """The confirmation: the visit's summary, with undo while the window is open."""
    now = ctx.clock.now()
    tz = _tz(member)
    window = ctx.settings.undo_window_seconds
    can_undo = window > 0 and (now - visit.created_at).total_seconds() < window
    text = render(
        "visit_saved",
        training=visit.training,
        modified=modified,
        unchanged=unchanged,
        when=short_datetime_fr(visit.visited_at, tz, today=now.astimezone(tz).date()),
        lines=visit_view.summary_lines(visit.answers),
        undo_minutes=window // 60 if can_undo and not modified and not unchanged else 0,
    )
    markup = visit_view.saved_keyboard(visit.id, training=visit.training, can_undo=can_undo)
    await edit(message, text, markup)


# ------------------------------------------------------------------------------ saved visits
@guarded
async def on_saved(update: Update, ctx: Ctx) -> None:
    """Under a confirmation: ↩️ undo (within the window) or ✏️ modify (in place)."""
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=callbacks.SavedVisit)
    if tap.op not in ("undo", "tundo", "edit"):
        raise callbacks.BadCallback("unknown op")
    member = await require(update, ctx, Action.LOG_VISIT)
    training = tap.op == "tundo"
    visit = await (store.get_training_visit if training else store.get_visit)(ctx.db, tap.visit)
    message = query.message if isinstance(query.message, Message) else None
    if visit is None:
        await query.answer("Cette visite a déjà été annulée.", show_alert=True)
        return
    if visit.person_id != member.person.id:
        raise callbacks.BadCallback("not this person's visit")
    now = ctx.clock.now()
    if tap.op == "edit":
        await _open_edit(query, ctx, member, visit, message)
        return
    window = timedelta(seconds=ctx.settings.undo_window_seconds)
    if now - visit.created_at > window:
        minutes = ctx.settings.undo_window_seconds // 60
        await query.answer(
            f"Trop tard pour annuler : le délai de {minutes} min est passé. "
            "Utilisez « ✏️ Modifier » pour corriger la visite.",
            show_alert=True,
        )
        if message is not None:
            await message.edit_reply_markup(
                visit_view.saved_keyboard(visit.id, training=training, can_undo=False)
            )
        return
    async with ctx.db.transaction() as tx:
        deleted = await store.delete_visit(tx, visit.id, training=training)
        if deleted and not training:
            await period_reports.visits_changed(
                tx, visit.partner_id, [visit.visited_at], now=now, tz=_tz(member)
            )
            await audit.record(
                tx,
                at=now,
                action="visit.cancelled",
                actor_id=member.person.id,
                caf_id=member.caf.id,
                target_type="visit",
                target_id=visit.id,
            )
    await query.answer("Visite annulée." if deleted else "Cette visite a déjà été annulée.")
    await edit(message, render("visit_undone"), visit_view.fresh_visit_keyboard())


async def _open_edit(
    query: CallbackQuery,
    ctx: Ctx,
    member: Member,
    visit: store.VisitRecord,
    message: Message | None,
) -> None:
    if member.person.partner_id is None or message is None:
        raise callbacks.BadCallback("no site")
    answers = visit.answers.model_copy(update={"fixed_at": visit.visited_at})
    async with ctx.db.transaction() as tx:
        record = await store.start_draft(
            tx,
            person_id=member.person.id,
            partner_id=visit.partner_id,
            chat_id=message.chat.id,
            training=False,
            draft=new_draft(editing_from=answers),
            now=ctx.clock.now(),
            editing_visit_id=visit.id,
        )
        await store.set_message(tx, record.id, message.message_id)
    await query.answer()
    record = record.model_copy(update={"message_id": message.message_id})
    await _render(ctx, member, record, message)


# ------------------------------------------------------------------------------ other entries
@guarded
async def toggle_training(update: Update, ctx: Ctx) -> None:
    member = await require(update, ctx, Action.LOG_VISIT)
    on = not await store.training_mode(ctx.db, member.person.id)
    await store.set_training_mode(ctx.db, member.person.id, on)
    await send(ctx, chat_id_of(update), render("training_mode", on=on))


async def resend_open_draft(update: Update, ctx: Ctx, member: Member) -> bool:
    """Typed text while a visit is open: show its current step again, below the text."""
    record = await store.open_draft(ctx.db, member.person.id)
    if record is None or record.partner_id != member.person.partner_id:
        return False
    await _retire_message(ctx, record)
    text, markup = await _screen(
        ctx,
        member,
        record,
        notice="Pas besoin d'écrire : répondez avec les boutons. Rien n'est noté de ce texte.",
    )
    sent = await send(ctx, record.chat_id, text, markup)
    await store.set_message(ctx.db, record.id, sent.message_id)
    return True


async def abandon_open_draft(update: Update, ctx: Ctx, member: Member) -> bool:
    record = await store.open_draft(ctx.db, member.person.id)
    if record is None:
        return False
    await store.abandon_open(ctx.db, member.person.id, ctx.clock.now())
    await _retire_message(ctx, record, render("visit_abandoned"))
    return True


# ------------------------------------------------------------------------------ rendering
def _tz(member: Member) -> ZoneInfo:
    return ZoneInfo(member.caf.timezone)


async def _screen(
    ctx: Ctx, member: Member, record: DraftRecord, *, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    step = record.draft.step
    has_previous = False
    if step is Step.SEXE:
        has_previous = (
            await store.last_profile(ctx.db, member.person.id, training=record.training) is not None
        )
    frequent: tuple[str, ...] = ()
    if step is Step.DEMANDE:
        frequent = await _frequent(ctx, record.partner_id)
    screen = VisitScreen(
        draft_id=record.id,
        revision=record.revision,
        draft=record.draft,
        training=record.training,
        now=ctx.clock.now(),
        tz=_tz(member),
        has_previous_profile=has_previous,
        frequent=frequent,
    )
    return visit_view.step_text(screen, notice=notice), visit_view.keyboard(screen)


async def _render(ctx: Ctx, member: Member, record: DraftRecord, message: Message | None) -> None:
    text, markup = await _screen(ctx, member, record)
    await edit(message, text, markup)


async def _frequent(ctx: Ctx, partner_id: int) -> tuple[str, ...]:
    """The site's top requests, cached a few minutes: they change slowly."""
    cache: dict[int, tuple[float, tuple[str, ...]]] = ctx.bot_data.setdefault("frequent", {})
    cached = cache.get(partner_id)
    if cached is not None and time.monotonic() - cached[0] < FREQUENT_CACHE_SECONDS:
        return cached[1]
    since = ctx.clock.now() - FREQUENT_WINDOW
    codes = tuple(await store.frequent_requests(ctx.db, partner_id, since))
    cache[partner_id] = (time.monotonic(), codes)
    return codes


async def _expired(query: CallbackQuery, message: Message | None, reason: str | None) -> None:
    await query.answer("Ce menu a expiré.")
    await edit(message, render("visit_expired", reason=reason), visit_view.fresh_visit_keyboard())


async def _retire_message(ctx: Ctx, record: DraftRecord, text: str | None = None) -> None:
    """Takes the buttons off a draft's older message, so only one message is live."""
    if record.message_id is None:
        return
    try:
        if text is None:
            await ctx.bot.edit_message_reply_markup(
                record.chat_id, record.message_id, reply_markup=None
            )
        else:
            await ctx.bot.edit_message_text(
                text, record.chat_id, record.message_id, parse_mode="HTML"
            )
    except TelegramError:
        pass  # best effort: the old message may be gone already
