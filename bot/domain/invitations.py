"""Invitation codes: random, single use or limited, expiring, stored only as a hash; the
links as their makers see them; and when the Caf hears of agents who join together."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.models import Invitation

# 18 random bytes = 144 bits, written in the 64 characters Telegram allows in /start links.
CODE_BYTES = 18
_CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_DURATION = re.compile(r"^\s*(\d{1,4})\s*([mhdj]|w|sem)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "j": 86400, "w": 7 * 86400, "sem": 7 * 86400}


class InvitationProblem(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED_UP = "used_up"
    REVOKED = "revoked"


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def well_formed(code: str) -> bool:
    return bool(_CODE_SHAPE.fullmatch(code))


class InvitationLink(Invitation):
    """An invitation as its list shows it: who made it, for which site."""

    maker_name: str | None  # None: the server's operator, at the command line
    partner_name: str | None  # None: a coordinator's link, to the Caf itself
    partner_city: str | None

    @property
    def site(self) -> str | None:
        if self.partner_name is None:
            return None
        return (
            f"{self.partner_name} ({self.partner_city})" if self.partner_city else self.partner_name
        )


def is_live(invitation: Invitation, now: datetime) -> bool:
    """Can still let someone in: neither cancelled, nor expired, nor used up."""
    return problem_with(invitation, now) is None


def problem_with(invitation: Invitation | None, now: datetime) -> InvitationProblem | None:
    """Why an invitation cannot be used now, or None when it can."""
    if invitation is None:
        return InvitationProblem.UNKNOWN
    if invitation.revoked_at is not None:
        return InvitationProblem.REVOKED
    if invitation.expires_at <= now:
        return InvitationProblem.EXPIRED
    if invitation.uses_left <= 0:
        return InvitationProblem.USED_UP
    return None


class ThrottleScope(StrEnum):
    ACCOUNT = "account"  # this Telegram account sent its share of wrong codes
    EVERYONE = "everyone"  # wrong codes pour in from many accounts: each account's share is one


# While wrong codes from all accounts together are over their limit (a storm), each account
# may send this many within its window before it waits.
STORM_SHARE = 1


@dataclass(frozen=True)
class FailureWindow:
    """Wrong codes within a sliding window, and how many are allowed before checks pause.

    `release_at` is when enough of them will have left the window for checks to resume:
    the failure whose expiry brings the count back under the limit, plus the window.
    """

    scope: ThrottleScope
    failures: int
    limit: int
    release_at: datetime | None

    @property
    def exceeded(self) -> bool:
        return self.failures >= self.limit and self.release_at is not None


@dataclass(frozen=True)
class Throttle:
    scope: ThrottleScope
    failures: int
    until: datetime


def account_share(everyone: FailureWindow, share: int) -> int:
    """How many wrong codes one account may send within its window: `share`, or during a
    storm of wrong codes from all accounts (`everyone` over its limit) `STORM_SHARE`.

    This is all that is left of the global brake: it never refuses a valid code, it only
    makes each account of a storm wait after fewer wrong codes (and the service logs it).
    """
    return min(share, STORM_SHARE) if everyone.exceeded else share


def throttle(account: FailureWindow, now: datetime, *, share: int) -> Throttle | None:
    """Whether this account must wait before any code of its own is looked at again.

    Only failures pause, and only the account that sent them: a newcomer's valid code is
    never held back by anybody else's wrong codes. Guessing is no reason to do more: a code
    is 18 random bytes (144 bits, `new_code`: 24 URL-safe characters; `well_formed` only
    turns away what cannot be a code before any lookup, and narrows nothing a guesser must
    try), so with even 10 000 live links a guess has one chance in 2 × 10^39 of hitting
    one; a million accounts sending `INVITE_MAX_FAILURES` (5) codes every 15 minutes for a
    year make 1.75 × 10^11 guesses, one chance in 10^28 of a single hit. Looking a code up
    before any global brake therefore gives a guesser nothing the per-account limit (and the
    entropy) does not already deny them, while a global pause that refused valid codes let
    six throwaway accounts shut every Caf's door.

    The account in its own pause still waits, a valid code included: its codes are not looked
    at until the pause ends, and the attempt is not recorded. The pause is what bounds the work
    and the answers one account gets from the code check (two indexed counts per message,
    no hash, no lookup, the same answer whatever it sends); looking its codes up would lift
    that bound. Whoever holds a genuine link and typed five wrong codes first waits at most
    one window, and is told how long. `share`: the account's usual share of wrong codes;
    paused under it, the account waits for the storm's sake (scope EVERYONE).
    """
    if not account.exceeded or account.release_at is None or account.release_at <= now:
        return None
    own = account.failures >= share
    scope = ThrottleScope.ACCOUNT if own else ThrottleScope.EVERYONE
    return Throttle(scope, account.failures, account.release_at)


# Agents who join within minutes of each other (a team through one link, a training day) are
# told to the Caf in one notice: it leaves once nobody has joined for NEW_AGENTS_QUIET, and
# at the latest NEW_AGENTS_MAX_WAIT after the first of them.
NEW_AGENTS_QUIET = timedelta(minutes=5)
NEW_AGENTS_MAX_WAIT = timedelta(minutes=30)


def new_agents_notice_at(first_held_at: datetime, now: datetime) -> datetime:
    """When the notice of the agents held since `first_held_at` leaves, one more joining now."""
    return min(first_held_at + NEW_AGENTS_MAX_WAIT, now + NEW_AGENTS_QUIET)


def parse_duration(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `2w` (also `7j`, `2sem`) → a duration; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"durée « {text} » non comprise (exemples : 7d, 12h, 30m, 2w)")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])
