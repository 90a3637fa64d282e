"""The fuzzing harness (issue #8, item 4): a world of two Cafs and people of every role, each
flow's steps, hypothesis strategies for what no button offers, and the checks run after each
input. The tests are tests/fuzz/test_fuzzing.py and tests/fuzz/test_markup.py; the
regressions the fuzzing found sit with their features, built on this world.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.domain import signals as signal_rules
from bot.domain import taxonomy
from bot.domain.events import EventKind
from bot.domain.models import Announcement, Caf, Partner
from bot.domain.opening_hours import WeeklySchedule, parse_periods
from bot.domain.permissions import PersonStatus, Role
from bot.domain.signals import SignalKind
from bot.domain.site_reviews import CHECK_KEYS, DraftState, Owner
from bot.sandbox.bot_api import FakeBotApi, FakeChat, FakeGroup, FakeMessage, FakeUser
from bot.services import signal_notices
from bot.ui import callbacks, menus
from bot.ui.callbacks import (
    ComplianceTap,
    IndicatorTap,
    NetworkTap,
    ReviewTap,
)
from bot.ui.screens.broadcast import read_markup, recipient_text
from conversations import (
    broadcast,
    compliance,
    documentation,
    events,
    hours,
    inbox,
    indicators,
    network,
    signals,
    yearly_visit,
)
from conversations.taps import TapTable
from storage import announcements, cafs, closures, documents, people, site_reviews
from storage import events as event_store
from storage import hours as hours_store
from storage import signals as signal_store
from storage import visits as visit_store
from storage.db import Conn
from tests.conftest import Network, RunningBot
from tests.e2e.test_notifications import outbox_settled

EXAMPLES = 40  # per flow, in the default suite (about 2 s a flow)
SOAK_EXAMPLES = 1000  # per flow, with --soak (a few minutes a flow)
MAX_INPUTS = 3  # inputs per example in the default suite; the soak goes further from the step
SOAK_MAX_INPUTS = 8

# ---------------------------------------------------------------------------------------------
# The world: two Cafs, three sites, people of every role, and objects of each kind on every side
# (so forged ids always name something: one's own, a colleague's, another site's, another Caf's).


@dataclass
class World:
    bot: RunningBot
    network: Network
    fake: FakeBotApi
    users: dict[str, FakeUser]
    person_ids: dict[str, int]
    caf_b: Caf
    site_b: Partner
    group: FakeGroup
    outbox_errors_seen: set[int] = field(default_factory=set)

    @property
    def db(self) -> Any:
        return self.network.db

    def now(self) -> datetime:
        return self.network.clock.now()


#: Notifications leave at once: the outbox is drained between examples, not paced.
FAST_OUTBOX: dict[str, Any] = {"broadcast_max_rate": 1000.0, "broadcast_progress_seconds": 0.05}


async def _join(
    network: Network, role: Role, partner: Partner | None, caf: Caf | None, name: str
) -> FakeUser:
    return await network.join(role, partner=partner, caf=caf, first_name=name)


async def build_world(bot: RunningBot, network: Network, fake: FakeBotApi) -> World:
    # The fake has no flood control, and what is under test is what the handlers do, not
    # Telegram's limits: PTB's limiter would space every reply by 1/30 s, the outbox every
    # message to a chat by a second and to a group by three.
    limiter = bot.app.bot.rate_limiter
    limiter._base_limiter = None  # type: ignore[union-attr]
    limiter._group_max_rate = 0  # type: ignore[union-attr]
    sender = bot.app.bot_data["outbox"][0]
    sender._per_chat_interval = 0.0
    sender._group_per_minute = 10_000
    # The Caf's notification chat: a group that gets a copy of what its coordinators get.
    group = fake.group(-100777, "Caf de la Somme — équipe")
    caf_b = await network.add_caf("Caf de l'Oise")
    site_b = await network.add_site("Mairie de Beauvais", caf=caf_b)
    async with network.db.transaction() as tx:
        await cafs.update(tx, network.caf.id, notify_chat_id=group.chat_id)
    ham, albert = network.site, network.other_site
    users = {
        "agent": await _join(network, Role.AGENT, ham, None, "Agnès"),
        "manager": await _join(network, Role.MANAGER, ham, None, "Marc"),
        "coordinator": await _join(network, Role.COORDINATOR, None, None, "Corinne"),
        "colleague": await _join(network, Role.AGENT, ham, None, "Chloé"),
        "other_agent": await _join(network, Role.AGENT, albert, None, "Olga"),
        "other_manager": await _join(network, Role.MANAGER, albert, None, "Odile"),
        "b_coordinator": await _join(network, Role.COORDINATOR, None, caf_b, "Oscar"),
        # A namesake of this Caf's Chloé: what is done to one must never touch the other.
        "b_agent": await _join(network, Role.AGENT, site_b, None, "Chloé"),
        "b_manager": await _join(network, Role.MANAGER, site_b, None, "Bruno"),
        "revoked": await _join(network, Role.AGENT, ham, None, "Romain"),
    }
    person_ids = {}
    for key, user in users.items():
        member = await people.member_by_telegram_id(network.db, user.user_id)
        assert member is not None
        person_ids[key] = member.person.id
    world = World(bot, network, fake, users, person_ids, caf_b, site_b, group)
    # The agents who joined are told to each Caf in one notice a few minutes later
    # (bot/jobs/new_agents.py): now, so that the world starts with it sent.
    for caf in (network.caf, caf_b):
        await signal_notices.announce_new_agents(network.db, caf.id, world.now())
    await seed_objects(world)
    await outbox_settled(network)
    return world


async def seed_objects(w: World) -> None:
    """Objects of every kind for this site, the Caf's other site and the other Caf."""
    network, now, ids = w.network, w.now(), w.person_ids
    today = date(2026, 11, 26)
    ham, albert, beauvais = network.site, network.other_site, w.site_b
    week = WeeklySchedule.closed()
    for weekday in range(5):
        week = week.with_day(weekday, parse_periods("9h-12h / 14h-17h"))
    async with network.db.transaction() as tx:
        await people.set_status(tx, ids["revoked"], PersonStatus.REVOKED, now)
        for site, manager in ((ham, "manager"), (albert, "other_manager"), (beauvais, "b_manager")):
            await hours_store.declare(
                tx,
                partner_id=site.id,
                schedule=week,
                effective_from=date(2026, 9, 1),
                by=ids[manager],
                now=now,
            )
            await closures.declare(
                tx,
                partner_id=site.id,
                start=today + timedelta(days=28),
                end=today + timedelta(days=30),
                reason="conges",
                note="Fermeture de fin d'année.",
                by=ids[manager],
                now=now,
            )
        for caf, site, reporter, coordinator in (
            (network.caf, ham, "agent", "coordinator"),
            (network.caf, albert, "other_agent", "coordinator"),
            (w.caf_b, beauvais, "b_agent", "b_coordinator"),
        ):
            signal, _ = await signal_store.raise_signal(
                tx,
                caf_id=caf.id,
                partner_id=site.id,
                kind=SignalKind.DIFFICULTY,
                reporter_id=ids[reporter],
                category="teleprocedure",
                urgency="normale",
                description="La téléprocédure bloque à l'étape 3.",
                dedup_key=f"seed:{site.id}",
                now=now,
            )
            await signal_store.add_message(
                tx, signal.id, author_id=ids[coordinator], from_caf=True, body="Vu.", now=now
            )
            await documents.add(
                tx,
                caf_id=caf.id,
                title="Guide de l'accueil",
                url="https://www.caf.fr/partenaires",
                created_by=ids[coordinator],
                now=now,
            )
            event = await event_store.create(
                tx,
                caf_id=caf.id,
                kind=EventKind.TRAINING_DAY,
                title="Journée annuelle de formation",
                starts_at=now + timedelta(days=20),
                ends_at=now + timedelta(days=20, hours=7),
                place="Amiens",
                visio_url=None,
                capacity=1,
                rsvp_deadline=now + timedelta(days=18),
                created_by=ids[coordinator],
                now=now,
            )
            await event_store.set_fields(tx, event.id, now, status="published")
            await event_store.invite_audience(tx, event)
            await sent_notice(tx, caf.id, ids[coordinator], "Nouvelle procédure.", now)
            state = (
                DraftState(
                    visited_on=today - timedelta(days=3),
                    answers={**dict.fromkeys(CHECK_KEYS, True), "hours": False},
                )
                .with_remarks("Affichage absent.")
                .adding_item()
                .with_description("Afficher les horaires.")
                .with_owner(Owner.PARTNER)
                .with_due(today + timedelta(days=30))
            )
            await site_reviews.record(
                tx, caf_id=caf.id, partner_id=site.id, state=state, by=ids[coordinator], now=now
            )
            await tx.execute(
                "INSERT INTO period_reports (caf_id, partner_id, period, starts_at, ends_at,"
                " due_on, status, created_at) VALUES (:caf, :site, '2026-Q3',"
                " '2026-06-30T22:00:00+00:00', '2026-09-30T22:00:00+00:00', '2026-10-10',"
                " 'pending', :now)",
                {"caf": caf.id, "site": site.id, "now": now.isoformat()},
            )
        for agent, site, caf in (
            ("agent", ham, network.caf),
            ("other_agent", albert, network.caf),
            ("b_agent", beauvais, w.caf_b),
        ):
            draft = await tx.execute(
                "INSERT INTO visit_drafts (person_id, partner_id, chat_id, state, status,"
                " created_at, updated_at) VALUES (:p, :site, 1, '{}', 'saved', :at, :at)",
                {"p": ids[agent], "site": site.id, "at": now.isoformat()},
            )
            await tx.execute(
                "INSERT INTO visits (draft_id, caf_id, partner_id, person_id, visited_at, sexe,"
                " age, statut, autonomie, resolution, created_at, updated_at) VALUES (:d, :caf,"
                " :site, :p, :at, 'femme', '25_60', 'allocataire', 'debutant', 'oui', :at, :at)",
                {
                    "d": draft,
                    "caf": caf.id,
                    "site": site.id,
                    "p": ids[agent],
                    "at": now.isoformat(),
                },
            )
    w.bot.app.bot_data["services"].wake_outbox()


