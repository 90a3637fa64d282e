"""📢 Diffuser (coordinators): news and must-read notices to the Caf's network.

Compose (the coordinator's own message, formatting kept, with at most one photo or document
of theirs), choose the audience with the count of recipients, mark it must-read or not, then
send now or at a chosen time (cancellable until it leaves). Sending writes one outbox row per
recipient in one transaction; `bot/broadcast_progress.py` edits the coordinator's message
with the progress and the final figures. Recipients of a must-read notice answer « J'ai
lu »; the coordinator sees who has not and can remind them.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot.context import Ctx
from bot.domain import moments, privacy
from bot.domain.audience import Audience, AudienceKind
from bot.domain.models import Announcement, Member, PendingInput
from bot.domain.permissions import Action
from bot.services import broadcasts
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, BroadcastTap, ReadTap
from bot.ui.pickers import page_of, site_checklist
from bot.ui.render import render
from bot.ui.screens import broadcast as screen
from conversations.common import chat_id_of, dispatch_tap, edit, guarded, require, send
from conversations.text_input import FileRef, TypedSteps, ask
from storage import announcements, audiences, audit, outbox, partners, pending, scheduled
from storage.scheduled import ScheduledJob
from storage.timefmt import to_db

# Telegram's limits are 4,096 characters for a message and 1,024 for a file's caption; the
# notice's own header takes a few.
TEXT_LIMIT = 4000
CAPTION_LIMIT = 1000
SEND_KIND = "broadcast_send"
# The Caf's own contact details are public: a news item may give its phone or e-mail.
ALLOWED_IN_NEWS = frozenset(
    {privacy.IdentifierKind.PHONE, privacy.IdentifierKind.EMAIL, privacy.IdentifierKind.ADDRESS}
)
AUDIENCE_BUTTONS = (
    (AudienceKind.ALL, "👥 Tout le monde"),
    (AudienceKind.MANAGERS, "Responsables"),
    (AudienceKind.AGENTS, "Agents"),
)

TYPED = TypedSteps()


_button = screen.button


def read_markup(announcement: Announcement) -> str | None:
    """The « J'ai lu » button under a must-read notice (JSON for the outbox)."""
    if not announcement.must_read:
        return None
    data = callbacks.encode(ReadTap(announcement.id))
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("✅ J'ai lu", callback_data=data)]]
    ).to_json()


def recipient_text(announcement: Announcement) -> str:
    return render("broadcast_message", announcement=announcement)


# ------------------------------------------------------------------------------ screens
async def _home(ctx: Ctx, member: Member) -> tuple[str, InlineKeyboardMarkup]:
    recent = await announcements.recent(ctx.db, member.caf.id)
    figures = {a.id: await announcements.progress(ctx.db, a) for a in recent}
    rows = [[_button("✍️ Nouvelle information", "new")]]
    for a in recent:
        done = figures[a.id].get(outbox.OutboxStatus.SENT, 0)
        total = sum(figures[a.id].values())
        mark = {"draft": "📝", "scheduled": "🗓", "sending": "📨", "sent": "✅"}.get(a.status, "•")
        label = f"{mark} n° {a.id} · {_local(ctx, a.sent_at or a.scheduled_for or a.created_at)}"
        if total:
            label += f" · {done}/{total}"
        rows.append([_button(label, "item", a.id)])
    return render("broadcast_home", count=len(recent)), InlineKeyboardMarkup(rows)


def _local(ctx: Ctx, instant: datetime) -> str:
    local = instant.astimezone(ctx.settings.tz)
    return f"{local:%d/%m} {local.hour} h {local:%M}".replace(" h 00", " h")


async def _compose(ctx: Ctx, member: Member, a: Announcement) -> tuple[str, InlineKeyboardMarkup]:
    audience = a.audience
    count = await audiences.count(ctx.db, a.caf_id, audience, exclude_person_id=a.author_id)
    chosen = []
    if audience.kind is AudienceKind.PARTNERS:
        chosen = [
            p.title
            for p in await partners.list_for_caf(ctx.db, a.caf_id)
            if p.id in audience.partners
        ]
    text = render(
        "broadcast_compose", announcement=a, audience=audience, count=count, chosen=chosen
    )
    rows = [
        [
            _button(("🔘 " if audience.kind is kind else "") + label, "aud", a.id, i)
            for i, (kind, label) in enumerate(AUDIENCE_BUTTONS)
        ],
        [
            _button(
                ("🔘 " if audience.kind is AudienceKind.PARTNERS else "") + "🏢 Choisir des sites",
                "sites",
                a.id,
            )
        ],
        [_button(("☑️" if a.must_read else "☐") + " À lire obligatoirement", "must", a.id)],
    ]
    if count:
        rows.append(
            [
                _button("📨 Envoyer maintenant", "confirm", a.id),
                _button("🗓 Programmer", "when", a.id),
            ]
        )
    rows.append([_button("✖️ Abandonner", "drop", a.id)])
    return text, InlineKeyboardMarkup(rows)


