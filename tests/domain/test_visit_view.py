"""What the agent sees while logging a visit (bot/ui/screens/visit.py): text and buttons."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import taxonomy as tx
from bot.domain.visit_log import MyVisits, VisitLine, VisitRecord
from bot.domain.visits import (
    Answers,
    Draft,
    InvalidAnswer,
    Op,
    Profile,
    Step,
    day_code,
    new_draft,
    visit_time,
)
from bot.ui import callbacks
from bot.ui.screens.my_visits import card, question, visit_list
from bot.ui.screens.visit import (
    EARLIER,
    VisitScreen,
    day_label,
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
TODAY = NOW_LOCAL.date()
YESTERDAY = TODAY - timedelta(days=1)
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
    cases["hour picker, today"] = cases["date picker"].apply(
        Op.DAY, day_code(TODAY), now_local=NOW_LOCAL
    )
    cases["hour picker, yesterday"] = cases["date picker"].apply(
        Op.DAY, day_code(YESTERDAY), now_local=NOW_LOCAL
    )
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
    assert EARLIER in shown
    assert "🔁 Même profil que la précédente" not in labels(
        keyboard(screen(new_draft(), has_previous_profile=False))
    )
    reopened = DRAFTS["typical review, profile reopened"]
    assert reopened.step is Step.SEXE
    assert "🔁 Même profil que la précédente" not in labels(keyboard(screen(reopened)))
    assert EARLIER not in labels(keyboard(screen(reopened)))


def test_the_hour_picker_offers_no_hour_in_the_future_today() -> None:
    today = keyboard(screen(DRAFTS["hour picker, today"]))
    hours = [int(t.value) for t in taps(today) if t.op == Op.ANSWER]
    assert hours == [7, 8, 9, 10]
    yesterday = keyboard(screen(DRAFTS["hour picker, yesterday"]))
    assert [int(t.value) for t in taps(yesterday) if t.op == Op.ANSWER] == list(range(7, 22))


def test_the_day_picker_offers_now_today_yesterday_and_five_days_by_weekday_and_date() -> None:
    markup = keyboard(screen(DRAFTS["date picker"]))
    days = [(label, tap.value) for label, tap in zip(labels(markup), taps(markup), strict=True)]
    # Thursday 26 November 2026: back to Friday 20 November.
    assert days[:8] == [
        ("⏱ Maintenant", "now"),
        ("Aujourd'hui", "20261126"),
        ("Hier", "20261125"),
        ("mar. 24 nov.", "20261124"),
        ("lun. 23 nov.", "20261123"),
        ("dim. 22 nov.", "20261122"),
        ("sam. 21 nov.", "20261121"),
        ("ven. 20 nov.", "20261120"),
    ]
    assert [len(row) for row in markup.inline_keyboard] == [1, 2, 3, 2, 2]


def test_day_labels_say_the_first_of_the_month_the_french_way() -> None:
    assert day_label(date(2027, 1, 1), date(2027, 1, 4)) == "ven. 1er janv."
    assert day_label(date(2027, 1, 3), date(2027, 1, 4)) == "Hier"
    assert day_label(date(2027, 1, 4), date(2027, 1, 4)) == "Aujourd'hui"


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


def test_the_visit_time_is_shown_as_now_today_yesterday_or_the_day() -> None:
    assert when_text(Answers(), NOW, PARIS) == "maintenant (10 h 15)"
    assert when_text(Answers(day=TODAY, hour=9), NOW, PARIS) == "aujourd'hui à 9 h"
    assert when_text(Answers(day=YESTERDAY, hour=15), NOW, PARIS) == "hier à 15 h"
    assert when_text(Answers(day=date(2026, 11, 23)), NOW, PARIS) == "lun. 23 nov."
    assert when_text(Answers(day=date(2026, 11, 23), hour=8), NOW, PARIS) == "lun. 23 nov. à 8 h"
    fixed = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert when_text(Answers(fixed_at=fixed), NOW, PARIS) == "ven. 20 nov. à 15 h"


def test_after_leaving_the_hour_picker_the_time_shown_is_the_time_saved() -> None:
    draft = DRAFTS["hour picker, yesterday"].apply(Op.BACK, "x")
    assert visit_time(draft.answers, NOW, PARIS) == NOW
    assert when_text(draft.answers, NOW, PARIS) == "maintenant (10 h 15)"


# ------------------------------------------------------------------------------ 🗂 Mes visites


def _line(visit_id: int, at: datetime, *, training: bool = False, **kw: object) -> VisitLine:
    values: dict[str, object] = {
        "id": visit_id,
        "training": training,
        "visited_at": at,
        "created_at": NOW,
        "demande": "demande_prestation",
        "requests": 1,
        "resolution": "oui",
    }
    values.update(kw)
    return VisitLine.model_validate(values)


def _record(*, training: bool = False, created_at: datetime = NOW) -> VisitRecord:
    return VisitRecord(
        id=10**12 - 1,
        draft_id=1,
        person_id=1,
        partner_id=1,
        visited_at=datetime(2026, 11, 20, 13, 0, tzinfo=UTC),
        created_at=created_at,
        answers=answered(TYPICAL).answers,
        training=training,
    )


def test_my_visits_lists_day_hour_demand_and_outcome_with_training_marked() -> None:
    lines = [
        _line(3, NOW),
        _line(2, datetime(2026, 11, 25, 8, tzinfo=UTC), training=True, resolution="non"),
        _line(
            10**12 - 1,
            datetime(2026, 11, 20, 13, tzinfo=UTC),
            demande="paiements",
            requests=3,
            resolution="partiellement",
        ),
    ]
    listing = MyVisits(since=date(2026, 11, 20), today=TODAY, lines=lines)
    shown, markup = visit_list(listing, 0, PARIS)
    assert_telegram_html(shown)
    text = html.unescape(shown)
    assert "depuis ven. 20 nov." in text and "3 visites" in text
    assert "aujourd'hui à 10 h 15 · Demande de prestation · résolue" in text
    assert "hier à 9 h · Demande de prestation · non résolue · 🎓 entraînement" in text
    assert "ven. 20 nov. à 14 h · Paiements (+2) · résolue en partie" in text
    assert labels(markup) == [
        "jeu. 26 nov. · 10 h 15 · Demande de prestation",
        "🎓 mer. 25 nov. · 9 h · Demande de prestation",
        "ven. 20 nov. · 14 h · Paiements (+2)",
    ]
    payloads = [
        callbacks.decode(b.callback_data, expect=callbacks.MyVisitsTap) for b in buttons(markup)
    ]
    assert [(p.op, p.visit) for p in payloads] == [("open", 3), ("topen", 2), ("open", 10**12 - 1)]


def test_my_visits_pages_eight_at_a_time_and_says_when_there_is_none() -> None:
    lines = [_line(n, NOW - timedelta(hours=n)) for n in range(1, 11)]
    listing = MyVisits(since=date(2026, 11, 20), today=TODAY, lines=lines)
    first_text, first = visit_list(listing, 0, PARIS)
    assert len(buttons(first)) == 9 and labels(first)[-1] == "Suivants ▶️"
    assert "page 1 sur 2" in first_text
    _, second = visit_list(listing, 1, PARIS)
    assert len(buttons(second)) == 3 and labels(second)[-1] == "◀️ Précédents"
    for button in buttons(second):
        assert len(button.callback_data.encode("ascii")) <= 64
    empty, markup = visit_list(MyVisits(date(2026, 11, 20), TODAY, []), 0, PARIS)
    assert "Aucune visite enregistrée ces 7 derniers jours" in empty
    assert labels(markup) == ["📝 Nouvelle visite"]


def test_a_card_offers_cancelling_at_any_time_after_a_question_and_no_edit_in_training() -> None:
    text, markup = card(_record(), 3, NOW + timedelta(days=2), PARIS)
    assert_telegram_html(text)
    assert "Visite du vendredi 20 novembre à 14 h" in text
    assert labels(markup) == ["✏️ Modifier", "🗑 Annuler la visite", "⬅️ Mes visites"]
    edit, cancel, back = buttons(markup)
    assert callbacks.decode(edit.callback_data) == callbacks.SavedVisit(10**12 - 1, "edit")
    assert callbacks.decode(cancel.callback_data) == callbacks.MyVisitsTap("del", 10**12 - 1, 3)
    assert callbacks.decode(back.callback_data) == callbacks.MyVisitsTap("list", 0, 3)
    asked, markup = question(_record(), 3, NOW, PARIS)
    assert_telegram_html(asked)
    assert "Annuler définitivement cette visite ?" in asked
    assert labels(markup) == ["🗑 Oui, l'annuler", "⬅️ Non"]
    yes, no = buttons(markup)
    assert callbacks.decode(yes.callback_data) == callbacks.MyVisitsTap("delok", 10**12 - 1, 3)
    assert callbacks.decode(no.callback_data) == callbacks.MyVisitsTap("open", 10**12 - 1, 3)
    training_text, training = card(_record(training=True), 0, NOW, PARIS)
    assert "Visite d'entraînement" in training_text
    assert labels(training) == ["🗑 Annuler la visite", "⬅️ Mes visites"]
    assert callbacks.decode(buttons(training)[0].callback_data).op == "tdel"
    _, training_asked = question(_record(training=True), 0, NOW, PARIS)
    assert [callbacks.decode(b.callback_data).op for b in buttons(training_asked)] == [
        "tdelok",
        "topen",
    ]


def test_a_modifications_confirmation_leads_back_to_my_visits() -> None:
    markup = saved_keyboard(5, training=False, can_undo=False, to_list=True)
    assert labels(markup) == ["✏️ Modifier", "🗂 Mes visites", "📝 Visite suivante"]
    assert callbacks.decode(buttons(markup)[1].callback_data) == callbacks.MyVisitsTap("list", 0, 0)
