"""The permission table of DESIGN.md §1, written out by hand and checked against `decide()`.

The expected sets below are transcribed from the brief, not from `bot/domain/permissions.py`:
a change to the code that drifts from the brief fails here, naming the person and the action.

Reading of the brief used for the table:
- a stranger may only ask for help (`/aide`); `/start` with a code is onboarding, not an action;
- an agent of an active site: log visits, "Mes chiffres", difficulties, training needs, "fermé
  aujourd'hui", read news, answer invitations, own signals' status, `/mesdonnees`, plus `/aide`
  and the Caf's documentation (§2, article 3: "documentation and information for partners");
- a manager: all of the agent's, plus hours, closures, period validation, the site's agents and
  the site's figures;
- suspended site: all of the above, visits included: a label under review is still in force
  (DESIGN.md §1 and rule 6; issue #16), only withdrawal stops the service;
- withdrawn site, revoked person: `/mesdonnees` only (the refusal is the explanation);
- a coordinator: the coordinator column of §1 (network and labels, invitations, inbox, broadcast,
  events, statistics, exports, compliance/audit), news and documentation, `/aide`, `/mesdonnees`;
  none of the site-level actions of an agent (they belong to no site).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from telegram import ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.domain.permissions import (
    Action,
    Actor,
    LabelStatus,
    PersonStatus,
    Refusal,
    Role,
    allowed_actions,
    decide,
)
from bot.domain.secrecy import must_commit
from bot.ui import menus

HELP_AND_MY_DATA = {Action.HELP, Action.MY_DATA}
AGENT_MAY = HELP_AND_MY_DATA | {
    Action.COMMIT_SECRECY,  # Article 5 (issue #17)
    Action.LOG_VISIT,
    Action.MY_FIGURES,
    Action.REPORT_DIFFICULTY,
    Action.TRAINING_NEED,
    Action.CLOSED_TODAY,
    Action.READ_NEWS,
    Action.DOCUMENTATION,
    Action.ANSWER_INVITATION,
    Action.OWN_SIGNALS,
}
MANAGER_MAY = AGENT_MAY | {
    Action.MANAGE_HOURS,
    Action.MANAGE_CLOSURES,
    Action.VALIDATE_PERIOD,
    Action.MANAGE_SITE_AGENTS,
    Action.INDICATORS,
}
COORDINATOR_MAY = HELP_AND_MY_DATA | {
    Action.MANAGE_NETWORK,
    Action.INBOX,
    Action.BROADCAST,
    Action.EVENTS,
    Action.INDICATORS,
    Action.EXPORT,
    Action.AUDIT,
    Action.COMPLIANCE,
    Action.READ_NEWS,
    Action.DOCUMENTATION,
}


@dataclass(frozen=True)
class Kind:
    """One row of the table: who, what they may do, and why anything else is refused."""

    name: str
    actor: Actor
    may: frozenset[Action]
    refusal: Refusal  # the reason for every refused action…
    special: tuple[tuple[Action, Refusal], ...] = ()  # …except these

    def expected(self, action: Action) -> Refusal | None:
        if action in self.may:
            return None
        return dict(self.special).get(action, self.refusal)


def _site_person(role: Role, label: LabelStatus, status: PersonStatus) -> Actor:
    return Actor(role=role, status=status, label=label)


ACTIVE, REVOKED = PersonStatus.ACTIVE, PersonStatus.REVOKED
# Issue #16: choosing one's site is for people of several sites (even from a withdrawn one).
ONE_SITE = ((Action.CHOOSE_SITE, Refusal.ONE_SITE),)
KINDS: tuple[Kind, ...] = (
    Kind("stranger", Actor(role=None), frozenset({Action.HELP}), Refusal.STRANGER),
    Kind(
        "agent of an active site",
        _site_person(Role.AGENT, LabelStatus.ACTIVE, ACTIVE),
        frozenset(AGENT_MAY),
        Refusal.ROLE,
        ONE_SITE,
    ),
    Kind(
        "manager of an active site",
        _site_person(Role.MANAGER, LabelStatus.ACTIVE, ACTIVE),
        frozenset(MANAGER_MAY),
        Refusal.ROLE,
        ONE_SITE,
    ),
    Kind(
        "agent of a suspended site",
        _site_person(Role.AGENT, LabelStatus.SUSPENDED, ACTIVE),
        frozenset(AGENT_MAY),
        Refusal.ROLE,
        ONE_SITE,
    ),
    Kind(
        "manager of a suspended site",
        _site_person(Role.MANAGER, LabelStatus.SUSPENDED, ACTIVE),
        frozenset(MANAGER_MAY),
        Refusal.ROLE,
        ONE_SITE,
    ),
    Kind(
        "agent of several sites",
        Actor(role=Role.AGENT, label=LabelStatus.ACTIVE, several_sites=True),
        frozenset(AGENT_MAY | {Action.CHOOSE_SITE}),
        Refusal.ROLE,
    ),
    Kind(
        "manager of several sites, at a withdrawn one now",
        Actor(role=Role.MANAGER, label=LabelStatus.WITHDRAWN, several_sites=True),
        frozenset({Action.MY_DATA, Action.CHOOSE_SITE}),
        Refusal.WITHDRAWN,
    ),
    Kind(
        "agent of a withdrawn site",
        _site_person(Role.AGENT, LabelStatus.WITHDRAWN, ACTIVE),
        frozenset({Action.MY_DATA}),
        Refusal.WITHDRAWN,
    ),
    Kind(
        "manager of a withdrawn site",
        _site_person(Role.MANAGER, LabelStatus.WITHDRAWN, ACTIVE),
        frozenset({Action.MY_DATA}),
        Refusal.WITHDRAWN,
    ),
    Kind("coordinator", Actor(role=Role.COORDINATOR), frozenset(COORDINATOR_MAY), Refusal.ROLE),
    # Issue #17, Article 5: before committing to secrecy, the statement only.
    Kind(
        "agent not yet committed to secrecy",
        Actor(role=Role.AGENT, label=LabelStatus.ACTIVE, committed=False),
        frozenset(HELP_AND_MY_DATA | {Action.COMMIT_SECRECY}),
        Refusal.UNCOMMITTED,
    ),
    Kind(
        "manager of several sites not yet committed to secrecy",
        Actor(role=Role.MANAGER, label=LabelStatus.SUSPENDED, several_sites=True, committed=False),
        frozenset(HELP_AND_MY_DATA | {Action.COMMIT_SECRECY}),
        Refusal.UNCOMMITTED,
    ),
    Kind(
        "agent of a withdrawn site not yet committed (the withdrawal is told)",
        Actor(role=Role.AGENT, label=LabelStatus.WITHDRAWN, committed=False),
        frozenset({Action.MY_DATA}),
        Refusal.WITHDRAWN,
    ),
    Kind(
        "revoked agent not yet committed",
        Actor(role=Role.AGENT, label=LabelStatus.ACTIVE, status=REVOKED, committed=False),
        frozenset({Action.MY_DATA}),
        Refusal.REVOKED,
    ),
    Kind(
        "revoked agent",
        _site_person(Role.AGENT, LabelStatus.ACTIVE, REVOKED),
        frozenset({Action.MY_DATA}),
        Refusal.REVOKED,
    ),
    Kind(
        "revoked manager",
        _site_person(Role.MANAGER, LabelStatus.ACTIVE, REVOKED),
        frozenset({Action.MY_DATA}),
        Refusal.REVOKED,
    ),
    Kind(
        "revoked agent of a suspended site",
        _site_person(Role.AGENT, LabelStatus.SUSPENDED, REVOKED),
        frozenset({Action.MY_DATA}),
        Refusal.REVOKED,
    ),
    Kind(
        "revoked manager of a withdrawn site",
        _site_person(Role.MANAGER, LabelStatus.WITHDRAWN, REVOKED),
        frozenset({Action.MY_DATA}),
        Refusal.REVOKED,
    ),
    Kind(
        "revoked coordinator",
        Actor(role=Role.COORDINATOR, status=REVOKED),
        frozenset({Action.MY_DATA}),
        Refusal.REVOKED,
    ),
)
BY_NAME = {kind.name: kind for kind in KINDS}


def _case_id(kind: Kind, action: Action) -> str:
    expected = kind.expected(action)
    verdict = "may" if expected is None else f"may not ({expected.value})"
    return f"{kind.name} {verdict} {action.value}"


MATRIX = [
    pytest.param(kind, action, id=_case_id(kind, action)) for kind in KINDS for action in Action
]


# ------------------------------------------------------------------------------ the matrix


@pytest.mark.parametrize(("kind", "action"), MATRIX)
def test_decide_follows_the_design_table_for_every_person_and_action(
    kind: Kind, action: Action
) -> None:
    assert decide(kind.actor, action) == kind.expected(action)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_allowed_actions_is_exactly_the_expected_set(kind: Kind) -> None:
    assert allowed_actions(kind.actor) == kind.may


def test_the_expected_table_names_only_real_actions_and_every_action_is_someones() -> None:
    everyone_may = set().union(*(kind.may for kind in KINDS))
    assert everyone_may == set(Action)


# ------------------------------------------------------------------------------ reasons


def test_a_stranger_is_refused_everything_but_help_as_a_stranger() -> None:
    stranger = BY_NAME["stranger"].actor
    assert decide(stranger, Action.HELP) is None
    assert decide(stranger, Action.MY_DATA) is Refusal.STRANGER
    assert decide(stranger, Action.LOG_VISIT) is Refusal.STRANGER


def test_a_revoked_person_is_refused_as_revoked_whatever_their_site_label() -> None:
    for name in ("revoked agent of a suspended site", "revoked manager of a withdrawn site"):
        actor = BY_NAME[name].actor
        assert decide(actor, Action.LOG_VISIT) is Refusal.REVOKED
        assert decide(actor, Action.HELP) is Refusal.REVOKED
        assert decide(actor, Action.MY_DATA) is None


def test_a_withdrawn_site_refuses_even_manager_actions_as_withdrawn() -> None:
    actor = BY_NAME["manager of a withdrawn site"].actor
    assert decide(actor, Action.MANAGE_HOURS) is Refusal.WITHDRAWN
    assert decide(actor, Action.HELP) is Refusal.WITHDRAWN
    assert decide(actor, Action.MANAGE_NETWORK) is Refusal.WITHDRAWN


def test_a_suspended_site_keeps_logging_visits_only_withdrawal_stops_the_service() -> None:
    """Issue #16: the convention knows a label granted or withdrawn; a review stops nothing."""
    agent = BY_NAME["agent of a suspended site"].actor
    assert decide(agent, Action.LOG_VISIT) is None
    assert decide(agent, Action.MANAGE_HOURS) is Refusal.ROLE
    assert decide(agent, Action.REPORT_DIFFICULTY) is None


