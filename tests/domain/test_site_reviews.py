"""The yearly visit's rules: dates of a visit and of an action, the draft's moves and JSON."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.site_reviews import (
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


def test_a_draft_walks_forward_and_back_and_survives_json() -> None:
    state = DraftState().with_date(TODAY)
    state = state.with_check(Step.PREMISES, True)
    state = state.with_check(Step.EQUIPMENT, False)
    state = state.with_check(Step.HOURS, True)
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
