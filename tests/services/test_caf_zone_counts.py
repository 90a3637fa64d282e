"""bot/services/cafs.py `update`: a change of a Caf's time zone recounts its indicators'
counts (storage/visit_counts.py) in the new zone, in the same transaction, so that its
figures keep coming from the counts and stay those of a recount of the raw visits."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.indicators import build
from bot.domain.periods import parse_period
from bot.services import cafs
from storage import visit_counts
from storage.db import Database
from storage.indicators import count_raw_rows, count_rows
from tests.storage import world
from tests.storage.world import Network, answers, paris


@pytest.fixture
async def network(db: Database, clock: ManualClock) -> Network:
    return await world.build(db, clock)


async def test_a_new_zone_recounts_the_caf_s_counts(network: Network) -> None:
    # Late evening in Paris: already the next day in Réunion (UTC+4).
    await network.visit(network.ham, paris(2026, 10, 31, 22, 30))
    await network.visit(network.ham, paris(2026, 10, 30, 10), answers(resolution="non"))
    assert await visit_counts.zone_of(network.db, network.somme.id) == "Europe/Paris"

    await cafs.update(
        network.db, network.somme, cafs.CafChanges(timezone="Indian/Reunion"), network.now
    )

    assert await visit_counts.zone_of(network.db, network.somme.id) == "Indian/Reunion"
    reunion = ZoneInfo("Indian/Reunion")
    start, end = parse_period("2026-10").bounds(reunion)
    async with network.db.read() as snapshot:
        asked: dict[str, Any] = {
            "caf_id": network.somme.id,
            "start": start,
            "end": end,
            "tz": reunion,
        }
        counted = build(await count_rows(snapshot, **asked), reunion)
        recounted = build(await count_raw_rows(snapshot, **asked), reunion)
    assert counted == recounted
    assert counted[network.ham.id].visits == 1  # the 31st's evening is November there
