"""The demo's network (`python -m bot demo`, issue #18): a Caf worth looking at, seeded as of
`now` through the same services as real use.

What it holds, every date counted back from `now` in the Caf's zone (Europe/Paris):
- « Caf de la Somme (démo) », quarterly, whose certificates are « Fait à Amiens »;
- 5 sites of the Somme with declared hours (a France Services, two town halls, a centre
  social, an association); the association's label is suspended two weeks ago;
- a coordinator, two managers and four agents (`PEOPLE`, Telegram ids 1001…1007, which are
  also their chat ids in the demo's fake Bot API); the second manager works at two sites (the
  town halls of Corbie and Fouilloy) and says each day which one (📍);
- three months of visits (`VISIT_DAYS` days, today's before `now` included), on the days
  and within the hours each site is open, never on a public holiday nor a closed day, a
  realistic mix of the Annexe 2 taxonomy drawn with a fixed seed: about 1,200 visits;
- the new agents' training needs (raised by their joining) dealt with long ago; a past
  closure of Corbie, noted by the Caf; and open now: a difficulty, a training need being
  answered, a closure of Doullens next week;
- an information sent three weeks ago; a training day in three weeks, published ten days
  ago, answered by five of the six people invited; five documentation links;
- a must-read notice sent by the coordinator three quarters of an hour before `now`.
Everyone committed to professional secrecy (Article 5) when they joined: an agent's /start
goes straight to the menu.

Every step is a use case of bot/services, called as the bot's handlers call it, at the
moment it happens (the `now` of each call is that moment; the calls are grouped by kind
rather than in strict time order, which changes nothing stored): people join through
invitations (`invitations.redeem` with their Telegram id, then `secrecy.commit`), visits are
logged tap by tap (`visits.open_visit`, then `visits.tap` for each answer, as the buttons
do, with the same checks), hours, closures, labels, signals, broadcasts, events and
documentation through their own services. Nothing is written by hand. The tap path is fast
enough (about 1.5 ms a visit): the whole seed takes 2 to 4 s on 2 idle cores (fsyncs
included), about twice that on a loaded machine.

The outbox, afterwards (`_deliver`): the services queued what the bot would have sent over
these three months (notices to the coordinator, replies to signals, the event's invitations
and calendar files, a label notice…). The demo's chats start empty, so those are taken as
delivered when they were queued (claimed and marked sent through storage/outbox.py, as the
sender does; the information broadcast then settled by `broadcasts.settle_sending`). Only
the must-read notice stays queued: when the bot starts, it is the first message in the chat
of each of its six readers (the sites' people), with its « J'ai lu » button; the
coordinator's chat starts empty. Scheduled work left: the training day's reminders (ahead),
the directory's publication and the new agents' notice (due, but it finds nothing left to
tell: `signal_notices.announce_new_agents` ran when it was due). What the bot's own hourly
morning run sends later (periods to validate…) is the bot's, as in real use.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.domain import taxonomy
from bot.domain.calendar import is_public_holiday
from bot.domain.events import STEPS, EventKind
from bot.domain.models import Caf, Member, Partner, ReportingPeriod
from bot.domain.opening_hours import Period, day_mask
from bot.domain.permissions import LabelStatus, Role
from bot.domain.signals import SignalKind
from bot.domain.visit_log import Advanced, Saved, Shown
from bot.domain.visits import Op
from bot.services import (
    broadcasts,
    cafs,
    closures,
    documentation,
    events,
    hours,
    invitations,
    labels,
    partners,
    pending_input,
    people,
    secrecy,
    signal_notices,
    signals,
    visits,
    work_site,
)
from bot.ui.screens.events import Created, Step
from storage import outbox
from storage.db import Database

__all__ = ["CAF_NAME", "PEOPLE", "DemoNetwork", "DemoPerson", "seed"]

CAF_NAME = "Caf de la Somme (démo)"
CAF_CITY = "Amiens"
TIMEZONE = "Europe/Paris"
RANDOM_SEED = 18  # the number: the same visits at every reset
FIRST_TELEGRAM_ID = 1001
VISIT_DAYS = 91  # three months back from today (today included, before `now`)
# The network is set up this many days before `now`, a little before the first visits.
SETUP_DAYS = 100
NOTIFY_HOUR = 9  # Settings.notify_hour's default: when hours' first days are announced
REMINDER_HOUR = 9


# ------------------------------------------------------------------------------ the contract
@dataclass(frozen=True)
class DemoPerson:
    telegram_user_id: int  # 1001, 1002, …: also their chat id in the demo's fake Bot API
    first_name: str
    last_name: str
    role: Role
    site: str | None  # the site's name (their first, for someone of two); None: coordinator

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class DemoNetwork:
    caf_name: str
    people: tuple[DemoPerson, ...]  # coordinator first, then managers, then agents


# ------------------------------------------------------------------------------ the network
@dataclass(frozen=True)
class _Site:
    key: str
    name: str
    city: str
    address: str
    # Weekday (0 = Monday) → opening periods, as (start hour, minute, end hour, minute).
    hours: dict[int, tuple[tuple[int, int, int, int], ...]]
    visits_per_day: float  # on an open day, on average


def _week(
    days: tuple[int, ...], *periods: tuple[int, int, int, int]
) -> dict[int, tuple[tuple[int, int, int, int], ...]]:
    return dict.fromkeys(days, periods)


_MORNING = (9, 0, 12, 0)
SITES: tuple[_Site, ...] = (
    _Site(
        "doullens",
        "France Services de Doullens",
        "Doullens",
        "Place de l'Hôtel de Ville",
        _week((0, 1, 2, 3, 4), (9, 0, 12, 0), (13, 30, 17, 0)),
        6.0,
    ),
    _Site(
        "corbie",
        "Mairie de Corbie",
        "Corbie",
        "Place de la République",
        _week((0, 2, 4), _MORNING, (14, 0, 17, 0)) | _week((1, 3), _MORNING),
        3.5,
    ),
    _Site(
        "peronne",
        "Centre social de Péronne",
        "Péronne",
        "Rue Saint-Sauveur",
        _week((0, 1, 2, 3), _MORNING, (14, 0, 18, 0)) | _week((4,), _MORNING),
        4.5,
    ),
    _Site(
        "abbeville",
        "Association Le Lien numérique",
        "Abbeville",
        "Rue des Lingers",
        _week((1, 2, 3, 4), (14, 0, 17, 30)) | _week((5,), _MORNING),
        3.0,
    ),
    _Site(
        "fouilloy",
        "Mairie de Fouilloy",
        "Fouilloy",
        "Rue Roger Salengro",
        _week((1, 3), _MORNING, (13, 30, 16, 30)),
        5.0,
    ),
)
SUSPENDED = "abbeville"
SUSPENSION_REASON = (
    "Visite annuelle : le plan d'actions demandé n'a pas encore été transmis. Le label reste "
    "en vigueur pendant l'examen."
)


@dataclass(frozen=True)
class _Person:
    first_name: str
    last_name: str
    role: Role
    sites: tuple[str, ...] = ()  # site keys; the first is where they work at first
    share: float = 1.0  # of their site's visits, against its other people's


_PEOPLE: tuple[_Person, ...] = (
    _Person("Sophie", "Lefebvre", Role.COORDINATOR),
    _Person("Marc", "Delattre", Role.MANAGER, ("doullens",), share=0.35),
    _Person("Nadia", "Benali", Role.MANAGER, ("corbie", "fouilloy"), share=0.5),
    _Person("Camille", "Martin", Role.AGENT, ("doullens",)),
    _Person("Julien", "Caron", Role.AGENT, ("corbie",)),
    _Person("Inès", "Moreau", Role.AGENT, ("peronne",)),
    _Person("Thomas", "Leroy", Role.AGENT, ("abbeville",)),
)
# Where the manager of two sites works, by weekday: the town hall of Fouilloy on its two
# days, Corbie's the others.
_FOUILLOY_DAYS = (1, 3)

PEOPLE: tuple[DemoPerson, ...] = tuple(
    DemoPerson(
        telegram_user_id=FIRST_TELEGRAM_ID + index,
        first_name=p.first_name,
        last_name=p.last_name,
        role=p.role,
        site=next(s.name for s in SITES if s.key == p.sites[0]) if p.sites else None,
    )
    for index, p in enumerate(_PEOPLE)
)

DOCUMENTS: tuple[tuple[str, str], ...] = (
    ("Caf.fr : le site des allocataires", "https://www.caf.fr/"),
    ("Caf de la Somme : actualités et contacts", "https://www.caf.fr/allocataires/caf-de-la-somme"),
    (
        "Prime d'activité : la fiche de service-public.fr",
        "https://www.service-public.fr/particuliers/vosdroits/F2882",
    ),
    (
        "Aide personnalisée au logement (APL) : la fiche de service-public.fr",
        "https://www.service-public.fr/particuliers/vosdroits/F12006",
    ),
    ("Service-public.fr : droits et démarches", "https://www.service-public.fr/"),
)

INFORMATION = (
    "<b>Nouveau dans la documentation</b>\n\n"
    "Les fiches de service-public.fr sur la prime d'activité et les aides au logement sont "
    "dans 📚 Documentation : elles aident à préparer une simulation avec la personne reçue."
)
MUST_READ = (
    "<b>Consigne : déclarations trimestrielles de ressources</b>\n\n"
    "Ce mois-ci, beaucoup de personnes viendront déclarer leurs ressources (RSA, prime "
    "d'activité). Accompagnez la déclaration en ligne sur caf.fr, sans jamais saisir "
    "vous-même les identifiants de la personne : elle les tape, vous guidez. En cas de "
    "blocage, signalez-le avec 📣 Signaler.\n\n"
    "Merci de confirmer votre lecture."
)


# ------------------------------------------------------------------------------ the visits
# Relative weights of the answers (an option not named weighs 1), as the Caf sees them.
_WEIGHTS: dict[str, dict[str, float]] = {
    "sexe": {"femme": 58, "homme": 38, "personne_morale": 4},
    "age": {"moins_25": 20, "25_60": 55, "plus_60": 25},
    "statut": {"allocataire": 75, "non_allocataire": 25},
    "autonomie": {"debutant": 45, "intermediaire": 35, "autonome": 20},
    "demande": {
        "simulation": 14,
        "demande_prestation": 22,
        "maintien_droit": 12,
        "paiements": 10,
        "courriers_notifications": 12,
        "agenda": 5,
        "attestations": 11,
        "situation_familiale": 5,
        "situation_pro": 6,
        "situation_enfants": 3,
        "coordonnees": 4,
    },
    "action": {
        "info_conseil": 14,
        "orientation": 7,
        "aide_redactionnelle": 5,
        "explication_courrier": 9,
        "accompagnement_demarche": 12,
        "accompagnement_en_ligne": 22,
        "usage_autonome": 6,
    },
    "theme": {
        "enfance_jeunesse": 20,
        "logement_cadre_de_vie": 35,
        "petite_enfance": 15,
        "solidarite_insertion": 30,
    },
    "resolution": {"oui": 70, "non": 10, "partiellement": 20},
}
_WEEKDAY_FACTOR = (1.2, 1.0, 0.9, 1.0, 0.8, 0.7, 0.0)  # Mondays are busier
TWO_REQUESTS = 0.2
TWO_ACTIONS = 0.25
NO_THEME = 0.1
TWO_THEMES = 0.15


def _pick(rng: random.Random, question: taxonomy.Question, taken: list[str] | None = None) -> str:
    shape = _WEIGHTS.get(question.code, {})
    codes = [c for c in question.codes if not taken or c not in taken]
    return rng.choices(codes, weights=[shape.get(c, 1.0) for c in codes])[0]


def _taps(rng: random.Random) -> list[tuple[Op, str]]:
    """One visit's buttons, in the order an agent taps them (8 for the shortest)."""
    sexe = _pick(rng, taxonomy.SEXE)
    taps = [(Op.ANSWER, sexe)]
    if taxonomy.asks_age(sexe):
        taps.append((Op.ANSWER, _pick(rng, taxonomy.AGE)))
    taps += [(Op.ANSWER, _pick(rng, taxonomy.STATUT)), (Op.ANSWER, _pick(rng, taxonomy.AUTONOMIE))]
    demandes = [_pick(rng, taxonomy.DEMANDE)]
    if rng.random() < TWO_REQUESTS:
        demandes.append(_pick(rng, taxonomy.DEMANDE, demandes))
    for number, demande in enumerate(demandes):
        if number:
            taps.append((Op.ADD, "demande"))
        taps.append((Op.ANSWER, demande))
        actions = [_pick(rng, taxonomy.ACTION)]
        taps.append((Op.ANSWER, actions[0]))
        if rng.random() < TWO_ACTIONS:
            actions.append(_pick(rng, taxonomy.ACTION, actions))
            taps += [(Op.ADD, "action"), (Op.ANSWER, actions[1])]
    if rng.random() < NO_THEME:
        taps.append((Op.SKIP_THEMES, ""))
    else:
        themes = [_pick(rng, taxonomy.THEME)]
        taps.append((Op.ANSWER, themes[0]))
        if rng.random() < TWO_THEMES:
            taps += [(Op.ADD, "theme"), (Op.ANSWER, _pick(rng, taxonomy.THEME, themes))]
    taps.append((Op.ANSWER, _pick(rng, taxonomy.RESOLUTION)))
    return taps


