"""storage/indicators.py against its contract: `count_rows` counts the visits of [start, end)
of a Caf, or one of its sites, by site or as one whole, never a training visit nor another
Caf's, with local hours on either side of a change of summer time.

The rows are read through bot/domain/indicators.py `build`, the one consumer of CountRows,
so the assertions speak of visits, not of SQL; these tests serve any database engine.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.domain.indicators import CountRows, Indicators, build, total
from bot.domain.models import Caf
from bot.domain.periods import Period, parse_period
from storage.indicators import count_rows
from tests.storage.world import PARIS, Network, answers, paris

Q3, Q4 = parse_period("2026-Q3"), parse_period("2026-Q4")


@pytest.fixture
async def world(network: Network) -> Network:
    """The network, and the visits of its sites' agents in Q3 and Q4 2026."""
    # Q3 (summer time all along)
    await network.visit(
        network.ham,
        paris(2026, 7, 1, 0, 30),  # the first minutes of the quarter: 30 June in UTC
        answers(
            requests=(
                ("simulation", ("info_conseil", "orientation")),
                ("paiements", ("orientation",)),
            ),
            themes=("logement_cadre_de_vie", "petite_enfance"),
        ),
    )
    await network.visit(
        network.ham,
        paris(2026, 9, 30, 23, 30),  # its last evening: 30 September in UTC too
        answers(
            sexe="homme",
            age="plus_60",
            resolution="non",
            requests=(("demande_prestation", ("aide_redactionnelle",)),),
            themes=(),
        ),
    )
    legal_person = answers(sexe="personne_morale", resolution="partiellement")  # no age asked
    await network.visit(network.albert, paris(2026, 8, 12, 10), legal_person)
    await network.visit(network.ham, paris(2026, 8, 3, 10), training=True)  # never counted
    await network.visit(network.laon, paris(2026, 8, 12, 10))  # another Caf's
    # Q4, across the end of summer time (25 October 2026)
    await network.visit(network.ham, paris(2026, 10, 1, 0, 30))
    await network.visit(network.ham, paris(2026, 11, 2, 9))
    return network


async def count(world: Network, period: Period, caf: Caf | None = None, **asked: Any) -> CountRows:
    """The rows of the period for the Somme (or `caf`), with count_rows' defaults unless asked."""
    start, end = period.bounds(PARIS)
    caf_id = (caf or world.somme).id
    async with world.db.read() as snapshot:
        return await count_rows(snapshot, caf_id=caf_id, start=start, end=end, tz=PARIS, **asked)


async def by_site(
    world: Network, period: Period, caf: Caf | None = None, **asked: Any
) -> dict[int, Indicators]:
    return build(await count(world, period, caf, **asked), PARIS)


async def test_each_site_s_visits_of_the_period_and_nothing_else(world: Network) -> None:
    sites = await by_site(world, Q3)
    assert {site: figures.visits for site, figures in sites.items()} == {
        world.ham.id: 2,
        world.albert.id: 1,
    }
    assert {s: f.visits for s, f in (await by_site(world, Q4)).items()} == {world.ham.id: 2}
    other = await by_site(world, Q3, world.aisne)
    assert {s: f.visits for s, f in other.items()} == {world.laon.id: 1}


async def test_the_whole_caf_as_one_or_one_site_alone(world: Network) -> None:
    whole = await by_site(world, Q3, by_site=False)
    assert list(whole) == [0] and whole[0].visits == 3
    assert whole[0] == total(await by_site(world, Q3))
    ham = await by_site(world, Q3, partner_id=world.ham.id)
    assert list(ham) == [world.ham.id] and ham[world.ham.id].visits == 2
    # A site of another Caf counts nothing for this one.
    assert await by_site(world, Q3, partner_id=world.laon.id) == {}


async def test_profile_grid_themes_and_resolution_of_each_visit(world: Network) -> None:
    sites = await by_site(world, Q3)
    ham, albert = sites[world.ham.id], sites[world.albert.id]
    assert ham.profile["sexe"]["femme"] == 1 and ham.profile["sexe"]["homme"] == 1
    assert ham.profile["age"]["25_60"] == 1 and ham.profile["age"]["plus_60"] == 1
    assert albert.profile["sexe"]["personne_morale"] == 1 and albert.age_not_asked == 1
    # A visit counts once in each cell it ticked, once in each request type it had.
    assert ham.matrix[("simulation", "info_conseil")] == 1
    assert ham.matrix[("simulation", "orientation")] == 1
    assert ham.matrix[("paiements", "orientation")] == 1
    assert ham.requests["simulation"] == 1 and ham.requests["demande_prestation"] == 1
    assert ham.request_resolution["demande_prestation"]["non"] == 1
    assert ham.themes["logement_cadre_de_vie"] == 1 and ham.themes["petite_enfance"] == 1
    assert ham.resolution == {"oui": 1, "non": 1, "partiellement": 0}
    assert albert.resolution["partiellement"] == 1


async def test_a_summary_counts_only_what_a_comparison_needs(world: Network) -> None:
    rows = await count(world, Q3, summary_only=True)
    assert rows.cells == [] and rows.themes == [] and rows.local_hours == []
    assert {question for _, question, _, _ in rows.answers} == {"resolution", "age"}
    summary = build(rows, PARIS)
    assert summary[world.ham.id].visits == 2
    assert summary[world.ham.id].resolution["oui"] == 1
    assert summary[world.ham.id].requests["simulation"] == 1


async def test_local_hours_either_side_of_summer_time_and_none_when_not_asked(
    world: Network,
) -> None:
    rows = await count(world, Q4)
    assert sorted((day, hour, n) for _, day, hour, n in rows.local_hours) == [
        (date(2026, 10, 1), 0, 1),  # UTC+2: 30 September, 22 h in UTC
        (date(2026, 11, 2), 9, 1),  # UTC+1
    ]
    summer = await count(world, Q3, partner_id=world.ham.id)
    assert sorted((day, hour) for _, day, hour, _ in summer.local_hours) == [
        (date(2026, 7, 1), 0),
        (date(2026, 9, 30), 23),
    ]
    assert (await count(world, Q4, with_time=False)).local_hours == []
