"""TELEGRAM_MAX_RATE: python-telegram-bot's overall cap on calls that name a chat, direct
replies and the outbox's sends together (bot/app.py `rate_limiter`)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from telegram.ext import AIORateLimiter

from bot.app import build_application
from bot.config import Settings, SettingsError, load_settings
from bot.sandbox.bot_api import TOKEN


def overall_cap(settings: Settings) -> float:
    limiter = build_application(settings).bot.rate_limiter
    assert isinstance(limiter, AIORateLimiter)
    # PTB keeps the cap in its aiolimiter only; no public accessor.
    return float(limiter._base_limiter.max_rate)  # type: ignore[union-attr]


@pytest.mark.parametrize(("value", "cap"), [(None, 30.0), ("250", 250.0), ("12.5", 12.5)])
def test_the_setting_is_the_overall_cap_of_the_applications_limiter(
    value: str | None, cap: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_MAX_RATE", raising=False)
    if value is not None:
        monkeypatch.setenv("TELEGRAM_MAX_RATE", value)
    settings = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, database_path=tmp_path / "bot.sqlite3"
    )
    assert settings.telegram_max_rate == cap
    assert overall_cap(settings) == cap


@pytest.mark.parametrize("value", ["0", "-5", "1001", "beaucoup"])
def test_a_bad_value_gets_one_line_naming_it(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_MAX_RATE", value)
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None)
    assert "TELEGRAM_MAX_RATE" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_broadcast_cap_above_the_overall_cap_is_reported_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The outbox's sends go through the same limiter: above its cap they cannot go faster."""
    caplog.set_level(logging.WARNING, logger="bot.app")
    common = {"telegram_bot_token": TOKEN, "database_path": tmp_path / "bot.sqlite3"}
    build_application(Settings(_env_file=None, broadcast_max_rate=25, **common))  # type: ignore[call-arg]
    assert not caplog.records
    build_application(
        Settings(_env_file=None, broadcast_max_rate=100, telegram_max_rate=50, **common)  # type: ignore[call-arg]
    )
    [record] = caplog.records
    assert "BROADCAST_MAX_RATE (100) dépasse TELEGRAM_MAX_RATE (50)" in record.getMessage()