# ---------------------------------------------------------------------------------------------
# What a person may not change: the rows outside their rights, read before and after each example.
# Parameters: :me (person), :caf, :site (NULL for a coordinator), :coord (1/0), :role, :tg.
# Both engines read them (tests/postgres_everywhere.py): no bare `WHERE 1`, and a parameter's
# first use gives its type (PostgreSQL cannot type `:site IS NOT NULL` on its own).

_FOREIGN_PARTNER = (
    "({col} IN (SELECT id FROM partners WHERE caf_id != :caf)"
    " OR ({col} IS NOT :site AND :site IS NOT NULL))"
)
_FOREIGN_PERSON = (
    "({col} IN (SELECT id FROM people WHERE caf_id != :caf OR (:coord = 0 AND id != :me"
    " AND NOT (:role = 'manager' AND partner_id = :site AND role = 'agent'))))"
)


TEXT_ONLY = dict.fromkeys(("media_kind", "media_file_id", "media_name"))


async def news(conn: Conn, caf_id: int, author_id: int, body: str, now: datetime) -> Announcement:
    """A coordinator's draft of news, text only, written straight to the database."""
    return await announcements.create(
        conn, caf_id=caf_id, author_id=author_id, body=body, now=now, **TEXT_ONLY
    )


async def sent_notice(
    conn: Conn, caf_id: int, author_id: int, body: str, now: datetime, *, read_button: bool = False
) -> Announcement:
    """A must-read notice sent to the whole Caf: its messages queued in the outbox, with
    « J'ai lu » under them when `read_button`."""
    notice = await news(conn, caf_id, author_id, body, now)
    await announcements.update(conn, notice.id, now, must_read=1)
    sent = await announcements.get(conn, notice.id)
    assert sent is not None
    markup = read_markup(sent) if read_button else None
    await announcements.send(conn, sent, text=recipient_text(sent), reply_markup=markup, now=now)
    return sent


def _fp(col: str) -> str:
    return _FOREIGN_PARTNER.format(col=col)


def _fq(col: str) -> str:
    return _FOREIGN_PERSON.format(col=col)


