"""Invitation codes: random, single use or limited, expiring, stored only as a hash."""

from __future__ import annotations

import hashlib
import re
import secrets
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


def parse_duration(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `2w` (also `7j`, `2sem`) → a duration; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"durée « {text} » non comprise (exemples : 7d, 12h, 30m, 2w)")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])
