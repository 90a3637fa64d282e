"""Tests for opening hours: parsing, storage, the Article 4 minimum and the Caf diff."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.opening_hours import (
    COMMON_SLOTS,
    HoursParseError,
    Period,
    ScheduleError,
    WeeklySchedule,
    check_minimum,
    diff,
    format_duration,
    format_periods,
    format_time,
    parse_periods,
)

P = Period.of
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
EXAMPLE = "par exemple 9h-12h"


def week(**days: str) -> WeeklySchedule:
    """Build a schedule from typed text, e.g. ``week(mon="9h-12h")``, to keep tests readable."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return WeeklySchedule({names.index(name): parse_periods(text) for name, text in days.items()})


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("value", "expected"),
    [(time(9, 0), "9 h"), (time(9, 30), "9 h 30"), (time(0, 5), "0 h 05"), (time(17, 0), "17 h")],
)
def test_format_time(value: time, expected: str) -> None:
    assert format_time(value) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(720, "12 h"), (150, "2 h 30"), (125, "2 h 05"), (45, "45 min"), (0, "0 min"), (60, "1 h")],
)
def test_format_duration(minutes: int, expected: str) -> None:
    assert format_duration(minutes) == expected


def test_format_duration_rejects_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(-1)


def test_format_periods() -> None:
    assert format_periods([P(9, 0, 12, 0), P(14, 0, 17, 30)]) == "9 h – 12 h, 14 h – 17 h 30"
    assert format_periods([]) == "Fermé"


# --------------------------------------------------------------------------- parsing

MORNING = (P(9, 0, 12, 0),)
DAY = (P(9, 0, 12, 0), P(14, 0, 17, 0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9h-12h", MORNING),
        ("9H-12H", MORNING),
        ("9h30 – 12h", (P(9, 30, 12, 0),)),
        ("9h30—12h", (P(9, 30, 12, 0),)),
        ("9 h 30 - 12 h", (P(9, 30, 12, 0),)),
        ("13:30-17:00", (P(13, 30, 17, 0),)),
        ("09.00-12.00", MORNING),
        ("9h00-12h00", MORNING),
        ("9-12", MORNING),
        ("9-12 / 14-17", DAY),
        ("9h-12h / 14h-17h", DAY),
        ("9h-12h et 14h-17h", DAY),
        ("9h-12h ; 14h-17h", DAY),
        ("9h-12h + 14h-17h", DAY),
        ("9h à 12h", MORNING),
        ("9h a 12h", MORNING),
        ("de 9h à 12h", MORNING),
        ("De 9h à 12h et de 14h à 17h", DAY),
        ("de 9h jusqu'à 12h", MORNING),
        ("de 9h jusqu’à midi", MORNING),
        ("9 heures - 12 heures", MORNING),
        ("9h-12h, 14h-17h30", (P(9, 0, 12, 0), P(14, 0, 17, 30))),
        ("8h30-12h 13h30-17h", (P(8, 30, 12, 0), P(13, 30, 17, 0))),
        ("14h-17h / 9h-12h", DAY),  # sorted
        ("  9h-12h.  ", MORNING),
        ("9h\u00a0–\u00a012h", MORNING),
        ("9h-12h / 12h-14h", (P(9, 0, 12, 0), P(12, 0, 14, 0))),  # touching is fine
        ("0h-23h59", (P(0, 0, 23, 59),)),
        ("fermé", ()),
        ("Fermé.", ()),
        ("FERME", ()),
    ],
)
def test_parse_accepted_spellings(text: str, expected: tuple[Period, ...]) -> None:
    assert parse_periods(text) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "Aucun horaire"),
        ("   ", "Aucun horaire"),
        ("/", "Aucun horaire"),
        ("bonjour", "pas compris"),
        ("le matin", "pas compris"),
        ("9h", "pas compris"),
        ("9h-", "pas compris"),
        ("-12h", "pas compris"),
        ("9h-12h-14h", "pas compris"),
        ("9h5-12h", "pas compris"),
        ("930-1200", "pas compris"),
        ("9:-12", "pas compris"),
        ("9h-12h 14h", "pas compris"),
        ("25h-26h", "heures vont de 0 à 23"),
        ("22h-24h", "heures vont de 0 à 23"),
        ("9h75-12h", "minutes vont de 00 à 59"),
        ("9:60-12:00", "minutes vont de 00 à 59"),
        ("12h-9h", "fin doit être après"),
        ("9h-9h", "fin doit être après"),
        ("9h-12h / 11h-14h", "chevauchent"),
        ("9h-12h / 9h-12h", "chevauchent"),
        ("8h-9h 10h-11h 14h-15h", "au plus deux plages"),
    ],
)
def test_parse_refuses_with_french_example(text: str, hint: str) -> None:
    with pytest.raises(HoursParseError) as excinfo:
        parse_periods(text)
    message = str(excinfo.value)
    assert hint in message
    assert "par exemple 9h-12h" in message


