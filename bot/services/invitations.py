"""Invitation links: created by a coordinator, a site's manager or the server's operator, and
redeemed by a newcomer's /start.

Only a code's hash is stored; the clear code is returned once, to be shown once. Wrong codes
are throttled per account and across all accounts (`redeem`), and never logged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.domain import invitations as rules
from bot.domain.invitations import InvitationProblem, Throttle, ThrottleScope
from bot.domain.models import Caf, Invitation, Member, Partner, Person
from bot.domain.permissions import Role
from bot.domain.signals import NEW_AGENT_TOPIC, SignalKind
from bot.services import audit, signal_notices
from bot.services.network import NotTheirs, own_partner
from storage import cafs, invitations, partners, people
from storage import signals as signal_store
from storage.db import Database, Tx

log = logging.getLogger(__name__)

# A Telegram account with neither first nor last name still needs one in the lists.
NAMELESS = "Sans nom"
NAME_MAX = 64


@dataclass(frozen=True)
class NewInvitation:
    code: str  # in clear: shown once, never stored
    invitation: Invitation
    caf: Caf
    partner: Partner | None

    @property
    def role(self) -> Role:
        return self.invitation.role

    def link(self, bot_username: str) -> str:
        return f"https://t.me/{bot_username}?start={self.code}"


class Throttled(Exception):
    """Too many wrong codes lately: the code was not even looked at."""

    def __init__(self, wait: Throttle, now: datetime) -> None:
        super().__init__(wait.scope.value)
        self.scope = wait.scope
        self.minutes = max(1, math.ceil((wait.until - now).total_seconds() / 60))


class CodeRefused(Exception):
    """The code is unknown, expired, used up or revoked."""

    def __init__(self, problem: InvitationProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class Joined:
    member: Member
    notices: int  # messages queued for the Caf (a new agent is a training need)


async def create(
    db: Database,
    *,
    role: Role,
    caf: Caf,
    partner_id: int | None,
    uses: int,
    valid_for: timedelta,
    now: datetime,
    by: Member | None = None,
) -> NewInvitation:
    """An invitation for `role` at the site `partner_id` (None for a coordinator of `caf`).

    `by` is the coordinator or manager creating it, who must reach that site; None is the
    server's operator at the command line."""
    if (role is Role.COORDINATOR) != (partner_id is None):
        raise ValueError("a coordinator is invited to a Caf, anyone else to a site")
    async with db.transaction() as tx:
        partner = None
        if partner_id is not None:
            partner = await (
                own_partner(tx, by, partner_id) if by else partners.get(tx, partner_id)
            )
            if partner is None or partner.caf_id != caf.id:
                raise NotTheirs("not a partner of this Caf")
        code, invitation = await invitations.create(
            tx,
            role=role,
            caf_id=caf.id,
            partner_id=partner_id,
            uses=uses,
            expires_at=now + valid_for,
            created_by=by.person.id if by else None,
            now=now,
        )
        details = {"role": role.value, "partner": partner_id, "uses": uses}
        on = ("invitation", invitation.id)
        await audit.record(tx, by, "invitation.created", now, on, caf_id=caf.id, details=details)
    return NewInvitation(code, invitation, caf, partner)


def display_name(first_name: str | None, last_name: str | None) -> str:
    return " ".join(filter(None, [first_name, last_name]))[:NAME_MAX] or NAMELESS


async def redeem(
    db: Database,
    settings: Settings,
    *,
    telegram_user_id: int,
    name: str,
    code: str,
    now: datetime,
) -> Joined:
    """A stranger's /start with a code: registered with the invitation's role and site.

    Raises Throttled (nothing checked, nothing recorded) or CodeRefused (the wrong code
    counted against the account). A new agent is a training need the Caf hears of at once."""
    wait = await throttle(db, settings, telegram_user_id, now)
    if wait is not None:
        raise Throttled(wait, now)
    async with db.transaction() as tx:
        invitation = await invitations.find_by_code(tx, code) if rules.well_formed(code) else None
        problem = rules.problem_with(invitation, now)
        if problem is None and invitation and not await invitations.consume(tx, invitation.id, now):
            problem = InvitationProblem.USED_UP
        if problem is not None:
            await invitations.record_failure(tx, telegram_user_id, now)
        else:
            assert invitation is not None
            person = await people.register(
                tx,
                telegram_user_id=telegram_user_id,
                display_name=name,
                invitation=invitation,
                now=now,
            )
            details = {"role": person.role.value}
            on = ("invitation", invitation.id)
            await audit.record(tx, person, "person.joined", now, on, details=details)
            notices = await _new_agent_training(tx, person, settings.tz, now)
    if problem is not None:
        # Never the code itself: only why it was refused.
        log.info("Invitation code refused (%s)", problem.value)
        raise CodeRefused(problem)
    member = await people.member(db, person.id)
    assert member is not None
    return Joined(member, notices)


async def throttle(
    db: Database, settings: Settings, telegram_user_id: int, now: datetime
) -> Throttle | None:
    """Too many wrong codes lately, from this account or from all of them: wait.

    The code is not even looked at while throttled, and the attempt is not recorded, so at
    most INVITE_MAX_FAILURES codes per account and INVITE_GLOBAL_MAX_FAILURES codes in all
    are checked per window, however many accounts a guesser uses. Everyone, a newcomer with
    a genuine link included, waits for the end of a global pause: codes cannot be told apart
    without checking them. A pause ends at most one window after the last code checked.
    """
    # This account's window, then everyone's (None: all accounts): (account, seconds, limit).
    windows = [
        (telegram_user_id, settings.invite_failure_window_seconds, settings.invite_max_failures),
        (None, settings.invite_global_window_seconds, settings.invite_global_max_failures),
    ]
    async with db.read() as conn:
        counted = [
            await invitations.failure_window(
                conn, telegram_user_id=who, now=now, window=timedelta(seconds=s), limit=limit
            )
            for who, s, limit in windows
        ]
    wait = rules.throttle(counted, now)
    if wait is not None:
        # Neither the code nor the account: how many wrong codes, from whom, for how long.
        log.warning(
            "Invitation codes throttled (%s): %d wrong codes within the window, %d s to wait",
            "this account" if wait.scope is ThrottleScope.ACCOUNT else "all accounts",
            wait.failures,
            math.ceil((wait.until - now).total_seconds()),
        )
    return wait


async def _new_agent_training(tx: Tx, person: Person, tz: ZoneInfo, now: datetime) -> int:
    """Article 4: a new agent at a site is a training need the Caf hears of at once."""
    if person.role is not Role.AGENT:
        return 0
    assert person.partner_id is not None
    signal, new = await signal_store.raise_signal(
        tx,
        caf_id=person.caf_id,
        partner_id=person.partner_id,
        kind=SignalKind.TRAINING,
        reporter_id=person.id,
        category=NEW_AGENT_TOPIC,
        description="Signalé automatiquement à l'arrivée d'un nouvel agent.",
        dedup_key=f"new_agent:{person.id}",
        now=now,
    )
    caf = await cafs.get(tx, person.caf_id)
    if not new or caf is None:
        return 0
    return await signal_notices.announce(tx, caf, signal, tz=tz, now=now)
