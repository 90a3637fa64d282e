"""Events the Caf invites its network to (Articles 3 and 9): kinds, answers, reminders.

An answer is an upsert on (event, person): answering twice the same way changes nothing.
Past capacity a « Je participe » goes on the waiting list (first come, first served); when a
participant withdraws, the first on the list is promoted and told. Answers close at the
RSVP deadline and on a cancelled event, each with its own French reason.

The models live here rather than in storage so that the screens, which may not import
storage, can name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.audience import Audience
from bot.domain.labelled import Labelled
from bot.domain.models import Model

REMINDER_DAYS_BEFORE = (7, 1)
DEADLINE_REMINDER_DAYS_BEFORE = 2
#: What a coordinator gives, in this order, to create an event.
STEPS = ("title", "start", "end", "place", "capacity", "deadline")
#: The capacities offered in one tap (None: no limit); any other number is typed.
CAPACITIES = (None, 10, 20, 50, 100)


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
    BAD_CAPACITY = "bad_capacity"


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


def reminders(starts_at: datetime, deadline: datetime, now: datetime) -> list[Reminder]:
    """The reminders still ahead: participants 7 and 1 days before, the silent 2 days
    before the deadline."""
    planned = [
        Reminder(f"j{days}", starts_at - timedelta(days=days), False)
        for days in REMINDER_DAYS_BEFORE
    ]
    planned.append(
        Reminder("deadline", deadline - timedelta(days=DEADLINE_REMINDER_DAYS_BEFORE), True)
    )
    return [r for r in planned if r.due_at > now]


def validate_times(
    *, starts_at: datetime, ends_at: datetime, deadline: datetime, now: datetime
) -> str | None:
    """None when the times make sense; else a French reason."""
    if starts_at <= now:
        return "La date de l'événement est passée : choisissez une date à venir."
    if ends_at <= starts_at:
        return "L'heure de fin doit être après l'heure de début."
    if deadline > starts_at:
        return "La date limite de réponse doit précéder l'événement."
    if deadline <= now:
        return "La date limite de réponse est déjà passée."
    return None
