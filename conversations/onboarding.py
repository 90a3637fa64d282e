"""Joining the bot with an invitation, the main menu, /aide, and per-person commands."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from telegram import BotCommandScopeChat, Update
from telegram.error import TelegramError

from bot.context import Ctx
from bot.domain import invitations as invitation_rules
from bot.domain.invitations import Throttle, ThrottleScope
from bot.domain.models import Member, Person
from bot.domain.permissions import STRANGER, Action, Role, decide
from bot.domain.signals import NEW_AGENT_TOPIC, SignalKind
from bot.ui import menus
from bot.ui.render import render
from conversations import signal_view
from conversations.common import current_member, guarded, show_menu
from storage import audit, cafs, people
from storage import invitations as invitation_store
from storage import signals as signal_store
from storage.db import Tx

log = logging.getLogger(__name__)


@guarded
async def start(update: Update, ctx: Ctx) -> None:
    """/start [code]: join with an invitation, or see the menu again."""
    code = ctx.args[0] if ctx.args else None
    member = await current_member(update, ctx)
    if member is not None:
        if code:
            await show_menu(
                update,
                ctx,
                member,
                render("already_registered", role=member.person.role, partner=member.partner),
            )
        else:
            await show_welcome_back(update, ctx, member)
        return
    if not code:
        await show_menu(update, ctx, None, render("start_stranger"))
        return
    await join(update, ctx, code)


async def join(update: Update, ctx: Ctx, code: str) -> None:
    user = update.effective_user
    assert user is not None
    now = ctx.clock.now()
    wait = await _throttle(ctx, user.id, now)
    if wait is not None:
        minutes = max(1, math.ceil((wait.until - now).total_seconds() / 60))
        await show_menu(
            update,
            ctx,
            None,
            render("invitation_throttled", minutes=minutes, scope=wait.scope.value),
        )
        return

    display_name = " ".join(filter(None, [user.first_name, user.last_name]))[:64] or "Sans nom"
    async with ctx.db.transaction() as tx:
        invitation = None
        if invitation_rules.well_formed(code):
            invitation = await invitation_store.find_by_code(tx, code)
        problem = invitation_rules.problem_with(invitation, now)
        if (
            problem is None
            and invitation is not None
            and not await invitation_store.consume(tx, invitation.id, now)
        ):
            problem = invitation_rules.InvitationProblem.USED_UP
        if problem is not None:
            await invitation_store.record_failure(tx, user.id, now)
            # Never the code itself: only why it was refused.
            log.info("Invitation code refused (%s)", problem.value)
        else:
            assert invitation is not None
            person = await people.register(
                tx,
                telegram_user_id=user.id,
                display_name=display_name,
                invitation=invitation,
                now=now,
            )
            await audit.record(
                tx,
                at=now,
                action="person.joined",
                actor_id=person.id,
                caf_id=person.caf_id,
                target_type="invitation",
                target_id=invitation.id,
                details={"role": person.role.value},
            )
            if person.role is Role.AGENT:
                await raise_new_agent_training(tx, person, ctx, now)
    if problem is not None:
        await show_menu(update, ctx, None, render("invitation_problem", problem=problem.value))
        return
    if person.role is Role.AGENT:
        ctx.services.wake_outbox()
    member = await people.member(ctx.db, person.id)
    assert member is not None
    await set_commands(ctx, member)
    await show_menu(
        update,
        ctx,
        member,
        render(
            "welcome",
            name=member.person.display_name,
            role=member.person.role,
            partner=member.partner,
            caf=member.caf,
        ),
    )


async def _throttle(ctx: Ctx, telegram_user_id: int, now: datetime) -> Throttle | None:
    """Too many wrong codes lately, from this account or from all of them: wait.

    The code is not even looked at while throttled, and the attempt is not recorded, so at
    most INVITE_MAX_FAILURES codes per account and INVITE_GLOBAL_MAX_FAILURES codes in all
    are checked per window, however many accounts a guesser uses. Everyone, a newcomer with
    a genuine link included, waits for the end of a global pause: codes cannot be told apart
    without checking them. A pause ends at most one window after the last code checked.
    """
    settings = ctx.settings
    async with ctx.db.read() as conn:
        account = await invitation_store.failure_window(
            conn,
            telegram_user_id=telegram_user_id,
            now=now,
            window=timedelta(seconds=settings.invite_failure_window_seconds),
            limit=settings.invite_max_failures,
        )
        everyone = await invitation_store.failure_window(
            conn,
            telegram_user_id=None,
            now=now,
            window=timedelta(seconds=settings.invite_global_window_seconds),
            limit=settings.invite_global_max_failures,
        )
    wait = invitation_rules.throttle([account, everyone], now)
    if wait is not None:
        # Neither the code nor the account: how many wrong codes, from whom, for how long.
        log.warning(
            "Invitation codes throttled (%s): %d wrong codes within the window, %d s to wait",
            "this account" if wait.scope is ThrottleScope.ACCOUNT else "all accounts",
            wait.failures,
            math.ceil((wait.until - now).total_seconds()),
        )
    return wait


async def raise_new_agent_training(tx: Tx, person: Person, ctx: Ctx, now: datetime) -> None:
    """Article 4: a new agent at a site is a training need the Caf hears of at once."""
    assert person.partner_id is not None
    signal, new = await signal_store.raise_signal(
        tx,
        caf_id=person.caf_id,
        partner_id=person.partner_id,
        kind=SignalKind.TRAINING,
        reporter_id=person.id,
        category=NEW_AGENT_TOPIC,
        description="Signalé automatiquement à l'arrivée d'un nouvel agent.",
        dedup_key=f"new_agent:{person.id}",
        now=now,
    )
    caf = await cafs.get(tx, person.caf_id)
    if new and caf is not None:
        await signal_view.announce(tx, caf, signal, tz=ctx.settings.tz, now=now)


async def show_welcome_back(update: Update, ctx: Ctx, member: Member) -> None:
    refusal = decide(member.actor, Action.LOG_VISIT)
    await show_menu(
        update,
        ctx,
        member,
        render(
            "welcome_back",
            name=member.person.display_name,
            refusal=refusal.value if refusal else None,
        ),
    )


async def set_commands(ctx: Ctx, member: Member) -> None:
    """Telegram's command list for this person's chat shows only what they may use."""
    chat_id = member.person.telegram_user_id
    if chat_id is None:
        return
    try:
        await ctx.bot.set_my_commands(
            menus.commands_for(member.actor), scope=BotCommandScopeChat(chat_id)
        )
    except TelegramError as exc:
        # The command list is a convenience: the menu works without it.
        log.warning("setMyCommands failed for a chat: %s", exc)


@guarded
async def help_command(update: Update, ctx: Ctx) -> None:
    member = await current_member(update, ctx)
    actor = member.actor if member else STRANGER
    refusal = decide(actor, Action.LOG_VISIT) if member else None
    await show_menu(
        update,
        ctx,
        member,
        render(
            "help",
            role=actor.role,
            entries=menus.entries_for(actor),
            refusal=refusal.value if refusal and refusal.value != "role" else None,
        ),
    )
