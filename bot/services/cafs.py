"""The Cafs a deployment serves: added and set up by the server's operator (command line)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.models import Caf, Member, ReportingPeriod
from bot.services import audit
from storage import cafs
from storage.cafs import DuplicateCaf
from storage.db import Database

__all__ = ["CafChanges", "DuplicateCaf", "add", "update"]


@dataclass(frozen=True)
class CafChanges:
    """What `update` changes; None leaves a setting as it is."""

    period: ReportingPeriod | None = None
    timezone: str | None = None
    notify_chat_id: int | None = None
    clear_notify_chat: bool = False
    name: str | None = None
    logo_path: str | None = None
    clear_logo: bool = False

    def audited(self) -> dict[str, Any]:
        """The audit record's details: what was asked for, as the operator would write it."""
        details: dict[str, Any] = {}
        if self.period is not None:
            details["period"] = self.period.value
        if self.timezone is not None:
            details["timezone"] = self.timezone
        if self.clear_notify_chat:
            details["notify_chat"] = "none"
        elif self.notify_chat_id is not None:
            details["notify_chat"] = str(self.notify_chat_id)
        if self.name is not None:
            details["rename"] = self.name
        if self.logo_path is not None or self.clear_logo:
            details["logo"] = self.logo_path
        return details


async def add(
    db: Database,
    *,
    name: str,
    period: ReportingPeriod,
    timezone: str,
    notify_chat_id: int | None,
    now: datetime,
    by: Member | None = None,
) -> Caf:
    """A new Caf. Raises DuplicateCaf when one has that name (whatever its capitals)."""
    async with db.transaction() as tx:
        caf = await cafs.add(
            tx, name=name, period=period, timezone=timezone, notify_chat_id=notify_chat_id, now=now
        )
        await audit.record(tx, by, "caf.created", now, ("caf", caf.id), caf_id=caf.id)
    return caf


async def update(
    db: Database, caf: Caf, changes: CafChanges, now: datetime, by: Member | None = None
) -> Caf:
    """The Caf's settings changed. Raises DuplicateCaf when renamed onto another Caf's name
    (a change of capitals only is fine)."""
    async with db.transaction() as tx:
        if changes.name is not None:
            same = await cafs.get_by_name(tx, changes.name)
            if same is not None and same.id != caf.id:
                raise DuplicateCaf(changes.name)
        await cafs.update(
            tx,
            caf.id,
            period=changes.period,
            timezone=changes.timezone,
            notify_chat_id=changes.notify_chat_id,
            clear_notify_chat=changes.clear_notify_chat,
            name=changes.name,
        )
        if changes.logo_path is not None or changes.clear_logo:
            await cafs.set_logo(tx, caf.id, changes.logo_path)
        details = changes.audited()
        await audit.record(
            tx, by, "caf.updated", now, ("caf", caf.id), caf_id=caf.id, details=details
        )
        updated = await cafs.get(tx, caf.id)
    assert updated is not None
    return updated
