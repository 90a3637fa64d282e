"""Events the Caf invites its network to (Articles 3 and 9): kinds, answers, reminders.

An answer is an upsert on (event, person): answering twice the same way changes nothing.
Past capacity a « Je participe » goes on the waiting list (first come, first served); when a
participant withdraws, the first on the list is promoted and told. Answers close at the
RSVP deadline and on a cancelled event, each with its own French reason.

Every hour of an event is its Caf's: the reminders fall at the Caf's reminder hour on their
day as the Caf counts days (`reminders` takes the Caf's zone), so an event at 14:00 in
La Réunion is reminded at 9:00 in La Réunion, not at 9:00 in Paris.

The models live here rather than in storage so that the screens, which may not import
storage, can name them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.audience import Audience
from bot.domain.labelled import Labelled
from bot.domain.models import Model

REMINDER_DAYS_BEFORE = (7, 1)
DEADLINE_REMINDER_DAYS_BEFORE = 2
#: What a coordinator gives, in this order, to create an event (the first by a button).
STEPS = ("kind", "title", "start", "end", "place", "capacity", "deadline")
#: The capacities offered in one tap (None: no limit); any other number is typed.
CAPACITIES = (None, 10, 20, 30, 50, 100)
MAX_CAPACITY = 10_000
TITLE_MAX = 120
PLACE_MAX = 300
#: The answer deadlines offered in one tap, in days before the start: the first still ahead.
DEADLINE_DAYS_BEFORE = (2, 1, 0)


class EventKind(Labelled):
    TRAINING_DAY = "training_day", "Journée annuelle de formation"
    COMMITTEE_PARTNER = "committee_partner", "Comité de pilotage du partenaire"
    COMMITTEE_NETWORK = "committee_network", "Comité de pilotage du réseau"
    YEARLY_VISIT = "yearly_visit", "Visite annuelle"
    MEETING = "meeting", "Réunion"


class Answer(Labelled):
    INVITED = "invited", "sans réponse"
    GOING = "going", "participe"
    WAITING = "waiting", "liste d'attente"
    DECLINED = "declined", "ne peut pas"


class Event(Model):
    id: int
    caf_id: int
    kind: EventKind
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    visio_url: str | None
    capacity: int | None
    rsvp_deadline: datetime
    audience_json: str
    status: str
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None

    @property
    def audience(self) -> Audience:
        return Audience.from_json(self.audience_json)


class Invitation(Model):
    """One person invited to an event, their answer and whether they came."""

    event_id: int
    person_id: int
    status: Answer
    answered_at: datetime | None
    waiting_since: datetime | None
    attended: bool | None
    display_name: str
    partner: str | None
    telegram_user_id: int | None


class Why(StrEnum):
    """Why a coordinator's step is refused (the screens say it in French)."""

    STEP_GONE = "step_gone"  # nothing is being typed any more
    STEP_PASSED = "step_passed"  # another step is being typed
    PUBLISHED = "published"  # a draft's setting, on a published event
    CANCEL_INSTEAD = "cancel_instead"  # abandoning a published event
    PUBLISHED_TWICE = "published_twice"
    DEADLINE_PASSED = "deadline_passed"
    NOT_STARTED = "not_started"  # attendance, before the event
    NOT_PUBLISHED = "not_published"  # cancelling a draft or a cancelled event
    # Typed answers
    PAST = "past"
    END_FIRST = "end_first"
    BAD_LINK = "bad_link"
    BAD_CAPACITY = "bad_capacity"  # not a whole number
    TOO_FEW_PLACES = "too_few_places"  # 0 or less
    TOO_MANY_PLACES = "too_many_places"  # over MAX_CAPACITY
    TITLE_TOO_LONG = "title_too_long"
    PLACE_TOO_LONG = "place_too_long"
    DEADLINE_AFTER_START = "deadline_after_start"
    DEADLINE_OVER = "deadline_over"  # a deadline already passed


@dataclass(frozen=True)
class Decision:
    """What an answer does: the new status, whether a place was freed, or why not."""

    status: Answer
    frees_a_place: bool = False
    refusal: str | None = None
    changed: bool = True


