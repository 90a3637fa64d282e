"""A list of sites to import (a CSV or the first sheet of a workbook), checked row by row.

The command line (`partners import`) and the coordinators' « ⚙️ Ma Caf » read the same
columns with the same rules, so a file accepted by one is accepted by the other:

    name,city,address[,convention_start][,siret][,code_postal][,telephone][,courriel]

(the header is line 1; commas or semicolons, UTF-8 or Windows-1252, as Excel writes them in
France; `convention_start` an ISO date such as 2025-03-15 or a date cell, empty for the day
of the import). The optional columns after the first three, in any order, are what the
national standard of places of digital mediation needs of a site (bot/domain/site_identity.py):
its SIRET or RNA, its postcode, its public phone and e-mail; each may be empty.

Decisions:

* Every problem is found, not only the first, each with its line number, so that one
  corrected file is enough; nothing is imported while there is any.
* Two rows naming the same site (same name in the same town, whatever the capitals and the
  spaces) are a duplicate; so is a row naming a site the Caf already has.
* The file is a list of sites, not data on the public: every cell goes through the privacy
  screen (a site's own address is the one identifier allowed, in the address and town
  columns), and a cell refused is never quoted back.
* At most `MAX_ROWS` sites a file: a larger network is imported in several files.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.domain import privacy, site_identity
from bot.domain.privacy import IdentifierKind
from bot.domain.site_identity import SiteIdentityError

HEADER = ("name", "city", "address")
CONVENTION_START = "convention_start"
MAX_ROWS = 2_000
# What a site's card holds at most (the bot asks the same when a site is typed).
MAX_LENGTHS = {"name": 200, "city": 100, "address": 300}
COLUMN_NAMES = {"name": "le nom", "city": "la ville", "address": "l'adresse"}
# Optional columns: the file's French name → the site's field (bot/domain/site_identity.py).
IDENTITY_COLUMNS = {
    "siret": site_identity.SIRET,
    "code_postal": site_identity.POSTCODE,
    "telephone": site_identity.PHONE,
    "courriel": site_identity.EMAIL,
}
# A site's own address is what the address column is for; a town is often written with its
# postcode (« 80000 Amiens »), which the screen reads as an address.
ALLOWED = {
    "address": frozenset({IdentifierKind.ADDRESS}),
    "city": frozenset({IdentifierKind.ADDRESS}),
}

#: One line of the file: its number (the header is 1) and its cells as read.
Line = tuple[int, Sequence[object]]


@dataclass(frozen=True)
class SiteRow:
    """One site of the file, checked."""

    line: int
    name: str
    city: str
    address: str
    convention_start: date | None
    # SIRET or RNA, postcode, phone, e-mail as given (site_identity's fields → normal form).
    identity: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return same_site(self.name, self.city)

    @property
    def title(self) -> str:
        return f"{self.name} ({self.city})" if self.city else self.name

    def values(self) -> tuple[str, str, str, date | None]:
        """What storage adds: name, town, address, convention start."""
        return (self.name, self.city, self.address, self.convention_start)

    def with_identity(self) -> tuple[str, str, str, date | None, dict[str, str]]:
        """The same and the optional SIRET, postcode, phone and e-mail given."""
        return (*self.values(), dict(self.identity))


@dataclass(frozen=True)
class RowError:
    """What is wrong with one line (None: with the file as a whole), in French."""

    line: int | None
    text: str

    def located(self) -> str:
        """« ligne 12 : le nom du site est vide », or the text alone for the whole file."""
        return self.text if self.line is None else f"ligne {self.line} : {self.text}"


@dataclass(frozen=True)
class SiteTable:
    """The sites of a file and every problem found in it."""

    rows: tuple[SiteRow, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    def with_errors(self, more: Iterable[RowError]) -> SiteTable:
        """The same table with more problems, all kept in line order."""
        merged = sorted((*self.errors, *more), key=lambda e: (e.line or 0, e.text))
        return replace(self, errors=tuple(merged))


def unreadable(text: str) -> SiteTable:
    """A file that could not be read at all."""
    return SiteTable((), (RowError(None, text),))


def same_site(name: str, city: str) -> tuple[str, str]:
    """Two spellings of one site: capitals, accents' composition and spaces aside."""

    def fold(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())

    return fold(name), fold(city)


