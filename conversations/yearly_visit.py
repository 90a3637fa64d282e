"""🏛 Visite annuelle (coordinators): the outcome of the Caf's yearly visit to a site and its
action plan (convention, Article 9).

From a site's card, the coordinator sees the last visits and the open action items (🔴 when
overdue), marks an item done, or records a visit: its date, three conformity answers, remarks,
then the action plan, item by item, in one message edited in place, with a back button on
every step. The answers live in `review_drafts` (a restart loses nothing) and every button of
the wizard carries the draft's revision, so a double tap or an old message's button changes
nothing. Saving writes the visit, its items, an audit entry and the notices to the site's
managers in one transaction, and empties the draft: it happens once.

Typed answers (the date, remarks, an item's description and due date) go through
`conversations.text_input`, which screens them for identifiers before anything stores them.
A text typed where a button is expected gets the step again, with a word on the buttons.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.context import Ctx
from bot.domain import opening_hours
from bot.domain import site_reviews as rules
from bot.domain.models import Member, Partner, PendingInput
from bot.domain.permissions import Action, Role
from bot.domain.site_reviews import CHECKS, DraftState, Owner, ReviewError, Step
from bot.services import action_plan, notify
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, NetworkTap, ReviewTap
from bot.ui.render import render
from conversations.common import chat_id_of, dispatch_tap, edit, guarded, require, send
from conversations.text_input import TypedSteps
from storage import audit, hours, partners, pending, people
from storage import site_reviews as store
from storage.db import Conn, Tx
from storage.site_reviews import ActionItem, ReviewDraft, SiteReview

ACTION = Action.MANAGE_NETWORK
ITEM_BUTTONS = 15
LABEL_CHARS = 38
# The pending-input kind of each step: typed steps take text, the others explain the buttons.
KINDS = {
    Step.DATE: "review_date",
    Step.REMARKS: "review_remarks",
    Step.ITEM_TEXT: "review_item",
    Step.ITEM_DUE: "review_due",
}
BUTTONS_KIND = "review_buttons"
OWNERS = list(Owner)

TYPED = TypedSteps()


def _button(label: str, op: str, item: int = 0, value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(ReviewTap(op, item, value)))


def _today(ctx: Ctx) -> date:
    return ctx.clock.now().astimezone(ctx.settings.tz).date()


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _own_partner(ctx: Ctx, member: Member, partner_id: int) -> Partner:
    """The site if it belongs to the coordinator's Caf; forged or foreign ids are refused."""
    partner = await partners.get(ctx.db, partner_id)
    if partner is None or partner.caf_id != member.caf.id:
        raise BadCallback("not a partner of this Caf")
    return partner


