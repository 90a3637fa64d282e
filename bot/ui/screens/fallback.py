"""What the bot answers to what no flow expects: files, unknown input, /annuler, groups,
stale buttons and errors. Texts only: the main menu goes with them (bot/ui/menus.py)."""

from __future__ import annotations

from bot.ui.render import render


def attachment_refused(deleted: bool) -> str:
    """Article 5: no document or photo is kept; says whether the chat's copy is gone."""
    return render("attachment_refused", deleted=deleted)


def unknown_command() -> str:
    return render("unknown_command")


def unknown_input() -> str:
    return render("unknown_input")


def use_the_buttons() -> str:
    """Above a flow's current step shown again, when text was typed where it has buttons."""
    return render("use_the_buttons")


def cancelled(something: bool) -> str:
    return render("cancelled", something=something)


def stale_button() -> str:
    return render("stale_button")


def group_chat() -> str:
    return render("group_chat")


def error() -> str:
    return render("error")
