"""📍 Où travaillez-vous aujourd'hui ? — the question of the day and « 📍 Changer de site »,
for people who work at several sites: one button per site."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.models import Partner
from bot.ui import callbacks
from bot.ui.callbacks import WorkSiteTap
from bot.ui.render import render
from bot.ui.screens import Screen

# The `entry` of a switch: no menu entry follows the choice.
SWITCH = "site"

# Toasts.
ALREADY = "Déjà pris en compte."
WITHDRAWN = "Ce site a perdu son label : choisissez-en un autre."
# Sent with the menu when the site chosen changes it (another label).
MENU_UPDATED = "📍 Votre menu est celui de ce site."


def _rows(sites: Sequence[Partner], current: int | None, entry: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ("✅ " if site.id == current else "📍 ") + site.title,
                    callback_data=callbacks.encode(WorkSiteTap(site.id, entry)),
                )
            ]
            for site in sites
        ]
    )


def question(sites: Sequence[Partner], entry: str) -> Screen:
    """Asked the first time in the day: the answer leads straight into `entry`."""
    return render("work_site_question"), _rows(sites, None, entry)


def switch(sites: Sequence[Partner], current: Partner | None) -> Screen:
    """« 📍 Changer de site »: the site they are at now is ticked."""
    text = render("work_site_switch", current=current)
    return text, _rows(sites, current.id if current else None, SWITCH)


def chosen(partner: Partner, *, today: bool) -> str:
    return render("work_site_chosen", partner=partner, today=today)


def toast(partner: Partner) -> str:
    return f"📍 {partner.title}"
