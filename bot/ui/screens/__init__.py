"""What each flow shows: text from the templates and buttons from the typed payloads.

One module a flow. A screen function takes what the service returned and gives a `Screen`:
the HTML text and its inline keyboard. Button labels and toasts live here, never in handlers.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

Screen = tuple[str, InlineKeyboardMarkup]


def question(text: str, yes: InlineKeyboardButton, no: InlineKeyboardButton) -> Screen:
    """Asked before what cannot be undone (a removal, a cancellation): « Oui … » above
    « Non … »."""
    return text, InlineKeyboardMarkup([[yes], [no]])
