"""Typed answers (a label reason, a site's name…): one expected text per person, screened.

Every typed text goes through the privacy screen here, before any handler sees it and before
anything stores it: a text with an identifier is refused, its message deleted from the chat,
and it is neither logged nor kept in the pending state (DESIGN §4, convention Article 5).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.error import TelegramError

from bot.context import Ctx
from bot.domain import privacy
from bot.domain.models import Member, PendingInput
from bot.ui.render import render
from conversations.common import send
from storage import pending

Handler = Callable[[Update, Ctx, Member, PendingInput, str], Awaitable[None]]


@dataclass(frozen=True)
class Expectation:
    handler: Handler
    max_length: int = 500
    # Identifier kinds that are legitimate for this field (a site's own address).
    allowed: frozenset[privacy.IdentifierKind] = frozenset()


EXPECTATIONS: dict[str, Expectation] = {}


@dataclass(frozen=True)
class FileRef:
    """A photo or document sent where a flow expects one: only Telegram's id is kept.

    The file itself is never downloaded (no getFile): the bot can send it on by its id.
    """

    kind: str  # "photo" or "document"
    file_id: str
    name: str | None
    caption_html: str | None


FileHandler = Callable[[Update, Ctx, Member, PendingInput, FileRef], Awaitable[None]]
FILE_EXPECTATIONS: dict[str, FileHandler] = {}


def expects_file(kind: str) -> Callable[[FileHandler], FileHandler]:
    """Registers the handler of a file expected by a flow (a coordinator's own document)."""

    def register(handler: FileHandler) -> FileHandler:
        FILE_EXPECTATIONS[kind] = handler
        return handler

    return register


async def handle_file(update: Update, ctx: Ctx, member: Member) -> bool:
    """Serves a photo or document if the person's current step expects one."""
    expected = await pending.get(ctx.db, member.person.id)
    handler = FILE_EXPECTATIONS.get(expected.kind) if expected else None
    message = update.effective_message
    if expected is None or handler is None or message is None:
        return False
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


def expects(
    kind: str, *, max_length: int = 500, allowed: frozenset[privacy.IdentifierKind] = frozenset()
) -> Callable[[Handler], Handler]:
    """Registers the handler of a kind of typed answer."""

    def register(handler: Handler) -> Handler:
        EXPECTATIONS[kind] = Expectation(handler, max_length, allowed)
        return handler

    return register


async def ask(ctx: Ctx, member: Member, kind: str, context: dict[str, object], prompt: str) -> None:
    """Notes what the person is to type next and asks for it."""
    await pending.expect(ctx.db, member.person.id, kind, context, ctx.clock.now())
    chat_id = member.person.telegram_user_id
    assert chat_id is not None
    await send(ctx, chat_id, prompt + "\n\n" + render("cancel_hint"))


async def handle_text(update: Update, ctx: Ctx, member: Member) -> bool:
    """Serves a typed text if one is expected; False when nothing was."""
    expected = await pending.get(ctx.db, member.person.id)
    if expected is None:
        return False
    expectation = EXPECTATIONS.get(expected.kind)
    if expectation is None:  # a kind from an older version of the bot
        await pending.clear(ctx.db, member.person.id)
        return False
    message = update.effective_message
    assert message is not None and update.effective_chat is not None
    text = (message.text or "").strip()
    chat_id = update.effective_chat.id
    if not text:
        await send(ctx, chat_id, render("text_empty"))
        return True
    if len(text) > expectation.max_length:
        await send(
            ctx, chat_id, render("text_too_long", limit=expectation.max_length, length=len(text))
        )
        return True
    result = privacy.screen(text)
    found = result.found - expectation.allowed
    if found:
        # Too old or already gone: the refusal below still stands.
        with contextlib.suppress(TelegramError):
            await message.delete()
        await send(
            ctx,
            chat_id,
            privacy.ScreenResult(frozenset(found)).message() + "\n\n" + render("cancel_hint"),
        )
        return True
    await expectation.handler(update, ctx, member, expected, text)
    return True
