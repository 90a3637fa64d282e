"""📊 Mes chiffres: the agent's and the site's visits today, this week, this month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from telegram import Update

from bot.context import Ctx
from bot.domain.permissions import Action
from bot.ui.render import render
from conversations.common import guarded, require, show_menu
from storage import visits


@dataclass(frozen=True)
class Counts:
    today: int
    week: int
    month: int
    resolved: int = 0
    partly: int = 0


def _bounds(today: date, tz: ZoneInfo) -> dict[str, tuple[datetime, datetime]]:
    """Local calendar day, week (from Monday) and month, as UTC-comparable instants."""

    def at(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=tz)

    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    return {
        "today": (at(today), at(today + timedelta(days=1))),
        "week": (at(week_start), at(week_start + timedelta(days=7))),
        "month": (at(month_start), at(next_month)),
    }


@guarded
async def my_figures(update: Update, ctx: Ctx) -> None:
    member = await require(update, ctx, Action.MY_FIGURES)
    tz = ZoneInfo(member.caf.timezone)
    today = ctx.clock.now().astimezone(tz).date()
    bounds = _bounds(today, tz)
    person_id, partner_id = member.person.id, member.person.partner_id
    mine, site = {}, {}
    async with ctx.db.read() as conn:
        for name, (start, end) in bounds.items():
            mine[name] = (
                await visits.count_visits(conn, start=start, end=end, person_id=person_id)
            )[0]
            site[name] = await visits.count_visits(
                conn, start=start, end=end, partner_id=partner_id
            )
        training_count = await visits.count_training(conn, person_id)
    text = render(
        "my_figures",
        partner=member.partner,
        today=today,
        mine=Counts(mine["today"], mine["week"], mine["month"]),
        site=Counts(
            site["today"][0],
            site["week"][0],
            site["month"][0],
            resolved=site["month"][1],
            partly=site["month"][2],
        ),
        training_count=training_count,
    )
    await show_menu(update, ctx, member, text)