@dataclass(frozen=True)
class _Visit:
    at: datetime
    site: str
    person: int  # index in PEOPLE
    taps: list[tuple[Op, str]]


def _staff(site: str, day: date) -> list[tuple[int, float]]:
    """Who logs the site's visits that day, with their shares."""
    staff = []
    for index, p in enumerate(_PEOPLE):
        if len(p.sites) > 1:
            works_at = p.sites[1] if day.weekday() in _FOUILLOY_DAYS else p.sites[0]
        else:
            works_at = p.sites[0] if p.sites else ""
        if works_at == site:
            staff.append((index, p.share))
    return staff


def _open_minutes(site: _Site, day: date, tz: ZoneInfo) -> list[datetime]:
    """Each minute the site is open that day (its declared hours), as instants."""
    minutes = []
    for h1, m1, h2, m2 in site.hours.get(day.weekday(), ()):
        start = datetime.combine(day, time(h1, m1), tzinfo=tz)
        count = (h2 * 60 + m2) - (h1 * 60 + m1)
        minutes += [start + timedelta(minutes=n) for n in range(count)]
    return minutes


def _plan_visits(
    rng: random.Random, today: date, now: datetime, tz: ZoneInfo, closed: dict[str, set[date]]
) -> list[_Visit]:
    """Every visit of the three months, in time order."""
    planned = []
    for back in range(VISIT_DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        if is_public_holiday(day):
            continue
        for site in SITES:
            minutes = [m for m in _open_minutes(site, day, tz) if m < now]
            staff = _staff(site.key, day)
            if not minutes or not staff or day in closed.get(site.key, set()):
                continue
            mean = site.visits_per_day * _WEEKDAY_FACTOR[day.weekday()]
            count = max(0, round(rng.gauss(mean, mean * 0.4)))
            count = min(count, len(minutes))
            for at in sorted(rng.sample(minutes, count)):
                who = rng.choices([i for i, _ in staff], weights=[w for _, w in staff])[0]
                planned.append(_Visit(at.astimezone(UTC), site.key, who, _taps(rng)))
    planned.sort(key=lambda v: v.at)
    return planned


# ------------------------------------------------------------------------------ seeding
class _Seeding:
    """The seed's state as it goes: the Caf, its sites and its people, as Members."""

    def __init__(self, db: Database, now: datetime) -> None:
        self.db = db
        self.now = now
        self.tz = ZoneInfo(TIMEZONE)
        self.today = now.astimezone(self.tz).date()
        # The defaults, whatever the environment says: only the invitations' brake reads them.
        self.settings = Settings.model_construct()
        self._caf: Caf | None = None
        self.sites: dict[str, Partner] = {}
        self.members: list[Member] = []

    def at(self, days_back: int, hour: int, minute: int = 0) -> datetime:
        """`days_back` days before today, at this local hour (UTC)."""
        day = self.today - timedelta(days=days_back)
        moment = datetime.combine(day, time(hour, minute), tzinfo=self.tz).astimezone(UTC)
        assert moment < self.now or days_back <= 0, "the past must stay before `now`"
        return moment

    @property
    def caf(self) -> Caf:
        assert self._caf is not None
        return self._caf

    @property
    def coordinator(self) -> Member:
        return self.members[0]

    def member(self, first_name: str) -> Member:
        return next(m for m in self.members if m.person.display_name.startswith(first_name))

    async def join(self, index: int, by: Member | None, at: datetime) -> Member:
        """PEOPLE[index] opens an invitation made for them by `by` and commits (Article 5)."""
        spec, person = _PEOPLE[index], PEOPLE[index]
        site = self.sites[spec.sites[0]].id if spec.sites else None
        caf = by.caf if by is not None else self.caf
        invitation = await invitations.create(
            self.db,
            role=spec.role,
            caf=caf,
            partner_id=site,
            uses=1,
            valid_for=timedelta(days=7),
            now=at,
            by=by,
        )
        joined = await invitations.redeem(
            self.db,
            self.settings,
            telegram_user_id=person.telegram_user_id,
            name=invitations.display_name(person.first_name, person.last_name),
            code=invitation.code,
            now=at + timedelta(minutes=20),
        )
        member = joined.member
        if spec.role is not Role.COORDINATOR:
            member = (await secrecy.commit(self.db, member, at + timedelta(minutes=22))).after
        self.members.append(member)
        return member


async def seed(db: Database, now: datetime) -> DemoNetwork:
    """Seeds an empty, migrated database (storage.db) with the demo network as of `now`."""
    s = _Seeding(db, now.astimezone(UTC))
    rng = random.Random(RANDOM_SEED)
    await _network(s)
    closed = await _past_closure(s)
    await _documentation(s)
    await _visits(s, _plan_visits(rng, s.today, s.now, s.tz, closed))
    await _information(s)
    await _suspension(s)
    await _training_day(s)
    await _open_signals(s)
    await _deliver(s, s.now, keep=await _must_read(s))
    return DemoNetwork(CAF_NAME, PEOPLE)


async def _network(s: _Seeding) -> None:
    """The Caf, its coordinator, its sites and their hours, then its managers and agents."""
    start = s.at(SETUP_DAYS, 9)
    caf = await cafs.add(
        s.db,
        name=CAF_NAME,
        period=ReportingPeriod.QUARTERLY,
        timezone=TIMEZONE,
        notify_chat_id=None,
        now=start,
    )
    s._caf = await cafs.update(s.db, caf, cafs.CafChanges(city=CAF_CITY), start)
    coordinator = await s.join(0, None, start + timedelta(minutes=5))
    for number, site in enumerate(SITES):
        moment = start + timedelta(minutes=40 + number)
        card = await partners.add(
            s.db, coordinator, name=site.name, city=site.city, address=site.address, now=moment
        )
        s.sites[site.key] = card.partner
    for number, site in enumerate(SITES):
        await _declare_hours(s, site, start + timedelta(minutes=50 + 2 * number))
    # The Caf's own items for those hours, taken from the conventions: nothing to follow.
    declared = await signals.inbox(s.db, s.caf.id, kind=SignalKind.HOURS, size=len(SITES))
    for signal in declared.page.items:
        await signals.resolve(
            s.db, coordinator, signal, "Horaires de la convention.", start + timedelta(hours=1)
        )
    managers = [i for i, p in enumerate(_PEOPLE) if p.role is Role.MANAGER]
    for number, index in enumerate(managers):
        await s.join(index, coordinator, s.at(SETUP_DAYS - 1, 10, 10 * number))
    for index, p in enumerate(_PEOPLE):
        for key in p.sites[1:]:
            await people.add_site(
                s.db,
                coordinator,
                s.members[index].person.id,
                s.sites[key].id,
                s.at(SETUP_DAYS - 1, 14),
            )
    agents = [i for i, p in enumerate(_PEOPLE) if p.role is Role.AGENT]
    for number, index in enumerate(agents):
        home = _PEOPLE[index].sites[0]
        manager = next((s.members[i] for i in managers if _PEOPLE[i].sites[0] == home), coordinator)
        await s.join(index, manager, s.at(SETUP_DAYS - 2, 9, 15 * number))
    # The Caf hears of its new agents (the job bot/jobs/new_agents.py runs this when due;
    # it finds nothing left to tell then), met them, and their training needs are met.
    await signal_notices.announce_new_agents(s.db, s.caf.id, s.at(SETUP_DAYS - 2, 11))
    for index in agents:
        for signal in await signals.mine(s.db, s.members[index]):
            await signals.resolve(
                s.db,
                coordinator,
                signal,
                "Prise en main faite lors de la matinée d'accueil des nouveaux agents.",
                s.at(SETUP_DAYS - 6, 16),
            )


async def _declare_hours(s: _Seeding, site: _Site, at: datetime) -> None:
    """The coordinator declares the site's weekly hours (its first: they apply at once)."""
    partner = s.sites[site.key]
    await hours.edit(s.db, s.coordinator, partner, at, s.tz)
    by_periods: dict[tuple[tuple[int, int, int, int], ...], list[int]] = {}
    for weekday, periods in site.hours.items():
        by_periods.setdefault(periods, []).append(weekday)
    for periods, weekdays in by_periods.items():
        await hours.set_days(
            s.db,
            s.coordinator,
            partner,
            day_mask(weekdays),
            tuple(Period(time(a, b), time(c, d)) for a, b, c, d in periods),
            at,
            s.tz,
        )
    review = await hours.review(s.db, s.coordinator, partner, at, s.tz)
    await hours.declare(
        s.db, s.coordinator, partner, review.draft.revision, at, s.tz, notify_hour=NOTIFY_HOUR
    )


async def _past_closure(s: _Seeding) -> dict[str, set[date]]:
    """Corbie closed two days for the holidays, five weeks ago, and the Caf noted it."""
    nadia = s.member("Nadia")
    first = s.today - timedelta(days=36)
    while first.weekday() != 0:  # a Monday and Tuesday
        first -= timedelta(days=1)
    declared_on = (s.today - first).days + 6
    at = s.at(declared_on, 11)
    closure, _ = await closures.declare(
        s.db,
        nadia,
        start=first,
        end=first + timedelta(days=1),
        reason="conges",
        note=None,
        now=at,
        tz=s.tz,
        site=s.sites["corbie"],
    )
    for signal in await signals.mine(s.db, nadia):
        if signal.kind is SignalKind.CLOSURE:
            await signals.resolve(
                s.db, s.coordinator, signal, "Bien noté, merci.", at + timedelta(hours=3)
            )
    return {"corbie": set(_days(closure.start_date, closure.end_date))}


async def _documentation(s: _Seeding) -> None:
    for number, (title, url) in enumerate(DOCUMENTS):
        await documentation.add_link(
            s.db, s.coordinator, title, url, s.at(SETUP_DAYS - 3, 10, number)
        )


async def _visits(s: _Seeding, planned: list[_Visit]) -> None:
    """Each visit logged at its moment, tap by tap, by whoever received the person."""
    members = {i: s.members[i] for i in range(len(s.members))}
    for visit in planned:
        member = members[visit.person]
        site = s.sites[visit.site]
        if member.person.partner_id != site.id:  # the manager of two sites, today here
            chosen = await work_site.choose(s.db, member, site.id, visit.at)
            member = members[visit.person] = chosen.after
        shown = await visits.open_visit(
            s.db,
            member,
            chat_id=PEOPLE[visit.person].telegram_user_id,
            now=visit.at,
            max_age=timedelta(hours=24),
        )
        assert isinstance(shown, Shown), "no visit is ever left half-logged"
        record = shown.record
        message_id = 1
        await visits.shown_in(s.db, record.id, message_id)
        revision = record.revision
        for op, value in visit.taps:
            tapped = await visits.tap(
                s.db,
                member,
                record.id,
                revision=revision,
                op=op,
                value=value,
                message_id=message_id,
                now=visit.at,
            )
            if isinstance(tapped, Advanced):
                revision = tapped.shown.record.revision
        assert isinstance(tapped, Saved) and tapped.first, tapped
    s.members = [members[i] for i in range(len(s.members))]


async def _information(s: _Seeding) -> None:
    """An information to the whole network, three weeks ago."""
    draft = await broadcasts.start_draft(s.db, s.coordinator, INFORMATION, s.at(21, 10))
    await broadcasts.send_now(s.db, s.coordinator, draft.announcement.id, s.at(21, 10, 2))
    await _deliver(s, s.at(21, 10, 5))


async def _suspension(s: _Seeding) -> None:
    site = s.sites[SUSPENDED]
    await labels.change(
        s.db, s.coordinator, site.id, LabelStatus.SUSPENDED, SUSPENSION_REASON, s.at(14, 15)
    )


async def _training_day(s: _Seeding) -> None:
    """The yearly training day (Article 3), three weeks ahead, and its answers."""
    coordinator = s.coordinator
    at = s.at(10, 10)
    day = s.today + timedelta(days=21)
    while day.weekday() >= 5 or is_public_holiday(day) or (day.month, day.day) >= (12, 20):
        day += timedelta(days=1)  # a working day, out of the year's last fortnight
    await events.new(s.db, coordinator, None, at)
    step: Step | Created = await events.choose_kind(
        s.db, coordinator, EventKind.TRAINING_DAY, None, at
    )
    typed = {
        "title": "Journée annuelle de formation des Points numériques",
        "start": f"{day:%d/%m/%Y} à 9h30",
        "end": "16h30",
        "place": "Caf de la Somme, salle de formation, Amiens",
    }
    for name in ("title", "start", "end", "place"):
        expected = await pending_input.get(s.db, coordinator.person.id)
        assert expected is not None and expected.kind == f"event_{name}", expected
        step = await events.answer_step(s.db, coordinator, expected, typed[name], at)
    step = await events.take_capacity(s.db, coordinator, 20, None, at)
    deadline = STEPS.index("deadline")
    step = await events.take_default(s.db, coordinator, deadline, None, at)  # the one offered
    assert isinstance(step, Created), step
    event_id = step.card.event.id
    await events.publish(s.db, coordinator, event_id, at, reminder_hour=REMINDER_HOUR)
    answers = {"Marc": True, "Camille": True, "Nadia": True, "Julien": True, "Inès": False}
    for number, (first_name, wants) in enumerate(answers.items()):
        when = s.at(9 - number, 11, 5 * number)
        await events.answer(s.db, s.member(first_name), event_id, wants, when, s.tz)


async def _open_signals(s: _Seeding) -> None:
    """Open now: a training need the Caf answered, a difficulty, a closure next week."""
    thomas, ines, marc = s.member("Thomas"), s.member("Inès"), s.member("Marc")
    need = await signals.report_training_need(
        s.db,
        thomas,
        topic="mon_compte",
        prompt=1,
        note="Comment aider quelqu'un qui a perdu l'accès à Mon Compte sans adresse mail ?",
        now=s.at(6, 15),
        tz=s.tz,
    )
    await signals.reply(
        s.db,
        s.coordinator,
        need.signal,
        "Nous le verrons ensemble à la journée de formation ; d'ici là, la fiche « Mon "
        "Compte » de la documentation explique la réinitialisation.",
        s.at(5, 9, 30),
    )
    await signals.report_difficulty(
        s.db,
        ines,
        category="teleprocedure",
        urgency="haute",
        description=(
            "Le simulateur de la prime d'activité reste bloqué sur une page blanche au poste "
            "en libre accès, depuis hier après-midi. Les personnes repartent sans simulation."
        ),
        typed=(PEOPLE[5].telegram_user_id, 1),
        now=s.at(1, 16, 20),
        tz=s.tz,
    )
    first = s.today + timedelta(days=7)
    while first.weekday() >= 5:
        first += timedelta(days=1)
    await closures.declare(
        s.db,
        marc,
        start=first,
        end=first,
        reason="evenement",
        note="Forum des associations : l'équipe tient le stand de France Services.",
        now=s.at(1, 10),
        tz=s.tz,
    )


async def _must_read(s: _Seeding) -> str:
    """The must-read notice to every person of the sites, 45 minutes before `now`; returns
    the outbox kind of its messages."""
    at = s.now - timedelta(minutes=45)
    coordinator = s.coordinator
    draft = await broadcasts.start_draft(s.db, coordinator, MUST_READ, at)
    announcement_id = draft.announcement.id
    for site in s.sites.values():  # the sites' people: the coordinator wrote it
        await broadcasts.toggle_site(s.db, coordinator, announcement_id, site.id, at)
    await broadcasts.toggle_must_read(s.db, coordinator, announcement_id, at)
    outcome = await broadcasts.send_now(
        s.db, coordinator, announcement_id, at + timedelta(minutes=1)
    )
    return outcome.report.announcement.kind


async def _deliver(s: _Seeding, until: datetime, *, keep: str | None = None) -> None:
    """Every message queued by `until` is taken as delivered when it was queued, but those
    of the outbox kind `keep`, left queued for the bot to send (see the module's
    docstring); broadcasts whose messages are all out are settled."""
    kept: set[int] = set()  # chats whose next message is one to keep
    while batch := await outbox.claim_batch(s.db, until, 500, exclude_chat_ids=kept):
        for message in batch:  # the oldest message of each chat: in each chat's order
            if message.kind == keep:
                await outbox.release(s.db, message.id, until)
                kept.add(message.chat_id)
            else:
                await outbox.mark_sent(s.db, message.id, None, message.created_at)
    await broadcasts.settle_sending(s.db, until)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
