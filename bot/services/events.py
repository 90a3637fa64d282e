"""📅 Événements (Articles 3 and 9): an event created step by step, published to its audience,
answered (waiting list included), reminded, cancelled, and its attendance recorded.

Each public function that writes is one use case in one transaction, with its audit record
and the messages it sends (outbox rows, written in that same transaction): the handlers of
conversations/events.py, the command line and bot/jobs/event_reminders.py call them alike;
whoever calls them wakes the outbox sender afterwards.

An id that is not an event of the member's Caf (forged, another Caf's), a site of another
Caf or an answer from someone not invited is `UnknownEvent`, which a screen answers as a
stale button. An expected refusal (a draft already published, a step already answered…) is
`Denied`; a typed answer that cannot be used is `InvalidAnswer`: the screens say why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import closure_dates, moments, privacy
from bot.domain import events as rules
from bot.domain.audience import Audience, AudienceKind
from bot.domain.events import CAPACITIES, STEPS, Answer, Event, EventKind, Why
from bot.domain.models import Caf, Member, PendingInput, Person
from bot.exports.event_calendar import event_ics, ics_filename
from bot.services import audit, notify
from bot.ui.render import render
from bot.ui.screens import events as screens
from bot.ui.screens.events import (
    Answers,
    Attendance,
    Card,
    Created,
    Line,
    SitesChoice,
    Step,
)
from storage import audiences, partners, pending, people, scheduled
from storage import events as store
from storage.db import Conn, Database, Tx

REMINDER_KIND = "event_reminder"
REMINDER_KEYS = (*(f"j{days}" for days in rules.REMINDER_DAYS_BEFORE), "deadline")
# « 2 jours avant »: the answer deadline offered by default.
DEFAULT_DEADLINE = timedelta(days=2)
# A place is an address, with a phone number at times: not identifiers of a person there.
PLACE_ALLOWED = frozenset({privacy.IdentifierKind.ADDRESS, privacy.IdentifierKind.PHONE})
URL = re.compile(r"^https?://\S+\.\S+$")
MAX_CAPACITY = 10_000

Progress = Step | Created


class UnknownEvent(LookupError):
    """Not an event (or a site) of the member's Caf, or not theirs to answer."""


class Denied(Exception):
    """An expected refusal; `why` is told in French by the screens."""

    def __init__(self, why: Why) -> None:
        super().__init__(why.value)
        self.why = why


class InvalidAnswer(ValueError):
    """A typed step that cannot be used: our `why`, or the date parser's French `detail`."""

    def __init__(self, why: Why | None = None, detail: str = "") -> None:
        super().__init__(why.value if why else detail)
        self.why = why
        self.detail = detail


# ------------------------------------------------------------------------------ reading
async def overview(conn: Conn, caf: Caf) -> list[Line]:
    """The Caf's latest events, each with its participants."""
    return [
        Line(event, (await store.counts(conn, event.id))[Answer.GOING])
        for event in await store.for_caf(conn, caf.id)
    ]


async def home(db: Database, member: Member) -> list[Line]:
    """Back to the list: a half-typed event is forgotten."""
    await pending.clear(db, member.person.id)
    return await overview(db, member.caf)


async def _own(conn: Conn, member: Member, event_id: int) -> Event:
    event = await store.get(conn, event_id)
    if event is None or event.caf_id != member.caf.id:
        raise UnknownEvent("not an event of this Caf")
    return event


async def _draft(conn: Conn, member: Member, event_id: int, why: Why = Why.PUBLISHED) -> Event:
    event = await _own(conn, member, event_id)
    if event.status != "draft":
        raise Denied(why)
    return event


async def _card(conn: Conn, event: Event, now: datetime) -> Card:
    chosen = []
    if event.audience.kind is AudienceKind.PARTNERS:
        chosen = [
            p.title
            for p in await partners.list_for_caf(conn, event.caf_id)
            if p.id in event.audience.partners
        ]
    return Card(
        event=event,
        counts=await store.counts(conn, event.id),
        invited=await audiences.count(conn, event.caf_id, event.audience, with_coordinators=False),
        chosen=chosen,
        attended=await store.attended_count(conn, event.id),
        started=event.starts_at <= now,
    )


