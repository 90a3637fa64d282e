"""🔏 Article 5: « ✅ Je m'engage » under the statement of professional secrecy.

The statement itself is shown by conversations.common (show_menu and the refusal
UNCOMMITTED) wherever an agent or manager not yet committed turns; this is its button.
"""

from __future__ import annotations

from telegram import Message

from bot.context import Ctx
from bot.domain import secrecy as rules
from bot.domain.models import Member
from bot.domain.permissions import Action
from bot.services import secrecy
from bot.ui import menus
from bot.ui.callbacks import SecrecyTap
from bot.ui.screens import secrecy as screen
from bot.ui.screens.secrecy import SecrecyOp
from conversations.common import edit, send, set_commands
from conversations.taps import TapTable

TAPS = TapTable(SecrecyTap, SecrecyOp)


@TAPS.on(SecrecyOp.COMMIT, needs=Action.COMMIT_SECRECY)
async def commit(ctx: Ctx, member: Member, tap: SecrecyTap, message: Message | None) -> str:
    if tap.version != rules.SECRECY_VERSION and not member.person.committed:
        # A statement shown before the text changed: the new one takes its place.
        await edit(message, *screen.statement())
        return screen.NEW_TEXT
    done = await secrecy.commit(ctx.db, member, ctx.clock.now())
    after = done.after
    if after.person.secrecy_committed_at is not None:
        await edit(
            message, screen.committed(after.person.secrecy_committed_at, after.caf.zone), None
        )
    if done.again:
        return screen.ALREADY
    await set_commands(ctx, after)
    chat_id = after.person.telegram_user_id or 0
    await send(ctx, chat_id, screen.menu_text(after), menus.main_menu(after.actor))
    return screen.COMMITTED
