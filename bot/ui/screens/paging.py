"""One way to page a list in a message: a page of items, then « ◀️ / ▶️ » when there are more.

Telegram shows at most 100 buttons a message and a phone far fewer comfortably, so every
list of sites, people, signals or links is paged the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from telegram import InlineKeyboardButton

T = TypeVar("T")

#: (label, page number) -> the button that shows that page.
PageButton = Callable[[str, int], InlineKeyboardButton]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int  # from 0
    count: int  # at least 1

    @property
    def first_index(self) -> int:
        return self.number * len(self.items)


def paginate(everything: Sequence[T], number: int, size: int) -> Page[T]:
    """Page `number` (clamped to the first and the last) of `everything`, `size` to a page."""
    count = max(1, math.ceil(len(everything) / size))
    number = min(max(number, 0), count - 1)
    return Page(everything[number * size : (number + 1) * size], number, count)


def pager_row(
    page: Page[T],
    button: PageButton,
    *,
    previous: str = "◀️ Précédents",
    following: str = "Suivants ▶️",
) -> list[InlineKeyboardButton]:
    """The row of « previous / next » buttons; empty on a single page."""
    row = []
    if page.number > 0:
        row.append(button(previous, page.number - 1))
    if page.number + 1 < page.count:
        row.append(button(following, page.number + 1))
    return row