PROTECTED: list[tuple[str, str, str]] = [
    ("cafs", "*", "1 = 1"),
    ("partners", "*", "caf_id != :caf OR :coord = 0"),
    ("label_history", "*", f"{_fp('partner_id')} OR :coord = 0"),
    (
        "people",
        "*",
        "caf_id != :caf OR (:coord = 0 AND id != :me"
        " AND NOT (:role = 'manager' AND partner_id = :site AND role = 'agent'))",
    ),
    (
        "invitations",
        "*",
        "caf_id != :caf OR (:coord = 0"
        " AND NOT (:role = 'manager' AND partner_id = :site AND role = 'agent'))",
    ),
    ("invitation_failures", "*", "telegram_user_id != :tg"),
    ("audit_log", "*", "actor_id IS NOT :me OR caf_id IS NOT :caf"),
    ("visit_drafts", "*", f"{_fp('partner_id')} OR {_fq('person_id')}"),
    ("visits", "*", f"{_fp('partner_id')} OR person_id IS NOT :me"),
    (
        "visit_actions",
        "*",
        f"visit_id IN (SELECT id FROM visits WHERE person_id IS NOT :me) OR {_fp('partner_id')}",
    ),
    (
        "visit_themes",
        "*",
        f"visit_id IN (SELECT id FROM visits WHERE person_id IS NOT :me) OR {_fp('partner_id')}",
    ),
    ("training_visits", "*", "person_id IS NOT :me"),
    # The sender updates delivery columns on its own: only which messages exist is compared.
    (
        "outbox",
        "id, kind, dedup_key, person_id, chat_id, text, reply_markup",
        "person_id IN (SELECT id FROM people WHERE caf_id != :caf OR (:coord = 0"
        " AND partner_id IS NOT NULL AND partner_id != :site))"
        " OR chat_id IN (SELECT notify_chat_id FROM cafs WHERE id != :caf)",
    ),
    ("pending_inputs", "*", _fq("person_id")),
    ("opening_hours", "*", f"{_fp('partner_id')} OR :role != 'manager'"),
    ("hours_drafts", "*", "person_id IS NOT :me"),
    (
        "closures",
        "*",
        f"{_fp('partner_id')} OR :coord = 1 OR (:role = 'agent' AND declared_by IS NOT :me)",
    ),
    (
        "signals",
        "*",
        "caf_id != :caf OR (:coord = 0 AND (partner_id IS NOT :site OR (reporter_id IS NOT :me"
        " AND (:role != 'manager' OR kind NOT IN ('closure', 'label_risk')))))",
    ),
    (
        "signal_messages",
        "*",
        "signal_id IN (SELECT id FROM signals WHERE caf_id != :caf"
        " OR (:coord = 0 AND reporter_id IS NOT :me))",
    ),
    # 'sending' becomes 'sent' when the outbox is through, whoever is fuzzing.
    (
        "announcements",
        "id, caf_id, author_id, body, media_kind, media_file_id, audience, must_read,"
        " CASE WHEN status IN ('sending', 'sent') THEN 'out' ELSE status END, scheduled_for",
        "caf_id != :caf OR :coord = 0",
    ),
    (
        "announcement_recipients",
        "*",
        "announcement_id IN (SELECT id FROM announcements WHERE caf_id != :caf)"
        " OR (:coord = 0 AND person_id IS NOT :me)",
    ),
    ("documents", "*", "caf_id != :caf OR :coord = 0"),
    ("events", "*", "caf_id != :caf OR :coord = 0"),
    ("event_invitations", "*", "event_id IN (SELECT id FROM events WHERE caf_id != :caf)"),
    (
        "period_reports",
        "*",
        "caf_id != :caf OR :coord = 1 OR partner_id IS NOT :site",
    ),
    ("site_reviews", "*", f"{_fp('partner_id')} OR :coord = 0"),
    ("action_items", "*", f"{_fp('partner_id')} OR :coord = 0"),
    ("review_drafts", "*", "person_id IS NOT :me"),
    ("scheduled_jobs", "id, kind, key, due_at, payload", ":coord = 0"),
]


@dataclass(frozen=True)
class Actor:
    """Who sends the fuzzed input, and what the protected rows are for them."""

    key: str
    user: FakeChat
    sender: FakeUser
    params: dict[str, Any]


async def actor_of(w: World, key: str) -> Actor:
    if key == "stranger":
        user = w.network.stranger("Inconnu")
        w.users["stranger"] = user
        params = {"me": -1, "caf": -1, "site": -1, "coord": 0, "role": "stranger"}
        return Actor(key, user, user, {**params, "tg": user.user_id})
    user = w.users["coordinator" if key == "group" else key]
    member = await people.member_by_telegram_id(w.db, user.user_id)
    assert member is not None
    person = member.person
    coordinator = person.role is Role.COORDINATOR
    params = {
        "me": person.id,
        "caf": person.caf_id,
        "site": person.partner_id,
        "coord": int(coordinator),
        "role": person.role.value,
        "tg": user.user_id,
    }
    if person.status is PersonStatus.REVOKED:  # nothing of the site is theirs any more
        params.update(site=-1, coord=0, role="revoked")
    if key == "group":  # the coordinator, writing in the Caf's group
        return Actor(key, w.group, user, params)
    return Actor(key, user, user, params)


async def snapshot(w: World, actor: Actor) -> dict[str, set[tuple[Any, ...]]]:
    found = {}
    for table, columns, where in PROTECTED:
        rows = await w.db.fetch_all(f"SELECT {columns} FROM {table} WHERE {where}", actor.params)
        found[table] = {tuple(row) for row in rows}
    return found


def compare(before: dict[str, set[Any]], after: dict[str, set[Any]]) -> list[str]:
    problems = []
    for table in before:
        gone, new = before[table] - after[table], after[table] - before[table]
        if gone or new:
            gone_rows, new_rows = sorted(gone, key=repr)[:3], sorted(new, key=repr)[:3]
            problems.append(f"{table}: before {gone_rows!r} after {new_rows!r}")
    return problems


# ---------------------------------------------------------------------------------------------
# The inputs.

HTML_BITS = [
    "<b>",
    "</b>",
    "</i>",
    "<i>",
    '<a href="https://exemple.fr">',
    "<a href=javascript:alert(1)>",
    "</a>",
    "<script>",
    "</script>",
    "&amp;",
    "&",
    "&lt;",
    "&#",
    "&#0;",
    "&#x110000;",
    "<",
    ">",
    '"',
    "'",
    "<tg-spoiler>",
    "<br>",
    "<pre>",
    "<code>",
    "<!--",
]
ODD = [
    "\u202e",
    "\u200f",
    "\u200b",
    "\ufeff",
    "\x00",
    "\x1b",
    "\x7f",
    "\r\n",
    "\n",
    "\t",
    " ",
    "😀",
    "👨‍👩‍👧",
    "é",
    "ſ",
    "İ",
    "\u0301",
    "٣",
]
DOMAIN = [
    "24/12",
    "31/02",
    "29/02",
    "29/02/2028",
    "du 24/12 au 2/01",
    "du 2/01 au 24/12",
    "1/1/0001 à 9h",
    "31/12/9999 à 23h59",
    "31/12/9999",
    "1/1/1",
    "01/01/2000",
    "demain 9h",
    "lundi 10 h",
    "aujourd'hui",
    "hier",
    "9h-12h / 14h-17h",
    "0h-24h",
    "25h",
    "23h59",
    "-",
    "0",
    "-1",
    "10000",
    "10001",
    "99999999999999999999",
    "https://example.org/a?b=1&c=<d>",
    "http://",
    "https://a.b",
    "https://xn--",
    "http://[::1]:99999/",
    "06 12 34 56 78",
    "jean@example.org",
    "1 84 12 76 451 089 46",
    "FR7630006000011234567890189",
]
SIZES = [1, 39, 40, 59, 60, 61, 80, 81, 100, 101, 120, 121, 200, 201, 300, 301, 500, 501]
SIZES += [999, 1000, 1001, 2000, 2001, 4000, 4001, 4096, 4097, 5000]
FILLERS = ["x", "é", "&", "<", "😀", "a ", "<b>", "\n", "\u202e"]

