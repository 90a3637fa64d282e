"""The authorisation matrix: every command, menu entry and button, tried by every kind of person
of DESIGN.md §1, allowed or refused exactly as the permission table says.

What is expected comes from the permission table in code (`bot.domain.permissions.decide`) and
from ownership (a coordinator acts on their own Caf's objects, a manager on their own site's, a
person on their own drafts and signals). The one hand-written part is the map below from each
command, menu entry and button (`prefix:op`) to the Action its handler asks for, read off the
handlers' `require(...)` / `dispatch_tap(action=...)` calls, with the scope of the object the
button names. Commands and buttons are enumerated from what `bot/app.py` registers, so a new
one without a row fails `test_every_command_and_button_has_a_row` by name.

"Refused" means: the bot answers (the permission table's explanation, or « Ce menu a expiré »
for somebody else's object) and the database is exactly as before: every table (audit log and
pending inputs included) but for the bookkeeping listed at `IGNORED_TABLES`, and no message
queued. "Allowed" means: no such answer, no handler error, and for a command a screen (for a
menu entry's command, the same as its menu button's). Each cell starts from the same
database: after a cell changed anything, the file is restored from a copy taken once the
world was built, so one bot serves the whole matrix.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import re
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import app as bot_app
from bot.domain.events import CAPACITIES, Answer, EventKind
from bot.domain.periods import reporting_period_of
from bot.domain.permissions import Action, Actor, LabelStatus, PersonStatus, Refusal, Role, decide
from bot.domain.secrecy import SECRECY_VERSION
from bot.domain.signals import CLOSURE_REASONS, DIFFICULTY_CATEGORIES, TRAINING_TOPICS, URGENCIES
from bot.domain.site_reviews import (
    CHECK_KEYS,
    DUE_CHOICES_MONTHS,
    DraftState,
    Owner,
    PlannedItem,
    Step,
)
from bot.domain.visits import Op
from bot.sandbox.bot_api import FakeMessage, FakeUser
from bot.ui import callbacks, menus
from bot.ui.callbacks import (
    BroadcastTap,
    DocTap,
    EventTap,
    HoursTap,
    NetworkTap,
    SignalTap,
    SiteHoursTap,
)
from bot.ui.render import render
from bot.ui.screens.hours import HoursOp
from conversations.taps import TapTable
from storage import announcements, closures, documents, people, period_reports
from storage import events as event_store
from storage import invitations as invitation_store
from storage import signals as signal_store
from storage import site_reviews as review_store
from storage import visits as visit_store
from storage.db import Database
from storage.timefmt import to_db
from tests.conftest import Network, RunningBot
from tests.e2e.test_visit import TYPICAL, log_visit
from tests.fuzz.harness import news, sent_notice


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Broadcasts and invitations that allowed cells send leave at once (the outbox is drained
    # before each restore); the scheduler ticks once at start-up and not during the matrix.
    return {
        "broadcast_max_rate": 1000,
        "outbox_chat_interval_seconds": 0,
        "scheduler_interval_seconds": 3600,
    }


# ------------------------------------------------------------------------------ the people
SITE, OTHER_SITE, SUSPENDED_SITE, WITHDRAWN_SITE = "site", "other_site", "suspended", "withdrawn"
LABEL_OF_SITE = {
    SITE: LabelStatus.ACTIVE,
    OTHER_SITE: LabelStatus.ACTIVE,
    SUSPENDED_SITE: LabelStatus.SUSPENDED,
    WITHDRAWN_SITE: LabelStatus.WITHDRAWN,
}
THIS_CAF, OTHER_CAF = "this", "other"
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Kind:
    """A kind of person of DESIGN.md §1, as the world below makes one."""

    name: str
    role: Role | None
    caf: str | None = None
    site: str | None = None
    revoked: bool = False

    @property
    def actor(self) -> Actor:
        """What the permission table is asked about, from the world's intent (not the bot's)."""
        return Actor(
            role=self.role,
            status=PersonStatus.REVOKED if self.revoked else PersonStatus.ACTIVE,
            label=LABEL_OF_SITE[self.site] if self.site else None,
        )


KINDS = (
    Kind("stranger", None),
    Kind("agent", Role.AGENT, THIS_CAF, SITE),
    Kind("manager", Role.MANAGER, THIS_CAF, SITE),
    Kind("coordinator", Role.COORDINATOR, THIS_CAF),
    Kind("other_caf_coordinator", Role.COORDINATOR, OTHER_CAF),
    Kind("other_site_manager", Role.MANAGER, THIS_CAF, OTHER_SITE),
    Kind("revoked_agent", Role.AGENT, THIS_CAF, SITE, revoked=True),
    Kind("revoked_coordinator", Role.COORDINATOR, THIS_CAF, revoked=True),
    Kind("suspended_agent", Role.AGENT, THIS_CAF, SUSPENDED_SITE),
    Kind("suspended_manager", Role.MANAGER, THIS_CAF, SUSPENDED_SITE),
    Kind("withdrawn_agent", Role.AGENT, THIS_CAF, WITHDRAWN_SITE),
    Kind("withdrawn_manager", Role.MANAGER, THIS_CAF, WITHDRAWN_SITE),
)


# ------------------------------------------------------------------------------ the world
@dataclass
class World:
    """This Caf with its four sites and the objects the buttons name, plus another Caf."""

    network: Network
    users: dict[str, FakeUser] = field(default_factory=dict)
    person_ids: dict[str, int] = field(default_factory=dict)
    sites: dict[str, int] = field(default_factory=dict)
    today: date = date.min
    visit: int = 0  # the agent's saved visit
    training_visit: int = 0  # the agent's visit in training mode
    draft: int = 0  # the agent's open visit draft…
    draft_revision: int = 0
    draft_message: FakeMessage | None = None  # …and the message it lives in
    signal: int = 0  # raised by the agent (the new-agent training need)
    closure: int = 0  # declared by the agent for today
    document: int = 0
    draft_news: int = 0  # the coordinator's draft announcement
    must_read: int = 0  # a must-read notice sent to this Caf
    readers: frozenset[int] = frozenset()
    draft_event: int = 0
    event: int = 0  # published, the agent going
    invited: frozenset[int] = frozenset()
    report: int = 0  # the site's period report, to validate
    action_item: int = 0  # from the site's yearly visit
    period: int = 0  # the current reporting period's code

    @property
    def db(self) -> Database:
        return self.network.db

    @property
    def now(self) -> datetime:
        return self.network.clock.now()

    def home_message(self, kind: Kind) -> FakeMessage:
        """The message a person's taps come from: the bot's first one (welcome or /start)."""
        return self.users[kind.name].bot_messages[0]


async def build_world(network: Network) -> World:
    world = World(network=network)
    clock = network.clock
    world.today = clock.now().astimezone(PARIS).date()
    other_caf = await network.add_caf("Caf de l'Oise")
    other_caf_site = await network.add_site("Mairie de Beauvais", caf=other_caf)
    suspended = await network.add_site("Médiathèque de Péronne")
    withdrawn = await network.add_site("Centre social de Roye")
    world.sites = {
        SITE: network.site.id,
        OTHER_SITE: network.other_site.id,
        SUSPENDED_SITE: suspended.id,
        WITHDRAWN_SITE: withdrawn.id,
    }
    site_of = {
        SITE: network.site,
        OTHER_SITE: network.other_site,
        SUSPENDED_SITE: suspended,
        WITHDRAWN_SITE: withdrawn,
    }
    assert other_caf_site.caf_id == other_caf.id
    for kind in KINDS:
        if kind.role is None:
            user = network.stranger("Inconnu")
            await user.send("/start")
        else:
            user = await network.join(
                kind.role,
                partner=site_of[kind.site] if kind.site else None,
                caf=other_caf if kind.caf == OTHER_CAF else None,
                first_name=kind.name.replace("_", " ").title(),
            )
            member = await people.member_by_telegram_id(network.db, user.user_id)
            assert member is not None
            world.person_ids[kind.name] = member.person.id
        world.users[kind.name] = user
    await _agent_objects(world)
    await _caf_objects(world)
    # Access and labels change last: the revoked and the withdrawn got the news and the
    # invitation while they could, so their « J'ai lu » and RSVP buttons are genuine ones.
    for kind in KINDS:
        if kind.revoked:
            await people.set_status(
                network.db, world.person_ids[kind.name], PersonStatus.REVOKED, clock.now()
            )
    await network.set_label(suspended, LabelStatus.SUSPENDED)
    await network.set_label(withdrawn, LabelStatus.WITHDRAWN)
    for kind in KINDS:  # the world is what the table is asked about
        if kind.role is not None:
            member = await people.member_by_telegram_id(network.db, world.users[kind.name].user_id)
            assert member is not None and member.actor == kind.actor, (kind, member)
    return world


async def _agent_objects(world: World) -> None:
    """A saved visit, a training visit and an open draft, logged through the bot."""
    agent = world.users["agent"]
    pid = world.person_ids["agent"]
    await log_visit(agent, TYPICAL)
    await agent.send("/formation")
    await log_visit(agent, TYPICAL)
    await agent.send("/formation")
    await agent.tap("📝 Nouvelle visite")
    world.draft_message = agent.last_message
    world.visit = await world.db.fetch_value(
        "SELECT MAX(id) FROM visits WHERE person_id = :p", {"p": pid}
    )
    world.training_visit = await world.db.fetch_value(
        "SELECT MAX(id) FROM training_visits WHERE person_id = :p", {"p": pid}
    )
    draft = await visit_store.open_draft(world.db, pid)
    assert world.visit and world.training_visit and draft is not None
    assert draft.message_id == world.draft_message.message_id
    world.draft, world.draft_revision = draft.id, draft.revision
    [signal] = await signal_store.for_reporter_site(world.db, pid, world.sites[SITE])
    world.signal = signal.id
    async with world.db.transaction() as tx:
        closure, _ = await closures.declare(
            tx,
            partner_id=world.sites[SITE],
            start=world.today,
            end=world.today,
            reason=CLOSURE_REASONS[0].code,
            note=None,
            by=pid,
            now=world.now,
        )
    world.closure = closure.id


async def _caf_objects(world: World) -> None:
    """What the coordinator keeps: news, events, documents, a period report, a yearly visit."""
    network, now = world.network, world.now
    coordinator = world.person_ids["coordinator"]
    caf_id = network.caf.id
    async with world.db.transaction() as tx:
        document = await documents.add(
            tx, caf_id=caf_id, title="Guide", url="https://www.caf.fr/", created_by=None, now=now
        )
        draft = await news(tx, caf_id, coordinator, "Brouillon", now)
        sent = await sent_notice(tx, caf_id, coordinator, "À lire", now, read_button=True)
        # A draft event and a published one, a month ahead.
        draft_event, event = [
            await event_store.create(
                tx,
                caf_id=caf_id,
                kind=kind,
                title=title,
                place="Amiens",
                visio_url=None,
                capacity=None,
                created_by=coordinator,
                now=now,
                starts_at=now + timedelta(days=30),
                ends_at=now + timedelta(days=30, hours=3),
                rsvp_deadline=now + timedelta(days=20),
            )
            for kind, title in (
                (EventKind.TRAINING_DAY, "Journée de formation"),
                (EventKind.COMMITTEE_NETWORK, "Comité de pilotage"),
            )
        ]
        await event_store.set_fields(tx, event.id, now, status="published")
        invited = await event_store.invite_audience(tx, event)
        await event_store.set_answer(tx, event.id, world.person_ids["agent"], Answer.GOING, now)
        period = reporting_period_of(world.today, network.caf.reporting_period)
        # The current period's, as if it had ended (the sites were made today).
        starts_at, ends_at = period.bounds(PARIS)
        await period_reports.open_for_caf(
            tx, caf_id, period, starts_at=starts_at, ends_at=ends_at, now=now
        )
        review_state = DraftState(
            step=Step.PLAN,
            visited_on=world.today,
            answers=dict.fromkeys(CHECK_KEYS, True),
            items=(
                PlannedItem(
                    "Afficher les horaires", Owner.PARTNER, world.today + timedelta(days=60)
                ),
            ),
        )
        _, items = await review_store.record(
            tx,
            caf_id=caf_id,
            partner_id=world.sites[SITE],
            state=review_state,
            by=coordinator,
            now=now,
        )
    report = await period_reports.of_partner(world.db, world.sites[SITE], period.key)
    assert report is not None
    world.document, world.draft_news, world.must_read = document.id, draft.id, sent.id
    world.readers = frozenset(r.person_id for r in await announcements.readers(world.db, sent.id))
    world.draft_event, world.event, world.invited = draft_event.id, event.id, frozenset(invited)
    world.report, world.action_item, world.period = report.id, items[0].id, period.code


# ------------------------------------------------------------------------------ scopes
# Whose object a button names. A person the permission table lets through is still refused
# (« Ce menu a expiré ») outside the scope: another Caf, another site, another person's draft.
Scope = Callable[[World, Kind], bool]


def anyone(world: World, kind: Kind) -> bool:
    """Screens of the person's own Caf or site, or their own context: no object named."""
    return True


