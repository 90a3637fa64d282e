"""Who may do what: DESIGN.md §1's permission table, as one table in code.

Every handler asks `decide(actor, action)` with the person loaded from the database on that
very update; nothing is cached across updates, so a suspension or a revocation takes effect
on the next tap.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.labelled import Labelled


class Role(Labelled):
    AGENT = "agent", "agent d'accueil"
    MANAGER = "manager", "responsable de site"
    COORDINATOR = "coordinator", "coordinateur·rice Caf"


class PersonStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class LabelStatus(Labelled):
    ACTIVE = "active", "actif"
    SUSPENDED = "suspended", "suspendu"
    WITHDRAWN = "withdrawn", "retiré"


class Action(StrEnum):
    # Anyone who may talk to the bot
    HELP = "help"
    MY_DATA = "my_data"
    # Agents and managers: commit to professional secrecy (Article 5), before anything else
    COMMIT_SECRECY = "commit_secrecy"
    # Agents (and managers) of a labelled site
    LOG_VISIT = "log_visit"
    MY_FIGURES = "my_figures"
    REPORT_DIFFICULTY = "report_difficulty"
    TRAINING_NEED = "training_need"
    CLOSED_TODAY = "closed_today"
    READ_NEWS = "read_news"
    DOCUMENTATION = "documentation"
    ANSWER_INVITATION = "answer_invitation"
    OWN_SIGNALS = "own_signals"
    # Agents and managers who work at several sites: say which one they work at now
    CHOOSE_SITE = "choose_site"
    # Managers
    MANAGE_HOURS = "manage_hours"
    MANAGE_CLOSURES = "manage_closures"
    VALIDATE_PERIOD = "validate_period"
    MANAGE_SITE_AGENTS = "manage_site_agents"
    # Managers (their site) and coordinators (their Caf): Annexe 2 figures, charts, exports
    INDICATORS = "indicators"
    # Coordinators (their own Caf only)
    MANAGE_NETWORK = "manage_network"
    INBOX = "inbox"
    BROADCAST = "broadcast"
    EVENTS = "events"
    EXPORT = "export"
    AUDIT = "audit"
    COMPLIANCE = "compliance"


ALWAYS: frozenset[Action] = frozenset({Action.HELP, Action.MY_DATA})

AGENT: frozenset[Action] = ALWAYS | {
    Action.COMMIT_SECRECY,
    Action.LOG_VISIT,
    Action.MY_FIGURES,
    Action.REPORT_DIFFICULTY,
    Action.TRAINING_NEED,
    Action.CLOSED_TODAY,
    Action.READ_NEWS,
    Action.DOCUMENTATION,
    Action.ANSWER_INVITATION,
    Action.OWN_SIGNALS,
    Action.CHOOSE_SITE,
}
MANAGER: frozenset[Action] = AGENT | {
    Action.MANAGE_HOURS,
    Action.MANAGE_CLOSURES,
    Action.VALIDATE_PERIOD,
    Action.MANAGE_SITE_AGENTS,
    Action.INDICATORS,
}
COORDINATOR: frozenset[Action] = ALWAYS | {
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
BY_ROLE: dict[Role, frozenset[Action]] = {
    Role.AGENT: AGENT,
    Role.MANAGER: MANAGER,
    Role.COORDINATOR: COORDINATOR,
}
# A suspended label forbids nothing: the convention knows only a label granted or withdrawn,
# and while the Caf reviews it the label is still in force (Articles 4 and 9 still ask for the
# indicators). The site is flagged, never stopped; only withdrawal stops the service.


class Refusal(StrEnum):
    """Why an action is refused; each has its own French explanation in the templates."""

    STRANGER = "stranger"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"
    ROLE = "role"
    ONE_SITE = "one_site"  # choosing one's site, with a single site
    UNCOMMITTED = "uncommitted"  # an agent or manager not yet committed to secrecy


@dataclass(frozen=True)
class Actor:
    """What the permission table needs to know about whoever sent an update."""

    role: Role | None  # None: a stranger
    status: PersonStatus = PersonStatus.ACTIVE
    label: LabelStatus | None = None  # the partner's label, for agents and managers
    several_sites: bool = False  # an agent or manager who works at more than one site
    # Committed to the current statement on professional secrecy (Article 5,
    # bot/domain/secrecy.py); coordinators are not asked.
    committed: bool = True


STRANGER = Actor(role=None)


def decide(actor: Actor, action: Action) -> Refusal | None:
    """None when the actor may do the action, else the reason for refusing."""
    if actor.role is None:
        return None if action is Action.HELP else Refusal.STRANGER
    if actor.status is PersonStatus.REVOKED:
        return None if action is Action.MY_DATA else Refusal.REVOKED
    if actor.role is not Role.COORDINATOR:
        if _uncommitted(actor) and action not in ALWAYS | {Action.COMMIT_SECRECY}:
            return Refusal.UNCOMMITTED
        if action is Action.CHOOSE_SITE:
            return _choose_site(actor)
        if actor.label is LabelStatus.WITHDRAWN and action is not Action.MY_DATA:
            return Refusal.WITHDRAWN
    return None if action in BY_ROLE[actor.role] else Refusal.ROLE


def _uncommitted(actor: Actor) -> bool:
    """Not yet committed to secrecy (Article 5): nothing but the statement is offered. At a
    withdrawn site there is nothing to commit for: the withdrawal is what they are told."""
    return not actor.committed and actor.label is not LabelStatus.WITHDRAWN


def _choose_site(actor: Actor) -> Refusal | None:
    """With several sites, even from a withdrawn one: they may go on at another site."""
    if actor.several_sites:
        return None
    return Refusal.WITHDRAWN if actor.label is LabelStatus.WITHDRAWN else Refusal.ONE_SITE


def allowed_actions(actor: Actor) -> frozenset[Action]:
    return frozenset(action for action in Action if decide(actor, action) is None)
