"""Personal data rules that need neither Telegram nor SQL: markers, names, retention dates.

The marker texts are written into the database in place of purged or erased free text, so
that a signal, a closure or a label's history still reads as a story: one sees that a text
was there and why it is gone, never the text.
"""

from __future__ import annotations

import calendar
import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Every marker starts with this, so a purge never rewrites a marker (whatever the setting).
MARKER_START = "[texte "
ERASED_TEXT = "[texte effacé avec les données de son auteur]"


def retention_marker(months: int) -> str:
    """« [texte supprimé après 24 mois] »: what a free text older than the retention becomes."""
    return f"[texte supprimé après {months} mois]"


def erased_name(person_id: int) -> str:
    """The neutral name an erased person's row keeps, so history says « someone » not who."""
    return f"Personne effacée n° {person_id}"


def name_forms(name: str) -> tuple[str, ...]:
    """The name as it may stand in a message we sent: as typed, escaped for HTML with quotes
    left alone (`html.escape(quote=False)`, Telegram's `text_html`), or as our templates
    escape it (markupsafe: « O'Brien » is « O&#39;Brien »)."""
    bare = html.escape(name, quote=False)
    templated = bare.replace('"', "&#34;").replace("'", "&#39;")
    return tuple(dict.fromkeys((name, bare, templated)))


def name_pattern(name: str) -> re.Pattern[str]:
    """The person's name as a whole word in any of its `name_forms`: erasing « Anne » blanks
    « Anne a signalé », not « Annecy » nor « Marianne »."""
    forms = sorted(name_forms(name), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, forms)) + r")(?!\w)")


def months_before(instant: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the 31st becomes the last day
    of a shorter month): the retention's cut-off."""
    total = instant.year * 12 + (instant.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    day = min(instant.day, calendar.monthrange(year, month)[1])
    return instant.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class Summary:
    """What /mesdonnees shows: the identity and how many rows of each kind."""

    identity: dict[str, Any]
    visits: int
    training_visits: int
    counts: list[tuple[str, int]]  # (French label, count), non-zero only, in SECTIONS order
