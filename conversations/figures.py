"""📊 Mes chiffres: the agent's and the site's visits today, this week, this month."""

from __future__ import annotations

from telegram import Update

from bot.context import Ctx
from bot.domain.permissions import Action
from bot.services import visits
from bot.ui.screens import visit as screen
from conversations.common import guarded, require, show_menu


@guarded
async def my_figures(update: Update, ctx: Ctx) -> None:
    member = await require(update, ctx, Action.MY_FIGURES)
    figures = await visits.figures(ctx.db, member, ctx.clock.now())
    await show_menu(update, ctx, member, screen.my_figures(member.partner, figures))
