"""Typed answers (a label reason, a site's name…): one expected text per person, screened.

Every typed text goes through the privacy screen here, before any handler sees it and before
anything stores it: a text with an identifier is refused, its message deleted from the chat,
and it is neither logged nor kept in the pending state (DESIGN §4, convention Article 5).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from telegram import Message, MessageEntity, Update
from telegram.error import TelegramError

from bot.context import Ctx
from bot.domain import privacy
from bot.domain.models import Member, PendingInput
from bot.services import pending_input
from bot.ui.callbacks import BadCallback
from bot.ui.render import render
from conversations.common import send

Handler = Callable[[Update, Ctx, Member, PendingInput, str], Awaitable[None]]


@dataclass(frozen=True)
class Expectation:
    handler: Handler
    max_length: int = 500
    # Identifier kinds that are legitimate for this field (a site's own address).
    allowed: frozenset[privacy.IdentifierKind] = frozenset()


@dataclass(frozen=True)
class FileRef:
    """A photo or document sent where a flow expects one: only Telegram's id is kept.

    Only Telegram's id is kept: the bot can send the file on by it. A step that needs the
    content (a coordinator's list of sites) downloads it itself and keeps nothing.
    """

    kind: str  # "photo" or "document"
    file_id: str
    name: str | None
    caption_html: str | None


FileHandler = Callable[[Update, Ctx, Member, PendingInput, FileRef], Awaitable[None]]
TH = TypeVar("TH", bound=Handler)
FH = TypeVar("FH", bound=FileHandler)
AH = TypeVar("AH", bound=Callable[[Update, Ctx, Member, PendingInput, Any], Awaitable[None]])


@dataclass
class TypedSteps:
    """A flow's typed answers (and the files it accepts), by the kind of pending input.

    Each flow declares its own; bot/app.py merges them all (`TypedSteps.merge`) into the
    one table the fallback handlers serve typed texts and files from. `stale`, as for a
    flow's tap table (conversations/taps.py): the flow's service errors meaning that what
    the answer is for is not (or no longer) this person's, answered like a stale button."""

    texts: dict[str, Expectation] = field(default_factory=dict)
    files: dict[str, FileHandler] = field(default_factory=dict)
    # Identifier kinds legitimate in a file step's caption, links and file name (news).
    files_allowed: dict[str, frozenset[privacy.IdentifierKind]] = field(default_factory=dict)
    stale: tuple[type[Exception], ...] = ()

    def text(
        self,
        kind: str,
        *,
        max_length: int = 500,
        allowed: frozenset[privacy.IdentifierKind] = frozenset(),
    ) -> Callable[[TH], TH]:
        """Declares the handler of a kind of typed answer."""

        def register(handler: TH) -> TH:
            if kind in self.texts:
                raise ValueError(f"typed step {kind!r} declared twice")
            self.texts[kind] = Expectation(self._guarded(handler), max_length, allowed)
            return handler

        return register

    def file(
        self, kind: str, *, allowed: frozenset[privacy.IdentifierKind] = frozenset()
    ) -> Callable[[FH], FH]:
        """Declares the handler of a file expected by a flow (a coordinator's own document)."""

        def register(handler: FH) -> FH:
            if kind in self.files:
                raise ValueError(f"file step {kind!r} declared twice")
            self.files[kind] = self._guarded(handler)
            self.files_allowed[kind] = allowed
            return handler

        return register

    def _guarded(self, handler: AH) -> AH:
        if not self.stale:
            return handler
        stale = self.stale

        @functools.wraps(handler)
        async def checked(
            update: Update, ctx: Ctx, member: Member, expected: PendingInput, answer: Any
        ) -> None:
            try:
                await handler(update, ctx, member, expected, answer)
            except stale as foreign:
                raise BadCallback(str(foreign)) from None

        return cast(AH, checked)

    @classmethod
    def merge(cls, *tables: TypedSteps) -> TypedSteps:
        merged = cls()
        for table in tables:
            for kind in (table.texts.keys() & merged.texts.keys()) | (
                table.files.keys() & merged.files.keys()
            ):
                raise ValueError(f"typed step {kind!r} declared by two flows")
            merged.texts.update(table.texts)
            merged.files.update(table.files)
            merged.files_allowed.update(table.files_allowed)
        return merged


BOT_DATA_KEY = "typed_steps"


def _steps(ctx: Ctx) -> TypedSteps:
    steps: TypedSteps = ctx.bot_data[BOT_DATA_KEY]
    return steps


async def handle_file(update: Update, ctx: Ctx, member: Member) -> bool:
    """Serves a photo or document if the person's current step expects one."""
    expected = await pending_input.get(ctx.db, member.person.id)
    handler = _steps(ctx).files.get(expected.kind) if expected else None
    message = update.effective_message
    if expected is None or handler is None or message is None:
        return False
    allowed = _steps(ctx).files_allowed.get(expected.kind, frozenset())
    if await _refused(ctx, message, screened_text(message), allowed):
        return True
    if message.photo:
        ref = FileRef("photo", message.photo[-1].file_id, None, message.caption_html or None)
    elif message.document is not None:
        ref = FileRef(
            "document",
            message.document.file_id,
            message.document.file_name,
            message.caption_html or None,
        )
    else:
        return False
    await handler(update, ctx, member, expected, ref)
    return True


async def ask(ctx: Ctx, member: Member, kind: str, context: dict[str, object], prompt: str) -> None:
    """Notes what the person is to type next and asks for it."""
    await pending_input.expect(ctx.db, member.person.id, kind, context, ctx.clock.now())
    chat_id = member.person.telegram_user_id
    assert chat_id is not None
    await send(ctx, chat_id, prompt + "\n\n" + render("cancel_hint"))


async def handle_text(update: Update, ctx: Ctx, member: Member) -> bool:
    """Serves a typed text if one is expected; False when nothing was."""
    expected = await pending_input.get(ctx.db, member.person.id)
    if expected is None:
        return False
    expectation = _steps(ctx).texts.get(expected.kind)
    if expectation is None:  # a kind from an older version of the bot
        await pending_input.clear(ctx.db, member.person.id)
        return False
    message = update.effective_message
    assert message is not None and update.effective_chat is not None
    text = (message.text or "").strip()
    chat_id = update.effective_chat.id
    if not text:
        await send(ctx, chat_id, render("text_empty"))
        return True
    # Screened before the length check: a long text with an identifier must leave the chat too.
    if await _refused(ctx, message, screened_text(message), expectation.allowed):
        return True
    if len(text) > expectation.max_length:
        await send(
            ctx, chat_id, render("text_too_long", limit=expectation.max_length, length=len(text))
        )
        return True
    await expectation.handler(update, ctx, member, expected, text)
    return True


def screened_text(message: Message) -> str:
    """What the privacy screen reads of a message: its text or caption, the addresses behind
    its links (a `text_link` shows a word and hides an address, which the bot keeps with the
    text), and a document's file name (kept with the document, shown to everyone)."""
    parts = [message.text or message.caption or ""]
    entities = (*message.entities, *message.caption_entities)
    parts += [e.url for e in entities if e.type == MessageEntity.TEXT_LINK and e.url]
    if message.document is not None and message.document.file_name:
        # Underscores stand for spaces in file names: « né_le_12-03-1985 » reads as words.
        parts.append(message.document.file_name.replace("_", " "))
    return "\n".join(parts)


async def _refused(
    ctx: Ctx, message: Message, text: str, allowed: frozenset[privacy.IdentifierKind]
) -> bool:
    """Article 5: an answer carrying an identifier is deleted from the chat and refused."""
    found = privacy.screen(text).found - allowed
    if not found:
        return False
    # Too old or already gone: the refusal below still stands.
    with contextlib.suppress(TelegramError):
        await message.delete()
    refusal = privacy.ScreenResult(frozenset(found)).message() + "\n\n" + render("cancel_hint")
    await send(ctx, message.chat_id, refusal)
    return True
