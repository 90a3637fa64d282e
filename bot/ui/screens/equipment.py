"""💻 Équipement du site (Article 8): the list a site's managers keep, one button per item.

Reached from 👥 Mon équipe, where a manager already finds the site's standing matters (its
people, its invitation links, its convention): a list told once and changed rarely belongs
there rather than in the main menu beside « 🕘 Horaires et fermetures », which is about
this week's opening.
"""

from __future__ import annotations

from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.equipment import EQUIPMENT
from bot.services.equipment import EquipmentView
from bot.ui import callbacks
from bot.ui.callbacks import EquipmentTap, NetworkTap
from bot.ui.render import render
from bot.ui.screens import Screen

BUTTON = "💻 Équipement du site"
CHANGED = "Équipement mis à jour."
MARKS = {True: "✅", False: "❌", None: "▫️"}


class EquipmentOp(StrEnum):
    SHOW = "show"
    TOGGLE = "toggle"


def _button(label: str, op: EquipmentOp, partner: int, item: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.encode(EquipmentTap(op, partner, item))
    )


def site_button(partner_id: int) -> InlineKeyboardButton:
    """On 👥 Mon équipe (managers)."""
    return _button(BUTTON, EquipmentOp.SHOW, partner_id)


def card(view: EquipmentView) -> Screen:
    """The list, each item's button turning it present or missing."""
    partner = view.partner
    text = render("equipment", partner=partner, items=EQUIPMENT, declared=view.declared)
    rows = [
        [
            _button(
                f"{MARKS[view.declared.get(item.code)]} {item.label}",
                EquipmentOp.TOGGLE,
                partner.id,
                index,
            )
        ]
        for index, item in enumerate(EQUIPMENT)
    ]
    back = NetworkTap("people", partner.id, 0)
    rows.append([InlineKeyboardButton("⬅️ Mon équipe", callback_data=callbacks.encode(back))])
    return text, InlineKeyboardMarkup(rows)