def test_parse_error_echo_is_short() -> None:
    with pytest.raises(HoursParseError) as excinfo:
        parse_periods("x" * 500)
    assert len(str(excinfo.value)) < 150


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(HoursParseError, ScheduleError)
    assert issubclass(ScheduleError, ValueError)


# ------------------------------------------------------------------ Period / WeeklySchedule


def test_period_minutes_and_validation() -> None:
    assert P(9, 0, 12, 30).minutes == 210
    with pytest.raises(ScheduleError):
        P(12, 0, 9, 0)
    with pytest.raises(ScheduleError):
        Period(time(9, 0, 30), time(12, 0))


def test_schedule_normalises_and_validates() -> None:
    schedule = WeeklySchedule({MON: [P(14, 0, 17, 0), P(9, 0, 12, 0)]})
    assert schedule[MON] == DAY
    assert schedule[SUN] == ()
    assert len(schedule) == 7
    assert schedule.open_days == (MON,)
    with pytest.raises(ScheduleError, match="Lundi"):
        WeeklySchedule({MON: [P(8, 0, 9, 0), P(10, 0, 11, 0), P(14, 0, 15, 0)]})
    with pytest.raises(ScheduleError, match="chevauchent"):
        WeeklySchedule({TUE: [P(9, 0, 12, 0), P(11, 0, 14, 0)]})
    with pytest.raises(ScheduleError):
        WeeklySchedule({7: [P(9, 0, 12, 0)]})


def test_schedule_is_immutable_and_hashable() -> None:
    a = week(mon="9h-12h")
    assert a == week(mon="9h-12h") and hash(a) == hash(week(mon="9h-12h"))
    assert a.with_day(MON, ()) == WeeklySchedule.closed()
    assert a == week(mon="9h-12h")  # with_day returned a copy
    with pytest.raises(AttributeError):
        a._days = ()  # type: ignore[misc]


def test_json_form_is_stable() -> None:
    schedule = week(mon="9h-12h / 14h-17h30", sat="9h-12h")
    data = schedule.to_json()
    assert data == {
        "0": [["09:00", "12:00"], ["14:00", "17:30"]],
        "1": [],
        "2": [],
        "3": [],
        "4": [],
        "5": [["09:00", "12:00"]],
        "6": [],
    }
    assert WeeklySchedule.from_json(data) == schedule
    assert WeeklySchedule.from_json({"5": [["09:00", "12:00"]]}) == week(sat="9h-12h")


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"7": []},
        {"lundi": []},
        {"0": "09:00-12:00"},
        {"0": [["09:00"]]},
        {"0": [["9:00", "12:00"]]},
        {"0": [["24:00", "25:00"]]},
        {"0": [["12:00", "09:00"]]},
        {"0": [[900, 1200]]},
        {"0": [["09:00", "12:00"], ["11:00", "13:00"]]},
    ],
)
def test_from_json_rejects_bad_data(data: object) -> None:
    with pytest.raises(ScheduleError):
        WeeklySchedule.from_json(data)


