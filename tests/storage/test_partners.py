"""Contract of storage/partners.py, through its functions only: a site is added once per name
and town in its Caf, with an active label; its label, fields and convention change."""

from __future__ import annotations

from datetime import date

import pytest

from bot.clock import ManualClock
from bot.domain.permissions import LabelStatus
from storage import partners
from storage.db import Database
from tests.storage.world import Network, add_site


async def test_a_new_site_has_an_active_label_and_a_convention_from_today(
    db: Database, clock: ManualClock, network: Network
) -> None:
    somme, now, address = network.somme.id, clock.now(), "12, rue du Général-Leclerc"
    site = await partners.add(
        db, caf_id=somme, name="Centre social Étouvie", city="Amiens", address=address, now=now
    )
    assert await partners.get(db, site.id) == site
    assert (site.caf_id, site.name, site.city, site.address) == (
        network.somme.id,
        "Centre social Étouvie",
        "Amiens",
        "12, rue du Général-Leclerc",
    )
    assert site.label_status is LabelStatus.ACTIVE
    assert site.label_status_since == clock.now() and site.label_reason is None
    assert site.convention_start == clock.now().date()
    assert site.title == "Centre social Étouvie (Amiens)"
    started = await partners.add(
        db,
        caf_id=somme,
        name="Pôle Enfance Famille",
        city="Péronne",
        address="",
        now=now,
        convention_start=date(2025, 3, 15),
    )
    assert started.convention_start == date(2025, 3, 15)
    assert await partners.get(db, started.id + 100) is None


async def test_a_name_is_taken_once_per_town_and_caf(
    db: Database, clock: ManualClock, network: Network
) -> None:
    somme, aisne = network.somme.id, network.aisne.id
    with pytest.raises(partners.DuplicatePartner):
        await add_site(db, somme, "Mairie de Ham", "Ham", clock.now())
    # Another town of the Caf, or another Caf: a site of its own.
    await add_site(db, somme, "Mairie de Ham", "Eppeville", clock.now())
    await add_site(db, aisne, "Mairie de Ham", "Ham", clock.now())
    assert await partners.exists(db, caf_id=somme, name="Mairie de Ham", city="Ham")
    assert not await partners.exists(
        db, caf_id=somme, name="Mairie de Ham", city="Ham", exclude_id=network.ham.id
    )
    assert not await partners.exists(db, caf_id=somme, name="Mairie de Nesle", city="")


async def test_add_many_adds_the_new_and_names_the_duplicates(
    db: Database, clock: ManualClock, network: Network
) -> None:
    async with db.transaction() as tx:
        added, skipped = await partners.add_many(
            tx,
            caf_id=network.somme.id,
            rows=[
                ("Mairie de Nesle", "Nesle", "1 place de la Mairie"),
                ("Mairie de Ham", "Ham", ""),
                ("Médiathèque de Roye", "Roye", "", date(2024, 9, 1)),
            ],
            now=clock.now(),
        )
    assert [p.name for p in added] == ["Mairie de Nesle", "Médiathèque de Roye"]
    assert skipped == ["Mairie de Ham (Ham)"]
    assert added[1].convention_start == date(2024, 9, 1)
    assert added[0].convention_start == clock.now().date()


async def test_sites_are_listed_by_name_and_town_within_their_caf(
    db: Database, clock: ManualClock, network: Network
) -> None:
    await add_site(db, network.somme.id, "Mairie de Ham", "Eppeville", clock.now())
    somme = await partners.list_for_caf(db, network.somme.id)
    assert [p.title for p in somme] == [
        "France Services Albert (Albert)",
        "Mairie de Ham (Eppeville)",
        "Mairie de Ham (Ham)",
    ]
    assert [p.id for p in await partners.list_for_caf(db, network.aisne.id)] == [network.laon.id]
    everything = await partners.list_all(db)
    assert {p.id for p in everything} == {p.id for p in somme} | {network.laon.id}
    assert [p.caf_id for p in everything] == sorted(p.caf_id for p in everything)


async def test_a_label_change_is_kept_with_its_reason_and_history(
    db: Database, clock: ManualClock, network: Network
) -> None:
    clock.advance(days=3)
    async with db.transaction() as tx:
        first = await partners.set_label(
            tx,
            network.ham.id,
            status=LabelStatus.SUSPENDED,
            reason="Indicateurs non transmis.",
            now=clock.now(),
            by=None,
        )
    suspended = await partners.get(db, network.ham.id)
    assert suspended is not None
    assert suspended.label_status is LabelStatus.SUSPENDED
    assert suspended.label_reason == "Indicateurs non transmis."
    assert suspended.label_status_since == clock.now()
    clock.advance(days=1)
    second = await partners.set_label(
        db, network.ham.id, status=LabelStatus.ACTIVE, reason="Reçus.", now=clock.now(), by=None
    )
    assert second > first > 0
    active = await partners.get(db, network.ham.id)
    assert active is not None and active.label_status is LabelStatus.ACTIVE
    other = await partners.get(db, network.albert.id)
    assert other == network.albert


async def test_name_town_and_address_change_one_at_a_time(db: Database, network: Network) -> None:
    await partners.update_field(db, network.ham.id, "address", "1 place de l'Hôtel de Ville")
    await partners.update_field(db, network.ham.id, "name", "Mairie d'Ham")
    await partners.update_field(db, network.ham.id, "city", "Ham (Somme)")
    site = await partners.get(db, network.ham.id)
    assert site is not None
    assert (site.name, site.city, site.address) == (
        "Mairie d'Ham",
        "Ham (Somme)",
        "1 place de l'Hôtel de Ville",
    )
    with pytest.raises(ValueError):
        await partners.update_field(db, network.ham.id, "label_status", "withdrawn")
    unchanged = await partners.get(db, network.ham.id)
    assert unchanged is not None and unchanged.label_status is LabelStatus.ACTIVE


async def test_the_convention_start_is_set(db: Database, network: Network) -> None:
    await partners.set_convention_start(db, network.ham.id, date(2025, 3, 15))
    site = await partners.get(db, network.ham.id)
    assert site is not None and site.convention_start == date(2025, 3, 15)
    other = await partners.get(db, network.albert.id)
    assert other is not None and other.convention_start == network.albert.convention_start


async def test_a_site_logo_is_set_and_removed(db: Database, network: Network) -> None:
    site = network.ham
    assert site.logo_path is None
    await partners.set_logo(db, site.id, "/srv/pnc/ham.png")
    with_logo = await partners.get(db, site.id)
    assert with_logo is not None and with_logo.logo_path == "/srv/pnc/ham.png"
    await partners.set_logo(db, site.id, None)
    without = await partners.get(db, site.id)
    assert without is not None and without.logo_path is None
