"""📅 Événements (Articles 3 and 9): an event created step by step, published to its audience,
answered (waiting list included), reminded, cancelled, and its attendance recorded.

Each public function that writes is one use case in one transaction, with its audit record
and the messages it sends (outbox rows, written in that same transaction): the handlers of
conversations/events.py, the command line and bot/jobs/event_reminders.py call them alike;
whoever calls them wakes the outbox sender afterwards.

An id that is not an event of the member's Caf (forged, another Caf's), a site of another
Caf or an answer from someone not invited is `UnknownEvent`, which a screen answers as a
stale button. An expected refusal (a draft already published, a step already answered…) is
`Denied`: the screens say why. A typed answer that cannot be used is not an error: the
same step comes back with why (`Step.problem`), shown in the flow's message.

Every date and hour asked, shown, sent or scheduled is the event's Caf's (`caf.zone`).
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
from bot.services import audit, notify, trainings
from bot.ui.render import render
from bot.ui.screens import events as screens
from bot.ui.screens.events import (
    Answers,
    Attendance,
    Card,
    Created,
    Draft,
    Line,
    SitesChoice,
    Step,
)
from storage import audiences, cafs, partners, pending, people, scheduled
from storage import events as store
from storage.db import Conn, Database, Tx

REMINDER_KIND = "event_reminder"
REMINDER_KEYS = (*(f"j{days}" for days in rules.REMINDER_DAYS_BEFORE), "deadline")
# A place is an address, with a phone number at times: not identifiers of a person there.
PLACE_ALLOWED = frozenset({privacy.IdentifierKind.ADDRESS, privacy.IdentifierKind.PHONE})
URL = re.compile(r"^https?://\S+\.\S+$")

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
    """Back to the list: an event being created is forgotten."""
    async with db.transaction() as tx:
        await _forget(tx, member)
        return await overview(tx, member.caf)


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
# The event being created lives in its creator's pending input (storage/pending.py), so a
# restart mid-flow loses nothing: its kind names the step asked now (`event_<step>`, then
# `event_card` once the draft is saved), its context what was given so far and the id of
# the flow's one message, which every step edits.
CARD = "event_card"
# Where the times that no longer fit (time went by meanwhile) are asked again.
_STEP_OF = {
    Why.PAST: "start",
    Why.END_FIRST: "end",
    Why.DEADLINE_AFTER_START: "deadline",
    Why.DEADLINE_OVER: "deadline",
}


def _moment_of(context: dict[str, Any], key: str) -> datetime | None:
    value = context.get(key)
    return datetime.fromisoformat(value) if value else None


def _step(
    name: str,
    context: dict[str, Any],
    now: datetime,
    *,
    problem: Why | None = None,
    detail: str = "",
    typed: bool = False,
) -> Step:
    """The step `name` as shown, with what `context` holds."""
    start = _moment_of(context, "start")
    draft = Draft(
        kind=EventKind(context["kind"]) if "kind" in context else None,
        title=context.get("title"),
        start=start,
        end=_moment_of(context, "end"),
        place=context.get("place"),
        visio=context.get("visio"),
        capacity=context.get("capacity"),
        deadline=_moment_of(context, "deadline"),
    )
    offered = rules.default_deadline(start, now) if name == "deadline" and start else None
    return Step(
        name,
        draft,
        context.get("message"),
        problem=problem,
        detail=detail,
        typed=typed,
        deadline_days=offered,
    )


async def _ask(
    conn: Conn, member: Member, step: str, context: dict[str, Any], now: datetime, **why: Any
) -> Step:
    """Notes the step asked next (what was given so far in its context)."""
    await pending.expect(conn, member.person.id, f"event_{step}", context, now)
    return _step(step, context, now, **why)


async def _forget(conn: Conn, member: Member) -> None:
    """Forgets the event being created, if one is (another flow's expected answer stays)."""
    expected = await pending.get(conn, member.person.id)
    if expected is not None and expected.kind.startswith("event_"):
        await pending.clear(conn, member.person.id)


async def _current(conn: Conn, member: Member, step: str, message_id: int | None) -> dict[str, Any]:
    """What was given before `step`, which must be the step asked now (else the button is
    an old one); the flow's message is the one tapped."""
    expected = await pending.get(conn, member.person.id)
    if expected is None or not expected.kind.startswith("event_"):
        raise Denied(Why.STEP_GONE)
    if expected.kind != f"event_{step}":
        raise Denied(Why.STEP_PASSED)
    context = dict(expected.context)
    if message_id is not None:
        context["message"] = message_id
    return context


def _step_index(value: int) -> str:
    if not 0 <= value < len(STEPS):  # forged data
        raise Denied(Why.STEP_GONE)
    return STEPS[value]


async def new(db: Database, member: Member, message_id: int | None, now: datetime) -> Step:
    """« ➕ Nouvel événement »: its kind is asked first, in the message tapped."""
    return await _ask(db, member, "kind", {"message": message_id}, now)


async def choose_kind(
    db: Database, member: Member, kind: EventKind, message_id: int | None, now: datetime
) -> Step:
    """The kind chosen: its title comes next."""
    async with db.transaction() as tx:
        context = await _current(tx, member, "kind", message_id)
        return await _ask(tx, member, "title", {**context, "kind": kind.value}, now)


async def take_default(
    db: Database, member: Member, step_index: int, message_id: int | None, now: datetime
) -> Progress:
    """The one-tap answer of a step: the title proposed, no limit of places, the answer
    deadline offered (2 days before, or the day before, or the start)."""
    step = _step_index(step_index)
    async with db.transaction() as tx:
        context = await _current(tx, member, step, message_id)
        if step == "title":
            context["title"] = EventKind(context["kind"]).label
        elif step == "capacity":
            context["capacity"] = None
        elif step == "deadline":
            start = datetime.fromisoformat(context["start"]).astimezone(member.caf.zone)
            days = rules.default_deadline(start, now)
            if days is None:  # the start went by while the coordinator was away
                return await _ask(tx, member, "start", context, now, problem=Why.PAST)
            # On the Caf's wall clock: « 2 jours avant » keeps the hour across summer time.
            context["deadline"] = (start - timedelta(days=days)).isoformat()
        else:  # a step without a one-tap answer (only forged data names one)
            raise Denied(Why.STEP_PASSED)
        return await _advance(tx, member, step, context, now)


async def take_capacity(
    db: Database, member: Member, capacity: int, message_id: int | None, now: datetime
) -> Progress:
    """One of the capacities offered in one tap."""
    if capacity not in CAPACITIES:  # forged data
        raise Denied(Why.STEP_PASSED)
    async with db.transaction() as tx:
        context = await _current(tx, member, "capacity", message_id)
        return await _advance(tx, member, "capacity", {**context, "capacity": capacity}, now)


async def back(
    db: Database, member: Member, step_index: int, message_id: int | None, now: datetime
) -> Step | list[Line]:
    """« ⬅️ Retour »: the step before, what was given kept; from the first, the list."""
    step = _step_index(step_index)
    async with db.transaction() as tx:
        context = await _current(tx, member, step, message_id)
        if step_index == 0:
            await pending.clear(tx, member.person.id)
            return await overview(tx, member.caf)
        return await _ask(tx, member, STEPS[step_index - 1], context, now)


async def abandon(db: Database, member: Member) -> list[Line]:
    """« ✖️ Annuler »: the event being created is forgotten (nothing was saved); the list."""
    async with db.transaction() as tx:
        await _forget(tx, member)
        return await overview(tx, member.caf)


async def answer_step(
    db: Database, member: Member, expected: PendingInput, text: str, now: datetime
) -> Progress:
    """Text typed during the creation (already through the privacy screen): the step's
    answer, checked, then the next step; or the same step with why the answer was not
    taken; or, where a button is expected, the current step again."""
    step = expected.kind.removeprefix("event_")
    context = dict(expected.context)
    if step == "card":
        event = await _own(db, member, int(context["event"]))
        return Created(await _card(db, event, now), context.get("message"), typed=True)
    if step not in _PARSERS:  # the kind: a button is expected
        return _step(step, context, now, typed=True)
    try:
        change = _PARSERS[step](context, text, now, member.caf.zone)
    except InvalidAnswer as error:
        return _step(step, context, now, problem=error.why, detail=error.detail)
    except ValueError as error:  # the date parsers' French messages (MomentError…)
        return _step(step, context, now, detail=str(error))
    async with db.transaction() as tx:
        return await _advance(tx, member, step, {**context, **change}, now)


async def moved(db: Database, member: Member, message_id: int, now: datetime) -> None:
    """The flow's message was sent afresh (the old one could not be edited any more): the
    next steps edit the new one."""
    async with db.transaction() as tx:
        expected = await pending.get(tx, member.person.id)
        if expected is not None and expected.kind.startswith("event_"):
            context = {**expected.context, "message": message_id}
            await pending.expect(tx, member.person.id, expected.kind, context, now)


async def _advance(
    tx: Tx, member: Member, done: str, context: dict[str, Any], now: datetime
) -> Progress:
    """The next step, or the event saved as a draft once the last one is given."""
    index = STEPS.index(done)
    if index + 1 < len(STEPS):
        return await _ask(tx, member, STEPS[index + 1], context, now)
    starts_at = datetime.fromisoformat(context["start"])
    ends_at = datetime.fromisoformat(context["end"])
    deadline = datetime.fromisoformat(context["deadline"])
    why = rules.validate_times(starts_at=starts_at, ends_at=ends_at, deadline=deadline, now=now)
    if why is not None:
        return await _ask(tx, member, _STEP_OF[why], context, now, problem=why)
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
    message_id = context.get("message")
    # The card is a step too: text typed while it is shown brings it back.
    await pending.expect(
        tx, member.person.id, CARD, {"event": event.id, "message": message_id}, now
    )
    await audit.record(tx, member, "event.created", now, ("event", event.id))
    return Created(await _card(tx, event, now), message_id)


# The typed steps: each returns what it adds to the context, or raises. `tz`: the Caf's.
Parser = Callable[[dict[str, Any], str, datetime, ZoneInfo], dict[str, Any]]


def _moment(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    day, at = moments.parse_moment(text, now.astimezone(tz).date())
    return datetime.combine(day, at, tzinfo=tz)


def _title(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    if len(text) > rules.TITLE_MAX:
        raise InvalidAnswer(Why.TITLE_TOO_LONG)
    return {"title": text}


def _start(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    start = _moment(text, now, tz)
    if start <= now:
        raise InvalidAnswer(Why.PAST)
    return {"start": start.isoformat()}


def _end(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """An hour on the day it starts (the Caf's day), or another day and hour."""
    start = datetime.fromisoformat(context["start"]).astimezone(tz)
    try:
        end = datetime.combine(start.date(), moments.parse_time(text), tzinfo=tz)
    except moments.MomentError:
        end = _moment(text, now, tz)
    if end <= start:
        raise InvalidAnswer(Why.END_FIRST)
    return {"end": end.isoformat()}


def _place(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """An address, or the link of a video meeting."""
    if len(text) > rules.PLACE_MAX:
        raise InvalidAnswer(Why.PLACE_TOO_LONG)
    if text.lower().startswith(("http://", "https://")):
        if not URL.match(text):
            raise InvalidAnswer(Why.BAD_LINK)
        return {"visio": text, "place": None}
    return {"place": text, "visio": None}


def _capacity(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """Any whole number of places from 1 to 10 000, or « sans limite »."""
    try:
        return {"capacity": rules.parse_capacity(text)}
    except rules.CapacityError as error:
        raise InvalidAnswer(error.why) from None


def _deadline(context: dict[str, Any], text: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """A day and hour, or a day (until its end), before the start and still ahead."""
    try:
        deadline = _moment(text, now, tz)
    except moments.MomentError:
        day = closure_dates.parse_day(text, now.astimezone(tz).date())
        deadline = datetime.combine(day, time(23, 59, 59), tzinfo=tz)
    if deadline > datetime.fromisoformat(context["start"]):
        raise InvalidAnswer(Why.DEADLINE_AFTER_START)
    if deadline <= now:
        raise InvalidAnswer(Why.DEADLINE_OVER)
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
        await _forget(tx, member)
        return await overview(tx, member.caf)


async def publish(
    db: Database, member: Member, event_id: int, now: datetime, *, reminder_hour: int
) -> tuple[Card, int]:
    """Invites the audience (each gets « Je participe » / « Je ne peux pas ») and books the
    reminders, at `reminder_hour` o'clock in the Caf's zone on their days; the event's card
    and how many were invited."""
    zone = member.caf.zone
    async with db.transaction() as tx:
        event = await _own(tx, member, event_id)
        if event.status != "draft":  # a double tap
            raise Denied(Why.PUBLISHED_TWICE)
        if event.rsvp_deadline <= now:
            raise Denied(Why.DEADLINE_PASSED)
        await store.set_fields(tx, event.id, now, status="published")
        invited = await store.invite_audience(tx, event)
        text, markup = screens.invitation(event, member.caf, zone)
        everyone = sorted(await store.invitations(tx, event.id), key=lambda i: i.person_id)
        key = f"event:{event.id}:invitation"
        await notify.to_each(
            tx, everyone, kind=key, key=key, text=text, now=now, markup=markup.to_json()
        )
        planned = rules.reminders(
            event.starts_at, event.rsvp_deadline, now, zone=zone, hour=reminder_hour
        )
        for reminder in planned:
            await scheduled.schedule(
                tx,
                kind=REMINDER_KIND,
                key=f"event:{event.id}:{reminder.key}",
                due_at=reminder.due_at,
                payload={"event": event.id, "reminder": reminder.key},
                now=now,
            )
        await _forget(tx, member)
        details = {"invited": len(invited)}
        await audit.record(tx, member, "event.published", now, ("event", event.id), details=details)
        return await _card(tx, await _own(tx, member, event.id), now), len(invited)


# ------------------------------------------------------------------------------ published
async def cancel(db: Database, member: Member, event_id: int, now: datetime) -> Card:
    """Cancels a published event: its reminders are dropped, everyone invited is told, and
    the participants get the calendar file that removes it."""
    async with db.transaction() as tx:
        event = await cancellable(tx, member, event_id)
        await store.set_fields(tx, event.id, now, status="cancelled", cancelled_at=now)
        for key in REMINDER_KEYS:
            await scheduled.cancel(tx, f"event:{event.id}:{key}", now)
        text = render("event_cancelled", event=event, tz=member.caf.zone)
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
        if event.kind is EventKind.TRAINING_DAY:  # the person's training history (🎓)
            await trainings.on_attendance(tx, member, event, invitation.person_id, following, now)
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


async def send_reminder(db: Database, event_id: int, key: str, at: datetime) -> int:
    """One reminder of a published event: to the participants 7 and 1 days before, to those
    who have not answered 2 days before the deadline (with the buttons to answer), its hours
    in the event's Caf's zone. Returns the messages queued; a second run queues none (one
    key per person)."""
    async with db.transaction() as tx:
        event = await store.get(tx, event_id)
        caf = await cafs.get(tx, event.caf_id) if event is not None else None
        if event is None or caf is None or event.status != "published":
            return 0
        to_silent = key == "deadline"
        text = render("event_reminder", event=event, tz=caf.zone, key=key)
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
