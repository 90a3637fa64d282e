"""Invitation codes: random, single use or limited, expiring, stored only as a hash."""

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
    ACCOUNT = "account"  # this Telegram account sent too many wrong codes
    EVERYONE = "everyone"  # all accounts together did: every code check waits


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


def throttle(windows: list[FailureWindow], now: datetime) -> Throttle | None:
    """Whether a code may be checked now; when not, the longest wait wins.

    A throttled attempt is answered without looking at the code and is not recorded, so
    the guesser gets no answer and cannot stretch the pause: at most `limit` codes are ever
    checked per window, from one account and from all of them together.
    """
    waits = [w for w in windows if w.exceeded and w.release_at is not None and w.release_at > now]
    if not waits:
        return None
    longest = max(waits, key=lambda w: w.release_at or now)
    assert longest.release_at is not None
    return Throttle(longest.scope, longest.failures, longest.release_at)


def parse_duration(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `2w` (also `7j`, `2sem`) → a duration; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"durée « {text} » non comprise (exemples : 7d, 12h, 30m, 2w)")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])
