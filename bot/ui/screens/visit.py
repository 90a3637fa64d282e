"""📝 Nouvelle visite and 📊 Mes chiffres: what the agent sees while logging a visit, one
message edited step by step, its confirmation, and their counts.

Options come from the taxonomy in Annexe 2's order, always the same places so that hands
learn them; the site's frequent requests get their own "Fréquents" row above. The
operations of a step's buttons are bot.domain.visits `Op`; those under a confirmation are
`SavedOp`, those of 🗂 Mes visites (bot/ui/screens/my_visits.py) `MyVisitsOp`. Every toast of
the flow is here, in `reply` and `undo_reply`. Days and hours are the Caf's (`tz`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.charts import DAY_ABBREVIATIONS, MONTH_ABBREVIATIONS
from bot.domain import taxonomy as tx
from bot.domain.models import Partner
from bot.domain.visit_log import (
    Advanced,
    DraftRecord,
    Expired,
    Expiry,
    Gone,
    Invalid,
    MyFigures,
    Quit,
    Saved,
    Seen,
    Shown,
    Tapped,
    TooLate,
    Undoing,
    VisitRecord,
)
from bot.domain.visits import (
    Answers,
    Draft,
    Op,
    Step,
    day_choices,
    day_code,
    hour_choices,
    visit_time,
)
from bot.ui import callbacks
from bot.ui.formatting import hour_fr, short_datetime_fr
from bot.ui.render import render
from bot.ui.screens import Screen


class SavedOp(StrEnum):
    """The buttons under a saved visit's confirmation."""

    UNDO = "undo"
    TRAINING_UNDO = "tundo"  # a training visit's: it lives in a table of its own
    EDIT = "edit"


class MyVisitsOp(StrEnum):
    """The buttons of 🗂 Mes visites (bot/ui/screens/my_visits.py)."""

    LIST = "list"
    OPEN = "open"
    TRAINING_OPEN = "topen"  # a training visit: it lives in a table of its own
    CANCEL = "del"  # asks first: « Annuler définitivement cette visite ? »
    TRAINING_CANCEL = "tdel"
    CONFIRM_CANCEL = "delok"  # 🗑 Oui, l'annuler
    TRAINING_CONFIRM_CANCEL = "tdelok"


MY_VISITS = "🗂 Mes visites"
EARLIER = "🕘 Plus tôt ou un autre jour"


# Toasts (callback answers: plain text).
SAVED = "Visite enregistrée ✅"
TRAINING_SAVED = "Entraînement noté 🎓"
ALREADY_SAVED = "Cette visite est déjà enregistrée ✅"
SEEN = "Déjà pris en compte."
EXPIRED = "Ce menu a expiré."
ABANDONED = "Saisie abandonnée."
UNDONE = "Visite annulée."
ALREADY_UNDONE = "Cette visite a déjà été annulée."
# Shown above the current step when the agent typed text instead of tapping.
TYPED_NOTICE = "Pas besoin d'écrire : répondez avec les boutons. Rien n'est noté de ce texte."
EXPIRY_REASONS: dict[Expiry, str | None] = {
    Expiry.CLOSED: None,
    Expiry.SITE_CHANGED: "vous avez changé de site",
    Expiry.NEWER: "une saisie plus récente est en cours",
}


def too_late(undo_window_seconds: int) -> str:
    return (
        f"Trop tard pour annuler : le délai de {undo_window_seconds // 60} min est passé. "
        "Utilisez « ✏️ Modifier » pour corriger la visite."
    )


NONE = "x"  # the value of buttons that carry none
PROMPTS = {
    Step.WHEN: "Quand a eu lieu la visite ?",
    Step.HOUR: "À quelle heure ?",
    Step.REVIEW: "Que voulez-vous modifier ?",
}


@dataclass(frozen=True)
class VisitScreen:
    """Everything a step's message depends on, gathered by the handler."""

    draft_id: int
    revision: int
    draft: Draft
    training: bool
    now: datetime
    tz: ZoneInfo
    has_previous_profile: bool = False
    frequent: tuple[str, ...] = ()


def _button(screen: VisitScreen, label: str, op: Op, value: str = NONE) -> InlineKeyboardButton:
    data = callbacks.encode(callbacks.VisitStep(screen.draft_id, screen.revision, op.value, value))
    return InlineKeyboardButton(label, callback_data=data)


def _rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def _options(
    screen: VisitScreen,
    question: tx.Question,
    chosen: list[str] | None = None,
    options: tuple[tx.Option, ...] | None = None,
) -> list[InlineKeyboardButton]:
    chosen = chosen or []
    return [
        _button(screen, ("✓ " if o.code in chosen else "") + o.short, Op.ANSWER, o.code)
        for o in (options if options is not None else question.options)
    ]


