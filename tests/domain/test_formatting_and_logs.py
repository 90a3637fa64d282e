"""French formatting (bot/ui/formatting.py) and the token-redacting log filter (bot/logs.py)."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from types import TracebackType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.logs import REDACTED, RedactingFilter, configure_logging
from bot.ui.formatting import (
    NARROW_NBSP,
    date_fr,
    datetime_fr,
    hour_fr,
    number_fr,
    percent_fr,
    short_datetime_fr,
)

PARIS = ZoneInfo("Europe/Paris")
NN = NARROW_NBSP

# ------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 1), "dimanche 1er novembre 2026"),
        (date(2026, 11, 26), "jeudi 26 novembre 2026"),
        (date(2026, 2, 2), "lundi 2 février 2026"),
        (date(2026, 8, 15), "samedi 15 août 2026"),
        (date(2026, 12, 31), "jeudi 31 décembre 2026"),
        (date(2027, 1, 1), "vendredi 1er janvier 2027"),
        (date(2026, 6, 11), "jeudi 11 juin 2026"),
        (date(2026, 3, 21), "samedi 21 mars 2026"),
    ],
)
def test_date_fr_writes_the_french_date_with_1er_for_the_first(day: date, expected: str) -> None:
    assert date_fr(day) == expected


def test_date_fr_can_leave_out_the_weekday_and_the_year() -> None:
    assert date_fr(date(2026, 5, 1), weekday=False) == "1er mai 2026"
    assert date_fr(date(2026, 5, 1), year=False) == "vendredi 1er mai"
    assert date_fr(date(2026, 5, 21), weekday=False, year=False) == "21 mai"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (time(9, 0), "9 h"),
        (time(14, 30), "14 h 30"),
        (time(0, 5), "0 h 05"),
        (datetime(2026, 1, 1, 23, 59), "23 h 59"),
    ],
)
def test_hour_fr_writes_hours_the_french_way(moment: time | datetime, expected: str) -> None:
    assert hour_fr(moment) == expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 11, 26, 13, 30, tzinfo=UTC), "jeudi 26 novembre 2026 à 14 h 30"),
        (datetime(2026, 7, 14, 12, 0, tzinfo=UTC), "mardi 14 juillet 2026 à 14 h"),
        # 29 March 2026: at 01:00 UTC, 2:00 CET becomes 3:00 CEST.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "dimanche 29 mars 2026 à 1 h 30"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "dimanche 29 mars 2026 à 3 h 30"),
        # 25 October 2026: at 01:00 UTC, 3:00 CEST becomes 2:00 CET; 2 h 30 happens twice.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "dimanche 25 octobre 2026 à 2 h 30"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "dimanche 25 octobre 2026 à 2 h 30"),
        (datetime(2026, 10, 25, 12, 0, tzinfo=UTC), "dimanche 25 octobre 2026 à 13 h"),
        # New Year's Eve in UTC is already New Year's Day in Paris.
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "vendredi 1er janvier 2027 à 0 h 30"),
    ],
)
def test_datetime_fr_is_in_paris_time_across_daylight_saving_changes(
    instant: datetime, expected: str
) -> None:
    assert datetime_fr(instant, PARIS) == expected


def test_datetime_fr_can_leave_out_the_year() -> None:
    instant = datetime(2026, 6, 1, 7, 5, tzinfo=UTC)
    assert datetime_fr(instant, PARIS, year=False) == "lundi 1er juin à 9 h 05"


def test_short_datetime_fr_says_today_yesterday_or_the_day_and_month() -> None:
    today = date(2026, 3, 30)
    assert short_datetime_fr(datetime(2026, 3, 30, 7, tzinfo=UTC), PARIS, today) == (
        "aujourd'hui à 9 h"
    )
    assert short_datetime_fr(datetime(2026, 3, 29, 7, tzinfo=UTC), PARIS, today) == "hier à 9 h"
    assert short_datetime_fr(datetime(2026, 3, 28, 8, tzinfo=UTC), PARIS, today) == "28/03 à 9 h"
    assert short_datetime_fr(datetime(2026, 3, 28, 8, tzinfo=UTC), PARIS) == "28/03 à 9 h"


# ------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (0, 0, "0"),
        (999, 0, "999"),
        (1000, 0, f"1{NN}000"),
        (1234567, 0, f"1{NN}234{NN}567"),
        (-1234, 0, f"-1{NN}234"),
        (12.5, 1, "12,5"),
        (1234.5, 1, f"1{NN}234,5"),
        (0.25, 2, "0,25"),
        (3, 2, "3,00"),
    ],
)
def test_number_fr_uses_narrow_no_break_spaces_and_a_decimal_comma(
    value: float, decimals: int, expected: str
) -> None:
    assert number_fr(value, decimals) == expected


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_number_fr_groups_integers_by_three_and_loses_no_digit(value: int) -> None:
    text = number_fr(value)
    assert text.replace(NN, "") == str(value)
    assert " " not in text and "," not in text and "." not in text
    groups = text.lstrip("-").split(NN)
    assert 1 <= len(groups[0]) <= 3
    assert all(len(group) == 3 for group in groups[1:])


@pytest.mark.parametrize(
    ("part", "whole", "decimals", "expected"),
    [
        (1, 8, 1, f"12,5{NN}%"),
        (3, 4, 0, f"75{NN}%"),
        (1, 3, 0, f"33{NN}%"),
        (2, 3, 1, f"66,7{NN}%"),
        (5, 5, 0, f"100{NN}%"),
        (0, 7, 0, f"0{NN}%"),
        (0, 0, 0, "—"),
        (5, 0, 1, "—"),
        (1, -2, 0, "—"),
    ],
)
def test_percent_fr_is_a_french_percentage_or_a_dash_when_there_is_nothing_to_divide(
    part: int, whole: int, decimals: int, expected: str
) -> None:
    assert percent_fr(part, whole, decimals) == expected


# ------------------------------------------------------------------------------ the log filter

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
OTHER = "987654321:ZZyx_wvu-TSRqpo0NMLkji9HGFedc8BAzz"
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _record(
    msg: str, args: tuple[object, ...] | None = None, exc_info: ExcInfo | None = None
) -> logging.LogRecord:
    return logging.LogRecord("bot.test", logging.ERROR, __file__, 1, msg, args, exc_info)


def _emit(record: logging.LogRecord, secrets: list[str] | None) -> str:
    """What a handler with the filter writes for the record."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    handler.handle(record)
    return stream.getvalue()


