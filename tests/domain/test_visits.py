"""The visit draft's state machine (bot/domain/visits.py) and the Annexe 2 taxonomy, pure."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import taxonomy as tx
from bot.domain.visits import (
    EARLIEST_HOUR,
    LATE_DAYS,
    LATEST_HOUR,
    QUESTION_OF_STEP,
    Answers,
    Draft,
    InvalidAnswer,
    Op,
    Profile,
    RequestAnswer,
    Step,
    day_choices,
    day_code,
    first_missing,
    hour_choices,
    new_draft,
    parse_day_code,
    profile_of,
    validate_complete,
    visit_time,
)

PARIS = ZoneInfo("Europe/Paris")
# Thursday 26 November 2026, 10:15 in Paris.
NOW = datetime(2026, 11, 26, 9, 15, tzinfo=UTC)
NOW_LOCAL = NOW.astimezone(PARIS)
TODAY = NOW_LOCAL.date()
TODAY_CODE = day_code(TODAY)
YESTERDAY_CODE = day_code(TODAY - timedelta(days=1))


def on_day(draft: Draft, value: str, now_local: datetime = NOW_LOCAL) -> Draft:
    """The day picker's answer, tapped at `now_local`."""
    return draft.apply(Op.DAY, value, now_local=now_local)


TYPICAL = [
    "femme",
    "25_60",
    "allocataire",
    "debutant",
    "simulation",
    "orientation",
    "petite_enfance",
    "oui",
]
TYPICAL_STEPS = [
    Step.SEXE,
    Step.AGE,
    Step.STATUT,
    Step.AUTONOMIE,
    Step.DEMANDE,
    Step.ACTION,
    Step.THEME,
    Step.RESOLUTION,
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
LEGAL_STEPS = [step for step in TYPICAL_STEPS if step is not Step.AGE]
PREVIOUS = Profile(sexe="homme", age="plus_60", statut="allocataire", autonomie="intermediaire")
PREVIOUS_LEGAL = Profile(
    sexe="personne_morale", age=None, statut="non_allocataire", autonomie="autonome"
)
ALL_CODES = sorted({code for question in tx.QUESTIONS for code in question.codes})


def answered(values: list[str], draft: Draft | None = None) -> Draft:
    draft = draft if draft is not None else new_draft()
    for value in values:
        draft = draft.apply(Op.ANSWER, value, now_local=NOW_LOCAL)
    return draft


def complete_answers(**changes: object) -> Answers:
    answers = answered(TYPICAL).answers
    return answers.model_copy(update=changes, deep=True)


def snapshot(draft: Draft) -> str:
    return draft.model_dump_json()


# ------------------------------------------------------------------------------ the typical path


def test_a_typical_visit_asks_the_eight_questions_in_annexe_2_order_and_is_done_after_8() -> None:
    draft = new_draft()
    seen = []
    for value in TYPICAL:
        seen.append(draft.step)
        assert draft.step is not Step.DONE
        draft = draft.apply(Op.ANSWER, value)
    assert seen == TYPICAL_STEPS
    assert draft.step is Step.DONE
    assert draft.complete
    validate_complete(draft.answers)


def test_a_legal_person_is_not_asked_an_age_and_is_done_after_seven_answers() -> None:
    draft = new_draft()
    seen = []
    for value in LEGAL:
        seen.append(draft.step)
        draft = draft.apply(Op.ANSWER, value)
    assert seen == LEGAL_STEPS
    assert draft.step is Step.DONE
    assert draft.answers.age is None
    validate_complete(draft.answers)


def test_the_answers_of_a_typical_visit_are_recorded_as_codes() -> None:
    a = answered(TYPICAL).answers
    assert (a.sexe, a.age, a.statut, a.autonomie) == ("femme", "25_60", "allocataire", "debutant")
    assert a.requests == [RequestAnswer(demande="simulation", actions=["orientation"])]
    assert (a.themes, a.themes_done, a.resolution) == (["petite_enfance"], True, "oui")
    assert (a.day, a.hour, a.fixed_at) == (None, None, None)


def test_noop_changes_nothing_and_adds_no_history() -> None:
    draft = answered(TYPICAL[:3])
    assert draft.apply(Op.NOOP, "x") == draft


# ------------------------------------------------------------------------------ same profile


def test_same_profile_fills_the_four_profile_answers_in_one_tap() -> None:
    draft = new_draft().apply(Op.SAME_PROFILE, "x", previous_profile=PREVIOUS)
    a = draft.answers
    assert (a.sexe, a.age, a.statut, a.autonomie) == (
        "homme",
        "plus_60",
        "allocataire",
        "intermediaire",
    )
    assert draft.step is Step.DEMANDE
    draft = answered(TYPICAL[4:], draft)
    assert draft.step is Step.DONE  # 1 + 4 = 5 taps


def test_same_profile_of_a_legal_person_keeps_no_age() -> None:
    draft = new_draft().apply(Op.SAME_PROFILE, "x", previous_profile=PREVIOUS_LEGAL)
    assert draft.answers.age is None
    assert draft.step is Step.DEMANDE
    validate_complete(answered(LEGAL[3:], draft).answers)


def test_same_profile_is_refused_without_a_previous_profile() -> None:
    with pytest.raises(InvalidAnswer):
        new_draft().apply(Op.SAME_PROFILE, "x")


@pytest.mark.parametrize("answers_given", range(1, 8))
def test_same_profile_is_refused_after_the_first_question(answers_given: int) -> None:
    draft = answered(TYPICAL[:answers_given])
    with pytest.raises(InvalidAnswer):
        draft.apply(Op.SAME_PROFILE, "x", previous_profile=PREVIOUS)


def test_the_profile_of_a_visit_is_known_once_its_profile_questions_are_answered() -> None:
    assert profile_of(answered(TYPICAL[:3]).answers) is None
    assert profile_of(answered(TYPICAL[:4]).answers) == Profile(
        sexe="femme", age="25_60", statut="allocataire", autonomie="debutant"
    )
    assert profile_of(answered(LEGAL[:3]).answers) == Profile(
        sexe="personne_morale", age=None, statut="non_allocataire", autonomie="autonome"
    )


# ------------------------------------------------------------------------------ adding more


def test_another_request_is_added_with_its_own_action() -> None:
    draft = answered(TYPICAL[:6])  # at THEME
    draft = draft.apply(Op.ADD, "demande")
    assert draft.step is Step.DEMANDE and draft.adding == "demande"
    draft = draft.apply(Op.ANSWER, "agenda")
    assert draft.step is Step.ACTION and draft.adding is None
    draft = draft.apply(Op.ANSWER, "aide_redactionnelle")
    assert draft.step is Step.THEME
    assert [r.demande for r in draft.answers.requests] == ["simulation", "agenda"]
    assert draft.answers.requests[1].actions == ["aide_redactionnelle"]
    assert answered(TYPICAL[6:], draft).step is Step.DONE


def test_a_request_already_in_the_visit_is_refused() -> None:
    draft = answered(TYPICAL[:6]).apply(Op.ADD, "demande")
    before = snapshot(draft)
    with pytest.raises(InvalidAnswer):
        draft.apply(Op.ANSWER, "simulation")
    assert snapshot(draft) == before


def test_another_action_is_added_to_the_last_request_and_duplicates_are_refused() -> None:
    draft = answered(TYPICAL[:6]).apply(Op.ADD, "action")
    assert draft.step is Step.ACTION
    with pytest.raises(InvalidAnswer):
        draft.apply(Op.ANSWER, "orientation")
    draft = draft.apply(Op.ANSWER, "usage_autonome")
    assert draft.step is Step.THEME
    assert draft.answers.requests[-1].actions == ["orientation", "usage_autonome"]


def test_no_more_actions_can_be_added_once_all_seven_are_noted() -> None:
    draft = answered(TYPICAL[:5])
    draft = draft.apply(Op.ANSWER, tx.ACTION.codes[0])
    for code in tx.ACTION.codes[1:]:
        draft = draft.apply(Op.ADD, "action").apply(Op.ANSWER, code)
    assert draft.answers.requests[-1].actions == list(tx.ACTION.codes)
    with pytest.raises(InvalidAnswer):
        draft.apply(Op.ADD, "action")


def test_another_theme_is_added_until_all_four_are_noted() -> None:
    draft = answered(TYPICAL[:7])  # at RESOLUTION with one theme
    for code in tx.THEME.codes:
        if code in draft.answers.themes:
            continue
        draft = draft.apply(Op.ADD, "theme")
        assert draft.step is Step.THEME
        draft = draft.apply(Op.ANSWER, code)
        assert draft.step is Step.RESOLUTION
    assert sorted(draft.answers.themes) == sorted(tx.THEME.codes)
    with pytest.raises(InvalidAnswer):
        draft.apply(Op.ADD, "theme")


def test_a_theme_already_noted_is_refused() -> None:
    draft = answered(TYPICAL[:7]).apply(Op.ADD, "theme")
    with pytest.raises(InvalidAnswer):
        draft.apply(Op.ANSWER, "petite_enfance")


@pytest.mark.parametrize("what", ["demande", "action", "theme", "resolution", "x"])
def test_adding_is_refused_before_the_first_request_has_an_action(what: str) -> None:
    for answers_given in range(6):
        with pytest.raises(InvalidAnswer):
            answered(TYPICAL[:answers_given]).apply(Op.ADD, what)


def test_skipping_themes_moves_to_the_resolution_with_no_theme() -> None:
    draft = answered(TYPICAL[:6]).apply(Op.SKIP_THEMES, "x")
    assert draft.step is Step.RESOLUTION
    assert draft.answers.themes == [] and draft.answers.themes_done
    draft = draft.apply(Op.ANSWER, "partiellement")
    assert draft.step is Step.DONE
    validate_complete(draft.answers)


@pytest.mark.parametrize("answers_given", [0, 1, 4, 5, 7])
def test_skipping_themes_is_refused_outside_the_theme_question(answers_given: int) -> None:
    with pytest.raises(InvalidAnswer):
        answered(TYPICAL[:answers_given]).apply(Op.SKIP_THEMES, "x")


# ------------------------------------------------------------------------------ back


@pytest.mark.parametrize("answers_given", range(1, 8))
def test_back_restores_the_answers_before_the_last_tap(answers_given: int) -> None:
    before = answered(TYPICAL[: answers_given - 1])
    after = answered(TYPICAL[:answers_given])
    back = after.apply(Op.BACK, "x")
    assert back.answers == before.answers
    assert back.step is before.step
    assert back.history == before.history


def test_back_at_the_first_question_is_refused() -> None:
    with pytest.raises(InvalidAnswer):
        new_draft().apply(Op.BACK, "x")


def test_back_all_the_way_returns_to_an_empty_draft() -> None:
    draft = answered(TYPICAL[:7])
    for _ in range(7):
        draft = draft.apply(Op.BACK, "x")
    assert draft == new_draft()


def test_back_after_same_profile_clears_the_four_answers_at_once() -> None:
    draft = new_draft().apply(Op.SAME_PROFILE, "x", previous_profile=PREVIOUS)
    assert draft.apply(Op.BACK, "x").answers == Answers()


def test_back_from_an_add_returns_to_the_question_without_adding() -> None:
    draft = answered(TYPICAL[:7])
    back = draft.apply(Op.ADD, "theme").apply(Op.BACK, "x")
    assert back.step is Step.RESOLUTION
    assert back.adding is None
    assert back.answers == draft.answers


def test_back_after_opening_and_leaving_an_add_goes_to_the_previous_question_in_one_tap() -> None:
    draft = answered(TYPICAL[:7])  # at RESOLUTION
    draft = draft.apply(Op.ADD, "demande").apply(Op.BACK, "x")
    assert draft.step is Step.RESOLUTION
    assert draft.apply(Op.BACK, "x").step is Step.THEME


def test_back_at_the_first_question_after_choosing_now_is_refused() -> None:
    draft = on_day(new_draft().apply(Op.WHEN, "x"), "now")
    assert draft.step is Step.SEXE
    with pytest.raises(InvalidAnswer):
        draft.apply(Op.BACK, "x")


def test_leaving_the_hour_picker_with_back_keeps_the_visit_time_as_it_was() -> None:
    draft = on_day(new_draft().apply(Op.WHEN, "x"), YESTERDAY_CODE)
    assert draft.step is Step.HOUR
    back = draft.apply(Op.BACK, "x")
    assert back.step is Step.SEXE
    assert (back.answers.day, back.answers.hour) == (None, None)


# ------------------------------------------------------------------------------ wrong answers


@pytest.mark.parametrize(
    ("answers_given", "step"), list(enumerate(TYPICAL_STEPS)), ids=[s.value for s in TYPICAL_STEPS]
)
def test_an_option_of_another_question_is_refused_and_leaves_the_draft_unchanged(
    answers_given: int, step: Step
) -> None:
    draft = answered(TYPICAL[:answers_given])
    assert draft.step is step
    before = snapshot(draft)
    foreign = [code for code in ALL_CODES if code not in QUESTION_OF_STEP[step].codes]
    for value in [*foreign, "", "x", "7", "FEMME"]:
        with pytest.raises(InvalidAnswer):
            draft.apply(Op.ANSWER, value, now_local=NOW_LOCAL)
        assert snapshot(draft) == before


@pytest.mark.parametrize("op", ["zzz", Op.SAVE, Op.QUIT, Op.RESUME, Op.RESTART])
def test_ops_that_apply_does_not_handle_are_refused(op: str) -> None:
    with pytest.raises(InvalidAnswer):
        new_draft().apply(op, "x")


def test_answering_a_done_draft_is_refused() -> None:
    draft = answered(TYPICAL)
    for code in ALL_CODES:
        with pytest.raises(InvalidAnswer):
            draft.apply(Op.ANSWER, code)


# ------------------------------------------------------------------------------ when


def test_a_visit_earlier_today_is_logged_at_the_chosen_hour() -> None:
    draft = new_draft().apply(Op.WHEN, "x")
    assert draft.step is Step.WHEN
    draft = on_day(draft, TODAY_CODE)
    assert draft.step is Step.HOUR
    draft = draft.apply(Op.ANSWER, "9", now_local=NOW_LOCAL)
    assert draft.step is Step.SEXE
    assert (draft.answers.day, draft.answers.hour) == (TODAY, 9)
    assert visit_time(draft.answers, NOW, PARIS) == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def test_a_visit_yesterday_may_be_at_any_hour_of_the_opening_day() -> None:
    draft = on_day(new_draft().apply(Op.WHEN, "x"), YESTERDAY_CODE)
    yesterday = TODAY - timedelta(days=1)
    assert hour_choices(yesterday, NOW_LOCAL) == list(range(EARLIEST_HOUR, LATEST_HOUR + 1))
    draft = draft.apply(Op.ANSWER, "21", now_local=NOW_LOCAL)
    assert visit_time(draft.answers, NOW, PARIS) == datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def test_the_day_picker_offers_today_and_the_six_days_before_newest_first() -> None:
    # Monday 7 December 2026: back to Tuesday 1 December, not Monday 30 November.
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    days = day_choices(monday)
    assert len(days) == LATE_DAYS == 7
    assert days[0] == date(2026, 12, 7) and days[-1] == date(2026, 12, 1)
    assert days == sorted(days, reverse=True)


def test_fridays_visit_is_logged_on_monday_at_the_chosen_hour() -> None:
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    draft = on_day(new_draft().apply(Op.WHEN, "x"), "20261204", monday)
    assert draft.step is Step.HOUR and draft.answers.day == date(2026, 12, 4)
    # Friday is over: every hour of its opening day is offered.
    assert hour_choices(date(2026, 12, 4), monday) == list(range(EARLIEST_HOUR, LATEST_HOUR + 1))
    draft = draft.apply(Op.ANSWER, "14", now_local=monday)
    assert visit_time(draft.answers, monday, PARIS) == datetime(2026, 12, 4, 14, tzinfo=PARIS)


@pytest.mark.parametrize("value", ["20261130", "20261129", "20261001", "20251207", "20261208"])
def test_a_day_before_the_last_seven_or_in_the_future_is_refused_in_french(value: str) -> None:
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    picker = new_draft().apply(Op.WHEN, "x")
    with pytest.raises(InvalidAnswer, match="7 derniers jours"):
        on_day(picker, value, monday)


@pytest.mark.parametrize("value", ["20261332", "2026124", "202612041", "x", "today", "-1", ""])
def test_a_day_that_is_no_date_is_refused(value: str) -> None:
    with pytest.raises(InvalidAnswer):
        on_day(new_draft().apply(Op.WHEN, "x"), value)


def test_a_day_chosen_before_midnight_is_refused_at_the_hour_once_out_of_the_window() -> None:
    sunday_night = datetime(2026, 12, 6, 23, 55, tzinfo=PARIS)
    draft = on_day(new_draft().apply(Op.WHEN, "x"), "20261130", sunday_night)
    assert draft.answers.day == date(2026, 11, 30)
    monday = datetime(2026, 12, 7, 0, 5, tzinfo=PARIS)
    with pytest.raises(InvalidAnswer, match="7 derniers jours"):
        draft.apply(Op.ANSWER, "9", now_local=monday)
    # A day still in the window keeps its date across midnight, it does not slide.
    kept = on_day(new_draft().apply(Op.WHEN, "x"), "20261206", sunday_night)
    moved = kept.apply(Op.ANSWER, "9", now_local=monday)
    assert visit_time(moved.answers, monday, PARIS) == datetime(2026, 12, 6, 9, tzinfo=PARIS)


def test_day_codes_round_trip() -> None:
    for day in day_choices(NOW_LOCAL):
        assert parse_day_code(day_code(day)) == day
    assert day_code(date(2027, 1, 1)) == "20270101"


def test_choosing_now_clears_an_earlier_choice() -> None:
    draft = on_day(new_draft().apply(Op.WHEN, "x"), YESTERDAY_CODE)
    draft = draft.apply(Op.ANSWER, "9", now_local=NOW_LOCAL)
    draft = on_day(draft.apply(Op.WHEN, "x"), "now")
    assert (draft.answers.day, draft.answers.hour, draft.picking) == (None, None, None)
    assert visit_time(draft.answers, NOW, PARIS) == NOW


@pytest.mark.parametrize("hour", [0, 5, 6, 7, 9, 10, 12, 13, 20, 21, 22, 23])
@pytest.mark.parametrize("minute", [0, 1, 59])
def test_hours_offered_for_today_are_never_in_the_future(hour: int, minute: int) -> None:
    now_local = datetime(2026, 11, 26, hour, minute, tzinfo=PARIS)
    offered = hour_choices(now_local.date(), now_local)
    assert offered, "there is always an hour to choose, even before 7 h"
    for h in offered:
        assert h <= LATEST_HOUR
        assert datetime.combine(now_local.date(), time(h), tzinfo=PARIS) <= now_local
    last = min(hour, LATEST_HOUR)
    assert offered == list(range(min(EARLIEST_HOUR, last), last + 1))


def test_an_hour_in_the_future_is_refused_for_today() -> None:
    draft = on_day(new_draft().apply(Op.WHEN, "x"), TODAY_CODE)
    before = snapshot(draft)
    for value in ["11", "21", "6", "22", "-1", "x", "", "10.5"]:
        with pytest.raises(InvalidAnswer):
            draft.apply(Op.ANSWER, value, now_local=NOW_LOCAL)
        assert snapshot(draft) == before
    assert draft.apply(Op.ANSWER, "10", now_local=NOW_LOCAL).answers.hour == 10


def test_the_day_choice_is_refused_outside_the_date_picker_or_with_an_unknown_value() -> None:
    with pytest.raises(InvalidAnswer):
        on_day(new_draft(), TODAY_CODE)
    with pytest.raises(InvalidAnswer):
        on_day(new_draft().apply(Op.WHEN, "x"), "tomorrow")
    with pytest.raises(InvalidAnswer):  # no clock to check the day against
        new_draft().apply(Op.WHEN, "x").apply(Op.DAY, TODAY_CODE)


@pytest.mark.parametrize(
    ("now", "days_ago", "hour", "expected"),
    [
        # An ordinary winter day.
        (datetime(2026, 11, 26, 9, 15, tzinfo=UTC), 0, 9, datetime(2026, 11, 26, 8, tzinfo=UTC)),
        (datetime(2026, 11, 26, 9, 15, tzinfo=UTC), 1, 9, datetime(2026, 11, 25, 8, tzinfo=UTC)),
        # Just after midnight in Paris, still the day before in UTC: "today" is Paris's day.
        (datetime(2026, 11, 26, 23, 30, tzinfo=UTC), 1, 9, datetime(2026, 11, 26, 8, tzinfo=UTC)),
        # Sunday 29 March 2026: 2:00 CET becomes 3:00 CEST.
        (datetime(2026, 3, 29, 10, 0, tzinfo=UTC), 0, 9, datetime(2026, 3, 29, 7, tzinfo=UTC)),
        (datetime(2026, 3, 29, 10, 0, tzinfo=UTC), 1, 9, datetime(2026, 3, 28, 8, tzinfo=UTC)),
        (datetime(2026, 3, 30, 8, 0, tzinfo=UTC), 1, 9, datetime(2026, 3, 29, 7, tzinfo=UTC)),
        (datetime(2026, 3, 30, 8, 0, tzinfo=UTC), 1, 21, datetime(2026, 3, 29, 19, tzinfo=UTC)),
        # Sunday 25 October 2026: 3:00 CEST becomes 2:00 CET.
        (datetime(2026, 10, 25, 12, 0, tzinfo=UTC), 0, 9, datetime(2026, 10, 25, 8, tzinfo=UTC)),
        (datetime(2026, 10, 25, 12, 0, tzinfo=UTC), 1, 9, datetime(2026, 10, 24, 7, tzinfo=UTC)),
        (datetime(2026, 10, 26, 9, 0, tzinfo=UTC), 1, 7, datetime(2026, 10, 25, 6, tzinfo=UTC)),
        (datetime(2026, 10, 26, 9, 0, tzinfo=UTC), 1, 21, datetime(2026, 10, 25, 20, tzinfo=UTC)),
    ],
)
def test_visit_time_is_the_chosen_local_hour_today_or_yesterday_in_paris(
    now: datetime, days_ago: int, hour: int, expected: datetime
) -> None:
    answers = Answers(day=now.astimezone(PARIS).date() - timedelta(days=days_ago), hour=hour)
    assert visit_time(answers, now, PARIS) == expected
    local = visit_time(answers, now, PARIS).astimezone(PARIS)
    assert local.hour == hour
    assert local.date() == now.astimezone(PARIS).date() - timedelta(days=days_ago)


def test_visit_time_is_never_after_now_and_defaults_to_now_or_the_saved_time() -> None:
    now = datetime(2026, 11, 26, 9, 15, tzinfo=UTC)  # 10:15 in Paris
    today = date(2026, 11, 26)
    assert visit_time(Answers(day=today, hour=10), now, PARIS) == datetime(
        2026, 11, 26, 9, 0, tzinfo=UTC
    )
    assert visit_time(Answers(day=today, hour=21), now, PARIS) == now
    assert visit_time(Answers(), now, PARIS) == now
    fixed = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert visit_time(Answers(fixed_at=fixed), now, PARIS) == fixed
    yesterday = date(2026, 11, 25)
    assert visit_time(Answers(fixed_at=fixed, day=yesterday, hour=9), now, PARIS) == datetime(
        2026, 11, 25, 8, 0, tzinfo=UTC
    )


# ------------------------------------------------------------------------------ edit mode


def test_editing_a_complete_visit_waits_for_review_instead_of_saving() -> None:
    original = complete_answers(fixed_at=datetime(2026, 11, 20, 14, 0, tzinfo=UTC))
    draft = new_draft(editing_from=original)
    assert draft.editing and draft.step is Step.REVIEW
    assert draft.answers == original
    assert draft.answers is not original


@pytest.mark.parametrize(
    ("section", "first_step", "values"),
    [
        ("profile", Step.SEXE, ["homme", "plus_60", "non_allocataire", "autonome"]),
        ("demandes", Step.DEMANDE, ["agenda", "aide_redactionnelle"]),
        ("themes", Step.THEME, ["solidarite_insertion"]),
        ("resolution", Step.RESOLUTION, ["non"]),
    ],
)
def test_a_section_reopens_its_questions_and_returns_to_review(
    section: str, first_step: Step, values: list[str]
) -> None:
    fixed = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    original = complete_answers(fixed_at=fixed)
    draft = new_draft(editing_from=original).apply(Op.SECTION, section)
    assert draft.step is first_step
    draft = answered(values, draft)
    assert draft.step is Step.REVIEW
    assert draft.answers.fixed_at == fixed
    validate_complete(draft.answers)
    assert original == complete_answers(fixed_at=fixed)  # the source is not modified


def test_reopening_the_profile_as_a_legal_person_drops_the_age() -> None:
    draft = new_draft(editing_from=complete_answers()).apply(Op.SECTION, "profile")
    draft = answered(LEGAL[:3], draft)
    assert draft.step is Step.REVIEW
    assert draft.answers.age is None
    validate_complete(draft.answers)


def test_reopening_the_themes_allows_skipping_them() -> None:
    draft = new_draft(editing_from=complete_answers()).apply(Op.SECTION, "themes")
    draft = draft.apply(Op.SKIP_THEMES, "x")
    assert draft.step is Step.REVIEW and draft.answers.themes == []


def test_the_when_section_opens_the_date_picker_and_now_forgets_the_saved_time() -> None:
    fixed = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    draft = new_draft(editing_from=complete_answers(fixed_at=fixed)).apply(Op.SECTION, "when")
    assert draft.step is Step.WHEN
    moved = on_day(draft, YESTERDAY_CODE).apply(Op.ANSWER, "15", now_local=NOW_LOCAL)
    assert moved.step is Step.REVIEW
    assert visit_time(moved.answers, NOW, PARIS) == datetime(2026, 11, 25, 14, tzinfo=UTC)
    now = on_day(draft, "now")
    assert now.step is Step.REVIEW and now.answers.fixed_at is None


def test_sections_are_refused_outside_edit_mode_or_when_unknown() -> None:
    with pytest.raises(InvalidAnswer):
        answered(TYPICAL[:7]).apply(Op.SECTION, "profile")
    with pytest.raises(InvalidAnswer):
        new_draft(editing_from=complete_answers()).apply(Op.SECTION, "everything")


# ------------------------------------------------------------------------------ validation


def _request(demande: str, *actions: str) -> RequestAnswer:
    return RequestAnswer(demande=demande, actions=list(actions))


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"sexe": None}, id="no sexe"),
        pytest.param({"age": None}, id="no age for a woman"),
        pytest.param({"statut": None}, id="no statut"),
        pytest.param({"autonomie": None}, id="no autonomie"),
        pytest.param({"requests": []}, id="no request"),
        pytest.param({"requests": [_request("simulation")]}, id="a request without action"),
        pytest.param({"themes_done": False}, id="themes not answered"),
        pytest.param({"resolution": None}, id="no resolution"),
        pytest.param({"sexe": "personne_morale"}, id="an age for a legal person"),
        pytest.param({"sexe": "autre"}, id="unknown sexe"),
        pytest.param({"age": "12_15"}, id="unknown age"),
        pytest.param({"statut": "femme"}, id="a code of another question as statut"),
        pytest.param({"autonomie": "expert"}, id="unknown autonomie"),
        pytest.param({"resolution": "peut_etre"}, id="unknown resolution"),
        pytest.param({"requests": [_request("impots", "orientation")]}, id="unknown request"),
        pytest.param(
            {
                "requests": [
                    _request("simulation", "orientation"),
                    _request("simulation", "info_conseil"),
                ]
            },
            id="duplicate request",
        ),
        pytest.param(
            {"requests": [_request("simulation"), _request("agenda", "orientation")]},
            id="an earlier request without action",
        ),
        pytest.param({"requests": [_request("simulation", "tricot")]}, id="unknown action"),
        pytest.param(
            {"requests": [_request("simulation", "orientation", "orientation")]},
            id="duplicate action",
        ),
        pytest.param({"themes": ["jardinage"]}, id="unknown theme"),
        pytest.param({"themes": ["petite_enfance", "petite_enfance"]}, id="duplicate theme"),
    ],
)
def test_validate_complete_refuses_incomplete_or_inconsistent_answers(
    changes: dict[str, object],
) -> None:
    answers = complete_answers(**changes)
    with pytest.raises(InvalidAnswer):
        validate_complete(answers)


