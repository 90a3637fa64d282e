"""Invitation links: created by a coordinator, a site's manager or the server's operator, and
redeemed by a newcomer's /start.

Only a code's hash is stored; the clear code is returned once, to be shown once. Wrong codes
pause the account that sent them, never anybody else, and are never logged (`throttle`). A
revoked person who opens a new link comes back with their history (`redeem`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Settings
from bot.domain import invitations as rules
from bot.domain.invitations import InvitationProblem, Throttle, ThrottleScope
from bot.domain.models import Caf, Invitation, Member, Partner, Person
from bot.domain.permissions import PersonStatus, Role
from bot.domain.signals import NEW_AGENT_TOPIC, SignalKind
from bot.services import audit, signal_notices
from bot.services.network import NotTheirs, own_partner
from storage import cafs, invitations, partners, people
from storage import signals as signal_store
from storage.db import Conn, Database, Tx

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
    """This account sent too many wrong codes lately: the code was not even looked at."""

    def __init__(self, wait: Throttle, now: datetime) -> None:
        super().__init__(wait.scope.value)
        self.scope = wait.scope
        self.minutes = max(1, math.ceil((wait.until - now).total_seconds() / 60))


class AlreadyRegistered(Exception):
    """An active person opened a link: it stays unused (a coordinator changes roles)."""

    def __init__(self, member: Member) -> None:
        super().__init__(member.person.id)
        self.member = member


class CodeRefused(Exception):
    """The code is unknown, expired, used up or revoked."""

    def __init__(self, problem: InvitationProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class Joined:
    member: Member
    rejoined: bool  # a revoked person back through a new link, with their history


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
    """/start with a code: registered with the invitation's role and site, or (a revoked
    person) back with their history.

    Raises AlreadyRegistered (an active person: the link stays unused), Throttled (this
    account's pause: nothing checked, nothing recorded) or CodeRefused (the wrong code counted
    against the account). A valid code is never refused for anybody else's wrong codes
    (`throttle`). A new agent is a training need in the inbox at once, and the Caf hears of
    the agents who join together in one notice."""
    known = await people.member_by_telegram_id(db, telegram_user_id)
    if known is not None and known.person.status is PersonStatus.ACTIVE:
        raise AlreadyRegistered(known)
    wait = await throttle(db, settings, telegram_user_id, now)
    if wait is not None:
        raise Throttled(wait, now)
    async with db.transaction() as tx:
        invitation, problem = await _usable(tx, code, now)
        if problem is not None:
            await invitations.record_failure(tx, telegram_user_id, now)
        else:
            assert invitation is not None
            person, rejoined = await _enrol(tx, telegram_user_id, name, invitation, now)
            await _new_agent_training(tx, person, now)
    if problem is not None:
        # Never the code itself: only why it was refused.
        log.info("Invitation code refused (%s)", problem.value)
        await _storm_alert(db, settings, now)
        raise CodeRefused(problem)
    member = await people.member(db, person.id)
    assert member is not None
    return Joined(member, rejoined)


async def _usable(
    tx: Tx, code: str, now: datetime
) -> tuple[Invitation | None, InvitationProblem | None]:
    """The invitation behind the code with one use taken, or why it cannot serve."""
    invitation = await invitations.find_by_code(tx, code) if rules.well_formed(code) else None
    problem = rules.problem_with(invitation, now)
    if problem is None and invitation and not await invitations.consume(tx, invitation.id, now):
        problem = InvitationProblem.USED_UP
    return invitation, problem


async def _enrol(
    tx: Tx, telegram_user_id: int, name: str, invitation: Invitation, now: datetime
) -> tuple[Person, bool]:
    """A newcomer registered, or a revoked person reactivated with their history (their
    visits, signals and answers are theirs still); audited. True when they came back.

    An erased person is a stranger (their account was forgotten): they register anew."""
    known = await people.member_by_telegram_id(tx, telegram_user_id)
    on = ("invitation", invitation.id)
    if known is None:
        person = await people.register(
            tx, telegram_user_id=telegram_user_id, display_name=name, invitation=invitation, now=now
        )
        details = {"role": person.role.value}
        await audit.record(tx, person, "person.joined", now, on, details=details)
        return person, False
    if known.person.status is PersonStatus.ACTIVE:  # joined meanwhile (a redelivered /start)
        raise AlreadyRegistered(known)
    await people.reactivate(tx, known.person.id, invitation, now)
    back = await people.get(tx, known.person.id)
    assert back is not None
    details = {"role": back.role.value, "before": known.person.role.value}
    await audit.record(tx, back, "person.rejoined", now, on, details=details)
    return back, True


async def throttle(
    db: Database, settings: Settings, telegram_user_id: int, now: datetime
) -> Throttle | None:
    """This account's own pause on wrong codes, if it is in one: then wait.

    Only failures count, per account: INVITE_MAX_FAILURES wrong codes within the window,
    and the account's codes are not looked at (nor the attempt recorded) until the oldest
    of them leave it. What is left of the global brake: while the wrong codes of all
    accounts together are over INVITE_GLOBAL_MAX_FAILURES (a storm), each account's share
    drops to one wrong code, and every one of them is logged as a warning; a valid code is
    never refused for it. Why checking codes first is safe, and why the account in its own
    pause still waits (its valid code too): bot.domain.invitations.throttle.
    """
    async with db.read() as conn:
        everyone = await _everyone(conn, settings, now)
        account = await invitations.failure_window(
            conn,
            telegram_user_id=telegram_user_id,
            now=now,
            window=timedelta(seconds=settings.invite_failure_window_seconds),
            limit=rules.account_share(everyone, settings.invite_max_failures),
        )
    wait = rules.throttle(account, now, share=settings.invite_max_failures)
    if wait is not None:
        log.warning(
            "Invitation codes throttled (%s): %d wrong codes within the window, %d s to wait",
            "this account" if wait.scope is ThrottleScope.ACCOUNT else "storm share",
            wait.failures,
            math.ceil((wait.until - now).total_seconds()),
        )
    return wait


async def _everyone(conn: Conn, settings: Settings, now: datetime) -> rules.FailureWindow:
    """The wrong codes of all accounts together within INVITE_GLOBAL_WINDOW_SECONDS."""
    return await invitations.failure_window(
        conn,
        telegram_user_id=None,
        now=now,
        window=timedelta(seconds=settings.invite_global_window_seconds),
        limit=settings.invite_global_max_failures,
    )


async def _storm_alert(db: Database, settings: Settings, now: datetime) -> None:
    """The operator's alert, after a wrong code: wrong codes from all accounts are over
    INVITE_GLOBAL_MAX_FAILURES. How many, never a code nor an account."""
    async with db.read() as conn:
        everyone = await _everyone(conn, settings, now)
    if everyone.exceeded:
        log.warning(
            "Invitation codes: %d wrong codes from all accounts within the window;"
            " each account now waits after one (valid codes still pass)",
            everyone.failures,
        )


async def _new_agent_training(tx: Tx, person: Person, now: datetime) -> None:
    """Article 4: a new agent at a site is a training need, in the inbox at once; the Caf's
    coordinators hear of the agents who join together in one notice (signal_notices)."""
    if person.role is not Role.AGENT:
        return
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
    if new and caf is not None:
        await signal_notices.hold_new_agent(tx, caf, signal, now)
