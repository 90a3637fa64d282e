"""The world the storage contract tests share (tests/storage/world.py): the network of two
Cafs and three sites (here in place of tests/conftest.py's `network`, which a bot needs),
the people who joined it, and the Somme's coordinator alone."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.domain.models import Person
from storage.db import Database
from tests.storage import world
from tests.storage.world import Network, Staff


@pytest.fixture
async def network(db: Database, clock: ManualClock) -> Network:
    return await world.build(db, clock)


@pytest.fixture
async def staff(network: Network) -> Staff:
    return await world.staff(network)


@pytest.fixture
def corinne(staff: Staff) -> Person:
    return staff.coordinator
