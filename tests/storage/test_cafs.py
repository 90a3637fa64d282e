"""Contract of storage/cafs.py, through its functions only: a Caf is added once under a name
(whatever its capitals and accents), listed by name, and its settings changed one by one."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.domain.models import ReportingPeriod
from storage import cafs
from storage.db import Database
from tests.storage.world import add_caf


async def test_a_caf_is_read_back_as_added(db: Database, clock: ManualClock) -> None:
    guyane = {"timezone": "America/Cayenne", "notify_chat_id": -100123}
    async with db.transaction() as tx:
        caf = await add_caf(tx, "Caf de Guyane", clock.now(), ReportingPeriod.QUARTERLY, **guyane)
    again = await cafs.get(db, caf.id)
    assert again == caf
    assert (caf.name, caf.reporting_period, caf.timezone, caf.notify_chat_id) == (
        "Caf de Guyane",
        ReportingPeriod.QUARTERLY,
        "America/Cayenne",
        -100123,
    )
    assert caf.created_at == clock.now()
    assert caf.logo_path is None
    assert await cafs.get(db, caf.id + 1) is None


async def test_a_name_is_found_and_taken_whatever_its_capitals_and_accents(
    db: Database, clock: ManualClock
) -> None:
    ariege = await add_caf(db, "Caf de l'Ariège", clock.now())
    for asked in ("CAF DE L'ARIÈGE", "  caf de l'ariège ", "Caf de l'Ariège"):
        assert await cafs.get_by_name(db, asked) == ariege
    assert await cafs.get_by_name(db, "Caf de l'Ariege") is None  # another word
    with pytest.raises(cafs.DuplicateCaf):
        await add_caf(db, "CAF DE L'ARIÈGE", clock.now())
    assert [caf.name for caf in await cafs.list_all(db)] == ["Caf de l'Ariège"]


async def test_cafs_are_listed_by_name(db: Database, clock: ManualClock) -> None:
    for name in ("Caf de la Somme", "Caf de l'Aisne", "Caf de l'Oise"):
        await add_caf(db, name, clock.now())
    names = [caf.name for caf in await cafs.list_all(db)]
    assert names == sorted(names) and len(names) == 3


async def test_each_setting_changes_alone(db: Database, clock: ManualClock) -> None:
    caf = await add_caf(db, "Caf de la Somme", clock.now(), ReportingPeriod.MONTHLY)
    other = await add_caf(db, "Caf de l'Oise", clock.now())

    await cafs.update(db, caf.id, period=ReportingPeriod.QUARTERLY)
    await cafs.update(db, caf.id, timezone="Indian/Reunion")
    await cafs.update(db, caf.id, notify_chat_id=-100777)
    changed = await cafs.get(db, caf.id)
    assert changed is not None
    assert (changed.reporting_period, changed.timezone, changed.notify_chat_id) == (
        ReportingPeriod.QUARTERLY,
        "Indian/Reunion",
        -100777,
    )
    assert changed.name == caf.name

    await cafs.update(db, caf.id)  # nothing asked, nothing changed
    assert await cafs.get(db, caf.id) == changed

    await cafs.update(db, caf.id, clear_notify_chat=True, name="Caf de la Somme et du Ponthieu")
    renamed = await cafs.get(db, caf.id)
    assert renamed is not None
    assert renamed.notify_chat_id is None and renamed.name == "Caf de la Somme et du Ponthieu"
    assert await cafs.get_by_name(db, "caf de la somme et du ponthieu") == renamed
    assert await cafs.get(db, other.id) == other  # the other Caf untouched


async def test_a_logo_is_set_and_removed(db: Database, clock: ManualClock) -> None:
    caf = await add_caf(db, "Caf de la Somme", clock.now())
    await cafs.set_logo(db, caf.id, "/srv/pnc/logo.png")
    with_logo = await cafs.get(db, caf.id)
    assert with_logo is not None and with_logo.logo_path == "/srv/pnc/logo.png"
    await cafs.set_logo(db, caf.id, None)
    without = await cafs.get(db, caf.id)
    assert without is not None and without.logo_path is None


async def test_a_town_is_set_and_removed(db: Database, clock: ManualClock) -> None:
    caf = await add_caf(db, "Caf de la Somme", clock.now())
    assert caf.city is None  # until given: certificates leave « Fait à » blank
    await cafs.set_city(db, caf.id, "Amiens")
    with_town = await cafs.get(db, caf.id)
    assert with_town is not None and with_town.city == "Amiens"
    await cafs.set_city(db, caf.id, None)
    without = await cafs.get(db, caf.id)
    assert without is not None and without.city is None
