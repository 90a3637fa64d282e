"""✅ Conformité: each site of a Caf assessed against the convention, as of today there."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.compliance import Assessment, assess, ranked
from bot.domain.models import Caf
from storage import compliance
from storage.db import Database


async def assessments(
    db: Database, caf: Caf, now: datetime, partner_id: int | None = None
) -> list[Assessment]:
    """Every site of the Caf (or the one asked for, if it is the Caf's), ranked."""
    today = now.astimezone(ZoneInfo(caf.timezone)).date()
    facts = await compliance.site_facts(db, caf, now=now, partner_id=partner_id)
    return ranked(assess(f, today) for f in facts)
