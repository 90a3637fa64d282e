"""What /start and /aide say: welcome, refused or throttled invitations, help by role.

Texts only: the main menu under them is the person's (conversations.common.show_menu).
"""

from __future__ import annotations

from bot.domain.invitations import InvitationProblem, ThrottleScope
from bot.domain.models import Member
from bot.domain.permissions import STRANGER, Action, Refusal, decide
from bot.ui import menus
from bot.ui.render import render


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


def already_registered(member: Member) -> str:
    """An invitation opened by someone registered: it stays unused."""
    return render("already_registered", role=member.person.role, partner=member.partner)


def welcome_back(member: Member) -> str:
    refusal = decide(member.actor, Action.LOG_VISIT)
    return render(
        "welcome_back",
        name=member.person.display_name,
        refusal=refusal.value if refusal else None,
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
