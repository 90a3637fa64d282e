"""📚 Documentation (Article 3): what an item of a Caf's list is, and which web addresses the
bot accepts for a link.

The model lives here rather than in storage so that the screens, which may not import
storage, can name it.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from bot.domain.models import Model
from bot.domain.privacy import IdentifierKind

# A title becomes a button; an address is kept whole.
TITLE_MAX = 120
URL_MAX = 2000
# A web address may look like a phone number (an id in a query string) or an e-mail address
# (a booking page's `name@caf…` path); never like a NIR, an IBAN, a RIB, a Carte Vitale or a
# Caf file number, and it holds no space, so never like a postal address either.
URL_ALLOWED = frozenset({IdentifierKind.PHONE, IdentifierKind.EMAIL})
_HOST = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)


class FileKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"


class Document(Model):
    id: int
    caf_id: int
    position: int
    title: str
    url: str | None
    file_id: str | None
    file_name: str | None
    created_by: int | None
    created_at: datetime

    @property
    def is_link(self) -> bool:
        return self.url is not None

    @property
    def file_kind(self) -> FileKind | None:
        if self.file_id is None:
            return None
        return FileKind.PHOTO if self.file_name is None else FileKind.DOCUMENT


def url_problem(text: str) -> str | None:
    """Why `text` is not a web address a button can open (None when it is one)."""
    if any(char.isspace() for char in text):
        return "spaces"
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return "host"
    if parts.scheme.lower() not in ("http", "https") or not text.lower().startswith(
        ("http://", "https://")
    ):
        return "scheme"
    if parts.username is not None or parts.password is not None:
        return "credentials"
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except UnicodeError:
        return "host"
    return None if _HOST.fullmatch(host) else "host"
