"""Tap tables: each flow's buttons as data — payload, operation, permission, handler.

A flow declares one `TapTable` for its payload type (bot/ui/callbacks.py) and its operations
(a `StrEnum` beside its screens), and registers each handler with the permission it needs:

    TAPS = TapTable(ComplianceTap, ComplianceOp)

    @TAPS.on(ComplianceOp.SITE, needs=Action.COMPLIANCE)
    async def site(ctx: Ctx, member: Member, tap: ComplianceTap, message: Message | None) -> None:
        ...

The table decodes the callback data (forged data and unknown operations are a stale
button), authorises the person from the database for that operation's permission, runs
the handler and answers the callback with the toast it returns. A `slow` operation (a chart,
an export, a certificate) is answered first, so Telegram's client stops spinning at once and
the file follows. bot/app.py registers every table under its payload's prefix, and the
authorisation matrix reads the tables' rows.

What the flow's services refuse for any of its taps is answered by the table too, rather
than by a decorator of each flow's own: `stale=` the errors meaning "not (or no longer) this
person's" (a stale button), `refusals=` how each expected refusal is told (the toast, after
editing the message if it must):

    TAPS = TapTable(EventTap, EventOp, stale=(events.UnknownEvent,),
                    refusals={events.Denied: toast(lambda denied: screen.denied(denied.why))})
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar, cast

from telegram import CallbackQuery, Message, Update

from bot.context import Ctx
from bot.domain.models import Member
from bot.domain.permissions import STRANGER, Action, decide
from bot.ui import callbacks
from bot.ui.callbacks import BadCallback, Callback
from bot.ui.render import render
from conversations.common import Refused, current_member, guarded

P = TypeVar("P", bound=Callback)
TapHandler = Callable[[Ctx, Member, Any, Message | None], Awaitable[str | None]]
H = TypeVar("H", bound=TapHandler)
#: Run before a slow operation is answered, while a refusal can still be the query's one
#: answer: raises BadCallback for what is not the person's, or returns the toast of a
#: refusal (the handler then does not run); None lets the work go on.
TapCheck = Callable[[Ctx, Member, Any], Awaitable[str | None]]
#: A handler that answers the query itself (an alert, or an answer before an edit that may
#: fail): it gets the query rather than its message.
AnsweringHandler = Callable[[Ctx, Member, Any, CallbackQuery], Awaitable[None]]
AH = TypeVar("AH", bound=AnsweringHandler)
#: What a flow tells for one of its services' expected refusals, in the handler's place:
#: the toast (after editing the message to what stands now, if it must), given the tap and
#: the error.
RefusalAnswer = Callable[[Ctx, Member, Any, Message | None, Any], Awaitable[str | None]]


def toast(told: Callable[[Any], str]) -> RefusalAnswer:
    """A refusal told by a toast alone, made from the error (the message stays as it is)."""

    async def answer(
        ctx: Ctx, member: Member, tap: Any, message: Message | None, error: Exception
    ) -> str:
        return told(error)

    return answer


@dataclass(frozen=True)
class TapRow:
    """One operation of a table: who may, what serves it, and whether it answers first."""

    op: StrEnum
    needs: tuple[Action, ...]
    handler: TapHandler | AnsweringHandler
    slow: bool
    check: TapCheck | None = None
    answers: bool = False


class TapTable(Generic[P]):
    def __init__(
        self,
        payload: type[P],
        ops: type[StrEnum],
        *,
        stale: tuple[type[Exception], ...] = (),
        refusals: Mapping[type[Exception], RefusalAnswer] | None = None,
    ) -> None:
        """`stale`: the flow's service errors meaning "this tap names something that is not
        (or no longer) this person's", answered like a stale button. `refusals`: the errors
        meaning "this tap changes nothing, for a reason to tell", each with its answer (the
        first that fits, in their order); for the handlers whose toast is the query's answer
        (not the slow ones, nor those that answer it themselves)."""
        self.payload = payload
        self.ops = ops
        self.stale = stale
        self.stale_or_forged: tuple[type[Exception], ...] = (BadCallback, *stale)
        self.refusals = dict(refusals or {})
        self.rows: dict[StrEnum, TapRow] = {}
        # What bot/app.py registers: refusals and stale buttons answered in French.
        self.dispatch = guarded(self._dispatch)

    @property
    def prefix(self) -> str:
        return self.payload.PREFIX

    @property
    def pattern(self) -> str:
        """The callback-data pattern bot/app.py registers this table under."""
        return f"^{self.payload.PREFIX}:"

    def on(
        self,
        op: StrEnum,
        *,
        needs: Action | tuple[Action, ...],
        slow: bool = False,
        check: TapCheck | None = None,
    ) -> Callable[[H], H]:
        """Registers the handler of `op`. With several actions, any one of them will do (the
        handler then checks what the person may reach). A `slow` operation is answered
        before its handler runs, once `check` (if any) has accepted what the tap names:
        Telegram takes one answer a query, so a refusal found later could not be told."""
        if check is not None and not slow:
            raise ValueError("check= is for slow operations: the others check in the handler")
        if not isinstance(op, self.ops):
            raise TypeError(f"{op!r} is not an operation of {self.ops.__name__}")
        if op in self.rows:
            raise ValueError(f"{self.prefix}:{op} registered twice")
        actions = needs if isinstance(needs, tuple) else (needs,)

        def register(handler: H) -> H:
            self.rows[op] = TapRow(op, actions, handler, slow, check)
            return handler

        return register

    def answering(self, *ops: StrEnum, needs: Action) -> Callable[[AH], AH]:
        """Registers a handler that answers the query itself, for one or several `ops`."""

        def register(handler: AH) -> AH:
            for op in ops:
                if not isinstance(op, self.ops) or op in self.rows:
                    raise ValueError(f"{self.prefix}:{op}: not an operation, or registered twice")
                self.rows[op] = TapRow(op, (needs,), handler, slow=False, answers=True)
            return handler

        return register

    def __iter__(self) -> Iterator[TapRow]:
        return iter(self.rows.values())

    async def _dispatch(self, update: Update, ctx: Ctx) -> None:
        query = update.callback_query
        assert query is not None
        tap = callbacks.decode(query.data, expect=self.payload)
        try:
            row = self.rows[self.ops(getattr(tap, "op", ""))]
        except (ValueError, KeyError):
            raise BadCallback("unknown operation") from None
        member = await require_any(update, ctx, row.needs)
        message = query.message if isinstance(query.message, Message) else None
        try:
            if row.answers:
                await cast(AnsweringHandler, row.handler)(ctx, member, tap, query)
            elif row.slow:
                refusal = await row.check(ctx, member, tap) if row.check else None
                if refusal is not None:
                    await query.answer(refusal)
                    return
                await query.answer(render("tap_working"))
                try:
                    await cast(TapHandler, row.handler)(ctx, member, tap, message)
                except self.stale_or_forged:
                    # Found out after the query's one answer (the object went meanwhile):
                    # said in the chat, since the query cannot be answered again.
                    await ctx.bot.send_message(
                        member.person.telegram_user_id or 0, render("stale_button")
                    )
            else:
                await query.answer(await self._toast(row, ctx, member, tap, message))
        except self.stale as foreign:
            raise BadCallback(str(foreign)) from None

    async def _toast(
        self, row: TapRow, ctx: Ctx, member: Member, tap: P, message: Message | None
    ) -> str | None:
        """The handler's toast, or the one of the refusal it met."""
        try:
            return await cast(TapHandler, row.handler)(ctx, member, tap, message)
        except tuple(self.refusals) as refused:
            answer = next(a for kind, a in self.refusals.items() if isinstance(refused, kind))
            return await answer(ctx, member, tap, message, refused)


async def require_any(update: Update, ctx: Ctx, actions: tuple[Action, ...]) -> Member:
    """The person, read once, if the permission table lets them do one of `actions` (the
    first refusal is the one told when none does)."""
    member = await current_member(update, ctx)
    actor = member.actor if member else STRANGER
    refusals = [decide(actor, action) for action in actions]
    if all(refusal is not None for refusal in refusals):
        assert refusals[0] is not None
        raise Refused(refusals[0], member)
    assert member is not None
    return member