# ------------------------------------------------------------------------------ site screen
async def _home(
    ctx: Ctx, member: Member, partner: Partner, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    today = _today(ctx)
    items = await store.open_items(ctx.db, partner.id)
    draft = await store.open_draft(ctx.db, member.person.id)
    resuming = draft is not None and draft.partner_id == partner.id
    text = render(
        "review_home",
        partner=partner,
        reviews=await store.recent_reviews(ctx.db, partner.id, limit=3),
        items=items,
        shown=ITEM_BUTTONS,  # a message holds 4,096 characters: the others are counted
        checks=CHECKS,
        today=today,
        resuming=resuming,
        notice=notice,
    )
    rows = [
        [_button(f"✅ {n}. {_short(item.description)}", "done", item.id)]
        for n, item in enumerate(items[:ITEM_BUTTONS], start=1)
    ]
    label = "✏️ Reprendre la visite en cours" if resuming else "➕ Enregistrer une visite"
    rows.append([_button(label, "new", partner.id)])
    rows.append(
        [
            InlineKeyboardButton(
                "⬅️ Retour au site",
                callback_data=callbacks.encode(NetworkTap("site", partner.id, 0)),
            )
        ]
    )
    return text, InlineKeyboardMarkup(rows)


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    await dispatch_tap(update, ctx, payload=ReviewTap, taps=TAPS, action=ACTION)


async def tap_home(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> None:
    partner = await _own_partner(ctx, member, tap.item)
    await pending.clear(ctx.db, member.person.id)
    await edit(message, *await _home(ctx, member, partner))


# ------------------------------------------------------------------------------ action items
async def _own_item(ctx: Ctx, member: Member, item_id: int) -> tuple[ActionItem, Partner]:
    item = await store.get_item(ctx.db, item_id)
    if item is None:
        raise BadCallback("no such action item")
    return item, await _own_partner(ctx, member, item.partner_id)


async def tap_done(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    item, partner = await _own_item(ctx, member, tap.item)
    if item.done_at is not None:
        await edit(message, *await _home(ctx, member, partner))
        return "Cette action est déjà notée comme faite."
    if tap.value != 1:
        rows = [
            [_button("✅ Oui, c'est fait", "done", item.id, 1)],
            [_button("⬅️ Non, revenir", "home", partner.id)],
        ]
        text = render("review_done_confirm", item=item, partner=partner, today=_today(ctx))
        await edit(message, text, InlineKeyboardMarkup(rows))
        return None
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        done = await store.mark_done(tx, item.id, by=member.person.id, now=now)
        if done:
            await audit.record(
                tx,
                at=now,
                action="review.item_done",
                actor_id=member.person.id,
                caf_id=member.caf.id,
                target_type="action_item",
                target_id=item.id,
                details={"partner": partner.id, "review": item.review_id},
            )
            await action_plan.tell_done(tx, partner, item, now)
    notice = render("review_item_done", item=item) if done else None
    await edit(message, *await _home(ctx, member, partner, notice))
    return "Action notée comme faite." if done else "Cette action est déjà notée comme faite."


# ------------------------------------------------------------------------------ the wizard
async def _step(ctx: Ctx, partner: Partner, draft: ReviewDraft) -> tuple[str, InlineKeyboardMarkup]:
    """The screen of the draft's current step, every button stamped with its revision."""
    state = draft.state
    assert state is not None
    rev = draft.revision
    today = _today(ctx)
    step = state.step
    rows: list[list[InlineKeyboardButton]] = []
    context: dict[str, Any] = {}
    if step is Step.DATE:
        yesterday = today - timedelta(days=1)
        rows.append(
            [
                _button(f"Aujourd'hui ({today:%d/%m})", "day", rev, 0),
                _button(f"Hier ({yesterday:%d/%m})", "day", rev, 1),
            ]
        )
        context["example"] = f"{(today - timedelta(days=3)):%d/%m}"
    elif step in (Step.PREMISES, Step.EQUIPMENT, Step.HOURS):
        rows.append([_button("✅ Oui", "check", rev, 1), _button("❌ Non", "check", rev, 0)])
        if step is Step.HOURS:
            declared = await hours.in_force(ctx.db, partner.id, state.visited_on or today)
            context["declared"] = declared
            context["compliance"] = (
                opening_hours.check_minimum(declared.schedule) if declared else None
            )
    elif step is Step.REMARKS:
        if state.remarks:
            rows.append([_button("Garder la remarque ▶️", "skip", rev, 0)])
            rows.append([_button("Sans remarque ▶️", "skip", rev, 1)])
        else:
            rows.append([_button("Passer ▶️", "skip", rev, 1)])
        context["limit"] = rules.REMARKS_MAX
    elif step is Step.PLAN:
        if len(state.items) < rules.MAX_ITEMS:
            rows.append([_button("➕ Ajouter une action", "add", rev)])
        for index, item in enumerate(state.items):
            rows.append(
                [
                    _button(
                        f"🗑 Retirer {index + 1}. {_short(item.description, 28)}", "rm", rev, index
                    )
                ]
            )
        rows.append([_button("✅ Enregistrer la visite", "save", rev)])
    elif step is Step.ITEM_TEXT:
        context["limit"] = rules.DESCRIPTION_MAX
    elif step is Step.ITEM_OWNER:
        rows.append([_button(owner.label, "owner", rev, i) for i, owner in enumerate(OWNERS)])
    elif step is Step.ITEM_DUE:
        rows.extend(
            [_button(f"Dans {months} mois ({due:%d/%m})", "due", rev, months)]
            for months, due in rules.due_choices(today)
        )
        context["example"] = f"{rules.add_months(today, 2):%d/%m}"
    if step is Step.DATE:
        rows.append(
            [_button("⬅️ Retour au site", "home", partner.id), _button("✖️ Abandonner", "drop", rev)]
        )
    elif step in (Step.ITEM_TEXT, Step.ITEM_OWNER, Step.ITEM_DUE):
        rows.append([_button("⬅️ Retour", "back", rev)])
    else:
        rows.append([_button("⬅️ Retour", "back", rev), _button("✖️ Abandonner", "drop", rev)])
    text = render("review_step", partner=partner, state=state, step=step, checks=CHECKS, **context)
    return text, InlineKeyboardMarkup(rows)


async def _moved(
    ctx: Ctx, member: Member, draft: ReviewDraft, state: DraftState
) -> ReviewDraft | None:
    """Keeps the draft's new state and what the person may type at its step, together."""
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        saved = await store.save_draft(
            tx, person_id=member.person.id, revision=draft.revision, state=state, now=now
        )
        if saved is not None:
            await _expect(tx, member, saved, now)
    return saved


async def _expect(conn: Conn, member: Member, draft: ReviewDraft, now: datetime) -> None:
    assert draft.state is not None
    kind = KINDS.get(draft.state.step, BUTTONS_KIND)
    await pending.expect(conn, member.person.id, kind, {"partner": draft.partner_id}, now)


async def _current(
    ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None
) -> tuple[ReviewDraft, Partner] | str:
    """The draft the button was made for, or the toast that says why nothing happens.

    A button of a saved or abandoned visit brings the site's screen back; one of an earlier
    step of this visit brings the current step back.
    """
    draft = await store.get_draft(ctx.db, member.person.id)
    if draft is None:
        raise BadCallback("no visit was ever started")
    partner = await _own_partner(ctx, member, draft.partner_id)
    if draft.state is None:
        await edit(message, *await _home(ctx, member, partner))
        if draft.saved_review is not None:
            return "Cette visite est déjà enregistrée : rien n'a changé."
        return "Cette visite a été abandonnée : rien n'a changé."
    if draft.revision != tap.item:
        await edit(message, *await _step(ctx, partner, draft))
        return "Ce bouton n'est plus à jour : voici où en est la visite."
    return draft, partner


async def _wizard(
    ctx: Ctx,
    member: Member,
    tap: ReviewTap,
    message: Message | None,
    move: Callable[[DraftState], DraftState],
) -> str | None:
    """One tap of the wizard: check it is current, move the draft, show the next step."""
    found = await _current(ctx, member, tap, message)
    if isinstance(found, str):
        return found
    draft, partner = found
    assert draft.state is not None
    try:
        state = move(draft.state)
    except ReviewError as error:
        return str(error)[:200]
    saved = await _moved(ctx, member, draft, state)
    if saved is None:  # changed in between: show where it is
        fresh = await store.open_draft(ctx.db, member.person.id)
        if fresh is not None:
            await edit(message, *await _step(ctx, partner, fresh))
        return "Ce bouton n'est plus à jour : voici où en est la visite."
    await edit(message, *await _step(ctx, partner, saved))
    return None


async def tap_new(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    partner = await _own_partner(ctx, member, tap.item)
    draft = await store.open_draft(ctx.db, member.person.id)
    toast = None
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        if draft is None or draft.partner_id != partner.id:
            if draft is not None:
                toast = "La visite commencée pour un autre site est abandonnée."
            draft = await store.start_draft(
                tx, person_id=member.person.id, partner_id=partner.id, now=now
            )
        await _expect(tx, member, draft, now)
    await edit(message, *await _step(ctx, partner, draft))
    return toast


def _needs_step(state: DraftState, *steps: Step) -> None:
    if state.step not in steps:
        raise BadCallback("not a button of this step")


async def tap_day(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    if tap.value not in (0, 1):
        raise BadCallback("today or yesterday")
    day = _today(ctx) - timedelta(days=tap.value)

    def move(state: DraftState) -> DraftState:
        _needs_step(state, Step.DATE)
        return state.with_date(day)

    return await _wizard(ctx, member, tap, message, move)


async def tap_check(
    ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None
) -> str | None:
    if tap.value not in (0, 1):
        raise BadCallback("yes or no")

    def move(state: DraftState) -> DraftState:
        _needs_step(state, Step.PREMISES, Step.EQUIPMENT, Step.HOURS)
        return state.with_check(state.step, tap.value == 1)

    return await _wizard(ctx, member, tap, message, move)


async def tap_skip(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    def move(state: DraftState) -> DraftState:
        _needs_step(state, Step.REMARKS)
        return state.with_remarks(None if tap.value == 1 else state.remarks)

    return await _wizard(ctx, member, tap, message, move)


async def tap_add(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    def move(state: DraftState) -> DraftState:
        _needs_step(state, Step.PLAN)
        return state.adding_item()

    return await _wizard(ctx, member, tap, message, move)


async def tap_owner(
    ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None
) -> str | None:
    if not 0 <= tap.value < len(OWNERS):
        raise BadCallback("unknown owner")

    def move(state: DraftState) -> DraftState:
        _needs_step(state, Step.ITEM_OWNER)
        return state.with_owner(OWNERS[tap.value])

    return await _wizard(ctx, member, tap, message, move)


async def tap_due(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    if tap.value not in rules.DUE_CHOICES_MONTHS:
        raise BadCallback("unknown delay")
    due = rules.add_months(_today(ctx), tap.value)

    def move(state: DraftState) -> DraftState:
        _needs_step(state, Step.ITEM_DUE)
        return state.with_due(due)

    return await _wizard(ctx, member, tap, message, move)


async def tap_remove(
    ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None
) -> str | None:
    def move(state: DraftState) -> DraftState:
        _needs_step(state, Step.PLAN)
        return state.without_item(tap.value)

    answer = await _wizard(ctx, member, tap, message, move)
    return answer or "Action retirée du plan."


async def tap_back(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    found = await _current(ctx, member, tap, message)
    if isinstance(found, str):
        return found
    draft, partner = found
    assert draft.state is not None
    previous = draft.state.back()
    if previous is None:  # from the first step: the site's screen, the draft kept
        await pending.clear(ctx.db, member.person.id)
        await edit(message, *await _home(ctx, member, partner))
        return None
    return await _wizard(ctx, member, tap, message, lambda _: previous)


async def tap_drop(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    found = await _current(ctx, member, tap, message)
    if isinstance(found, str):
        return found
    draft, partner = found
    if tap.value != 1:
        rows = [
            [_button("✖️ Oui, abandonner", "drop", draft.revision, 1)],
            [_button("⬅️ Non, continuer", "step", draft.revision)],
        ]
        await edit(
            message, render("review_drop_confirm", partner=partner), InlineKeyboardMarkup(rows)
        )
        return None
    async with ctx.db.transaction() as tx:
        await store.consume_draft(
            tx, member.person.id, revision=draft.revision, review_id=None, now=ctx.clock.now()
        )
        await pending.clear(tx, member.person.id)
    await edit(message, *await _home(ctx, member, partner))
    return "Visite abandonnée : rien n'est enregistré."


async def tap_show_step(
    ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None
) -> str | None:
    found = await _current(ctx, member, tap, message)
    if isinstance(found, str):
        return found
    draft, partner = found
    await edit(message, *await _step(ctx, partner, draft))
    return None


async def tap_save(ctx: Ctx, member: Member, tap: ReviewTap, message: Message | None) -> str | None:
    found = await _current(ctx, member, tap, message)
    if isinstance(found, str):
        return found
    draft, partner = found
    assert draft.state is not None
    if draft.state.step is not Step.PLAN or not draft.state.complete:
        raise BadCallback("not the plan of a complete visit")
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        # Read again under the write lock: the draft is consumed once, whatever taps arrive.
        fresh = await store.get_draft(tx, member.person.id)
        if fresh is None or fresh.state is None or fresh.revision != draft.revision:
            return "Cette visite est déjà enregistrée : rien n'a changé."
        review, items = await store.record(
            tx,
            caf_id=member.caf.id,
            partner_id=partner.id,
            state=fresh.state,
            by=member.person.id,
            now=now,
        )
        await store.consume_draft(
            tx, member.person.id, revision=fresh.revision, review_id=review.id, now=now
        )
        await pending.clear(tx, member.person.id)
        await audit.record(
            tx,
            at=now,
            action="review.recorded",
            actor_id=member.person.id,
            caf_id=member.caf.id,
            target_type="partner",
            target_id=partner.id,
            details={
                "review": review.id,
                "visited_on": review.visited_on.isoformat(),
                "items": len(items),
            },
        )
        told = await _tell_managers(tx, partner, review, items, now)
    ctx.services.wake_outbox()
    notice = render("review_saved", review=review, items=items, told=told)
    await edit(message, *await _home(ctx, member, partner, notice))
    return "Visite enregistrée."


async def _tell_managers(
    tx: Tx, partner: Partner, review: SiteReview, items: list[ActionItem], now: datetime
) -> int:
    """The site's managers get the outcome and their action items (no buttons: theirs to read)."""
    text = render(
        "review_notice",
        partner=partner,
        review=review,
        checks=CHECKS,
        theirs=[i for i in items if i.owner.concerns_partner],
        caf_items=[i for i in items if not i.owner.concerns_partner],
    )
    told = 0
    for person in await people.list_for_partner(tx, partner.id):
        if person.role is Role.MANAGER:
            told += await notify.to_person(
                tx,
                person,
                kind=f"review:{review.id}",
                key=f"review:{review.id}:p{person.id}",
                text=text,
                now=now,
            )
    return told


TAPS: dict[str, Any] = {
    "home": tap_home,
    "done": tap_done,
    "new": tap_new,
    "day": tap_day,
    "check": tap_check,
    "skip": tap_skip,
    "add": tap_add,
    "owner": tap_owner,
    "due": tap_due,
    "rm": tap_remove,
    "back": tap_back,
    "drop": tap_drop,
    "step": tap_show_step,
    "save": tap_save,
}


# ------------------------------------------------------------------------------ typed answers
Move = Callable[[DraftState, str, date], DraftState]
MOVES: dict[Step, Move] = {
    Step.DATE: lambda state, text, today: state.with_date(rules.parse_visit_day(text, today)),
    Step.REMARKS: lambda state, text, today: state.with_remarks(text),
    Step.ITEM_TEXT: lambda state, text, today: state.with_description(text),
    Step.ITEM_DUE: lambda state, text, today: state.with_due(rules.parse_due_day(text, today)),
}


async def on_typed(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    """A typed answer (screened already by text_input) at the draft's current step."""
    member = await require(update, ctx, ACTION)
    chat_id = chat_id_of(update)
    draft = await store.open_draft(ctx.db, member.person.id)
    if draft is None:
        await pending.clear(ctx.db, member.person.id)
        await send(ctx, chat_id, render("review_no_draft"))
        return
    partner = await _own_partner(ctx, member, draft.partner_id)
    assert draft.state is not None
    move = MOVES.get(draft.state.step)
    if move is None:  # a step of buttons
        screen, markup = await _step(ctx, partner, draft)
        await _expect(ctx.db, member, draft, ctx.clock.now())
        await send(ctx, chat_id, render("review_use_buttons") + "\n\n" + screen, markup)
        return
    try:
        state = move(draft.state, text, _today(ctx))
    except ReviewError as error:  # it may quote what was typed: escaped
        await send(ctx, chat_id, f"❌ {html.escape(str(error), quote=False)}")
        return
    saved = await _moved(ctx, member, draft, state)
    if saved is not None:
        await send(ctx, chat_id, *await _step(ctx, partner, saved))


# The same handler for every step; the kind sets the length allowed before screening.
TYPED.text(KINDS[Step.DATE], max_length=60)(on_typed)
TYPED.text(KINDS[Step.REMARKS], max_length=rules.REMARKS_MAX)(on_typed)
TYPED.text(KINDS[Step.ITEM_TEXT], max_length=rules.DESCRIPTION_MAX)(on_typed)
TYPED.text(KINDS[Step.ITEM_DUE], max_length=60)(on_typed)
# Any text where a button is expected gets the step again (Telegram's own limit: 4096).
TYPED.text(BUTTONS_KIND, max_length=4096)(on_typed)