def test_validate_complete_accepts_several_requests_actions_and_themes() -> None:
    validate_complete(
        complete_answers(
            requests=[
                _request("simulation", "orientation", "info_conseil"),
                _request("coordonnees", "accompagnement_en_ligne"),
            ],
            themes=list(tx.THEME.codes),
        )
    )


# ------------------------------------------------------------------------------ random walks

OPS = [op.value for op in Op] + ["zzz"]
VALUES = [
    *ALL_CODES,
    "demande",
    "action",
    "theme",
    "now",
    "today",
    "yesterday",
    TODAY_CODE,
    YESTERDAY_CODE,
    "20261119",  # 7 days before: never accepted
    "profile",
    "demandes",
    "themes",
    "resolution",
    "when",
    "x",
    "",
    *(str(h) for h in range(0, 24)),
]
PROFILES = st.sampled_from([None, PREVIOUS, PREVIOUS_LEGAL])


def _plausible_tap(draft: Draft, now_local: datetime) -> st.SearchStrategy[tuple[str, str]]:
    """A tap a person could make on the current screen, to walk deep into the flow."""
    step = draft.step
    if step in QUESTION_OF_STEP:
        return st.tuples(st.just(Op.ANSWER.value), st.sampled_from(QUESTION_OF_STEP[step].codes))
    if step is Step.HOUR:
        return st.tuples(st.just(Op.ANSWER.value), st.sampled_from([str(h) for h in range(24)]))
    if step is Step.WHEN:
        days = ["now", *(day_code(day) for day in day_choices(now_local))]
        return st.tuples(st.just(Op.DAY.value), st.sampled_from(days))
    return st.tuples(
        st.just(Op.SECTION.value),
        st.sampled_from(["profile", "demandes", "themes", "resolution", "when"]),
    )