def test_describe() -> None:
    schedule = week(mon="9h-12h / 14h-17h30", wed="9h-12h")
    assert schedule.describe_days()[:3] == [
        ("Lundi", "9 h – 12 h, 14 h – 17 h 30"),
        ("Mardi", "Fermé"),
        ("Mercredi", "9 h – 12 h"),
    ]
    assert schedule.describe(include_closed=False) == (
        "Lundi : 9 h – 12 h, 14 h – 17 h 30\nMercredi : 9 h – 12 h"
    )
    assert schedule.describe().splitlines()[-1] == "Dimanche : Fermé"
    assert WeeklySchedule.closed().describe() == "Fermé toute la semaine."


def test_common_slots() -> None:
    labels = [label for label, _ in COMMON_SLOTS]
    assert labels[-1] == "Fermé" and COMMON_SLOTS[-1][1] == ()
    assert all(len(label) <= 32 for label in labels)
    for label, periods in COMMON_SLOTS:
        WeeklySchedule({MON: periods})  # valid day
        for period in periods:
            assert str(period) in label


# --------------------------------------------------------------------------- the minimum


def test_nine_to_five_is_two_half_days_and_eight_hours() -> None:
    result = check_minimum(week(mon="9h-17h"))
    assert (result.half_days, result.minutes) == (2, 480)
    monday = result.half_day_detail[MON]
    assert monday.morning and monday.afternoon
    assert (monday.morning_minutes, monday.afternoon_minutes) == (240, 240)


def test_split_day_is_two_half_days_and_six_hours() -> None:
    result = check_minimum(week(mon="9h-12h / 14h-17h"))
    assert (result.half_days, result.minutes) == (2, 360)


def test_straddling_noon_counts_no_half_day() -> None:
    result = check_minimum(week(mon="11h30-14h30"))
    assert (result.half_days, result.minutes) == (0, 180)
    assert result.half_day_detail[MON].morning_minutes == 90


@pytest.mark.parametrize(
    ("text", "morning", "afternoon"),
    [
        ("11h-13h", True, False),  # exactly 2 h before 13:00
        ("11h01-13h", False, False),
        ("13h-15h", False, True),  # exactly 2 h from 13:00
        ("13h-14h59", False, False),
        ("12h-14h", False, False),
        ("8h-9h / 10h-11h", True, False),  # periods in the same half add up
        ("10h-12h / 14h-16h", True, True),
    ],
)
def test_half_day_boundaries(text: str, morning: bool, afternoon: bool) -> None:
    detail = check_minimum(week(tue=text)).half_day_detail[TUE]
    assert (detail.morning, detail.afternoon) == (morning, afternoon)


def test_saturday_and_sunday_count() -> None:
    result = check_minimum(week(sat="9h-12h", sun="14h-17h"))
    assert result.half_days == 2
    assert result.half_day_detail[SAT].morning and result.half_day_detail[SUN].afternoon


def test_exactly_the_minimum_is_ok() -> None:
    result = check_minimum(week(mon="9h-12h / 14h-17h", thu="9h-12h / 14h-17h"))
    assert (result.half_days, result.minutes) == (4, 720)
    assert result.ok and result.missing_half_days == 0 and result.missing_minutes == 0
    assert result.explain() == "Horaires conformes : 4 demi-journées, 12 h par semaine."


def test_one_minute_short() -> None:
    result = check_minimum(week(mon="9h-12h / 14h-17h", thu="9h-12h / 14h-16h59"))
    assert result.half_days == 4 and not result.ok
    assert result.missing_minutes == 1 and result.missing_half_days == 0
    assert result.explain().startswith("Il manque 1 min pour atteindre le minimum de la convention")


def test_one_half_day_short() -> None:
    result = check_minimum(week(mon="8h-18h", tue="9h-13h"))
    assert (result.half_days, result.minutes) == (3, 840)
    assert not result.ok and result.missing_half_days == 1 and result.missing_minutes == 0
    explanation = result.explain()
    assert explanation.startswith("Il manque 1 demi-journée pour atteindre")
    assert "au moins 2 h le matin (avant 13 h)" in explanation


