"""The public directory of a Caf's sites as a file (JSON, CSV or ICS): `export directory` on
the command line and « ⚙️ Ma Caf → Annuaire » in the bot make the same file.

What it holds and each format's decisions: bot/exports/directory.py. Its day is the Caf's
own date, from the caller's clock.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.models import Caf
from bot.exports import directory
from storage.db import Database


class DirectoryFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    ICS = "ics"


@dataclass(frozen=True)
class DirectoryFile:
    content: bytes
    filename: str  # annuaire-caf-de-la-somme.json
    sites: int
    closures: int


async def directory_file(
    db: Database, caf: Caf, file_format: DirectoryFormat, now: datetime
) -> DirectoryFile:
    """The Caf's directory as it stands today at the Caf, in `file_format`."""
    local = now.astimezone(caf.zone)
    async with db.read() as snapshot:  # one consistent view, even while the bot writes
        entries = await directory.collect(snapshot, caf, local.date())
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
    return f"annuaire-{slug}.{file_format.value}"