async def _detail(ctx: Ctx, member: Member, a: Announcement) -> tuple[str, InlineKeyboardMarkup]:
    return screen.detail(a, await broadcasts.figures(ctx.db, a), ctx.settings.tz)


# ------------------------------------------------------------------------------ entry points
@guarded
async def open_menu(update: Update, ctx: Ctx) -> None:
    """The menu entry 📢 Diffuser."""
    member = await require(update, ctx, Action.BROADCAST)
    await pending.clear(ctx.db, member.person.id)
    await send(ctx, chat_id_of(update), *await _home(ctx, member))


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    await dispatch_tap(update, ctx, payload=BroadcastTap, taps=TAPS, action=Action.BROADCAST)


async def _own(ctx: Ctx, member: Member, announcement_id: int) -> Announcement:
    found = await announcements.get(ctx.db, announcement_id)
    if found is None or found.caf_id != member.caf.id:
        raise BadCallback("not an announcement of this Caf")
    return found


async def _draft(ctx: Ctx, member: Member, announcement_id: int) -> Announcement | None:
    """The announcement if it can still be edited (a draft); None once it went on."""
    found = await _own(ctx, member, announcement_id)
    return found if found.status == "draft" else None


# ------------------------------------------------------------------------------ taps
async def tap_home(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    await edit(message, *await _home(ctx, member))


async def tap_new(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    await ask(ctx, member, "broadcast_body", {}, render("broadcast_ask_body", limit=TEXT_LIMIT))


async def tap_item(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    a = await _own(ctx, member, tap.item)
    if a.status == "draft":
        await edit(message, *await _compose(ctx, member, a))
    else:
        await edit(message, *await _detail(ctx, member, a))


async def _changed(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None, **fields: object
) -> str | None:
    a = await _draft(ctx, member, tap.item)
    if a is None:
        return "Cette diffusion est déjà partie ou programmée."
    await announcements.update(ctx.db, a.id, ctx.clock.now(), **fields)
    fresh = await _own(ctx, member, a.id)
    await edit(message, *await _compose(ctx, member, fresh))
    return None


async def tap_audience(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    if not 0 <= tap.value < len(AUDIENCE_BUTTONS):
        raise BadCallback("unknown audience")
    audience = Audience(AUDIENCE_BUTTONS[tap.value][0])
    return await _changed(ctx, member, tap, message, audience=audience.to_json())


async def tap_must_read(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    a = await _draft(ctx, member, tap.item)
    if a is None:
        return "Cette diffusion est déjà partie ou programmée."
    return await _changed(ctx, member, tap, message, must_read=int(not a.must_read))


async def tap_sites(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    a = await _draft(ctx, member, tap.item)
    if a is None:
        return "Cette diffusion est déjà partie ou programmée."
    sites = await partners.list_for_caf(ctx.db, member.caf.id)
    chosen = a.audience.partners if a.audience.kind is AudienceKind.PARTNERS else frozenset()
    rows = site_checklist(
        sites, chosen, tap.value, lambda label, op, value: _button(label, op, a.id, value)
    )
    rows.append([_button("✔️ Terminé", "item", a.id)])
    await edit(message, render("broadcast_sites", count=len(chosen)), InlineKeyboardMarkup(rows))
    return None


async def tap_site(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    a = await _draft(ctx, member, tap.item)
    if a is None:
        return "Cette diffusion est déjà partie ou programmée."
    partner = await partners.get(ctx.db, tap.value)
    if partner is None or partner.caf_id != member.caf.id:
        raise BadCallback("not a partner of this Caf")
    current = (
        a.audience if a.audience.kind is AudienceKind.PARTNERS else Audience(AudienceKind.PARTNERS)
    )
    await announcements.update(
        ctx.db, a.id, ctx.clock.now(), audience=current.toggled(partner.id).to_json()
    )
    sites = await partners.list_for_caf(ctx.db, member.caf.id)
    page = page_of(sites, partner.id)
    return await tap_sites(ctx, member, BroadcastTap("sites", a.id, page), message)


async def tap_confirm(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    a = await _draft(ctx, member, tap.item)
    if a is None:
        return "Cette diffusion est déjà partie ou programmée."
    count = await audiences.count(ctx.db, a.caf_id, a.audience, exclude_person_id=a.author_id)
    rows = [
        [_button(f"✅ Oui, envoyer à {count} personne{'s' if count > 1 else ''}", "go", a.id)],
        [_button("⬅️ Retour", "item", a.id)],
    ]
    await edit(
        message,
        render("broadcast_confirm", count=count, announcement=a),
        InlineKeyboardMarkup(rows),
    )
    return None


async def tap_go(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    a = await _draft(ctx, member, tap.item)
    if a is None:
        return "Cette diffusion est déjà partie."
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        fresh = await announcements.get(tx, a.id)
        if fresh is None or fresh.status != "draft":  # a double tap
            return "Cette diffusion est déjà partie."
        if message is not None:
            await announcements.update(
                tx,
                a.id,
                now,
                progress_chat_id=message.chat_id,
                progress_message_id=message.message_id,
            )
        count = await announcements.send(
            tx, fresh, text=recipient_text(fresh), reply_markup=read_markup(fresh), now=now
        )
        await _record(tx, member, fresh, "broadcast.sent", now, count=count)
    ctx.services.wake_outbox()
    sent = await _own(ctx, member, a.id)
    await edit(message, *await _detail(ctx, member, sent))
    return f"Envoi lancé : {count} destinataire{'s' if count > 1 else ''}."


def _next_morning(today: date, weekday: int | None = None) -> date:
    if weekday is None:
        return today + timedelta(days=1)
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


async def tap_when(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    a = await _draft(ctx, member, tap.item)
    if a is None:
        return "Cette diffusion est déjà partie ou programmée."
    today = ctx.clock.now().astimezone(ctx.settings.tz).date()
    tomorrow, monday = _next_morning(today), _next_morning(today, 0)
    await pending.expect(
        ctx.db, member.person.id, "broadcast_when", {"announcement": a.id}, ctx.clock.now()
    )
    rows = [
        [_button(f"Demain ({tomorrow:%d/%m}) à 9 h", "at", a.id, _number(tomorrow))],
        [_button(f"Lundi {monday:%d/%m} à 9 h", "at", a.id, _number(monday))],
        [_button("⬅️ Retour", "item", a.id)],
    ]
    await edit(message, render("broadcast_when"), InlineKeyboardMarkup(rows))
    return None


def _send_key(announcement_id: int, when: datetime) -> str:
    """One key per programmed moment: a cancelled one never blocks programming anew."""
    return f"broadcast:{announcement_id}:send:{to_db(when)}"


def _number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


async def _schedule(
    ctx: Ctx, member: Member, a: Announcement, when: datetime, message: Message | None
) -> str | None:
    now = ctx.clock.now()
    if when <= now:
        return "Ce moment est passé : choisissez un moment à venir."
    async with ctx.db.transaction() as tx:
        fresh = await announcements.get(tx, a.id)
        if fresh is None or fresh.status != "draft":
            return "Cette diffusion est déjà partie ou programmée."
        progress = {}
        if message is not None:
            progress = {
                "progress_chat_id": message.chat_id,
                "progress_message_id": message.message_id,
            }
        await announcements.update(
            tx, a.id, now, status="scheduled", scheduled_for=when, **progress
        )
        await scheduled.reschedule(
            tx,
            kind=SEND_KIND,
            key=f"broadcast:{a.id}:send",
            due_at=when,
            payload={"announcement": a.id},
            now=now,
        )
        await pending.clear(tx, member.person.id)
        await _record(tx, member, fresh, "broadcast.scheduled", now, when=when.isoformat())
    return None


async def tap_at(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    a = await _own(ctx, member, tap.item)
    try:
        day = date(tap.value // 10000, tap.value // 100 % 100, tap.value % 100)
    except ValueError:
        raise BadCallback("not a date") from None
    when = datetime.combine(day, time(9, 0), tzinfo=ctx.settings.tz)
    problem = await _schedule(ctx, member, a, when, message)
    if problem:
        return problem
    await edit(message, *await _detail(ctx, member, await _own(ctx, member, a.id)))
    return "Envoi programmé."


async def tap_unschedule(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    a = await _own(ctx, member, tap.item)
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        fresh = await announcements.get(tx, a.id)
        if fresh is None or fresh.status != "scheduled":
            return "Cette diffusion n'est plus programmée (elle est peut-être partie)."
        if fresh.scheduled_for is not None:
            await scheduled.cancel(tx, _send_key(a.id, fresh.scheduled_for), now)
        await announcements.update(tx, a.id, now, status="draft", scheduled_for=None)
        await _record(tx, member, fresh, "broadcast.unscheduled", now)
    await edit(message, *await _compose(ctx, member, await _own(ctx, member, a.id)))
    return "Envoi programmé annulé : le message est de nouveau en brouillon."


async def tap_drop(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    a = await _draft(ctx, member, tap.item)
    if a is None:
        return "Cette diffusion est déjà partie ou programmée."
    await announcements.update(ctx.db, a.id, ctx.clock.now(), status="cancelled")
    await edit(message, *await _home(ctx, member))
    return "Brouillon abandonné : rien n'a été envoyé."


async def tap_retry(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    a = await _own(ctx, member, tap.item)
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        count = await announcements.retry_failed(tx, a, now)
        if count:
            await _record(tx, member, a, "broadcast.retried", now, count=count)
    ctx.services.wake_outbox()
    await edit(message, *await _detail(ctx, member, await _own(ctx, member, a.id)))
    return f"{count} envoi(s) relancé(s)." if count else "Aucun échec à relancer."


async def tap_unread(ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None) -> None:
    a = await _own(ctx, member, tap.item)
    readers = await announcements.readers(ctx.db, a.id)
    text = render(
        "broadcast_readers",
        announcement=a,
        unread=[r for r in readers if r.read_at is None],
        read=sum(1 for r in readers if r.read_at),
        total=len(readers),
    )
    await edit(
        message,
        text,
        InlineKeyboardMarkup(
            [[_button("🔔 Relancer", "remind", a.id)], [_button("⬅️ Retour", "item", a.id)]]
        ),
    )


async def tap_remind(
    ctx: Ctx, member: Member, tap: BroadcastTap, message: Message | None
) -> str | None:
    a = await _own(ctx, member, tap.item)
    if not a.must_read:
        raise BadCallback("not a must-read notice")
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        unread = [r for r in await announcements.readers(tx, a.id) if r.read_at is None]
        round_ = await announcements.next_reminder_round(tx, a.id)
        text = render("broadcast_reminder") + "\n\n" + recipient_text(a)
        sent = await outbox.enqueue_many(
            tx,
            (
                outbox.OutboxItem(
                    kind=f"{a.kind}:reminder",
                    dedup_key=f"{a.kind}:reminder{round_}:p{r.person_id}",
                    chat_id=r.telegram_user_id or 0,
                    person_id=r.person_id,
                    text=text,
                    reply_markup=read_markup(a),
                    media_kind=a.media_kind,
                    media=a.media_file_id,
                    media_name=a.media_name,
                )
                for r in unread
                if r.telegram_user_id is not None
            ),
            now,
        )
        await announcements.note_reminded(tx, a.id, [r.person_id for r in unread], round_)
        await _record(tx, member, a, "broadcast.reminded", now, count=sent)
    ctx.services.wake_outbox()
    await edit(message, *await _detail(ctx, member, await _own(ctx, member, a.id)))
    return f"Rappel envoyé à {sent} personne{'s' if sent > 1 else ''}."


TAPS: dict[str, Any] = {
    "home": tap_home,
    "new": tap_new,
    "item": tap_item,
    "aud": tap_audience,
    "must": tap_must_read,
    "sites": tap_sites,
    "site": tap_site,
    "confirm": tap_confirm,
    "go": tap_go,
    "when": tap_when,
    "at": tap_at,
    "unsched": tap_unschedule,
    "drop": tap_drop,
    "retry": tap_retry,
    "unread": tap_unread,
    "remind": tap_remind,
}


async def _record(
    tx: Any, member: Member, a: Announcement, action: str, now: datetime, **details: object
) -> None:
    await audit.record(
        tx,
        at=now,
        action=action,
        actor_id=member.person.id,
        caf_id=member.caf.id,
        target_type="announcement",
        target_id=a.id,
        details=details or None,
    )


# ------------------------------------------------------------------------------ read receipts
@guarded
async def on_read(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=ReadTap)
    member = await require(update, ctx, Action.READ_NEWS)
    recorded = await announcements.mark_read(
        ctx.db, tap.announcement, member.person.id, ctx.clock.now()
    )
    if recorded is None:
        raise BadCallback("not a recipient")
    message = query.message if isinstance(query.message, Message) else None
    if message is not None:
        with contextlib.suppress(TelegramError):
            await message.edit_reply_markup(None)
    await query.answer("Merci : lecture enregistrée." if recorded else "Déjà noté, merci.")


# ------------------------------------------------------------------------------ typed answers
async def _start_draft(
    update: Update, ctx: Ctx, member: Member, body: str, file: FileRef | None
) -> None:
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        a = await announcements.create(
            tx,
            caf_id=member.caf.id,
            author_id=member.person.id,
            body=body,
            media_kind=file.kind if file else None,
            media_file_id=file.file_id if file else None,
            media_name=file.name if file else None,
            now=now,
        )
        await pending.clear(tx, member.person.id)
    chat_id = chat_id_of(update)
    # The preview is the message exactly as the recipients will get it.
    text = recipient_text(a)
    if a.media_kind == "photo":
        await ctx.bot.send_photo(chat_id, a.media_file_id or "", caption=text, parse_mode="HTML")
    elif a.media_kind == "document":
        await ctx.bot.send_document(chat_id, a.media_file_id or "", caption=text, parse_mode="HTML")
    else:
        await send(ctx, chat_id, text)
    await send(ctx, chat_id, *await _compose(ctx, member, a))


@TYPED.text("broadcast_body", max_length=TEXT_LIMIT, allowed=ALLOWED_IN_NEWS)
async def on_body(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.BROADCAST)
    message = update.effective_message
    assert message is not None
    await _start_draft(update, ctx, member, message.text_html or "", None)


@TYPED.file("broadcast_body")
async def on_body_file(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, file: FileRef
) -> None:
    member = await require(update, ctx, Action.BROADCAST)
    message = update.effective_message
    assert message is not None
    chat_id = chat_id_of(update)
    caption = message.caption or ""
    if len(caption) > CAPTION_LIMIT:
        await send(
            ctx,
            chat_id,
            render("broadcast_caption_too_long", limit=CAPTION_LIMIT, length=len(caption)),
        )
        return
    found = privacy.screen(caption).found - ALLOWED_IN_NEWS
    if found:
        with contextlib.suppress(TelegramError):
            await message.delete()
        await send(ctx, chat_id, privacy.ScreenResult(frozenset(found)).message())
        return
    await _start_draft(update, ctx, member, file.caption_html or "", file)


@TYPED.text("broadcast_when", max_length=60)
async def on_when(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, text: str
) -> None:
    member = await require(update, ctx, Action.BROADCAST)
    chat_id = chat_id_of(update)
    a = await _own(ctx, member, int(expected.context["announcement"]))
    today = ctx.clock.now().astimezone(ctx.settings.tz).date()
    try:
        day, at = moments.parse_moment(text, today)
    except moments.MomentError as error:  # it quotes what was typed: escaped
        await send(ctx, chat_id, html.escape(str(error), quote=False))
        return
    problem = await _schedule(
        ctx, member, a, datetime.combine(day, at, tzinfo=ctx.settings.tz), None
    )
    if problem:
        await send(ctx, chat_id, problem)
        return
    fresh = await _own(ctx, member, a.id)
    message = await send(ctx, chat_id, *await _detail(ctx, member, fresh))
    await announcements.update(
        ctx.db,
        a.id,
        ctx.clock.now(),
        progress_chat_id=message.chat_id,
        progress_message_id=message.message_id,
    )


# ------------------------------------------------------------------------------ scheduled sending
async def send_scheduled(
    job: ScheduledJob, *, db: Any, clock: Any, wake: Callable[[], None]
) -> None:
    """The scheduler's handler: a programmed announcement leaves now (once)."""
    announcement_id = int(job.payload["announcement"])
    now = clock.now()
    async with db.transaction() as tx:
        a = await announcements.get(tx, announcement_id)
        if a is None or a.status != "scheduled":
            return  # cancelled, or already sent by an earlier run
        await announcements.send(
            tx, a, text=recipient_text(a), reply_markup=read_markup(a), now=now
        )
    wake()
