"""The demo's web server: Telegram's chats of the demo's people, in a browser.

The contract between this server and its page (bot/sandbox/static/) is HTTP for what a
person does and reads, and one WebSocket, /ws, on which every change in a chat is pushed to
every open page as it happens (the fake Bot API's events, bot/sandbox/bot_api.py):

- ``GET /``, ``GET /static/<name>``: the page (served from the package, importlib.resources);
- ``GET /api/people``: the Caf and its people; ``GET /api/chats/<id>``: a chat as it stands;
- ``POST /api/chats/<id>/send`` ``{"text"}``, ``POST /api/chats/<id>/tap``
  ``{"message_id", "callback_data"}``: the person types, or taps an inline button (204 once
  the update is queued: the answer comes over the WebSocket);
- ``POST /api/reset``: the demo starts over, then ``{"type": "reset"}`` on the WebSocket;
- ``GET /files/<file_id>``: a photo or document the bot sent.

The server never sends HTML of the bot's: texts are plain, with Telegram's entities, and the
page builds its nodes from them. Errors are JSON ``{"error": "<French sentence>"}``.
A request another site's page makes (its Origin is not this server) is refused: the demo
acts in the name of its people.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import json
import logging
import mimetypes
import re
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import WSCloseCode, web

from bot.sandbox.bot_api import MAX_TEXT_LENGTH, Event, FakeBotApi, FakeUser
from bot.sandbox.seed import TIMEZONE

log = logging.getLogger(__name__)

#: Events a page may fall behind by before it is disconnected (it then reconnects and
#: re-reads its chats): a stalled tab must not make the server hoard memory.
MAX_PENDING_EVENTS = 2000

_STATIC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: Images a browser may show inline, known by their first bytes (whatever the file's name);
#: any other file is only ever downloaded.
_INLINE_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
)

_ERRORS = {
    400: "Requête invalide.",
    403: "Requête refusée : elle ne vient pas de la page de la démo.",
    404: "Introuvable.",
    405: "Méthode non permise pour cette adresse.",
    413: "Requête trop grande.",
}
_TOO_LONG = (
    f"Le message dépasse {MAX_TEXT_LENGTH:,} caractères".replace(",", "\N{NO-BREAK SPACE}")
    + ", la limite de Telegram : raccourcissez-le."
)


class Backend(Protocol):
    """What the web server needs of the running demo (bot/sandbox/demo.py)."""

    fake: FakeBotApi

    def people(self) -> dict[str, Any]:
        """``{"caf": name, "people": [Person, …]}`` as GET /api/people answers it (with
        ``"timezone"``, the Caf's zone, when the backend knows it)."""
        ...

    async def reset(self) -> None:
        """Reseed from scratch, empty every chat, restart the bot."""
        ...


class _Page:
    """One connected page: the events waiting to be written to its WebSocket."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[Event] = asyncio.Queue(MAX_PENDING_EVENTS)


class Hub:
    """Every connected page; each event goes to all of them, in order."""

    def __init__(self) -> None:
        self.pages: set[_Page] = set()
        self._closing: set[asyncio.Task[bool]] = set()

    def publish(self, event: Event) -> None:
        for page in list(self.pages):
            try:
                page.queue.put_nowait(event)
            except asyncio.QueueFull:
                self.pages.discard(page)
                # Closed, the page reconnects and re-reads its chats: nothing is lost.
                closing = asyncio.get_running_loop().create_task(page.ws.close())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)


class ApiError(Exception):
    """An error answered as JSON ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


BACKEND = web.AppKey("backend", Backend)
HUB = web.AppKey("hub", Hub)


def create_app(backend: Backend) -> web.Application:
    """The aiohttp application of the demo (the caller runs it, see bot/sandbox/demo.py)."""
    app = web.Application(middlewares=[_errors_as_json, _same_origin_only])
    app[BACKEND] = backend
    hub = Hub()
    app[HUB] = hub
    app.router.add_get("/", _index)
    app.router.add_get("/static/{name}", _static)
    app.router.add_get("/api/people", _people)
    app.router.add_get("/api/chats/{chat_id}", _chat)
    app.router.add_post("/api/chats/{chat_id}/send", _send)
    app.router.add_post("/api/chats/{chat_id}/tap", _tap)
    app.router.add_post("/api/reset", _reset)
    app.router.add_get("/files/{file_id}", _file)
    app.router.add_get("/ws", _websocket)
    app.on_response_prepare.append(_security_headers)
    unlisten: list[Callable[[], None]] = []

    async def follow(app: web.Application) -> None:
        unlisten.append(backend.fake.listen(hub.publish))

    async def close_pages(app: web.Application) -> None:
        for stop in unlisten:
            stop()
        for page in list(hub.pages):
            await page.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")

    app.on_startup.append(follow)
    app.on_shutdown.append(close_pages)
    return app


# ------------------------------------------------------------------------ middlewares

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error the page may meet is one French sentence in JSON."""
    try:
        return await handler(request)
    except ApiError as exc:
        return _error(exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, _ERRORS.get(exc.status, "La demande n'a pas abouti."))
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception:
        log.exception("demo web server: %s %s failed", request.method, request.path)
        return _error(500, "Erreur interne de la démo : voir le terminal qui l'a lancée.")


@web.middleware
async def _same_origin_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Another site's page open in the same browser must not act for the demo's people nor
    read their chats: a browser names the page's origin on every such request."""
    origin = request.headers.get("Origin")
    acts = request.method != "GET" or request.path == "/ws"
    if acts and origin is not None and urllib.parse.urlsplit(origin).netloc != request.host:
        raise ApiError(403, _ERRORS[403])
    return await handler(request)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Defence in depth under the page's rule (no HTML from the server, textContent only):
    no inline script can run, nothing is loaded from elsewhere."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:; connect-src 'self' ws://{request.host}; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    )


# --------------------------------------------------------------------------- the page


def _static_response(name: str) -> web.Response:
    if not _STATIC_NAME.fullmatch(name) or ".." in name:
        raise ApiError(404, "Fichier introuvable.")
    resource = importlib.resources.files("bot.sandbox").joinpath("static", name)
    if not resource.is_file():
        raise ApiError(404, "Fichier introuvable.")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if name.endswith(".js"):
        content_type = "text/javascript"
    charset = "utf-8" if content_type.startswith("text/") else None
    return web.Response(
        body=resource.read_bytes(),
        content_type=content_type,
        charset=charset,
        headers={"Cache-Control": "no-cache"},
    )


async def _index(request: web.Request) -> web.StreamResponse:
    return _static_response("index.html")


async def _static(request: web.Request) -> web.StreamResponse:
    return _static_response(request.match_info["name"])


# ---------------------------------------------------------------------------- the API


async def _people(request: web.Request) -> web.StreamResponse:
    # The page shows each message's hour in the Caf's zone, as the bot's texts do, whatever
    # the browser's zone: the demo's Caf is seeded in TIMEZONE (bot/sandbox/seed.py).
    return web.json_response({"timezone": TIMEZONE, **request.app[BACKEND].people()})


def _person(request: web.Request) -> FakeUser:
    """The person whose chat the address names; 404 for anyone else."""
    backend = request.app[BACKEND]
    raw = request.match_info["chat_id"]
    chat_id = int(raw) if re.fullmatch(r"-?[0-9]{1,15}", raw) else None
    known = {person["id"] for person in backend.people()["people"]}
    user = backend.fake.private_chat(chat_id) if chat_id in known and chat_id else None
    if user is None:
        raise ApiError(404, "Cette personne ne fait pas partie de la démo.")
    return user


async def _chat(request: web.Request) -> web.StreamResponse:
    user = _person(request)
    fake = request.app[BACKEND].fake
    return web.json_response(
        {
            "messages": [message.view() for message in user.messages],
            "keyboard": user.reply_keyboard,
            "commands": [
                {"command": c, "description": d} for c, d in fake.chat_commands(user.chat_id)
            ],
        }
    )


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=json.loads)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Le corps de la requête doit être un objet JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Le corps de la requête doit être un objet JSON.")
    return body


