"""Contract of storage/documents.py, through its functions only: each Caf's list of links and
files, positions 1, 2, 3… without gaps, and ids never reused after a removal."""

from __future__ import annotations

from typing import Any

import pytest

from bot.clock import ManualClock
from bot.domain.documents import Direction, Document, FileKind
from storage import documents
from storage.db import Database
from tests.storage.world import Network


async def add(
    db: Database, clock: ManualClock, caf_id: int, title: str, **content: Any
) -> Document:
    """A document added now by nobody (the command line): a link to caf.fr, unless `content`
    says what it is (its url, or its file_id, file_kind and file_name)."""
    content = content or {"url": "https://www.caf.fr/"}
    async with db.transaction() as tx:
        return await documents.add(
            tx, caf_id=caf_id, title=title, created_by=None, now=clock.now(), **content
        )


async def titles(db: Database, caf_id: int) -> list[tuple[int, str]]:
    return [(d.position, d.title) for d in await documents.list_for_caf(db, caf_id)]


async def test_items_are_appended_in_order_each_caf_its_own_list(
    db: Database, clock: ManualClock, network: Network
) -> None:
    somme, aisne = network.somme.id, network.aisne.id
    guide = await add(db, clock, somme, "Guide")
    await add(db, clock, aisne, "Annuaire")
    await add(db, clock, somme, "Fiches")
    assert await titles(db, somme) == [(1, "Guide"), (2, "Fiches")]
    assert await titles(db, aisne) == [(1, "Annuaire")]
    found = await documents.get(db, guide.id)
    assert found == guide
    assert (found.is_link, found.url, found.file_kind) == (True, "https://www.caf.fr/", None)
    assert await documents.get(db, guide.id + 100) is None


async def test_a_file_keeps_its_id_only_and_its_kind_shows_in_its_name(
    db: Database, clock: ManualClock, network: Network
) -> None:
    caf = network.somme.id
    photo = await add(
        db, clock, caf, "Affiche", file_id="AgAD-photo", file_kind=FileKind.PHOTO, file_name="a.jpg"
    )  # a photo's name is not kept
    nameless = await add(db, clock, caf, "Guide", file_id="BQAD-doc", file_kind=FileKind.DOCUMENT)
    assert (photo.file_kind, photo.file_name, photo.is_link) == (FileKind.PHOTO, None, False)
    assert (nameless.file_kind, nameless.file_name) == (FileKind.DOCUMENT, "document")
    with pytest.raises(ValueError):  # both a link and a file
        await add(db, clock, caf, "X", url="https://a.fr/", file_id="F", file_kind=FileKind.PHOTO)
    with pytest.raises(ValueError):  # a file without its kind
        await add(db, clock, caf, "X", file_id="F")


@pytest.fixture
async def abc(db: Database, clock: ManualClock, network: Network) -> list[Document]:
    """Links A, B and C, in this order, in the Somme's list."""
    return [await add(db, clock, network.somme.id, title) for title in "ABC"]


async def test_moving_swaps_with_the_neighbour_and_stops_at_the_ends(
    db: Database, network: Network, abc: list[Document]
) -> None:
    caf, (a, b, c) = network.somme.id, abc
    async with db.transaction() as tx:
        moved = await documents.move(tx, c.id, Direction.UP)
    assert moved is not None and moved.position == 2
    assert await titles(db, caf) == [(1, "A"), (2, "C"), (3, "B")]
    async with db.transaction() as tx:
        assert await documents.move(tx, a.id, Direction.UP) is None
        assert await documents.move(tx, b.id, Direction.DOWN) is None
        assert await documents.move(tx, a.id + 100, Direction.DOWN) is None
    assert await titles(db, caf) == [(1, "A"), (2, "C"), (3, "B")]


async def test_removing_closes_the_gap_once_and_leaves_a_tombstone(
    db: Database, clock: ManualClock, network: Network, abc: list[Document]
) -> None:
    caf, (a, b, _) = network.somme.id, abc
    async with db.transaction() as tx:
        removed = await documents.remove(tx, b.id, actor_id=None, now=clock.now())
    assert removed is not None and removed.title == "B"
    assert await titles(db, caf) == [(1, "A"), (2, "C")]
    async with db.transaction() as tx:
        assert await documents.remove(tx, b.id, actor_id=None, now=clock.now()) is None
    assert await documents.get(db, b.id) is None
    assert await documents.was_removed(db, caf, b.id)
    assert not await documents.was_removed(db, network.aisne.id, b.id)
    assert not await documents.was_removed(db, caf, a.id)


async def test_an_id_is_never_given_again_after_a_removal(
    db: Database, clock: ManualClock, network: Network
) -> None:
    caf = network.somme.id
    last = await add(db, clock, caf, "Dernier")
    async with db.transaction() as tx:
        await documents.remove(tx, last.id, actor_id=None, now=clock.now())
    newer = await add(db, clock, caf, "Nouveau")
    assert newer.id > last.id
    assert newer.position == 1
