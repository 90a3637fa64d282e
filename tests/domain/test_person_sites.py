"""bot/domain/person_sites.py: when a person of several sites is asked where they work, and
the rules of a change of role or sites."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.models import Caf, Member, Partner, Person, ReportingPeriod
from bot.domain.permissions import Action, LabelStatus, PersonStatus, Role
from bot.domain.person_sites import (
    SITE_BOUND,
    CannotChange,
    Unchangeable,
    check_joinable,
    check_role_change,
    current_after,
    must_ask_site,
    sites_after_move,
    sites_after_removal,
)

THEN = datetime(2026, 1, 5, 9, tzinfo=UTC)
TODAY = date(2026, 11, 26)
CAF = Caf(
    id=1,
    name="Caf de la Somme",
    reporting_period=ReportingPeriod.QUARTERLY,
    timezone="Europe/Paris",
    notify_chat_id=None,
    created_at=THEN,
)


def site(label: LabelStatus = LabelStatus.ACTIVE, id: int = 1) -> Partner:
    return Partner(
        id=id,
        caf_id=1,
        name=f"Site {id}",
        city="Ham",
        address="",
        label_status=label,
        label_status_since=THEN,
        label_reason=None,
        convention_start=None,
        created_at=THEN,
    )


def person(
    role: Role = Role.AGENT,
    status: PersonStatus = PersonStatus.ACTIVE,
    chosen_on: date | None = None,
) -> Person:
    return Person(
        id=10,
        telegram_user_id=7001,
        display_name="Agnès",
        role=role,
        caf_id=1,
        partner_id=None if role is Role.COORDINATOR else 1,
        status=status,
        joined_at=THEN,
        last_seen_at=THEN,
        revoked_at=None,
        site_chosen_on=chosen_on,
    )


def member(who: Person, sites: int, label: LabelStatus = LabelStatus.ACTIVE) -> Member:
    return Member(person=who, partner=site(label), caf=CAF, site_count=sites)


def test_a_person_of_several_sites_is_asked_once_a_day_for_what_depends_on_the_site() -> None:
    two = member(person(), 2)
    assert must_ask_site(two, Action.LOG_VISIT, TODAY)
    assert must_ask_site(two, Action.MY_FIGURES, TODAY)
    assert not must_ask_site(two, Action.DOCUMENTATION, TODAY)  # the same at every site
    assert not must_ask_site(two, Action.HELP, TODAY)
    assert not must_ask_site(two, Action.CHOOSE_SITE, TODAY)
    said = member(person(chosen_on=TODAY), 2)
    assert not must_ask_site(said, Action.LOG_VISIT, TODAY)
    assert must_ask_site(said, Action.LOG_VISIT, date(2026, 11, 27))  # the next day


def test_one_site_a_revoked_person_or_an_action_of_another_role_is_never_asked() -> None:
    assert not must_ask_site(member(person(), 1), Action.LOG_VISIT, TODAY)
    revoked = member(person(status=PersonStatus.REVOKED), 2)
    assert not must_ask_site(revoked, Action.LOG_VISIT, TODAY)
    assert not must_ask_site(member(person(), 2), Action.MANAGE_HOURS, TODAY)  # an agent
    assert must_ask_site(member(person(Role.MANAGER), 2), Action.MANAGE_HOURS, TODAY)


def test_a_person_at_a_withdrawn_site_is_still_asked_they_may_go_to_another() -> None:
    assert must_ask_site(member(person(), 2, LabelStatus.WITHDRAWN), Action.LOG_VISIT, TODAY)


def test_every_site_bound_action_is_an_agents_or_a_managers() -> None:
    assert Action.INDICATORS in SITE_BOUND and Action.MANAGE_SITE_AGENTS in SITE_BOUND
    assert Action.MANAGE_NETWORK not in SITE_BOUND


@pytest.mark.parametrize(
    ("who", "role", "why"),
    [
        (person(Role.COORDINATOR), Role.AGENT, Unchangeable.COORDINATOR),
        (person(), Role.COORDINATOR, Unchangeable.COORDINATOR),
        (person(status=PersonStatus.REVOKED), Role.MANAGER, Unchangeable.REVOKED),
        (person(), Role.AGENT, Unchangeable.UNCHANGED),
    ],
)
def test_a_role_change_is_refused_with_its_reason(
    who: Person, role: Role, why: Unchangeable
) -> None:
    with pytest.raises(CannotChange) as refused:
        check_role_change(who, role)
    assert refused.value.why is why


def test_agent_and_manager_swap_roles() -> None:
    check_role_change(person(), Role.MANAGER)
    check_role_change(person(Role.MANAGER), Role.AGENT)


def test_a_withdrawn_site_takes_nobody_in() -> None:
    check_joinable(site(LabelStatus.SUSPENDED))
    with pytest.raises(CannotChange) as refused:
        check_joinable(site(LabelStatus.WITHDRAWN))
    assert refused.value.why is Unchangeable.WITHDRAWN_SITE


def test_a_move_replaces_the_sites_in_reach_and_keeps_the_others() -> None:
    # A coordinator reaches every site: the person is left with the new one only.
    assert sites_after_move({1, 2}, {1, 2, 3, 4}, 3) == {3}
    # A manager of sites 1 and 2 moves an agent of 1 and 5 (another partner's) to 2.
    assert sites_after_move({1, 5}, {1, 2}, 2) == {2, 5}


def test_the_last_site_is_never_removed() -> None:
    assert sites_after_removal({1, 2}, 2) == {1}
    with pytest.raises(CannotChange) as last:
        sites_after_removal({1}, 1)
    assert last.value.why is Unchangeable.LAST_SITE
    with pytest.raises(CannotChange) as gone:
        sites_after_removal({1, 2}, 3)
    assert gone.value.why is Unchangeable.UNCHANGED


def test_the_current_site_stays_unless_it_goes() -> None:
    assert current_after(1, {1, 2}) == 1
    assert current_after(1, {2, 3}) == 2
    assert current_after(None, {3, 2}) == 2
    assert current_after(1, {1, 2}, moved_to=2) == 2
