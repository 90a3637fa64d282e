"""🏛 Visite annuelle: a site's visits and action plan, and the wizard recording a visit.

Every button of the wizard carries the draft's revision (`ReviewTap(op, revision, value)`);
those of the site's screen carry a site or an action item (`ReviewTap(op, id, value)`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import opening_hours
from bot.domain import site_reviews as rules
from bot.domain.equipment import EQUIPMENT
from bot.domain.site_reviews import CHECKS, ReviewError, Step
from bot.services.site_reviews import (
    OWNERS,
    Answered,
    DoneOutcome,
    Dropped,
    Home,
    ItemDone,
    Saved,
    Started,
    StepView,
)
from bot.ui import callbacks
from bot.ui.callbacks import NetworkTap, ReviewTap
from bot.ui.render import render
from bot.ui.screens import Screen, question

#: Action items with a « ✅ » button; a message holds 4,096 characters: the others are counted.
ITEM_BUTTONS = 15
LABEL_CHARS = 38

Rows = list[list[InlineKeyboardButton]]


class ReviewOp(StrEnum):
    HOME = "home"
    DONE = "done"
    NEW = "new"
    DAY = "day"
    CHECK = "check"
    SKIP = "skip"
    ADD = "add"
    OWNER = "owner"
    DUE = "due"
    REMOVE = "rm"
    BACK = "back"
    DROP = "drop"
    STEP = "step"
    SAVE = "save"


# ------------------------------------------------------------------------------ toasts
ITEM_DONE = "Action notée comme faite."
ITEM_ALREADY_DONE = "Cette action est déjà notée comme faite."
ALREADY_SAVED = "Cette visite est déjà enregistrée : rien n'a changé."
ALREADY_DROPPED = "Cette visite a été abandonnée : rien n'a changé."
OUTDATED = "Ce bouton n'est plus à jour : voici où en est la visite."
OTHER_SITE_DROPPED = "La visite commencée pour un autre site est abandonnée."
DROPPED = "Visite abandonnée : rien n'est enregistré."
SAVED = "Visite enregistrée."
ITEM_REMOVED = "Action retirée du plan."


def finished_toast(saved: bool) -> str:
    """A button of a visit saved or abandoned since."""
    return ALREADY_SAVED if saved else ALREADY_DROPPED


def refused_toast(error: ReviewError) -> str:
    return str(error)[:200]  # a callback answer holds 200 characters


def moved_toast(op: ReviewOp) -> str | None:
    return ITEM_REMOVED if op is ReviewOp.REMOVE else None


def started_toast(started: Started) -> str | None:
    return OTHER_SITE_DROPPED if started.replaced else None


def done_toast(result: ItemDone) -> str | None:
    return {
        DoneOutcome.ASKED: None,
        DoneOutcome.DONE: ITEM_DONE,
        DoneOutcome.ALREADY: ITEM_ALREADY_DONE,
    }[result.outcome]


def dropped_toast(result: Dropped) -> str | None:
    return DROPPED if result.home is not None else None


# ------------------------------------------------------------------------------ buttons
def _button(label: str, op: ReviewOp, item: int = 0, value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(ReviewTap(op, item, value)))


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------------ the site
def home(view: Home, notice: str | None = None) -> Screen:
    """The site's latest visits and open items, each with its « ✅ » button."""
    text = render(
        "review_home",
        partner=view.partner,
        reviews=view.reviews,
        items=view.items,
        shown=ITEM_BUTTONS,
        checks=CHECKS,
        today=view.today,
        resuming=view.resuming,
        notice=notice,
    )
    rows = [
        [_button(f"✅ {n}. {_short(item.description)}", ReviewOp.DONE, item.id)]
        for n, item in enumerate(view.items[:ITEM_BUTTONS], start=1)
    ]
    label = "✏️ Reprendre la visite en cours" if view.resuming else "➕ Enregistrer une visite"
    rows.append([_button(label, ReviewOp.NEW, view.partner.id)])
    back = NetworkTap("site", view.partner.id, 0)
    rows.append([InlineKeyboardButton("⬅️ Retour au site", callback_data=callbacks.encode(back))])
    return text, InlineKeyboardMarkup(rows)


def item_done(result: ItemDone) -> Screen:
    """The question « is it done? », or the site's screen once it is."""
    if result.home is None:
        item, partner = result.item, result.partner
        text = render("review_done_confirm", item=item, partner=partner, today=result.today)
        yes = _button("✅ Oui, c'est fait", ReviewOp.DONE, item.id, 1)
        return question(text, yes, _button("⬅️ Non, revenir", ReviewOp.HOME, partner.id))
    done = result.outcome is DoneOutcome.DONE
    return home(result.home, render("review_item_done", item=result.item) if done else None)


def saved(result: Saved) -> Screen:
    notice = render("review_saved", review=result.review, items=result.items, told=result.told)
    return home(result.home, notice)


def dropped(result: Dropped) -> Screen:
    """« Abandonner ? », or the site's screen once abandoned."""
    if result.home is not None:
        return home(result.home)
    yes = _button("✖️ Oui, abandonner", ReviewOp.DROP, result.revision, 1)
    no = _button("⬅️ Non, continuer", ReviewOp.STEP, result.revision)
    return question(render("review_drop_confirm", partner=result.partner), yes, no)


