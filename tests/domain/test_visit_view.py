"""What the agent sees while logging a visit (bot/ui/screens/visit.py): text and buttons."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import taxonomy as tx
from bot.domain.visits import (
    Answers,
    Draft,
    InvalidAnswer,
    Op,
    Profile,
    Step,
    new_draft,
    visit_time,
)
from bot.ui import callbacks
from bot.ui.screens.visit import (
    VisitScreen,
    fresh_visit_keyboard,
    keyboard,
    saved_keyboard,
    step_text,
    summary_lines,
    when_text,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 26, 9, 15, tzinfo=UTC)  # Thursday, 10:15 in Paris
NOW_LOCAL = NOW.astimezone(PARIS)
PREVIOUS = Profile(sexe="homme", age="plus_60", statut="allocataire", autonomie="intermediaire")
TYPICAL = [
    "femme",
    "moins_25",
    "allocataire",
    "debutant",
    "simulation",
    "orientation",
    "petite_enfance",
    "oui",
]
LEGAL = [
    "personne_morale",
    "non_allocataire",
    "autonome",
    "paiements",
    "info_conseil",
    "enfance_jeunesse",
    "non",
]
FLOW_OPS = {Op.QUIT, Op.SAVE, Op.RESUME, Op.RESTART}  # served by the handler, not by `apply`


def answered(values: list[str], draft: Draft | None = None) -> Draft:
    draft = draft if draft is not None else new_draft()
    for value in values:
        draft = draft.apply(Op.ANSWER, value, now_local=NOW_LOCAL)
    return draft


def screen(
    draft: Draft,
    *,
    draft_id: int = 42,
    revision: int = 3,
    training: bool = False,
    frequent: tuple[str, ...] = (),
    has_previous_profile: bool = True,
) -> VisitScreen:
    return VisitScreen(
        draft_id=draft_id,
        revision=revision,
        draft=draft,
        training=training,
        now=NOW,
        tz=PARIS,
        has_previous_profile=has_previous_profile,
        frequent=frequent,
    )


def buttons(markup: InlineKeyboardMarkup) -> list[InlineKeyboardButton]:
    return [button for row in markup.inline_keyboard for button in row]


def labels(markup: InlineKeyboardMarkup) -> list[str]:
    return [button.text for button in buttons(markup)]


def taps(markup: InlineKeyboardMarkup) -> list[callbacks.VisitStep]:
    return [callbacks.decode(b.callback_data, expect=callbacks.VisitStep) for b in buttons(markup)]


def _drafts() -> dict[str, Draft]:
    """Every step of a typical and of a legal-person visit, and the pickers and adds."""
    cases: dict[str, Draft] = {}
    for name, values in (("typical", TYPICAL), ("legal", LEGAL)):
        draft = new_draft()
        for value in values:
            cases[f"{name} {draft.step.value}"] = draft
            draft = draft.apply(Op.ANSWER, value)
        cases[f"{name} done"] = draft
        cases[f"{name} review"] = new_draft(editing_from=draft.answers)
        for section in ("profile", "demandes", "themes", "resolution", "when"):
            cases[f"{name} review, {section} reopened"] = new_draft(
                editing_from=draft.answers
            ).apply(Op.SECTION, section)
    at_theme = answered(TYPICAL[:6])
    at_resolution = answered(TYPICAL[:7])
    cases["adding a request"] = at_theme.apply(Op.ADD, "demande")
    cases["adding an action"] = at_theme.apply(Op.ADD, "action")
    cases["adding a theme"] = at_resolution.apply(Op.ADD, "theme")
    cases["resolution without theme"] = at_theme.apply(Op.SKIP_THEMES, "x")
    cases["date picker"] = new_draft().apply(Op.WHEN, "x")
    cases["hour picker, today"] = cases["date picker"].apply(Op.DAY, "today")
    cases["hour picker, yesterday"] = cases["date picker"].apply(Op.DAY, "yesterday")
    cases["yesterday at 9"] = cases["hour picker, yesterday"].apply(Op.ANSWER, "9")
    cases["same profile"] = new_draft().apply(Op.SAME_PROFILE, "x", previous_profile=PREVIOUS)
    return cases


DRAFTS = _drafts()
CASES = [pytest.param(draft, id=name) for name, draft in DRAFTS.items()]
# A done draft is saved by the handler as soon as it is reached: it is never shown.
SHOWN = [
    pytest.param(draft, id=name) for name, draft in DRAFTS.items() if draft.step is not Step.DONE
]


def test_the_cases_cover_every_step() -> None:
    assert {draft.step for draft in DRAFTS.values()} == set(Step)


# ------------------------------------------------------------------------------ buttons


@pytest.mark.parametrize("draft", CASES)
@pytest.mark.parametrize(("draft_id", "revision"), [(1, 0), (10**12 - 1, 10**12 - 1)])
@pytest.mark.parametrize("training", [False, True])
def test_every_button_carries_decodable_callback_data_within_64_bytes(
    draft: Draft, draft_id: int, revision: int, training: bool
) -> None:
    markup = keyboard(
        screen(
            draft,
            draft_id=draft_id,
            revision=revision,
            training=training,
            frequent=("paiements", "simulation"),
        )
    )
    assert buttons(markup)
    for button in buttons(markup):
        data = button.callback_data
        assert isinstance(data, str) and data.isascii()
        assert len(data.encode("ascii")) <= 64
        tap = callbacks.decode(data, expect=callbacks.VisitStep)
        assert (tap.draft, tap.revision) == (draft_id, revision)
        assert tap.op in {op.value for op in Op}
        assert 0 < len(button.text) <= 40, button.text
    assert all(row for row in markup.inline_keyboard)


@pytest.mark.parametrize("draft", SHOWN)
def test_every_button_offered_is_accepted_by_the_draft_except_ticked_ones(draft: Draft) -> None:
    markup = keyboard(screen(draft, frequent=("paiements", "agenda")))
    for label, tap in zip(labels(markup), taps(markup), strict=True):
        if tap.op in FLOW_OPS:
            continue
        if label.startswith("✓ "):
            # A ticked option is already noted: tapping it explains so, in an alert.
            with pytest.raises(InvalidAnswer, match="déjà"):
                draft.apply(tap.op, tap.value, now_local=NOW_LOCAL)
            continue
        draft.apply(tap.op, tap.value, previous_profile=PREVIOUS, now_local=NOW_LOCAL)


@pytest.mark.parametrize("draft", CASES)
def test_every_screen_ends_with_quit_and_offers_back_only_when_it_can_go_back(
    draft: Draft,
) -> None:
    markup = keyboard(screen(draft))
    last_row = [callbacks.decode(b.callback_data).op for b in markup.inline_keyboard[-1]]
    assert last_row[-1] == Op.QUIT
    can_go_back = bool(draft.history or draft.adding or draft.picking)
    assert (Op.BACK.value in last_row) is can_go_back


@pytest.mark.parametrize(
    ("answers_given", "question"),
    [
        (0, tx.SEXE),
        (1, tx.AGE),
        (2, tx.STATUT),
        (3, tx.AUTONOMIE),
        (5, tx.ACTION),
        (6, tx.THEME),
        (7, tx.RESOLUTION),
    ],
    ids=lambda v: v.code if isinstance(v, tx.Question) else str(v),
)
def test_the_options_keep_annexe_2_order(answers_given: int, question: tx.Question) -> None:
    markup = keyboard(screen(answered(TYPICAL[:answers_given])))
    answer_labels = [
        b.text for b, tap in zip(buttons(markup), taps(markup), strict=True) if tap.op == Op.ANSWER
    ]
    assert answer_labels == [option.short for option in question.options]


def test_the_request_step_lists_the_eleven_requests_in_order_under_their_group_headings() -> None:
    markup = keyboard(screen(answered(TYPICAL[:4])))
    expected: list[str] = []
    for group in tx.REQUEST_GROUPS:
        expected.append(f"— {group.label} —")
        expected += [option.short for option in group.options]
    pairs = list(zip(labels(markup), taps(markup), strict=True))
    shown = [label for label, tap in pairs if tap.op in (Op.ANSWER, Op.NOOP)]
    assert shown == expected
    assert [label for label, tap in pairs if tap.op == Op.ANSWER] == [
        option.short for option in tx.DEMANDE.options
    ]


def test_frequent_requests_come_first_in_their_own_row_without_reordering_the_rest() -> None:
    frequent = ("paiements", "simulation")
    markup = keyboard(screen(answered(TYPICAL[:4]), frequent=frequent))
    first_row = markup.inline_keyboard[0]
    assert [b.text for b in first_row] == ["⭐ Paiements", "⭐ Simulation"]
    assert [callbacks.decode(b.callback_data).value for b in first_row] == list(frequent)
    rest = InlineKeyboardMarkup(markup.inline_keyboard[1:])
    in_order = [
        label for label, tap in zip(labels(rest), taps(rest), strict=True) if tap.op == Op.ANSWER
    ]
    assert in_order == [option.short for option in tx.DEMANDE.options]
    assert not any(label.startswith("⭐") for label in labels(rest))


def test_requests_already_in_the_visit_are_ticked_and_left_out_of_the_frequent_row() -> None:
    draft = answered(TYPICAL[:6]).apply(Op.ADD, "demande")  # "simulation" is already there
    markup = keyboard(screen(draft, frequent=("simulation", "agenda")))
    assert [b.text for b in markup.inline_keyboard[0]] == ["⭐ Agenda"]
    assert "✓ Simulation" in labels(markup)
    only_taken = keyboard(screen(draft, frequent=("simulation",)))
    assert not labels(only_taken)[0].startswith("⭐")


def test_the_first_question_offers_same_profile_and_an_earlier_time_but_not_when_editing() -> None:
    shown = labels(keyboard(screen(new_draft())))
    assert "🔁 Même profil que la précédente" in shown
    assert "🕘 Visite plus tôt ou hier" in shown
    assert "🔁 Même profil que la précédente" not in labels(
        keyboard(screen(new_draft(), has_previous_profile=False))
    )
    reopened = DRAFTS["typical review, profile reopened"]
    assert reopened.step is Step.SEXE
    assert "🔁 Même profil que la précédente" not in labels(keyboard(screen(reopened)))
    assert "🕘 Visite plus tôt ou hier" not in labels(keyboard(screen(reopened)))


def test_the_hour_picker_offers_no_hour_in_the_future_today() -> None:
    today = keyboard(screen(DRAFTS["hour picker, today"]))
    hours = [int(t.value) for t in taps(today) if t.op == Op.ANSWER]
    assert hours == [7, 8, 9, 10]
    yesterday = keyboard(screen(DRAFTS["hour picker, yesterday"]))
    assert [int(t.value) for t in taps(yesterday) if t.op == Op.ANSWER] == list(range(7, 22))


def test_the_saved_visit_and_fresh_visit_keyboards_carry_valid_callbacks() -> None:
    for markup in (
        saved_keyboard(10**12 - 1, training=False, can_undo=True),
        saved_keyboard(5, training=True, can_undo=True),
        saved_keyboard(5, training=False, can_undo=False),
        fresh_visit_keyboard(),
    ):
        for button in buttons(markup):
            assert len(button.callback_data.encode("ascii")) <= 64
            callbacks.decode(button.callback_data, expect=(callbacks.SavedVisit, callbacks.MenuTap))
    assert "✏️ Modifier" not in labels(saved_keyboard(5, training=True, can_undo=True))
    ops = [
        callbacks.decode(b.callback_data).op
        for b in buttons(saved_keyboard(5, training=True, can_undo=True))
        if b.callback_data.startswith("sv:")
    ]
    assert ops == ["tundo"]


# ------------------------------------------------------------------------------ text

ALLOWED_TAG = re.compile(r"</?(b|strong|i|em|u|ins|s|strike|del|code|pre|tg-spoiler)>")
ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")


def assert_telegram_html(text: str) -> None:
    """Only tags Telegram knows, balanced; every other < > & written as an entity."""
    stack: list[str] = []
    for match in ALLOWED_TAG.finditer(text):
        tag = match.group(1)
        if match.group(0).startswith("</"):
            assert stack and stack.pop() == tag, f"unbalanced </{tag}> in {text!r}"
        else:
            stack.append(tag)
    assert not stack, f"unclosed tags {stack} in {text!r}"
    bare = ENTITY.sub("", ALLOWED_TAG.sub("", text))
    assert "<" not in bare and ">" not in bare and "&" not in bare, text


@pytest.mark.parametrize("draft", CASES)
@pytest.mark.parametrize("training", [False, True])
def test_every_step_text_is_valid_telegram_html(draft: Draft, training: bool) -> None:
    text = step_text(screen(draft, training=training), notice="Choix <refusé> & ignoré")
    assert_telegram_html(text)
    assert "Choix &lt;refusé&gt; &amp; ignoré" in text


def test_the_age_under_25_is_escaped_in_text_but_plain_on_its_button() -> None:
    assert "< 25 ans" in labels(keyboard(screen(answered(TYPICAL[:1]))))
    text = step_text(screen(answered(TYPICAL[:2])))
    assert "&lt; 25 ans" in text
    assert "< 25" not in text
    assert "< 25 ans" in html.unescape(text)
    over_60 = step_text(screen(new_draft().apply(Op.SAME_PROFILE, "x", previous_profile=PREVIOUS)))
    assert "&gt; 60 ans" in over_60


@pytest.mark.parametrize("draft", CASES)
def test_training_drafts_say_mode_formation_and_real_ones_do_not(draft: Draft) -> None:
    assert "MODE FORMATION" in step_text(screen(draft, training=True))
    assert "MODE FORMATION" not in step_text(screen(draft, training=False))


def test_the_step_text_asks_the_current_question_and_names_the_request_for_actions() -> None:
    assert "Qui est accueilli ?" in step_text(screen(new_draft()))
    action_text = html.unescape(step_text(screen(answered(TYPICAL[:5]))))
    assert "Qu'avez-vous fait ? (Simulation)" in action_text
    assert "Que voulez-vous modifier ?" in step_text(screen(DRAFTS["typical review"]))
    assert "Modification de la visite" in step_text(screen(DRAFTS["typical review"]))
    assert "Nouvelle visite" in step_text(screen(new_draft()))


def test_the_summary_lists_the_answers_as_labels_in_annexe_2_order() -> None:
    draft = answered(TYPICAL[:6]).apply(Op.ADD, "action").apply(Op.ANSWER, "usage_autonome")
    draft = answered(["petite_enfance", "oui"], draft)
    assert summary_lines(draft.answers) == [
        "Femme · < 25 ans · Allocataire · Débutant",
        "Simulation : Orientation, Usage autonome",
        "Thématique : Petite enfance",
        "Résolue : oui",
    ]
    legal = answered(LEGAL[:5]).apply(Op.SKIP_THEMES, "x")
    assert summary_lines(legal.answers) == [
        "Personne morale · Non allocataire · Autonome",
        "Paiements : Info / conseil",
        "Sans thématique",
    ]
    assert summary_lines(Answers()) == []


def test_the_visit_time_is_shown_as_now_today_or_yesterday() -> None:
    assert when_text(Answers(), NOW, PARIS) == "maintenant (10 h 15)"
    assert when_text(Answers(days_ago=0, hour=9), NOW, PARIS) == "aujourd'hui à 9 h"
    assert when_text(Answers(days_ago=1, hour=15), NOW, PARIS) == "hier à 15 h"
    fixed = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert when_text(Answers(fixed_at=fixed), NOW, PARIS) == "20/11 à 15 h"


def test_after_leaving_the_hour_picker_the_time_shown_is_the_time_saved() -> None:
    draft = DRAFTS["hour picker, yesterday"].apply(Op.BACK, "x")
    assert visit_time(draft.answers, NOW, PARIS) == NOW
    assert when_text(draft.answers, NOW, PARIS) == "maintenant (10 h 15)"