def keyboard(screen: VisitScreen) -> InlineKeyboardMarkup:
    draft, a = screen.draft, screen.draft.answers
    step = draft.step
    rows: list[list[InlineKeyboardButton]] = []
    if step is Step.SEXE:
        rows += [_options(screen, tx.SEXE)[:2], _options(screen, tx.SEXE)[2:]]
        if screen.has_previous_profile and not draft.editing:
            rows.append([_button(screen, "🔁 Même profil que la précédente", Op.SAME_PROFILE)])
        if not draft.editing:
            rows.append([_button(screen, EARLIER, Op.WHEN)])
    elif step in (Step.AGE, Step.AUTONOMIE):
        rows.append(_options(screen, tx.BY_CODE[step.value]))
    elif step is Step.STATUT:
        rows.append(_options(screen, tx.STATUT))
    elif step is Step.DEMANDE:
        taken = [r.demande for r in a.requests]
        if screen.frequent:
            rows.append(
                [
                    _button(screen, "⭐ " + tx.DEMANDE.option(code).short, Op.ANSWER, code)
                    for code in screen.frequent
                    if code not in taken
                ]
            )
        for group in tx.REQUEST_GROUPS:
            rows.append([_button(screen, f"— {group.label} —", Op.NOOP)])
            rows += _rows(_options(screen, tx.DEMANDE, taken, group.options), 2)
    elif step is Step.ACTION:
        rows += _rows(_options(screen, tx.ACTION, a.requests[-1].actions), 2)
    elif step is Step.THEME:
        rows += _rows(_options(screen, tx.THEME, a.themes), 2)
        if not a.themes and draft.adding is None:
            rows.append([_button(screen, "Aucune thématique", Op.SKIP_THEMES)])
            rows.append(
                [
                    _button(screen, "➕ Autre action", Op.ADD, "action"),
                    _button(screen, "➕ Autre demande", Op.ADD, "demande"),
                ]
            )
    elif step is Step.RESOLUTION:
        rows.append(_options(screen, tx.RESOLUTION))
        extra = [_button(screen, "➕ Autre demande", Op.ADD, "demande")]
        if a.themes and len(a.themes) < len(tx.THEME.options):
            extra.insert(0, _button(screen, "➕ Autre thématique", Op.ADD, "theme"))
        rows.append(extra)
    elif step is Step.WHEN:
        # « Maintenant » stays one tap; then today, yesterday and the 5 days before, each
        # carrying its date (the Caf's), so a picker left open past midnight keeps its days.
        now_local = screen.now.astimezone(screen.tz)
        days = [
            _button(screen, day_label(day, now_local.date()), Op.DAY, day_code(day))
            for day in day_choices(now_local)
        ]
        rows.append([_button(screen, "⏱ Maintenant", Op.DAY, "now")])
        rows.append(days[:2])
        rows += _rows(days[2:], 3)
    elif step is Step.HOUR:
        now_local = screen.now.astimezone(screen.tz)
        hours = hour_choices(a.day or now_local.date(), now_local)
        rows += _rows([_button(screen, f"{h} h", Op.ANSWER, str(h)) for h in hours], 4)
    elif step is Step.REVIEW:
        rows.append(
            [
                _button(screen, "👤 Profil", Op.SECTION, "profile"),
                _button(screen, "📋 Demandes", Op.SECTION, "demandes"),
            ]
        )
        rows.append(
            [
                _button(screen, "🏷 Thématiques", Op.SECTION, "themes"),
                _button(screen, "✅ Résolution", Op.SECTION, "resolution"),
            ]
        )
        rows.append([_button(screen, "🕘 Date et heure", Op.SECTION, "when")])
        rows.append([_button(screen, "💾 Enregistrer les modifications", Op.SAVE)])
    navigation = []
    if draft.history or draft.adding or draft.picking:
        navigation.append(_button(screen, "⬅️ Retour", Op.BACK))
    quit_label = "✖️ Annuler la modification" if draft.editing else "✖️ Abandonner"
    navigation.append(_button(screen, quit_label, Op.QUIT))
    rows.append(navigation)
    return InlineKeyboardMarkup([row for row in rows if row])