def decide(
    *,
    current: Answer,
    wants: bool,
    going: int,
    capacity: int | None,
    now: datetime,
    deadline: datetime,
    cancelled: bool,
) -> Decision:
    """The outcome of « Je participe » (wants) or « Je ne peux pas » (not wants)."""
    if cancelled:
        return Decision(current, refusal="Cet événement est annulé.", changed=False)
    if now > deadline:
        return Decision(
            current,
            refusal="La date limite de réponse est passée : contactez la Caf.",
            changed=False,
        )
    if wants:
        if current in (Answer.GOING, Answer.WAITING):
            return Decision(current, changed=False)
        if capacity is None or going < capacity:
            return Decision(Answer.GOING)
        return Decision(Answer.WAITING)
    if current is Answer.DECLINED:
        return Decision(current, changed=False)
    return Decision(Answer.DECLINED, frees_a_place=current is Answer.GOING)


@dataclass(frozen=True)
class Reminder:
    key: str  # unique per event: "j7", "j1", "deadline"
    due_at: datetime
    to_unanswered: bool  # else: to participants


def reminders(
    starts_at: datetime, deadline: datetime, now: datetime, *, zone: ZoneInfo, hour: int
) -> list[Reminder]:
    """The reminders still ahead, each at `hour` o'clock in the Caf's `zone` on its day:
    participants 7 days and the day before the event, those who have not answered 2 days
    before the deadline's day. Days are counted on the Caf's calendar (a change of summer
    time in between moves nothing)."""

    def at(day: date) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=zone)

    start_day = starts_at.astimezone(zone).date()
    planned = [
        Reminder(f"j{days}", at(start_day - timedelta(days=days)), False)
        for days in REMINDER_DAYS_BEFORE
    ]
    deadline_day = deadline.astimezone(zone).date()
    planned.append(
        Reminder("deadline", at(deadline_day - timedelta(days=DEADLINE_REMINDER_DAYS_BEFORE)), True)
    )
    return [r for r in planned if r.due_at > now]


def validate_times(
    *, starts_at: datetime, ends_at: datetime, deadline: datetime, now: datetime
) -> Why | None:
    """None when the times make sense; else why not."""
    if starts_at <= now:
        return Why.PAST
    if ends_at <= starts_at:
        return Why.END_FIRST
    if deadline > starts_at:
        return Why.DEADLINE_AFTER_START
    if deadline <= now:
        return Why.DEADLINE_OVER
    return None


def default_deadline(starts_at: datetime, now: datetime) -> int | None:
    """The answer deadline offered in one tap, in days before the start (2 days, the day
    before, the start itself): the first still ahead; None when the event has begun."""
    for days in DEADLINE_DAYS_BEFORE:
        if starts_at - timedelta(days=days) > now:
            return days
    return None


class CapacityError(ValueError):
    """A typed number of places that cannot be used; `why` is told in French."""

    def __init__(self, why: Why) -> None:
        super().__init__(why.value)
        self.why = why


# « 37 », « 37 places », « 1 000 » (with any of the spaces French separates thousands with).
_PLACES = re.compile(
    r"(?P<sign>[-−]?)\s*(?P<n>\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)"
    r"\s*(?:places?|personnes?|pers\.?|participants?|inscrits?)?",
    re.IGNORECASE,
)
_UNLIMITED = frozenset({"sans limite", "illimité", "illimite", "pas de limite", "aucune limite"})


def parse_capacity(text: str) -> int | None:
    """A number of places typed: a whole number from 1 to MAX_CAPACITY, or « sans limite »
    (None). Raises CapacityError."""
    cleaned = " ".join(text.split()).strip(" .!")
    if cleaned.lower() in _UNLIMITED:
        return None
    match = _PLACES.fullmatch(cleaned)
    if match is None:
        raise CapacityError(Why.BAD_CAPACITY)
    number = int(re.sub(r"\D", "", match["n"]))
    if match["sign"] or number < 1:
        raise CapacityError(Why.TOO_FEW_PLACES)
    if number > MAX_CAPACITY:
        raise CapacityError(Why.TOO_MANY_PLACES)
    return number
