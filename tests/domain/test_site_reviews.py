"""The yearly visit's rules: dates of a visit and of an action, the draft's moves and JSON."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.domain.site_reviews import (
    BY_KEY,
    CHECK_KEYS,
    CHECK_STEPS,
    CHECKS,
    MAX_ITEMS,
    DraftState,
    ItemReminder,
    Owner,
    ReviewError,
    Step,
    add_months,
    due_choices,
    is_overdue,
    item_reminder_due,
    parse_due_day,
    parse_visit_day,
)

TODAY = date(2026, 11, 26)  # a Thursday


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("aujourd'hui", TODAY),
        ("Hier", date(2026, 11, 25)),
        ("avant-hier", date(2026, 11, 24)),
        ("24/11", date(2026, 11, 24)),
        ("lundi 23 novembre", date(2026, 11, 23)),
        ("3/10", date(2026, 10, 3)),
        # Read forward as next year by the shared parser: a visit is in the past.
        ("5/03", date(2026, 3, 5)),
        ("15 janvier", date(2026, 1, 15)),
        ("15/12/2025", date(2025, 12, 15)),
    ],
)
def test_a_visit_day_is_read_in_the_past(typed: str, expected: date) -> None:
    assert parse_visit_day(typed, TODAY) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("demain", "à venir"),
        ("27/11", "à venir"),
        ("15/12", "à venir"),
        ("5/03/2027", "à venir"),
        ("1/01/2025", "plus d'un an"),
        ("bientôt", "Je n'ai pas compris"),
        ("31/02", "n'existe pas"),
    ],
)
def test_a_visit_day_to_come_or_unreadable_is_refused_with_a_past_example(
    typed: str, message: str
) -> None:
    with pytest.raises(ReviewError) as refused:
        parse_visit_day(typed, TODAY)
    assert message in str(refused.value)
    if "exemple" in str(refused.value):
        assert "25/11" in str(refused.value)  # yesterday, which is accepted
        assert "27/11" not in str(refused.value)


def test_a_due_date_is_today_or_later_within_two_years() -> None:
    assert parse_due_day("15/03", TODAY) == date(2027, 3, 15)
    assert parse_due_day("aujourd'hui", TODAY) == TODAY
    with pytest.raises(ReviewError, match="passée"):
        parse_due_day("20/11", TODAY)
    with pytest.raises(ReviewError, match="deux ans"):
        parse_due_day("1/01/2030", TODAY)


def test_months_ahead_keep_the_day_or_take_the_months_last() -> None:
    assert add_months(date(2026, 11, 26), 3) == date(2027, 2, 26)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert [due for _, due in due_choices(TODAY)] == [
        date(2026, 12, 26),
        date(2027, 2, 26),
        date(2027, 5, 26),
    ]


def test_overdue_starts_the_day_after_the_due_date() -> None:
    assert not is_overdue(TODAY, TODAY)
    assert is_overdue(date(2026, 11, 25), TODAY)


def answered(state: DraftState, *wanting: str) -> DraftState:
    """Every point of the checklist answered in order, « non » to those of `wanting`."""
    for step in CHECK_STEPS:
        assert state.step is step  # the wizard asks them one after the other
        state = state.with_check(step, step.value not in wanting)
    return state


def test_a_draft_walks_forward_and_back_and_survives_json() -> None:
    state = answered(DraftState().with_date(TODAY), "equipment")
    assert state.step is Step.REMARKS and state.complete
    state = state.with_remarks("Affichage à revoir.").adding_item()
    state = state.with_description("Afficher les horaires").with_owner(Owner.PARTNER)
    state = state.with_due(date(2026, 12, 26))
    assert state.step is Step.PLAN and len(state.items) == 1
    assert state.new_description is None and state.complete
    back = state.adding_item().with_description("Former l'agent").back()
    assert back is not None and back.step is Step.ITEM_TEXT
    back = back.back()
    assert back is not None and back.step is Step.PLAN and back.new_description is None
    assert DraftState.from_json(state.to_json()) == state
    assert state.without_item(0).items == ()
    with pytest.raises(ReviewError):
        state.without_item(3)
    assert DraftState().back() is None


def test_a_plan_has_a_limit_and_texts_their_length() -> None:
    state = DraftState(step=Step.PLAN)
    for n in range(MAX_ITEMS):
        state = state.adding_item().with_description(f"Action {n}")
        state = state.with_owner(Owner.CAF).with_due(TODAY)
    with pytest.raises(ReviewError, match="au plus"):
        state.adding_item()
    with pytest.raises(ReviewError):
        DraftState(step=Step.ITEM_TEXT).with_description("x" * 301)
    with pytest.raises(ReviewError):
        DraftState(step=Step.ITEM_OWNER).with_owner(Owner.BOTH)  # no description yet


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 12, 18), None),  # 8 days before
        (date(2026, 12, 19), ItemReminder.SOON),  # a week before
        (date(2026, 12, 26), ItemReminder.SOON),  # the due day is not late
        (date(2026, 12, 27), ItemReminder.OVERDUE),
        (date(2027, 6, 1), ItemReminder.OVERDUE),  # a bot down the whole week: overdue only
    ],
)
def test_an_item_is_recalled_a_week_before_its_due_date_then_once_late(
    today: date, expected: ItemReminder | None
) -> None:
    assert item_reminder_due(date(2026, 12, 26), today) is expected


# ------------------------------------------------------------------------------ the checklist
def test_the_checklist_holds_the_points_articles_4_and_9_list_each_with_its_step() -> None:
    assert CHECK_KEYS == (
        "premises",
        "equipment",
        "hours",
        "confidentiality",
        "accessibility",
        "signage",
        "safety",
        "situation",
    )
    assert [step.value for step in CHECK_STEPS] == list(CHECK_KEYS)
    assert all(step.check is BY_KEY[step.value] for step in CHECK_STEPS)
    assert Step.REMARKS.check is None and not any(step.typed for step in CHECK_STEPS)
    # Every label, question and proposal is French text a person reads.
    for check in CHECKS:
        assert check.question.endswith(" ?") and check.label and check.proposal


def test_going_back_walks_the_checklist_in_reverse() -> None:
    state = answered(DraftState().with_date(TODAY))
    seen = []
    while (previous := state.back()) is not None:
        state = previous
        seen.append(state.step)
    assert seen == [*reversed(CHECK_STEPS), Step.DATE]


def test_a_point_found_wanting_proposes_its_action_once() -> None:
    state = answered(DraftState().with_date(TODAY), "accessibility", "situation")
    assert state.missing == ("accessibility", "situation")
    state = state.with_remarks(None).with_proposals(TODAY)
    assert [(i.point, i.owner, i.due_on) for i in state.items] == [
        ("accessibility", Owner.PARTNER, date(2027, 2, 26)),
        ("situation", Owner.BOTH, date(2027, 2, 26)),
    ]
    assert state.items[0].description == BY_KEY["accessibility"].proposal
    # Again (another button at the plan): nothing doubles.
    assert state.with_proposals(TODAY) == state
    # A proposal removed by the coordinator is not proposed again.
    removed = state.without_item(0).with_proposals(TODAY)
    assert [i.point for i in removed.items] == ["situation"]
    assert DraftState.from_json(removed.to_json()) == removed


def test_a_point_answered_again_updates_the_proposals() -> None:
    state = answered(DraftState().with_date(TODAY), "signage").with_remarks(None)
    state = state.with_proposals(TODAY).adding_item().with_description("Former l'agent")
    state = state.with_owner(Owner.CAF).with_due(TODAY)
    # Back to the signage, now answered « oui », and the safety « non ».
    state = state.with_check(Step.SIGNAGE, True).with_check(Step.SAFETY, False)
    state = state.with_check(Step.SITUATION, True).with_remarks(None).with_proposals(TODAY)
    assert [(i.point, i.description) for i in state.items] == [
        (None, "Former l'agent"),
        ("safety", BY_KEY["safety"].proposal),
    ]


def test_proposals_never_overflow_the_plan() -> None:
    state = DraftState(step=Step.PLAN)
    for n in range(MAX_ITEMS - 2):
        state = state.adding_item().with_description(f"Action {n}")
        state = state.with_owner(Owner.CAF).with_due(TODAY)
    state = answered(replace(state, step=Step.DATE).with_date(TODAY), *CHECK_KEYS)
    assert len(state.with_remarks(None).with_proposals(TODAY).items) == MAX_ITEMS


def test_a_draft_begun_before_the_full_checklist_asks_its_new_points() -> None:
    before = {
        "step": "plan",
        "visited_on": TODAY.isoformat(),
        "answers": {"premises": True, "equipment": True, "hours": False},
        "remarks": None,
        "items": [],
    }
    state = DraftState.from_json(before)
    assert state.step is Step.CONFIDENTIALITY and not state.complete
    for step in CHECK_STEPS[3:]:
        state = state.with_check(step, True)
    assert state.step is Step.REMARKS and state.complete and state.missing == ("hours",)
