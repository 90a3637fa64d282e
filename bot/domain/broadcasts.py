"""📢 Diffuser: the rules of a broadcast that do not depend on Telegram or the database.

The announcement itself is `bot.domain.models.Announcement`; who it reaches is
`bot.domain.audience.Audience`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.domain import privacy
from bot.domain.models import Model

# Telegram's limits are 4,096 characters for a message and 1,024 for a file's caption; the
# notice's own header takes a few.
TEXT_LIMIT = 4000
CAPTION_LIMIT = 1000
# The Caf's own contact details are public: a news item may give its phone or e-mail.
ALLOWED_IN_NEWS = frozenset(
    {privacy.IdentifierKind.PHONE, privacy.IdentifierKind.EMAIL, privacy.IdentifierKind.ADDRESS}
)


class Status(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


class Refusal(StrEnum):
    """Why a coordinator's tap on a broadcast changes nothing (a double tap, a stale screen)."""

    NOT_A_DRAFT = "not_a_draft"  # it left or was programmed meanwhile
    ALREADY_SENT = "already_sent"  # « send now » tapped twice
    PAST = "past"  # a moment already gone
    NOT_SCHEDULED = "not_scheduled"  # it left, or its programming was cancelled


class Reader(Model):
    """A recipient of a must-read notice and whether they have read it."""

    person_id: int
    display_name: str
    partner: str | None
    read_at: datetime | None
    telegram_user_id: int | None


def next_morning(today: date, weekday: int | None = None) -> date:
    """Tomorrow, or the next given weekday (0 = Monday) after today."""
    if weekday is None:
        return today + timedelta(days=1)
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
