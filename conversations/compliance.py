"""✅ Conformité (/conformite): each site against the convention, the sites at risk first.

The list shows every site of the coordinator's Caf with its level (🔴 at risk, 🟠 to watch,
🟢 in order, ⛔ label withdrawn, last) and its main reason, eight to a page; a site's card
shows every finding and the convention's dates. The rules are bot/domain/compliance.py; the
facts come from storage/compliance.py in a few grouped queries for the whole Caf. Screens are
edited in place; every tap is authorised again and a site of another Caf is refused.
"""

from __future__ import annotations

import math
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.context import Ctx
from bot.domain.compliance import Assessment, Severity, assess, ranked
from bot.domain.models import Member
from bot.domain.permissions import Action
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, ComplianceTap, NetworkTap, ReviewTap
from bot.ui.render import render
from conversations.common import chat_id_of, dispatch_tap, edit, guarded, require, send
from storage import compliance as compliance_store
from storage import pending

PAGE_SIZE = 8


def _button(label: str, op: str, item: int = 0, page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.encode(ComplianceTap(op, item, page))
    )


async def _assessments(ctx: Ctx, member: Member, partner_id: int | None = None) -> list[Assessment]:
    """Every site of the coordinator's Caf (or the one asked for), ranked, as of today there."""
    now = ctx.clock.now()
    today = now.astimezone(ZoneInfo(member.caf.timezone)).date()
    facts = await compliance_store.site_facts(ctx.db, member.caf, now=now, partner_id=partner_id)
    return ranked(assess(f, today) for f in facts)


# ------------------------------------------------------------------------------ screens
async def _list(ctx: Ctx, member: Member, page: int) -> tuple[str, InlineKeyboardMarkup]:
    everything = await _assessments(ctx, member)
    pages = max(1, math.ceil(len(everything) / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = everything[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    active = [a for a in everything if not a.withdrawn]
    counts = {
        "risk": sum(1 for a in active if a.level is Severity.RISK),
        "watch": sum(1 for a in active if a.level is Severity.WATCH),
        "ok": sum(1 for a in active if a.level is Severity.OK),
        "withdrawn": len(everything) - len(active),
    }
    text = render(
        "compliance_list",
        caf=member.caf,
        total=len(everything),
        counts=counts,
        items=shown,
        page=page + 1,
        pages=pages,
    )
    rows = [[_button(f"{a.mark} {a.facts.title}", "site", a.facts.partner_id, page)] for a in shown]
    pager = []
    if page > 0:
        pager.append(_button("◀️ Précédents", "list", 0, page - 1))
    if page + 1 < pages:
        pager.append(_button("Suivants ▶️", "list", 0, page + 1))
    if pager:
        rows.append(pager)
    return text, InlineKeyboardMarkup(rows)


async def _site(
    ctx: Ctx, member: Member, partner_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    found = await _assessments(ctx, member, partner_id)
    if not found:  # forged, or a site of another Caf: the query is scoped to this Caf
        raise BadCallback("not a site of this Caf")
    [item] = found
    rows = [
        [
            InlineKeyboardButton(
                "🏢 Fiche du site",
                callback_data=callbacks.encode(NetworkTap("site", partner_id, 0)),
            ),
            InlineKeyboardButton(
                "🏛 Visite annuelle",
                callback_data=callbacks.encode(ReviewTap("home", partner_id, 0)),
            ),
        ],
        [_button("⬅️ Retour", "list", 0, page)],
    ]
    return render("compliance_site", item=item), InlineKeyboardMarkup(rows)


# ------------------------------------------------------------------------------ entry points
@guarded
async def open_compliance(update: Update, ctx: Ctx) -> None:
    """The menu entry ✅ Conformité (coordinators)."""
    member = await require(update, ctx, Action.COMPLIANCE)
    await pending.clear(ctx.db, member.person.id)
    text, markup = await _list(ctx, member, 0)
    await send(ctx, chat_id_of(update), text, markup)


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    await dispatch_tap(update, ctx, payload=ComplianceTap, taps=TAPS, action=Action.COMPLIANCE)


async def tap_list(ctx: Ctx, member: Member, tap: ComplianceTap, message: Message | None) -> None:
    await edit(message, *await _list(ctx, member, tap.page))


async def tap_site(ctx: Ctx, member: Member, tap: ComplianceTap, message: Message | None) -> None:
    await edit(message, *await _site(ctx, member, tap.item, tap.page))


TAPS: dict[str, Any] = {"list": tap_list, "site": tap_site}
