"""📄 Dénoncer la convention (Article 11): a site's notice of termination, given by a
coordinator from the site's card or by a manager from 👥 Mon équipe, and withdrawn before it
takes effect.

The use cases are bot/services/termination.py, the screens bot/ui/screens/termination.py.
A site out of the member's reach is answered like a stale button.
"""

from __future__ import annotations

from datetime import date

from telegram import Message, Update

from bot.context import Ctx
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action
from bot.domain.termination import TerminationDateError
from bot.services import termination
from bot.services.network import NotTheirs
from bot.services.termination import NotTerminable, TerminationView
from bot.ui.callbacks import TerminationTap
from bot.ui.screens import Screen
from bot.ui.screens import termination as screen
from bot.ui.screens.termination import TerminationOp
from conversations.common import chat_id_of, edit, require, send
from conversations.taps import TapTable, toast
from conversations.text_input import TypedSteps, ask

TAPS = TapTable(
    TerminationTap,
    TerminationOp,
    stale=(NotTheirs,),
    refusals={NotTerminable: toast(lambda refused: screen.WHY[refused.why.value])},
)
TYPED = TypedSteps(stale=(NotTheirs,))
# Coordinators for the Caf, a site's managers for the partner.
EITHER_PARTY = (Action.MANAGE_NETWORK, Action.MANAGE_SITE_AGENTS)


def _shown(member: Member, found: TerminationView, above: str = "") -> Screen:
    return screen.card(
        found.partner,
        found.standing,
        found.allowed,
        member.caf.zone,
        by_coordinator=found.by_coordinator,
        above=above,
    )


def _action(found: TerminationView) -> Action:
    return Action.MANAGE_NETWORK if found.by_coordinator else Action.MANAGE_SITE_AGENTS


@TAPS.on(TerminationOp.SHOW, needs=EITHER_PARTY)
async def show(ctx: Ctx, member: Member, tap: TerminationTap, message: Message | None) -> None:
    """📄 Dénoncer la convention: the convention and its standing notice, if any."""
    found = await termination.view(ctx.db, member, tap.partner, ctx.clock.now())
    await edit(message, *_shown(member, found))


@TAPS.on(TerminationOp.NEW, needs=EITHER_PARTY)
async def ask_date(ctx: Ctx, member: Member, tap: TerminationTap, message: Message | None) -> None:
    """✍️ Enregistrer une dénonciation: the effective date is typed (`on_date`)."""
    found = await termination.terminable(ctx.db, member, tap.partner, ctx.clock.now())
    context: dict[str, object] = {"partner": found.partner.id, "action": _action(found).value}
    prompt = screen.date_prompt(found.partner, found.allowed, by_coordinator=found.by_coordinator)
    await ask(ctx, member, "termination_date", context, prompt)


@TAPS.on(TerminationOp.ASK_WITHDRAW, needs=EITHER_PARTY)
async def ask_withdraw(
    ctx: Ctx, member: Member, tap: TerminationTap, message: Message | None
) -> None:
    """↩️ Retirer la dénonciation: confirmed first."""
    found, standing = await termination.withdrawable(
        ctx.db, member, tap.partner, tap.item, ctx.clock.now()
    )
    await edit(message, *screen.withdraw_confirm(found.partner, standing.id, standing.effective_on))


@TAPS.on(TerminationOp.WITHDRAW, needs=EITHER_PARTY)
async def withdraw(ctx: Ctx, member: Member, tap: TerminationTap, message: Message | None) -> str:
    """« Oui, retirer la dénonciation »: withdrawn, audited, both sides told."""
    found = await termination.withdraw(ctx.db, member, tap.partner, tap.item, ctx.clock.now())
    ctx.services.wake_outbox()
    await edit(message, *_shown(member, found))
    return screen.WITHDRAWN


# ------------------------------------------------------------------------------ typed answers
@TYPED.text("termination_date", max_length=100)
async def on_date(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, typed: str
) -> None:
    """The effective date: refused with the earliest allowed one, or the reason is asked."""
    member = await require(update, ctx, Action(str(expected.context["action"])))
    partner_id = int(expected.context["partner"])
    try:
        effective_on = await termination.check_date(
            ctx.db, member, partner_id, typed, ctx.clock.now()
        )
    except TerminationDateError as error:  # the question stands: type it again
        await send(ctx, chat_id_of(update), screen.date_problem(error))
        return
    except NotTerminable as refused:
        await send(ctx, chat_id_of(update), screen.WHY[refused.why.value])
        return
    found = await termination.view(ctx.db, member, partner_id, ctx.clock.now())
    context = {**expected.context, "effective_on": effective_on.isoformat()}
    await ask(
        ctx,
        member,
        "termination_reason",
        context,
        screen.reason_prompt(found.partner, effective_on),
    )


@TYPED.text("termination_reason", max_length=500)
async def on_reason(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, reason: str
) -> None:
    """The reason: the notice is recorded and the other party told."""
    member = await require(update, ctx, Action(str(expected.context["action"])))
    partner_id = int(expected.context["partner"])
    effective_on = date.fromisoformat(str(expected.context["effective_on"]))
    try:
        found = await termination.record(
            ctx.db,
            member,
            partner_id,
            effective_on,
            reason,
            ctx.clock.now(),
            hour=ctx.settings.notify_hour,
        )
    except TerminationDateError as error:  # a day passed: the date is asked again
        await send(ctx, chat_id_of(update), screen.date_problem(error))
        return
    except NotTerminable as refused:  # a colleague was quicker
        await send(ctx, chat_id_of(update), screen.WHY[refused.why.value])
        return
    ctx.services.wake_outbox()
    await send(ctx, chat_id_of(update), *_shown(member, found, screen.RECORDED))