def this_caf(world: World, kind: Kind) -> bool:
    """An object of this Caf (a signal, a document, an announcement, an event)."""
    return kind.caf == THIS_CAF


def this_site(world: World, kind: Kind) -> bool:
    """An object of the site: this Caf's coordinators and the site's own people."""
    return kind.caf == THIS_CAF and (kind.role is Role.COORDINATOR or kind.site == SITE)


def this_caf_coordinators(world: World, kind: Kind) -> bool:
    """Another site of this Caf, where a coordinator places people; a site's manager does
    not reach it."""
    return kind.caf == THIS_CAF and kind.role is Role.COORDINATOR


def coordinators(world: World, kind: Kind) -> bool:
    """A Caf-wide view (the whole Caf's figures, who transmitted): any Caf's coordinator sees
    their own; a site's manager never does."""
    return kind.role is Role.COORDINATOR


def only(name: str) -> Scope:
    """A person's own thing: a visit draft, a saved visit, a signal they raised."""

    def scope(world: World, kind: Kind) -> bool:
        return kind.name == name

    scope.__name__ = f"only {name}"
    return scope


def readers(world: World, kind: Kind) -> bool:
    """The people the must-read notice was sent to."""
    return world.person_ids.get(kind.name) in world.readers


def invited(world: World, kind: Kind) -> bool:
    return world.person_ids.get(kind.name) in world.invited


