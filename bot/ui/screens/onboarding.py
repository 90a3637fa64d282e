"""What /start and /aide say: welcome (or welcome back), refused or throttled invitations,
help by role; and the Caf's notice of the new agents who joined together.

Texts only: the main menu under them is the person's (conversations.common.show_menu).
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.invitations import InvitationProblem, ThrottleScope
from bot.domain.models import Member
from bot.domain.permissions import STRANGER, Action, LabelStatus, Refusal, decide
from bot.domain.signals import Signal, SignalKind
from bot.ui import callbacks, menus
from bot.ui.callbacks import InboxTap
from bot.ui.render import render
from bot.ui.screens import Screen

# The new agents a batch notice names; the others are counted.
NEW_AGENTS_NAMED = 30


def stranger() -> str:
    """/start without a code, from someone the bot does not know."""
    return render("start_stranger")


def welcome(member: Member) -> str:
    return render(
        "welcome",
        name=member.person.display_name,
        role=member.person.role,
        partner=member.partner,
        caf=member.caf,
    )


def rejoined(member: Member) -> str:
    """A revoked person back through a new link: their access again, their history kept."""
    return render(
        "rejoined",
        name=member.person.display_name,
        role=member.person.role,
        partner=member.partner,
        caf=member.caf,
    )


def already_registered(member: Member) -> str:
    """An invitation opened by someone registered: it stays unused."""
    return render("already_registered", role=member.person.role, partner=member.partner)


def welcome_back(member: Member) -> str:
    refusal = decide(member.actor, Action.LOG_VISIT)
    return render(
        "welcome_back",
        name=member.person.display_name,
        refusal=refusal.value if refusal else None,
        suspended=member.partner is not None
        and member.partner.label_status is LabelStatus.SUSPENDED,
    )


def code_refused(problem: InvitationProblem) -> str:
    return render("invitation_problem", problem=problem.value)


def throttled(scope: ThrottleScope, minutes: int) -> str:
    return render("invitation_throttled", minutes=minutes, scope=scope.value)


def help_text(member: Member | None) -> str:
    """/aide: each menu entry the person has, and why visits are closed to them, if they are."""
    actor = member.actor if member else STRANGER
    refusal = decide(actor, Action.LOG_VISIT) if member else None
    return render(
        "help",
        role=actor.role,
        entries=menus.entries_for(actor),
        refusal=refusal.value if refusal and refusal is not Refusal.ROLE else None,
    )


def new_agents_notice(signals: Sequence[Signal]) -> Screen:
    """To the Caf: the agents who joined together, one training need each in the inbox."""
    text = render(
        "new_agents_caf",
        count=len(signals),
        named=signals[:NEW_AGENTS_NAMED],
        others=max(0, len(signals) - NEW_AGENTS_NAMED),
    )
    needs = InboxTap("list", 0, SignalKind.TRAINING.value, 0, 0)  # conversations/inbox.py
    button = InlineKeyboardButton(
        "📥 Les besoins de formation", callback_data=callbacks.encode(needs)
    )
    return text, InlineKeyboardMarkup([[button]])
