"""📢 Diffuser: what a broadcast's coordinator reads of it."""

from __future__ import annotations

from bot.domain.models import Announcement
from bot.ui.screens.broadcast import Figures
from storage import announcements
from storage.db import Conn


async def figures(conn: Conn, a: Announcement) -> Figures:
    """Its messages by outbox status and, for a must-read notice, its readers."""
    counts = await announcements.progress(conn, a)
    readers = await announcements.readers(conn, a.id) if a.must_read else []
    return Figures(
        by_status={status.value: n for status, n in counts.items()},
        readers=len(readers),
        read=sum(1 for r in readers if r.read_at),
    )
