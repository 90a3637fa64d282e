"""A notice of termination of the convention (dénonciation, Article 11), by either party.

A coordinator gives the Caf's notice from a site's card, a manager the partner's from
👥 Mon équipe. The effective date must be a term of the convention far enough ahead
(bot/domain/termination.py). Recording tells the other party at once (and the recorder's
own side), books the end of the label as scheduled work keyed per notice, and is audited;
withdrawing before the date cancels that work and tells both sides again. On the date,
`take_effect` (bot/jobs/termination.py) withdraws the label through the label use case
(bot/services/labels.py), so the site's people get the usual notice and their menu changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.domain import termination as rules
from bot.domain.models import Caf, Member, Partner, Person
from bot.domain.permissions import LabelStatus
from bot.domain.termination import Party, Termination
from bot.services import audit, labels, notify
from bot.services.network import is_coordinator, own_partner
from bot.ui.screens import termination as screen
from storage import cafs, partners, pending, scheduled
from storage import terminations as store
from storage.db import Conn, Database, Tx

KIND = "termination_effective"


def job_key(termination_id: int) -> str:
    return f"termination:{termination_id}"


class Why(StrEnum):
    NO_CONVENTION = "no_convention"  # the convention's start is not known
    WITHDRAWN = "withdrawn"  # the label is already withdrawn
    STANDING = "standing"  # a notice already stands for this site
    GONE = "gone"  # the notice was withdrawn or took effect meanwhile
    OTHER_PARTY = "other_party"  # only the party who gave notice withdraws it


class NotTerminable(Exception):
    def __init__(self, why: Why) -> None:
        super().__init__(why.value)
        self.why = why


@dataclass(frozen=True)
class TerminationView:
    """A site's convention as the 📄 screen shows it."""

    partner: Partner
    standing: Termination | None
    allowed: list[date]  # the terms a notice given today may name (empty: no start known)
    by_coordinator: bool


def _party(member: Member) -> Party:
    return Party.CAF if is_coordinator(member) else Party.PARTNER


async def _view(conn: Conn, member: Member, partner_id: int, today: date) -> TerminationView:
    partner = await own_partner(conn, member, partner_id)
    start = partner.convention_start
    allowed = rules.allowed_terms(start, today) if start else []
    standing = await store.standing(conn, partner.id)
    return TerminationView(partner, standing, allowed, is_coordinator(member))


async def view(db: Database, member: Member, partner_id: int, now: datetime) -> TerminationView:
    async with db.read() as conn:
        return await _view(conn, member, partner_id, now.astimezone(member.caf.zone).date())


def _check(found: TerminationView) -> date:
    """The convention's start, if a notice may be given now."""
    if found.partner.label_status is LabelStatus.WITHDRAWN:
        raise NotTerminable(Why.WITHDRAWN)
    if found.standing is not None:
        raise NotTerminable(Why.STANDING)
    if found.partner.convention_start is None:
        raise NotTerminable(Why.NO_CONVENTION)
    return found.partner.convention_start


async def terminable(
    db: Database, member: Member, partner_id: int, now: datetime
) -> TerminationView:
    """The site, if a notice may be given now (before its date is asked)."""
    found = await view(db, member, partner_id, now)
    _check(found)
    return found


async def check_date(
    db: Database, member: Member, partner_id: int, typed: str, now: datetime
) -> date:
    """The typed effective date, if the convention allows it (`TerminationDateError`)."""
    found = await terminable(db, member, partner_id, now)
    start = _check(found)
    return rules.parse_effective(typed, start, now.astimezone(member.caf.zone).date())


async def _tell_both(
    tx: Tx, caf: Caf, partner: Partner, by: Person, *, key: str, text: str, now: datetime
) -> None:
    """The site's managers and the Caf's coordinators (and group), but the one acting."""
    await notify.to_site(
        tx,
        partner.id,
        kind="termination",
        key=f"{key}:site",
        text=text,
        now=now,
        exclude_person_id=by.id,
        managers_only=True,
    )
    await notify.to_coordinators(
        tx, caf, kind="termination", key=f"{key}:caf", text=text, now=now, exclude_person_id=by.id
    )


