"""The visit log as stored and as told: a draft's and a visit's records, what a tap on a
draft did, one's recent visits (🗂 Mes visites), and an agent's counts.

bot/services/visits.py returns these; bot/ui/screens/visit.py turns each into what the agent
sees. Pure data, no Telegram and no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.models import Model
from bot.domain.visits import Answers, Draft


class DraftRecord(Model):
    """A visit being logged, as stored: its answers so far and the message showing them."""

    id: int
    person_id: int
    partner_id: int
    chat_id: int
    message_id: int | None
    revision: int
    draft: Draft
    training: bool
    editing_visit_id: int | None
    status: str  # open, saved or abandoned
    created_at: datetime
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status == "open"


class VisitRecord(Model):
    id: int
    draft_id: int
    person_id: int | None
    partner_id: int
    visited_at: datetime
    created_at: datetime
    answers: Answers
    training: bool = False


# ------------------------------------------------------------------------------ taps
@dataclass(frozen=True)
class Shown:
    """A draft as its message shows it, with what its current step offers besides the
    taxonomy: the previous visit's profile, the site's frequent requests."""

    record: DraftRecord
    has_previous_profile: bool = False
    frequent: tuple[str, ...] = ()


class Expiry(StrEnum):
    """Why a button of a draft no longer acts."""

    CLOSED = "closed"  # the draft was abandoned, replaced or saved elsewhere
    SITE_CHANGED = "site"  # the person moved to another site since
    NEWER = "newer"  # a newer message carries the draft


@dataclass(frozen=True)
class Expired:
    why: Expiry


@dataclass(frozen=True)
class Seen:
    """A tap of an earlier revision (a double tap, an update redelivered): nothing changed,
    the current step is shown again."""

    shown: Shown


@dataclass(frozen=True)
class Invalid:
    """The tap does not fit the current step; `reason` is French, for the person."""

    reason: str


@dataclass(frozen=True)
class Advanced:
    """The draft's next step; `moved` is False when another tap advanced it meanwhile."""

    shown: Shown
    moved: bool = True


@dataclass(frozen=True)
class Saved:
    """A visit stored (`first`), or found stored by an earlier tap whose confirmation was
    not shown. `visit` is None when it is gone since (undone)."""

    visit: VisitRecord | None
    modified: bool
    first: bool


@dataclass(frozen=True)
class Quit:
    """The draft abandoned (`closed`: by this tap); a modification left keeps its visit."""

    closed: bool
    kept: VisitRecord | None = None


@dataclass(frozen=True)
class Resumed:
    """A draft continued in the message tapped; the message that showed it before."""

    shown: Shown
    retired_message_id: int | None


Tapped = Expired | Seen | Invalid | Advanced | Saved | Quit


# ------------------------------------------------------------------------------ saved visits
@dataclass(frozen=True)
class Gone:
    """The visit was undone already."""


@dataclass(frozen=True)
class TooLate:
    """The undo window has passed: the visit stays, « ✏️ Modifier » is the way."""

    visit: VisitRecord


@dataclass(frozen=True)
class Undone:
    """`deleted` is False when another tap undid it first."""

    deleted: bool


Undoing = Gone | TooLate | Undone


# ------------------------------------------------------------------------------ 🗂 Mes visites
class VisitLine(Model):
    """One visit of 🗂 Mes visites: enough to recognise it, nothing to identify anybody."""

    id: int
    training: bool
    visited_at: datetime
    created_at: datetime
    demande: str | None  # its first request (Annexe 2 code)
    requests: int  # how many requests in all
    resolution: str | None


@dataclass(frozen=True)
class MyVisits:
    """A person's visits since `since` (their Caf's local midnight), newest first."""

    since: date
    today: date
    lines: list[VisitLine]


@dataclass(frozen=True)
class Cancelled:
    """🗑 Oui, l'annuler, from 🗂 Mes visites: the list as it stands after. `deleted` is False
    when another tap cancelled the visit first."""

    deleted: bool
    listing: MyVisits


@dataclass(frozen=True)
class Unlisted:
    """A visit named by a tap on 🗂 Mes visites that the list does not hold: cancelled
    meanwhile, or (`too_old`) visited before the list's first day — a stale card or a forged
    tap, refused; with the list as it stands."""

    listing: MyVisits
    too_old: bool = False


# ------------------------------------------------------------------------------ figures
@dataclass(frozen=True)
class Counts:
    today: int
    week: int
    month: int
    resolved: int = 0  # this month
    partly: int = 0  # this month


@dataclass(frozen=True)
class MyFigures:
    """📊 Mes chiffres: the agent's visits and their site's, and their training visits."""

    today: date
    mine: Counts
    site: Counts
    training: int


def calendar_bounds(today: date, tz: ZoneInfo) -> dict[str, tuple[datetime, datetime]]:
    """Local calendar day, week (from Monday) and month, as UTC-comparable instants."""

    def at(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=tz)

    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    return {
        "today": (at(today), at(today + timedelta(days=1))),
        "week": (at(week_start), at(week_start + timedelta(days=7))),
        "month": (at(month_start), at(next_month)),
    }
