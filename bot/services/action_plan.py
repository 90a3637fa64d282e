"""The yearly visit's action plan (Article 9): what its follow-up tells people."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Partner
from bot.domain.site_reviews import ActionItem
from bot.services import notify
from bot.ui.render import render
from storage.db import Tx

KIND = "action_reminder"


async def tell_done(tx: Tx, partner: Partner, item: ActionItem, now: datetime) -> int:
    """The site's managers hear, in the caller's transaction, that the Caf marked an item of
    their plan done."""
    text = render("action_done_notice", item=item, partner=partner)
    return await notify.to_site(
        tx,
        partner.id,
        kind=KIND,
        key=f"action:{item.id}:done",
        text=text,
        now=now,
        managers_only=True,
    )