markup = st.sampled_from(HTML_BITS)
pieces = st.one_of(markup, st.sampled_from(DOMAIN + ODD), st.text(max_size=6))
texts = st.one_of(
    # Markup around what the step expects (« <b>24/12 », « demain 9h & »…), then anything.
    st.builds(lambda a, b, c: a + b + c, markup | st.just(""), st.sampled_from(DOMAIN), markup),
    st.lists(pieces, min_size=1, max_size=8).map("".join),
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
    st.builds(lambda n, c: (c * n)[:n], st.sampled_from(SIZES), st.sampled_from(FILLERS)),
)
COMMAND_NAMES = sorted(
    {"start", "aide", "help", "annuler", "cancel", "mesdonnees"}
    | {entry.command for entry in menus.ENTRIES}
)
commands = st.one_of(
    st.sampled_from(
        [
            "/start",
            "/start x",
            "/start " + "A" * 40,
            "/start <b>x</b>",
            "/start &",
            "/start@pnc_test_bot",
            "/start@pnc_test_bot abc",
            "/visite@otherbot",
            "/visite@pnc_test_bot",
            "/nimportequoi",
            "/",
            "/START",
            "/Visite",
            "/" + "a" * 40,
        ]
        + [f"/{name}" for name in COMMAND_NAMES]
        + [entry.label for entry in menus.ENTRIES]
    ),
    st.builds(lambda c, arg: f"/{c} {arg}", st.sampled_from(COMMAND_NAMES), texts),
    st.from_regex(r"\A/[A-Za-z0-9_]{1,33}(@[A-Za-z0-9_]{1,20})?\Z"),
)


def _operations(*modules: ModuleType) -> set[str]:
    """Every operation of the flows' buttons: their tap tables (or, for a flow not yet
    moved to one, its dict of handlers by operation)."""
    found: set[str] = set()
    for module in modules:
        for name in ("TAPS", "SCREENS"):
            table = getattr(module, name, None)
            if isinstance(table, TapTable):
                found |= {row.op.value for row in table}
            elif isinstance(table, dict):
                found |= set(table)
    return found


# Every code any callback carries: operations of every screen, answers of every question.
OPS = sorted(
    set().union(
        _operations(
            broadcast,
            compliance,
            documentation,
            events,
            hours,
            inbox,
            indicators,
            network,
            signals,
            yearly_visit,
        ),
        {"a", "same", "add", "skip", "when", "day", "back", "sect", "save", "noop"},
        {"quit", "resume", "restart", "undo", "tundo", "edit", "ok", "yes", "no", "all"},
        {"demande", "action", "theme", "now", "today", "yesterday", "profile", "demandes"},
        {"themes", "resolution", "0", "visit", "figures", "signal", "docs", "help"},
        {entry.key for entry in menus.ENTRIES},
        {kind.value for kind in SignalKind},
        {choice.code for choice in signal_rules.DIFFICULTY_CATEGORIES},
        {choice.code for choice in signal_rules.URGENCIES},
        {choice.code for choice in signal_rules.TRAINING_TOPICS},
        {choice.code for choice in signal_rules.CLOSURE_REASONS},
        {option.code for question in taxonomy.QUESTIONS for option in question.options},
    )
)
assert len(OPS) > 100, "the flows' operations were not found"
MAX_INT = callbacks.MAX_INT


def _day_number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


special_ints = st.one_of(
    st.sampled_from([0, 1, 2, 3, 4, 6, 7, 12, 13, 99, MAX_INT]),
    st.integers(0, MAX_INT),
    # Days as yyyymmdd (hours, broadcasts), months as yyyymm, period codes 1YYYYMM/2YYYY0Q/3YYYY00.
    st.dates().map(_day_number),
    st.builds(lambda y, m: y * 100 + m, st.integers(0, 9999), st.integers(0, 13)),
    st.builds(
        lambda kind, y, n: kind * 1_000_000 + y * 100 + n,
        st.sampled_from([1, 2, 3]),
        st.one_of(st.sampled_from([1, 2, 2025, 2026, 2027, 9999]), st.integers(0, 9999)),
        st.integers(0, 13),
    ),
)
codes = st.one_of(st.sampled_from(OPS), st.from_regex(r"\A[a-z0-9_]{1,24}\Z"))
CLASSES = sorted(callbacks.prefixes().values(), key=lambda cls: cls.PREFIX)
MAX_FIELDS = max(len(callbacks._FIELDS[cls]) for cls in CLASSES)


def _fields(cls: type[callbacks.Callback]) -> list[tuple[str, type]]:
    return callbacks._FIELDS[cls]


# What hypothesis draws never depends on the bot's state (the screen, the ids in the database):
# that state moves on from example to example, and hypothesis must be able to replay its
# choices. Choices that need the state — which button, which existing id — are drawn as
# numbers and resolved against the screen and the database when the input is sent.


@dataclass(frozen=True)
class Ref:
    """The `index`-th id (modulo) of the objects in the database when the input is sent."""

    index: int


@dataclass(frozen=True)
class Malform:
    how: str
    at: int
    extra: str


@dataclass(frozen=True)
class TapPlan:
    source: str  # "button": one of the screen's buttons; "payload": any kind of button
    pick: int  # which button, or which kind of payload
    replace: int | None  # which field of the button to replace (None: keep it as it is)
    ints: tuple[int | Ref, ...]
    codes: tuple[str, ...]
    malform: Malform | None

    def resolve(self, buttons: list[str], ids: list[int]) -> str:
        def number(value: int | Ref) -> int:
            return ids[value.index % len(ids)] if isinstance(value, Ref) else value

        if self.source == "button" and buttons:
            data = buttons[self.pick % len(buttons)]
            try:
                payload = callbacks.decode(data)
            except callbacks.BadCallback:
                return _malformed(data, self.malform)
            cls = type(payload)
            values: list[object] = [getattr(payload, name) for name, _ in _fields(cls)]
            if self.replace is not None and values:
                index = self.replace % len(values)
                kind = _fields(cls)[index][1]
                values[index] = number(self.ints[index]) if kind is int else self.codes[index]
        else:
            cls = CLASSES[self.pick % len(CLASSES)]
            values = [
                number(self.ints[i]) if kind is int else self.codes[i]
                for i, (_, kind) in enumerate(_fields(cls))
            ]
        return _malformed(":".join([cls.PREFIX, *(str(v) for v in values)]), self.malform)


def _malformed(data: str, malform: Malform | None) -> str:
    """A callback a little off: truncated, padded, renumbered, re-encoded."""
    if malform is None:
        return data
    parts = data.split(":")
    index = malform.at % len(parts)
    if malform.how == "cut":
        return data[: malform.at % max(len(data), 1)]
    if malform.how == "extra":
        return data + ":" + malform.extra
    if malform.how == "drop":
        return ":".join(parts[:-1])
    if malform.how == "case":
        return data.upper()
    parts[index] = {
        "neg": "-" + parts[index],
        "zeros": "0" + parts[index],
        "big": str(10**12),
        "space": f" {parts[index]} ",
        "unicode": parts[index].replace("1", "١"),
        "field": malform.extra,
    }[malform.how]
    return ":".join(parts)


