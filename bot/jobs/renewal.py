"""Renewal reminders (Article 11): coordinators, and each site's managers, are told a month
before each notice deadline.

A convention runs one year from `partners.convention_start` and is renewed tacitly unless
notice is given three months before its anniversary (dates: bot/domain/renewal.py). Every
morning, from the morning run (bot/jobs/morning.py), each convention whose label is not
withdrawn and whose reminder date has come is announced to its Caf's coordinators (and the
Caf's group) through the outbox.

Once per (site, notice deadline): `renewal_reminders` remembers what was sent, in the same
transaction as the outbox rows, and the outbox keys repeat that key. A night missed (the bot
down) is caught up the next night, for as long as the deadline is not past; a deadline that
passed unseen is not announced late (it would only say that it is too late). A Caf with
nobody to tell is not marked reminded, so a coordinator who joins before the deadline hears.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import renewal
from bot.domain.models import Caf
from bot.domain.permissions import Role
from bot.domain.renewal import Term
from bot.services import notify
from bot.ui import callbacks
from bot.ui.callbacks import ComplianceTap
from bot.ui.render import render
from bot.ui.screens import termination as termination_screen
from storage import cafs, people
from storage import compliance as store
from storage.db import Database, Tx

log = logging.getLogger(__name__)

KIND = "renewal_reminder"


async def send_reminders(db: Database, now: datetime, *, caf_id: int | None = None) -> int:
    """Enqueues the reminders due on each Caf's local day (one Caf's, or all of them);
    returns how many sites were."""
    due = []
    for convention in await store.conventions_to_remind(db):
        if caf_id is not None and convention.caf_id != caf_id:
            continue
        today = now.astimezone(ZoneInfo(convention.timezone)).date()
        term = renewal.reminder_due(convention.convention_start, today)
        if term is not None:
            due.append((convention, term))
    if not due:
        return 0
    reminded = 0
    async with db.transaction() as tx:
        known: dict[int, Caf | None] = {}
        for convention, term in due:
            if await store.reminded(tx, convention.partner_id, term.notice_deadline):
                continue
            if convention.caf_id not in known:
                known[convention.caf_id] = await cafs.get(tx, convention.caf_id)
            caf = known[convention.caf_id]
            assert caf is not None  # partners.caf_id is a foreign key
            key = f"renewal:{convention.partner_id}:{term.notice_deadline.isoformat()}"
            open_site = callbacks.encode(ComplianceTap("site", convention.partner_id, 0))
            told = await notify.to_coordinators(
                tx,
                caf,
                kind=KIND,
                key=key,
                text=render("renewal_reminder", site=convention, term=term),
                now=now,
                markup=InlineKeyboardMarkup(
                    [
                        [
                            InlineKeyboardButton(
                                "✅ Voir la conformité du site", callback_data=open_site
                            )
                        ]
                    ]
                ),
            )
            # The site's managers hear it too, with the way to give notice (one per term:
            # the outbox refuses the same key twice, even before the site is marked).
            await _tell_managers(tx, convention.partner_id, key, convention, term, now)
            if told:
                await store.record_reminder(tx, convention.partner_id, term.notice_deadline, now)
                reminded += 1
    if reminded:
        log.info("Rappels de reconduction : %d site(s)", reminded)
    return reminded


async def _tell_managers(
    tx: Tx, partner_id: int, key: str, site: store.Convention, term: Term, now: datetime
) -> None:
    text = render("renewal_reminder_site", site=site, term=term)
    markup = InlineKeyboardMarkup([[termination_screen.site_button(partner_id)]])
    for person in await people.list_for_partner(tx, partner_id):
        if person.role is Role.MANAGER:
            await notify.to_person(
                tx, person, kind=KIND, key=f"{key}:m{person.id}", text=text, now=now, markup=markup
            )