# ------------------------------------------------------------------------------ the table
Payload = Callable[[World], callbacks.Callback | Awaitable[callbacks.Callback]]


@dataclass(frozen=True)
class Tap:
    """A button: the Action(s) its handler requires (any one suffices), the scope of what it
    names, and how to build genuine data for this world's objects."""

    actions: tuple[Action, ...]
    scope: Scope
    payload: Payload
    on_draft: bool = False  # tapped, by the draft's owner, on the draft's own message
    informational: bool = False


def _tap(action: Action | tuple[Action, ...], scope: Scope, payload: Payload, **kw: Any) -> Tap:
    return Tap(action if isinstance(action, tuple) else (action,), scope, payload, **kw)


def _table_tap(scope: Scope, payload: Payload, **kw: Any) -> Tap:
    """A button of a flow's tap table (conversations/taps.py): the table says what it
    requires, the row here only the scope of what it names and how to build it."""
    return Tap((), scope, payload, **kw)


def _day(world: World, days: int) -> int:
    day = world.today + timedelta(days=days)
    return day.year * 10000 + day.month * 100 + day.day


def _visit_value(op: Op) -> str:
    """A value that fits the draft's first step (other ops may answer « pas maintenant »)."""
    return {Op.ANSWER: "femme", Op.ADD: "demande", Op.DAY: "today", Op.SECTION: "profile"}.get(
        op, "x"
    )


def _review_at(op: str, state: Callable[[World], DraftState], value: int = 0) -> Payload:
    """The coordinator's yearly-visit draft put at the step this button belongs to."""

    async def build(world: World) -> callbacks.Callback:
        person = world.person_ids["coordinator"]
        async with world.db.transaction() as tx:
            started = await review_store.start_draft(
                tx, person_id=person, partner_id=world.sites[SITE], now=world.now
            )
            draft = await review_store.save_draft(
                tx, person_id=person, revision=started.revision, state=state(world), now=world.now
            )
        assert draft is not None
        return callbacks.ReviewTap(op, draft.revision, value)

    return build


def _visited(world: World, step: Step = Step.REMARKS, **changes: Any) -> DraftState:
    return DraftState(
        step=step, visited_on=world.today, answers=dict.fromkeys(CHECK_KEYS, True), **changes
    )


def _hours_numbers(world: World, op: str) -> tuple[int, int, int]:
    """Genuine numbers for a button of 🕘 Horaires et fermetures (days ticked as a mask,
    days as yyyymmdd, a closure)."""
    week = _day(world, 7)
    return {
        "tick": (1, 0, 0),
        "dslot": (1, 0, 0),
        "fromset": (week, 0, 0),
        "save": (1, 0, 0),
        "why": (1, 0, 0),
        "pick": (week, 0, 0),
        "reason": (week, week, 0),
        "csave": (week, week, 0),
        "ccx": (world.closure, 1, 0),
    }.get(op, (0, 0, 0))