def shown(view: StepView | Home) -> Screen:
    """A step of the visit, or the site's screen (back from the first step)."""
    return home(view) if isinstance(view, Home) else step(view)


# ------------------------------------------------------------------------------ the wizard
def _date_buttons(view: StepView) -> Rows:
    today = view.today
    yesterday = today - timedelta(days=1)
    return [
        [
            _button(f"Aujourd'hui ({today:%d/%m})", ReviewOp.DAY, view.revision, 0),
            _button(f"Hier ({yesterday:%d/%m})", ReviewOp.DAY, view.revision, 1),
        ]
    ]


def _check_buttons(view: StepView) -> Rows:
    rev = view.revision
    return [[_button("✅ Oui", ReviewOp.CHECK, rev, 1), _button("❌ Non", ReviewOp.CHECK, rev, 0)]]


def _remarks_buttons(view: StepView) -> Rows:
    if view.state.remarks:
        return [
            [_button("Garder la remarque ▶️", ReviewOp.SKIP, view.revision, 0)],
            [_button("Sans remarque ▶️", ReviewOp.SKIP, view.revision, 1)],
        ]
    return [[_button("Passer ▶️", ReviewOp.SKIP, view.revision, 1)]]


def _plan_buttons(view: StepView) -> Rows:
    rev, items = view.revision, view.state.items
    rows = (
        [[_button("➕ Ajouter une action", ReviewOp.ADD, rev)]]
        if len(items) < rules.MAX_ITEMS
        else []
    )
    rows += [
        [_button(f"🗑 Retirer {i + 1}. {_short(item.description, 28)}", ReviewOp.REMOVE, rev, i)]
        for i, item in enumerate(items)
    ]
    return [*rows, [_button("✅ Enregistrer la visite", ReviewOp.SAVE, rev)]]


def _owner_buttons(view: StepView) -> Rows:
    return [
        [_button(owner.label, ReviewOp.OWNER, view.revision, i) for i, owner in enumerate(OWNERS)]
    ]


def _due_buttons(view: StepView) -> Rows:
    return [
        [_button(f"Dans {months} mois ({due:%d/%m})", ReviewOp.DUE, view.revision, months)]
        for months, due in rules.due_choices(view.today)
    ]


def _typed_only(view: StepView) -> Rows:
    return []


_BUTTONS: dict[Step, Callable[[StepView], Rows]] = {
    Step.DATE: _date_buttons,
    **dict.fromkeys(rules.CHECK_STEPS, _check_buttons),
    Step.REMARKS: _remarks_buttons,
    Step.PLAN: _plan_buttons,
    Step.ITEM_TEXT: _typed_only,
    Step.ITEM_OWNER: _owner_buttons,
    Step.ITEM_DUE: _due_buttons,
}


def _footer(view: StepView) -> list[InlineKeyboardButton]:
    """Back (to the site from the date), and abandon but while adding an item."""
    back = _button("⬅️ Retour", ReviewOp.BACK, view.revision)
    drop = _button("✖️ Abandonner", ReviewOp.DROP, view.revision)
    step = view.state.step
    if step is Step.DATE:
        return [_button("⬅️ Retour au site", ReviewOp.HOME, view.partner.id), drop]
    if step in (Step.ITEM_TEXT, Step.ITEM_OWNER, Step.ITEM_DUE):
        return [back]
    return [back, drop]


def _context(view: StepView) -> dict[str, Any]:
    """What the step's question needs beyond the answers so far."""
    step, today = view.state.step, view.today
    if step is Step.DATE:
        return {"example": f"{(today - timedelta(days=3)):%d/%m}"}
    if step in rules.CHECK_STEPS:
        position = rules.CHECK_STEPS.index(step) + 1
        declared = view.declared
        check = opening_hours.check_minimum(declared.schedule) if declared else None
        kept = {"equipment": view.equipment, "equipment_items": EQUIPMENT}
        return {"position": position, "declared": declared, "compliance": check, **kept}
    if step is Step.REMARKS:
        return {"limit": rules.REMARKS_MAX}
    if step is Step.ITEM_TEXT:
        return {"limit": rules.DESCRIPTION_MAX}
    if step is Step.ITEM_DUE:
        return {"example": f"{rules.add_months(today, 2):%d/%m}"}
    return {}


def step(view: StepView) -> Screen:
    """The draft's current step, every button stamped with its revision."""
    state = view.state
    rows = [*_BUTTONS[state.step](view), _footer(view)]
    text = render(
        "review_step",
        partner=view.partner,
        state=state,
        step=state.step,
        checks=CHECKS,
        **_context(view),
    )
    return text, InlineKeyboardMarkup(rows)


def answered(result: Answered) -> Screen:
    """The next step after a typed answer; typed where a button is expected, the same step
    with a word on the buttons."""
    text, markup = step(result.step)
    if result.buttons_expected:
        text = render("review_use_buttons") + "\n\n" + text
    return text, markup


def typed_refused(error: ReviewError) -> str:
    """Why a typed answer is refused; it may quote what was typed, hence escaped."""
    return f"❌ {html.escape(str(error), quote=False)}"


def no_draft() -> str:
    return render("review_no_draft")
