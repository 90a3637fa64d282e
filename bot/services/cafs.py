"""The Cafs a deployment serves: added by the server's operator (command line), set up by
the operator or by the Caf's own coordinators (« ⚙️ Ma Caf »): both change a setting through
`update`, audited, the Caf's coordinators told."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.models import Caf, Member, ReportingPeriod
from bot.services import audit, notify
from bot.ui.screens import caf_settings as screen
from storage import cafs, partners, pending, visit_counts
from storage.cafs import DuplicateCaf
from storage.db import Database
from storage.timefmt import to_db

__all__ = [
    "CafChanges",
    "CafSettings",
    "DuplicateCaf",
    "NotAChatId",
    "NotACity",
    "add",
    "change",
    "parse_city",
    "parse_notify_chat",
    "settings",
    "update",
]

# What clears the notification chat, typed or on the command line.
NO_CHAT = frozenset({"none", "aucun", "aucune"})
# Telegram's chat ids fit in 52 bits; groups and channels are negative.
_CHAT_ID = re.compile(r"-?[1-9][0-9]{0,15}")


# What clears the Caf's town; a town longer than this is no town (the longest French
# commune's name has 45 characters).
NO_CITY = frozenset({"none", "aucune", "aucun"})
CITY_MAX = 80


class NotAChatId(ValueError):
    """A notification chat that is neither a Telegram chat id nor « none »."""


class NotACity(ValueError):
    """A town for the certificates that is empty, too long, or on several lines."""


@dataclass(frozen=True)
class CafSettings:
    """What « ⚙️ Ma Caf » shows: the Caf's settings and how many sites it has."""

    caf: Caf
    sites: int


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
    city: str | None = None  # where certificates are « Fait à »
    clear_city: bool = False

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
        if self.city is not None or self.clear_city:
            details["city"] = self.city
        return details


def parse_notify_chat(text: str) -> int | None:
    """A notification chat as typed: a chat id (-1001234567890), or None for « none » (no
    group). Raises NotAChatId for anything else."""
    typed = text.strip().replace(" ", "")
    if typed.lower() in NO_CHAT:
        return None
    if not _CHAT_ID.fullmatch(typed):
        raise NotAChatId(text)
    return int(typed)


def parse_city(text: str) -> str | None:
    """The Caf's town as typed (« Amiens »), spaces tidied; None for « none » (no town: the
    certificates leave « Fait à » blank). Raises NotACity when empty or over CITY_MAX."""
    if "\n" in text.strip():
        raise NotACity(text)
    typed = " ".join(text.split())
    if typed.casefold() in NO_CITY:
        return None
    if not typed or len(typed) > CITY_MAX:
        raise NotACity(text)
    return typed


async def settings(db: Database, by: Member) -> CafSettings:
    """The coordinator's own Caf, as it stands."""
    return CafSettings(by.caf, len(await partners.list_for_caf(db, by.caf.id)))


async def change(db: Database, by: Member, changes: CafChanges, now: datetime) -> CafSettings:
    """A coordinator's change to their own Caf (`update`), and the settings it leaves."""
    caf = await update(db, by.caf, changes, now, by)
    return CafSettings(caf, len(await partners.list_for_caf(db, caf.id)))


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
    """The Caf's settings changed, by the operator (`by` None) or one of its coordinators
    (whose typed answer, if one was expected, is then over), audited; the Caf's other
    coordinators and its notification group (the new one) are told. Raises DuplicateCaf when
    renamed onto another Caf's name (a change of capitals only is fine)."""
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
        if changes.timezone is not None and (
            await visit_counts.zone_of(tx, caf.id) != changes.timezone
        ):
            # The indicators' counts are by local day: recounted in the new zone (#19). The
            # zone set again rebuilds counts the migration could not make (`cafs set`).
            await visit_counts.rebuild(tx, caf.id, ZoneInfo(changes.timezone))
        if changes.logo_path is not None or changes.clear_logo:
            await cafs.set_logo(tx, caf.id, changes.logo_path)
        if changes.city is not None or changes.clear_city:
            await cafs.set_city(tx, caf.id, changes.city)
        details = changes.audited()
        await audit.record(
            tx, by, "caf.updated", now, ("caf", caf.id), caf_id=caf.id, details=details
        )
        updated = await cafs.get(tx, caf.id)
        assert updated is not None
        if by is not None:
            await pending.clear(tx, by.person.id)
        changed = ",".join(f"{key}={value}" for key, value in sorted(details.items()))
        await notify.to_coordinators(
            tx,
            updated,
            kind="caf_settings",
            key=f"caf:{caf.id}:settings:{to_db(now)}:{changed}",
            text=_notice(updated, changes, by),
            now=now,
            exclude_person_id=by.person.id if by else None,
        )
    return updated


def _notice(caf: Caf, changes: CafChanges, by: Member | None) -> str:
    return screen.settings_notice(
        caf,
        by.person if by else None,
        period=changes.period is not None,
        notify_chat=changes.notify_chat_id is not None or changes.clear_notify_chat,
        timezone=changes.timezone is not None,
        name=changes.name is not None,
        logo=changes.logo_path is not None or changes.clear_logo,
        city=changes.city is not None or changes.clear_city,
    )