malforms = st.one_of(
    st.none(),
    st.builds(
        Malform,
        st.sampled_from(
            ["cut", "extra", "drop", "case", "neg", "zeros", "big", "space", "unicode"]
        ),
        st.integers(0, 80),
        st.sampled_from(["1", "", "x", "0", ":", "-1", "é"]),
    ),
)
int_choices = st.one_of(special_ints, st.builds(Ref, st.integers(0, 1000)))
tap_plans = st.builds(
    TapPlan,
    st.sampled_from(["button", "button", "button", "payload"]),
    st.integers(0, 1000),
    st.one_of(st.none(), st.integers(0, MAX_FIELDS - 1)),
    st.tuples(*[int_choices] * MAX_FIELDS),
    st.tuples(*[codes] * MAX_FIELDS),
    malforms,
)
raw_data = st.one_of(
    st.binary(min_size=1, max_size=80).map(lambda b: b.decode("latin-1")),
    st.binary(min_size=1, max_size=80).map(lambda b: b.decode("utf-8", "replace")),
    st.text(min_size=1, max_size=70),
)


@st.composite
def entities_for(draw: st.DrawFn, text: str) -> list[dict[str, Any]]:
    """The sender's own formatting: non-overlapping entities on code point boundaries."""
    if not text or draw(st.booleans()):
        return []
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=6, unique=True)))
    found = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        kind = draw(
            st.sampled_from(
                ["bold", "italic", "underline", "strikethrough", "spoiler", "code", "text_link"]
            )
        )
        offset = len(text[:start].encode("utf-16-le")) // 2
        length = len(text[start:end].encode("utf-16-le")) // 2
        entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
        if kind == "text_link":
            entity["url"] = draw(
                st.sampled_from(["https://exemple.fr/a?b=1&c=2", "https://x.y/<i>'"])
            )
        found.append(entity)
    return found


@dataclass(frozen=True)
class Act:
    kind: str  # text | tap | raw | file
    value: str = ""
    entities: tuple[dict[str, Any], ...] = ()
    plan: TapPlan | None = None
    older: int = 0  # tap on an older message of the chat (how far back, modulo)

    def __repr__(self) -> str:
        shown = self.value if len(self.value) <= 80 else self.value[:77] + f"…({len(self.value)})"
        extra = f", entities={list(self.entities)}" if self.entities else ""
        extra += f", {self.plan}" if self.plan else ""
        extra += f", older={self.older}" if self.older else ""
        return f"Act({self.kind}, {shown!r}{extra})"


ACTS = st.one_of(
    texts.flatmap(lambda t: entities_for(t).map(lambda e: Act("text", t, tuple(e)))),
    commands.map(lambda c: Act("text", c)),
    st.builds(lambda plan, older: Act("tap", plan=plan, older=older), tap_plans, st.integers(0, 5)),
    st.builds(lambda plan: Act("tap", plan=plan), tap_plans),
    st.builds(lambda data, older: Act("raw", data, older=older), raw_data, st.integers(0, 5)),
    st.sampled_from(["photo", "document"]).map(lambda k: Act("file", k)),
)


# ---------------------------------------------------------------------------------------------
# Driving: reach a step, send the inputs, check after each.

REPLIES = {
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "editMessageCaption",
    "deleteMessage",
    "deleteMessages",
    "sendDocument",
    "sendPhoto",
    "copyMessage",
}


COMMAND = re.compile(r"/[A-Za-z0-9_]+")  # what Telegram marks as a bot command


class Bridge:
    """Runs coroutines on the bot's loop from hypothesis's thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def __call__(self, coroutine: Awaitable[Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]


def _buttons(message: FakeMessage | None) -> list[str]:
    if message is None or message.deleted:
        return []
    return [data for row in message.inline_buttons for _, data in row if data and "://" not in data]


async def pool_of_ids(w: World) -> list[int]:
    rows = await w.db.fetch_all(
        "SELECT id FROM partners UNION SELECT id FROM people UNION SELECT id FROM signals"
        " UNION SELECT id FROM closures UNION SELECT id FROM documents UNION SELECT id FROM events"
        " UNION SELECT id FROM announcements UNION SELECT id FROM visits"
        " UNION SELECT id FROM training_visits UNION SELECT id FROM visit_drafts"
        " UNION SELECT id FROM action_items UNION SELECT id FROM site_reviews"
        " UNION SELECT id FROM period_reports UNION SELECT revision FROM review_drafts"
        " UNION SELECT revision FROM visit_drafts UNION SELECT revision FROM hours_drafts"
    )
    return sorted({int(row[0]) for row in rows} | {0, 1})


async def perform(w: World, actor: Actor, act: Act) -> None:
    """One input, then: nothing raised, and the person was answered."""
    chat, sender = actor.user, actor.sender
    before_calls = len(w.fake.calls)
    answers = len(sender.callback_answers)
    if act.kind in ("tap", "raw"):
        # A button is pressed on a message that has buttons (Telegram shows none on the others).
        messages = [m for m in chat.bot_messages if m.inline_buttons]
        if not messages:
            return
        target = messages[-1 - act.older % len(messages)]
        data = act.value
        if act.plan is not None:
            data = act.plan.resolve(_buttons(messages[-1]), await pool_of_ids(w))
        await sender.tap_data(data, target)
    elif act.kind == "file":
        if isinstance(chat, FakeGroup):
            return
        if act.value == "photo":
            await sender.send_photo(caption="Légende <b>&")
        else:
            await sender.send_document("piece <i>.pdf", caption="Pièce & <x>")
    elif isinstance(chat, FakeGroup):
        await chat.send(sender, act.value)
    else:
        await sender.send(act.value, entities=list(act.entities) or None)
    if w.bot.errors:
        errors, w.bot.errors[:] = list(w.bot.errors), []
        raise AssertionError(f"a handler raised on {act!r}: {errors!r}")
    if act.kind in ("tap", "raw"):
        assert len(sender.callback_answers) == answers + 1, f"no callback answer to {act!r}"
        return
    if isinstance(chat, FakeGroup) and not COMMAND.match(act.value):
        return  # the Caf's group is read-only: text there gets no answer, commands a hint
    replies = [
        c for c in w.fake.calls[before_calls:] if c.method in REPLIES and c.chat_id == chat.chat_id
    ]
    assert replies, f"no answer to {act!r}: {w.fake.describe_calls()}"


async def outbox_clean(w: World) -> None:
    """Notifications built by handlers went through: none refused by (the fake) Telegram."""
    rows = await w.db.fetch_all(
        "SELECT id, kind, last_error FROM outbox WHERE last_error IS NOT NULL OR status = 'failed'"
    )
    fresh = [tuple(r) for r in rows if int(r[0]) not in w.outbox_errors_seen]
    w.outbox_errors_seen.update(int(r[0]) for r in rows)
    assert not fresh, f"notifications refused by Telegram: {fresh!r}"


Reach = Callable[[World], Awaitable[None]]


@dataclass(frozen=True)
class Flow:
    name: str
    actor: str
    steps: dict[str, Reach]


def fuzz(w: World, flow: Flow, *, examples: int, inputs: int, soak: bool) -> Callable[[], None]:
    """The hypothesis test of one flow, to be run in a worker thread."""
    run = Bridge(asyncio.get_running_loop())

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=not soak,
        database=None,
        # The bot's state moves on between examples: a soak reports what it found as found,
        # rather than spend its time shrinking against a database that is no longer the same.
        phases=[Phase.generate] if soak else [Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        step = data.draw(st.sampled_from(sorted(flow.steps)), label="step")
        who = run(actor_of(w, flow.actor))
        run(flow.steps[step](w))
        before = run(snapshot(w, who))
        for _ in range(data.draw(st.integers(1, inputs), label="inputs")):
            run(perform(w, who, data.draw(ACTS, label="input")))
        run(outbox_settled(w.network))
        after = run(snapshot(w, who))
        problems = compare(before, after)
        assert not problems, f"{who.key} changed what is not theirs: {problems}"
        run(outbox_clean(w))

    return check


# ---------------------------------------------------------------------------------------------
# The flows and their steps: each step is reached the way a person would, from a menu entry.

Move = Callable[[World, FakeUser], Awaitable[None]]


def say(text: str) -> Move:
    async def move(w: World, user: FakeUser) -> None:
        await user.send(text)

    return move


def tap(*labels: str, prefix: bool = False, contains: bool = False) -> Move:
    """The first of `labels` found on the last message (by prefix or substring if asked)."""

    async def move(w: World, user: FakeUser) -> None:
        # The latest message with buttons: a file sent with a card comes after the card.
        message = next((m for m in reversed(user.bot_messages) if m.inline_buttons), None)
        shown = message.labels if message else []
        for wanted in labels:
            for label in shown:
                if (
                    label == wanted
                    or (prefix and label.startswith(wanted))
                    or (contains and wanted in label)
                ):
                    await user.tap(label, message)
                    return
        raise AssertionError(f"none of {labels} in {shown} ({user.last_message.text!r})")

    return move


def press(make: Callable[[World], callbacks.Callback | Awaitable[callbacks.Callback]]) -> Move:
    """A button of the bot's own making, tapped on the last message (labels may be fuzzed)."""

    async def move(w: World, user: FakeUser) -> None:
        payload = make(w)
        if inspect.isawaitable(payload):
            payload = await payload
        await user.tap_data(callbacks.encode(payload), user.last_message)

    return move