def test_a_coordinator_does_not_log_visits_and_an_agent_does_not_manage_the_network() -> None:
    assert decide(BY_NAME["coordinator"].actor, Action.LOG_VISIT) is Refusal.ROLE
    assert decide(BY_NAME["agent of an active site"].actor, Action.MANAGE_NETWORK) is Refusal.ROLE
    assert decide(BY_NAME["agent of an active site"].actor, Action.INDICATORS) is Refusal.ROLE


# ------------------------------------------------------------------------------ menus


def _menu_labels(markup: ReplyKeyboardMarkup | ReplyKeyboardRemove) -> list[str]:
    if isinstance(markup, ReplyKeyboardRemove):
        return []
    return [button.text for row in markup.keyboard for button in row]


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_the_main_menu_shows_no_entry_whose_action_is_refused(kind: Kind) -> None:
    labels = _menu_labels(menus.main_menu(kind.actor))
    for label in labels:
        entry = menus.BY_LABEL[label]
        assert entry.action in kind.may, f"{kind.name} sees {label!r}"
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_the_main_menu_shows_every_entry_whose_action_is_allowed(kind: Kind) -> None:
    expected = [
        entry.label
        for entry in menus.ENTRIES
        if entry.action in kind.may and entry.offered_to(kind.actor)
    ]
    assert _menu_labels(menus.main_menu(kind.actor)) == expected