async def record(
    db: Database,
    member: Member,
    partner_id: int,
    effective_on: date,
    reason: str,
    now: datetime,
    *,
    hour: int,
) -> TerminationView:
    """Records the notice, books the end of the label at `hour` on the effective date in the
    Caf's zone, tells the other party; audited. The date is checked again (a day passed)."""
    zone = member.caf.zone
    today = now.astimezone(zone).date()
    async with db.transaction() as tx:
        found = await _view(tx, member, partner_id, today)
        start = _check(found)
        rules.check_effective(start, today, effective_on)
        party = _party(member)
        new_id = await store.record(
            tx,
            partner_id=found.partner.id,
            by_party=party,
            recorded_by=member.person.id,
            effective_on=effective_on,
            reason=reason,
            now=now,
        )
        await scheduled.schedule(
            tx,
            kind=KIND,
            key=job_key(new_id),
            due_at=rules.takes_effect_at(effective_on, zone, hour),
            payload={"termination": new_id},
            now=now,
        )
        await pending.clear(tx, member.person.id)
        on = ("partner", found.partner.id)
        details = {"id": new_id, "party": party.value, "effective_on": effective_on.isoformat()}
        await audit.record(tx, member, "termination.recorded", now, on, details=details)
        text = screen.recorded_notice(found.partner, party, effective_on, reason, member.person)
        await _tell_both(
            tx, member.caf, found.partner, member.person, key=job_key(new_id), text=text, now=now
        )
        return await _view(tx, member, partner_id, today)


async def withdrawable(
    db: Database, member: Member, partner_id: int, termination_id: int, now: datetime
) -> tuple[TerminationView, Termination]:
    """The site and its standing notice `termination_id` (before confirming)."""
    found = await view(db, member, partner_id, now)
    return found, _withdrawable(member, found, termination_id)


def _withdrawable(member: Member, found: TerminationView, termination_id: int) -> Termination:
    standing = found.standing
    if standing is None or standing.id != termination_id:
        raise NotTerminable(Why.GONE)
    if standing.by_party is not _party(member):
        raise NotTerminable(Why.OTHER_PARTY)
    return standing


async def withdraw(
    db: Database, member: Member, partner_id: int, termination_id: int, now: datetime
) -> TerminationView:
    """Withdraws a notice before it takes effect: its work is cancelled, both sides told."""
    today = now.astimezone(member.caf.zone).date()
    async with db.transaction() as tx:
        found = await _view(tx, member, partner_id, today)
        standing = _withdrawable(member, found, termination_id)
        await store.cancel(tx, standing.id, member.person.id, now)
        await scheduled.cancel(tx, job_key(standing.id), now)
        on = ("partner", found.partner.id)
        details = {"id": standing.id, "party": standing.by_party.value}
        await audit.record(tx, member, "termination.withdrawn", now, on, details=details)
        text = screen.withdrawn_notice(found.partner, standing, member.person)
        key = f"{job_key(standing.id)}:withdrawn"
        await _tell_both(tx, member.caf, found.partner, member.person, key=key, text=text, now=now)
        return await _view(tx, member, partner_id, today)


async def take_effect(db: Database, termination_id: int, now: datetime) -> bool:
    """The effective date has come: the label is withdrawn (unless it already is) with the
    usual notices; True when the notice took effect now. A notice withdrawn meanwhile, or one
    that already took effect (a run repeated after a crash), does nothing."""
    async with db.transaction() as tx:
        found = await store.get(tx, termination_id)
        if found is None or not await store.mark_done(tx, termination_id, now):
            return False
        partner = await partners.get(tx, found.partner_id)
        assert partner is not None  # a foreign key
        caf = await cafs.get(tx, partner.caf_id)
        assert caf is not None
        on = ("partner", partner.id)
        details = {"id": found.id, "party": found.by_party.value}
        await audit.record(
            tx, None, "termination.effective", now, on, caf_id=caf.id, details=details
        )
        if partner.label_status is not LabelStatus.WITHDRAWN:
            reason = screen.label_reason(found)
            await labels.apply(
                tx,
                caf,
                partner,
                LabelStatus.WITHDRAWN,
                reason,
                now,
                by=None,
                caf_text=screen.ended_notice_caf(partner, found),
            )
        return True