A = Action
S = SITE
TAPS: dict[tuple[str, str], Tap] = {
    # visit.TAPS: the draft must be the person's own.
    **{
        ("v", op.value): _table_tap(
            only("agent"),
            lambda w, op=op: callbacks.VisitStep(
                w.draft, w.draft_revision, op.value, _visit_value(op)
            ),
            on_draft=True,
        )
        for op in Op
    },
    # visit.SAVED_TAPS: the visit must be the person's own.
    ("sv", "undo"): _table_tap(only("agent"), lambda w: callbacks.SavedVisit(w.visit, "undo")),
    ("sv", "edit"): _table_tap(only("agent"), lambda w: callbacks.SavedVisit(w.visit, "edit")),
    ("sv", "tundo"): _table_tap(
        only("agent"), lambda w: callbacks.SavedVisit(w.training_visit, "tundo")
    ),
    # visit.MY_TAPS (🗂 Mes visites): one's own list; a visit opened or cancelled must be
    # the person's own.
    ("mv", "list"): _table_tap(anyone, lambda w: callbacks.MyVisitsTap("list", 0, 0)),
    ("mv", "open"): _table_tap(only("agent"), lambda w: callbacks.MyVisitsTap("open", w.visit, 0)),
    ("mv", "del"): _table_tap(only("agent"), lambda w: callbacks.MyVisitsTap("del", w.visit, 0)),
    ("mv", "topen"): _table_tap(
        only("agent"), lambda w: callbacks.MyVisitsTap("topen", w.training_visit, 0)
    ),
    ("mv", "tdel"): _table_tap(
        only("agent"), lambda w: callbacks.MyVisitsTap("tdel", w.training_visit, 0)
    ),
    ("mv", "delok"): _table_tap(
        only("agent"), lambda w: callbacks.MyVisitsTap("delok", w.visit, 0)
    ),
    ("mv", "tdelok"): _table_tap(
        only("agent"), lambda w: callbacks.MyVisitsTap("tdelok", w.training_visit, 0)
    ),
    # network.TAPS: the coordinators' screens, and those a manager reaches for their own
    # site's agents.
    ("n", "home"): _table_tap(anyone, lambda w: NetworkTap("home", 0, 0)),
    ("n", "coords"): _table_tap(anyone, lambda w: NetworkTap("coords", 0, 0)),
    ("n", "add"): _table_tap(anyone, lambda w: NetworkTap("add", 0, 0)),
    ("n", "audit"): _table_tap(anyone, lambda w: NetworkTap("audit", 0, 0)),
    ("n", "ic"): _table_tap(anyone, lambda w: NetworkTap("ic", 0, 1)),
    ("n", "site"): _table_tap(this_site, lambda w: NetworkTap("site", w.sites[S], 0)),
    ("n", "im"): _table_tap(this_site, lambda w: NetworkTap("im", w.sites[S], 1)),
    ("n", "label"): _table_tap(this_site, lambda w: NetworkTap("label", w.sites[S], 1)),
    ("n", "editmenu"): _table_tap(this_site, lambda w: NetworkTap("editmenu", w.sites[S], 0)),
    ("n", "edit"): _table_tap(this_site, lambda w: NetworkTap("edit", w.sites[S], 0)),
    ("n", "cert"): _table_tap(this_site, lambda w: NetworkTap("cert", w.sites[S], 0)),
    ("n", "people"): _table_tap(this_site, lambda w: NetworkTap("people", w.sites[S], 0)),
    ("n", "ia"): _table_tap(this_site, lambda w: NetworkTap("ia", w.sites[S], 1)),
    ("n", "person"): _table_tap(
        this_site, lambda w: NetworkTap("person", w.person_ids["agent"], 0)
    ),
    ("n", "revoke"): _table_tap(
        this_site, lambda w: NetworkTap("revoke", w.person_ids["agent"], 1)
    ),
    # A person's role (coordinators) and sites (coordinators, and a manager among their own
    # sites: another site is out of the site's manager's reach).
    **{
        ("n", op): _table_tap(this_site, lambda w, op=op: NetworkTap(op, w.person_ids["agent"], 2))
        for op in ("role", "roleok")
    },
    **{
        ("n", op): _table_tap(this_site, lambda w, op=op: NetworkTap(op, w.person_ids["agent"], 0))
        for op in ("move", "psites")
    },
    **{
        ("n", op): _table_tap(
            this_caf_coordinators,
            lambda w, op=op: NetworkTap(op, w.person_ids["agent"], w.sites[OTHER_SITE]),
        )
        for op in ("moveto", "padd")
    },
    ("n", "pdrop"): _table_tap(
        this_site, lambda w: NetworkTap("pdrop", w.person_ids["agent"], w.sites[S])
    ),
    # signals.TAPS: each tap requires its own Action; own signals are the reporter's only.
    **{
        ("sg", op): _table_tap(anyone, lambda w, op=op: SignalTap(op, 0, "0", "0"))
        for op in ("home", "diff")
    },
    ("sg", "dcat"): _table_tap(
        anyone, lambda w: SignalTap("dcat", 0, DIFFICULTY_CATEGORIES[0].code, "0")
    ),
    ("sg", "durg"): _table_tap(
        anyone,
        lambda w: SignalTap("durg", 0, DIFFICULTY_CATEGORIES[0].code, URGENCIES[0].code),
    ),
    ("sg", "train"): _table_tap(anyone, lambda w: SignalTap("train", 0, "0", "0")),
    ("sg", "ttop"): _table_tap(
        anyone, lambda w: SignalTap("ttop", 0, TRAINING_TOPICS[1].code, "0")
    ),
    ("sg", "tsend"): _table_tap(
        anyone, lambda w: SignalTap("tsend", 1, TRAINING_TOPICS[1].code, "0")
    ),
    ("sg", "today"): _table_tap(anyone, lambda w: SignalTap("today", 0, "0", "0")),
    ("sg", "tdr"): _table_tap(anyone, lambda w: SignalTap("tdr", 0, CLOSURE_REASONS[1].code, "0")),
    # The site's managers, or whoever declared it (the agent).
    ("sg", "tcx"): _table_tap(this_site, lambda w: SignalTap("tcx", w.closure, "0", "0")),
    ("sg", "mine"): _table_tap(anyone, lambda w: SignalTap("mine", 0, "0", "0")),
    **{
        ("sg", op): _table_tap(only("agent"), lambda w, op=op: SignalTap(op, w.signal, "0", "0"))
        for op in ("one", "reply")
    },
    # hours.TAPS: MANAGE_HOURS or MANAGE_CLOSURES, on the person's site.
    **{
        ("h", op): _table_tap(
            this_site if op == "ccx" else anyone,
            lambda w, op=op: HoursTap(op, *_hours_numbers(w, op)),
        )
        for op in HoursOp
    },
    # hours.SITE_TAPS (🕘 Horaires du site): the same buttons, naming a site of this Caf,
    # for its coordinators.
    **{
        ("hs", op): _table_tap(
            this_site, lambda w, op=op: SiteHoursTap(op, w.sites[S], *_hours_numbers(w, op))
        )
        for op in HoursOp
    },
    # inbox.TAPS: INBOX for every button; signals of this Caf only.
    **{
        ("ib", op): _table_tap(anyone, lambda w, op=op: callbacks.InboxTap(op, 0, "all", 0, 0))
        for op in ("list", "kinds", "sites")
    },
    **{
        ("ib", op): _table_tap(
            this_caf, lambda w, op=op: callbacks.InboxTap(op, w.signal, "all", 0, 0)
        )
        for op in ("item", "ack", "reply", "resolve")
    },
    # documentation.TAPS: DOCUMENTATION to read, MANAGE_NETWORK to change the list; this
    # Caf's items only.
    ("d", "list"): _table_tap(anyone, lambda w: DocTap("list", 0, 0)),
    **{
        ("d", op): _table_tap(this_caf, lambda w, op=op: DocTap(op, w.document, 0))
        for op in ("open", "item")
    },
    **{("d", op): _table_tap(anyone, lambda w, op=op: DocTap(op, 0, 0)) for op in ("addl", "addf")},
    **{
        ("d", op): _table_tap(this_caf, lambda w, op=op: DocTap(op, w.document, 0))
        for op in ("up", "down", "rm", "rmok")
    },
    # broadcast.TAPS: this Caf's announcements only.
    **{
        ("b", op): _table_tap(anyone, lambda w, op=op: BroadcastTap(op, 0, 0))
        for op in ("home", "new")
    },
    **{
        ("b", op): _table_tap(this_caf, lambda w, op=op: BroadcastTap(op, w.draft_news, 0))
        for op in ("item", "aud", "must", "sites", "confirm", "go", "when", "unsched", "drop")
    },
    ("b", "site"): _table_tap(this_caf, lambda w: BroadcastTap("site", w.draft_news, w.sites[S])),
    ("b", "at"): _table_tap(this_caf, lambda w: BroadcastTap("at", w.draft_news, _day(w, 1))),
    **{
        ("b", op): _table_tap(this_caf, lambda w, op=op: BroadcastTap(op, w.must_read, 0))
        for op in ("retry", "unread", "readby", "remind")
    },
    # broadcast.READ_TAPS: the person must be one of the recipients.
    ("rd", ""): _table_tap(readers, lambda w: callbacks.ReadTap(w.must_read)),
    # news.TAPS (📰 Actualités): one's own news; a broadcast the person got, an event they
    # are invited to.
    ("nw", "home"): _table_tap(anyone, lambda w: callbacks.NewsTap("home", 0, 0)),
    **{
        ("nw", op): _table_tap(readers, lambda w, op=op: callbacks.NewsTap(op, w.must_read, 0))
        for op in ("item", "read")
    },
    **{
        ("nw", op): _table_tap(invited, lambda w, op=op: callbacks.NewsTap(op, w.event, 0))
        for op in ("event", "yes", "no")
    },
    # events.TAPS: this Caf's events only.
    **{
        ("e", op): _table_tap(anyone, lambda w, op=op: EventTap(op, 0, 0))
        for op in ("home", "new", "kind", "default", "back", "quit")
    },
    ("e", "capacity"): _table_tap(anyone, lambda w: EventTap("capacity", 0, CAPACITIES[1] or 0)),
    **{
        ("e", op): _table_tap(this_caf, lambda w, op=op: EventTap(op, w.draft_event, 0))
        for op in ("item", "aud", "sites", "drop", "publish")
    },
    ("e", "site"): _table_tap(this_caf, lambda w: EventTap("site", w.draft_event, w.sites[S])),
    **{
        ("e", op): _table_tap(this_caf, lambda w, op=op: EventTap(op, w.event, 1))
        for op in ("answers", "presence", "cancel")
    },
    ("e", "mark"): _table_tap(this_caf, lambda w: EventTap("mark", w.event, w.person_ids["agent"])),
    # events.on_rsvp: require(ANSWER_INVITATION); the person must be invited.
    **{
        ("r", answer): _tap(
            A.ANSWER_INVITATION,
            invited,
            lambda w, answer=answer: callbacks.RsvpTap(w.event, answer),
        )
        for answer in ("yes", "no")
    },
    # indicators.TAPS: a coordinator's own Caf and its sites, a manager's own site; sites and
    # transmissions are for coordinators.
    **{
        ("ix", op): _table_tap(
            this_site, lambda w, op=op: callbacks.IndicatorTap(op, w.sites[S], w.period)
        )
        for op in ("view", "show", "charts", "xlsx", "csv")
    },
    **{
        ("ix", op): _table_tap(
            coordinators, lambda w, op=op: callbacks.IndicatorTap(op, 0, w.period)
        )
        for op in ("sites", "tr")
    },
    # indicators.TRANSMIT: the report of the manager's own site.
    ("tr", "ok"): _table_tap(this_site, lambda w: callbacks.TransmitTap("ok", w.report)),
    # compliance.TAPS: sites of this Caf.
    ("cf", "list"): _table_tap(anyone, lambda w: callbacks.ComplianceTap("list", 0, 0)),
    ("cf", "site"): _table_tap(this_site, lambda w: callbacks.ComplianceTap("site", w.sites[S], 0)),
    # caf_settings.TAPS (⚙️ Ma Caf): the coordinator's own Caf, no object named (an import's
    # buttons name the person's own waiting file: none here, a toast says so).
    **{
        ("cs", op): _table_tap(anyone, lambda w, op=op: callbacks.CafSettingsTap(op, 0))
        for op in ("home", "imp", "ok", "no", "per", "setp", "grp", "gask", "gclr", "dir")
    },
    # ⚙️ Ma Caf's town for certificates (« Fait à »): the coordinator's own Caf too.
    **{
        ("cs", op): _table_tap(anyone, lambda w, op=op: callbacks.CafSettingsTap(op, 0))
        for op in ("city", "cask", "cclr")
    },
    # yearly_visit.TAPS: sites of this Caf; the wizard's buttons move the coordinator's own
    # draft.
    **{
        ("yv", op): _table_tap(this_site, lambda w, op=op: callbacks.ReviewTap(op, w.sites[S], 0))
        for op in ("home", "new")
    },
    ("yv", "done"): _table_tap(this_site, lambda w: callbacks.ReviewTap("done", w.action_item, 1)),
    ("yv", "day"): _table_tap(only("coordinator"), _review_at("day", lambda w: DraftState())),
    ("yv", "check"): _table_tap(
        only("coordinator"),
        _review_at("check", lambda w: DraftState(Step.PREMISES, visited_on=w.today), 1),
    ),
    ("yv", "skip"): _table_tap(only("coordinator"), _review_at("skip", lambda w: _visited(w), 1)),
    ("yv", "add"): _table_tap(
        only("coordinator"), _review_at("add", lambda w: _visited(w, Step.PLAN))
    ),
    ("yv", "owner"): _table_tap(
        only("coordinator"),
        _review_at("owner", lambda w: _visited(w, Step.ITEM_OWNER, new_description="Former")),
    ),
    ("yv", "due"): _table_tap(
        only("coordinator"),
        _review_at(
            "due",
            lambda w: _visited(w, Step.ITEM_DUE, new_description="Former", new_owner=Owner.PARTNER),
            DUE_CHOICES_MONTHS[0],
        ),
    ),
    ("yv", "rm"): _table_tap(
        only("coordinator"),
        _review_at(
            "rm",
            lambda w: _visited(
                w, Step.PLAN, items=(PlannedItem("Former", Owner.CAF, w.today + timedelta(30)),)
            ),
        ),
    ),
    ("yv", "save"): _table_tap(
        only("coordinator"), _review_at("save", lambda w: _visited(w, Step.PLAN))
    ),
    **{
        ("yv", op): _table_tap(
            only("coordinator"),
            _review_at(op, lambda w: DraftState(Step.PREMISES, visited_on=w.today), 1),
        )
        for op in ("back", "drop", "step")
    },
}
# my_data.TAPS: « 📥 Télécharger » for anyone with their data; erasing a person of this Caf.
TAPS[("pd", "dl")] = _table_tap(anyone, lambda w: callbacks.PersonalDataTap("dl", 0, 0))
TAPS[("pd", "erase")] = _table_tap(
    this_caf, lambda w: callbacks.PersonalDataTap("erase", w.person_ids["agent"], 1)
)
# work_site.on_tap: the site of the day, for people of several sites (none in this world).
TAPS[("ws", "")] = _tap(A.CHOOSE_SITE, anyone, lambda w: callbacks.WorkSiteTap(w.sites[S], "site"))
# secrecy.TAPS (Article 5): « ✅ Je m'engage », the person's own commitment (everyone here
# has committed already: a double tap).
TAPS[("sec", "ok")] = _table_tap(anyone, lambda w: callbacks.SecrecyTap("ok", SECRECY_VERSION))