async def card(db: Database, member: Member, event_id: int, now: datetime) -> Card:
    return await _card(db, await _own(db, member, event_id), now)


async def answers(db: Database, member: Member, event_id: int) -> Answers:
    event = await _own(db, member, event_id)
    return Answers(event, await store.invitations(db, event.id))


async def attendance(db: Database, member: Member, event_id: int, now: datetime) -> Attendance:
    """The participants, once the event has begun."""
    event = await _own(db, member, event_id)
    if event.starts_at > now:
        raise Denied(Why.NOT_STARTED)
    return Attendance(event, await store.invitations(db, event.id, Answer.GOING))


async def cancellable(conn: Conn, member: Member, event_id: int) -> Event:
    """The published event a coordinator may cancel (asked to confirm first)."""
    event = await _own(conn, member, event_id)
    if event.status != "published":
        raise Denied(Why.NOT_PUBLISHED)
    return event


# ------------------------------------------------------------------------------ creation
async def _ask(
    conn: Conn,
    member: Member,
    step: str,
    context: dict[str, Any],
    now: datetime,
    problem: str | None = None,
) -> Step:
    """Notes the step to be typed next (what was given so far in its context)."""
    await pending.expect(conn, member.person.id, f"event_{step}", context, now)
    return Step(step, EventKind(context["kind"]), problem)


async def begin(db: Database, member: Member, kind: EventKind, now: datetime) -> Step:
    """A new event of this kind: its title comes next."""
    return await _ask(db, member, STEPS[0], {"kind": kind.value}, now)


async def take_default(db: Database, member: Member, step_index: int, now: datetime) -> Progress:
    """The one-tap default of the step being typed (title, capacity, deadline)."""
    expected = await pending.get(db, member.person.id)
    if not 0 <= step_index < len(STEPS) or expected is None:
        raise Denied(Why.STEP_GONE)
    step = STEPS[step_index]
    if expected.kind != f"event_{step}":
        raise Denied(Why.STEP_PASSED)
    context = dict(expected.context)
    if step == "title":
        context["title"] = EventKind(context["kind"]).label
    elif step == "capacity":
        context["capacity"] = None
    elif step == "deadline":
        start = datetime.fromisoformat(context["start"])
        context["deadline"] = (start - DEFAULT_DEADLINE).isoformat()
    else:  # a step without a default (only forged data names one)
        raise Denied(Why.STEP_PASSED)
    return await _advance(db, member, step, context, now)


async def take_capacity(
    db: Database, member: Member, capacity: int | None, now: datetime
) -> Progress:
    """One of the capacities offered in one tap."""
    expected = await pending.get(db, member.person.id)
    if expected is None or expected.kind != "event_capacity" or capacity not in CAPACITIES:
        raise Denied(Why.STEP_PASSED)
    return await _advance(db, member, "capacity", {**expected.context, "capacity": capacity}, now)


async def answer_step(
    db: Database, member: Member, expected: PendingInput, text: str, now: datetime, tz: ZoneInfo
) -> Progress:
    """A typed step (already through the privacy screen): checked, then the next one."""
    step = expected.kind.removeprefix("event_")
    try:
        change = _PARSERS[step](dict(expected.context), text, now, tz)
    except InvalidAnswer:
        raise
    except ValueError as error:  # the date parsers' French messages (MomentError…)
        raise InvalidAnswer(detail=str(error)) from None
    return await _advance(db, member, step, {**expected.context, **change}, now)


