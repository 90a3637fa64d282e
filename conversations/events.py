"""📅 Événements (coordinators) and the answers of the people invited (Articles 3 and 9).

A coordinator creates an event step by step — kind, title, day and time, end, place or
visio link, capacity, answer deadline — chooses the audience, sees how many will be invited
and publishes. Everyone invited gets « Je participe » / « Je ne peux pas »; an answer is an
upsert, can change until the deadline, goes on a waiting list past capacity (promoted and
told when a place frees), and a participant gets the event's .ics file. Reminders go through
scheduled work (7 and 1 days before to participants, 2 days before the deadline to those who
have not answered). After the event the coordinator records who came.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.context import Ctx
from bot.domain import closure_dates, moments, privacy
from bot.domain import events as rules
from bot.domain.audience import Audience, AudienceKind
from bot.domain.events import Answer, EventKind
from bot.domain.models import Caf, Member, PendingInput
from bot.domain.permissions import Action
from bot.exports.event_calendar import event_ics, ics_filename
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, EventTap, RsvpTap
from bot.ui.pickers import page_of, site_checklist
from bot.ui.render import render
from conversations.common import chat_id_of, dispatch_tap, edit, guarded, require, send
from conversations.text_input import Handler, TypedSteps
from storage import audiences, audit, outbox, partners, pending, people, scheduled
from storage import events as store
from storage.db import Database, Tx
from storage.events import Event
from storage.scheduled import ScheduledJob

REMINDER_KIND = "event_reminder"
AUDIENCE_BUTTONS = (
    (AudienceKind.ALL, "👥 Tout le réseau"),
    (AudienceKind.MANAGERS, "Responsables"),
    (AudienceKind.AGENTS, "Agents"),
)
CAPACITIES = (None, 10, 20, 50, 100)
PLACE_ALLOWED = frozenset({privacy.IdentifierKind.ADDRESS, privacy.IdentifierKind.PHONE})
URL = re.compile(r"^https?://\S+\.\S+$")

TYPED = TypedSteps()


def _button(label: str, op: str, item: int = 0, value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(EventTap(op, item, value)))


def _rsvp_markup(event_id: int) -> InlineKeyboardMarkup:
    def tap(answer: str) -> str:
        return callbacks.encode(RsvpTap(event_id, answer))

    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("✅ Je participe", callback_data=tap("yes")),
                InlineKeyboardButton("❌ Je ne peux pas", callback_data=tap("no")),
            ]
        ]
    )


# ------------------------------------------------------------------------------ screens
async def _home(ctx: Ctx, member: Member) -> tuple[str, InlineKeyboardMarkup]:
    found = await store.for_caf(ctx.db, member.caf.id)
    rows = [[_button("➕ Nouvel événement", "new")]]
    for event in found:
        going = (await store.counts(ctx.db, event.id))[Answer.GOING]
        mark = {"draft": "📝", "cancelled": "✖️"}.get(event.status, "📅")
        local = event.starts_at.astimezone(ctx.settings.tz)
        rows.append(
            [_button(f"{mark} {local:%d/%m} · {event.title} · {going} ✅", "item", event.id)]
        )
    return render("events_home", count=len(found)), InlineKeyboardMarkup(rows)


async def _screen(ctx: Ctx, event: Event) -> tuple[str, InlineKeyboardMarkup]:
    count = await store.counts(ctx.db, event.id)
    invited = await audiences.count(ctx.db, event.caf_id, event.audience, with_coordinators=False)
    chosen = []
    if event.audience.kind is AudienceKind.PARTNERS:
        chosen = [
            p.title
            for p in await partners.list_for_caf(ctx.db, event.caf_id)
            if p.id in event.audience.partners
        ]
    now = ctx.clock.now()
    text = render(
        "event_card",
        event=event,
        counts={a.value: n for a, n in count.items()},
        invited=invited,
        chosen=chosen,
        attended=await store.attended_count(ctx.db, event.id),
        tz=ctx.settings.tz,
        started=event.starts_at <= now,
    )
    rows: list[list[InlineKeyboardButton]] = []
    if event.status == "draft":
        rows.append(
            [
                _button(("🔘 " if event.audience.kind is kind else "") + label, "aud", event.id, i)
                for i, (kind, label) in enumerate(AUDIENCE_BUTTONS)
            ]
        )
        rows.append([_button("🏢 Choisir des sites", "sites", event.id)])
        if invited:
            rows.append([_button(f"📨 Publier et inviter ({invited})", "publish", event.id)])
        rows.append([_button("✖️ Abandonner", "drop", event.id)])
    elif event.status == "published":
        rows.append([_button("👥 Réponses", "answers", event.id)])
        if event.starts_at <= now:
            rows.append([_button("✅ Présences", "presence", event.id)])
        else:
            rows.append([_button("✖️ Annuler l'événement", "cancel", event.id)])
    rows.append([_button("⬅️ Événements", "home")])
    return text, InlineKeyboardMarkup(rows)


# ------------------------------------------------------------------------------ entry points
@guarded
async def open_menu(update: Update, ctx: Ctx) -> None:
    """The menu entry 📅 Événements."""
    member = await require(update, ctx, Action.EVENTS)
    await pending.clear(ctx.db, member.person.id)
    await send(ctx, chat_id_of(update), *await _home(ctx, member))


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    await dispatch_tap(update, ctx, payload=EventTap, taps=TAPS, action=Action.EVENTS)


async def _own(ctx: Ctx, member: Member, event_id: int) -> Event:
    event = await store.get(ctx.db, event_id)
    if event is None or event.caf_id != member.caf.id:
        raise BadCallback("not an event of this Caf")
    return event


# ------------------------------------------------------------------------------ creation
async def tap_home(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    await pending.clear(ctx.db, member.person.id)
    await edit(message, *await _home(ctx, member))


async def tap_new(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    rows = [[_button(kind.label, "kind", 0, i)] for i, kind in enumerate(EventKind)]
    rows.append([_button("⬅️ Événements", "home")])
    await edit(message, render("event_ask", step="kind", kind=""), InlineKeyboardMarkup(rows))


async def tap_kind(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    kinds = list(EventKind)
    if not 0 <= tap.value < len(kinds):
        raise BadCallback("unknown kind")
    kind = kinds[tap.value]
    await _ask_step(ctx, member, "title", {"kind": kind.value})


def _default_label(step: str, context: dict[str, Any]) -> str | None:
    if step == "title":
        return f"Garder « {EventKind(context['kind']).label} »"
    if step == "capacity":
        return "Sans limite"
    if step == "deadline":
        return "2 jours avant"
    return None


async def _ask_step(ctx: Ctx, member: Member, step: str, context: dict[str, Any]) -> None:
    """Notes the step to be typed next and asks for it, with its one-tap default."""
    await pending.expect(ctx.db, member.person.id, f"event_{step}", context, ctx.clock.now())
    rows = []
    default = _default_label(step, context)
    if default:
        rows.append([_button(default, "default", 0, STEPS.index(step))])
    if step == "capacity":
        rows.append([_button(str(n), "capacity", 0, n) for n in CAPACITIES if n])
    rows.append([_button("✖️ Abandonner", "home")])
    chat_id = member.person.telegram_user_id or 0
    await send(
        ctx,
        chat_id,
        render("event_ask", step=step, kind=EventKind(context["kind"]).label),
        InlineKeyboardMarkup(rows),
    )


async def tap_default(
    ctx: Ctx, member: Member, tap: EventTap, message: Message | None
) -> str | None:
    expected = await pending.get(ctx.db, member.person.id)
    if not 0 <= tap.value < len(STEPS) or expected is None:
        return "Cette étape est passée : reprenez depuis 📅 Événements."
    step = STEPS[tap.value]
    if expected.kind != f"event_{step}":
        return "Cette étape est passée."
    context = dict(expected.context)
    if step == "title":
        context["title"] = EventKind(context["kind"]).label
    elif step == "capacity":
        context["capacity"] = None
    elif step == "deadline":
        start = datetime.fromisoformat(context["start"])
        context["deadline"] = (start - timedelta(days=2)).isoformat()
    await _advance(ctx, member, step, context)
    return None


async def tap_capacity(
    ctx: Ctx, member: Member, tap: EventTap, message: Message | None
) -> str | None:
    expected = await pending.get(ctx.db, member.person.id)
    if expected is None or expected.kind != "event_capacity" or tap.value not in CAPACITIES:
        return "Cette étape est passée."
    await _advance(ctx, member, "capacity", {**expected.context, "capacity": tap.value})
    return None


STEPS = ["title", "start", "end", "place", "capacity", "deadline"]


async def _advance(ctx: Ctx, member: Member, done: str, context: dict[str, Any]) -> None:
    """The next step, or the event saved as a draft once the last one is given."""
    following = STEPS[STEPS.index(done) + 1] if done != STEPS[-1] else None
    if following is not None:
        await _ask_step(ctx, member, following, context)
        return
    now = ctx.clock.now()
    starts_at = datetime.fromisoformat(context["start"])
    ends_at = datetime.fromisoformat(context["end"])
    deadline = datetime.fromisoformat(context["deadline"])
    problem = rules.validate_times(starts_at=starts_at, ends_at=ends_at, deadline=deadline, now=now)
    chat_id = member.person.telegram_user_id or 0
    if problem:
        await send(ctx, chat_id, f"❌ {problem}")
        await _ask_step(ctx, member, "start", context)
        return
    async with ctx.db.transaction() as tx:
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
        await _record(tx, member, event, "event.created", now)
    await send(ctx, chat_id, *await _screen(ctx, event))


def _combine(ctx: Ctx, text: str) -> datetime:
    today = ctx.clock.now().astimezone(ctx.settings.tz).date()
    day, at = moments.parse_moment(text, today)
    return datetime.combine(day, at, tzinfo=ctx.settings.tz)


Parser = Callable[[Ctx, dict[str, Any], str], dict[str, Any]]


def _typed(
    step: str, max_length: int, allowed: frozenset[privacy.IdentifierKind] = frozenset()
) -> Callable[[Parser], Handler]:
    """Registers the typed answer of a creation step; `parse` returns the context update."""

    def register(parse: Parser) -> Handler:
        @TYPED.text(f"event_{step}", max_length=max_length, allowed=allowed)
        async def handler(
            update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
        ) -> None:
            member = await require(update, ctx, Action.EVENTS)
            try:
                change = parse(ctx, dict(expected.context), text)
            except (moments.MomentError, ValueError) as error:
                # The error may quote what was typed: escaped.
                problem = html.escape(str(error), quote=False)
                await send(ctx, chat_id_of(update), f"❌ {problem}")
                return
            await _advance(ctx, member, step, {**expected.context, **change})

        return handler

    return register


@_typed("title", 120)
def _title(ctx: Ctx, context: dict[str, Any], text: str) -> dict[str, Any]:
    return {"title": text}


@_typed("start", 60)
def _start(ctx: Ctx, context: dict[str, Any], text: str) -> dict[str, Any]:
    start = _combine(ctx, text)
    if start <= ctx.clock.now():
        raise ValueError("Ce moment est passé : choisissez une date à venir.")
    return {"start": start.isoformat()}


@_typed("end", 40)
def _end(ctx: Ctx, context: dict[str, Any], text: str) -> dict[str, Any]:
    start = datetime.fromisoformat(context["start"])
    try:
        end = datetime.combine(start.date(), moments.parse_time(text), tzinfo=start.tzinfo)
    except moments.MomentError:
        end = _combine(ctx, text)
    if end <= start:
        raise ValueError("La fin doit être après le début.")
    return {"end": end.isoformat()}


@_typed("place", 300, PLACE_ALLOWED)
def _place(ctx: Ctx, context: dict[str, Any], text: str) -> dict[str, Any]:
    if text.lower().startswith(("http://", "https://")):
        if not URL.match(text):
            raise ValueError("Ce lien n'est pas valide : il doit commencer par https://.")
        return {"visio": text, "place": None}
    return {"place": text, "visio": None}


@_typed("capacity", 10)
def _capacity(ctx: Ctx, context: dict[str, Any], text: str) -> dict[str, Any]:
    if not text.isdigit() or not 0 < int(text) <= 10000:
        raise ValueError("Écrivez un nombre de places, par exemple 30, ou touchez « Sans limite ».")
    return {"capacity": int(text)}


@_typed("deadline", 60)
def _deadline(ctx: Ctx, context: dict[str, Any], text: str) -> dict[str, Any]:
    try:
        deadline = _combine(ctx, text)
    except moments.MomentError:
        day = closure_dates.parse_day(text, ctx.clock.now().astimezone(ctx.settings.tz).date())
        deadline = datetime.combine(
            day, datetime.max.time().replace(microsecond=0), tzinfo=ctx.settings.tz
        )
    return {"deadline": deadline.isoformat()}


# ------------------------------------------------------------------------------ draft screen
async def _draft(ctx: Ctx, member: Member, event_id: int) -> Event | None:
    event = await _own(ctx, member, event_id)
    return event if event.status == "draft" else None


async def tap_item(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    await edit(message, *await _screen(ctx, await _own(ctx, member, tap.item)))


async def tap_audience(
    ctx: Ctx, member: Member, tap: EventTap, message: Message | None
) -> str | None:
    event = await _draft(ctx, member, tap.item)
    if event is None:
        return "L'événement est déjà publié."
    if not 0 <= tap.value < len(AUDIENCE_BUTTONS):
        raise BadCallback("unknown audience")
    audience = Audience(AUDIENCE_BUTTONS[tap.value][0])
    await store.set_fields(ctx.db, event.id, ctx.clock.now(), audience=audience.to_json())
    await edit(message, *await _screen(ctx, await _own(ctx, member, event.id)))
    return None


async def tap_sites(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> str | None:
    event = await _draft(ctx, member, tap.item)
    if event is None:
        return "L'événement est déjà publié."
    chosen = event.audience.partners if event.audience.kind is AudienceKind.PARTNERS else set()
    sites = await partners.list_for_caf(ctx.db, member.caf.id)
    rows = site_checklist(
        sites, chosen, tap.value, lambda label, op, value: _button(label, op, event.id, value)
    )
    rows.append([_button("✔️ Terminé", "item", event.id)])
    await edit(message, render("broadcast_sites", count=len(chosen)), InlineKeyboardMarkup(rows))
    return None


async def tap_site(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> str | None:
    event = await _draft(ctx, member, tap.item)
    if event is None:
        return "L'événement est déjà publié."
    partner = await partners.get(ctx.db, tap.value)
    if partner is None or partner.caf_id != member.caf.id:
        raise BadCallback("not a partner of this Caf")
    current = (
        event.audience
        if event.audience.kind is AudienceKind.PARTNERS
        else Audience(AudienceKind.PARTNERS)
    )
    await store.set_fields(
        ctx.db, event.id, ctx.clock.now(), audience=current.toggled(partner.id).to_json()
    )
    page = page_of(await partners.list_for_caf(ctx.db, member.caf.id), partner.id)
    return await tap_sites(ctx, member, EventTap("sites", event.id, page), message)


async def tap_drop(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> str | None:
    event = await _draft(ctx, member, tap.item)
    if event is None:
        return "L'événement est déjà publié : annulez-le plutôt."
    await store.set_fields(ctx.db, event.id, ctx.clock.now(), status="cancelled")
    await edit(message, *await _home(ctx, member))
    return "Brouillon abandonné."


async def tap_publish(
    ctx: Ctx, member: Member, tap: EventTap, message: Message | None
) -> str | None:
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        event = await store.get(tx, tap.item)
        if event is None or event.caf_id != member.caf.id:
            raise BadCallback("not an event of this Caf")
        if event.status != "draft":  # a double tap
            return "Déjà publié."
        if event.rsvp_deadline <= now:
            return "La date limite de réponse est passée : créez l'événement de nouveau."
        await store.set_fields(tx, event.id, now, status="published")
        invited = await store.invite_audience(tx, event)
        text = render("event_invitation", event=event, tz=ctx.settings.tz, caf=member.caf)
        markup = _rsvp_markup(event.id).to_json()
        await outbox.enqueue_many(
            tx,
            (
                outbox.OutboxItem(
                    kind=f"event:{event.id}:invitation",
                    dedup_key=f"event:{event.id}:invitation:p{person.id}",
                    chat_id=person.telegram_user_id or 0,
                    person_id=person.id,
                    text=text,
                    reply_markup=markup,
                )
                for person in await _people(tx, invited)
            ),
            now,
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
        await _record(tx, member, event, "event.published", now, invited=len(invited))
    ctx.services.wake_outbox()
    await edit(message, *await _screen(ctx, await _own(ctx, member, tap.item)))
    return f"Invitations envoyées : {len(invited)}."


async def _people(tx: Tx, ids: list[int]) -> list[Any]:
    found = []
    for person_id in ids:
        person = await people.get(tx, person_id)
        if person is not None and person.telegram_user_id is not None:
            found.append(person)
    return found


# ------------------------------------------------------------------------------ published
async def tap_answers(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> None:
    event = await _own(ctx, member, tap.item)
    everyone = await store.invitations(ctx.db, event.id)
    text = render(
        "event_answers",
        event=event,
        groups=[(answer, [i for i in everyone if i.status is answer]) for answer in Answer],
    )
    await edit(message, text, InlineKeyboardMarkup([[_button("⬅️ L'événement", "item", event.id)]]))


async def tap_presence(
    ctx: Ctx, member: Member, tap: EventTap, message: Message | None
) -> str | None:
    event = await _own(ctx, member, tap.item)
    if event.starts_at > ctx.clock.now():
        return "Les présences se notent une fois l'événement commencé."
    going = await store.invitations(ctx.db, event.id, Answer.GOING)
    mark = {True: "✅", False: "❌", None: "▫️"}
    rows = [
        [
            _button(
                f"{mark[i.attended]} {i.display_name}" + (f" · {i.partner}" if i.partner else ""),
                "mark",
                event.id,
                i.person_id,
            )
        ]
        for i in going[:60]
    ]
    rows.append([_button("⬅️ L'événement", "item", event.id)])
    await edit(
        message, render("event_presence", event=event, count=len(going)), InlineKeyboardMarkup(rows)
    )
    return None


async def tap_mark(ctx: Ctx, member: Member, tap: EventTap, message: Message | None) -> str | None:
    event = await _own(ctx, member, tap.item)
    invitation = await store.invitation(ctx.db, event.id, tap.value)
    if invitation is None or invitation.status is not Answer.GOING:
        raise BadCallback("not a participant")
    # ▫️ not recorded → ✅ came → ❌ did not → ▫️
    following = {None: True, True: False, False: None}[invitation.attended]
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        await store.set_attended(tx, event.id, invitation.person_id, following)
        await _record(tx, member, event, "event.attendance", now, person=invitation.person_id)
    return await tap_presence(ctx, member, tap, message)


async def tap_cancel(
    ctx: Ctx, member: Member, tap: EventTap, message: Message | None
) -> str | None:
    event = await _own(ctx, member, tap.item)
    if event.status != "published":
        return "Cet événement n'est pas publié (ou déjà annulé)."
    if tap.value != 1:
        rows = [
            [_button("✖️ Oui, annuler et prévenir les invités", "cancel", event.id, 1)],
            [_button("⬅️ Non", "item", event.id)],
        ]
        await edit(message, render("event_cancel_confirm", event=event), InlineKeyboardMarkup(rows))
        return None
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        fresh = await store.get(tx, event.id)
        if fresh is None or fresh.status != "published":
            return "Déjà annulé."
        await store.set_fields(tx, event.id, now, status="cancelled", cancelled_at=now)
        for key in ("j7", "j1", "deadline"):
            await scheduled.cancel(tx, f"event:{event.id}:{key}", now)
        text = render("event_cancelled", event=event, tz=ctx.settings.tz)
        for invitation in await store.invitations(tx, event.id):
            if invitation.telegram_user_id is None:
                continue
            await outbox.enqueue(
                tx,
                kind=f"event:{event.id}:cancelled",
                dedup_key=f"event:{event.id}:cancelled:p{invitation.person_id}",
                chat_id=invitation.telegram_user_id,
                person_id=invitation.person_id,
                text=text,
                now=now,
                **_ics(event, member.caf, cancelled=True)
                if invitation.status is Answer.GOING
                else {},
            )
        await _record(tx, member, event, "event.cancelled", now)
    ctx.services.wake_outbox()
    await edit(message, *await _screen(ctx, await _own(ctx, member, event.id)))
    return "Événement annulé : les invités sont prévenus."


TAPS: dict[str, Any] = {
    "home": tap_home,
    "new": tap_new,
    "kind": tap_kind,
    "default": tap_default,
    "capacity": tap_capacity,
    "item": tap_item,
    "aud": tap_audience,
    "sites": tap_sites,
    "site": tap_site,
    "drop": tap_drop,
    "publish": tap_publish,
    "answers": tap_answers,
    "presence": tap_presence,
    "mark": tap_mark,
    "cancel": tap_cancel,
}


async def _record(
    tx: Any, member: Member, event: Event, action: str, now: datetime, **details: object
) -> None:
    await audit.record(
        tx,
        at=now,
        action=action,
        actor_id=member.person.id,
        caf_id=member.caf.id,
        target_type="event",
        target_id=event.id,
        details=details or None,
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


# ------------------------------------------------------------------------------ answers
@guarded
async def on_rsvp(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=RsvpTap)
    if tap.answer not in ("yes", "no"):
        raise BadCallback("unknown answer")
    member = await require(update, ctx, Action.ANSWER_INVITATION)
    now = ctx.clock.now()
    promoted: int | None = None
    async with ctx.db.transaction() as tx:
        event = await store.get(tx, tap.event)
        invitation = await store.invitation(tx, tap.event, member.person.id)
        if event is None or invitation is None:
            raise BadCallback("not invited")
        counts = await store.counts(tx, event.id)
        decision = rules.decide(
            current=invitation.status,
            wants=tap.answer == "yes",
            going=counts[Answer.GOING],
            capacity=event.capacity,
            now=now,
            deadline=event.rsvp_deadline,
            cancelled=event.status == "cancelled",
        )
        if decision.changed:
            await store.set_answer(tx, event.id, member.person.id, decision.status, now)
            if decision.status is Answer.GOING:
                await _send_calendar(tx, event, member.caf, member.person.id, now)
            if decision.frees_a_place:
                promoted = await store.promote_first_waiting(tx, event.id, now)
                if promoted is not None:
                    await _tell_promoted(tx, event, member.caf, promoted, now, ctx)
    ctx.services.wake_outbox()
    if decision.refusal:
        await query.answer(decision.refusal, show_alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    text = render(
        "event_invitation",
        event=event,
        tz=ctx.settings.tz,
        caf=member.caf,
        answer=decision.status,
    )
    await edit(message, text, _rsvp_markup(event.id))
    await query.answer(
        {
            Answer.GOING: "C'est noté : vous participez. Le fichier agenda arrive.",
            Answer.WAITING: "Complet : vous êtes sur la liste d'attente.",
            Answer.DECLINED: "C'est noté : vous ne participez pas.",
        }.get(decision.status, "C'est noté.")
        if decision.changed
        else "Déjà noté."
    )


async def _send_calendar(tx: Tx, event: Event, caf: Caf, person_id: int, now: datetime) -> None:
    person = await people.get(tx, person_id)
    if person is None or person.telegram_user_id is None:
        return
    await outbox.enqueue(
        tx,
        kind=f"event:{event.id}:calendar",
        dedup_key=f"event:{event.id}:calendar:p{person_id}:{now.isoformat()}",
        chat_id=person.telegram_user_id,
        person_id=person_id,
        text=render("event_calendar_file", event=event),
        now=now,
        **_ics(event, caf),
    )


async def _tell_promoted(
    tx: Tx, event: Event, caf: Caf, person_id: int, now: datetime, ctx: Ctx
) -> None:
    person = await people.get(tx, person_id)
    if person is None or person.telegram_user_id is None:
        return
    await outbox.enqueue(
        tx,
        kind=f"event:{event.id}:promoted",
        dedup_key=f"event:{event.id}:promoted:p{person_id}:{now.isoformat()}",
        chat_id=person.telegram_user_id,
        person_id=person_id,
        text=render("event_promoted", event=event, tz=ctx.settings.tz),
        now=now,
        **_ics(event, caf),
    )


# ------------------------------------------------------------------------------ reminders
async def send_reminder(
    job: ScheduledJob, *, db: Database, tz: Any, wake: Callable[[], None]
) -> None:
    """The scheduler's handler: one reminder of one event, to participants or the silent."""
    event_id, key = int(job.payload["event"]), str(job.payload["reminder"])
    async with db.transaction() as tx:
        event = await store.get(tx, event_id)
        if event is None or event.status != "published":
            return
        to_silent = key == "deadline"
        wanted = Answer.INVITED if to_silent else Answer.GOING
        text = render("event_reminder", event=event, tz=tz, key=key)
        markup = _rsvp_markup(event.id).to_json() if to_silent else None
        for invitation in await store.invitations(tx, event.id, wanted):
            if invitation.telegram_user_id is None:
                continue
            await outbox.enqueue(
                tx,
                kind=f"event:{event.id}:reminder",
                dedup_key=f"event:{event.id}:{key}:p{invitation.person_id}",
                chat_id=invitation.telegram_user_id,
                person_id=invitation.person_id,
                text=text,
                reply_markup=markup,
                now=job.due_at,
            )
    wake()