def test_coordinators_read_news_without_the_readers_entry() -> None:
    """They write the news and hold the events: « 📰 Actualités » is for the sites' people,
    though a coordinator may still acknowledge a notice (and type /actualites)."""
    coordinator = BY_NAME["coordinator"].actor
    assert decide(coordinator, Action.READ_NEWS) is None
    assert "📰 Actualités" not in _menu_labels(menus.main_menu(coordinator))
    assert "actualites" not in [c.command for c in menus.commands_for(coordinator)]
    for name in ("agent of an active site", "manager of a suspended site"):
        assert "📰 Actualités" in _menu_labels(menus.main_menu(BY_NAME[name].actor))


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_the_command_list_offers_no_command_whose_action_is_refused(kind: Kind) -> None:
    by_command = {entry.command: entry for entry in menus.ENTRIES}
    commands = [command.command for command in menus.commands_for(kind.actor)]
    assert commands[0] == "start"
    # /mesdonnees is everyone's, whatever their rights (RGPD), before /annuler.
    assert commands[-2:] == ["mesdonnees", "annuler"]
    for command in commands[1:-2]:
        assert by_command[command].action in kind.may, f"{kind.name} has /{command}"
    expected = [
        entry.command
        for entry in menus.ENTRIES
        if entry.action in kind.may and entry.offered_to(kind.actor)
    ]
    assert commands[1:-2] == expected


