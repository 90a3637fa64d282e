"""A person's role and sites as the network changes them, and the site of the day.

A person may belong to several sites of their Caf (an agent shared by two France Services, a
manager standing in for a colleague); `people.partner_id` is the one they work at now, which
visits, figures and permissions follow. Someone with several sites says where they work the
first time in a (local) day they open something that depends on the site, and may switch at
any time. A coordinator changes the role (agent ↔ manager) and the sites of their Caf's
people; a site's manager, the sites of their own sites' agents, among their own sites.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import date
from enum import StrEnum

from bot.domain.models import Member, Partner, Person
from bot.domain.permissions import BY_ROLE, Action, LabelStatus, PersonStatus, Role

# The menu entries that act on the site the person works at: the first of the day asks which.
# Documentation, news, invitations and one's data are the same at every site.
SITE_BOUND: frozenset[Action] = frozenset(
    {
        Action.LOG_VISIT,
        Action.MY_FIGURES,
        Action.REPORT_DIFFICULTY,
        Action.TRAINING_NEED,
        Action.CLOSED_TODAY,
        Action.MANAGE_HOURS,
        Action.MANAGE_CLOSURES,
        Action.VALIDATE_PERIOD,
        Action.MANAGE_SITE_AGENTS,
        Action.INDICATORS,
    }
)
# The roles a coordinator moves people between; a coordinator's own belongs to no site.
SITE_ROLES = (Role.AGENT, Role.MANAGER)


def must_ask_site(member: Member, action: Action, today: date) -> bool:
    """Whether opening `action` first asks where the person works today (`today`: the local
    day in their Caf's zone): only with several sites, once a day, for what depends on the
    site and what their role opens."""
    person = member.person
    return (
        member.site_count > 1
        and action in SITE_BOUND
        and person.status is PersonStatus.ACTIVE
        and person.role in SITE_ROLES
        and action in BY_ROLE[person.role]
        and person.site_chosen_on != today
    )


class Unchangeable(StrEnum):
    """Why a change of role or sites is refused; each is told in French by the screen."""

    COORDINATOR = "coordinator"  # a coordinator's role is not changed from a site's people
    REVOKED = "revoked"  # the person's access is taken away: nothing to change
    WITHDRAWN_SITE = "withdrawn_site"  # a site without its label takes nobody in
    LAST_SITE = "last_site"  # a person always keeps at least one site
    UNCHANGED = "unchanged"  # already so (a double tap, a colleague's change)


class CannotChange(Exception):
    def __init__(self, why: Unchangeable) -> None:
        super().__init__(why.value)
        self.why = why


def check_changeable(person: Person) -> None:
    """A person whose role or sites may change: active, and not a coordinator."""
    if person.role is Role.COORDINATOR:
        raise CannotChange(Unchangeable.COORDINATOR)
    if person.status is not PersonStatus.ACTIVE:
        raise CannotChange(Unchangeable.REVOKED)


def check_role_change(person: Person, role: Role) -> None:
    check_changeable(person)
    if role not in SITE_ROLES:
        raise CannotChange(Unchangeable.COORDINATOR)
    if person.role is role:
        raise CannotChange(Unchangeable.UNCHANGED)


def check_joinable(site: Partner) -> None:
    """A site someone may be placed at: one whose label is not withdrawn."""
    if site.label_status is LabelStatus.WITHDRAWN:
        raise CannotChange(Unchangeable.WITHDRAWN_SITE)


def sites_after_move(theirs: Set[int], reach: Set[int], to: int) -> set[int]:
    """A move to `to`: of the person's sites, those within the mover's reach (a
    coordinator's: the whole Caf; a manager's: their own sites) give way to `to`; those out
    of reach stay (a manager does not take an agent away from another partner's site)."""
    return (set(theirs) - set(reach)) | {to}


def sites_after_removal(theirs: Set[int], site: int) -> set[int]:
    if site not in theirs:
        raise CannotChange(Unchangeable.UNCHANGED)
    if len(theirs) == 1:
        raise CannotChange(Unchangeable.LAST_SITE)
    return set(theirs) - {site}


def current_after(current: int | None, sites: Set[int], moved_to: int | None = None) -> int:
    """The site a person works at once their sites are `sites`: where they were moved, else
    the one they were at if they keep it, else the first of the others (by id, stable)."""
    if moved_to is not None:
        return moved_to
    if current is not None and current in sites:
        return current
    return min(sites)
