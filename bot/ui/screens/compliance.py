"""✅ Conformité: the Caf's sites against the convention, the sites at risk first."""

from __future__ import annotations

from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.compliance import Assessment, Severity
from bot.domain.models import Caf
from bot.ui import callbacks
from bot.ui.callbacks import ComplianceTap, NetworkTap, ReviewTap
from bot.ui.render import render
from bot.ui.screens import Screen
from bot.ui.screens.paging import pager_row, paginate

PAGE_SIZE = 8


class ComplianceOp(StrEnum):
    LIST = "list"
    SITE = "site"


def _button(label: str, op: ComplianceOp, item: int = 0, page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.encode(ComplianceTap(op, item, page))
    )


def site_list(caf: Caf, everything: list[Assessment], page: int) -> Screen:
    """Every site, ranked, eight to a page, with the counts of each level."""
    shown = paginate(everything, page, PAGE_SIZE)
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
        items=shown.items,
        page=shown.number + 1,
        pages=shown.count,
    )
    rows = [
        [_button(f"{a.mark} {a.facts.title}", ComplianceOp.SITE, a.facts.partner_id, shown.number)]
        for a in shown.items
    ]
    pager = pager_row(shown, lambda label, n: _button(label, ComplianceOp.LIST, 0, n))
    return text, InlineKeyboardMarkup([*rows, pager] if pager else rows)


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
