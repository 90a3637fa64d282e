"""🎓 Formations (coordinators): a person's training history, reached from their card in
🏢 Réseau, and a training recorded by hand: its title, then its date, typed.

The use cases are bot/services/trainings.py, the screens bot/ui/screens/trainings.py. A
person out of the coordinator's Caf is answered like a stale button.
"""

from __future__ import annotations

from telegram import InputFile, Message, Update
from telegram.constants import ParseMode

from bot.context import Ctx
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action
from bot.domain.trainings import TITLE_MAX, TrainingDateError
from bot.services import trainings
from bot.ui.callbacks import BadCallback, FormationTap
from bot.ui.screens import trainings as screen
from bot.ui.screens.trainings import FormationOp
from conversations.common import chat_id_of, edit, require, send
from conversations.taps import TapTable
from conversations.text_input import TypedSteps, ask

TAPS = TapTable(FormationTap, FormationOp, stale=(trainings.UnknownPerson,))
TYPED = TypedSteps()


async def _history(ctx: Ctx, member: Member, person_id: int) -> trainings.History:
    try:
        return await trainings.history(ctx.db, member, person_id)
    except trainings.UnknownPerson:
        raise BadCallback("not a site person of this Caf") from None


@TAPS.on(FormationOp.LIST, needs=Action.MANAGE_NETWORK)
async def show_history(
    ctx: Ctx, member: Member, tap: FormationTap, message: Message | None
) -> None:
    """« 🎓 Formations » on a person's card: their trainings, latest first."""
    found = await trainings.history(ctx.db, member, tap.person)
    await edit(message, *screen.history(found.person, found.trainings, tap.page, member.caf.zone))


@TAPS.on(FormationOp.ADD, needs=Action.MANAGE_NETWORK)
async def ask_title(ctx: Ctx, member: Member, tap: FormationTap, message: Message | None) -> None:
    """« ➕ Ajouter une formation »: its title is typed next."""
    found = await trainings.history(ctx.db, member, tap.person)
    await ask(
        ctx, member, "training_title", {"person": found.person.id}, screen.ask_title(found.person)
    )


@TAPS.on(FormationOp.EXPORT, needs=Action.MANAGE_NETWORK, slow=True)
async def export(ctx: Ctx, member: Member, tap: FormationTap, message: Message | None) -> None:
    """« 📤 Exporter les formations de la Caf »: the CSV file, sent; the screen stays."""
    made = await trainings.export_file(ctx.db, member, tap.person, ctx.clock.now())
    await ctx.bot.send_document(
        member.person.telegram_user_id or 0,
        InputFile(made.content, filename=made.filename),
        caption=screen.export_caption(made.rows),
        parse_mode=ParseMode.HTML,
    )


@TAPS.on(FormationOp.REMOVE_ASK, needs=Action.MANAGE_NETWORK)
async def ask_removal(ctx: Ctx, member: Member, tap: FormationTap, message: Message | None) -> None:
    """« 🗑 <date> — <titre> » on a line recorded by hand: confirm first."""
    found = await trainings.history(ctx.db, member, tap.person)
    line = next((t for t in found.trainings if t.id == tap.training and t.by_hand), None)
    if line is None:  # removed meanwhile (another tap, another coordinator): as it stands
        zone = member.caf.zone
        await edit(message, *screen.history(found.person, found.trainings, tap.page, zone))
        return
    await edit(message, *screen.confirm_removal(found.person, line, tap.page))


@TAPS.on(FormationOp.REMOVE, needs=Action.MANAGE_NETWORK)
async def remove(ctx: Ctx, member: Member, tap: FormationTap, message: Message | None) -> None:
    """« 🗑 Oui, retirer »: the line is gone, the history shown again."""
    done = await trainings.remove(ctx.db, member, tap.person, tap.training, ctx.clock.now())
    await edit(message, *screen.removed(done.person, done.trainings, tap.page, member.caf.zone))


@TYPED.text("training_title", max_length=TITLE_MAX)
async def on_title(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, title: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    found = await _history(ctx, member, int(expected.context["person"]))
    context = {"person": found.person.id, "title": title}
    await ask(ctx, member, "training_day", context, screen.ask_day(found.person, title))


@TYPED.text("training_day", max_length=100)
async def on_day(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    person_id, title = int(expected.context["person"]), str(expected.context["title"])
    try:
        added = await trainings.add(ctx.db, member, person_id, title, text, ctx.clock.now())
    except trainings.UnknownPerson:
        raise BadCallback("not a site person of this Caf") from None
    except TrainingDateError as error:
        found = await _history(ctx, member, person_id)
        prompt = screen.ask_day(found.person, title, problem=str(error))
        await ask(ctx, member, "training_day", expected.context, prompt)
        return
    ctx.services.wake_outbox()
    done = added.history
    shown = screen.recorded(done.person, done.trainings, member.caf.zone, added.closed_need)
    await send(ctx, chat_id_of(update), *shown)
