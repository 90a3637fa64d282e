"""Contract of storage/terminations.py, through its functions only: one notice standing per
site, withdrawn or taken effect once, listed by Caf while it stands."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from bot.domain.models import Person
from bot.domain.termination import Party
from storage import terminations
from tests.storage.world import Network


async def give(network: Network, site_id: int, by: Person | None, on: date) -> int:
    async with network.db.transaction() as tx:
        return await terminations.record(
            tx,
            partner_id=site_id,
            by_party=Party.CAF,
            recorded_by=by.id if by else None,
            effective_on=on,
            reason="Fin du partenariat.",
            now=network.now,
        )


async def test_a_notice_stands_until_withdrawn_once(network: Network, corinne: Person) -> None:
    notice = await give(network, network.ham.id, corinne, date(2027, 3, 10))
    standing = await terminations.standing(network.db, network.ham.id)
    assert standing is not None and standing.id == notice
    assert (standing.by_party, standing.effective_on) == (Party.CAF, date(2027, 3, 10))
    assert standing.recorded_by == corinne.id
    assert await terminations.standing(network.db, network.albert.id) is None
    assert set(await terminations.standing_for_caf(network.db, network.somme.id)) == {
        network.ham.id
    }
    assert await terminations.standing_for_caf(network.db, network.aisne.id) == {}

    async with network.db.transaction() as tx:
        assert await terminations.cancel(tx, notice, corinne.id, network.now)
        assert not await terminations.cancel(tx, notice, corinne.id, network.now)
        assert not await terminations.mark_done(tx, notice, network.now)
    assert await terminations.standing(network.db, network.ham.id) is None
    found = await terminations.get(network.db, notice)
    assert found is not None and found.cancelled_by == corinne.id and found.done_at is None


async def test_one_notice_per_site_takes_effect_once(network: Network, corinne: Person) -> None:
    notice = await give(network, network.ham.id, corinne, date(2027, 3, 10))
    with pytest.raises(sqlite3.IntegrityError):
        await give(network, network.ham.id, None, date(2028, 3, 10))
    async with network.db.transaction() as tx:
        assert await terminations.mark_done(tx, notice, network.now)
        assert not await terminations.mark_done(tx, notice, network.now)
    assert await terminations.standing(network.db, network.ham.id) is None
    # Once it took effect, a new notice may be recorded (a site labelled again later).
    assert await give(network, network.ham.id, None, date(2028, 3, 10)) != notice
