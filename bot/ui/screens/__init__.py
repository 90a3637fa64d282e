"""What each flow shows: text from the templates and buttons from the typed payloads.

One module a flow. A screen function takes what the service returned and gives a `Screen`:
the HTML text and its inline keyboard. Button labels and toasts live here, never in handlers.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

Screen = tuple[str, InlineKeyboardMarkup]
