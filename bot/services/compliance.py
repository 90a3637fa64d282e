"""✅ Conformité: each site of a Caf assessed against the convention, as of today there."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.compliance import Assessment, MissingPointsFacts, SiteFacts, assess, ranked
from bot.domain.models import Caf
from storage import compliance, equipment, site_reviews
from storage.db import Database


async def assessments(
    db: Database, caf: Caf, now: datetime, partner_id: int | None = None
) -> list[Assessment]:
    """Every site of the Caf (or the one asked for, if it is the Caf's), ranked."""
    today = now.astimezone(ZoneInfo(caf.timezone)).date()
    facts = await compliance.site_facts(db, caf, now=now, partner_id=partner_id)
    # The yearly visit's points still wanting, and the equipment sites list as missing.
    async with db.read() as tx:
        missing = await site_reviews.open_missing_points(tx, caf.id, partner_id)
        kit = await equipment.missing_by_site(tx, caf.id, partner_id)
    facts = [_with_missing(f, missing, kit) for f in facts]
    return ranked(assess(f, today) for f in facts)


def _with_missing(
    facts: SiteFacts,
    missing: dict[int, tuple[date, tuple[str, ...]]],
    kit: dict[int, tuple[str, ...]],
) -> SiteFacts:
    if facts.partner_id not in missing and facts.partner_id not in kit:
        return facts
    visited_on, points = missing.get(facts.partner_id, (None, ()))
    found = MissingPointsFacts(visited_on, points, kit.get(facts.partner_id, ()))
    return replace(facts, missing_points=found)
