"""🔏 Article 5: the statement of professional secrecy and its button « ✅ Je m'engage »,
shown to an agent or manager instead of the menu until they commit to it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import secrecy as rules
from bot.domain.models import Member
from bot.ui import callbacks
from bot.ui.callbacks import SecrecyTap
from bot.ui.render import render
from bot.ui.screens import Screen


class SecrecyOp(StrEnum):
    COMMIT = "ok"


COMMIT_LABEL = "✅ Je m'engage"
# Toasts.
ALREADY = "Votre engagement est déjà enregistré."
COMMITTED = "✅ Engagement enregistré. Merci !"
NEW_TEXT = "Le texte a changé : lisez-le à nouveau, puis engagez-vous."


def statement(above: str | None = None) -> Screen:
    """The statement and its button; `above`, what the person asked or is welcomed with."""
    text = render("secrecy_statement", above=above, version=rules.SECRECY_VERSION, at=None, tz=None)
    tap = SecrecyTap(SecrecyOp.COMMIT.value, rules.SECRECY_VERSION)
    button = InlineKeyboardButton(COMMIT_LABEL, callback_data=callbacks.encode(tap))
    return text, InlineKeyboardMarkup([[button]])


def committed(at: datetime, zone: ZoneInfo) -> str:
    """The statement once committed to (the message loses its button)."""
    return render("secrecy_statement", above=None, version=rules.SECRECY_VERSION, at=at, tz=zone)


def menu_text(member: Member) -> str:
    """Sent with the whole menu, once committed."""
    return render("secrecy_committed", role=member.person.role, partner=member.partner)
