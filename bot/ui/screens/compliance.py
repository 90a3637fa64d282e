"""✅ Conformité: the Caf's sites against the convention, the sites at risk first."""

from __future__ import annotations

import math
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.compliance import Assessment, Severity
from bot.domain.models import Caf
from bot.ui import callbacks
from bot.ui.callbacks import ComplianceTap, NetworkTap, ReviewTap
from bot.ui.render import render

PAGE_SIZE = 8
Screen = tuple[str, InlineKeyboardMarkup]


class ComplianceOp(StrEnum):
    LIST = "list"
    SITE = "site"


def _button(label: str, op: ComplianceOp, item: int = 0, page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.encode(ComplianceTap(op, item, page))
    )


def site_list(caf: Caf, everything: list[Assessment], page: int) -> Screen:
    """Every site, ranked, eight to a page, with the counts of each level."""
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
        caf=caf,
        total=len(everything),
        counts=counts,
        items=shown,
        page=page + 1,
        pages=pages,
    )
    rows = [
        [_button(f"{a.mark} {a.facts.title}", ComplianceOp.SITE, a.facts.partner_id, page)]
        for a in shown
    ]
    pager = []
    if page > 0:
        pager.append(_button("◀️ Précédents", ComplianceOp.LIST, 0, page - 1))
    if page + 1 < pages:
        pager.append(_button("Suivants ▶️", ComplianceOp.LIST, 0, page + 1))
    if pager:
        rows.append(pager)
    return text, InlineKeyboardMarkup(rows)


def site(item: Assessment, page: int) -> Screen:
    """One site's findings, with its card and its yearly visit one tap away."""
    partner_id = item.facts.partner_id
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
        [_button("⬅️ Retour", ComplianceOp.LIST, 0, page)],
    ]
    return render("compliance_site", item=item), InlineKeyboardMarkup(rows)