local_nows = st.builds(
    lambda day, minutes: datetime.combine(day, time(), tzinfo=PARIS) + timedelta(minutes=minutes),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    st.integers(0, 24 * 60 - 1),
)


@given(st.data(), st.booleans(), PROFILES, local_nows)
def test_random_taps_keep_the_draft_serialisable_and_complete_drafts_valid(
    data: st.DataObject, editing: bool, previous: Profile | None, now_local: datetime
) -> None:
    draft = new_draft(editing_from=complete_answers() if editing else None)
    now = now_local.astimezone(UTC)
    # Drafts share the entries of their history: no later tap may change an earlier draft.
    earlier: list[tuple[Draft, object]] = []
    for _ in range(data.draw(st.integers(0, 50), label="length")):
        tap = data.draw(
            st.one_of(
                _plausible_tap(draft, now_local),
                _plausible_tap(draft, now_local),
                st.tuples(st.sampled_from(OPS), st.sampled_from(VALUES)),
            ),
            label="tap",
        )
        before = snapshot(draft)
        try:
            new = draft.apply(*tap, previous_profile=previous, now_local=now_local)
        except InvalidAnswer:
            assert snapshot(draft) == before, f"a refused {tap} changed the draft"
            continue
        assert snapshot(draft) == before, f"{tap} mutated the draft it was applied to"
        assert Draft.model_validate_json(new.model_dump_json()) == new
        a = new.answers
        if first_missing(a) is None:
            validate_complete(a)
            if new.adding is None and new.picking is None:
                assert new.step is (Step.REVIEW if editing else Step.DONE)
        if a.hour is not None:
            assert a.day in day_choices(now_local)
            assert visit_time(a, now, PARIS) <= now
        assert all(code in tx.DEMANDE.codes for code in (r.demande for r in a.requests))
        assert new.editing is editing
        earlier.append((draft, before))
        draft = new
    for old, its_snapshot in earlier:
        assert snapshot(old) == its_snapshot, "a later tap changed an earlier draft"


