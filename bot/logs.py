"""Logging set-up that keeps the bot token (and the database's password) out of every log
line.

httpx logs each request URL at INFO, and Bot API URLs contain the token: httpx is raised to
WARNING and a filter on every handler replaces the token wherever it would appear anyway
(exception texts, URLs in tracebacks).
"""

from __future__ import annotations

import logging
import re

REDACTED = "[jeton masqué]"
# Any Telegram-shaped token, even one that is not ours (e.g. from a mistaken paste).
# No \b: in Bot API URLs the token follows "bot" with no word boundary, and may end in "-".
_TOKEN_SHAPE = re.compile(r"(?<!\d)\d{6,12}:[A-Za-z0-9_-]{20,}")
# A database address's password (postgresql://user:PASSWORD@host/base), whoever's it is:
# the address as storage/postgres.py `redacted` shows it.
# Up to the last "@" before the host: a password may hold an unencoded "@". And in the
# query (?password=…), which asyncpg reads too.
_URL_PASSWORD = re.compile(r"(\b(?:postgres|postgresql)://[^:/@\s]*:)[^\s/]*@")
_QUERY_PASSWORD = re.compile(r"(\b(?:postgres|postgresql)://\S*?[?&]password=)[^&\s]*")


class RedactingFilter(logging.Filter):
    """Rewrites a record so that neither its message nor its traceback carries a token."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self._secrets = [s for s in (secrets or []) if s]

    def redact(self, text: str) -> str:
        text = _URL_PASSWORD.sub(r"\1***@", text)
        text = _QUERY_PASSWORD.sub(r"\1***", text)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _TOKEN_SHAPE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            # Format the traceback now so that it can be redacted like the message.
            formatter = logging.Formatter()
            record.exc_text = self.redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_logging(level: str, secrets: list[str] | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_third_party()


def quiet_third_party() -> None:
    """httpx logs URLs (with the token); PTB's DEBUG lines print whole updates, message
    texts included; aiosqlite's DEBUG lines print every SQL statement with its parameters
    (descriptions, replies, notes, news, names): none may reach the logs, whatever
    LOG_LEVEL says."""
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)
