"""Keyboards shared by several flows: the paged checklist of a Caf's sites (the audience of
a broadcast or of an event). A Caf has up to a few hundred sites and Telegram shows at most
100 buttons a message, so the list is paged, a page of SITES_PAGE at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.models import Partner
from bot.ui.render import render
from bot.ui.screens import Screen
from bot.ui.screens.paging import pager_row, paginate

SITES_PAGE = 8

#: (label, op, value) -> a button of the flow's own callback type and item.
ButtonOf = Callable[[str, str, int], InlineKeyboardButton]
S = TypeVar("S")


@dataclass(frozen=True)
class SiteChoice(Generic[S]):
    """What the sites are chosen for (a draft of news, an event), the Caf's sites, and the
    ids of those ticked."""

    subject: S
    sites: list[Partner]
    chosen: frozenset[int]


def site_checklist(
    sites: Sequence[Partner], chosen: Set[int], page: int, button: ButtonOf
) -> list[list[InlineKeyboardButton]]:
    """One page of « ✅ / ▫️ site » rows (op `site`, value: the site's id), then « ◀️ ▶️ »
    (op `sites`, value: the page) when there are several; `page` is clamped to the last."""
    shown = paginate(sites, page, SITES_PAGE)
    rows = [
        [button(("✅ " if p.id in chosen else "▫️ ") + p.title, "site", p.id)] for p in shown.items
    ]
    pager = pager_row(
        shown, lambda label, n: button(label, "sites", n), previous="◀️", following="▶️"
    )
    return [*rows, pager] if pager else rows


def page_of(sites: Sequence[Partner], partner_id: int) -> int:
    """The checklist page that shows this site (the first page if it is not listed)."""
    index = next((i for i, p in enumerate(sites) if p.id == partner_id), 0)
    return index // SITES_PAGE


def sites_screen(
    choice: SiteChoice[Any], page: int, button: ButtonOf, done: InlineKeyboardButton
) -> Screen:
    """The sites to tick, a page at a time, then `done` (« ✔️ Terminé »)."""
    rows = site_checklist(choice.sites, choice.chosen, page, button)
    rows.append([done])
    return render("broadcast_sites", count=len(choice.chosen)), InlineKeyboardMarkup(rows)
