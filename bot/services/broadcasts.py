"""📢 Diffuser: news and must-read notices from a Caf's coordinators to its network.

Compose (the coordinator's own message, with at most one photo or document of theirs),
choose the audience, mark it must-read or not, then send now or at a chosen time
(cancellable until it leaves). Sending fixes the recipients and writes one outbox row each
in one transaction; bot/jobs/broadcast_progress.py follows it to the end, and
bot/jobs/scheduled_broadcasts.py sends the programmed ones when due. Recipients of a
must-read notice answer « J'ai lu »; the coordinator sees who has not and can remind them.

Every function reaches an announcement by id only within the coordinator's own Caf
(`Unknown` otherwise); a tap that comes too late (a double tap, a stale screen) is `Refused`
with its reason. The caller wakes the outbox after a function that queued messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import moments, privacy
from bot.domain.audience import Audience, AudienceKind
from bot.domain.broadcasts import (
    ALLOWED_IN_NEWS,
    CAPTION_LIMIT,
    Reader,
    Refusal,
    Status,
)
from bot.domain.models import Announcement, Member
from bot.services import audit, notify
from bot.ui.screens.broadcast import (
    Draft,
    Figures,
    Report,
    SiteChoice,
    read_markup,
    recipient_text,
    reminder_text,
)
from storage import announcements, audiences, cafs, outbox, partners, pending, scheduled
from storage.db import Conn, Database

SEND_KIND = "broadcast_send"
WHEN_KIND = "broadcast_when"  # the typed moment of a programmed sending


def send_job_key(announcement_id: int) -> str:
    """The one scheduled job that sends a programmed broadcast. Programming arms it (again),
    cancelling the programming cancels it: both name it through here, so they cannot drift
    apart (they once did, and a broadcast cancelled then programmed anew never left)."""
    return f"broadcast:{announcement_id}:send"


class Unknown(LookupError):
    """An id that names no announcement of this Caf (forged, or another Caf's), a site not
    of this Caf, or a reminder asked for a notice that is not must-read."""


class Refused(Exception):
    """A tap that changes nothing, for `reason`."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


class CaptionTooLong(ValueError):
    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length
        self.limit = CAPTION_LIMIT


class IdentifiersFound(ValueError):
    """A caption naming a beneficiary (NIR, IBAN…): refused, never stored."""

    def __init__(self, found: frozenset[privacy.IdentifierKind]) -> None:
        super().__init__(sorted(found))
        self.message = privacy.ScreenResult(found).message()


@dataclass(frozen=True)
class Media:
    """A coordinator's photo or document: only Telegram's id is kept."""

    kind: str  # "photo" or "document"
    file_id: str
    name: str | None


@dataclass(frozen=True)
class Outcome:
    """What a sending, a retry or a reminder did: the broadcast as it stands, and how many
    messages were queued."""

    report: Report
    count: int


# ------------------------------------------------------------------------------ reading
async def figures(conn: Conn, a: Announcement) -> Figures:
    """Its messages by outbox status and, for a must-read notice, its readers."""
    counts = await announcements.progress(conn, a)
    readers = await announcements.readers(conn, a.id) if a.must_read else []
    return Figures(
        by_status={status.value: n for status, n in counts.items()},
        readers=len(readers),
        read=sum(1 for r in readers if r.read_at),
    )


async def zone(conn: Conn, a: Announcement) -> ZoneInfo:
    """The zone the broadcast's times are shown in: its Caf's."""
    caf = await cafs.get(conn, a.caf_id)
    if caf is None:
        raise Unknown(f"caf {a.caf_id}")
    return caf.zone


async def recent(db: Database, member: Member) -> list[Report]:
    """The Caf's latest broadcasts (abandoned drafts left out), newest first."""
    found = await announcements.recent(db, member.caf.id)
    return [Report(a, await figures(db, a)) for a in found]


async def view(db: Database, member: Member, announcement_id: int) -> Draft | Report:
    """A draft with its audience counted, or a broadcast gone or programmed with its figures."""
    a = await _own(db, member, announcement_id)
    if a.status == Status.DRAFT:
        return await _draft_view(db, a)
    return await _report(db, a)


async def draft(db: Database, member: Member, announcement_id: int) -> Draft:
    """The draft, with its audience counted; refused once it left or was programmed."""
    return await _draft_view(db, await _draft(db, member, announcement_id))


async def readers(
    db: Database, member: Member, announcement_id: int
) -> tuple[Announcement, list[Reader]]:
    """Everyone a notice was sent to, and whether they have read it."""
    a = await _own(db, member, announcement_id)
    return a, await announcements.readers(db, a.id)


async def site_choice(db: Database, member: Member, announcement_id: int) -> SiteChoice:
    """The Caf's sites, and those the draft is for."""
    return await _site_choice(db, await _draft(db, member, announcement_id))


# ------------------------------------------------------------------------------ the draft
async def start_draft(
    db: Database,
    member: Member,
    body: str,
    now: datetime,
    *,
    media: Media | None = None,
    caption: str = "",
) -> Draft:
    """A new draft to the whole Caf, not must-read. `caption`, the plain text of a file's
    caption, is checked here: a typed text was screened before it reached the bot's flows."""
    if media is not None:
        if len(caption) > CAPTION_LIMIT:
            raise CaptionTooLong(len(caption))
        found = privacy.screen(caption).found - ALLOWED_IN_NEWS
        if found:
            raise IdentifiersFound(frozenset(found))
    async with db.transaction() as tx:
        a = await announcements.create(
            tx,
            caf_id=member.caf.id,
            author_id=member.person.id,
            body=body,
            media_kind=media.kind if media else None,
            media_file_id=media.file_id if media else None,
            media_name=media.name if media else None,
            now=now,
        )
        await pending.clear(tx, member.person.id)
    return await _draft_view(db, a)


async def choose_audience(
    db: Database, member: Member, announcement_id: int, audience: Audience, now: datetime
) -> Draft:
    async with db.transaction() as tx:
        a = await _draft(tx, member, announcement_id)
        await announcements.update(tx, a.id, now, audience=audience.to_json())
    return await draft(db, member, announcement_id)


async def toggle_must_read(
    db: Database, member: Member, announcement_id: int, now: datetime
) -> Draft:
    async with db.transaction() as tx:
        a = await _draft(tx, member, announcement_id)
        await announcements.update(tx, a.id, now, must_read=int(not a.must_read))
    return await draft(db, member, announcement_id)


async def toggle_site(
    db: Database, member: Member, announcement_id: int, partner_id: int, now: datetime
) -> SiteChoice:
    """Adds the site to the draft's chosen sites, or takes it off (the audience becomes
    « chosen sites » if it was another)."""
    async with db.transaction() as tx:
        a = await _draft(tx, member, announcement_id)
        partner = await partners.get(tx, partner_id)
        if partner is None or partner.caf_id != member.caf.id:
            raise Unknown(f"partner {partner_id}")
        current = a.audience
        if current.kind is not AudienceKind.PARTNERS:
            current = Audience(AudienceKind.PARTNERS)
        audience = current.toggled(partner.id).to_json()
        await announcements.update(tx, a.id, now, audience=audience)
    return await site_choice(db, member, announcement_id)


async def drop(db: Database, member: Member, announcement_id: int, now: datetime) -> list[Report]:
    """Abandons a draft (nothing was sent); returns the latest broadcasts without it."""
    async with db.transaction() as tx:
        a = await _draft(tx, member, announcement_id)
        await announcements.update(tx, a.id, now, status=Status.CANCELLED.value)
    return await recent(db, member)


# ------------------------------------------------------------------------------ sending
@dataclass(frozen=True)
class ProgressMessage:
    """The coordinator's message that the progress loop keeps up to date."""

    chat_id: int
    message_id: int

    def fields(self) -> dict[str, object]:
        return {"progress_chat_id": self.chat_id, "progress_message_id": self.message_id}


async def send_now(
    db: Database,
    member: Member,
    announcement_id: int,
    now: datetime,
    progress: ProgressMessage | None = None,
) -> Outcome:
    """Fixes the recipients and queues one message each, audited; once only."""
    async with db.transaction() as tx:
        a = await _own(tx, member, announcement_id)
        if a.status != Status.DRAFT:  # a double tap
            raise Refused(Refusal.ALREADY_SENT)
        if progress is not None:
            await announcements.update(tx, a.id, now, **progress.fields())
        count = await announcements.send(
            tx, a, text=recipient_text(a), reply_markup=read_markup(a), now=now
        )
        await audit.record(tx, member, "broadcast.sent", now, _on(a), details={"count": count})
    return Outcome(await _report(db, await _own(db, member, a.id)), count)


async def expect_moment(
    db: Database, member: Member, announcement_id: int, now: datetime
) -> Announcement:
    """The coordinator is to choose when the draft leaves (a button, or a moment typed)."""
    a = await _draft(db, member, announcement_id)
    await pending.expect(db, member.person.id, WHEN_KIND, {"announcement": a.id}, now)
    return a


async def schedule(
    db: Database,
    member: Member,
    announcement_id: int,
    when: datetime,
    now: datetime,
    progress: ProgressMessage | None = None,
) -> Report:
    """Programs the draft to leave at `when` (the scheduler sends it then), audited."""
    a = await _own(db, member, announcement_id)
    if when <= now:
        raise Refused(Refusal.PAST)
    async with db.transaction() as tx:
        a = await _draft(tx, member, a.id)
        fields = progress.fields() if progress is not None else {}
        await announcements.update(
            tx, a.id, now, status=Status.SCHEDULED.value, scheduled_for=when, **fields
        )
        # One job per announcement, armed again whatever became of it: cancelled with
        # its programming, or run as a no-op by an older version after a cancellation.
        await scheduled.rearm(
            tx,
            kind=SEND_KIND,
            key=send_job_key(a.id),
            due_at=when,
            payload={"announcement": a.id},
            now=now,
        )
        await pending.clear(tx, member.person.id)
        details = {"when": when.isoformat()}
        await audit.record(tx, member, "broadcast.scheduled", now, _on(a), details=details)
    return await _report(db, await _own(db, member, a.id))


async def schedule_typed(
    db: Database, member: Member, announcement_id: int, text: str, now: datetime, tz: ZoneInfo
) -> Report:
    """`schedule` at a moment the coordinator typed (« 3/12 à 14h30 »), read in `tz`;
    `moments.MomentError` when it cannot be read."""
    a = await _own(db, member, announcement_id)
    day, at = moments.parse_moment(text, now.astimezone(tz).date())
    return await schedule(db, member, a.id, datetime.combine(day, at, tzinfo=tz), now)


async def follow(
    db: Database, member: Member, announcement_id: int, progress: ProgressMessage, now: datetime
) -> None:
    """Notes the message that shows the broadcast's progress (sent after it was programmed)."""
    a = await _own(db, member, announcement_id)
    await announcements.update(db, a.id, now, **progress.fields())


async def unschedule(db: Database, member: Member, announcement_id: int, now: datetime) -> Draft:
    """Takes a programmed broadcast back to draft, and its sending job off, audited."""
    async with db.transaction() as tx:
        a = await _own(tx, member, announcement_id)
        if a.status != Status.SCHEDULED:
            raise Refused(Refusal.NOT_SCHEDULED)
        await announcements.update(tx, a.id, now, status=Status.DRAFT.value, scheduled_for=None)
        await scheduled.cancel(tx, send_job_key(a.id), now)
        await audit.record(tx, member, "broadcast.unscheduled", now, _on(a))
    return await draft(db, member, announcement_id)


async def send_due(db: Database, announcement_id: int, now: datetime) -> bool:
    """A programmed broadcast leaves now; False when it was cancelled or already left (the
    scheduler may run a job twice)."""
    async with db.transaction() as tx:
        a = await announcements.get(tx, announcement_id)
        if a is None or a.status != Status.SCHEDULED:
            return False
        await announcements.send(
            tx, a, text=recipient_text(a), reply_markup=read_markup(a), now=now
        )
    return True


async def retry_failed(
    db: Database, member: Member, announcement_id: int, now: datetime
) -> Outcome:
    """Puts the failed messages back in the queue (not the unreachable ones), audited."""
    async with db.transaction() as tx:
        a = await _own(tx, member, announcement_id)
        count = await announcements.retry_failed(tx, a, now)
        if count:
            await audit.record(
                tx, member, "broadcast.retried", now, _on(a), details={"count": count}
            )
    return Outcome(await _report(db, await _own(db, member, a.id)), count)


async def remind_unread(
    db: Database, member: Member, announcement_id: int, now: datetime
) -> Outcome:
    """Sends a must-read notice again, with a reminder, to those who have not read it."""
    async with db.transaction() as tx:
        a = await _own(tx, member, announcement_id)
        if not a.must_read:
            raise Unknown("not a must-read notice")
        unread = [r for r in await announcements.readers(tx, a.id) if r.read_at is None]
        round_ = await announcements.next_reminder_round(tx, a.id)
        media = {"media_kind": a.media_kind, "media": a.media_file_id, "media_name": a.media_name}
        sent = await notify.to_each(
            tx,
            unread,
            kind=f"{a.kind}:reminder",
            key=f"{a.kind}:reminder{round_}",
            text=reminder_text(a),
            now=now,
            markup=read_markup(a),
            attachment=lambda _: media,
        )
        await announcements.note_reminded(tx, a.id, [r.person_id for r in unread], round_)
        await audit.record(tx, member, "broadcast.reminded", now, _on(a), details={"count": sent})
    return Outcome(await _report(db, await _own(db, member, a.id)), sent)


async def mark_read(db: Database, member: Member, announcement_id: int, now: datetime) -> bool:
    """« J'ai lu »: True when this tap recorded it, False when it was already; `Unknown` when
    the person was not a recipient."""
    recorded = await announcements.mark_read(db, announcement_id, member.person.id, now)
    if recorded is None:
        raise Unknown("not a recipient")
    return recorded


async def settle_sending(db: Database, now: datetime) -> list[Announcement]:
    """The broadcasts leaving, each marked sent once none of its messages waits any more."""
    settled = []
    for a in await announcements.in_progress(db):
        counts = await announcements.progress(db, a)
        waiting = counts.get(outbox.OutboxStatus.PENDING, 0) + counts.get(
            outbox.OutboxStatus.SENDING, 0
        )
        if not waiting:
            async with db.transaction() as tx:
                fresh = await announcements.get(tx, a.id)
                if fresh is not None and fresh.status == Status.SENDING:
                    await announcements.update(tx, a.id, now, status=Status.SENT.value)
            a = await announcements.get(db, a.id) or a
        settled.append(a)
    return settled


# ------------------------------------------------------------------------------ helpers
async def _own(conn: Conn, member: Member, announcement_id: int) -> Announcement:
    found = await announcements.get(conn, announcement_id)
    if found is None or found.caf_id != member.caf.id:
        raise Unknown(f"announcement {announcement_id}")
    return found


async def _draft(conn: Conn, member: Member, announcement_id: int) -> Announcement:
    """The announcement if it can still be edited; refused once it left or was programmed."""
    found = await _own(conn, member, announcement_id)
    if found.status != Status.DRAFT:
        raise Refused(Refusal.NOT_A_DRAFT)
    return found


async def _draft_view(conn: Conn, a: Announcement) -> Draft:
    audience = a.audience
    count = await audiences.count(conn, a.caf_id, audience, exclude_person_id=a.author_id)
    chosen = []
    if audience.kind is AudienceKind.PARTNERS:
        sites = await partners.list_for_caf(conn, a.caf_id)
        chosen = [p.title for p in sites if p.id in audience.partners]
    return Draft(a, count, chosen)


async def _site_choice(conn: Conn, a: Announcement) -> SiteChoice:
    sites = await partners.list_for_caf(conn, a.caf_id)
    audience = a.audience
    chosen = audience.partners if audience.kind is AudienceKind.PARTNERS else frozenset()
    return SiteChoice(a, sites, chosen)


async def _report(conn: Conn, a: Announcement) -> Report:
    return Report(a, await figures(conn, a))


def _on(a: Announcement) -> tuple[str, int]:
    """What the audit records of a broadcast are about."""
    return ("announcement", a.id)
