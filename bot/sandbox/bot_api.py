"""An embedded Telegram Bot API: the test suite's strict fake, and the demo's chat server.

Why a fake HTTP server instead of mocking ``telegram.Bot``: the bot under test keeps
using python-telegram-bot (PTB) unmodified -- its request encoding, its error mapping
(``RetryAfter``, ``Forbidden``, ``BadRequest``...), its long polling and its
de-serialisation of results.  Only the network endpoint changes
(``ApplicationBuilder().base_url(fake.base_url).base_file_url(fake.base_file_url)``), so
the same fake also serves a bot started as a subprocess.

The fake is deliberately *strict* where Telegram is strict (HTML parse mode, text and
caption length, ``callback_data`` size, "message is not modified", unknown chats,
blocked users): a bug that Telegram would reject in production must fail the tests.

The server runs in the current asyncio event loop (aiohttp), binds 127.0.0.1 on a free
port and never talks to the internet.

The demo (``python -m bot demo``, bot/sandbox/demo.py) follows the chats through
:meth:`FakeBotApi.listen` (one event dict per change a person would see, in the shape of
bot/sandbox/web.py's contract) and acts as the people with ``send(..., wait=False)`` and
``tap_data(..., wait=False)``: nobody waits for the bot there, the page is told live.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import logging
import mimetypes
import random
import re
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, NoReturn

from aiohttp import web
from telegram.ext import SimpleUpdateProcessor

__all__ = [
    "TOKEN",
    "ApiCall",
    "FakeBotApi",
    "FakeChat",
    "FakeGroup",
    "FakeMessage",
    "FakeUser",
    "ProcessedUpdateTracker",
]

TOKEN = "123456789:TEST-token-not-real"

log = logging.getLogger(__name__)

#: Where the demo's web server serves a file the bot sent (bot/sandbox/web.py).
FILES_URL = "/files/"

#: A change in a chat, as the demo's page receives it (see :meth:`FakeBotApi.listen`).
Event = dict[str, Any]
Listener = Callable[[Event], None]

#: Where a bot in another process reports each update it has handled (tests/clocked_bot.py),
#: on this server: what `settle_reported` waits for.
REPORT_PATH = "/__tests__/handled"

#: Telegram's limits (Bot API documentation), checked so that our bugs surface in tests.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

#: How long the default settle waits for silence from the bot, and at most overall. The
#: overall limit only ever costs time when a test is failing: it is generous so that a
#: loaded machine (both cores busy, several bots) is never taken for a stuck bot.
QUIESCENCE_SECONDS = 0.15
REPLY_GRACE_SECONDS = 2.0
SETTLE_TIMEOUT_SECONDS = 30.0

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_BLOCKED = "Forbidden: bot was blocked by the user"
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"

#: Parameters whose value is a plain string: PTB sends them raw (not JSON-encoded), so a
#: text such as ``"123"`` or ``"true"`` must not be turned into a number or a boolean.
_STRING_PARAMS = frozenset(
    {
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "custom_title",
        "description",
        "document",
        "emoji",
        "file_id",
        "first_name",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "parse_mode",
        "phone_number",
        "photo",
        "query",
        "question",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "title",
        "url",
        "video",
        "video_note",
        "voice",
    }
)

_MEDIA_KINDS = (
    "photo",
    "document",
    "voice",
    "video",
    "sticker",
    "audio",
    "animation",
    "video_note",
)

#: Inline keyboard button fields that make a button do something (a button with only a
#: text is refused by Telegram).
_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "callback_game",
        "pay",
        "web_app",
        "copy_text",
    }
)


class _ApiError(Exception):
    """An error answer of the Bot API; raised by method handlers, turned into JSON."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad_request(description: str) -> _ApiError:
    """Shortcut: Telegram prefixes every 400 description with "Bad Request: "."""
    return _ApiError(400, f"Bad Request: {description}")