def test_explain_both_missing() -> None:
    result = check_minimum(week(mon="9h-12h / 14h-17h", tue="9h-12h30"))
    assert (result.half_days, result.minutes) == (3, 570)
    assert result.explain().startswith(
        "Il manque 1 demi-journée et 2 h 30 pour atteindre le minimum de la convention "
        "(4 demi-journées et 12 heures par semaine)."
    )
    assert "Actuellement : 3 demi-journées, 9 h 30 par semaine." in result.explain()


def test_explain_conforming() -> None:
    result = check_minimum(week(mon="9h-12h / 14h-17h", tue="9h-17h", wed="9h-12h30"))
    assert result.explain() == "Horaires conformes : 5 demi-journées, 17 h 30 par semaine."


def test_closed_week() -> None:
    result = check_minimum(WeeklySchedule.closed())
    assert (result.half_days, result.minutes, result.ok) == (0, 0, False)
    assert (result.missing_half_days, result.missing_minutes) == (4, 720)
    assert result.explain().startswith("Il manque 4 demi-journées et 12 h pour atteindre")


def test_custom_thresholds() -> None:
    assert check_minimum(week(mon="9h-12h"), min_half_days=1, min_minutes=180).ok
    assert check_minimum(WeeklySchedule.closed(), min_half_days=0, min_minutes=0).ok
    with pytest.raises(ValueError):
        check_minimum(WeeklySchedule.closed(), min_half_days=-1)


# --------------------------------------------------------------------------- diff


def test_diff_lines() -> None:
    before = week(mon="9h-12h", tue="9h-12h", wed="9h-12h / 14h-17h", thu="9h-12h", fri="9h-12h")
    after = week(mon="9h30-12h", wed="9h-12h", thu="9h-12h / 14h-17h", fri="9h-12h", sat="9h-12h")
    assert diff(before, after) == [
        "Lundi : 9 h – 12 h → 9 h 30 – 12 h",
        "Mardi : 9 h – 12 h → fermé",
        "Mercredi : retiré 14 h – 17 h",
        "Jeudi : ajouté 14 h – 17 h",
        "Samedi : ajouté 9 h – 12 h",
    ]


def test_diff_without_change_is_empty() -> None:
    assert diff(week(mon="9h-12h"), week(mon="9h-12h")) == []


def test_diff_first_declaration_lists_open_days() -> None:
    assert diff(None, week(mon="9h-12h", thu="14h-17h")) == [
        "Lundi : 9 h – 12 h",
        "Jeudi : 14 h – 17 h",
    ]
    assert diff(None, WeeklySchedule.closed()) == []


# --------------------------------------------------------------------------- properties


@st.composite
def day_periods(draw: st.DrawFn, max_periods: int = 2) -> tuple[Period, ...]:
    count = draw(st.integers(0, max_periods))
    bounds = sorted(
        draw(st.lists(st.integers(0, 1439), min_size=2 * count, max_size=2 * count, unique=True))
    )
    return tuple(
        Period(time(*divmod(bounds[i], 60)), time(*divmod(bounds[i + 1], 60)))
        for i in range(0, len(bounds), 2)
    )


schedules = st.lists(day_periods(), min_size=7, max_size=7).map(
    lambda days: WeeklySchedule(dict(enumerate(days)))
)

_FUZZ_ALPHABET = "0123456789hH:.-–— /,;+&etàadeimuorfj'é\u00a0x"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=60), st.text(alphabet=_FUZZ_ALPHABET, max_size=40)))
def test_parse_only_raises_hours_parse_error(text: str) -> None:
    try:
        periods = parse_periods(text)
    except HoursParseError as error:
        assert "par exemple" in str(error)
    else:
        assert WeeklySchedule({MON: periods})[MON] == periods  # always a valid day