def ensure(make: Callable[[World], Awaitable[None]]) -> Move:
    async def move(w: World, user: FakeUser) -> None:
        await make(w)

    return move


def notice(text: str, make: Callable[[World], Awaitable[callbacks.Callback]], label: str) -> Move:
    """A notice as the outbox would deliver it, with its one button."""

    async def move(w: World, user: FakeUser) -> None:
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup

        data = callbacks.encode(await make(w))
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        await w.bot.app.bot.send_message(user.chat_id, text, reply_markup=markup)

    return move


def path(actor: str, *moves: Move) -> Reach:
    async def reach(w: World) -> None:
        user = w.users[actor]
        for move in moves:
            await move(w, user)

    return reach


def steps(actor: str, **paths: Sequence[Move]) -> dict[str, Reach]:
    return {name: path(actor, *moves) for name, moves in paths.items()}


def _site(w: World) -> int:
    return w.network.site.id


def _albert(w: World) -> int:
    return w.network.other_site.id


async def _first_id(w: World, sql: str, **params: object) -> int:
    value = await w.db.fetch_value(sql, params)
    assert value is not None, sql
    return int(value)


async def ensure_open_signal(w: World) -> None:
    if await w.db.fetch_value(
        "SELECT COUNT(*) FROM signals WHERE caf_id = :caf AND status != 'resolved'",
        {"caf": w.network.caf.id},
    ):
        return
    async with w.db.transaction() as tx:
        await signal_store.raise_signal(
            tx,
            caf_id=w.network.caf.id,
            partner_id=w.network.site.id,
            kind=SignalKind.DIFFICULTY,
            reporter_id=w.person_ids["agent"],
            category="teleprocedure",
            urgency="normale",
            description="Encore bloqué.",
            now=w.now(),
        )


async def ensure_closure(w: World) -> None:
    if await w.db.fetch_value(
        "SELECT COUNT(*) FROM closures WHERE partner_id = :p AND cancelled_at IS NULL",
        {"p": w.network.site.id},
    ):
        return
    count = await w.db.fetch_value("SELECT COUNT(*) FROM closures")
    async with w.db.transaction() as tx:
        start = date(2026, 12, 1) + timedelta(days=int(count))
        await closures.declare(
            tx,
            partner_id=w.network.site.id,
            start=start,
            end=start,
            reason="conges",
            note=None,
            by=w.person_ids["manager"],
            now=w.now(),
        )


async def ensure_document(w: World) -> None:
    if await w.db.fetch_value(
        "SELECT COUNT(*) FROM documents WHERE caf_id = :caf", {"caf": w.network.caf.id}
    ):
        return
    async with w.db.transaction() as tx:
        await documents.add(
            tx,
            caf_id=w.network.caf.id,
            title="Fiche",
            url="https://www.caf.fr/fiche",
            created_by=w.person_ids["coordinator"],
            now=w.now(),
        )


async def ensure_action_item(w: World) -> None:
    if await site_reviews.open_items(w.db, w.network.site.id):
        return
    state = (
        DraftState(visited_on=date(2026, 11, 20), answers=dict.fromkeys(CHECK_KEYS, True))
        .with_remarks(None)
        .adding_item()
        .with_description("Former l'agent.")
        .with_owner(Owner.BOTH)
        .with_due(date(2027, 1, 15))
    )
    async with w.db.transaction() as tx:
        await site_reviews.record(
            tx,
            caf_id=w.network.caf.id,
            partner_id=w.network.site.id,
            state=state,
            by=w.person_ids["coordinator"],
            now=w.now(),
        )


async def newcomer(w: World) -> None:
    """A new agent at the site, for a step that ends with them gone (their data erased)."""
    user = await w.network.join(Role.AGENT, first_name="Chloé")
    member = await people.member_by_telegram_id(w.db, user.user_id)
    assert member is not None
    w.person_ids["newcomer"] = member.person.id


async def _label_tap(w: World) -> callbacks.Callback:
    status = await w.db.fetch_value(
        "SELECT label_status FROM partners WHERE id = :p", {"p": _albert(w)}
    )
    return NetworkTap("label", _albert(w), 1 if status == "active" else 0)


async def _label_move(w: World, user: FakeUser) -> None:
    await user.tap_data(callbacks.encode(await _label_tap(w)), user.last_message)


async def _rsvp(w: World) -> callbacks.Callback:
    event = await _first_id(
        w, "SELECT id FROM events WHERE caf_id = :caf ORDER BY id", caf=w.network.caf.id
    )
    return callbacks.RsvpTap(event, "yes")


