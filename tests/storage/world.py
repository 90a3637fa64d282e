"""The world of the storage and service tests, built only through the repositories' public
functions (so that it serves any database engine) and the way the bot builds it: two Cafs
and their three sites, created long before the clock's now; people who join through an
invitation of their own; visits saved as a draft, then the visit closing it.

tests/storage/conftest.py serves it as fixtures: `network`, `staff`, `corinne`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.domain import secrecy, taxonomy
from bot.domain.models import Caf, Invitation, Partner, Person, ReportingPeriod
from bot.domain.permissions import Role
from bot.domain.visit_log import DraftRecord
from bot.domain.visits import Answers, RequestAnswer, new_draft
from storage import cafs, invitations, partners, people, visits
from storage.db import Conn, Database

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 11, 26)  # the day of the `clock` fixture's start, in Paris
QUARTERLY = ReportingPeriod.QUARTERLY
AGE = timedelta(days=400)  # how long before now the network was set up: Q3 2026 is covered


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


async def add_caf(
    conn: Conn, name: str, now: datetime, period: ReportingPeriod = QUARTERLY, **settings: Any
) -> Caf:
    """A Caf of mainland France without a notification group, unless `settings` (its
    `timezone`, its `notify_chat_id`) say otherwise."""
    settings = {"timezone": "Europe/Paris", "notify_chat_id": None} | settings
    return await cafs.add(conn, name=name, period=period, now=now, **settings)


async def add_site(conn: Conn, caf_id: int, name: str, city: str, now: datetime) -> Partner:
    """A site without an address, its convention starting the day it is added."""
    return await partners.add(conn, caf_id=caf_id, name=name, city=city, address="", now=now)


async def invite(
    conn: Conn, now: datetime, role: Role, at: Caf | Partner, *, uses: int = 1, days: int = 7
) -> tuple[str, Invitation]:
    """An invitation to a site (an agent's, a manager's) or to a Caf (a coordinator's)."""
    caf_id, site_id = (at.caf_id, at.id) if isinstance(at, Partner) else (at.id, None)
    return await invitations.create(
        conn,
        role=role,
        caf_id=caf_id,
        partner_id=site_id,
        uses=uses,
        expires_at=now + timedelta(days=days),
        created_by=None,
        now=now,
    )


async def join(
    conn: Conn, now: datetime, role: Role, at: Caf | Partner, telegram_user_id: int, name: str
) -> Person:
    """A person registered through an invitation of their own, as /start does it."""
    _, invitation = await invite(conn, now, role, at)
    assert await invitations.consume(conn, invitation.id, now)
    person = await people.register(
        conn, telegram_user_id=telegram_user_id, display_name=name, invitation=invitation, now=now
    )
    if "secrecy_version" not in person.model_fields_set:
        return person  # a database from before migration 0013 (a migration's own test)
    # Article 5: they commit to secrecy before anything else, as the bot asks them to.
    await people.commit_secrecy(conn, person.id, secrecy.SECRECY_VERSION, now)
    found = await people.get(conn, person.id)
    assert found is not None
    return found


def answers(
    *,
    sexe: str = "femme",
    age: str | None = "25_60",
    requests: tuple[tuple[str, tuple[str, ...]], ...] = (("simulation", ("info_conseil",)),),
    themes: tuple[str, ...] = ("logement_cadre_de_vie",),
    resolution: str = "oui",
) -> Answers:
    """A visit's answers, complete; a legal person is never asked an age."""
    return Answers(
        sexe=sexe,
        age=None if sexe == taxonomy.LEGAL_PERSON else age,
        statut="allocataire",
        autonomie="debutant",
        requests=[RequestAnswer(demande=d, actions=list(a)) for d, a in requests],
        themes=list(themes),
        themes_done=True,
        resolution=resolution,
    )


async def start_draft(
    db: Database, now: datetime, who: Person, *, training: bool = False, editing: int | None = None
) -> DraftRecord:
    """A visit's draft opened by `who` at their site, in a chat of their own."""
    assert who.partner_id is not None
    async with db.transaction() as tx:
        return await visits.start_draft(
            tx,
            person_id=who.id,
            partner_id=who.partner_id,
            chat_id=who.id * 10,
            training=training,
            draft=new_draft(),
            now=now,
            editing_visit_id=editing,
        )


async def log_visit(
    db: Database, now: datetime, who: Person, given: Answers, at: datetime, training: bool = False
) -> int:
    """A visit saved the way the bot saves one: a draft, then the visit closing it."""
    record = await start_draft(db, now, who, training=training)
    async with db.transaction() as tx:
        saved = await visits.save_visit(
            tx, record, given, caf_id=who.caf_id, visited_at=at, now=now
        )
    assert saved is not None
    return saved


@dataclass
class Network:
    """Caf de la Somme (Ham, Albert) and Caf de l'Aisne (Laon), which report by quarter."""

    db: Database
    clock: ManualClock
    somme: Caf
    aisne: Caf
    ham: Partner
    albert: Partner
    laon: Partner  # the Aisne's
    agents: dict[int, Person] = field(default_factory=dict)  # by site, as `agent_of` adds them

    @property
    def now(self) -> datetime:
        return self.clock.now()

    async def join(self, role: Role, at: Caf | Partner, telegram_user_id: int, name: str) -> Person:
        """Someone who joins now, at a site or (a coordinator) at a Caf."""
        async with self.db.transaction() as tx:
            return await join(tx, self.now, role, at, telegram_user_id, name)

    async def agent_of(self, site: Partner) -> Person:
        """The site's own agent, « Agent <town> », who joins when first asked for."""
        if site.id not in self.agents:
            agent = await self.join(Role.AGENT, site, 7100 + site.id, f"Agent {site.city}")
            self.agents[site.id] = agent
        return self.agents[site.id]

    async def visit(
        self, site: Partner, at: datetime, given: Answers | None = None, *, training: bool = False
    ) -> int:
        """A visit at the site by its own agent, saved now."""
        agent = await self.agent_of(site)
        return await log_visit(self.db, self.now, agent, given or answers(), at, training)


async def build(db: Database, clock: ManualClock) -> Network:
    """The two Cafs and their sites, set up AGE before the clock's now."""
    then = clock.now() - AGE
    async with db.transaction() as tx:
        somme = await add_caf(tx, "Caf de la Somme", then)
        aisne = await add_caf(tx, "Caf de l'Aisne", then)
        ham = await add_site(tx, somme.id, "Mairie de Ham", "Ham", then)
        albert = await add_site(tx, somme.id, "France Services Albert", "Albert", then)
        laon = await add_site(tx, aisne.id, "Mairie de Laon", "Laon", then)
    return Network(db, clock, somme, aisne, ham, albert, laon)


@dataclass
class Staff:
    """The network's people, who joined in this order, their Telegram ids from 7001 up."""

    coordinator: Person  # Corinne, the Somme's
    manager: Person  # Marc, Ham's
    agent: Person  # Agnès, Ham's
    albert_agent: Person  # Bruno
    aisne_coordinator: Person  # Odile
    laon_agent: Person  # Lucie

    def by_name(self) -> dict[str, Person]:
        return {person.display_name: person for person in vars(self).values()}


async def staff(network: Network) -> Staff:
    cast: list[tuple[Role, Caf | Partner, str]] = [
        (Role.COORDINATOR, network.somme, "Corinne"),
        (Role.MANAGER, network.ham, "Marc"),
        (Role.AGENT, network.ham, "Agnès"),
        (Role.AGENT, network.albert, "Bruno"),
        (Role.COORDINATOR, network.aisne, "Odile"),
        (Role.AGENT, network.laon, "Lucie"),
    ]
    joined = [
        await network.join(role, at, 7001 + n, name) for n, (role, at, name) in enumerate(cast)
    ]
    return Staff(*joined)
