"""📍 The site of the day, for people who work at several sites.

The first time in a local day (their Caf's zone) that such a person opens a menu entry that
depends on the site (bot/domain/person_sites.py `SITE_BOUND`), they are asked « Où
travaillez-vous aujourd'hui ? » with one button per site; the answer sets the site they work
at and goes straight on into the entry they asked for. « 📍 Changer de site » (/site) switches
at any time. bot/app.py puts every menu entry behind `asking_site_first`; the service is
bot/services/work_site.py, the screens bot/ui/screens/work_site.py.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest

from bot.context import Ctx
from bot.domain.permissions import Action
from bot.domain.person_sites import SITE_BOUND, must_ask_site
from bot.services import work_site
from bot.services.network import NotTheirs
from bot.ui import callbacks, menus
from bot.ui.callbacks import BadCallback, WorkSiteTap
from bot.ui.screens import work_site as screen
from conversations.common import (
    chat_id_of,
    current_member,
    edit,
    guarded,
    open_flow,
    require,
    send,
    set_commands,
)

EntryHandler = Callable[[Update, Ctx], Coroutine[Any, Any, None]]
# The menu entries' own handlers, by key: what a chosen site goes on into (set by bot/app.py
# through `asking_site_first`, which is given them all).
_ENTRIES: dict[str, EntryHandler] = {}


def asking_site_first(actions: Mapping[str, EntryHandler]) -> dict[str, EntryHandler]:
    """bot/app.py's menu entries, those that depend on the site behind the day's question."""
    _ENTRIES.update(actions)
    return {key: _asking(key, handler) for key, handler in actions.items()}


def _asking(key: str, handler: EntryHandler) -> EntryHandler:
    entry = menus.BY_KEY.get(key)
    if entry is None or entry.action not in SITE_BOUND:
        return handler  # the same at every site: not even a look at the person

    @functools.wraps(handler)
    async def asking(update: Update, ctx: Ctx) -> None:
        member = await current_member(update, ctx)
        now = ctx.clock.now()
        sites = []
        if member and must_ask_site(member, entry.action, work_site.today(member, now)):
            sites = await work_site.sites(ctx.db, member)
        if not sites:  # nothing to ask (or no site left with its label: the entry says so)
            await handler(update, ctx)
            return
        await send(ctx, chat_id_of(update), *screen.question(sites, key))

    return guarded(asking)


@guarded
async def open_switch(update: Update, ctx: Ctx) -> None:
    """« 📍 Changer de site » and /site: the person's sites, the current one ticked."""
    member = await open_flow(update, ctx, Action.CHOOSE_SITE)
    sites = await work_site.sites(ctx.db, member)
    await send(ctx, chat_id_of(update), *screen.switch(sites, member.partner))


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    """A site tapped: it is where they work now; then the entry they had asked for, if any."""
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=WorkSiteTap)
    if tap.entry != screen.SWITCH and tap.entry not in _ENTRIES:
        raise BadCallback("unknown entry")
    member = await require(update, ctx, Action.CHOOSE_SITE)
    try:
        chosen = await work_site.choose(ctx.db, member, tap.partner, ctx.clock.now())
    except NotTheirs as foreign:
        raise BadCallback(str(foreign)) from None
    except work_site.SiteWithdrawn:
        await query.answer(screen.WITHDRAWN, show_alert=True)
        return
    if chosen.again and tap.entry != screen.SWITCH:
        await query.answer(screen.ALREADY)  # a double tap on the question: already under way
        return
    menu_changed = chosen.before.actor != chosen.after.actor
    if menu_changed:
        await set_commands(ctx, chosen.after)
    await _say_chosen(update, ctx, chosen, tap.entry, menu_changed)
    if tap.entry != screen.SWITCH:
        await _ENTRIES[tap.entry](update, ctx)
    # An entry that answered the tap itself (📝) makes this one a harmless 400.
    with contextlib.suppress(BadRequest):
        await query.answer(screen.toast(chosen.partner))


async def _say_chosen(
    update: Update, ctx: Ctx, chosen: work_site.Chosen, entry: str, menu_changed: bool
) -> None:
    """The question becomes the answer; a menu that changed (another label) follows it."""
    query = update.callback_query
    message = query.message if query and isinstance(query.message, Message) else None
    await edit(message, screen.chosen(chosen.partner, today=entry != screen.SWITCH), None)
    if menu_changed:
        await send(
            ctx, chat_id_of(update), screen.MENU_UPDATED, menus.main_menu(chosen.after.actor)
        )