def _site_link(op: str) -> Payload:
    """links.TAPS: a live agent link of the site, made afresh (a cell may cancel it)."""

    async def build(world: World) -> callbacks.Callback:
        async with world.db.transaction() as tx:
            _, link = await invitation_store.create(
                tx,
                role=Role.AGENT,
                caf_id=world.network.caf.id,
                partner_id=world.sites[SITE],
                uses=3,
                expires_at=world.now + timedelta(days=7),
                created_by=None,
                now=world.now,
            )
        return callbacks.LinkTap(op, world.sites[SITE], link.id, 0)

    return build


# links.TAPS: the Caf's links (any Caf's coordinators, their own); a site's, its coordinators
# and (its agents' links) its managers.
TAPS[("lk", "caf")] = _table_tap(coordinators, lambda w: callbacks.LinkTap("caf", 0, 0, 0))
TAPS[("lk", "site")] = _table_tap(this_site, lambda w: callbacks.LinkTap("site", w.sites[S], 0, 0))
TAPS[("lk", "ask")] = _table_tap(this_site, _site_link("ask"))
TAPS[("lk", "cancel")] = _table_tap(this_site, _site_link("cancel"))
# trainings.TAPS: a site person's training history, this Caf's coordinators only.
TAPS.update(
    {
        ("fm", op): _table_tap(
            this_caf_coordinators,
            lambda w, op=op: callbacks.FormationTap(op, w.person_ids["agent"], 0),
        )
        for op in ("list", "add", "export", "ask_rm", "rm")
    }
)
# termination.TAPS: a site's convention, its coordinators (the Caf) and its managers (the
# partner); no notice stands in this world, so withdrawing one is told as gone.
TAPS.update(
    {
        ("dn", op): _table_tap(
            this_site, lambda w, op=op: callbacks.TerminationTap(op, w.sites[S], 0)
        )
        for op in ("show", "new", "askw", "withdraw")
    }
)
# equipment.TAPS: a site's equipment list (Article 8), its managers and the Caf's coordinators.
TAPS.update(
    {
        ("eq", op): _table_tap(
            this_site, lambda w, op=op: callbacks.EquipmentTap(op, w.sites[S], 0)
        )
        for op in ("show", "toggle")
    }
)
# app.menu_tap: an inline shortcut runs the menu entry's own handler.
TAPS.update(
    {
        ("m", entry.key): _tap(
            entry.action,
            anyone,
            lambda w, key=entry.key: callbacks.MenuTap(key),
            informational=entry.action is Action.HELP,
        )
        for entry in menus.ENTRIES
    }
)