@pytest.mark.parametrize("secrets", [[TOKEN], None], ids=["token known", "token shape only"])
def test_a_token_in_the_message_is_masked(secrets: list[str] | None) -> None:
    out = _emit(_record(f"starting with token={TOKEN} now"), secrets)
    assert TOKEN not in out and "AAHdqTcv" not in out
    assert f"token={REDACTED} now" in out


@pytest.mark.parametrize("secrets", [[TOKEN], None], ids=["token known", "token shape only"])
def test_a_token_in_the_arguments_is_masked(secrets: list[str] | None) -> None:
    record = _record("calling %s with %r", (f"url {TOKEN}", {"token": TOKEN}))
    out = _emit(record, secrets)
    assert TOKEN not in out
    assert out.count(REDACTED) == 2


@pytest.mark.parametrize("secrets", [[TOKEN], None], ids=["token known", "token shape only"])
def test_a_token_in_an_exception_text_is_masked_and_the_traceback_kept(
    secrets: list[str] | None,
) -> None:
    try:
        raise RuntimeError(f"request failed: token {TOKEN} refused")
    except RuntimeError:
        error_type, error, trace = sys.exc_info()
        assert error_type is not None and error is not None
        record = _record("update failed", exc_info=(error_type, error, trace))
    out = _emit(record, secrets)
    assert TOKEN not in out
    assert "Traceback" in out and "RuntimeError: request failed: token" in out
    assert REDACTED in out


def test_a_known_secret_of_any_shape_is_masked() -> None:
    out = _emit(_record("password is hunter2-hunter2"), ["hunter2-hunter2", ""])
    assert "hunter2" not in out and REDACTED in out


def test_any_telegram_shaped_token_is_masked_even_when_not_ours() -> None:
    out = _emit(_record(f"pasted {OTHER} and ({TOKEN})"), [TOKEN])
    assert OTHER not in out and TOKEN not in out
    assert out.count(REDACTED) == 2


def test_an_httpx_request_url_with_our_token_is_masked() -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    record = _record('HTTP Request: POST %s "HTTP/1.1 200 OK"', (url,))
    out = _emit(record, [TOKEN])
    assert TOKEN not in out
    assert f"https://api.telegram.org/bot{REDACTED}/getUpdates" in out


def test_a_telegram_shaped_token_in_a_bot_api_url_is_masked_even_when_not_ours() -> None:
    url = f"https://api.telegram.org/bot{OTHER}/getUpdates"
    out = _emit(_record("HTTP Request: POST %s", (url,)), None)
    assert OTHER not in out
    assert f"https://api.telegram.org/bot{REDACTED}/getUpdates" in out


def test_a_telegram_shaped_token_ending_with_a_dash_is_masked_whole() -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsa-"
    out = _emit(_record(f"token {token} refused"), None)
    assert f"token {REDACTED} refused" in out


@pytest.mark.parametrize(
    "line",
    [
        "visite enregistrée à 12:30",
        "update 123456:abc",
        "partner 42 saved 1000 visits",
        "2026-11-26T09:15:00+00:00",
    ],
)
def test_ordinary_log_lines_are_left_alone(line: str) -> None:
    assert _emit(_record(line), [TOKEN]) == f"ERROR {line}\n"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (
        root.handlers[:],
        root.level,
        {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "apscheduler")},
    )
    try:
        yield
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_configure_logging_quietens_httpx_and_filters_every_line() -> None:
    configure_logging("INFO", [TOKEN])
    root = logging.getLogger()
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING
    assert root.level == logging.INFO
    assert len(root.handlers) == 1
    assert any(isinstance(f, RedactingFilter) for f in root.handlers[0].filters)


def test_de_elides_before_a_vowel_or_a_mute_h() -> None:
    from bot.ui.formatting import de

    assert de("Marc") == "de Marc"
    assert de("Agnès") == "d'Agnès"
    assert de("Élodie") == "d'Élodie"
    assert de("Hugo") == "d'Hugo"
