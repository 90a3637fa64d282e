"""🔗 Liens d'invitation: the live links of a Caf or of a site, and cancelling one.

Reached from 🏢 Réseau (the Caf's links), a site's card (that site's) and 👥 Mon équipe (a
manager's site's agent links). One message edited in place, driven by `LinkTap`.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.invitations import InvitationLink
from bot.domain.models import Caf, Partner
from bot.ui import callbacks
from bot.ui.callbacks import LinkTap, NetworkTap
from bot.ui.render import render
from bot.ui.screens import Screen, question
from bot.ui.screens.paging import pager_row, paginate

PAGE_SIZE = 5
CAF = 0  # `LinkTap.site` of the whole Caf's list

LINKS = "🔗 Liens d'invitation"
# Toasts.
CANCELLED = "Lien annulé : son code ne sert plus."
NOT_LIVE = "Ce lien n'est plus actif (annulé, expiré ou épuisé)."


class LinkOp(StrEnum):
    CAF = "caf"  # the Caf's live links (coordinators)
    SITE = "site"  # a site's (coordinators; a manager: their site's agent links)
    ASK = "ask"  # « 🗑 Annuler le n° … »: asked to confirm
    CANCEL = "cancel"  # « Oui, annuler ce lien »


def _button(
    label: str, op: LinkOp, site: int, item: int = 0, page: int = 0
) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.encode(LinkTap(op, site, item, page))
    )


def _list_op(site: int) -> LinkOp:
    return LinkOp.CAF if site == CAF else LinkOp.SITE


def caf_button() -> InlineKeyboardButton:
    """On 🏢 Réseau: every live link of the Caf."""
    return _button(LINKS, LinkOp.CAF, CAF)


def site_button(partner_id: int) -> InlineKeyboardButton:
    """On a site's card and its team: the site's live links."""
    return _button(LINKS, LinkOp.SITE, partner_id)


def _back(partner: Partner | None, *, by_coordinator: bool) -> InlineKeyboardButton:
    """Where the list was opened from: 🏢 Réseau, the site's card, or 👥 Mon équipe."""
    if partner is None:
        tap = NetworkTap("home", 0, 0)  # conversations/network.py
        label = "⬅️ Tous les sites"
    elif by_coordinator:
        tap, label = NetworkTap("site", partner.id, 0), "⬅️ Le site"
    else:
        tap, label = NetworkTap("people", partner.id, 0), "⬅️ Mon équipe"
    return InlineKeyboardButton(label, callback_data=callbacks.encode(tap))


def listing(
    caf: Caf,
    partner: Partner | None,
    links: Sequence[InvitationLink],
    page: int,
    tz: ZoneInfo,
    *,
    by_coordinator: bool,
) -> Screen:
    """Five links a page: role, site, uses left, expiry in the Caf's zone, who made it; each
    with its « 🗑 Annuler » button. `partner` None: the whole Caf's."""
    site = partner.id if partner else CAF
    shown = paginate(links, page, PAGE_SIZE)
    text = render(
        "links_list",
        caf=caf,
        partner=partner,
        links=shown.items,
        total=len(links),
        page=shown.number + 1,
        pages=shown.count,
        tz=tz,
        managers_view=not by_coordinator,
    )
    rows = [
        [_button(f"🗑 Annuler le n° {link.id}", LinkOp.ASK, site, link.id, shown.number)]
        for link in shown.items
    ]
    rows.append(pager_row(shown, lambda label, n: _button(label, _list_op(site), site, 0, n)))
    rows.append([_back(partner, by_coordinator=by_coordinator)])
    return text, InlineKeyboardMarkup([row for row in rows if row])


def cancel_confirm(link: InvitationLink, caf: Caf, site: int, page: int, tz: ZoneInfo) -> Screen:
    """Asked before a link is cancelled: what it is, and that those who joined stay."""
    yes = _button("🗑 Oui, annuler ce lien", LinkOp.CANCEL, site, link.id, page)
    no = _button("✖️ Non, le garder", _list_op(site), site, 0, page)
    return question(render("link_cancel_confirm", link=link, caf=caf, tz=tz), yes, no)
