"""🔗 Liens d'invitation: the live links of the Caf (coordinators) or of a site (its
coordinators; its managers, for their agents' links), and cancelling one, confirmed.

The use cases are bot/services/links.py, the screens bot/ui/screens/links.py; the buttons that
lead here are on 🏢 Réseau, a site's card and 👥 Mon équipe (bot/ui/screens/network.py).
A link out of the member's reach is answered like a stale button.
"""

from __future__ import annotations

from telegram import Message

from bot.context import Ctx
from bot.domain.models import Member
from bot.domain.permissions import Action
from bot.services import links
from bot.services.network import NotTheirs
from bot.ui.callbacks import LinkTap
from bot.ui.screens import links as screen
from bot.ui.screens.links import LinkOp
from conversations.common import edit
from conversations.taps import TapTable


async def _gone(
    ctx: Ctx, member: Member, tap: LinkTap, message: Message | None, error: links.NotLive
) -> str:
    """A link cancelled, expired or used up meanwhile: the list as it stands now."""
    await _show(ctx, member, tap, message)
    return screen.NOT_LIVE


TAPS = TapTable(LinkTap, LinkOp, stale=(NotTheirs,), refusals={links.NotLive: _gone})
COORDINATOR = Action.MANAGE_NETWORK
# A site's links: its coordinators, and its managers for their agents' links.
COORDINATOR_OR_MANAGER = (Action.MANAGE_NETWORK, Action.MANAGE_SITE_AGENTS)


async def _show(ctx: Ctx, member: Member, tap: LinkTap, message: Message | None) -> None:
    site = tap.site if tap.site != screen.CAF else None
    found = await links.listing(ctx.db, member, site, ctx.clock.now())
    shown = screen.listing(
        found.caf,
        found.partner,
        found.links,
        tap.page,
        member.caf.zone,
        by_coordinator=found.by_coordinator,
    )
    await edit(message, *shown)


@TAPS.on(LinkOp.CAF, needs=COORDINATOR)
@TAPS.on(LinkOp.SITE, needs=COORDINATOR_OR_MANAGER)
async def show_links(ctx: Ctx, member: Member, tap: LinkTap, message: Message | None) -> None:
    """🔗 Liens d'invitation: the Caf's live links, or a site's."""
    await _show(ctx, member, tap, message)


@TAPS.on(LinkOp.ASK, needs=COORDINATOR_OR_MANAGER)
async def ask_cancel(ctx: Ctx, member: Member, tap: LinkTap, message: Message | None) -> None:
    """« 🗑 Annuler le n° … »: what the link is, to confirm."""
    listed_in = tap.site if tap.site != screen.CAF else None
    link = await links.cancellable(ctx.db, member, tap.item, ctx.clock.now(), listed_in=listed_in)
    shown = screen.cancel_confirm(link, member.caf, tap.site, tap.page, member.caf.zone)
    await edit(message, *shown)


@TAPS.on(LinkOp.CANCEL, needs=COORDINATOR_OR_MANAGER)
async def cancel(ctx: Ctx, member: Member, tap: LinkTap, message: Message | None) -> str:
    """« Oui, annuler ce lien »: cancelled and audited; its code is refused from now on."""
    listed_in = tap.site if tap.site != screen.CAF else None
    await links.cancel(ctx.db, member, tap.item, ctx.clock.now(), listed_in=listed_in)
    await _show(ctx, member, tap, message)
    return screen.CANCELLED
