"""A small world for the reporting repositories' contract tests (indicators, period
reports): two Cafs, their sites, an agent a site, visits saved as the bot saves them. Built
only through the repositories' public functions, so it serves any database engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.models import Caf, Partner, Person, ReportingPeriod
from bot.domain.permissions import Role
from bot.domain.visits import Answers, Draft, RequestAnswer
from storage import cafs, invitations, partners, people, visits
from storage.db import Database, Tx

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


@dataclass
class World:
    db: Database
    caf: Caf
    other_caf: Caf
    ham: Partner
    albert: Partner
    laon: Partner  # the other Caf's
    agents: dict[int, Person]  # by site id
    now: datetime

    async def visit(
        self,
        site: Partner,
        at: datetime,
        *,
        sexe: str = "femme",
        age: str | None = "25_60",
        resolution: str = "oui",
        requests: tuple[tuple[str, tuple[str, ...]], ...] = (("simulation", ("info_conseil",)),),
        themes: tuple[str, ...] = ("logement_cadre_de_vie",),
        training: bool = False,
    ) -> int:
        """One visit saved in its own transaction: a draft, then the visit."""
        answers = Answers(
            sexe=sexe,
            age=age,
            statut="allocataire",
            autonomie="debutant",
            requests=[RequestAnswer(demande=d, actions=list(a)) for d, a in requests],
            themes=list(themes),
            themes_done=True,
            resolution=resolution,
        )
        async with self.db.transaction() as tx:
            record = await visits.start_draft(
                tx,
                person_id=self.agents[site.id].id,
                partner_id=site.id,
                chat_id=1,
                training=training,
                draft=Draft(),
                now=self.now,
            )
            saved = await visits.save_visit(
                tx, record, answers, caf_id=site.caf_id, visited_at=at, now=self.now
            )
        assert saved is not None
        return saved


async def _join(
    tx: Tx, site: Partner, role: Role, telegram_user_id: int, name: str, now: datetime
) -> Person:
    """A person of the site, through an invitation as anyone joins."""
    _, invitation = await invitations.create(
        tx,
        role=role,
        caf_id=site.caf_id,
        partner_id=site.id,
        uses=1,
        expires_at=now + timedelta(days=7),
        created_by=None,
        now=now,
    )
    return await people.register(
        tx, telegram_user_id=telegram_user_id, display_name=name, invitation=invitation, now=now
    )


async def build(db: Database, now: datetime) -> World:
    """Caf de la Somme (Ham, Albert) and Caf de l'Aisne (Laon), created long before `now`."""
    since = now - timedelta(days=400)
    async with db.transaction() as tx:
        somme, aisne = [
            await cafs.add(
                tx,
                name=name,
                period=ReportingPeriod.QUARTERLY,
                timezone="Europe/Paris",
                notify_chat_id=None,
                now=since,
            )
            for name in ("Caf de la Somme", "Caf de l'Aisne")
        ]
        sites = [
            await partners.add(tx, caf_id=caf.id, name=name, city=city, address="", now=since)
            for caf, name, city in (
                (somme, "Mairie de Ham", "Ham"),
                (somme, "France Services Albert", "Albert"),
                (aisne, "Mairie de Laon", "Laon"),
            )
        ]
        agents = {
            site.id: await _join(tx, site, Role.AGENT, 7000 + n, f"Agent {site.city}", since)
            for n, site in enumerate(sites, start=1)
        }
    ham, albert, laon = sites
    return World(db, somme, aisne, ham, albert, laon, agents=agents, now=now)


async def add_manager(world: World, site: Partner, telegram_user_id: int) -> Person:
    async with world.db.transaction() as tx:
        name = f"Responsable {site.city}"
        return await _join(tx, site, Role.MANAGER, telegram_user_id, name, world.now)
