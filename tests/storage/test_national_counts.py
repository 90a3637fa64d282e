"""storage/indicators.py `count_every_caf` (the national table, issue #19): each Caf's
figures as one whole, read for every Caf at once, are that Caf's own `count_rows`, and a
recount of its raw visits; a Caf whose counts are not in its zone is recounted from its raw
visits. On both engines (the `network` fixture)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.domain.indicators import Indicators, build, total
from bot.domain.periods import parse_period
from storage import visit_counts
from storage.indicators import count_every_caf, count_raw_rows, count_rows
from tests.storage.world import PARIS, Network, answers, paris

REUNION = ZoneInfo("Indian/Reunion")


async def seed(network: Network) -> None:
    await network.visit(network.ham, paris(2026, 1, 1, 0, 30))  # the year's first hour
    await network.visit(network.albert, paris(2026, 3, 31, 23, 30), answers(sexe="homme"))
    await network.visit(network.ham, paris(2026, 7, 14, 10), answers(resolution="non"))
    await network.visit(network.ham, paris(2026, 7, 15, 10), training=True)  # never counted
    await network.visit(network.laon, paris(2026, 2, 10, 11), answers(sexe="personne_morale"))
    await network.visit(network.laon, paris(2025, 12, 31, 23, 30))  # the year before


async def one_by_one(network: Network, first: date, last: date, zone: ZoneInfo) -> list[Indicators]:
    start, end = parse_period(f"{first}..{last}").bounds(zone)
    found = []
    async with network.db.read() as snapshot:
        for caf in (network.somme, network.aisne):
            asked = {"caf_id": caf.id, "start": start, "end": end, "tz": zone, "by_site": False}
            counted = total(build(await count_rows(snapshot, **asked, with_time=False), zone))
            recounted = total(build(await count_raw_rows(snapshot, **asked), zone))
            recounted.by_day.clear()  # count_every_caf leaves the time out
            recounted.weekday_hour.clear()
            assert counted == recounted
            found.append(counted)
    return found


async def every(network: Network, first: date, last: date, zone: ZoneInfo) -> list[Indicators]:
    cafs = [(network.somme.id, zone), (network.aisne.id, zone)]
    async with network.db.read() as snapshot:
        rows = await count_every_caf(snapshot, cafs, first, last)
    return [total(build(rows[caf_id], zone)) for caf_id, _ in cafs]


async def test_every_caf_at_once_is_each_caf_counted_alone(network: Network) -> None:
    await seed(network)
    for code in ("2026", "2026-Q1", "2026-03-31..2026-07-14"):
        period = parse_period(code)
        expected = await one_by_one(network, period.first, period.last, PARIS)
        assert await every(network, period.first, period.last, PARIS) == expected
    year = parse_period("2026")
    somme, aisne = await every(network, year.first, year.last, PARIS)
    assert (somme.visits, aisne.visits) == (3, 1)
    assert somme.profile["sexe"]["homme"] == 1 and aisne.age_not_asked == 1


async def test_a_caf_counted_in_another_zone_is_recounted_from_its_visits(
    network: Network,
) -> None:
    await seed(network)
    assert await visit_counts.zone_of(network.db, network.somme.id) == "Europe/Paris"
    year = parse_period("2026")
    expected = await one_by_one(network, year.first, year.last, REUNION)
    assert await every(network, year.first, year.last, REUNION) == expected
    # On Réunion time the Aisne's 23:30 of 31 December 2025 (Paris) is in 2026.
    assert [figures.visits for figures in expected] == [3, 2]
