"""Importing a Caf's sites from a file: the command line's `partners import` and the
coordinators' « ⚙️ Ma Caf → 📥 Importer des sites » read it and import it the same way.

In the bot: the coordinator's file (CSV or Excel, `MAX_FILE_BYTES` at most) is read and
checked (bot/domain/site_import.py: every bad row and every duplicate by its line); a clean
file's rows wait in the person's pending input, with the id of the file's message, until
« ✅ Importer » or « ✖️ Annuler ». Then `import_sites` adds them all in one transaction,
audited, or none. The file itself is never kept, and its message is deleted from the chat
(conversations/caf_settings.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import PurePath

from bot import offload, spreadsheet
from bot.domain import site_import
from bot.domain.models import Caf, Member, Partner
from bot.domain.site_import import RowError, SiteRow, SiteTable
from bot.services import audit
from storage import partners, pending
from storage.db import Database

__all__ = ["RowError", "SiteRow", "SiteTable"]

#: The pending inputs of the bot's import: a file is expected; a checked file's rows wait.
EXPECT_FILE = "site_import_file"
WAITING = "site_import_ready"
MAX_FILE_BYTES = 1_000_000  # a list of 2 000 sites is about 100 kB, as CSV or workbook


class FileKind(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class NotAccepted(Exception):
    """A file refused before it is downloaded: not a CSV nor a workbook, or too large."""

    def __init__(self, *, too_large: bool = False, size: int = 0, old_excel: bool = False):
        super().__init__("too large" if too_large else "not a list of sites")
        self.too_large, self.size, self.old_excel = too_large, size, old_excel


class NothingWaiting(Exception):
    """« ✅ Importer » or « ✖️ Annuler » with no such import waiting (done, cancelled, or
    replaced by a newer file)."""


@dataclass(frozen=True)
class Imported:
    added: list[Partner]
    skipped: list[str]  # « name (city) » of each site already there (command line)
    total: int  # the Caf's sites after the import
    refused: tuple[RowError, ...] = ()  # sites already there (the bot): nothing added


@dataclass(frozen=True)
class Preview:
    """A file read and checked; when it is clean, its rows wait for « ✅ Importer »."""

    table: SiteTable
    existing: int  # the Caf's sites today
    file_message: int  # the coordinator's message holding the file: the buttons name it
    replaced: int | None  # the message of an earlier file that waited, now dropped


@dataclass(frozen=True)
class Done:
    """What « ✅ Importer » or « ✖️ Annuler » did, and the file's message to delete."""

    imported: Imported | None
    file_message: int


def kind_of(name: str | None, size: int | None) -> FileKind:
    """What a file sent in the chat is, from its name, before any download; NotAccepted
    otherwise (an old .xls included, with its own explanation)."""
    suffix = PurePath(name or "").suffix.lower().lstrip(".")
    if suffix == "xls":
        raise NotAccepted(old_excel=True)
    if suffix not in set(FileKind):
        raise NotAccepted()
    if size is not None and size > MAX_FILE_BYTES:
        raise NotAccepted(too_large=True, size=size)
    return FileKind(suffix)


async def read(content: bytes, kind: FileKind, *, max_bytes: int | None = None) -> SiteTable:
    """The file's sites, each row checked (a workbook is opened in a child process)."""
    if max_bytes is not None and len(content) > max_bytes:
        return site_import.unreadable("fichier trop lourd")
    if kind is FileKind.CSV:
        return site_import.parse(site_import.csv_lines(content))
    lines, problem = await offload.run(spreadsheet.first_sheet, content, site_import.MAX_ROWS)
    if problem == spreadsheet.TOO_LARGE:
        return site_import.unreadable("classeur trop volumineux une fois décompressé")
    if problem is not None:
        return site_import.unreadable("ce classeur Excel ne peut pas être lu (fichier .xlsx)")
    return site_import.parse(lines)