def summary_lines(a: Answers) -> list[str]:
    """The answers so far, in Annexe 2's order, as short lines (codes → labels)."""
    lines = []
    profile = [
        q.option(v).short
        for q, v in (
            (tx.SEXE, a.sexe),
            (tx.AGE, a.age),
            (tx.STATUT, a.statut),
            (tx.AUTONOMIE, a.autonomie),
        )
        if v is not None
    ]
    if profile:
        lines.append(" · ".join(profile))
    for request in a.requests:
        actions = ", ".join(tx.ACTION.option(code).short for code in request.actions)
        name = tx.DEMANDE.option(request.demande).short
        lines.append(f"{name} : {actions}" if actions else name)
    if a.themes_done:
        themes = ", ".join(tx.THEME.option(code).short for code in a.themes)
        lines.append(f"Thématique : {themes}" if themes else "Sans thématique")
    if a.resolution is not None:
        lines.append(f"Résolue : {tx.RESOLUTION.option(a.resolution).short.lower()}")
    return lines


def short_day_fr(day: date) -> str:
    """ven. 4 déc., mar. 1er déc."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{DAY_ABBREVIATIONS[day.weekday()]} {number} {MONTH_ABBREVIATIONS[day.month - 1]}"


def day_words(day: date, today: date) -> str:
    """aujourd'hui, hier, or ven. 4 déc."""
    if day == today:
        return "aujourd'hui"
    if day == today - timedelta(days=1):
        return "hier"
    return short_day_fr(day)


def day_label(day: date, today: date) -> str:
    """A day picker's button: Aujourd'hui, Hier, ven. 4 déc."""
    words = day_words(day, today)
    return words[0].upper() + words[1:] if day >= today - timedelta(days=1) else words


def when_fr(instant: datetime, tz: ZoneInfo, today: date) -> str:
    """aujourd'hui à 14 h, hier à 9 h, ven. 4 déc. à 14 h — in the Caf's zone."""
    local = instant.astimezone(tz)
    return f"{day_words(local.date(), today)} à {hour_fr(local)}"


def when_text(a: Answers, now: datetime, tz: ZoneInfo) -> str:
    if a.day is None and a.fixed_at is None:
        return f"maintenant ({hour_fr(now.astimezone(tz))})"
    today = now.astimezone(tz).date()
    if a.day is not None and a.hour is None:
        return day_words(a.day, today)
    return when_fr(visit_time(a, now, tz), tz, today)


def step_text(screen: VisitScreen, *, notice: str | None = None) -> str:
    draft = screen.draft
    step = draft.step
    question = tx.BY_CODE.get(step.value)
    prompt = PROMPTS.get(step) or (question.prompt if question else "")
    if step is Step.ACTION and draft.answers.requests:
        prompt += f" ({tx.DEMANDE.option(draft.answers.requests[-1].demande).short})"
    return render(
        "visit_step",
        training=screen.training,
        editing=draft.editing,
        when=when_text(draft.answers, screen.now, screen.tz),
        lines=summary_lines(draft.answers),
        prompt=prompt,
        multi=step in (Step.ACTION, Step.THEME) and draft.adding is not None,
        notice=notice,
    )


def my_visits_button(page: int = 0, label: str = MY_VISITS) -> InlineKeyboardButton:
    data = callbacks.encode(callbacks.MyVisitsTap(MyVisitsOp.LIST, 0, page))
    return InlineKeyboardButton(label, callback_data=data)


def saved_keyboard(
    visit_id: int, *, training: bool, can_undo: bool, to_list: bool = False
) -> InlineKeyboardMarkup:
    """Under a confirmation; after a modification (`to_list`), back to 🗂 Mes visites too,
    where modifications are mostly started."""
    rows = []
    first = []
    if not training:
        first.append(
            InlineKeyboardButton(
                "✏️ Modifier",
                callback_data=callbacks.encode(callbacks.SavedVisit(visit_id, SavedOp.EDIT)),
            )
        )
    if can_undo:
        op = SavedOp.TRAINING_UNDO if training else SavedOp.UNDO
        first.append(
            InlineKeyboardButton(
                "↩️ Annuler cette visite",
                callback_data=callbacks.encode(callbacks.SavedVisit(visit_id, op)),
            )
        )
    if first:
        rows.append(first)
    last = [
        InlineKeyboardButton(
            "📝 Visite suivante", callback_data=callbacks.encode(callbacks.MenuTap("visit"))
        )
    ]
    if to_list:
        last.insert(0, my_visits_button())
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def fresh_visit_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "📝 Nouvelle visite", callback_data=callbacks.encode(callbacks.MenuTap("visit"))
                )
            ]
        ]
    )


def resume_keyboard(draft_id: int, revision: int) -> InlineKeyboardMarkup:
    def button(label: str, op: Op) -> InlineKeyboardButton:
        data = callbacks.encode(callbacks.VisitStep(draft_id, revision, op.value, NONE))
        return InlineKeyboardButton(label, callback_data=data)

    return InlineKeyboardMarkup(
        [[button("▶️ Reprendre", Op.RESUME)], [button("📝 Recommencer à zéro", Op.RESTART)]]
    )