def _typed(t: time, style: int) -> str:
    h, m = t.hour, t.minute
    return [
        f"{h}h{m:02d}" if m else f"{h}h",
        f"{h:02d}:{m:02d}",
        f"{h} h {m:02d}" if m else f"{h} h",
        f"{h:02d}.{m:02d}",
        f"{h}H{m:02d}",
    ][style]


@settings(max_examples=200, deadline=None)
@given(day_periods())
def test_format_then_parse_round_trips(periods: tuple[Period, ...]) -> None:
    assert parse_periods(format_periods(periods)) == periods


@settings(max_examples=200, deadline=None)
@given(
    day_periods().filter(bool),
    st.data(),
)
def test_typed_spellings_round_trip(periods: tuple[Period, ...], data: st.DataObject) -> None:
    parts = []
    for period in periods:
        start = _typed(period.start, data.draw(st.integers(0, 4)))
        end = _typed(period.end, data.draw(st.integers(0, 4)))
        dash = data.draw(st.sampled_from(["-", " - ", " – ", "–", " à "]))
        prefix = data.draw(st.sampled_from(["", "de "]))
        parts.append(f"{prefix}{start}{dash}{end}")
    sep = data.draw(st.sampled_from([" / ", "/", ", ", " et ", " ", " ; ", " + "]))
    assert parse_periods(sep.join(parts)) == periods


@settings(max_examples=200, deadline=None)
@given(schedules)
def test_json_round_trip(schedule: WeeklySchedule) -> None:
    assert WeeklySchedule.from_json(schedule.to_json()) == schedule


@settings(max_examples=200, deadline=None)
@given(schedules)
def test_half_days_at_most_two_per_open_day(schedule: WeeklySchedule) -> None:
    result = check_minimum(schedule)
    assert result.half_days <= 2 * len(schedule.open_days)
    assert result.half_days == sum(d.count for d in result.half_day_detail)


@settings(max_examples=200, deadline=None)
@given(schedules)
def test_minutes_is_sum_of_period_lengths(schedule: WeeklySchedule) -> None:
    expected = sum(
        (p.end.hour * 60 + p.end.minute) - (p.start.hour * 60 + p.start.minute)
        for periods in schedule.values()
        for p in periods
    )
    assert check_minimum(schedule).minutes == expected == schedule.total_minutes


@settings(max_examples=200, deadline=None)
@given(
    schedules,
    st.integers(0, 6),
    st.lists(st.integers(0, 1439), min_size=4, max_size=4, unique=True),
    st.sampled_from(["none", "first", "second"]),
)
def test_adding_a_period_never_decreases_anything(
    schedule: WeeklySchedule, weekday: int, bounds: list[int], kept: str
) -> None:
    a, b, c, d = (time(*divmod(x, 60)) for x in sorted(bounds))
    first, second = Period(a, b), Period(c, d)
    base = {"none": (), "first": (first,), "second": (second,)}[kept]
    grown = (first,) if kept == "none" else (first, second)
    before = check_minimum(schedule.with_day(weekday, base))
    after = check_minimum(schedule.with_day(weekday, grown))
    assert after.half_days >= before.half_days
    assert after.minutes > before.minutes
    assert not (before.ok and not after.ok)


@settings(max_examples=200, deadline=None)
@given(schedules, st.integers(0, 14), st.integers(0, 40 * 60))
def test_ok_iff_both_thresholds_met(schedule: WeeklySchedule, half_days: int, minutes: int) -> None:
    result = check_minimum(schedule, min_half_days=half_days, min_minutes=minutes)
    assert result.ok == (result.half_days >= half_days and result.minutes >= minutes)
    assert result.missing_half_days == max(0, half_days - result.half_days)
    assert result.missing_minutes == max(0, minutes - result.minutes)
    assert result.explain().startswith("Horaires conformes" if result.ok else "Il manque")


@settings(max_examples=200, deadline=None)
@given(schedules, schedules)
def test_diff_is_empty_iff_equal(before: WeeklySchedule, after: WeeklySchedule) -> None:
    lines = diff(before, after)
    assert (lines == []) == (before == after)
    assert len(lines) == sum(before[d] != after[d] for d in range(7))
