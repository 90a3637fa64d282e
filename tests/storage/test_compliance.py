"""Contract of storage/compliance.py: the facts the compliance view reads for each site, and
the renewal reminders' bookkeeping, through the module's functions only."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.permissions import LabelStatus
from storage import compliance, partners
from tests.storage.world import Network, paris


async def test_the_facts_are_those_of_the_caf_s_own_sites(network: Network) -> None:
    facts = await compliance.site_facts(network.db, network.somme, now=network.now)
    assert sorted(f.name for f in facts) == ["France Services Albert", "Mairie de Ham"]
    assert all(f.label_status is LabelStatus.ACTIVE for f in facts)

    [ham] = await compliance.site_facts(
        network.db, network.somme, now=network.now, partner_id=network.ham.id
    )
    assert ham.partner_id == network.ham.id
    # A site of another Caf is not found through this one.
    assert (
        await compliance.site_facts(
            network.db, network.somme, now=network.now, partner_id=network.laon.id
        )
        == []
    )


async def test_the_last_visit_is_the_site_s_latest_day(network: Network) -> None:
    today = network.now.date()
    before = await compliance.site_facts(
        network.db, network.somme, now=network.now, partner_id=network.ham.id
    )
    assert before[0].last_visit_on is None
    earlier = today - timedelta(days=9)
    later = today - timedelta(days=2)
    for day in (earlier, later):
        await network.visit(network.ham, paris(day.year, day.month, day.day, 10))
    [ham] = await compliance.site_facts(
        network.db, network.somme, now=network.now, partner_id=network.ham.id
    )
    assert ham.last_visit_on == later


async def test_every_convention_but_the_withdrawn_ones_is_followed(network: Network) -> None:
    followed = await compliance.conventions_to_remind(network.db)
    assert {c.partner_id for c in followed} == {network.ham.id, network.albert.id, network.laon.id}
    assert all(c.convention_start is not None for c in followed)
    async with network.db.transaction() as tx:
        await partners.set_label(
            tx,
            network.albert.id,
            status=LabelStatus.WITHDRAWN,
            reason="Fin de la convention",
            now=network.now,
            by=None,
        )
    followed = await compliance.conventions_to_remind(network.db)
    assert network.albert.id not in {c.partner_id for c in followed}


async def test_a_reminder_is_recorded_once_per_deadline(network: Network) -> None:
    site = network.ham.id
    first, second = date(2027, 8, 26), date(2026, 8, 26)
    assert not await compliance.reminded(network.db, site, first)
    async with network.db.transaction() as tx:
        assert await compliance.record_reminder(tx, site, first, network.now)
        assert not await compliance.record_reminder(tx, site, first, network.now)
        assert await compliance.record_reminder(tx, site, second, network.now)
    assert await compliance.reminded(network.db, site, first)
    assert not await compliance.reminded(network.db, network.albert.id, first)
    assert await compliance.reminders_sent(network.db, site) == [second, first]