async def _send(request: web.Request) -> web.StreamResponse:
    """The person sends a text (a reply-keyboard button sends its label the same way)."""
    user = _person(request)
    text = (await _body(request)).get("text")
    if not isinstance(text, str):
        raise ApiError(400, "Le texte du message manque.")
    if len(text) > MAX_TEXT_LENGTH:
        raise ApiError(413, _TOO_LONG)
    # Telegram's apps trim what is typed, and send nothing when nothing is left.
    text = text.strip()
    if not text:
        raise ApiError(400, "Le message est vide.")
    await user.send(text, wait=False)
    return web.Response(status=204)


async def _tap(request: web.Request) -> web.StreamResponse:
    """The person taps an inline button: like Telegram, only a button the message shows."""
    user = _person(request)
    body = await _body(request)
    message_id, data = body.get("message_id"), body.get("callback_data")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise ApiError(400, "Le numéro du message manque.")
    if not isinstance(data, str) or not data:
        raise ApiError(400, "Le bouton touché manque.")
    message = user.message(message_id)
    if message is None or not message.from_bot:
        raise ApiError(404, "Ce message n'existe plus : il a été effacé ou remplacé.")
    offered = {value for row in message.inline_buttons for _, value in row}
    if data not in offered:
        raise ApiError(400, "Ce bouton n'est plus proposé sous ce message.")
    await user.tap_data(data, message, wait=False)
    return web.Response(status=204)


async def _reset(request: web.Request) -> web.StreamResponse:
    await request.app[BACKEND].reset()
    request.app[HUB].publish({"type": "reset"})
    return web.Response(status=204)


async def _file(request: web.Request) -> web.StreamResponse:
    stored = request.app[BACKEND].fake.file(request.match_info["file_id"])
    if stored is None:
        raise ApiError(404, "Fichier introuvable : la démo a peut-être été réinitialisée.")
    headers = {"Cache-Control": "no-store"}
    image = next((t for magic, t in _INLINE_IMAGES if stored.data.startswith(magic)), None)
    if stored.kind == "photo" and image is not None:
        return web.Response(body=stored.data, content_type=image, headers=headers)
    content_type = mimetypes.guess_type(stored.name)[0] or "application/octet-stream"
    quoted = urllib.parse.quote(stored.name, safe="")
    headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quoted}"
    return web.Response(body=stored.data, content_type=content_type, headers=headers)


async def _websocket(request: web.Request) -> web.StreamResponse:
    """Server → page only: every event of every chat, in order (the page picks its chats)."""
    ws = web.WebSocketResponse(heartbeat=20.0)
    await ws.prepare(request)
    page = _Page(ws)
    hub = request.app[HUB]
    hub.pages.add(page)

    async def pump() -> None:
        while True:
            await ws.send_json(await page.queue.get())

    writer = asyncio.create_task(pump())
    try:
        async for _ in ws:  # the page sends nothing; reading notices when it goes
            pass
    finally:
        hub.pages.discard(page)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await writer
    return ws
