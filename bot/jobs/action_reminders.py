"""Reminders of the yearly visit's action plan (Article 9), from the morning run
(bot/jobs/morning.py).

An open action item is announced to those who carry it ITEM_REMINDER_DAYS before its due
date, and once more the day after it has passed: the site's managers for the partner's
items, the Caf's coordinators (and its group) for the Caf's, both for shared ones. Each
reminder goes once per person: the outbox's keys (`action:<item>:<soon|overdue>`) refuse a
second row, so a morning run repeated after a crash sends nothing twice and needs no table
of its own. Items of a site whose label is withdrawn are not followed any more.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.models import Caf, Partner
from bot.domain.permissions import LabelStatus
from bot.domain.site_reviews import ITEM_REMINDER_DAYS, Owner, item_reminder_due
from bot.services import notify
from bot.ui import callbacks
from bot.ui.callbacks import ReviewTap
from bot.ui.render import render
from storage import cafs, partners
from storage import site_reviews as store
from storage.db import Database, Tx

KIND = "action_reminder"


async def send_reminders(db: Database, now: datetime, *, caf_id: int | None = None) -> int:
    """Enqueues the reminders due on each Caf's local day (one Caf's, or all of them);
    returns the messages queued."""
    # Every Caf's local day is within a day of UTC's.
    until = now.date() + timedelta(days=ITEM_REMINDER_DAYS + 1)
    items = await store.open_items_due_by(db, until)
    if not items:
        return 0
    queued = 0
    async with db.transaction() as tx:
        sites: dict[int, Partner | None] = {}
        known: dict[int, Caf | None] = {}
        for item in items:
            if item.partner_id not in sites:
                sites[item.partner_id] = await partners.get(tx, item.partner_id)
            partner = sites[item.partner_id]
            if partner is None or partner.label_status is LabelStatus.WITHDRAWN:
                continue
            if caf_id is not None and partner.caf_id != caf_id:
                continue
            if partner.caf_id not in known:
                known[partner.caf_id] = await cafs.get(tx, partner.caf_id)
            caf = known[partner.caf_id]
            assert caf is not None  # partners.caf_id is a foreign key
            today = now.astimezone(ZoneInfo(caf.timezone)).date()
            which = item_reminder_due(item.due_on, today)
            if which is None:
                continue
            key = f"action:{item.id}:{which.value}"
            if item.owner.concerns_partner:
                text = render(
                    "action_reminder", item=item, partner=partner, which=which.value, for_caf=False
                )
                queued += await _to_managers(tx, partner.id, key=key, text=text, now=now)
            if item.owner is not Owner.PARTNER:
                text = render(
                    "action_reminder", item=item, partner=partner, which=which.value, for_caf=True
                )
                open_site = callbacks.encode(ReviewTap("home", partner.id, 0))
                button = InlineKeyboardButton("🏛 Voir la visite annuelle", callback_data=open_site)
                queued += await notify.to_coordinators(
                    tx,
                    caf,
                    kind=KIND,
                    key=key,
                    text=text,
                    now=now,
                    markup=InlineKeyboardMarkup([[button]]),
                )
    return queued


async def _to_managers(tx: Tx, partner_id: int, *, key: str, text: str, now: datetime) -> int:
    return await notify.to_site(
        tx, partner_id, kind=KIND, key=key, text=text, now=now, managers_only=True
    )