# ------------------------------------------------------------------------------ reading
def csv_lines(raw: bytes) -> Iterator[Line]:
    """The records of a CSV, numbered from 1 (the header): UTF-8 (with or without Excel's
    BOM) or Windows-1252, commas or semicolons, whichever the header uses more."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first_line = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    yield from enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1)


def parse(lines: Iterable[Line]) -> SiteTable:
    """The sites of a file's lines, each checked; duplicates within the file included."""
    found = iter(lines)
    header_line = next(found, (1, ()))
    header = [_text(cell).lower() for cell in header_line[1]]
    if tuple(header[:3]) != HEADER:
        shown = ",".join(header).strip(",")
        wanted = ",".join(HEADER)
        text = f"l'en-tête doit être « {wanted} » (trouvé : « {shown} »)"
        return SiteTable((), (RowError(1, text),))
    with_start = header[3:4] == [CONVENTION_START]
    optional = {
        i: IDENTITY_COLUMNS[name] for i, name in enumerate(header) if name in IDENTITY_COLUMNS
    }
    rows: list[SiteRow] = []
    errors: list[RowError] = []
    first_of: dict[tuple[str, str], int] = {}
    for number, cells in found:
        if not any(_text(cell) for cell in cells):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            limit = f"{MAX_ROWS:,}".replace(",", "\u202f")
            errors.append(RowError(None, f"plus de {limit} sites : découpez le fichier"))
            break
        row = _row(number, cells, with_start)
        if isinstance(row, SiteRow) and optional:
            row = _with_identity(row, cells, optional)
        if isinstance(row, RowError):
            errors.append(row)
            continue
        if row.key in first_of:
            errors.append(RowError(number, f"même site que la ligne {first_of[row.key]}"))
            continue
        first_of[row.key] = number
        rows.append(row)
    if not rows and not errors:
        errors.append(RowError(None, "aucun site à importer"))
    return SiteTable(tuple(rows), tuple(errors))


def already_there(rows: Iterable[SiteRow], existing: Iterable[tuple[str, str]]) -> list[RowError]:
    """A problem for each row naming a site the Caf has (`existing`: names and towns)."""
    known = {same_site(name, city) for name, city in existing}
    return [
        RowError(row.line, f"« {row.title} » existe déjà dans la Caf")
        for row in rows
        if row.key in known
    ]


def _row(number: int, cells: Sequence[object], with_start: bool) -> SiteRow | RowError:
    if len(cells) < 3:
        return RowError(number, "3 colonnes attendues (name,city,address)")
    values = dict(zip(HEADER, (_text(cell) for cell in cells[:3]), strict=True))
    start_cell = cells[3] if with_start and len(cells) > 3 else None
    for column, value in values.items():
        found = privacy.screen(value).found - ALLOWED.get(column, frozenset())
        if found:
            kinds = " et ".join(kind.label for kind in sorted(found))
            return RowError(
                number,
                f"{COLUMN_NAMES[column]} semble contenir {kinds} : un fichier de sites ne"
                " contient aucune donnée personnelle (article 5)",
            )
    if not values["name"]:
        return RowError(number, "le nom du site est vide")
    if any(len(values[column]) > limit for column, limit in MAX_LENGTHS.items()):
        return RowError(number, "valeur trop longue")
    start = _date(start_cell)
    if isinstance(start, RowError):
        return RowError(number, start.text)
    return SiteRow(number, values["name"], values["city"], values["address"], start)


def _with_identity(
    row: SiteRow, cells: Sequence[object], optional: dict[int, str]
) -> SiteRow | RowError:
    """The row with its optional SIRET, postcode, phone and e-mail, each checked. These are
    the site's own, given on purpose: they are not screened as data on the public, and a
    wrong one is not quoted back either (the file's cell may hold anything)."""
    given = []
    for index, field in optional.items():
        text = _text(cells[index]) if index < len(cells) else ""
        if not text:
            continue
        try:
            given.append((field, site_identity.checked(field, text)))
        except SiteIdentityError as error:
            column = next(name for name, f in IDENTITY_COLUMNS.items() if f == field)
            return RowError(row.line, f"{column} : {error}")
    return replace(row, identity=tuple(given))


def _date(cell: object) -> date | RowError | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell)
    if not text:
        return None
    if not privacy.screen(text).ok:  # never quoted back
        return RowError(None, f"{CONVENTION_START} n'est pas une date AAAA-MM-JJ")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:  # 2025-02-30
            pass
    return RowError(None, f"{CONVENTION_START} « {text} » n'est pas une date AAAA-MM-JJ")


def _text(cell: object) -> str:
    """A cell as text: a workbook's numbers without their « .0 », dates in ISO."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, datetime):
        cell = cell.date()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell).strip()