# ------------------------------------------------------------------------------ the taxonomy


def test_the_profile_questions_have_the_codes_of_design_section_3() -> None:
    assert [q.code for q in tx.PROFILE] == ["sexe", "age", "statut", "autonomie"]
    assert tx.SEXE.codes == ("femme", "homme", "personne_morale")
    assert tx.AGE.codes == ("moins_25", "25_60", "plus_60")
    assert tx.STATUT.codes == ("allocataire", "non_allocataire")
    assert tx.AUTONOMIE.codes == ("debutant", "intermediaire", "autonome")
    assert tx.LEGAL_PERSON == "personne_morale"
    assert not tx.asks_age("personne_morale")
    assert tx.asks_age("femme") and tx.asks_age("homme")


def test_the_eleven_request_types_come_in_three_groups_in_annexe_2_order() -> None:
    groups = [(g.code, g.label, [o.code for o in g.options]) for g in tx.REQUEST_GROUPS]
    assert groups == [
        (
            "acces_droits",
            "Accès aux droits",
            ["simulation", "demande_prestation", "maintien_droit"],
        ),
        (
            "suivi_dossier",
            "Suivi dossier via mon compte",
            ["paiements", "courriers_notifications", "agenda", "attestations"],
        ),
        (
            "changements_situation",
            "Changements de situation",
            ["situation_familiale", "situation_pro", "situation_enfants", "coordonnees"],
        ),
    ]
    assert tx.DEMANDE.codes == tuple(code for _, _, codes in groups for code in codes)
    assert len(tx.DEMANDE.codes) == 11
    for group in tx.REQUEST_GROUPS:
        for option in group.options:
            assert tx.group_of(option.code) == group
    with pytest.raises(KeyError):
        tx.group_of("femme")


