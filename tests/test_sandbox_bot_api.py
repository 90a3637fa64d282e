"""Tests of the fake Bot API itself.

The end-to-end tests of the bot trust the fake to behave like Telegram; these tests
pin that behaviour down with the real client stack: a PTB ``Application`` long polling
the fake, and a plain ``telegram.Bot`` for the error paths.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox.bot_api import TOKEN, FakeBotApi, ProcessedUpdateTracker

# Until the project config sets asyncio_mode = "auto".
pytestmark = pytest.mark.asyncio

USER_ID = 1001


# ----------------------------------------------------------------- a tiny bot


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: a greeting in HTML with an inline yes/no keyboard."""
    assert update.effective_message
    assert update.effective_user
    name = html.escape(update.effective_user.first_name)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Oui", callback_data="yes"),
                InlineKeyboardButton("Non", callback_data="no"),
            ]
        ]
    )
    await update.effective_message.reply_text(
        f"Bonjour <b>{name}</b> !", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Button tap: answer the query, then replace the question by the choice."""
    query = update.callback_query
    assert query is not None
    await query.answer("Noté")
    await query.edit_message_text(f"Vous avez choisi : {query.data}")


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/menu: shows a reply keyboard."""
    assert update.effective_message
    await update.effective_message.reply_text(
        "Menu", reply_markup=ReplyKeyboardMarkup([["Aide", "Quitter"]], resize_keyboard=True)
    )


async def hide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hide: removes the reply keyboard."""
    assert update.effective_message
    await update.effective_message.reply_text("Fermé", reply_markup=ReplyKeyboardRemove())


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other text is echoed, so reply keyboard taps are visible."""
    assert update.effective_message
    await update.effective_message.reply_text(f"Reçu : {update.effective_message.text}")


async def receive_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document is downloaded through getFile + base_file_url, then described."""
    message = update.effective_message
    assert message
    assert message.document
    data = await (await message.document.get_file()).download_as_bytearray()
    await message.reply_text(f"{len(data)} octets, {message.document.file_name}")


async def _running_app(fake: FakeBotApi, tracker: ProcessedUpdateTracker | None) -> Application:
    builder = (
        ApplicationBuilder().token(TOKEN).base_url(fake.base_url).base_file_url(fake.base_file_url)
    )
    if tracker is not None:
        builder = builder.concurrent_updates(tracker)
    app = builder.build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CommandHandler("hide", hide))
    app.add_handler(CallbackQueryHandler(choose))
    app.add_handler(MessageHandler(filters.Document.ALL, receive_document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    return app


async def _stop_app(app: Application) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def no_settle(update_id: int) -> None:
    """Settle hook for tests that read getUpdates themselves instead of running a bot."""


# ------------------------------------------------------------------ fixtures


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """A started fake server, stopped after the test."""
    async with FakeBotApi() as server:
        yield server


@pytest_asyncio.fixture
async def app(fake: FakeBotApi) -> AsyncIterator[Application]:
    """The tiny bot, polling the fake, with the exact settle hook."""
    tracker = ProcessedUpdateTracker()
    application = await _running_app(fake, tracker)
    fake.settle = tracker.wait_processed
    yield application
    await _stop_app(application)


@pytest_asyncio.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    """A plain initialized Bot on the fake, for direct API calls."""
    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


# ------------------------------------------------------ conversation via the Application


async def test_start_replies_with_inline_keyboard(fake: FakeBotApi, app: Application) -> None:
    user = fake.user(USER_ID, "Alice")
    sent = await user.send("/start")

    reply = user.last_message
    assert not sent.from_bot
    assert sent.text == "/start"
    assert reply.text == "Bonjour Alice !"
    assert reply.html == "Bonjour <b>Alice</b> !"
    assert reply.inline_buttons == [[("Oui", "yes"), ("Non", "no")]]
    assert reply.labels == ["Oui", "Non"]
    assert [m.message_id for m in user.messages] == [1, 2]  # one counter for both sides
    await fake.wait_for(lambda: fake.updates_confirmed >= 1, timeout=3)


async def test_tap_answers_callback_and_edits(fake: FakeBotApi, app: Application) -> None:
    user = fake.user(USER_ID)
    await user.send("/start")
    question = user.last_message

    await user.tap("Oui")

    assert question.text == "Vous avez choisi : yes"
    assert question.edits == 1
    assert question.labels == []  # editMessageText without reply_markup drops it
    assert user.last_callback_answer is not None
    assert user.last_callback_answer["text"] == "Noté"
    assert len(user.callback_answers) == 1
    assert len(user.bot_messages) == 1


async def test_tap_unknown_label_lists_what_is_available(
    fake: FakeBotApi, app: Application
) -> None:
    user = fake.user(USER_ID)
    await user.send("/start")
    with pytest.raises(AssertionError, match=r"Peut-être.*\['Oui', 'Non'\]"):
        await user.tap("Peut-être")


async def test_tap_data_sends_forged_callback(fake: FakeBotApi, app: Application) -> None:
    user = fake.user(USER_ID)
    await user.send("/start")
    await user.tap_data("forged")
    assert user.last_message.text == "Vous avez choisi : forged"


async def test_reply_keyboard_detection(fake: FakeBotApi, app: Application) -> None:
    user = fake.user(USER_ID)
    assert user.reply_keyboard is None

    await user.send("/menu")
    assert user.reply_keyboard == [["Aide", "Quitter"]]

    await user.tap("Aide")  # not an inline button: sends the text
    assert user.messages[-2].text == "Aide"
    assert not user.messages[-2].from_bot
    assert user.last_message.text == "Reçu : Aide"
    assert user.reply_keyboard == [["Aide", "Quitter"]]  # still shown

    await user.send("/hide")
    assert user.reply_keyboard is None


async def test_group_conversation(fake: FakeBotApi, app: Application) -> None:
    user = fake.user(USER_ID, "Alice")
    group = fake.group(-100123, "Équipe")
    await group.send(user, "/start")
    assert group.last_message.text == "Bonjour Alice !"
    assert user.bot_messages == []
    assert [m.from_bot for m in fake.messages(group.chat_id)] == [False, True]


async def test_user_document_is_downloadable(fake: FakeBotApi, app: Application) -> None:
    user = fake.user(USER_ID)
    sent = await user.send_document("piece.pdf", caption="ma pièce")
    assert sent.kind == "document"
    assert sent.text == "ma pièce"
    assert sent.document_bytes is not None
    assert user.last_message.text == f"{len(sent.document_bytes)} octets, piece.pdf"
    assert fake.calls_to("getFile")[0].params["file_id"] == sent.file_id


async def test_default_settle_with_running_application(fake: FakeBotApi) -> None:
    app = await _running_app(fake, tracker=None)
    try:
        assert fake.settle is None
        user = fake.user(USER_ID, "Bob")
        await user.send("/start")
        assert user.last_message.text == "Bonjour Bob !"  # no explicit waiting needed
        await user.tap("Non")
        assert user.last_message.text == "Vous avez choisi : no"
    finally:
        await _stop_app(app)


async def test_default_settle_fails_when_nobody_polls(
    fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.sandbox.bot_api.SETTLE_TIMEOUT_SECONDS", 0.2)
    with pytest.raises(AssertionError, match="not fetched"):
        await fake.user(USER_ID).send("hello")


# ------------------------------------------------------------ failures injection


async def test_fail_429_raises_retry_after(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(USER_ID)
    fake.fail("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter, match=r"(?i)3"):
        await bot.send_message(USER_ID, "x")
    await bot.send_message(USER_ID, "y")  # only one failure was scheduled
    assert [c.params["text"] for c in fake.calls_to("sendMessage")] == ["x", "y"]
    assert [m.text for m in user.bot_messages] == ["y"]


async def test_fail_403_and_blocked_user(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(USER_ID)
    fake.fail("sendMessage", status=403)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(USER_ID, "x")

    user.block()
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER_ID, "x")
    user.unblock()
    await bot.send_message(USER_ID, "ok")
    assert user.last_message.text == "ok"


async def test_fail_other_statuses_and_chat_filter(fake: FakeBotApi, bot: Bot) -> None:
    fake.user(USER_ID)
    fake.user(USER_ID + 1)
    fake.fail("sendMessage", status=400, chat_id=USER_ID)
    await bot.send_message(USER_ID + 1, "other chat unaffected")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(USER_ID, "x")
    fake.fail("sendMessage", status=502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
            await bot.send_message(USER_ID, "x")
    await bot.send_message(USER_ID, "back")


async def test_fail_hang_makes_client_time_out(fake: FakeBotApi, bot: Bot) -> None:
    fake.user(USER_ID)
    fake.fail("sendMessage", status=0, retry_after=5)
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await bot.send_message(USER_ID, "x", read_timeout=0.2)
    assert time.monotonic() - started < 2

    fake.fail("sendMessage", status=0)  # held 30 s, but stop() releases it at once
    pending = asyncio.create_task(bot.send_message(USER_ID, "x", read_timeout=10))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await fake.stop()
    with pytest.raises(NetworkError):
        await pending
    assert time.monotonic() - started < 2


async def test_fail_rate_blocks_chat_for_good(fake: FakeBotApi, bot: Bot) -> None:
    fake.user(USER_ID)
    fake.user(USER_ID + 1)
    fake.fail_rate("sendMessage", rate_403=1.0)
    with pytest.raises(Forbidden):
        await bot.send_message(USER_ID, "x")
    fake.fail_rate("sendMessage")  # faults off, but the chat stays blocked
    with pytest.raises(Forbidden):
        await bot.send_message(USER_ID, "x")
    fake.fail_rate("sendMessage", rate_429=1.0, retry_after=2)
    with pytest.raises(RetryAfter):
        await bot.send_message(USER_ID + 1, "x")
    fake.fail_rate("getChat", rate_403=1.0)  # getChat has a chat: blocks it too
    with pytest.raises(Forbidden):
        await bot.get_chat(USER_ID + 1)
    fake.fail_rate("getMe", rate_403=1.0)  # no chat to block: no fault at all
    assert (await bot.get_me()).username == "pnc_test_bot"


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "text",
    [
        "<foo>x</foo>",
        "a < b",
        "Tom & Jerry",
        "&nbsp;",
        "<b>x",
        "<b><i>x</b></i>",
        "x</b>",
        "<span>x</span>",
        "<br>",
    ],
)
async def test_html_rejected(fake: FakeBotApi, bot: Bot, text: str) -> None:
    fake.user(USER_ID)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER_ID, text, parse_mode=ParseMode.HTML)


async def test_html_accepted_and_stripped(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(USER_ID)
    sent = await bot.send_message(USER_ID, "<b>x</b> &amp;", parse_mode=ParseMode.HTML)
    assert user.last_message.text == "x &" == sent.text
    assert user.last_message.html == "<b>x</b> &amp;"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 1)]

    rich = (
        '<a href="https://e.org/?a=1&amp;b=2">lien</a> <tg-spoiler>s</tg-spoiler> '
        '<span class="tg-spoiler">p</span> &lt;&#233;&#x41;&gt; <blockquote expandable>q'
        '</blockquote>\n<pre><code class="language-python">x = 1</code></pre>'
    )
    sent = await bot.send_message(USER_ID, rich, parse_mode=ParseMode.HTML)
    assert sent.text == "lien s p <éA> q\nx = 1"
    link, *_, pre = sent.entities
    assert link.url == "https://e.org/?a=1&b=2"
    assert (pre.type, pre.language) == ("pre", "python")
    assert sent.text_html.startswith('<a href="https://e.org/?a=1&b=2">lien</a>')


async def test_text_and_caption_limits(fake: FakeBotApi, bot: Bot) -> None:
    fake.user(USER_ID)
    for empty in ("", "  \n "):
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(USER_ID, empty)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER_ID, "x" * 4097)
    await bot.send_message(USER_ID, "x" * 4096)
    await bot.send_message(USER_ID, f"<b>{'x' * 4096}</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(USER_ID, photo=b"img", caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "nobody")


async def test_callback_data_limit(fake: FakeBotApi, bot: Bot) -> None:
    fake.user(USER_ID)

    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data=data)]])

    await bot.send_message(USER_ID, "ok", reply_markup=keyboard("x" * 64))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER_ID, "ko", reply_markup=keyboard("é" * 33))  # 66 bytes


async def test_edit_not_modified_and_not_found(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(USER_ID)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="d")]])
    sent = await bot.send_message(
        USER_ID, "<b>t</b>", parse_mode=ParseMode.HTML, reply_markup=markup
    )

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>t</b>", USER_ID, sent.message_id, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(USER_ID, sent.message_id, reply_markup=markup)
    edited = await bot.edit_message_text("t", USER_ID, sent.message_id, reply_markup=markup)
    assert edited.text == "t"
    assert user.last_message.edits == 1
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("t2", USER_ID, 999)


async def test_delete_message(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(USER_ID)
    first = await bot.send_message(USER_ID, "one")
    await bot.send_message(USER_ID, "two")

    assert await bot.delete_message(USER_ID, first.message_id)
    assert [m.text for m in user.messages] == ["two"]
    assert [m.text for m in user.deleted_messages] == ["one"]
    assert fake.messages(USER_ID)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER_ID, first.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("again", USER_ID, first.message_id)
    assert await bot.delete_messages(USER_ID, [m.message_id for m in user.messages])
    with pytest.raises(AssertionError, match="no \\(undeleted\\) message"):
        _ = user.last_message


async def test_send_document_records_bytes(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(USER_ID)
    sent = await bot.send_document(
        USER_ID,
        document=b"%PDF-1.4 hello",
        filename="rapport.pdf",
        caption="Votre <b>rapport</b>",
        parse_mode=ParseMode.HTML,
    )
    stored = user.last_message
    assert (stored.kind, stored.document_name, stored.document_bytes) == (
        "document",
        "rapport.pdf",
        b"%PDF-1.4 hello",
    )
    assert stored.text == "Votre rapport"
    assert sent.caption == "Votre rapport"
    assert sent.document is not None
    assert sent.document.file_id == stored.file_id

    again = await bot.send_document(USER_ID, document=sent.document.file_id)
    assert user.last_message.document_bytes == b"%PDF-1.4 hello"
    assert again.document is not None
    assert again.document.file_name == "rapport.pdf"
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"%PDF-1.4 hello"

    photo = await bot.send_photo(USER_ID, photo=b"\xff\xd8jpeg")
    assert photo.photo
    assert user.last_message.kind == "photo"


async def test_set_my_commands_chat_scope(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(USER_ID)
    other = fake.user(USER_ID + 1)
    commands = [BotCommand("start", "Démarrer"), BotCommand("aide", "Aide")]
    scope = BotCommandScopeChat(USER_ID)

    await bot.set_my_commands(commands, scope=scope)

    assert user.commands == [("start", "Démarrer"), ("aide", "Aide")]
    assert other.commands is None
    assert fake.commands() is None
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["start", "aide"]
    await bot.delete_my_commands(scope=scope)
    assert user.commands is None
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(999))


async def test_copy_and_forward(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(USER_ID)
    fake.user(USER_ID + 1)
    original = await bot.send_message(USER_ID + 1, "à recopier")
    await bot.copy_message(USER_ID, USER_ID + 1, original.message_id)
    forwarded = await bot.forward_message(USER_ID, USER_ID + 1, original.message_id)
    assert [m.text for m in user.bot_messages] == ["à recopier", "à recopier"]
    assert forwarded.text == "à recopier"
    chat = await bot.get_chat(USER_ID)
    assert chat.type == "private"


async def test_wrong_token_and_unknown_method(fake: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("123:wrong", base_url=fake.base_url):  # initialize() calls getMe
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    assert [c.method for c in fake.calls[-2:]] == ["getMe", "noSuchMethod"]


# ------------------------------------------------------- raw protocol behaviour


async def test_get_updates_long_poll_offset_and_stop(fake: FakeBotApi, bot: Bot) -> None:
    fake.settle = no_settle
    user = fake.user(USER_ID)

    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)
    assert not poll.done()  # held: long polling
    await user.send("/start hello")
    updates = await asyncio.wait_for(poll, 1)
    assert [u.update_id for u in updates] == [1]
    message = updates[0].message
    assert message is not None
    assert message.text == "/start hello"
    assert message.entities[0].type == "bot_command"
    assert message.entities[0].length == 6

    assert len(await bot.get_updates(timeout=0)) == 1  # not confirmed yet: delivered again
    assert await bot.get_updates(offset=2, timeout=0) == ()
    assert fake.updates_confirmed == 1

    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await fake.stop()
    assert await asyncio.wait_for(poll, 5) == ()
    assert time.monotonic() - started < 5  # not the poll's 30 s


async def test_push_hands_each_update_over_instead_of_queueing_it(
    fake: FakeBotApi, bot: Bot
) -> None:
    """Webhook mode: the test, as Telegram, POSTs each update where it wants."""
    fake.settle = no_settle
    pushed: list[dict[str, Any]] = []

    async def push(update: dict[str, Any]) -> None:
        pushed.append(update)

    fake.push = push
    user = fake.user(USER_ID)
    await user.send("/start hello")
    button = InlineKeyboardButton("b", callback_data="d")
    await bot.send_message(USER_ID, "q", reply_markup=InlineKeyboardMarkup.from_button(button))
    await user.tap("b")
    assert [u["update_id"] for u in pushed] == [1, 2]
    message = Update.de_json(pushed[0], bot).message
    assert message is not None and message.text == "/start hello"
    assert pushed[1]["callback_query"]["data"] == "d"
    assert await bot.get_updates(timeout=0) == ()  # nothing waits for getUpdates
    fake.push = None
    await user.send("encore")
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [3]


async def test_answer_callback_query_only_once(fake: FakeBotApi, bot: Bot) -> None:
    fake.settle = no_settle
    user = fake.user(USER_ID)
    await bot.send_message(
        USER_ID,
        "q",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="d")]]),
    )
    await user.tap("b")
    (update,) = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None
    assert query.data == "d"
    assert query.message is not None
    assert query.message.text == "q"
    assert await query.answer("vu")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer("encore")
    assert user.callback_answers == [{"callback_query_id": query.id, "text": "vu"}]


async def test_request_decoding(fake: FakeBotApi) -> None:
    user = fake.user(USER_ID)
    url = f"{fake.base_url}{TOKEN}/sendMessage"
    markup = '{"inline_keyboard": [[{"text": "b", "callback_data": "1"}]]}'
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"chat_id": USER_ID, "text": "123"}) as response:
            assert (await response.json())["result"]["text"] == "123"
        form = {"chat_id": str(USER_ID), "text": "true", "reply_markup": markup}
        async with session.post(url, data=form) as response:
            assert response.status == 200
        async with session.post(f"{fake.base_url}{TOKEN}/noSuchMethod") as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found: method not found"
    json_call, form_call = fake.calls_to("sendmessage")
    assert json_call.params == {"chat_id": USER_ID, "text": "123"}
    assert form_call.params["text"] == "true"
    assert form_call.chat_id == USER_ID
    assert form_call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "1"
    assert [m.text for m in user.bot_messages] == ["123", "true"]
