"""🏛 Visite annuelle: the Caf's yearly visit to a site, its action plan, and the wizard that
records them (convention, Article 9).

Each public function is one use case and one transaction, for a coordinator of the site's
Caf, whether a button, the command line or a job calls it. The wizard's answers live in the
coordinator's draft (storage/site_reviews.py) and every wizard button carries the draft's
revision: the draft is read, checked and moved under the same write lock, so a double tap or
an old message's button changes nothing. "Today" is the day in the Caf's zone.

Expected refusals, each for the screen to answer:

* `NotTheirs` (bot/services/network.py): a site or an item of another Caf, a forged id;
* `Forged`: no visit was ever started, or a button of a step the visit is not at;
* `Finished`: the visit the button was made for is saved or abandoned (the site's screen);
* `Outdated`: a button of an earlier step of the visit (where the visit stands);
* `ReviewError` (bot/domain/site_reviews.py): an answer refused, with its French reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import equipment as equipment_rules
from bot.domain import site_reviews as rules
from bot.domain.models import Member, Partner
from bot.domain.site_reviews import (
    CHECKS,
    ActionItem,
    DraftState,
    Owner,
    ReviewDraft,
    SiteReview,
    Step,
)
from bot.services import action_plan, audit, notify
from bot.services.network import NotTheirs, own_partner
from bot.ui.render import render
from storage import equipment as equipment_store
from storage import hours, pending
from storage import site_reviews as store
from storage.db import Conn, Database, Tx
from storage.hours import Declaration

#: The pending-input kind of each typed step; at the others, a text gets the buttons again.
TYPED_KINDS: dict[Step, str] = {
    Step.DATE: "review_date",
    Step.REMARKS: "review_remarks",
    Step.ITEM_TEXT: "review_item",
    Step.ITEM_DUE: "review_due",
}
BUTTONS_KIND = "review_buttons"
OWNERS = tuple(Owner)

#: How a button or a typed answer moves the draft, given today's date.
Move = Callable[[DraftState, date], DraftState]


class Forged(LookupError):
    """A button naming no visit of this coordinator's, or a step the visit is not at."""


class Finished(Exception):
    """The visit the button was made for is saved or abandoned: nothing changes."""

    def __init__(self, home: Home, saved: bool) -> None:
        super().__init__("saved" if saved else "abandoned")
        self.home = home
        self.saved = saved


class Outdated(Exception):
    """A button of an earlier step of the visit: nothing changes."""

    def __init__(self, step: StepView) -> None:
        super().__init__("an earlier step")
        self.step = step


@dataclass(frozen=True)
class Home:
    """A site's screen: its latest visits, its open action items, a visit to resume."""

    partner: Partner
    today: date
    reviews: list[SiteReview]
    items: list[ActionItem]
    resuming: bool


@dataclass(frozen=True)
class StepView:
    """Where a visit being recorded stands."""

    partner: Partner
    revision: int
    state: DraftState
    today: date
    # At the hours step: the schedule in force on the visit's day (None: none declared).
    declared: Declaration | None = None
    # At the equipment step: the list the site keeps (item code → present; Article 8).
    equipment: dict[str, bool] | None = None


class DoneOutcome(StrEnum):
    ASKED = "asked"  # not confirmed yet: the question
    DONE = "done"
    ALREADY = "already"  # done before (a double tap, another coordinator)


@dataclass(frozen=True)
class ItemDone:
    outcome: DoneOutcome
    item: ActionItem
    partner: Partner
    today: date
    home: Home | None  # None while asking


@dataclass(frozen=True)
class Started:
    step: StepView
    replaced: bool  # a visit begun for another site was abandoned for this one


@dataclass(frozen=True)
class Dropped:
    partner: Partner
    revision: int
    home: Home | None  # None: not confirmed yet


@dataclass(frozen=True)
class Saved:
    review: SiteReview
    items: list[ActionItem]
    told: int  # the site's managers told
    home: Home


@dataclass(frozen=True)
class Answered:
    step: StepView
    buttons_expected: bool  # typed where a button is expected: the same step again


