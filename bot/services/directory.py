"""The public directory of a Caf's sites as a file (JSON, CSV, ICS, or the national standard's
CSV): `export directory` on the command line and « ⚙️ Ma Caf → Annuaire » in the bot make
the same file.

What it holds and each format's decisions: bot/exports/directory.py. Its day is the Caf's
own date, from the caller's clock.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from bot.domain.models import Caf
from bot.exports import directory, directory_national
from storage import cafs, partners, scheduled
from storage.db import Conn, Database


class DirectoryFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    ICS = "ics"
    # The national standard of places of digital mediation (bot/exports/directory_national.py).
    NATIONAL = "national"


@dataclass(frozen=True)
class DirectoryFile:
    content: bytes
    filename: str  # annuaire-caf-de-la-somme.json
    sites: int
    closures: int
    # National standard only: the sites left out for a missing SIRET, postcode or address.
    left_out: tuple[str, ...] = ()


async def directory_file(
    db: Database, caf: Caf, file_format: DirectoryFormat, now: datetime
) -> DirectoryFile:
    """The Caf's directory as it stands today at the Caf, in `file_format`."""
    local = now.astimezone(caf.zone)
    changes: dict[int, datetime] = {}
    async with db.read() as snapshot:  # one consistent view, even while the bot writes
        entries = await directory.collect(snapshot, caf, local.date())
        if file_format is DirectoryFormat.NATIONAL:
            changes = await partners.last_changes(snapshot, caf.id)
    if file_format is DirectoryFormat.NATIONAL:
        national = directory_national.to_national_csv(entries, caf, changes, now)
        closures = sum(len(e.closures) for e in entries if directory_national.publishable(e.site))
        name = filename(caf, file_format)
        content = national.text.encode("utf-8")
        return DirectoryFile(content, name, national.rows, closures, national.left_out)
    if file_format is DirectoryFormat.JSON:
        content = directory.to_json(entries, caf, local).encode("utf-8")
    elif file_format is DirectoryFormat.CSV:
        content = directory.to_csv(entries).encode("utf-8")
    else:
        content = directory.to_ics(entries, caf, local)
    closures = sum(len(entry.closures) for entry in entries)
    return DirectoryFile(content, filename(caf, file_format), len(entries), closures)


def filename(caf: Caf, file_format: DirectoryFormat) -> str:
    """ASCII letters, digits and hyphens: safe on phones and in a Content-Disposition."""
    folded = unicodedata.normalize("NFKD", caf.name.lower())
    ascii_name = folded.encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:50].strip("-") or "caf"
    if file_format is DirectoryFormat.NATIONAL:
        return f"lieux-mediation-numerique-{slug}.csv"
    return f"annuaire-{slug}.{file_format.value}"


# ------------------------------------------------------------------------------ publishing
# The public folder (Settings.directory_dir) is rewritten a few seconds after each change of a
# Caf's sites, hours or closures (`request_publish`, from bot/services/audit.py), and at each
# of its midnights (the hours in force and the coming closures depend on the day):
# bot/jobs/directory_publish.py.
PUBLISH_KIND = "directory.publish"
# A burst of changes (a week of hours typed, a file of sites) makes one write.
PUBLISH_DELAY = timedelta(seconds=5)
PUBLISHED_FORMATS = (DirectoryFormat.JSON, DirectoryFormat.ICS, DirectoryFormat.NATIONAL)
# The audit records of a change the public directory shows.
PUBLISHED_ACTIONS = frozenset(
    {
        "caf.updated",
        "closure.cancelled",
        "closure.declared",
        "hours.declared",
        "label.changed",
        "partner.created",
        "partner.updated",
        "partners.imported",
    }
)


def publish_key(caf_id: int) -> str:
    return f"{PUBLISH_KIND}:{caf_id}"


async def request_publish(tx: Conn, caf_id: int, now: datetime) -> None:
    """One write of the Caf's public files `PUBLISH_DELAY` from now, in the transaction of the
    change: a write already due by then takes this change too (it reads when it runs); a write
    under way is followed by another."""
    due = now + PUBLISH_DELAY
    job = await scheduled.get(tx, publish_key(caf_id))
    if job is not None and job.status == "pending" and job.due_at <= due:
        return
    await scheduled.rearm(
        tx, kind=PUBLISH_KIND, key=publish_key(caf_id), due_at=due, payload={"caf": caf_id}, now=now
    )


async def publish_next_midnight(db: Database, caf: Caf, now: datetime) -> None:
    """The next write at the Caf's next midnight (a minute past), unless one is due before."""
    local = now.astimezone(caf.zone)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0, 1), caf.zone)
    async with db.transaction() as tx:
        job = await scheduled.get(tx, publish_key(caf.id))
        if job is not None and job.status == "pending" and job.due_at <= tomorrow:
            return
        await scheduled.rearm(
            tx,
            kind=PUBLISH_KIND,
            key=publish_key(caf.id),
            due_at=tomorrow.astimezone(UTC),
            payload={"caf": caf.id},
            now=now,
        )


async def publish_all_now(db: Database, now: datetime) -> None:
    """At start-up: every Caf's files written at once (the folder may be new or stale)."""
    async with db.transaction() as tx:
        for caf in await cafs.list_all(tx):
            await scheduled.rearm(
                tx,
                kind=PUBLISH_KIND,
                key=publish_key(caf.id),
                due_at=now,
                payload={"caf": caf.id},
                now=now,
            )


async def published_files(db: Database, caf_id: int, now: datetime) -> list[DirectoryFile]:
    """The Caf's public files as they stand now (none for a Caf that no longer exists)."""
    caf = await cafs.get(db, caf_id)
    if caf is None:
        return []
    return [await directory_file(db, caf, fmt, now) for fmt in PUBLISHED_FORMATS]
