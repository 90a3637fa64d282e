"""The retention of personal data, applied by the nightly housekeeping.

Free-text notes older than RETENTION_MONTHS give way to a neutral marker (« [texte supprimé
après 24 mois] ») so that the history around them still reads; unfinished entries that old
are dropped; and people whose access was revoked that long ago are erased like a
coordinator would erase them (their visits stay as anonymous figures). Which field, from
when, and why: storage/personal_data.py's rules, explained in the README's « Données
personnelles ».
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.personal_data import months_before, retention_marker
from storage import audit, personal_data
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class Purged:
    texts: dict[str, int] = field(default_factory=dict)
    erased_people: int = 0

    @property
    def total(self) -> int:
        return sum(self.texts.values()) + self.erased_people


async def run(db: Database, now: datetime, months: int) -> Purged:
    """One pass; idempotent (a marker is never rewritten, an erased person never again)."""
    cut = months_before(now, months)
    purged = Purged()
    async with db.transaction() as tx:
        purged.texts = await personal_data.purge_texts(tx, cut, retention_marker(months))
    for person_id in await personal_data.revoked_before(db, cut):
        async with db.transaction() as tx:
            caf_id = await tx.fetch_value(
                "SELECT caf_id FROM people WHERE id = :id", {"id": person_id}
            )
            if await personal_data.erase(tx, person_id, now):
                purged.erased_people += 1
                await audit.record(
                    tx,
                    at=now,
                    action="person.erased",
                    actor_id=None,
                    caf_id=caf_id,
                    target_type="person",
                    target_id=person_id,
                    details={"automatic": True, "months": months},
                )
    if purged.total:
        # Counts only: never a text, never a name.
        log.info(
            "Retention (%d months): %s; %d revoked people erased",
            months,
            ", ".join(f"{name} {n}" for name, n in purged.texts.items() if n) or "no text",
            purged.erased_people,
        )
    return purged