# ------------------------------------------------------------------------------ the site
def _today(member: Member, now: datetime) -> date:
    return now.astimezone(ZoneInfo(member.caf.timezone)).date()


async def _home(conn: Conn, member: Member, partner: Partner, today: date) -> Home:
    draft = await store.open_draft(conn, member.person.id)
    return Home(
        partner=partner,
        today=today,
        reviews=await store.recent_reviews(conn, partner.id, limit=3),
        items=await store.open_items(conn, partner.id),
        resuming=draft is not None and draft.partner_id == partner.id,
    )


async def home(db: Database, member: Member, partner_id: int, now: datetime) -> Home:
    """The site's screen. Whatever the coordinator was to type is forgotten: they left it."""
    async with db.transaction() as tx:
        partner = await own_partner(tx, member, partner_id)
        await pending.clear(tx, member.person.id)
        return await _home(tx, member, partner, _today(member, now))


async def mark_done(
    db: Database, member: Member, item_id: int, *, confirmed: bool, now: datetime
) -> ItemDone:
    """Marks an open action item done once confirmed, audited, the site's managers told."""
    today = _today(member, now)
    async with db.transaction() as tx:
        item = await store.get_item(tx, item_id)
        if item is None:
            raise NotTheirs("no such action item")
        partner = await own_partner(tx, member, item.partner_id)
        if item.done_at is None and not confirmed:
            return ItemDone(DoneOutcome.ASKED, item, partner, today, None)
        done = item.done_at is None and await store.mark_done(
            tx, item.id, by=member.person.id, now=now
        )
        if done:
            details = {"partner": partner.id, "review": item.review_id}
            on = ("action_item", item.id)
            await audit.record(tx, member, "review.item_done", now, on, details=details)
            await action_plan.tell_done(tx, partner, item, now)
        outcome = DoneOutcome.DONE if done else DoneOutcome.ALREADY
        return ItemDone(outcome, item, partner, today, await _home(tx, member, partner, today))


# ------------------------------------------------------------------------------ the wizard
async def _step(conn: Conn, partner: Partner, draft: ReviewDraft, today: date) -> StepView:
    state = draft.state
    assert state is not None
    declared = kept = None
    if state.step is Step.HOURS:
        declared = await hours.in_force(conn, partner.id, state.visited_on or today)
    if state.step is Step.EQUIPMENT:
        kept = await equipment_store.of_site(conn, partner.id)
    return StepView(partner, draft.revision, state, today, declared, kept)


async def _expect(conn: Conn, member: Member, draft: ReviewDraft, now: datetime) -> None:
    """What the coordinator may type at the draft's step, kept with the draft."""
    assert draft.state is not None
    kind = TYPED_KINDS.get(draft.state.step, BUTTONS_KIND)
    await pending.expect(conn, member.person.id, kind, {"partner": draft.partner_id}, now)


async def _current(
    tx: Tx, member: Member, revision: int, today: date
) -> tuple[ReviewDraft, Partner]:
    """The coordinator's open draft, if `revision` is its current one."""
    draft = await store.get_draft(tx, member.person.id)
    if draft is None:
        raise Forged("no visit was ever started")
    partner = await own_partner(tx, member, draft.partner_id)
    if draft.state is None:
        home = await _home(tx, member, partner, today)
        raise Finished(home, saved=draft.saved_review is not None)
    if draft.revision != revision:
        raise Outdated(await _step(tx, partner, draft, today))
    return draft, partner


async def _moved(
    tx: Tx, member: Member, draft: ReviewDraft, state: DraftState, partner: Partner, now: datetime
) -> StepView:
    if state.step is Step.PLAN:
        # Reaching the plan: an action item proposed for each point found wanting, the
        # equipment's naming what the site lists as missing.
        kept = equipment_rules.missing(await equipment_store.of_site(tx, partner.id))
        labels = [item.label for item in equipment_rules.EQUIPMENT if item.code in kept]
        wording = {"equipment": f"Compléter l'équipement : {', '.join(labels)}"} if labels else {}
        state = state.with_proposals(_today(member, now), wording)
    saved = await store.save_draft(
        tx, person_id=member.person.id, revision=draft.revision, state=state, now=now
    )
    # The draft was read at this revision under the same lock: it cannot have moved.
    assert saved is not None
    await _expect(tx, member, saved, now)
    return await _step(tx, partner, saved, _today(member, now))


