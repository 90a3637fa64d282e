"""Joining the bot with an invitation (or coming back with one), the main menu, /aide, and
per-person commands.

Redeeming a code (throttling, expiry, the new or returning person, an agent's training need)
is bot/services/invitations.py; what is said, bot/ui/screens/onboarding.py.
"""

from __future__ import annotations

import logging

from telegram import Update

from bot.context import Ctx
from bot.domain.models import Member
from bot.services import invitations
from bot.ui.screens import onboarding as screen
from conversations.common import current_member, guarded, set_commands, show_menu

log = logging.getLogger(__name__)


@guarded
async def start(update: Update, ctx: Ctx) -> None:
    """/start [code]: join with an invitation (or come back with one), or see the menu again."""
    code = ctx.args[0] if ctx.args else None
    member = await current_member(update, ctx)
    if code:
        await join(update, ctx, code, member)
    elif member is not None:
        await show_menu(update, ctx, member, screen.welcome_back(member))
    else:
        await show_menu(update, ctx, None, screen.stranger())


async def join(update: Update, ctx: Ctx, code: str, member: Member | None) -> None:
    """A code: the welcome (or welcome back) and menu, or why the code did not serve (under
    the menu `member`, a revoked person or None, has meanwhile)."""
    user = update.effective_user
    assert user is not None
    try:
        joined = await invitations.redeem(
            ctx.db,
            ctx.settings,
            telegram_user_id=user.id,
            name=invitations.display_name(user.first_name, user.last_name),
            code=code,
            now=ctx.clock.now(),
        )
    except invitations.AlreadyRegistered as known:
        await show_menu(update, ctx, known.member, screen.already_registered(known.member))
        return
    except invitations.Throttled as wait:
        await show_menu(update, ctx, member, screen.throttled(wait.scope, wait.minutes))
        return
    except invitations.CodeRefused as refused:
        await show_menu(update, ctx, member, screen.code_refused(refused.problem))
        return
    await set_commands(ctx, joined.member)
    welcome = screen.rejoined if joined.rejoined else screen.welcome
    await show_menu(update, ctx, joined.member, welcome(joined.member))


@guarded
async def help_command(update: Update, ctx: Ctx) -> None:
    """/aide and ❓ Aide: what each of the person's menu entries does."""
    member = await current_member(update, ctx)
    await show_menu(update, ctx, member, screen.help_text(member))