@pytest.mark.parametrize("name", ["agent of an active site", "manager of an active site"])
def test_the_menu_of_a_person_who_logs_visits_starts_with_new_visit_alone_on_its_row(
    name: str,
) -> None:
    markup = menus.main_menu(BY_NAME[name].actor)
    assert isinstance(markup, ReplyKeyboardMarkup)
    assert [button.text for button in markup.keyboard[0]] == ["📝 Nouvelle visite"]


def test_a_suspended_agent_keeps_the_whole_menu_under_a_visible_flag() -> None:
    suspended = menus.main_menu(BY_NAME["agent of a suspended site"].actor)
    active = menus.main_menu(BY_NAME["agent of an active site"].actor)
    assert isinstance(suspended, ReplyKeyboardMarkup) and isinstance(active, ReplyKeyboardMarkup)
    assert _menu_labels(suspended) == _menu_labels(active)
    assert "📝 Nouvelle visite" in _menu_labels(suspended)
    assert suspended.input_field_placeholder == menus.SUSPENDED_PLACEHOLDER
    assert active.input_field_placeholder == menus.MENU_PLACEHOLDER


def test_a_stranger_sees_only_help_and_a_withdrawn_agent_gets_no_keyboard() -> None:
    assert _menu_labels(menus.main_menu(BY_NAME["stranger"].actor)) == ["❓ Aide"]
    assert isinstance(
        menus.main_menu(BY_NAME["agent of a withdrawn site"].actor), ReplyKeyboardRemove
    )
    assert isinstance(menus.main_menu(BY_NAME["revoked coordinator"].actor), ReplyKeyboardRemove)


def test_the_statement_on_secrecy_is_offered_only_to_whoever_may_commit() -> None:
    """Issue #17, Article 5: not to a revoked person, nor at a withdrawn site, nor to the
    Caf's coordinators (they are not asked)."""
    assert must_commit(BY_NAME["agent not yet committed to secrecy"].actor)
    assert must_commit(BY_NAME["manager of several sites not yet committed to secrecy"].actor)
    assert not must_commit(BY_NAME["agent of an active site"].actor)
    assert not must_commit(
        BY_NAME["agent of a withdrawn site not yet committed (the withdrawal is told)"].actor
    )
    assert not must_commit(BY_NAME["revoked agent not yet committed"].actor)
    assert not must_commit(Actor(role=Role.COORDINATOR, committed=False))
    assert _menu_labels(menus.main_menu(BY_NAME["agent not yet committed to secrecy"].actor)) == [
        "❓ Aide"
    ]