async def start(db: Database, member: Member, partner_id: int, now: datetime) -> Started:
    """A visit to record for the site, or the one under way for it resumed."""
    async with db.transaction() as tx:
        partner = await own_partner(tx, member, partner_id)
        draft = await store.open_draft(tx, member.person.id)
        replaced = draft is not None and draft.partner_id != partner.id
        if draft is None or replaced:
            draft = await store.start_draft(
                tx, person_id=member.person.id, partner_id=partner.id, now=now
            )
        await _expect(tx, member, draft, now)
        return Started(await _step(tx, partner, draft, _today(member, now)), replaced)


async def current_step(db: Database, member: Member, revision: int, now: datetime) -> StepView:
    """Where the visit stands (« Non, continuer » after « Abandonner »)."""
    today = _today(member, now)
    async with db.transaction() as tx:
        draft, partner = await _current(tx, member, revision, today)
        return await _step(tx, partner, draft, today)


async def move(
    db: Database, member: Member, revision: int, change: Move, now: datetime
) -> StepView:
    """One button of the wizard's current step: the draft moves on to its next step."""
    today = _today(member, now)
    async with db.transaction() as tx:
        draft, partner = await _current(tx, member, revision, today)
        assert draft.state is not None
        state = change(draft.state, today)
        return await _moved(tx, member, draft, state, partner, now)


async def back(db: Database, member: Member, revision: int, now: datetime) -> StepView | Home:
    """The previous step; from the first one, the site's screen (the draft kept)."""
    today = _today(member, now)
    async with db.transaction() as tx:
        draft, partner = await _current(tx, member, revision, today)
        assert draft.state is not None
        previous = draft.state.back()
        if previous is None:
            await pending.clear(tx, member.person.id)
            return await _home(tx, member, partner, today)
        return await _moved(tx, member, draft, previous, partner, now)


async def drop(
    db: Database, member: Member, revision: int, *, confirmed: bool, now: datetime
) -> Dropped:
    """Abandons the visit being recorded, once confirmed: nothing of it is kept."""
    today = _today(member, now)
    async with db.transaction() as tx:
        draft, partner = await _current(tx, member, revision, today)
        if not confirmed:
            return Dropped(partner, draft.revision, None)
        await store.consume_draft(
            tx, member.person.id, revision=draft.revision, review_id=None, now=now
        )
        await pending.clear(tx, member.person.id)
        return Dropped(partner, draft.revision, await _home(tx, member, partner, today))


async def save(db: Database, member: Member, revision: int, now: datetime) -> Saved:
    """Records the visit and its plan once, audited, and tells the site's managers."""
    today = _today(member, now)
    async with db.transaction() as tx:
        draft, partner = await _current(tx, member, revision, today)
        state = draft.state
        assert state is not None
        if state.step is not Step.PLAN or not state.complete:
            raise Forged("not the plan of a complete visit")
        review, items = await store.record(
            tx,
            caf_id=member.caf.id,
            partner_id=partner.id,
            state=state,
            by=member.person.id,
            now=now,
        )
        await store.consume_draft(
            tx, member.person.id, revision=draft.revision, review_id=review.id, now=now
        )
        await pending.clear(tx, member.person.id)
        details = {
            "review": review.id,
            "visited_on": review.visited_on.isoformat(),
            "items": len(items),
            "missing": list(review.missing),
        }
        on = ("partner", partner.id)
        await audit.record(tx, member, "review.recorded", now, on, details=details)
        told = await _tell_managers(tx, partner, review, items, now)
        return Saved(review, items, told, await _home(tx, member, partner, today))


