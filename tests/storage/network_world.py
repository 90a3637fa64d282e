"""A small network for the contract tests of cafs, partners, invitations, people and audit:
two Cafs, three sites, built only through the repositories' public functions (so that it
serves any database engine)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.models import Caf, Partner, Person, ReportingPeriod
from bot.domain.permissions import Role
from storage import cafs, invitations, partners, people
from storage.db import Conn, Database


@dataclass
class Network:
    somme: Caf
    aisne: Caf
    ham: Partner  # the Somme's
    albert: Partner  # the Somme's
    laon: Partner  # the Aisne's


async def add_caf(conn: Conn, name: str, now: datetime) -> Caf:
    return await cafs.add(
        conn,
        name=name,
        period=ReportingPeriod.MONTHLY,
        timezone="Europe/Paris",
        notify_chat_id=None,
        now=now,
    )


async def build(db: Database, now: datetime) -> Network:
    async with db.transaction() as tx:
        somme = await add_caf(tx, "Caf de la Somme", now)
        aisne = await add_caf(tx, "Caf de l'Aisne", now)
        ham, albert, laon = [
            await partners.add(tx, caf_id=caf.id, name=name, city=city, address="", now=now)
            for caf, name, city in (
                (somme, "Mairie de Ham", "Ham"),
                (somme, "France Services Albert", "Albert"),
                (aisne, "Mairie de Laon", "Laon"),
            )
        ]
    return Network(somme, aisne, ham, albert, laon)


async def join(
    db: Database,
    now: datetime,
    *,
    role: Role,
    caf: Caf,
    partner: Partner | None,
    telegram_user_id: int,
    name: str,
) -> Person:
    """A person registered through an invitation of their own, as /start does it."""
    async with db.transaction() as tx:
        _, invitation = await invitations.create(
            tx,
            role=role,
            caf_id=caf.id,
            partner_id=partner.id if partner else None,
            uses=1,
            expires_at=now + timedelta(days=7),
            created_by=None,
            now=now,
        )
        assert await invitations.consume(tx, invitation.id, now)
        return await people.register(
            tx,
            telegram_user_id=telegram_user_id,
            display_name=name,
            invitation=invitation,
            now=now,
        )
