"""📄 Dénoncer la convention (Article 11): a site's convention, its standing notice of
termination, giving one and withdrawing it; and what each side is told.

Reached from a site's card in 🏢 Réseau (coordinators) and from 👥 Mon équipe (managers).
One message edited in place, driven by `TerminationTap`.
"""

from __future__ import annotations

import html
from datetime import date
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.models import Partner, Person
from bot.domain.permissions import LabelStatus
from bot.domain.termination import Party, Termination
from bot.ui import callbacks
from bot.ui.callbacks import NetworkTap, TerminationTap
from bot.ui.render import render
from bot.ui.screens import Screen, question

BUTTON = "📄 Dénoncer la convention"
# Toasts.
WITHDRAWN = "Dénonciation retirée."
# Said above the card once a notice is recorded.
RECORDED = "✅ Dénonciation enregistrée : l'autre partie est prévenue."
WHY = {
    "no_convention": "La date de signature de la convention n'est pas connue :"
    " renseignez-la d'abord (« ✏️ Modifier » sur la fiche du site).",
    "withdrawn": "Le label de ce site est déjà retiré.",
    "standing": "Une dénonciation est déjà enregistrée pour ce site.",
    "gone": "Cette dénonciation n'est plus en cours.",
    "other_party": "Seule la partie qui a dénoncé la convention peut retirer sa dénonciation.",
}


class TerminationOp(StrEnum):
    SHOW = "show"  # the site's convention and its standing notice
    NEW = "new"  # « ✍️ Enregistrer une dénonciation »: its date is asked
    ASK_WITHDRAW = "askw"  # « ↩️ Retirer la dénonciation »: asked to confirm
    WITHDRAW = "withdraw"  # « Oui, retirer la dénonciation »


def _button(label: str, op: TerminationOp, partner: int, item: int = 0) -> InlineKeyboardButton:
    tap = TerminationTap(op, partner, item)
    return InlineKeyboardButton(label, callback_data=callbacks.encode(tap))


def site_button(partner_id: int) -> InlineKeyboardButton:
    """On a site's card (coordinators) and on 👥 Mon équipe (managers)."""
    return _button(BUTTON, TerminationOp.SHOW, partner_id)


def _back(partner_id: int, *, by_coordinator: bool) -> InlineKeyboardButton:
    if by_coordinator:
        tap = NetworkTap("site", partner_id, 0)
        return InlineKeyboardButton("⬅️ Le site", callback_data=callbacks.encode(tap))
    tap = NetworkTap("people", partner_id, 0)
    return InlineKeyboardButton("⬅️ Mon équipe", callback_data=callbacks.encode(tap))


def card(
    partner: Partner,
    standing: Termination | None,
    allowed: list[date],
    tz: ZoneInfo,
    *,
    by_coordinator: bool,
    above: str = "",
) -> Screen:
    """The site's convention: its standing notice (to withdraw), or how to give one."""
    text = render("termination_card", partner=partner, standing=standing, allowed=allowed, tz=tz)
    rows = []
    mine = Party.CAF if by_coordinator else Party.PARTNER
    if standing is not None:
        if standing.by_party is mine:  # only the party who gave notice withdraws it
            withdraw = _button(
                "↩️ Retirer la dénonciation", TerminationOp.ASK_WITHDRAW, partner.id, standing.id
            )
            rows.append([withdraw])
    elif allowed and partner.label_status is not LabelStatus.WITHDRAWN:
        rows.append([_button("✍️ Enregistrer une dénonciation", TerminationOp.NEW, partner.id)])
    rows.append([_back(partner.id, by_coordinator=by_coordinator)])
    return (f"{above}\n\n{text}" if above else text), InlineKeyboardMarkup(rows)


def date_prompt(partner: Partner, allowed: list[date], *, by_coordinator: bool) -> str:
    party = Party.CAF if by_coordinator else Party.PARTNER
    return render("termination_ask_date", partner=partner, allowed=allowed, party=party)


def date_problem(error: Exception) -> str:
    """The typed date is refused: why (with the earliest allowed date), and ask again."""
    return html.escape(str(error), quote=False) + "\n\n" + render("cancel_hint")


def reason_prompt(partner: Partner, effective_on: date) -> str:
    return render("termination_ask_reason", partner=partner, effective_on=effective_on)


def withdraw_confirm(partner: Partner, termination_id: int, effective_on: date) -> Screen:
    text = render("termination_withdraw_confirm", partner=partner, effective_on=effective_on)
    yes = _button(
        "Oui, retirer la dénonciation", TerminationOp.WITHDRAW, partner.id, termination_id
    )
    no = _button("Non, la maintenir", TerminationOp.SHOW, partner.id)
    return question(text, yes, no)


def recorded_notice(
    partner: Partner, party: Party, effective_on: date, reason: str, by: Person
) -> str:
    """Told to the other party (and the recorder's own side) when a notice is recorded."""
    return render(
        "termination_notice",
        partner=partner,
        party=party,
        effective_on=effective_on,
        reason=reason,
        by=by,
    )


def withdrawn_notice(partner: Partner, standing: Termination, by: Person) -> str:
    return render("termination_withdrawn_notice", partner=partner, standing=standing, by=by)


def label_reason(standing: Termination) -> str:
    """The label's reason when the notice takes effect: plain text, stored (not HTML)."""
    return render("termination_label_reason", standing=standing)


def ended_notice_caf(partner: Partner, standing: Termination) -> str:
    return render("termination_ended_caf", partner=partner, standing=standing)