async def _tell_managers(
    tx: Tx, partner: Partner, review: SiteReview, items: list[ActionItem], now: datetime
) -> int:
    """The site's managers get the outcome and their action items (no buttons: theirs to read)."""
    text = render(
        "review_notice",
        partner=partner,
        review=review,
        checks=CHECKS,
        theirs=[i for i in items if i.owner.concerns_partner],
        caf_items=[i for i in items if not i.owner.concerns_partner],
    )
    kind = f"review:{review.id}"
    return await notify.to_site(
        tx, partner.id, kind=kind, key=kind, text=text, now=now, managers_only=True
    )


# ------------------------------------------------------------------------------ typed answers
_TYPED_MOVES: dict[Step, Callable[[DraftState, str, date], DraftState]] = {
    Step.DATE: lambda state, text, today: state.with_date(rules.parse_visit_day(text, today)),
    Step.REMARKS: lambda state, text, today: state.with_remarks(text),
    Step.ITEM_TEXT: lambda state, text, today: state.with_description(text),
    Step.ITEM_DUE: lambda state, text, today: state.with_due(rules.parse_due_day(text, today)),
}


async def answer(db: Database, member: Member, text: str, now: datetime) -> Answered | None:
    """A typed answer (screened already) at the draft's step; None when no visit is under
    way any more (what was expected is forgotten). A refused answer raises `ReviewError`."""
    today = _today(member, now)
    async with db.transaction() as tx:
        draft = await store.open_draft(tx, member.person.id)
        if draft is None:
            await pending.clear(tx, member.person.id)
            return None
        partner = await own_partner(tx, member, draft.partner_id)
        assert draft.state is not None
        typed = _TYPED_MOVES.get(draft.state.step)
        if typed is None:  # a step of buttons: the same step again
            await _expect(tx, member, draft, now)
            return Answered(await _step(tx, partner, draft, today), buttons_expected=True)
        state = typed(draft.state, text, today)
        return Answered(await _moved(tx, member, draft, state, partner, now), False)


# ------------------------------------------------------------------------------ the moves
# What each button of the wizard does; a value no button carries is a forged one, refused
# before anything is read.
def _at(state: DraftState, *steps: Step) -> None:
    if state.step not in steps:
        raise Forged("not a button of this step")


def pick_day(days_ago: int) -> Move:
    """« Aujourd'hui » (0) or « Hier » (1)."""
    if days_ago not in (0, 1):
        raise Forged("today or yesterday")

    def change(state: DraftState, today: date) -> DraftState:
        _at(state, Step.DATE)
        return state.with_date(today - timedelta(days=days_ago))

    return change


def answer_check(ok: int) -> Move:
    """« ✅ Oui » (1) or « ❌ Non » (0) to the current conformity question."""
    if ok not in (0, 1):
        raise Forged("yes or no")

    def change(state: DraftState, today: date) -> DraftState:
        _at(state, *rules.CHECK_STEPS)
        return state.with_check(state.step, ok == 1)

    return change


def skip_remarks(without: int) -> Move:
    """« Passer » / « Sans remarque » (1) or « Garder la remarque » (0)."""

    def change(state: DraftState, today: date) -> DraftState:
        _at(state, Step.REMARKS)
        return state.with_remarks(None if without == 1 else state.remarks)

    return change


def add_item(_: int) -> Move:
    def change(state: DraftState, today: date) -> DraftState:
        _at(state, Step.PLAN)
        return state.adding_item()

    return change


def pick_owner(index: int) -> Move:
    """One of `OWNERS`, by its place."""
    if not 0 <= index < len(OWNERS):
        raise Forged("unknown owner")

    def change(state: DraftState, today: date) -> DraftState:
        _at(state, Step.ITEM_OWNER)
        return state.with_owner(OWNERS[index])

    return change


def pick_due(months: int) -> Move:
    """« Dans 1 mois », « Dans 3 mois », « Dans 6 mois »."""
    if months not in rules.DUE_CHOICES_MONTHS:
        raise Forged("unknown delay")

    def change(state: DraftState, today: date) -> DraftState:
        _at(state, Step.ITEM_DUE)
        return state.with_due(rules.add_months(today, months))

    return change


def remove_item(index: int) -> Move:
    def change(state: DraftState, today: date) -> DraftState:
        _at(state, Step.PLAN)
        return state.without_item(index)

    return change