@dataclass(frozen=True)
class Said:
    """A command or a menu button: the Action its handler requires (none: not gated)."""

    actions: tuple[Action, ...]
    # A screen that explains what the person may do (the menu, /aide): it answers everyone,
    # with the permission table's explanation for those who may do nothing.
    informational: bool = False
    entry: str | None = None  # the menu entry it stands for


# Commands that are no menu entry, read off bot/app.py and their handlers.
EXTRA_COMMANDS = {
    # onboarding.start without a code: the menu again, or why there is none.
    "start": Said((Action.HELP,), informational=True),
    # onboarding.help_command, also registered as /aide (a menu entry).
    "help": Said((Action.HELP,), informational=True, entry="help"),
    # my_data.show: decide(MY_DATA); strangers are told the bot holds nothing about them.
    "mesdonnees": Said((Action.MY_DATA,)),
    # fallback.cancel: not gated; it only drops the person's own unfinished input.
    "annuler": Said(()),
    "cancel": Said(()),
}


def command_rows() -> dict[str, Said]:
    rows = dict(EXTRA_COMMANDS)
    for entry in menus.ENTRIES:
        rows[entry.command] = Said(
            (entry.action,), informational=entry.action is Action.HELP, entry=entry.key
        )
    return rows


def label_rows() -> dict[str, Said]:
    return {
        entry.label: Said(
            (entry.action,), informational=entry.action is Action.HELP, entry=entry.key
        )
        for entry in menus.ENTRIES
    }


# ------------------------------------------------------------------------------ coverage
# Buttons whose ops no table of their module lists: read off their handlers.
FIXED_OPS: dict[str, tuple[str, ...]] = {
    "r": ("yes", "no"),  # events.on_rsvp
    "ws": ("",),  # work_site.on_tap: no op, a site and an entry
    "m": tuple(bot_app.MENU_ACTIONS),
}


def registered(app: Any) -> tuple[set[str], dict[str, Callable[..., Any]]]:
    """The commands and the button prefixes `bot/app.py` wired, with each prefix's handler."""
    commands: set[str] = set()
    prefixes: dict[str, Callable[..., Any]] = {}
    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CommandHandler):
                commands |= set(handler.commands)
            elif isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
                pattern = getattr(handler.pattern, "pattern", handler.pattern)
                match = re.fullmatch(r"\^([a-z]+):", str(pattern))
                assert match, f"a button handler with an unexpected pattern: {pattern!r}"
                prefixes[match[1]] = handler.callback
    return commands, prefixes