async def _read(w: World) -> callbacks.Callback:
    notice_id = await _first_id(
        w, "SELECT id FROM announcements WHERE caf_id = :caf ORDER BY id", caf=w.network.caf.id
    )
    return callbacks.ReadTap(notice_id)


async def _transmit(w: World) -> callbacks.Callback:
    report = await _first_id(
        w, "SELECT id FROM period_reports WHERE partner_id = :p", p=w.network.site.id
    )
    return callbacks.TransmitTap("ok", report)


async def _open_signal(w: World) -> callbacks.Callback:
    """One of the agent's signals the Caf has not closed (it takes answers)."""
    signal = await _first_id(
        w,
        "SELECT id FROM signals WHERE reporter_id = :p AND status != 'resolved' ORDER BY id",
        p=w.person_ids["agent"],
    )
    return callbacks.SignalTap("one", signal, "0", "0")


Q3_2026 = 2_000_000 + 2026 * 100 + 3
PROFILE = ["Femme", "25 – 60 ans", "Allocataire", "Débutant"]
VISIT = [*PROFILE, "Demande de prestation", "Accomp. démarche en ligne"]
VISIT += ["Logement et cadre de vie", "Oui"]


async def training_off(w: World) -> None:
    await visit_store.set_training_mode(w.db, w.person_ids["agent"], False)


def _visit(n: int) -> list[Move]:
    start = [ensure(training_off), say("/annuler"), say("/visite")]
    return [*start, *(tap(label) for label in VISIT[:n])]


VISIT_FLOW = Flow(
    "visit",
    "agent",
    steps(
        "agent",
        sexe=_visit(0),
        age=_visit(1),
        statut=_visit(2),
        autonomie=_visit(3),
        demande=_visit(4),
        action=_visit(5),
        theme=_visit(6),
        resolution=_visit(7),
        saved=_visit(8),
        modify=[*_visit(8), tap("✏️ Modifier")],
        earlier=[*_visit(0), tap("🕘 Plus tôt ou un autre jour")],
        resume=[*_visit(4), say("/visite")],
    ),
)

_SIGNALS = [say("/signaler")]
_DIFF = [*_SIGNALS, tap("⚠️ Une difficulté")]
_DESCRIPTION = [*_DIFF, tap("Une téléprocédure"), tap("Urgente : le public est bloqué")]
_TRAIN = [*_SIGNALS, tap("🎓 Un besoin de formation")]
_TODAY = [*_SIGNALS, tap("🚪 Le site est fermé aujourd'hui")]
_MINE = [*_SIGNALS, tap("📋 Mes signalements")]
SIGNALS_FLOW = Flow(
    "signals",
    "agent",
    steps(
        "agent",
        home=_SIGNALS,
        category=_DIFF,
        urgency=[*_DIFF, tap("Une téléprocédure")],
        description=_DESCRIPTION,
        topic=_TRAIN,
        note=[*_TRAIN, tap("Téléprocédures")],
        closed_today=_TODAY,
        closed_saved=[*_TODAY, tap("Panne (informatique, réseau)")],
        mine=_MINE,
        one=[*_MINE, tap("n° ", contains=True)],
        answer=[*_SIGNALS, press(_open_signal), tap("↩️ Répondre à la Caf")],
        notice=[notice("📂 Réponse de la Caf", _open_signal, "📂 Voir le signalement")],
    ),
)

_HOURS = [say("/horaires")]
_WEEK = [*_HOURS, tap("✏️ Modifier les horaires", "✏️ Reprendre la modification")]
_REVIEW = [*_WEEK, tap("Suivant ▶️")]
_CAL = [*_HOURS, tap("➕ Fermeture exceptionnelle")]
_REASONS = [*_CAL, say("24/12")]
HOURS_FLOW = Flow(
    "hours",
    "manager",
    steps(
        "manager",
        home=_HOURS,
        week=_WEEK,
        day=[*_WEEK, tap("Lundi :", prefix=True)],
        review=_REVIEW,
        effective=[*_REVIEW, tap("📅 Changer la date d'effet")],
        history=[*_HOURS, tap("📜 Historique des horaires")],
        calendar=_CAL,
        first_day=[*_CAL, tap("28")],
        reasons=_REASONS,
        note=[*_REASONS, tap("Congés, pont")],
        cancel=[
            ensure(ensure_closure),
            *_HOURS,
            tap("✖️ Annuler la fermeture", prefix=True),
        ],
    ),
)

_INBOX = [say("/signalements")]
_ITEM = [ensure(ensure_open_signal), *_INBOX, tap("n° ", contains=True)]
INBOX_FLOW = Flow(
    "inbox",
    "coordinator",
    steps(
        "coordinator",
        list=_INBOX,
        kinds=[*_INBOX, tap("🔎 Par type")],
        sites=[*_INBOX, tap("🏢 Par site")],
        item=_ITEM,
        reply=[*_ITEM, tap("↩️ Répondre")],
        resolve=[*_ITEM, tap("✔️ Clore")],
    ),
)

_NEWS = [say("/diffuser")]
_COMPOSE = [*_NEWS, tap("✍️ Nouvelle information"), say("Information du réseau")]
BROADCAST_FLOW = Flow(
    "broadcast",
    "coordinator",
    steps(
        "coordinator",
        home=_NEWS,
        body=[*_NEWS, tap("✍️ Nouvelle information")],
        compose=_COMPOSE,
        sites=[*_COMPOSE, tap("🏢 Choisir des sites")],
        confirm=[*_COMPOSE, tap("📨 Envoyer maintenant")],
        when=[*_COMPOSE, tap("🗓 Programmer")],
        sent=[*_COMPOSE, tap("📨 Envoyer maintenant"), tap("✅ Oui, envoyer", prefix=True)],
    ),
)

_EVENTS = [say("/evenements")]
_NEW = [*_EVENTS, tap("➕ Nouvel événement")]
_TITLE = [*_NEW, tap("Journée annuelle de formation")]
_START = [*_TITLE, tap("Garder « Journée annuelle de formation »")]
_END = [*_START, say("15/12 à 9h30")]
_PLACE = [*_END, say("17h")]
_CAPACITY = [*_PLACE, say("Maison des associations, Amiens")]
_DEADLINE = [*_CAPACITY, tap("Sans limite")]
_DRAFT = [*_DEADLINE, tap("2 jours avant")]
_PUBLISHED = [*_DRAFT, tap("📨 Publier", prefix=True)]
EVENTS_FLOW = Flow(
    "events",
    "coordinator",
    steps(
        "coordinator",
        home=_EVENTS,
        kinds=_NEW,
        title=_TITLE,
        start=_START,
        end=_END,
        place=_PLACE,
        capacity=_CAPACITY,
        deadline=_DEADLINE,
        draft=_DRAFT,
        sites=[*_DRAFT, tap("🏢 Choisir des sites")],
        published=_PUBLISHED,
        answers=[*_PUBLISHED, tap("👥 Réponses")],
        cancel=[*_PUBLISHED, tap("✖️ Annuler l'événement")],
    ),
)

