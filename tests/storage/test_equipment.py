"""Contract of storage/equipment.py, through its functions only: a site's equipment list told
item by item, read back, and the items each site of a Caf lists as missing."""

from __future__ import annotations

from storage import equipment as store
from storage.db import Database
from tests.storage.world import Network


async def test_a_site_s_list_is_told_item_by_item_and_read_back(
    db: Database, network: Network
) -> None:
    assert await store.of_site(db, network.ham.id) == {}
    async with db.transaction() as tx:
        await store.declare(tx, network.ham.id, "scanner", True, network.now)
        await store.declare(tx, network.ham.id, "printer", False, network.now)
        await store.declare(tx, network.ham.id, "scanner", False, network.now)  # changed
        await store.declare(tx, network.laon.id, "internet", False, network.now)
    assert await store.of_site(db, network.ham.id) == {"scanner": False, "printer": False}
    assert await store.of_site(db, network.albert.id) == {}
    # In the list's order, site by site, Caf by Caf.
    missing = {network.ham.id: ("Scanner", "Imprimante")}
    assert await store.missing_by_site(db, network.somme.id) == missing
    assert await store.missing_by_site(db, network.somme.id, network.albert.id) == {}
    assert await store.missing_by_site(db, network.aisne.id) == {
        network.laon.id: ("Accès à Internet",)
    }