def test_the_actions_themes_and_resolution_have_the_codes_of_design_section_3() -> None:
    assert tx.ACTION.codes == (
        "info_conseil",
        "orientation",
        "aide_redactionnelle",
        "explication_courrier",
        "accompagnement_demarche",
        "accompagnement_en_ligne",
        "usage_autonome",
    )
    assert tx.THEME.codes == (
        "enfance_jeunesse",
        "logement_cadre_de_vie",
        "petite_enfance",
        "solidarite_insertion",
    )
    assert tx.RESOLUTION.codes == ("oui", "non", "partiellement")
    assert [q.code for q in tx.QUESTIONS] == [
        "sexe",
        "age",
        "statut",
        "autonomie",
        "demande",
        "action",
        "theme",
        "resolution",
    ]
    assert {q.code: q for q in tx.QUESTIONS} == tx.BY_CODE


def test_every_taxonomy_code_can_ride_in_a_button_callback() -> None:
    for question in tx.QUESTIONS:
        for code in question.codes:
            assert re.fullmatch(r"[a-z0-9_]{1,24}", code), code


@pytest.mark.parametrize("question", tx.QUESTIONS, ids=lambda q: q.code)
def test_every_button_text_and_prompt_fits_a_phone_button(question: tx.Question) -> None:
    assert 0 < len(question.prompt) <= 40
    assert 0 < len(question.label) <= 40
    for option in question.options:
        assert 0 < len(option.short) <= 40, option.short
        assert option.label
    for group in tx.REQUEST_GROUPS:
        assert len(f"— {group.label} —") <= 40


def test_a_question_refuses_duplicate_codes_and_unknown_options() -> None:
    with pytest.raises(ValueError):
        tx.Question("q", "Q", (tx.Option("a", "A"), tx.Option("a", "B")))
    with pytest.raises(KeyError):
        tx.SEXE.option("robot")
    assert tx.AGE.label_of("moins_25") == "Moins de 25 ans"
    assert tx.AGE.option("moins_25").short == "< 25 ans"