def table_of(handler: Callable[..., Any]) -> TapTable[Any] | None:
    """The tap table behind a registered button handler, if it is one's dispatch."""
    table = getattr(getattr(handler, "__wrapped__", None), "__self__", None)
    return table if isinstance(table, TapTable) else None


def ops_of(prefix: str, handler: Callable[..., Any]) -> set[str]:
    if (table := table_of(handler)) is not None:
        return {row.op.value for row in table}
    if prefix in FIXED_OPS:
        return set(FIXED_OPS[prefix])
    module = sys.modules[handler.__module__]
    for name in ("SCREENS", "TAPS"):
        table = getattr(module, name, None)
        if handler.__name__ == "on_tap" and isinstance(table, dict):
            return set(table)
    raise AssertionError(
        f"cannot list the ops of the {prefix!r} buttons ({handler.__module__}."
        f"{handler.__name__}): add them to FIXED_OPS in {Path(__file__).name}"
    )


def coverage_problems(app: Any) -> list[str]:
    commands, prefixes = registered(app)
    problems = []
    rows = command_rows()
    problems += [
        f"/{c} is registered in bot/app.py but has no row: add it to EXTRA_COMMANDS with the"
        " Action its handler requires"
        for c in sorted(commands - set(rows))
    ]
    for prefix, handler in sorted(prefixes.items()):
        ops = ops_of(prefix, handler)
        have = {op for p, op in TAPS if p == prefix}
        problems += [
            f"button {prefix}:{op or '…'} ({handler.__module__}) has no row: add it to TAPS with"
            " the Action its handler requires and the scope of what it names"
            for op in sorted(ops - have)
        ]
        problems += [
            f"TAPS has a row for {prefix}:{op}, which no handler serves"
            for op in sorted(have - ops)
        ]
    problems += [
        f"TAPS has rows for {prefix}: buttons, which the callback codec no longer knows"
        for prefix in sorted({p for p, _ in TAPS} - set(callbacks.prefixes()))
    ]
    return problems


async def test_every_command_and_button_has_a_row(bot: RunningBot) -> None:
    problems = coverage_problems(bot.app)
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------ the database
# Left out of the comparison, and why:
IGNORED_TABLES = {
    # The bot's own caches (its username from getMe), never a person's doing.
    "kv",
    # Compared by row ids only (see `snapshot`): the sender writes each row's delivery state
    # (status, attempts, message id) in the background, for messages of earlier cells.
    "outbox",
    # The instance's heartbeat and the leader's lease, renewed in the background
    # (bot/jobs/leadership.py).
    "instances",
    "leases",
}
IGNORED_COLUMNS = {
    # Every update from a registered person touches it (at most once an hour), by design.
    ("people", "last_seen_at"),
}
State = dict[str, list[tuple[Any, ...]]]