async def import_sites(
    db: Database,
    caf: Caf,
    rows: Sequence[SiteRow],
    now: datetime,
    by: Member | None = None,
    *,
    skip_existing: bool = False,
) -> Imported:
    """The checked rows added to the Caf, label active, in one transaction, audited.

    A site the Caf has already: the operator's command line (`skip_existing`) skips and
    names it; the bot refuses the whole file (`refused`, by line) and adds nothing. A
    coordinator's waiting import is over either way."""
    async with db.transaction() as tx:
        existing = [(p.name, p.city) for p in await partners.list_for_caf(tx, caf.id)]
        clashes = site_import.already_there(rows, existing)
        if by is not None:
            await pending.clear(tx, by.person.id)
        if clashes and not skip_existing:
            return Imported([], [], len(existing), tuple(clashes))
        there = {error.line for error in clashes}
        fresh = [row.with_identity() for row in rows if row.line not in there]
        added, _ = await partners.add_many(tx, caf_id=caf.id, rows=fresh, now=now)
        skipped = [row.title for row in rows if row.line in there]
        details = {"added": len(added), "skipped": len(skipped)}
        await audit.record(tx, by, "partners.imported", now, caf_id=caf.id, details=details)
    return Imported(added, skipped, len(existing) + len(added))


# ------------------------------------------------------------------------------ the bot
async def preview(
    db: Database, by: Member, table: SiteTable, file_message: int, now: datetime
) -> Preview:
    """The coordinator's file checked against the Caf's sites. Clean, its rows wait for
    « ✅ Importer » (in place of any earlier file's); with problems, nothing waits and the
    corrected file is expected."""
    async with db.transaction() as tx:
        existing = await partners.list_for_caf(tx, by.caf.id)
        table = table.with_errors(site_import.already_there(table.rows, _names(existing)))
        before = await pending.get(tx, by.person.id)
        replaced = before.context.get("message") if before and before.kind == WAITING else None
        if table.ok:
            waiting = {"message": file_message, "rows": [_stored(row) for row in table.rows]}
            await pending.expect(tx, by.person.id, WAITING, waiting, now)
        else:
            await pending.expect(tx, by.person.id, EXPECT_FILE, {}, now)
    return Preview(table, len(existing), file_message, _message_id(replaced))


async def confirm(db: Database, by: Member, file_message: int, now: datetime) -> Done:
    """« ✅ Importer »: the waiting rows imported (`import_sites`); NothingWaiting if the
    import of that file is not (or no longer) waiting."""
    rows = await _waiting(db, by, file_message)
    return Done(await import_sites(db, by.caf, rows, now, by), file_message)


async def cancel(db: Database, by: Member, file_message: int) -> Done:
    """« ✖️ Annuler »: the waiting rows forgotten; NothingWaiting as for `confirm`."""
    await _waiting(db, by, file_message)
    async with db.transaction() as tx:
        await pending.clear(tx, by.person.id)
    return Done(None, file_message)


async def _waiting(db: Database, by: Member, file_message: int) -> list[SiteRow]:
    expected = await pending.get(db, by.person.id)
    if expected is None or expected.kind != WAITING:
        raise NothingWaiting()
    if expected.context.get("message") != file_message:
        raise NothingWaiting()
    return [_loaded(values) for values in expected.context["rows"]]


def _names(existing: Sequence[Partner]) -> list[tuple[str, str]]:
    return [(partner.name, partner.city) for partner in existing]


def _message_id(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _stored(row: SiteRow) -> list[object]:
    start = row.convention_start.isoformat() if row.convention_start else None
    return [row.line, row.name, row.city, row.address, start, dict(row.identity)]


def _loaded(values: list[object]) -> SiteRow:
    line, name, city, address, start, *rest = values  # rest: identity (issue #17)
    identity = rest[0] if rest and isinstance(rest[0], dict) else {}
    return SiteRow(
        int(str(line)),
        str(name),
        str(city),
        str(address),
        date.fromisoformat(str(start)) if start else None,
        tuple((str(field), str(value)) for field, value in identity.items()),
    )
