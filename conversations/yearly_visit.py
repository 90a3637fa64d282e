"""🏛 Visite annuelle (coordinators): the outcome of the Caf's yearly visit to a site and its
action plan (convention, Article 9).

From a site's card, the coordinator sees the last visits and the open action items (🔴 when
overdue), marks an item done, or records a visit: its date, the checklist's points one by one
(bot/domain/site_reviews.py CHECKS), remarks, then the action plan (an item proposed for each
point found wanting), item by item, in one message edited in place, with a back button on
every step. The answers live in `review_drafts` (a restart loses nothing) and every button of
the wizard carries the draft's revision, so a double tap or an old message's button changes
nothing. Saving writes the visit, its items, an audit entry and the notices to the site's
managers in one transaction, and empties the draft: it happens once.

The use cases are bot/services/site_reviews.py, the screens bot/ui/screens/yearly_visit.py.
Typed answers (the date, remarks, an item's description and due date) go through
`conversations.text_input`, which screens them for identifiers before anything stores them.
A text typed where a button is expected gets the step again, with a word on the buttons.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import Message, Update

from bot.context import Ctx
from bot.domain import site_reviews as rules
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action
from bot.domain.site_reviews import ReviewError, Step
from bot.services import site_reviews as reviews
from bot.services.network import NotTheirs
from bot.ui.callbacks import ReviewTap
from bot.ui.screens import yearly_visit as screen
from bot.ui.screens.yearly_visit import ReviewOp
from conversations.common import chat_id_of, edit, require, send
from conversations.taps import TapTable, toast
from conversations.text_input import TypedSteps

ACTION = Action.MANAGE_NETWORK


#: The wizard's buttons that move the draft on: how each reads its value.
MOVES: dict[ReviewOp, Callable[[int], reviews.Move]] = {
    ReviewOp.DAY: reviews.pick_day,
    ReviewOp.CHECK: reviews.answer_check,
    ReviewOp.SKIP: reviews.skip_remarks,
    ReviewOp.ADD: reviews.add_item,
    ReviewOp.OWNER: reviews.pick_owner,
    ReviewOp.DUE: reviews.pick_due,
    ReviewOp.REMOVE: reviews.remove_item,
}


async def _finished(
    ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None, error: reviews.Finished
) -> str:
    """A button of a visit saved or abandoned since: the site's screen."""
    await edit(message, *screen.home(error.home))
    return screen.finished_toast(error.saved)


async def _outdated(
    ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None, error: reviews.Outdated
) -> str:
    """A button of an earlier step: the visit's current step."""
    await edit(message, *screen.step(error.step))
    return screen.OUTDATED


# Forged or foreign ids are a stale button; a refused answer is told in the toast.
TAPS = TapTable(
    ReviewTap,
    ReviewOp,
    stale=(NotTheirs, reviews.Forged),
    refusals={
        reviews.Finished: _finished,
        reviews.Outdated: _outdated,
        ReviewError: toast(screen.refused_toast),
    },
)
TYPED = TypedSteps(stale=(NotTheirs,))


# ------------------------------------------------------------------------------ the site
@TAPS.on(ReviewOp.HOME, needs=ACTION)
async def show_home(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> None:
    """The site's visits and plan (from its card, or back from the wizard)."""
    await edit(message, *screen.home(await reviews.home(ctx.db, member, tap.item, ctx.clock.now())))


@TAPS.on(ReviewOp.DONE, needs=ACTION)
async def mark_done(
    ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None
) -> str | None:
    """« ✅ n. » asks; « ✅ Oui, c'est fait » (value 1) marks the item done."""
    result = await reviews.mark_done(
        ctx.db, member, tap.item, confirmed=tap.value == 1, now=ctx.clock.now()
    )
    if result.outcome is reviews.DoneOutcome.DONE:
        ctx.services.wake_outbox()
    await edit(message, *screen.item_done(result))
    return screen.done_toast(result)


# ------------------------------------------------------------------------------ the wizard
@TAPS.on(ReviewOp.NEW, needs=ACTION)
async def start(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    started = await reviews.start(ctx.db, member, tap.item, ctx.clock.now())
    await edit(message, *screen.step(started.step))
    return screen.started_toast(started)


@TAPS.on(ReviewOp.DAY, needs=ACTION)
@TAPS.on(ReviewOp.CHECK, needs=ACTION)
@TAPS.on(ReviewOp.SKIP, needs=ACTION)
@TAPS.on(ReviewOp.ADD, needs=ACTION)
@TAPS.on(ReviewOp.OWNER, needs=ACTION)
@TAPS.on(ReviewOp.DUE, needs=ACTION)
@TAPS.on(ReviewOp.REMOVE, needs=ACTION)
async def move_on(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    """A button of the current step: the draft moves on and the next step shows."""
    op = ReviewOp(tap.op)
    change = MOVES[op](tap.value)  # a value no button carries is refused before any read
    step = await reviews.move(ctx.db, member, tap.item, change, ctx.clock.now())
    await edit(message, *screen.step(step))
    return screen.moved_toast(op)


@TAPS.on(ReviewOp.BACK, needs=ACTION)
async def back(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> None:
    """The previous step; from the date, the site's screen (the visit kept to resume)."""
    await edit(
        message, *screen.shown(await reviews.back(ctx.db, member, tap.item, ctx.clock.now()))
    )


@TAPS.on(ReviewOp.STEP, needs=ACTION)
async def show_step(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> None:
    step = await reviews.current_step(ctx.db, member, tap.item, ctx.clock.now())
    await edit(message, *screen.step(step))


@TAPS.on(ReviewOp.DROP, needs=ACTION)
async def drop(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    """« ✖️ Abandonner » asks; « Oui, abandonner » (value 1) drops the visit."""
    result = await reviews.drop(
        ctx.db, member, tap.item, confirmed=tap.value == 1, now=ctx.clock.now()
    )
    await edit(message, *screen.dropped(result))
    return screen.dropped_toast(result)


@TAPS.on(ReviewOp.SAVE, needs=ACTION)
async def save(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str:
    saved = await reviews.save(ctx.db, member, tap.item, ctx.clock.now())
    ctx.services.wake_outbox()
    await edit(message, *screen.saved(saved))
    return screen.SAVED


# ------------------------------------------------------------------------------ typed answers
async def on_typed(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """A typed answer (screened already by text_input) at the draft's current step."""
    member = await require(update, ctx, ACTION)
    chat_id = chat_id_of(update)
    try:
        answered = await reviews.answer(ctx.db, member, text, ctx.clock.now())
    except ReviewError as error:
        await send(ctx, chat_id, screen.typed_refused(error))
        return
    if answered is None:
        await send(ctx, chat_id, screen.no_draft())
        return
    await send(ctx, chat_id, *screen.answered(answered))


# The same handler for every step; the kind sets the length allowed before screening.
TYPED.text(reviews.TYPED_KINDS[Step.DATE], max_length=60)(on_typed)
TYPED.text(reviews.TYPED_KINDS[Step.REMARKS], max_length=rules.REMARKS_MAX)(on_typed)
TYPED.text(reviews.TYPED_KINDS[Step.ITEM_TEXT], max_length=rules.DESCRIPTION_MAX)(on_typed)
TYPED.text(reviews.TYPED_KINDS[Step.ITEM_DUE], max_length=60)(on_typed)
# Any text where a button is expected gets the step again (Telegram's own limit: 4096).
TYPED.text(reviews.BUTTONS_KIND, max_length=4096)(on_typed)