class Files:
    """Plain sqlite3 connections of the test's own beside the bot's: one reads snapshots, one
    writes the world back from an in-memory copy (SQLite's backup API)."""

    def __init__(self, path: Path) -> None:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        self.reader = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        self.writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.writer.execute("PRAGMA busy_timeout = 5000")
        self.copy = sqlite3.connect(":memory:", check_same_thread=False)
        self.pristine: State = {}
        self.tables: dict[str, list[str]] = {}

    def close(self) -> None:
        for conn in (self.reader, self.writer, self.copy):
            conn.close()

    def _snapshot(self) -> State:
        if not self.tables:
            names = [
                row[0]
                for row in self.reader.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            for name in names:
                columns = [row[1] for row in self.reader.execute(f"PRAGMA table_info({name})")]
                self.tables[name] = [c for c in columns if (name, c) not in IGNORED_COLUMNS]
        state: State = {}
        self.reader.execute("BEGIN")
        try:
            for name, columns in self.tables.items():
                if name in IGNORED_TABLES:
                    continue
                rows = self.reader.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall()
                state[name] = sorted(rows, key=repr)
            state["outbox (rows)"] = self.reader.execute(
                "SELECT id FROM outbox ORDER BY id"
            ).fetchall()
        finally:
            self.reader.execute("COMMIT")
        return state

    async def snapshot(self) -> State:
        return await asyncio.to_thread(self._snapshot)

    def _busy(self, now: str) -> int:
        return int(
            self.reader.execute(
                "SELECT (SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending'))"
                " + (SELECT COUNT(*) FROM announcements WHERE status = 'sending')"
                " + (SELECT COUNT(*) FROM scheduled_jobs WHERE status IN ('pending', 'running')"
                "    AND due_at <= :now)",
                {"now": now},
            ).fetchone()[0]
        )

    async def quiet(self, world: World) -> None:
        """Waits for what a cell set going in the background: messages, broadcast progress."""
        now = to_db(world.now)
        for _ in range(500):
            if not self._busy(now):
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the outbox, a broadcast or a due job did not settle")

    async def keep(self, world: World) -> None:
        """The world as built: every cell starts from it."""
        await self.quiet(world)
        async with world.db.read():  # the bot's connection stays idle meanwhile
            await asyncio.to_thread(self.reader.backup, self.copy)
        self.pristine = await self.snapshot()

    async def restore(self, world: World) -> None:
        await self.quiet(world)
        async with world.db.read():
            await asyncio.to_thread(self.copy.backup, self.writer)


def changes(before: State, after: State) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


# ------------------------------------------------------------------------------ the answers
def _plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


EXPLANATION = {reason: _plain(render("refusal", refusal=reason.value)) for reason in Refusal}
STALE = _plain(render("stale_button"))
UNKNOWN = _plain(render("unknown_command"))


def explanations(text: str) -> set[Refusal]:
    """The permission table's explanations in a message or a tap's answer (an alert is cut at
    200 characters)."""
    found = set()
    for reason, explanation in EXPLANATION.items():
        cut = text.rstrip("…")
        if explanation in text or (len(cut) >= 40 and explanation.startswith(cut)):
            found.add(reason)
    return found


@dataclass
class Seen:
    texts: list[str]  # the tap's answers and the bot's new messages, in order
    screen: str | None  # the first new message
    errors: list[BaseException]
    changed: list[str]

    @property
    def refusals(self) -> set[Refusal]:
        return set().union(*(explanations(t) for t in self.texts)) if self.texts else set()

    @property
    def stale(self) -> bool:
        return any(t.strip() == STALE for t in self.texts)


@dataclass(frozen=True)
class Cell:
    """One column of the matrix: a command, a menu button or an inline button."""

    name: str
    actions: tuple[Action, ...]
    scope: Scope = anyone
    informational: bool = False
    entry: str | None = None
    text: str | None = None  # sent as a message
    payload: Payload | None = None  # tapped
    on_draft: bool = False
    channel: str = "button"


def cells(app: Any) -> list[Cell]:
    commands, prefixes = registered(app)
    found = [
        Cell(
            f"/{c}",
            r.actions,
            informational=r.informational,
            entry=r.entry,
            text=f"/{c}",
            channel="command",
        )
        for c, r in command_rows().items()
        if c in commands
    ]
    found += [
        Cell(
            label,
            r.actions,
            informational=r.informational,
            entry=r.entry,
            text=label,
            channel="label",
        )
        for label, r in label_rows().items()
    ]
    found += [
        Cell(
            f"{prefix}:{op}" if op else prefix,
            required(prefixes[prefix], op, tap),
            tap.scope,
            informational=tap.informational,
            payload=tap.payload,
            on_draft=tap.on_draft,
        )
        for (prefix, op), tap in TAPS.items()
        if prefix in prefixes
    ]
    return found


def required(handler: Callable[..., Any], op: str, tap: Tap) -> tuple[Action, ...]:
    """What a button requires: read off its flow's tap table, or this file's row for the
    handlers that have none yet (never both)."""
    table = table_of(handler)
    if table is None:
        assert tap.actions, f"{op}: a button outside any tap table needs its Action here"
        return tap.actions
    assert not tap.actions, f"{table.prefix}:{op}: its tap table says what it requires"
    return table.rows[table.ops(op)].needs


Expected = str | frozenset[Refusal]
ALLOWED, NOT_THEIRS, UNGATED = "allowed", "not theirs", "not gated"


def expected(cell: Cell, world: World, kind: Kind) -> Expected:
    """From the permission table, then the scope of what the cell names."""
    if not cell.actions:
        return UNGATED
    reasons = {decide(kind.actor, action) for action in cell.actions}
    if None in reasons:
        return ALLOWED if cell.scope(world, kind) else NOT_THEIRS
    return frozenset(r for r in reasons if r is not None)


async def attempt(bot: RunningBot, files: Files, world: World, kind: Kind, cell: Cell) -> Seen:
    user = world.users[kind.name]
    answers, messages, errors = len(user.callback_answers), len(user.messages), len(bot.errors)
    data = None
    # Every cell starts from the pristine world (restored below after any change), but for
    # what building its button wrote (a draft, a link): then it is read again.
    before = files.pristine
    if cell.payload is not None:
        payload = cell.payload(world)
        if inspect.isawaitable(payload):
            payload = await payload
            before = await files.snapshot()
        data = callbacks.encode(payload)
    if data is None:
        assert cell.text is not None
        await user.send(cell.text)
    else:
        mine = cell.on_draft and cell.scope(world, kind)
        await user.tap_data(data, world.draft_message if mine else world.home_message(kind))
    after = await files.snapshot()
    new = [m for m in user.messages[messages:] if m.from_bot]
    texts = [str(a.get("text") or "") for a in user.callback_answers[answers:]]
    texts += [m.text or "" for m in new]
    seen = Seen(texts, new[0].text if new else None, bot.errors[errors:], changes(before, after))
    if after != files.pristine:
        await files.restore(world)
    return seen


def verdict(cell: Cell, expect: Expected, seen: Seen) -> str | None:
    """What is wrong with this cell, or None."""
    if seen.errors:
        return f"handler error {seen.errors!r}"
    if expect == UNGATED:
        return None if seen.texts else "no answer"
    if expect == ALLOWED:
        refusals = seen.refusals
        if refusals or seen.stale:
            return f"refused ({', '.join(sorted(refusals)) or 'stale'}): {seen.texts[:2]}"
        if cell.channel != "button" and (seen.screen is None or seen.screen.strip() == UNKNOWN):
            return f"no screen: {seen.screen!r}"
        return None
    if seen.changed:
        return f"refused but the database changed: {', '.join(seen.changed)}"
    if expect == NOT_THEIRS:
        return None if seen.stale or seen.refusals else f"not refused: {seen.texts[:2]}"
    assert isinstance(expect, frozenset)
    if not seen.refusals:
        return f"no explanation ({'stale' if seen.stale else seen.texts[:2]})"
    if not seen.refusals & expect:
        return f"explained {sorted(seen.refusals)} instead of {sorted(expect)}"
    return None


async def test_every_kind_of_person_against_every_command_and_button(
    bot: RunningBot, network: Network, db_path: Path
) -> None:
    problems = coverage_problems(bot.app)
    assert not problems, "\n".join(problems)
    world = await build_world(network)
    files = Files(db_path)
    started = time.monotonic()
    try:
        await files.keep(world)
        columns = cells(bot.app)
        problems = []
        screens: dict[tuple[str, str, str], str | None] = {}
        for kind in KINDS:
            for cell in columns:
                expect = expected(cell, world, kind)
                seen = await attempt(bot, files, world, kind, cell)
                wrong = verdict(cell, expect, seen)
                if wrong:
                    shown = (
                        expect
                        if isinstance(expect, str)
                        else "refused: " + ", ".join(sorted(expect))
                    )
                    problems.append(f"{kind.name:<22} {cell.name:<28} expected {shown}; {wrong}")
                if expect == ALLOWED and cell.entry and cell.channel != "button":
                    screens[(kind.name, cell.entry, cell.channel)] = seen.screen
        for (name, entry, channel), screen in screens.items():
            label = screens.get((name, entry, "label"))
            if (
                channel == "command"
                and label is not None
                and screen is not None
                and screen.splitlines()[0] != label.splitlines()[0]
            ):
                problems.append(f"{name:<22} /{entry}: not the screen of its menu button")
    finally:
        files.close()
    elapsed = time.monotonic() - started
    size = f"{len(KINDS)} kinds of person × {len(columns)} commands and buttons"
    print(f"\nauthorisation matrix: {size} = {len(KINDS) * len(columns)} cells in {elapsed:.1f} s")
    assert not problems, f"{len(problems)} cells disagree with the permission table:\n" + "\n".join(
        problems
    )
