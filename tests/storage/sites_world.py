"""A small world for the site repositories' contract tests (hours, closures): two Cafs,
three sites, a manager at Ham. Built only through the repositories' public functions, so it
serves any database engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.models import Caf, Partner, Person, ReportingPeriod
from bot.domain.permissions import Role
from storage import cafs, invitations, partners, people
from storage.db import Database

TODAY = date(2026, 11, 26)  # the day of the `clock` fixture's start, in Paris


@dataclass
class Sites:
    caf: Caf
    ham: Partner
    albert: Partner
    laon: Partner  # another Caf's
    manager: Person  # Ham's


async def build(db: Database, now: datetime) -> Sites:
    async with db.transaction() as tx:
        somme, aisne = [
            await cafs.add(
                tx,
                name=name,
                period=ReportingPeriod.QUARTERLY,
                timezone="Europe/Paris",
                notify_chat_id=None,
                now=now,
            )
            for name in ("Caf de la Somme", "Caf de l'Aisne")
        ]
        ham, albert, laon = [
            await partners.add(tx, caf_id=caf.id, name=name, city=city, address="", now=now)
            for caf, name, city in (
                (somme, "Mairie de Ham", "Ham"),
                (somme, "France Services Albert", "Albert"),
                (aisne, "Mairie de Laon", "Laon"),
            )
        ]
        _, invitation = await invitations.create(
            tx,
            role=Role.MANAGER,
            caf_id=somme.id,
            partner_id=ham.id,
            uses=1,
            expires_at=now + timedelta(days=7),
            created_by=None,
            now=now,
        )
        manager = await people.register(
            tx, telegram_user_id=7001, display_name="Marc", invitation=invitation, now=now
        )
    return Sites(somme, ham, albert, laon, manager)
