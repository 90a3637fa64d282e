"""The cells of a workbook a coordinator sent (a list of sites), read in a child process.

openpyxl is imported inside the function: the bot hands the bytes to a short-lived child
(bot/offload.py), so the library never enters its memory, and a malformed or hostile file
costs the child, not the bot.

Decisions:

* Only the first sheet, and its first `MAX_COLUMNS` columns: the columns of a list of sites.
* An archive that would unpack to more than `MAX_UNPACKED_BYTES` is refused before openpyxl
  opens it (a small .xlsx can hold a huge sheet).
* Reading stops after `max_rows` lines that are not empty (the caller refuses more), and
  after `MAX_LINES` lines whatever they hold (a sheet formatted down to its millionth row).
* What cannot be read is a code, not an exception: the caller tells the person in French.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

MAX_COLUMNS = 8
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_LINES = 100_000
UNREADABLE = "unreadable"
TOO_LARGE = "too_large"

Lines = list[tuple[int, list[Any]]]


def first_sheet(content: bytes, max_rows: int) -> tuple[Lines, str | None]:
    """The first sheet's lines (number from 1, cells) that are the header or not empty, or
    why there are none (`UNREADABLE`, `TOO_LARGE`)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                return [], TOO_LARGE
    except (zipfile.BadZipFile, OSError, ValueError):
        return [], UNREADABLE
    from openpyxl import load_workbook

    lines: Lines = []
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
            for number, values in enumerate(rows, start=1):
                cells = list(values)
                if number == 1 or any(cell not in (None, "") for cell in cells):
                    lines.append((number, cells))
                if len(lines) > max_rows + 1 or number >= MAX_LINES:
                    break
        finally:
            workbook.close()
    except Exception:  # whatever a broken workbook raises inside openpyxl
        return [], UNREADABLE
    return lines, None