async def _advance(
    db: Database, member: Member, done: str, context: dict[str, Any], now: datetime
) -> Progress:
    """The next step, or the event saved as a draft once the last one is given."""
    index = STEPS.index(done)
    if index + 1 < len(STEPS):
        return await _ask(db, member, STEPS[index + 1], context, now)
    starts_at = datetime.fromisoformat(context["start"])
    ends_at = datetime.fromisoformat(context["end"])
    deadline = datetime.fromisoformat(context["deadline"])
    problem = rules.validate_times(starts_at=starts_at, ends_at=ends_at, deadline=deadline, now=now)
    if problem:
        return await _ask(db, member, "start", context, now, problem)
    async with db.transaction() as tx:
        event = await store.create(
            tx,
            caf_id=member.caf.id,
            kind=EventKind(context["kind"]),
            title=str(context["title"]),
            starts_at=starts_at,
            ends_at=ends_at,
            place=context.get("place"),
            visio_url=context.get("visio"),
            capacity=context.get("capacity"),
            rsvp_deadline=deadline,
            created_by=member.person.id,
            now=now,
        )
        await pending.clear(tx, member.person.id)
        await audit.record(tx, member, "event.created", now, ("event", event.id))
        return Created(await _card(tx, event, now))


# The typed steps: each returns what it adds to the context, or raises.
Parser = Callable[[dict[str, Any], str, datetime, ZoneInfo], dict[str, Any]]