def _utf16_len(text: str) -> int:
    """Entity offsets/lengths are counted in UTF-16 code units by Telegram."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- HTML parse


class _HtmlError(Exception):
    """Raised by the HTML parser; becomes "Bad Request: can't parse entities: ..."."""


_ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_SIMPLE_TAG_ENTITIES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
_HTML_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_END_TAG_RE = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ATTR_RE = re.compile(
    r"""([a-zA-Z_][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)


@dataclass
class _OpenTag:
    """A start tag waiting for its end tag while parsing HTML."""

    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output text
    language: str | None = None


def _decode_html_entity(match: re.Match[str]) -> str | None:
    """The character of ``&lt;``/``&#NN;``/``&#xHH;``, or None if it is not a code point."""
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _unescape_attr(value: str) -> str:
    """Attribute values may carry entities too (``href="...?a=1&amp;b=2"``)."""

    def repl(match: re.Match[str]) -> str:
        return _decode_html_entity(match) or match.group(0)

    return _HTML_ENTITY_RE.sub(repl, value)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset into (plain text, message entities).

    Stricter than Telegram on one point, on purpose: a bare ``&`` that does not start a
    valid entity is refused (Telegram keeps it), because it almost always reveals a
    missing ``html.escape`` in our templates.
    """
    out: list[str] = []
    pos = 0  # UTF-16 length of ``out``
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i = 0

    def byte_offset(index: int) -> int:
        return len(source[:index].encode("utf-8"))

    while i < len(source):
        char = source[i]
        if char == "&":
            match = _HTML_ENTITY_RE.match(source, i)
            decoded = _decode_html_entity(match) if match else None
            if match is None or decoded is None:
                raise _HtmlError(
                    f'character "&" at byte offset {byte_offset(i)} does not start a valid '
                    "entity (escape it as &amp;)"
                )
            out.append(decoded)
            pos += _utf16_len(decoded)
            i = match.end()
            continue
        if char != "<":
            out.append(char)
            pos += _utf16_len(char)
            i += 1
            continue
        if source.startswith("</", i):
            end_match = _END_TAG_RE.match(source, i)
            if end_match is None:
                raise _HtmlError(f"Unclosed end tag at byte offset {byte_offset(i)}")
            name = end_match.group(1).lower()
            if not stack:
                raise _HtmlError(f'Unexpected end tag "</{name}>" at byte offset {byte_offset(i)}')
            top = stack.pop()
            if top.name != name:
                raise _HtmlError(
                    f"Unmatched end tag at byte offset {byte_offset(i)}, expected "
                    f'"</{top.name}>", found "</{name}>"'
                )
            entity = _entity_for_tag(top, pos, stack)
            if entity is not None:
                entities.append(entity)
            i = end_match.end()
            continue
        name_match = _TAG_NAME_RE.match(source, i + 1)
        if name_match is None:
            raise _HtmlError(f'unexpected "<" at byte offset {byte_offset(i)} (escape it as &lt;)')
        name = name_match.group(0).lower()
        if name not in _ALLOWED_TAGS:
            raise _HtmlError(f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}')
        attrs, i_after = _parse_attributes(source, name_match.end(), name, byte_offset(i))
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _HtmlError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(i)}'
            )
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise _HtmlError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {byte_offset(i)}'
            )
        stack.append(_OpenTag(name, attrs, pos))
        i = i_after
    if stack:
        raise _HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _parse_attributes(
    source: str, index: int, tag: str, tag_offset: int
) -> tuple[dict[str, str], int]:
    """Read the attributes of a start tag up to its ``>``; returns them and the next index."""
    attrs: dict[str, str] = {}
    while True:
        start = index
        while index < len(source) and source[index].isspace():
            index += 1
        if index >= len(source):
            raise _HtmlError(f'Unclosed start tag "{tag}" at byte offset {tag_offset}')
        if source[index] == ">":
            return attrs, index + 1
        match = _ATTR_RE.match(source, index)
        if match is None or index == start:
            raise _HtmlError(
                f'Unexpected character in start tag "{tag}" at byte offset {tag_offset}'
            )
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attrs[match.group(1).lower()] = _unescape_attr(value)
        index = match.end()


def _entity_for_tag(tag: _OpenTag, end: int, stack: list[_OpenTag]) -> dict[str, Any] | None:
    """The MessageEntity a closed tag produces (None for tags that produce none)."""
    length = end - tag.start
    if tag.name == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].language = language.removeprefix("language-")
            return None
    if length == 0:
        return None
    entity: dict[str, Any] = {"offset": tag.start, "length": length}
    if tag.name in _SIMPLE_TAG_ENTITIES:
        entity["type"] = _SIMPLE_TAG_ENTITIES[tag.name]
    elif tag.name == "a":
        if not tag.attrs.get("href"):
            return None
        entity["type"] = "text_link"
        entity["url"] = tag.attrs["href"]
    elif tag.name == "code":
        entity["type"] = "code"
    elif tag.name == "pre":
        entity["type"] = "pre"
        if tag.language:
            entity["language"] = tag.language
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    else:  # tg-emoji
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    return entity


def _strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace; entities are shifted/clipped accordingly."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = _utf16_len(text[: len(text) - len(text.lstrip())])
    limit = _utf16_len(stripped)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def _format_text(
    raw: Any, parse_mode: Any, given_entities: Any
) -> tuple[str, list[dict[str, Any]]]:
    """Apply ``parse_mode`` like Telegram: returns the plain text and its entities.

    Markdown modes are accepted but not interpreted (the text is kept as sent): the bot
    uses HTML.
    """
    text = raw if isinstance(raw, str) else json.dumps(raw)
    mode = parse_mode.lower() if isinstance(parse_mode, str) and parse_mode else None
    if mode == "html":
        try:
            plain, entities = parse_html(text)
        except _HtmlError as exc:
            raise _bad_request(f"can't parse entities: {exc}") from None
    elif mode in (None, "markdown", "markdownv2"):
        plain = text
        entities = list(given_entities) if isinstance(given_entities, list) else []
    else:
        raise _bad_request("unsupported parse_mode")
    return _strip_text(plain, entities)


# ------------------------------------------------------------------------- data classes


@dataclass
class ApiCall:
    """One request received by the fake, kept so tests can assert on what the bot did."""

    method: str
    params: dict[str, Any]
    at: float
    chat_id: int | None


@dataclass
class FakeMessage:
    """A message as the fake stores it: what a human would see in the chat, plus raw data.

    The object is live: edits and deletions by the bot update it in place.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    text: str | None
    html: str | None
    reply_markup: dict[str, Any] | None
    kind: str
    deleted: bool = False
    edits: int = 0
    document_name: str | None = None
    document_bytes: bytes | None = field(default=None, repr=False)
    file_id: str | None = None
    #: Message entities of ``text`` (of the caption for media), UTF-16 offsets.
    entities: list[dict[str, Any]] = field(default_factory=list, repr=False)
    date: int = 0
    edit_date: int | None = None
    #: The Telegram ``from`` object (the bot or the user).
    sender: dict[str, Any] = field(default_factory=dict, repr=False)
    #: Telegram fields describing the media (``{"photo": [...]}``, ``{"contact": {...}}``).
    media: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def inline_buttons(self) -> list[list[tuple[str, str]]]:
        """Rows of (label, callback_data or url) of the inline keyboard; [] if none."""
        return [
            [(str(button.get("text", "")), _button_value(button)) for button in row]
            for row in _inline_rows(self.reply_markup)
        ]

    @property
    def labels(self) -> list[str]:
        """Flattened labels of the inline keyboard, handy for ``assert "Oui" in m.labels``."""
        return [label for row in self.inline_buttons for label, _ in row]

    def view(self) -> dict[str, Any]:
        """The message as the demo's page draws it: plain text and Telegram's entities (never
        HTML), its inline keyboard, and the address of its photo or document."""
        has_text = self.kind == "text"
        photo = document = None
        if self.file_id is not None and self.kind == "photo":
            photo = {"url": FILES_URL + self.file_id}
        elif self.file_id is not None:
            described = self.media.get(self.kind)
            mime = described.get("mime_type") if isinstance(described, dict) else None
            document = {
                "url": FILES_URL + self.file_id,
                "name": self.document_name or self.kind,
                "mime_type": mime or "application/octet-stream",
            }
        keyboard = [
            [view for view in map(_button_view, row) if view is not None]
            for row in _inline_rows(self.reply_markup)
        ]
        return {
            "message_id": self.message_id,
            "from": "bot" if self.from_bot else "user",
            "date": self.date,
            "text": self.text if has_text else None,
            "entities": [dict(e) for e in self.entities] if has_text else [],
            "caption": None if has_text else self.text,
            "caption_entities": [] if has_text else [dict(e) for e in self.entities],
            "photo": photo,
            "document": document,
            "inline_keyboard": [row for row in keyboard if row] or None,
            "edited": self.edits > 0,
        }


def _inline_rows(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """The button rows of an inline keyboard markup, [] for anything else."""
    if not markup or not isinstance(markup.get("inline_keyboard"), list):
        return []
    return [
        [button for button in row if isinstance(button, dict)]
        for row in markup["inline_keyboard"]
        if isinstance(row, list)
    ]


def _button_view(button: dict[str, Any]) -> dict[str, str] | None:
    """An inline button for the demo's page: its label and its callback_data or url (the
    bot uses no other kind: another is left out)."""
    for key in ("callback_data", "url"):
        if key in button:
            return {"text": str(button.get("text", "")), key: str(button[key])}
    return None


def _button_value(button: dict[str, Any]) -> str:
    """What an inline button carries: its callback_data, else its url, else ""."""
    for key in ("callback_data", "url"):
        if key in button:
            return str(button[key])
    return ""


def _inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The markup if it is a non-empty inline keyboard (what Telegram shows in messages)."""
    return markup if any(_inline_rows(markup)) else None


@dataclass
class _Fault:
    """A failure scheduled by :meth:`FakeBotApi.fail`."""

    method: str
    status: int
    times: int
    retry_after: int | None
    description: str | None
    chat_id: int | None


@dataclass
class _RandomFaults:
    """Random failures configured by :meth:`FakeBotApi.fail_rate`."""

    rate_429: float
    rate_403: float
    rng: random.Random
    retry_after: int


@dataclass
class _Outage:
    """A stretch during which the API fails, from :meth:`FakeBotApi.outage` to ``end_outage``."""

    status: int
    methods: frozenset[str] | None  # lower-case names; None: every method
    hold: float


@dataclass
class _CallbackQuery:
    """A callback query sent by a user, to validate answerCallbackQuery like Telegram."""

    user_id: int
    answered: bool = False


@dataclass
class _StoredFile:
    """A file known to the fake: uploaded by the bot or "sent" by a user."""

    file_id: str
    unique_id: str
    name: str
    data: bytes
    #: "photo", "document"…: what the bot (or the user) sent it as.
    kind: str = "document"


# ----------------------------------------------------------------------------- chats


class FakeChat:
    """What private chats and groups share: the message history and its views."""

    def __init__(self, server: FakeBotApi, chat_id: int) -> None:
        self._server = server
        self.chat_id = chat_id
        self._messages: list[FakeMessage] = []
        self._last_message_id = 0
        self.blocked = False

    def chat_dict(self) -> dict[str, Any]:
        """The Telegram ``Chat`` object of this chat."""
        raise NotImplementedError

    def _next_message_id(self) -> int:
        # Telegram numbers messages per private chat, for both sides.
        self._last_message_id += 1
        return self._last_message_id

    @property
    def messages(self) -> list[FakeMessage]:
        """Every message of the chat that is not deleted, user's and bot's, in order."""
        return [m for m in self._messages if not m.deleted]

    @property
    def bot_messages(self) -> list[FakeMessage]:
        """The bot's messages that are not deleted, in order."""
        return [m for m in self._messages if m.from_bot and not m.deleted]

    @property
    def last_message(self) -> FakeMessage:
        """The latest visible bot message; fails the test if the bot said nothing."""
        bot_messages = self.bot_messages
        if not bot_messages:
            raise AssertionError(
                f"the bot sent no (undeleted) message in chat {self.chat_id}; "
                f"last API calls: {self._server.describe_calls()}"
            )
        return bot_messages[-1]

    @property
    def deleted_messages(self) -> list[FakeMessage]:
        """Messages of this chat deleted by the bot, in order."""
        return [m for m in self._messages if m.deleted]

    @property
    def last_message_id(self) -> int:
        """The highest message id this chat has given (0 before the first message)."""
        return self._last_message_id

    def continue_after(self, message_id: int) -> None:
        """Number the next messages after `message_id`: a chat carried on from an earlier
        run, whose old ids a bot may still hold, never gets an old id again (Telegram never
        reuses one)."""
        self._last_message_id = max(self._last_message_id, message_id)

    def message(self, message_id: int) -> FakeMessage | None:
        """The message with this id if it is still there (not deleted), else None."""
        for message in self._messages:
            if message.message_id == message_id and not message.deleted:
                return message
        return None


class FakeUser(FakeChat):
    """A Telegram user talking to the bot in a private chat (chat_id == user_id)."""

    def __init__(
        self,
        server: FakeBotApi,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
    ) -> None:
        super().__init__(server, user_id)
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username

    def __repr__(self) -> str:
        return f"FakeUser({self.user_id}, {self.first_name!r})"

    def user_dict(self) -> dict[str, Any]:
        """The Telegram ``User`` object of this user."""
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        return user

    def chat_dict(self) -> dict[str, Any]:
        """The Telegram ``Chat`` object of the private chat with this user."""
        chat = {k: v for k, v in self.user_dict().items() if k != "is_bot"}
        chat["type"] = "private"
        return chat

    # ---- actions (each produces one update and then waits for the bot to settle)

    async def send(
        self, text: str, entities: list[dict[str, Any]] | None = None, *, wait: bool = True
    ) -> FakeMessage:
        """Send a private text message; a leading "/command" gets its bot_command entity.

        ``entities`` are the user's own formatting (bold, links…), UTF-16 offsets.
        ``wait=False`` returns once the update is queued, without waiting for the bot.
        """
        return await self._server._user_message(
            self, self, kind="text", text=text, entities=entities, wait=wait
        )

    async def send_photo(self, caption: str | None = None) -> FakeMessage:
        """Send a (tiny, fake) photo, optionally captioned."""
        return await self._server._user_media(self, self, "photo", "photo.jpg", caption)

    async def send_document(
        self, file_name: str = "piece.pdf", caption: str | None = None, data: bytes | None = None
    ) -> FakeMessage:
        """Send a document (`data`, or a few fixed bytes); the bot may download it (getFile)."""
        return await self._server._user_media(self, self, "document", file_name, caption, data)

    async def send_voice(self) -> FakeMessage:
        """Send a voice note."""
        return await self._server._user_media(self, self, "voice", "voice.ogg", None)

    async def send_video(self) -> FakeMessage:
        """Send a video."""
        return await self._server._user_media(self, self, "video", "video.mp4", None)

    async def send_sticker(self) -> FakeMessage:
        """Send a sticker."""
        return await self._server._user_media(self, self, "sticker", "sticker.webp", None)

    async def send_contact(self) -> FakeMessage:
        """Share the user's own contact."""
        contact = {
            "phone_number": "+33600000000",
            "first_name": self.first_name,
            "user_id": self.user_id,
        }
        return await self._server._user_message(
            self, self, kind="contact", text=None, media={"contact": contact}
        )

    async def tap(self, label: str, message: FakeMessage | None = None) -> None:
        """Tap a button by its label, the way a human would.

        Inline buttons are searched on ``message`` or else on the latest visible bot
        message whose inline keyboard has that label; failing that, a reply keyboard
        button sends its text as a message.
        """
        wanted = label.strip()
        if message is not None:
            if message.deleted:
                raise AssertionError(
                    f"cannot tap {label!r}: message {message.message_id} is deleted"
                )
            candidates = [message]
        else:
            candidates = list(reversed(self.bot_messages))
        for candidate in candidates:
            for row in _inline_rows(candidate.reply_markup):
                for button in row:
                    if str(button.get("text", "")).strip() != wanted:
                        continue
                    if "callback_data" not in button:
                        raise AssertionError(f"button {label!r} is not a callback button: {button}")
                    await self._server._callback_query(
                        self, candidate, str(button["callback_data"])
                    )
                    return
        for labels in self.reply_keyboard or []:
            for text in labels:
                if text.strip() == wanted:
                    await self.send(text)
                    return
        last = self.bot_messages[-1] if self.bot_messages else None
        raise AssertionError(
            f"no button {label!r} for user {self.user_id}: inline buttons of the last bot "
            f"message {last.labels if last else []} "
            f"(text {last.text if last else None!r}), reply keyboard {self.reply_keyboard}"
        )

    async def tap_data(
        self, data: str, message: FakeMessage | None = None, *, wait: bool = True
    ) -> None:
        """Send a raw callback query with arbitrary (forged or stale) data.

        ``wait=False`` returns once the update is queued, without waiting for the bot.
        """
        target = message if message is not None else self.last_message
        await self._server._callback_query(self, target, data, wait=wait)

    def block(self) -> None:
        """The user blocks the bot: every send to this chat now answers 403."""
        self.blocked = True

    def unblock(self) -> None:
        """The user unblocks the bot."""
        self.blocked = False

    # ---- views

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Rows of the reply keyboard currently shown to the user, None if there is none.

        Deleted messages count: a reply keyboard stays visible after its message is gone.
        """
        for message in reversed(self._messages):
            markup = message.reply_markup
            if not message.from_bot or not markup:
                continue
            if isinstance(markup.get("keyboard"), list):
                return [
                    [b if isinstance(b, str) else str(b.get("text", "")) for b in row]
                    for row in markup["keyboard"]
                ]
            if markup.get("remove_keyboard"):
                return None
        return None

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        """Parameters of answerCallbackQuery calls for this user's queries, in order."""
        return list(self._server._callback_answers.get(self.user_id, []))

    @property
    def last_callback_answer(self) -> dict[str, Any] | None:
        """The latest answerCallbackQuery parameters for this user, None if none."""
        answers = self.callback_answers
        return answers[-1] if answers else None

    @property
    def commands(self) -> list[tuple[str, str]] | None:
        """The last setMyCommands for the scope of this chat, None if never set/deleted."""
        return self._server.commands({"type": "chat", "chat_id": self.chat_id})


class FakeGroup(FakeChat):
    """A basic group where users talk and the bot answers."""

    def __init__(self, server: FakeBotApi, chat_id: int, title: str) -> None:
        super().__init__(server, chat_id)
        self.title = title

    def __repr__(self) -> str:
        return f"FakeGroup({self.chat_id}, {self.title!r})"

    def chat_dict(self) -> dict[str, Any]:
        """The Telegram ``Chat`` object of this group."""
        return {"id": self.chat_id, "type": "group", "title": self.title}

    async def send(self, user: FakeUser, text: str) -> FakeMessage:
        """``user`` writes ``text`` in the group."""
        return await self._server._user_message(self, user, kind="text", text=text)


# ---------------------------------------------------------------------------- server


Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class FakeBotApi:
    """The fake Bot API: an aiohttp server plus the state of users, chats and messages.

    Use as ``async with FakeBotApi() as fake:``; point PTB at ``fake.base_url`` and
    ``fake.base_file_url``; act as users with ``fake.user(42).send("/start")``.
    """

    def __init__(
        self, token: str = TOKEN, bot_id: int = 123456789, bot_username: str = "pnc_test_bot"
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Test Bot",
            "username": bot_username,
        }
        self.calls: list[ApiCall] = []
        #: Hook awaited after each user action with the update_id; None = default settle.
        self.settle: Callable[[int], Awaitable[None]] | None = None
        #: Updates a bot in another process said it has handled (tests/clocked_bot.py posts
        #: each to REPORT_PATH): what `settle_reported` waits for.
        self.reported: set[int] = set()
        self._reported_changed = asyncio.Event()
        #: Highest update_id the bot confirmed via getUpdates' offset.
        self.updates_confirmed = 0
        #: Webhook mode, Telegram's side: when set, each update a person makes is handed to
        #: this coroutine (which POSTs it to a bot, or to one of several behind a balancer,
        #: and returns once one took it) instead of waiting for getUpdates. Pair it with an
        #: exact `settle` (`settle_reported`): the default one watches getUpdates.
        self.push: Callable[[dict[str, Any]], Awaitable[None]] | None = None
        self.port = 0

        self._chats: dict[int, FakeChat] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._max_fetched = 0
        self._last_fetch_at = 0.0
        self._last_activity = 0.0
        self._inflight = 0
        self._poll_generation = 0
        self._wakeup = asyncio.Event()
        self._stop_event = asyncio.Event()
        self._stopping = False
        self._runner: web.AppRunner | None = None

        self._faults: list[_Fault] = []
        self._random_faults: dict[str, _RandomFaults] = {}
        self._outage: _Outage | None = None
        #: How many calls an outage answered with an error (or held), for test reports.
        self.outage_failures = 0
        self._callback_queries: dict[str, _CallbackQuery] = {}
        self._callback_answers: dict[int, list[dict[str, Any]]] = {}
        self._query_ids = itertools.count(1)
        self._commands: dict[str, list[tuple[str, str]]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._webhook_url = ""
        self._listeners: list[Listener] = []
        #: The « / » list each private chat was last told about (for "commands" events).
        self._shown_commands: dict[int, list[tuple[str, str]]] = {}

        self._handlers: dict[str, tuple[str, Handler]] = {}
        self._register_handlers()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Serve on 127.0.0.1, on a port chosen by the OS (tests may run in parallel)."""
        if self._runner is not None:
            return
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._wakeup = asyncio.Event()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # handler_cancellation: a long poll abandoned by its client (PTB cancels it on
        # stop) must not linger and later "deliver" updates to nobody.
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Answer pending long polls and held requests at once, then close the server.

        Stop the bot first: a bot still polling would then log connection errors.
        """
        if self._runner is None:
            return
        self._stopping = True
        self._stop_event.set()
        self._wake_pollers()
        await asyncio.sleep(0)
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``: file downloads (getFile)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------ test-side API

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """The user with this id (created on first use: it has "started" the bot)."""
        chat = self._chats.get(user_id)
        if chat is None:
            chat = FakeUser(self, user_id, first_name, last_name, username)
            self._chats[user_id] = chat
        if not isinstance(chat, FakeUser):
            raise AssertionError(f"chat {user_id} is a group, not a user")
        return chat

    def private_chat(self, user_id: int) -> FakeUser | None:
        """The user with this id if they exist already (unlike :meth:`user`, creates nobody)."""
        chat = self._chats.get(user_id)
        return chat if isinstance(chat, FakeUser) else None

    def group(self, chat_id: int, title: str = "Groupe") -> FakeGroup:
        """The group with this id (created on first use, the bot being a member)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = FakeGroup(self, chat_id, title)
            self._chats[chat_id] = chat
        if not isinstance(chat, FakeGroup):
            raise AssertionError(f"chat {chat_id} is a private chat, not a group")
        return chat

    def messages(self, chat_id: int) -> list[FakeMessage]:
        """Every message of a chat, both sides, in order, deleted ones included (flagged)."""
        chat = self._chats.get(chat_id)
        return list(chat._messages) if chat else []

    def calls_to(self, method: str) -> list[ApiCall]:
        """The calls to one method (case-insensitive, like Telegram), in order."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[tuple[str, str]] | None:
        """The commands last set for a scope (default scope if None); None if unset."""
        return self._commands.get(self._scope_key(scope, language_code))

    def describe_calls(self, last: int = 10) -> str:
        """A short text of the latest calls (getUpdates left out), for failure messages."""
        calls = [c for c in self.calls if c.method != "getUpdates"][-last:]
        if not calls:
            return "(none)"
        return "; ".join(
            f"{c.method}({', '.join(f'{k}={v!r:.60}' for k, v in c.params.items())})" for c in calls
        )

    def fail(
        self,
        method: str,
        *,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail instead of being executed.

        status 429 (flood control), 403, 400, >= 500, or 0 to hold the request
        unanswered for ``retry_after`` seconds (default 30) so that the client times out.
        """
        self._faults.append(_Fault(method, status, times, retry_after, description, chat_id))

    def fail_rate(
        self,
        method: str,
        *,
        rate_429: float = 0.0,
        rate_403: float = 0.0,
        seed: int = 0,
        retry_after: int = 1,
    ) -> None:
        """Random, reproducible faults for benchmarks; a 403 blocks the chat for good."""
        if rate_429 <= 0 and rate_403 <= 0:
            self._random_faults.pop(method.lower(), None)
            return
        self._random_faults[method.lower()] = _RandomFaults(
            rate_429, rate_403, random.Random(seed), retry_after
        )

    def outage(
        self,
        status: int = 502,
        *,
        methods: Collection[str] | None = None,
        hold: float = 30.0,
    ) -> None:
        """From now until :meth:`end_outage`, every call (to ``methods`` if given) fails.

        ``status`` >= 500 answers at once; 0 holds each request ``hold`` seconds before a 504,
        so that a client whose read timeout is shorter times out. Unlike :meth:`fail`, an
        outage lasts for a time, not for a number of calls: the API is down "for a while".
        """
        names = frozenset(m.lower() for m in methods) if methods is not None else None
        self._outage = _Outage(status, names, hold)

    def end_outage(self) -> None:
        """The API answers again (requests already held still end in a 504)."""
        self._outage = None

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the documented interface
    ) -> None:
        """Wait until ``predicate()`` is true (checked every 10 ms), for async side effects."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                try:
                    what = inspect.getsource(predicate).strip()
                except (OSError, TypeError):
                    what = repr(predicate)
                raise AssertionError(
                    f"condition not met within {timeout} s: {what}\n"
                    f"last API calls: {self.describe_calls()}"
                )
            await asyncio.sleep(0.01)

    # ------------------------------------------------------- following (the demo)

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` at each change a person would see in a chat; returns the
        function that stops it.

        Events (bot/sandbox/web.py sends them on as they are): ``message`` (a new message
        of the bot or of the person, with :meth:`FakeMessage.view`), ``edit``, ``delete``,
        ``keyboard`` (the reply keyboard shown, replaced or removed), ``toast`` (an
        answerCallbackQuery with a text) and ``commands`` (the chat's « / » list changed).
        The listener is called synchronously, while the Bot API call is served: it must
        not block.
        """
        self._listeners.append(listener)

        def stop() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return stop

    def chat_commands(self, chat_id: int) -> list[tuple[str, str]]:
        """The « / » list a person sees in their private chat, resolved like Telegram: the
        chat's own list, else the one for all private chats, else the default; [] if none."""
        scopes: list[dict[str, Any] | None] = [
            {"type": "chat", "chat_id": chat_id},
            {"type": "all_private_chats"},
            None,
        ]
        for scope in scopes:
            found = self.commands(scope)
            if found is not None:
                return list(found)
        return []

    def file(self, file_id: str) -> _StoredFile | None:
        """A file the bot sent (or a user "sent"), by its file_id; None if unknown."""
        return self._files.get(file_id)

    def forget_chats(self) -> None:
        """Start over (the demo's reset): every chat, message, file, command list, callback
        query and pending update is forgotten. Stop the bot first."""
        self._chats.clear()
        self._updates.clear()
        self._callback_queries.clear()
        self._callback_answers.clear()
        self._commands.clear()
        self._shown_commands.clear()
        self._files.clear()
        self.calls.clear()

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # one broken page must not break the bot's API calls
                log.exception("a listener of the fake Bot API failed")

    def _emit_new(self, chat: FakeChat, message: FakeMessage) -> None:
        if not self._listeners:
            return
        self._emit({"type": "message", "chat_id": chat.chat_id, "message": message.view()})
        markup = message.reply_markup or {}
        if (
            message.from_bot
            and isinstance(chat, FakeUser)
            and ("keyboard" in markup or markup.get("remove_keyboard"))
        ):
            self._emit(
                {"type": "keyboard", "chat_id": chat.chat_id, "keyboard": chat.reply_keyboard}
            )

    def _emit_edit(self, message: FakeMessage) -> None:
        if self._listeners:
            self._emit({"type": "edit", "chat_id": message.chat_id, "message": message.view()})

    def _emit_delete(self, message: FakeMessage) -> None:
        if self._listeners:
            self._emit(
                {"type": "delete", "chat_id": message.chat_id, "message_id": message.message_id}
            )

    def _emit_commands(self) -> None:
        """A command list changed: tell each private chat whose « / » list is now different."""
        if not self._listeners:
            return
        for chat in list(self._chats.values()):
            if not isinstance(chat, FakeUser):
                continue
            shown = self.chat_commands(chat.chat_id)
            if self._shown_commands.get(chat.chat_id) == shown:
                continue
            self._shown_commands[chat.chat_id] = shown
            self._emit(
                {
                    "type": "commands",
                    "chat_id": chat.chat_id,
                    "commands": [{"command": c, "description": d} for c, d in shown],
                }
            )

    # -------------------------------------------------------------- updates

    def _wake_pollers(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _enqueue(self, body: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **body})
        self._wake_pollers()
        return update_id

    async def _deliver(self, body: dict[str, Any], *, wait: bool = True) -> None:
        """Queue an update for the bot (or `push` it), then (``wait``) wait until the bot has
        dealt with it."""
        if self.push is None:
            update_id = self._enqueue(body)
        else:
            update_id = next(self._update_ids)
            await self.push({"update_id": update_id, **body})
        if wait:
            await (self.settle or self._default_settle)(update_id)

    async def settle_reported(self, update_id: int) -> None:
        """Exact settle for a bot in another process that reports each update it has handled
        (tests/clocked_bot.py): waits for that report, however loaded the machine is."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        while update_id not in self.reported:
            self._reported_changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"the bot process did not report update {update_id} handled within "
                    f"{SETTLE_TIMEOUT_SECONDS} s; last API calls: {self.describe_calls()}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reported_changed.wait(), left)

    async def _default_settle(self, update_id: int) -> None:
        """Wait for the bot to fetch the update and start answering it (for at most
        REPLY_GRACE_SECONDS), then for 150 ms without API calls.

        A heuristic, for bots running in another process; in-process tests should set
        ``settle`` to something exact such as :class:`ProcessedUpdateTracker`.
        """
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        while self._max_fetched < update_id:
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"update {update_id} was not fetched by getUpdates within "
                    f"{SETTLE_TIMEOUT_SECONDS} s: is the bot polling {self.base_url}?"
                )
            await asyncio.sleep(0.01)
        # The bot's first call in answer: on a loaded machine, a bot process can take longer
        # than the quiet period below between fetching an update and answering it (its first
        # update after a start imports and compiles templates). An update that gets no answer
        # at all costs REPLY_GRACE_SECONDS.
        fetched_at = self._last_fetch_at
        grace = min(deadline, time.monotonic() + REPLY_GRACE_SECONDS)
        while self._last_activity < fetched_at and self._inflight == 0:
            if time.monotonic() >= grace:
                break
            await asyncio.sleep(0.01)
        while True:
            now = time.monotonic()
            quiet = now - max(self._last_activity, self._last_fetch_at)
            if self._inflight == 0 and quiet >= QUIESCENCE_SECONDS:
                return
            if now >= deadline:
                raise AssertionError(
                    f"the bot kept calling the API for {SETTLE_TIMEOUT_SECONDS} s after "
                    f"update {update_id}; last API calls: {self.describe_calls()}"
                )
            await asyncio.sleep(0.01)

    def _new_message(
        self,
        chat: FakeChat,
        *,
        from_bot: bool,
        sender: dict[str, Any],
        kind: str,
        text: str | None,
        html: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_markup: dict[str, Any] | None = None,
        media: dict[str, Any] | None = None,
        stored: _StoredFile | None = None,
    ) -> FakeMessage:
        message = FakeMessage(
            message_id=chat._next_message_id(),
            chat_id=chat.chat_id,
            from_bot=from_bot,
            text=text,
            html=html,
            reply_markup=reply_markup,
            kind=kind,
            document_name=stored.name if stored else None,
            document_bytes=stored.data if stored else None,
            file_id=stored.file_id if stored else None,
            entities=entities or [],
            date=int(time.time()),
            sender=sender,
            media=media or {},
        )
        chat._messages.append(message)
        self._emit_new(chat, message)
        return message

    async def _user_message(
        self,
        chat: FakeChat,
        user: FakeUser,
        *,
        kind: str,
        text: str | None,
        media: dict[str, Any] | None = None,
        stored: _StoredFile | None = None,
        entities: list[dict[str, Any]] | None = None,
        wait: bool = True,
    ) -> FakeMessage:
        entities = list(entities or [])
        if kind == "text" and text is not None:
            command = re.match(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text)
            if command:
                entities.append(
                    {"type": "bot_command", "offset": 0, "length": _utf16_len(command.group(0))}
                )
        message = self._new_message(
            chat,
            from_bot=False,
            sender=user.user_dict(),
            kind=kind,
            text=text,
            entities=entities,
            media=media,
            stored=stored,
        )
        await self._deliver({"message": self._message_dict(message)}, wait=wait)
        return message

    async def _user_media(
        self,
        chat: FakeChat,
        user: FakeUser,
        kind: str,
        name: str,
        caption: str | None,
        data: bytes | None = None,
    ) -> FakeMessage:
        if data is None:
            data = (
                b"%PDF-1.4\n% fake\n%%EOF\n" if name.endswith(".pdf") else f"fake {kind}".encode()
            )
        stored = self._store_file(name, data, kind)
        return await self._user_message(
            chat,
            user,
            kind=kind,
            text=caption,
            media=self._media_payload(kind, stored),
            stored=stored,
        )

    async def _callback_query(
        self, user: FakeUser, message: FakeMessage, data: str, *, wait: bool = True
    ) -> None:
        query_id = f"{user.user_id}{next(self._query_ids):08d}"
        self._callback_queries[query_id] = _CallbackQuery(user.user_id)
        await self._deliver(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.user_dict(),
                    "message": self._message_dict(message),
                    "chat_instance": f"ci{message.chat_id}",
                    "data": data,
                }
            },
            wait=wait,
        )

    def _message_dict(self, message: FakeMessage) -> dict[str, Any]:
        """The Telegram ``Message`` object for a stored message, with its current content."""
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chats[message.chat_id].chat_dict(),
            "from": message.sender,
        }
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        if message.kind == "text":
            result["text"] = message.text or ""
            if message.entities:
                result["entities"] = message.entities
        else:
            result.update(message.media)
            if message.text is not None:
                result["caption"] = message.text
                if message.entities:
                    result["caption_entities"] = message.entities
        inline = _inline_markup(message.reply_markup)
        if inline is not None:
            result["reply_markup"] = inline
        return result

    # ------------------------------------------------------------------ files

    def _store_file(self, name: str, data: bytes, kind: str = "document") -> _StoredFile:
        number = next(self._file_counter)
        stored = _StoredFile(f"FAKEFILE{number:06d}", f"U{number:06d}", name, data, kind)
        self._files[stored.file_id] = stored
        return stored

    @staticmethod
    def _media_payload(kind: str, stored: _StoredFile) -> dict[str, Any]:
        """The Telegram object(s) describing a media of ``kind`` (PTB de-jsons them)."""
        base: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.data),
        }
        if kind == "photo":
            return {"photo": [{**base, "width": 800, "height": 600}]}
        mime = mimetypes.guess_type(stored.name)[0]
        extra: dict[str, Any] = {}
        if kind == "document":
            extra = {"file_name": stored.name, "mime_type": mime or "application/octet-stream"}
        elif kind in ("voice", "audio"):
            extra = {"duration": 1, "mime_type": mime or "audio/ogg"}
        elif kind in ("video", "animation"):
            extra = {"width": 640, "height": 360, "duration": 1, "mime_type": mime or "video/mp4"}
        elif kind == "sticker":
            extra = {
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "\N{THUMBS UP SIGN}",
            }
        elif kind == "video_note":
            extra = {"length": 240, "duration": 1}
        return {kind: {**base, **extra}}

    async def _serve_file(self, request: web.Request) -> web.StreamResponse:
        """GET /file/bot<token>/<file_path>: what ``File.download_*`` fetches."""
        match = re.fullmatch(r"/file/bot([^/]+)/(.+)", request.path)
        if match is None or match.group(1) != self.token:
            return _error_response(401, "Unauthorized")
        stored = self._files.get(match.group(2).rsplit("/", 1)[-1])
        if stored is None:
            return _error_response(404, "Not Found")
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # --------------------------------------------------------------- dispatch

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/file/"):
            return await self._serve_file(request)
        if request.path == REPORT_PATH:
            self.reported.add(int((await request.json())["update_id"]))
            self._reported_changed.set()
            return web.json_response({"ok": True})
        match = re.fullmatch(r"/bot([^/]*)/([A-Za-z0-9_]+)", request.path)
        if match is None:
            return _error_response(404, "Not Found")
        token, method = match.groups()
        try:
            params = await _decode_params(request)
        except ValueError as exc:
            return _error_response(400, f"Bad Request: can't parse request: {exc}")
        canonical, handler = self._handlers.get(method.lower(), (method, None))
        call = ApiCall(canonical, params, time.monotonic(), _chat_id_of(params))
        self.calls.append(call)
        if token != self.token:
            return _error_response(401, "Unauthorized")
        if handler is None:
            return _error_response(404, "Not Found: method not found")
        polling = canonical == "getUpdates"
        if not polling:
            self._inflight += 1
            self._last_activity = time.monotonic()
        try:
            await self._inject_faults(call)
            result = await handler(params)
        except _ApiError as exc:
            return _error_response(exc.status, exc.description, exc.parameters)
        finally:
            if not polling:
                self._inflight -= 1
                self._last_activity = time.monotonic()
        return web.json_response({"ok": True, "result": result})

    async def _inject_faults(self, call: ApiCall) -> None:
        """Raise the error scheduled by outage()/fail()/fail_rate() for this call, if any."""
        outage = self._outage
        if outage is not None and (outage.methods is None or call.method.lower() in outage.methods):
            self.outage_failures += 1
            if outage.status == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_event.wait(), outage.hold)
                raise _ApiError(504, "Gateway Timeout")
            raise _ApiError(outage.status, HTTPStatus(outage.status).phrase)
        for fault in self._faults:
            if fault.method.lower() != call.method.lower() or fault.times <= 0:
                continue
            if fault.chat_id is not None and fault.chat_id != call.chat_id:
                continue
            fault.times -= 1
            if fault.times == 0:
                self._faults.remove(fault)
            await self._raise_fault(fault)
        random_faults = self._random_faults.get(call.method.lower())
        if random_faults is None:
            return
        chat = self._chats.get(call.chat_id) if call.chat_id is not None else None
        if chat is not None and chat.blocked:
            return  # the method itself answers 403
        draw = random_faults.rng.random()
        if draw < random_faults.rate_403:
            if chat is None:
                return  # nothing to block (e.g. answerCallbackQuery): the call goes through
            chat.blocked = True
            raise _blocked_error(chat)
        if draw < random_faults.rate_403 + random_faults.rate_429:
            raise _flood_error(random_faults.retry_after)

    async def _raise_fault(self, fault: _Fault) -> NoReturn:
        if fault.status == 0:
            hold = fault.retry_after if fault.retry_after is not None else 30
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), hold)
            raise _ApiError(504, fault.description or "Gateway Timeout")
        if fault.status == 429:
            error = _flood_error(fault.retry_after or 1)
            if fault.description:
                error.description = fault.description
            raise error
        if fault.status == 403:
            raise _ApiError(403, fault.description or _BLOCKED)
        if fault.status == 400:
            raise _ApiError(400, fault.description or "Bad Request: chat not found")
        if fault.status >= 500:
            raise _ApiError(fault.status, fault.description or "Internal Server Error")
        try:
            phrase = HTTPStatus(fault.status).phrase
        except ValueError:
            phrase = "Error"
        raise _ApiError(fault.status, fault.description or phrase)

    def _register_handlers(self) -> None:
        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "getChat": self._get_chat,
            "getFile": self._get_file,
        }
        for kind in _MEDIA_KINDS:
            name = "send" + "".join(part.title() for part in kind.split("_"))
            handlers[name] = self._media_sender(kind)
        for name in (
            "setChatMenuButton",
            "close",
            "logOut",
            "setMyDescription",
            "setMyShortDescription",
            "setMyName",
            "pinChatMessage",
            "unpinChatMessage",
            "unpinAllChatMessages",
            "setMessageReaction",
        ):
            handlers[name] = _always_true
        self._handlers = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # --------------------------------------------------------- method helpers

    def _chat(self, params: dict[str, Any], key: str = "chat_id") -> FakeChat:
        """The chat a call targets; 400 if Telegram would not know it."""
        chat_id = _as_int(params.get(key))
        if params.get(key) in (None, ""):
            raise _bad_request(f"{key} is empty")
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise _bad_request("chat not found")
        return chat

    def _writable_chat(self, params: dict[str, Any]) -> FakeChat:
        """The target chat of a send/edit, refusing (403) if the user blocked the bot."""
        chat = self._chat(params)
        if chat.blocked:
            raise _blocked_error(chat)
        return chat

    def _message(self, chat: FakeChat, params: dict[str, Any], error: str) -> FakeMessage:
        message_id = _as_int(params.get("message_id"))
        for message in chat._messages:
            if message.message_id == message_id and not message.deleted:
                return message
        raise _bad_request(error)

    @staticmethod
    def _markup(value: Any) -> dict[str, Any] | None:
        """Validate ``reply_markup`` like Telegram (inline buttons, callback_data size)."""
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        if not isinstance(value, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in value:
            rows = value["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad_request("can't parse inline keyboard markup: rows must be arrays")
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad_request(
                            "can't parse inline keyboard button: Text must be a string"
                        )
                    if not _INLINE_BUTTON_ACTIONS & button.keys():
                        raise _bad_request(
                            "can't parse inline keyboard button: Text buttons are unallowed "
                            "in the inline keyboard"
                        )
                    if "callback_data" in button:
                        size = len(str(button["callback_data"]).encode("utf-8"))
                        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                            raise _bad_request("BUTTON_DATA_INVALID")
        return value

    @staticmethod
    def _text(params: dict[str, Any]) -> tuple[str, str, list[dict[str, Any]]]:
        """Validated message text: (raw as sent, plain text, entities)."""
        raw = params.get("text")
        if raw is None or raw == "":
            raise _bad_request("message text is empty")
        plain, entities = _format_text(raw, params.get("parse_mode"), params.get("entities"))
        if not plain:
            raise _bad_request("message text is empty")
        if len(plain) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        return str(raw), plain, entities

    @staticmethod
    def _caption(params: dict[str, Any]) -> tuple[str | None, str | None, list[dict[str, Any]]]:
        """Validated caption: (raw, plain, entities), all empty when there is none."""
        raw = params.get("caption")
        if raw is None or raw == "":
            return None, None, []
        plain, entities = _format_text(
            raw, params.get("parse_mode"), params.get("caption_entities")
        )
        if len(plain) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        return str(raw), plain or None, entities

    @staticmethod
    def _scope_key(scope: Any, language_code: Any) -> str:
        if isinstance(scope, str):
            scope = json.loads(scope)
        normalized = dict(scope) if isinstance(scope, dict) else {"type": "default"}
        if "chat_id" in normalized:
            chat_id = _as_int(normalized["chat_id"])
            normalized["chat_id"] = chat_id if chat_id is not None else normalized["chat_id"]
        return json.dumps(normalized, sort_keys=True) + "|" + str(language_code or "")

    # ----------------------------------------------------------------- methods

    async def _get_me(self, params: dict[str, Any]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        offset = _as_int(params.get("offset"))
        limit = _as_int(params.get("limit")) or 100
        timeout = params.get("timeout") or 0
        allowed = params.get("allowed_updates")
        if offset is not None and offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self.updates_confirmed = max(self.updates_confirmed, offset - 1)
        elif offset is not None and offset < 0:
            dropped, self._updates = self._updates[:offset], self._updates[offset:]
            if dropped:
                self.updates_confirmed = max(self.updates_confirmed, dropped[-1]["update_id"])
        if isinstance(allowed, list) and allowed:
            kept = []
            for update in self._updates:
                if any(key in allowed for key in update if key != "update_id"):
                    kept.append(update)
                else:  # never delivered: count it as handled for the default settle
                    self._max_fetched = max(self._max_fetched, update["update_id"])
            self._updates = kept
        # Like Telegram, a newer getUpdates terminates an older one still waiting.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        deadline = time.monotonic() + float(timeout)
        while True:
            if self._stopping:
                return []
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            if self._updates:
                batch = self._updates[: max(1, min(limit, 100))]
                self._max_fetched = max(self._max_fetched, batch[-1]["update_id"])
                self._last_fetch_at = time.monotonic()
                return batch
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    async def _delete_webhook(self, params: dict[str, Any]) -> Any:
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            if self._updates:
                last = self._updates[-1]["update_id"]
                self._max_fetched = max(self._max_fetched, last)
                self.updates_confirmed = max(self.updates_confirmed, last)
            self._updates = []
        return True

    async def _set_webhook(self, params: dict[str, Any]) -> Any:
        self._webhook_url = str(params.get("url") or "")
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> Any:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _send_message(self, params: dict[str, Any]) -> Any:
        chat = self._writable_chat(params)
        raw, plain, entities = self._text(params)
        markup = self._markup(params.get("reply_markup"))
        message = self._new_message(
            chat,
            from_bot=True,
            sender=self.bot_user,
            kind="text",
            text=plain,
            html=raw,
            entities=entities,
            reply_markup=markup,
        )
        return self._message_dict(message)

    def _editable(self, params: dict[str, Any]) -> FakeMessage:
        if params.get("inline_message_id"):
            raise _bad_request("inline messages are not supported by the fake Bot API")
        chat = self._writable_chat(params)
        message = self._message(chat, params, "message to edit not found")
        if not message.from_bot:
            raise _bad_request("message can't be edited")
        return message

    def _apply_edit(
        self,
        message: FakeMessage,
        *,
        text: str | None,
        html: str | None,
        entities: list[dict[str, Any]],
        markup: dict[str, Any] | None,
    ) -> Any:
        """Store an edit, or refuse it like Telegram when nothing changes."""
        new_inline = _inline_markup(markup)
        if (
            text == message.text
            and entities == message.entities
            and new_inline == _inline_markup(message.reply_markup)
        ):
            raise _ApiError(400, _NOT_MODIFIED)
        message.text, message.html, message.entities = text, html, entities
        # Edits only carry inline keyboards: a reply keyboard sent with the message stays.
        if message.reply_markup is None or _inline_markup(message.reply_markup) is not None:
            message.reply_markup = new_inline
        message.edits += 1
        message.edit_date = int(time.time())
        self._emit_edit(message)
        return self._message_dict(message)

    async def _edit_message_text(self, params: dict[str, Any]) -> Any:
        message = self._editable(params)
        if message.kind != "text":
            raise _bad_request("there is no text in the message to edit")
        raw, plain, entities = self._text(params)
        markup = self._markup(params.get("reply_markup"))
        return self._apply_edit(message, text=plain, html=raw, entities=entities, markup=markup)

    async def _edit_message_caption(self, params: dict[str, Any]) -> Any:
        message = self._editable(params)
        if message.kind == "text":
            raise _bad_request("there is no caption in the message to edit")
        raw, plain, entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"))
        return self._apply_edit(message, text=plain, html=raw, entities=entities, markup=markup)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        message = self._editable(params)
        markup = self._markup(params.get("reply_markup"))
        return self._apply_edit(
            message,
            text=message.text,
            html=message.html,
            entities=message.entities,
            markup=markup,
        )

    async def _answer_callback_query(self, params: dict[str, Any]) -> Any:
        query = self._callback_queries.get(str(params.get("callback_query_id")))
        if query is None or query.answered:
            raise _bad_request(_QUERY_INVALID)
        query.answered = True
        self._callback_answers.setdefault(query.user_id, []).append(dict(params))
        text = params.get("text")
        if text and self._listeners:
            self._emit(
                {
                    "type": "toast",
                    "chat_id": query.user_id,
                    "text": str(text),
                    "show_alert": params.get("show_alert") in (True, "true", "True"),
                }
            )
        return True

    async def _delete_message(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        message = self._message(chat, params, "message to delete not found")
        message.deleted = True
        self._emit_delete(message)
        return True

    async def _delete_messages(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not ids:
            raise _bad_request("message identifiers are not specified")
        for message in chat._messages:
            if message.message_id in ids and not message.deleted:
                message.deleted = True
                self._emit_delete(message)
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> Any:
        self._writable_chat(params)
        return True

    async def _set_my_commands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        parsed: list[tuple[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            parsed.append((name, description))
        self._check_scope_chat(params.get("scope"))
        self._commands[self._scope_key(params.get("scope"), params.get("language_code"))] = parsed
        self._emit_commands()
        return True

    def _check_scope_chat(self, scope: Any) -> None:
        if isinstance(scope, dict) and "chat_id" in scope:
            self._chat(scope)

    async def _delete_my_commands(self, params: dict[str, Any]) -> Any:
        self._commands.pop(self._scope_key(params.get("scope"), params.get("language_code")), None)
        self._emit_commands()
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> Any:
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        return [{"command": c, "description": d} for c, d in self._commands.get(key, [])]

    def _duplicate(self, params: dict[str, Any], error: str) -> FakeMessage:
        """Copy/forward: a new bot message in chat_id with the content of the source."""
        target = self._writable_chat(params)
        source = self._message(self._chat(params, "from_chat_id"), params, error)
        text, html, entities = source.text, source.html, source.entities
        if params.get("caption") is not None and source.kind != "text":
            html, text, entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"))
        stored = self._files.get(source.file_id) if source.file_id else None
        return self._new_message(
            target,
            from_bot=True,
            sender=self.bot_user,
            kind=source.kind,
            text=text,
            html=html,
            entities=entities,
            reply_markup=markup,
            media=dict(source.media),
            stored=stored,
        )

    async def _copy_message(self, params: dict[str, Any]) -> Any:
        return {"message_id": self._duplicate(params, "message to copy not found").message_id}

    async def _forward_message(self, params: dict[str, Any]) -> Any:
        return self._message_dict(self._duplicate(params, "message to forward not found"))

    async def _get_chat(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        return {
            **chat.chat_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_file(self, params: dict[str, Any]) -> Any:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.data),
            "file_path": f"files/{stored.file_id}",
        }

    def _media_sender(self, kind: str) -> Handler:
        """A send<Media> handler: the file is an upload, a known file_id or a URL."""

        async def send_media(params: dict[str, Any]) -> Any:
            chat = self._writable_chat(params)
            source = params.get(kind)
            if isinstance(source, str) and source.startswith("attach://"):
                source = params.get(source.removeprefix("attach://"))
            if isinstance(source, tuple):
                stored = self._store_file(str(source[0]), bytes(source[1]), kind)
            elif isinstance(source, str) and source in self._files:
                stored = self._files[source]
            elif isinstance(source, str) and source.startswith(("http://", "https://")):
                stored = self._store_file(source.rsplit("/", 1)[-1] or kind, b"", kind)
            elif source is None or source == "":
                raise _bad_request(f"there is no {kind} in the request")
            else:
                raise _bad_request("wrong file identifier/HTTP URL specified")
            raw, plain, entities = self._caption(params)
            markup = self._markup(params.get("reply_markup"))
            message = self._new_message(
                chat,
                from_bot=True,
                sender=self.bot_user,
                kind=kind,
                text=plain,
                html=raw,
                entities=entities,
                reply_markup=markup,
                media=self._media_payload(kind, stored),
                stored=stored,
            )
            return self._message_dict(message)

        return send_media


# --------------------------------------------------------------------------- helpers


async def _always_true(params: dict[str, Any]) -> Any:
    """Methods the bot may call at startup whose effect tests do not observe."""
    return True


def _blocked_error(chat: FakeChat) -> _ApiError:
    """What Telegram answers when the user blocked the bot (or a group removed it)."""
    if isinstance(chat, FakeUser):
        return _ApiError(403, _BLOCKED)
    return _ApiError(403, "Forbidden: bot was kicked from the group chat")


def _flood_error(retry_after: int) -> _ApiError:
    return _ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def _error_response(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _as_int(value: Any) -> int | None:
    """An id parameter as int (PTB sends ints, JSON-encoded, as form strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    return None


def _chat_id_of(params: dict[str, Any]) -> int | None:
    return _as_int(params.get("chat_id"))


def _decode_value(key: str, raw: str) -> Any:
    """A form value: JSON for non-string parameters, the raw string otherwise."""
    if key in _STRING_PARAMS:
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return raw if isinstance(value, str) else value


async def _decode_params(request: web.Request) -> dict[str, Any]:
    """Parameters of a Bot API request: query string, form, multipart or JSON body.

    Uploaded files become ``(filename, bytes)`` tuples.
    """
    params: dict[str, Any] = {k: _decode_value(k, v) for k, v in request.query.items()}
    if request.content_type == "application/json":
        body = await request.read()
        if body:
            decoded = json.loads(body)
            if not isinstance(decoded, dict):
                raise ValueError("JSON body must be an object")
            params.update(decoded)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = (value.filename, value.file.read())
            elif isinstance(value, str):
                params[key] = _decode_value(key, value)
            else:
                params[key] = _decode_value(key, bytes(value).decode("utf-8"))
    return params


# ------------------------------------------------------------------ precise settling


class ProcessedUpdateTracker(SimpleUpdateProcessor):
    """Exact "settle" for an in-process Application: waits until it processed update N.

    Usage::

        tracker = ProcessedUpdateTracker()
        app = ApplicationBuilder()...concurrent_updates(tracker).build()
        fake.settle = tracker.wait_processed

    Handlers registered with ``block=False`` or tasks they spawn are not waited for.
    """

    def __init__(self) -> None:
        super().__init__(max_concurrent_updates=1)
        self.processed: set[int] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers, then record the update as processed (even if they failed)."""
        try:
            await coroutine
        finally:
            update_id = getattr(update, "update_id", None)
            if isinstance(update_id, int):
                self.processed.add(update_id)

    async def wait_processed(
        self,
        update_id: int,
        timeout: float = SETTLE_TIMEOUT_SECONDS,  # noqa: ASYNC109 - mirrors wait_for
    ) -> None:
        """Return once the Application finished processing ``update_id``."""
        deadline = time.monotonic() + timeout
        while update_id not in self.processed:
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"the Application did not process update {update_id} within {timeout} s "
                    "(is it polling the fake Bot API?)"
                )
            await asyncio.sleep(0.002)