_DOCS = [say("/documentation")]
_DOC_ITEM = [ensure(ensure_document), *_DOCS, tap("🔗", "📎", prefix=True)]
DOCUMENTATION_FLOW = Flow(
    "documentation",
    "coordinator",
    steps(
        "coordinator",
        list=_DOCS,
        link_title=[*_DOCS, tap("➕ Ajouter un lien")],
        link_url=[*_DOCS, tap("➕ Ajouter un lien"), say("Guide")],
        file_title=[*_DOCS, tap("➕ Ajouter un fichier")],
        file=[*_DOCS, tap("➕ Ajouter un fichier"), say("Guide")],
        item=_DOC_ITEM,
        remove=[*_DOC_ITEM, tap("🗑 Retirer")],
    ),
)

_NET = [say("/reseau")]
_SITE = [*_NET, press(lambda w: NetworkTap("site", _site(w), 0))]
_ADD = [*_NET, tap("➕ Ajouter un site")]
NETWORK_FLOW = Flow(
    "network",
    "coordinator",
    steps(
        "coordinator",
        home=_NET,
        site=_SITE,
        edit_menu=[*_SITE, tap("✏️ Modifier")],
        name=[*_SITE, press(lambda w: NetworkTap("edit", _albert(w), 0))],
        city=[*_SITE, press(lambda w: NetworkTap("edit", _site(w), 1))],
        address=[*_SITE, press(lambda w: NetworkTap("edit", _site(w), 2))],
        convention=[*_SITE, press(lambda w: NetworkTap("edit", _site(w), 3))],
        new_name=_ADD,
        new_city=[*_ADD, say("Centre social")],
        new_address=[*_ADD, say("Centre social"), say("Péronne")],
        label=[*_SITE, _label_move],
        people=[*_SITE, press(lambda w: NetworkTap("people", _site(w), 0))],
        person=[*_SITE, press(lambda w: NetworkTap("person", w.person_ids["colleague"], 0))],
        revoke=[*_SITE, press(lambda w: NetworkTap("revoke", w.person_ids["colleague"], 0))],
        invite=[*_SITE, press(lambda w: NetworkTap("ia", _site(w), 0))],
        erase=[
            ensure(newcomer),
            *_SITE,
            press(lambda w: NetworkTap("person", w.person_ids["newcomer"], 0)),
            tap("🗑 Effacer ses données"),
        ],
        audit=[*_NET, press(lambda w: NetworkTap("audit", 0, 0))],
        coordination=[*_NET, press(lambda w: NetworkTap("coords", 0, 0))],
    ),
)

_REVIEW_HOME = [
    say("/annuler"),
    *_SITE,
    press(lambda w: ReviewTap("home", _site(w), 0)),
]
_DATE = [*_REVIEW_HOME, tap("➕ Enregistrer une visite", "✏️ Reprendre la visite en cours")]
_CHECKS = [*_DATE, tap("Aujourd'hui", prefix=True)]
# At the checklist's last point (« non » to it reaches the remarks).
_REMARKS = [*_CHECKS, *[tap("✅ Oui")] * (len(CHECK_KEYS) - 1)]
_PLAN = [*_REMARKS, tap("❌ Non"), tap("Passer ▶️")]
_ITEM_TEXT = [*_PLAN, tap("➕ Ajouter une action")]
YEARLY_VISIT_FLOW = Flow(
    "yearly_visit",
    "coordinator",
    steps(
        "coordinator",
        home=_REVIEW_HOME,
        done=[ensure(ensure_action_item), *_REVIEW_HOME, tap("✅ 1.", prefix=True)],
        date=_DATE,
        premises=_CHECKS,
        equipment=[*_CHECKS, tap("✅ Oui")],
        hours=[*_CHECKS, tap("✅ Oui"), tap("❌ Non")],
        remarks=[*_REMARKS, tap("❌ Non")],
        plan=_PLAN,
        item_text=_ITEM_TEXT,
        owner=[*_ITEM_TEXT, say("Former l'agent à Mon Compte")],
        due=[*_ITEM_TEXT, say("Former l'agent à Mon Compte"), tap("Partenaire")],
        drop=[*_DATE, tap("✖️ Abandonner")],
    ),
)

INDICATORS_FLOW = Flow(
    "indicators",
    "manager",
    steps(
        "manager",
        screen=[say("/indicateurs")],
        last_quarter=[
            say("/indicateurs"),
            press(lambda w: IndicatorTap("view", _site(w), Q3_2026)),
        ],
        transmit=[notice("📨 Indicateurs à valider", _transmit, "✅ Je valide et transmets")],
        team=[say("/equipe")],
        team_person=[
            say("/equipe"),
            press(lambda w: NetworkTap("person", w.person_ids["colleague"], 0)),
        ],
    ),
)

COORDINATION_FLOW = Flow(
    "coordination",
    "coordinator",
    steps(
        "coordinator",
        caf=[say("/indicateurs")],
        sites=[say("/indicateurs"), tap("🏢 Un site")],
        site=[say("/indicateurs"), press(lambda w: IndicatorTap("view", _site(w), Q3_2026))],
        transmissions=[say("/indicateurs"), press(lambda w: IndicatorTap("tr", 0, Q3_2026))],
        compliance=[say("/conformite")],
        compliance_site=[
            say("/conformite"),
            press(lambda w: ComplianceTap("site", _site(w), 0)),
        ],
    ),
)

MENU_FLOW = Flow(
    "menu",
    "agent",
    steps(
        "agent",
        menu=[say("/start")],
        figures=[say("/chiffres")],
        documentation=[say("/documentation")],
        training=[say("/formation")],
        my_data=[say("/mesdonnees")],
        invitation=[notice("📅 Invitation de votre Caf", _rsvp, "✅ Je participe")],
        must_read=[notice("📢 À lire", _read, "✅ J'ai lu")],
    ),
)
STRANGER_FLOW = Flow("stranger", "stranger", {"start": path("agent")})
REVOKED_FLOW = Flow("revoked", "revoked", steps("revoked", start=[say("/start")]))
GROUP_FLOW = Flow("group", "group", {"group": path("agent")})

FLOWS = [
    VISIT_FLOW,
    SIGNALS_FLOW,
    HOURS_FLOW,
    INBOX_FLOW,
    BROADCAST_FLOW,
    EVENTS_FLOW,
    DOCUMENTATION_FLOW,
    NETWORK_FLOW,
    YEARLY_VISIT_FLOW,
    INDICATORS_FLOW,
    COORDINATION_FLOW,
    MENU_FLOW,
    STRANGER_FLOW,
    REVOKED_FLOW,
    GROUP_FLOW,
]


async def go(user: FakeUser, w: World, *moves: Move) -> None:
    """One person through a path of moves."""
    for move in moves:
        await move(w, user)
