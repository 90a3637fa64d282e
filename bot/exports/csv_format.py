"""What the CSV exports share: French Excel's flavour and the guard against formulas.

UTF-8 with a BOM, `;` and CRLF is what Excel opens as is in France. Names and titles are
typed by people, so a text that Excel would read as a formula (`=`, `+`, `-`, `@` first)
gets a leading apostrophe, as OWASP advises. Apart from the workbooks' modules, so that the
bot, which writes CSV itself, never imports openpyxl.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

CSV_BOM = "\ufeff"
DATE_TIME_TEXT = "%d/%m/%Y %H:%M"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(DATE_TIME_TEXT)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