# ------------------------------------------------------------------------------ screens
def step(shown: Shown, now: datetime, tz: ZoneInfo, *, notice: str | None = None) -> Screen:
    """A draft's message: its answers so far and its current question."""
    record = shown.record
    screen = VisitScreen(
        draft_id=record.id,
        revision=record.revision,
        draft=record.draft,
        training=record.training,
        now=now,
        tz=tz,
        has_previous_profile=shown.has_previous_profile,
        frequent=shown.frequent,
    )
    return step_text(screen, notice=notice), keyboard(screen)


def resume_offer(record: DraftRecord, now: datetime, tz: ZoneInfo) -> Screen:
    """A visit left half-logged, offered before a new one is started."""
    text = render(
        "visit_resume",
        started=short_datetime_fr(record.created_at, tz, today=now.astimezone(tz).date()),
        lines=summary_lines(record.draft.answers),
    )
    return text, resume_keyboard(record.id, record.revision)


def saved(
    visit: VisitRecord,
    now: datetime,
    tz: ZoneInfo,
    undo_window_seconds: int,
    *,
    modified: bool,
    unchanged: bool = False,
) -> Screen:
    """The confirmation: the visit's summary, with undo while the window is open."""
    window = undo_window_seconds
    can_undo = window > 0 and (now - visit.created_at).total_seconds() < window
    text = render(
        "visit_saved",
        training=visit.training,
        modified=modified,
        unchanged=unchanged,
        when=when_fr(visit.visited_at, tz, now.astimezone(tz).date()),
        lines=summary_lines(visit.answers),
        undo_minutes=window // 60 if can_undo and not modified and not unchanged else 0,
    )
    to_list = (modified or unchanged) and not visit.training
    markup = saved_keyboard(visit.id, training=visit.training, can_undo=can_undo, to_list=to_list)
    return text, markup


def expired(why: Expiry) -> Screen:
    return render("visit_expired", reason=EXPIRY_REASONS[why]), fresh_visit_keyboard()


def abandoned_text() -> str:
    return render("visit_abandoned")


def abandoned() -> Screen:
    return abandoned_text(), fresh_visit_keyboard()


def undone() -> Screen:
    return render("visit_undone"), fresh_visit_keyboard()


def training_mode(on: bool) -> str:
    return render("training_mode", on=on)


def my_figures(partner: Partner | None, figures: MyFigures) -> str:
    return render(
        "my_figures",
        partner=partner,
        today=figures.today,
        mine=figures.mine,
        site=figures.site,
        training_count=figures.training,
    )


# ------------------------------------------------------------------------------ answers
@dataclass(frozen=True)
class Reply:
    """How a tap is answered: a toast (an alert when it must be read), then the message
    edited to `screen`, or only its buttons changed to `keyboard`."""

    toast: str | None = None
    alert: bool = False
    screen: Screen | None = None
    keyboard: InlineKeyboardMarkup | None = None


def reply(outcome: Tapped, now: datetime, tz: ZoneInfo, undo_window_seconds: int) -> Reply:
    """What a tap on a draft's message did, as the agent is told."""
    match outcome:
        case Expired(why):
            return Reply(EXPIRED, screen=expired(why))
        case Seen(shown):
            return Reply(SEEN, screen=step(shown, now, tz))
        case Invalid(reason):
            return Reply(reason, alert=True)
        case Advanced(shown, moved):
            return Reply(None if moved else SEEN, screen=step(shown, now, tz))
        case Saved(visit, modified, first):
            if visit is None:
                return Reply(ALREADY_SAVED)
            confirmation = saved(visit, now, tz, undo_window_seconds, modified=modified)
            toast = (TRAINING_SAVED if visit.training else SAVED) if first else ALREADY_SAVED
            return Reply(toast, screen=confirmation)
        case Quit(closed, kept):
            told = ABANDONED if closed else None
            if kept is None:
                return Reply(told, screen=abandoned())
            left = saved(kept, now, tz, undo_window_seconds, modified=False, unchanged=True)
            return Reply(told, screen=left)
    raise AssertionError(outcome)  # pragma: no cover - every outcome is matched above


def undo_reply(outcome: Undoing, undo_window_seconds: int) -> Reply:
    """↩️ under a confirmation, as the agent is told."""
    match outcome:
        case Gone():
            return Reply(ALREADY_UNDONE, alert=True)
        case TooLate(visit):
            markup = saved_keyboard(visit.id, training=visit.training, can_undo=False)
            return Reply(too_late(undo_window_seconds), alert=True, keyboard=markup)
    return Reply(UNDONE if outcome.deleted else ALREADY_UNDONE, screen=undone())
