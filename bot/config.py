"""Settings from the environment and `.env`, validated once at start-up.

Every tunable of the bot lives here and is documented in `.env.example`. A missing or
malformed setting becomes one French line naming the setting (`SettingsError`), never a
traceback.
"""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import redacted

TELEGRAM_DEFAULT_BASE_URL = "https://api.telegram.org/bot"
TELEGRAM_DEFAULT_FILE_BASE_URL = "https://api.telegram.org/file/bot"
# WEBHOOK_SECRET: Telegram's alphabet and upper bound, and a length no one guesses.
WEBHOOK_SECRET_MIN = 32
WEBHOOK_SECRET_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{WEBHOOK_SECRET_MIN},256}}")
WEBHOOK_SECRET_HOWTO = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


class SettingsError(Exception):
    """A setting is missing or malformed; the message is the one line shown to the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = TELEGRAM_DEFAULT_BASE_URL
    telegram_api_file_base_url: str = TELEGRAM_DEFAULT_FILE_BASE_URL
    # Calls a second to Telegram that name a chat (replies, edits, outbox sends), the whole
    # bot together: python-telegram-bot's AIORateLimiter overall cap. Telegram's own limit is
    # about 30; more only for a test server or paid broadcasts.
    telegram_max_rate: float = Field(default=30.0, gt=0, le=1000)
    # Long polling: seconds a getUpdates call waits for news before returning empty.
    polling_timeout_seconds: int = Field(default=30, ge=0, le=50)

    # Webhook mode (`python -m bot run --webhook`)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)

    # Storage and time
    database_path: Path = Path("data/pnc.sqlite3")
    # PostgreSQL instead of the SQLite file (postgresql://user:password@host/base): several
    # instances may then share one database (storage/postgres.py). Unset or empty: SQLite.
    database_url: SecretStr | None = None
    # The public directory (JSON, ICS, national standard's CSV) rewritten here at each change
    # of a site, its hours or closures, for the web server to serve (unset or empty: off).
    directory_dir: Path | None = None
    timezone: str = "Europe/Paris"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Product rules that are tunable
    undo_window_seconds: int = Field(default=600, ge=0)
    # After this many wrong invitation codes within the window, further tries wait.
    invite_max_failures: int = Field(default=5, ge=1)
    invite_failure_window_seconds: int = Field(default=900, ge=1)
    # Across all accounts: beyond this many wrong codes within the window, each account waits
    # after one wrong code and a warning is logged; a valid code is never refused for it.
    invite_global_max_failures: int = Field(default=30, ge=1)
    invite_global_window_seconds: int = Field(default=900, ge=1)
    default_invite_expiry_days: int = Field(default=7, ge=1, le=365)
    # Local hour of the morning run: period summaries, transmission reminders, renewals.
    notify_hour: int = Field(default=9, ge=0, le=23)
    # A half-filled visit older than this is no longer offered for resumption.
    draft_max_age_hours: int = Field(default=24, ge=1)
    # Free-text notes older than this are replaced by a neutral marker by the nightly run,
    # and the identity of a person revoked this long ago is erased (README, « Données
    # personnelles »).
    retention_months: int = Field(default=24, ge=1, le=120)

    # Outbound messages that are not direct replies (the outbox); within TELEGRAM_MAX_RATE,
    # which the outbox's sends count against too.
    broadcast_max_rate: float = Field(default=25.0, gt=0, le=1000)
    # Seconds between two outbox sends to the same chat: Telegram refuses more than about one
    # a second in a private chat. 0 only for a test server.
    outbox_chat_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    broadcast_progress_seconds: float = Field(default=3.0, gt=0, le=600)
    outbox_max_attempts: int = Field(default=5, ge=1, le=50)
    # How often the periodic job looks for due scheduled work.
    scheduler_interval_seconds: float = Field(default=5.0, gt=0, le=3600)

    # Several instances on one database (bot/jobs/leadership.py): this one's name in the
    # logs and the `instances` table (unset: <hostname>-<pid>), and the leader's lease, in
    # seconds: another instance takes over at most about this long after the leader dies.
    instance_name: str | None = Field(default=None, max_length=100)
    lease_seconds: float = Field(default=6.0, ge=0.3, le=300)

    # Per account, before any handler (bot/domain/rate_limit.py): how many updates a person
    # may send ahead of the bot's answers at once (BURST), and in how many seconds that
    # allowance comes back whole. Someone who waits for each answer is never limited.
    # Registered: two visits (9 taps each) tapped without waiting for a single screen.
    flood_registered_burst: int = Field(default=20, ge=1, le=10_000)
    flood_registered_seconds: float = Field(default=10.0, gt=0, le=3600)
    # Strangers (nobody registered with this Telegram account): /start, a code, a question.
    flood_stranger_burst: int = Field(default=5, ge=1, le=10_000)
    flood_stranger_seconds: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("fuseau horaire inconnu (exemple : Europe/Paris)") from exc
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        raw = value.get_secret_value().strip()
        bot_id, sep, secret = raw.partition(":")
        if not sep or not bot_id.isdigit() or len(secret) < 10:
            # The value itself is never echoed: it is a secret even when malformed.
            raise ValueError("forme attendue 123456789:ABC… (jeton donné par @BotFather)")
        return SecretStr(raw)

    @field_validator(
        "webhook_url",
        "webhook_secret",
        "directory_dir",
        "database_url",
        "instance_name",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`WEBHOOK_URL=` as copied from .env.example means polling, not a bad address."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        """Telegram accepts 1 to 256 characters of A-Z a-z 0-9 _ -; a short one is guessable,
        and a webhook that trusts it would take anyone's updates for Telegram's."""
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        # The value itself is never echoed: it is a secret even when refused.
        if not WEBHOOK_SECRET_SHAPE.fullmatch(raw):
            raise ValueError(
                f"au moins {WEBHOOK_SECRET_MIN} caractères parmi A-Z a-z 0-9 _ - (au plus 256) ; "
                f"générez-en un avec : {WEBHOOK_SECRET_HOWTO}"
            )
        return SecretStr(raw)

    @field_validator("telegram_api_base_url", "telegram_api_file_base_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("doit commencer par http:// ou https://")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):  # the value itself may hold a password: never echoed
            raise ValueError("doit commencer par postgresql:// (ou laissez-le vide pour SQLite)")
        return value

    @property
    def database(self) -> Path | str:
        """Where the data is: the PostgreSQL address when DATABASE_URL is set, else the
        SQLite file (storage/db.py `connect` takes either)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return self.database_path

    @property
    def database_shown(self) -> str:
        """`database` fit to print or log: a PostgreSQL address without its password."""
        if self.database_url is None:
            return str(self.database_path)
        return redacted(self.database_url.get_secret_value())

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def token(self) -> str:
        """The bot token, or a clear error when an operation needs it and it is not set."""
        if self.telegram_bot_token is None:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN manquant : demandez un jeton à @BotFather et mettez-le "
                "dans .env (voir .env.example)."
            )
        return self.telegram_bot_token.get_secret_value()


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning pydantic's report into one line per the operator's needs."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "?"
        reason = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(
            f"Réglage {name} invalide : {reason}. Corrigez-le dans .env ou l'environnement "
            "(voir .env.example)."
        ) from None