def _moment(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    day, at = moments.parse_moment(text, now.astimezone(tz).date())
    return datetime.combine(day, at, tzinfo=tz)


def _title(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    return {"title": text}


def _start(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    start = _moment(text, now, tz)
    if start <= now:
        raise InvalidAnswer(Why.PAST)
    return {"start": start.isoformat()}


def _end(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """An hour on the day it starts, or another day and hour."""
    start = datetime.fromisoformat(context["start"])
    try:
        end = datetime.combine(start.date(), moments.parse_time(text), tzinfo=start.tzinfo)
    except moments.MomentError:
        end = _moment(text, now, tz)
    if end <= start:
        raise InvalidAnswer(Why.END_FIRST)
    return {"end": end.isoformat()}


def _place(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """An address, or the link of a video meeting."""
    if text.lower().startswith(("http://", "https://")):
        if not URL.match(text):
            raise InvalidAnswer(Why.BAD_LINK)
        return {"visio": text, "place": None}
    return {"place": text, "visio": None}


def _capacity(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    if not text.isdecimal() or not 0 < int(text) <= MAX_CAPACITY:
        raise InvalidAnswer(Why.BAD_CAPACITY)
    return {"capacity": int(text)}


def _deadline(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """A day and hour, or a day (until its end)."""
    try:
        deadline = _moment(text, now, tz)
    except moments.MomentError:
        day = closure_dates.parse_day(text, now.astimezone(tz).date())
        deadline = datetime.combine(day, time(23, 59, 59), tzinfo=tz)
    return {"deadline": deadline.isoformat()}


_PARSERS: dict[str, Parser] = {
    "title": _title,
    "start": _start,
    "end": _end,
    "place": _place,
    "capacity": _capacity,
    "deadline": _deadline,
}


# ------------------------------------------------------------------------------ the draft
async def set_audience(
    db: Database, member: Member, event_id: int, kind: AudienceKind, now: datetime
) -> Card:
    """The whole network, its managers or its agents."""
    async with db.transaction() as tx:
        event = await _draft(tx, member, event_id)
        await store.set_fields(tx, event.id, now, audience=Audience(kind).to_json())
        return await _card(tx, await _own(tx, member, event.id), now)


async def sites(conn: Conn, member: Member, event_id: int) -> SitesChoice:
    """The Caf's sites, with those chosen as the draft's audience."""
    event = await _draft(conn, member, event_id)
    audience = event.audience
    chosen = audience.partners if audience.kind is AudienceKind.PARTNERS else frozenset()
    return SitesChoice(event, await partners.list_for_caf(conn, member.caf.id), chosen)


async def toggle_site(
    db: Database, member: Member, event_id: int, partner_id: int, now: datetime
) -> SitesChoice:
    """Ticks or unticks a site (a choice of sites replaces a whole-network audience)."""
    async with db.transaction() as tx:
        event = await _draft(tx, member, event_id)
        partner = await partners.get(tx, partner_id)
        if partner is None or partner.caf_id != member.caf.id:
            raise UnknownEvent("not a partner of this Caf")
        audience = event.audience
        if audience.kind is not AudienceKind.PARTNERS:
            audience = Audience(AudienceKind.PARTNERS)
        await store.set_fields(tx, event.id, now, audience=audience.toggled(partner.id).to_json())
        return await sites(tx, member, event.id)


async def drop(db: Database, member: Member, event_id: int, now: datetime) -> list[Line]:
    """Abandons a draft (a published event is cancelled instead); the list again."""
    async with db.transaction() as tx:
        event = await _draft(tx, member, event_id, Why.CANCEL_INSTEAD)
        await store.set_fields(tx, event.id, now, status="cancelled")
        return await overview(tx, member.caf)


async def publish(
    db: Database, member: Member, event_id: int, now: datetime, tz: ZoneInfo
) -> tuple[Card, int]:
    """Invites the audience (each gets « Je participe » / « Je ne peux pas ») and books the
    reminders; the event's card and how many were invited."""
    async with db.transaction() as tx:
        event = await _own(tx, member, event_id)
        if event.status != "draft":  # a double tap
            raise Denied(Why.PUBLISHED_TWICE)
        if event.rsvp_deadline <= now:
            raise Denied(Why.DEADLINE_PASSED)
        await store.set_fields(tx, event.id, now, status="published")
        invited = await store.invite_audience(tx, event)
        text, markup = screens.invitation(event, member.caf, tz)
        everyone = sorted(await store.invitations(tx, event.id), key=lambda i: i.person_id)
        key = f"event:{event.id}:invitation"
        await notify.to_each(
            tx, everyone, kind=key, key=key, text=text, now=now, markup=markup.to_json()
        )
        for reminder in rules.reminders(event.starts_at, event.rsvp_deadline, now):
            await scheduled.schedule(
                tx,
                kind=REMINDER_KIND,
                key=f"event:{event.id}:{reminder.key}",
                due_at=reminder.due_at,
                payload={"event": event.id, "reminder": reminder.key},
                now=now,
            )
        details = {"invited": len(invited)}
        await audit.record(tx, member, "event.published", now, ("event", event.id), details=details)
        return await _card(tx, await _own(tx, member, event.id), now), len(invited)


# ------------------------------------------------------------------------------ published
async def cancel(db: Database, member: Member, event_id: int, now: datetime, tz: ZoneInfo) -> Card:
    """Cancels a published event: its reminders are dropped, everyone invited is told, and
    the participants get the calendar file that removes it."""
    async with db.transaction() as tx:
        event = await cancellable(tx, member, event_id)
        await store.set_fields(tx, event.id, now, status="cancelled", cancelled_at=now)
        for key in REMINDER_KEYS:
            await scheduled.cancel(tx, f"event:{event.id}:{key}", now)
        text = render("event_cancelled", event=event, tz=tz)
        removal = _ics(event, member.caf, cancelled=True)
        kind = f"event:{event.id}:cancelled"
        await notify.to_each(
            tx,
            await store.invitations(tx, event.id),
            kind=kind,
            key=kind,
            text=text,
            now=now,
            attachment=lambda i: removal if i.status is Answer.GOING else {},
        )
        await audit.record(tx, member, "event.cancelled", now, ("event", event.id))
        return await _card(tx, await _own(tx, member, event.id), now)


async def mark(
    db: Database, member: Member, event_id: int, person_id: int, now: datetime
) -> Attendance:
    """A participant's attendance, in turn: ▫️ not recorded → ✅ came → ❌ did not → ▫️."""
    async with db.transaction() as tx:
        event = await _own(tx, member, event_id)
        invitation = await store.invitation(tx, event.id, person_id)
        if invitation is None or invitation.status is not Answer.GOING:
            raise UnknownEvent("not a participant")
        if event.starts_at > now:
            raise Denied(Why.NOT_STARTED)
        following = {None: True, True: False, False: None}[invitation.attended]
        await store.set_attended(tx, event.id, invitation.person_id, following)
        details = {"person": invitation.person_id}
        await audit.record(
            tx, member, "event.attendance", now, ("event", event.id), details=details
        )
        return Attendance(event, await store.invitations(tx, event.id, Answer.GOING))


# ------------------------------------------------------------------------------ the invited
async def answer(
    db: Database, member: Member, event_id: int, wants: bool, now: datetime, tz: ZoneInfo
) -> tuple[Event, rules.Decision]:
    """« Je participe » (wants) or « Je ne peux pas »: an upsert, the waiting list past
    capacity; a participant gets the calendar file, and a place freed goes to the first
    waiting, who is told."""
    async with db.transaction() as tx:
        event = await store.get(tx, event_id)
        invitation = await store.invitation(tx, event_id, member.person.id)
        if event is None or invitation is None:
            raise UnknownEvent("not invited")
        counts = await store.counts(tx, event.id)
        decision = rules.decide(
            current=invitation.status,
            wants=wants,
            going=counts[Answer.GOING],
            capacity=event.capacity,
            now=now,
            deadline=event.rsvp_deadline,
            cancelled=event.status == "cancelled",
        )
        if not decision.changed:
            return event, decision
        await store.set_answer(tx, event.id, member.person.id, decision.status, now)
        if decision.status is Answer.GOING:
            text = render("event_calendar_file", event=event)
            await _send_file(tx, event, member.caf, member.person, "calendar", text, now)
        if decision.frees_a_place:
            promoted = await store.promote_first_waiting(tx, event.id, now)
            person = await people.get(tx, promoted) if promoted is not None else None
            if person is not None:
                text = render("event_promoted", event=event, tz=tz)
                await _send_file(tx, event, member.caf, person, "promoted", text, now)
    return event, decision


async def send_reminder(db: Database, event_id: int, key: str, at: datetime, tz: ZoneInfo) -> int:
    """One reminder of a published event: to the participants 7 and 1 days before, to those
    who have not answered 2 days before the deadline (with the buttons to answer). Returns
    the messages queued; a second run queues none (one key per person)."""
    async with db.transaction() as tx:
        event = await store.get(tx, event_id)
        if event is None or event.status != "published":
            return 0
        to_silent = key == "deadline"
        text = render("event_reminder", event=event, tz=tz, key=key)
        markup = screens.rsvp_markup(event.id).to_json() if to_silent else None
        wanted = Answer.INVITED if to_silent else Answer.GOING
        told = await store.invitations(tx, event.id, wanted)
        kind, each = f"event:{event.id}:reminder", f"event:{event.id}:{key}"
        return await notify.to_each(tx, told, kind=kind, key=each, text=text, now=at, markup=markup)


# ------------------------------------------------------------------------------ helpers
async def _send_file(
    tx: Tx, event: Event, caf: Caf, person: Person, what: str, text: str, now: datetime
) -> None:
    """A message with the event's calendar file (keyed by the moment: an answer may change
    and change back)."""
    key = f"event:{event.id}:{what}"
    stamped = f"{key}:p{person.id}:{now.isoformat()}"
    await notify.to_person(
        tx, person, kind=key, key=stamped, text=text, now=now, attachment=_ics(event, caf)
    )


def _ics(event: Event, caf: Caf, *, cancelled: bool = False) -> dict[str, Any]:
    """The outbox fields that attach the event's calendar file."""
    return {
        "media_kind": "generated",
        "media": event_ics(
            event_id=event.id,
            caf_id=caf.id,
            caf_name=caf.name,
            title=event.title,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            place=event.place,
            visio_url=event.visio_url,
            description=event.kind.label,
            cancelled=cancelled,
            sequence=1 if cancelled else 0,
            now=event.updated_at,
        ),
        "media_name": ics_filename(event.title),
    }
