"""📢 Diffuser: the screens of a broadcast."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.models import Announcement
from bot.ui import callbacks
from bot.ui.callbacks import BroadcastTap
from bot.ui.render import render


@dataclass(frozen=True)
class Figures:
    """Where a broadcast's messages stand (by outbox status) and who has read it."""

    by_status: dict[str, int]
    readers: int
    read: int

    @property
    def failed(self) -> int:
        return self.by_status.get("failed", 0)


def button(label: str, op: str, item: int = 0, value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.encode(BroadcastTap(op, item, value))
    )


def detail(a: Announcement, figures: Figures, tz: ZoneInfo) -> tuple[str, InlineKeyboardMarkup]:
    """A broadcast's figures and actions; also what the progress loop keeps up to date."""
    text = render(
        "broadcast_detail",
        announcement=a,
        counts=figures.by_status,
        total=sum(figures.by_status.values()),
        read=figures.read,
        readers=figures.readers,
        tz=tz,
    )
    rows = []
    if figures.failed:
        rows.append([button(f"🔁 Relancer les échecs ({figures.failed})", "retry", a.id)])
    if a.must_read and figures.read < figures.readers:
        rows.append(
            [
                button("👀 Qui n'a pas lu ?", "unread", a.id),
                button("🔔 Relancer", "remind", a.id),
            ]
        )
    if a.status == "scheduled":
        rows.append([button("✖️ Annuler l'envoi programmé", "unsched", a.id)])
    rows.append([button("⬅️ Diffusions", "home")])
    return text, InlineKeyboardMarkup(rows)
