"""Charts of the indicators view, drawn for real by matplotlib and read back with Pillow.

What a coordinator sees on a phone: a 900 × 560 PNG per chart, French labels, a clear
« Aucune visite » when there is nothing to draw, the busy hours in blue and the declared
opening hours outlined in vermilion.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot import charts
from bot.domain.closure_dates import MONTH_NAMES
from bot.domain.opening_hours import WeeklySchedule, parse_periods

ROOT = Path(__file__).resolve().parent.parent
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEKDAYS_9_12_14_17 = WeeklySchedule(
    dict.fromkeys(range(MON, SAT), parse_periods("9h-12h / 14h-17h"))
)
VERMILION = (0xD5, 0x5E, 0x00)
EMPTY_GREY = (0xEC, 0xEC, 0xEC)
LONG_LABEL = "Démarches maintien du droit (DTR, ARS, maintien lieux…)"


def pixels(png: bytes) -> np.ndarray:
    """RGB array (height, width, 3) of a PNG, after checking it really is one."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (charts.WIDTH_PX, charts.HEIGHT_PX)
        return np.asarray(image.convert("RGB")).astype(int)


def near(image: np.ndarray, colour: tuple[int, int, int], tolerance: int = 12) -> np.ndarray:
    """Mask of the pixels within `tolerance` of a colour on every channel."""
    return (np.abs(image - np.array(colour)) <= tolerance).all(axis=2)


def bluish(image: np.ndarray) -> int:
    """How many pixels are clearly blue: the bars and the busy cells."""
    return int((image[..., 2] - image[..., 0] > 60).sum())


def weeks_from(monday: date, counts: list[int]) -> list[tuple[date, int]]:
    return [(monday + timedelta(weeks=i), n) for i, n in enumerate(counts)]


# --------------------------------------------------------------------------- French labels


def test_month_abbreviations_follow_the_month_names() -> None:
    for abbreviation, name in zip(charts.MONTH_ABBREVIATIONS, MONTH_NAMES, strict=True):
        assert name.startswith(abbreviation.rstrip("."))
        assert abbreviation.endswith(".") == (abbreviation != name)
    assert charts.DAY_ABBREVIATIONS == ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


@pytest.mark.parametrize(
    ("monday", "label"),
    [(date(2025, 10, 6), "6 oct."), (date(2025, 12, 1), "1er déc."), (date(2026, 2, 9), "9 févr.")],
)
def test_week_labels_are_short_french_dates(monday: date, label: str) -> None:
    assert charts.week_label(monday) == label


# --------------------------------------------------------------------------- every chart

SCHEDULE_AND_VISITS = {(MON, 8): 2, (MON, 10): 14, (TUE, 15): 22, (SAT, 10): 3}

CHARTS: dict[str, Callable[[], bytes]] = {
    "a quarter of weeks": lambda: charts.weekly_visits_png(
        weeks_from(date(2026, 10, 5), [3, 0, 12, 7, 9, 1, 4, 0, 8, 15, 2, 6, 11]), title="Visites"
    ),
    "53 weeks across two years": lambda: charts.weekly_visits_png(
        weeks_from(date(2025, 9, 1), [(i * 7) % 23 + 1 for i in range(53)]), title="Visites"
    ),
    "requests with long labels": lambda: charts.top_requests_png(
        [(LONG_LABEL * 3, 31), ("Simulation", 12), (LONG_LABEL, 40), ("Paiements", 1234)],
        title="Demandes les plus fréquentes au Centre social du quartier des Trois-Cités " * 2,
    ),
    "heatmap over declared hours": lambda: charts.heatmap_png(
        SCHEDULE_AND_VISITS, schedule=WEEKDAYS_9_12_14_17, title="Visites par jour et heure"
    ),
    "heatmap without declared hours": lambda: charts.heatmap_png(
        SCHEDULE_AND_VISITS, schedule=None, title="Visites par jour et heure"
    ),
    "heatmap of a night and Sunday site": lambda: charts.heatmap_png(
        {(SUN, 0): 1, (SUN, 23): 4, (WED, 5): 1},
        schedule=WeeklySchedule({SUN: parse_periods("20h-23h59")}),
        title="Visites",
    ),
}
EMPTY_CHARTS: dict[str, Callable[[], bytes]] = {
    "no weeks": lambda: charts.weekly_visits_png([], title="Visites"),
    "weeks without visits": lambda: charts.weekly_visits_png(
        weeks_from(date(2026, 1, 5), [0, 0, 0]), title="Visites"
    ),
    "no requests": lambda: charts.top_requests_png([], title="Demandes"),
    "requests without visits": lambda: charts.top_requests_png(
        [("Simulation", 0), ("Paiements", 0)], title="Demandes"
    ),
    "empty heatmap with hours": lambda: charts.heatmap_png(
        {}, schedule=WEEKDAYS_9_12_14_17, title="Visites"
    ),
    "empty heatmap without hours": lambda: charts.heatmap_png(
        {(MON, 10): 0}, schedule=None, title=""
    ),
}


@pytest.mark.parametrize("draw", CHARTS.values(), ids=CHARTS.keys())
def test_each_chart_is_a_phone_sized_png_with_blue_data(draw: Callable[[], bytes]) -> None:
    assert bluish(pixels(draw())) > 500


@pytest.mark.parametrize("draw", EMPTY_CHARTS.values(), ids=EMPTY_CHARTS.keys())
def test_nothing_to_draw_gives_a_chart_without_data(draw: Callable[[], bytes]) -> None:
    image = pixels(draw())
    assert bluish(image) == 0  # no bar, no busy cell: only the « Aucune visite » message
    assert (image < 128).all(axis=2).sum() > 500  # ... which is written in dark letters


def test_the_same_figures_give_the_same_file() -> None:
    draw = CHARTS["heatmap over declared hours"]
    png = draw()
    assert png == draw()
    assert b"matplotlib" not in png.lower()  # no version string in the metadata


def test_charts_drawn_from_several_threads_match_the_serial_ones() -> None:
    draws = list(CHARTS.values())[1:4]
    serial = [draw() for draw in draws]
    with ThreadPoolExecutor(max_workers=3) as pool:
        parallel = list(pool.map(lambda draw: draw(), draws))
    assert parallel == serial


# --------------------------------------------------------------------------- weeks and requests


def test_weeks_are_summed_per_monday_and_quiet_weeks_filled_in() -> None:
    weeks = [(date(2026, 3, 2), 4), (date(2026, 3, 4), 1), (date(2026, 3, 23), 2)]
    assert charts._complete_weeks(weeks) == [
        (date(2026, 3, 2), 5),
        (date(2026, 3, 9), 0),
        (date(2026, 3, 16), 0),
        (date(2026, 3, 23), 2),
    ]


@pytest.mark.parametrize("weeks", [1, 2, 13, 53])
def test_one_bar_per_week(weeks: int) -> None:
    image = pixels(charts.weekly_visits_png(weeks_from(date(2026, 1, 5), [5] * weeks), title=""))
    blue = image[..., 2] - image[..., 0] > 60
    rows = np.nonzero(blue.any(axis=1))[0]
    scan = blue[(rows.min() + rows.max()) // 2].astype(int)  # across the middle of the bars
    bars = int((np.diff(scan) == 1).sum() + scan[0])
    assert bars == weeks
    if weeks == 1:
        assert scan.sum() < charts.WIDTH_PX / 6  # a single week is a bar, not a wall of blue


def test_requests_ranked_most_frequent_first() -> None:
    items = [("Simulation", 3), ("Agenda", 0), ("Paiements", 9), ("Attestations", 3)]
    assert charts._ranked(items, 8) == [("Paiements", 9), ("Simulation", 3), ("Attestations", 3)]
    assert charts._ranked(items, 1) == [("Paiements", 9)]


def test_the_most_frequent_request_is_drawn_on_top() -> None:
    image = pixels(charts.top_requests_png([("Rare", 1), ("Fréquent", 50)], title=""))
    blue_rows = np.nonzero((image[..., 2] - image[..., 0] > 60).sum(axis=1) > 300)[0]
    assert blue_rows.size  # the long bar spans more than 300 px ...
    assert blue_rows.max() < charts.HEIGHT_PX / 2  # ... in the upper half


# --------------------------------------------------------------------------- heatmap


def _changed_box(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box (top, bottom, left, right) of the pixels that differ."""
    ys, xs = np.nonzero((a != b).any(axis=2))
    return int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())


def test_a_busy_cell_is_blue_where_an_empty_one_is_light_grey() -> None:
    others = {(WED, 15): 9}
    empty = pixels(charts.heatmap_png(others, schedule=None, title=""))
    busy = pixels(charts.heatmap_png({**others, (MON, 10): 9}, schedule=None, title=""))
    quiet = pixels(charts.heatmap_png({**others, (MON, 10): 1}, schedule=None, title=""))

    top, bottom, left, right = _changed_box(empty, busy)
    # One cell, Monday (top row) at 10 h (third column of 8 h – 18 h).
    assert right - left < charts.WIDTH_PX / 8 and bottom - top < charts.HEIGHT_PX / 5
    assert top < charts.HEIGHT_PX / 3 and left < charts.WIDTH_PX / 2
    # Sample near the cell's corner, away from the number written in its middle.
    y, x = top + (bottom - top) // 6, left + (right - left) // 6
    assert near(empty[y : y + 1, x : x + 1], EMPTY_GREY).all()
    dark, light = busy[y, x], quiet[y, x]
    assert dark[2] - dark[0] > 80  # deep blue for the busiest cell
    assert light[2] - light[0] > 30  # one visit is still clearly blue ...
    assert light.sum() > dark.sum()  # ... and lighter than nine


def test_declared_hours_are_outlined_and_follow_the_minutes() -> None:
    visits = {(TUE, 10): 3}
    without = pixels(charts.heatmap_png(visits, schedule=None, title=""))
    at_nine = pixels(
        charts.heatmap_png(
            visits, schedule=WeeklySchedule({MON: parse_periods("9h-12h")}), title=""
        )
    )
    at_half_past = pixels(
        charts.heatmap_png(
            visits, schedule=WeeklySchedule({MON: parse_periods("9h30-12h")}), title=""
        )
    )
    assert not near(without, VERMILION).any()
    outline_nine, outline_half = near(at_nine, VERMILION), near(at_half_past, VERMILION)
    assert outline_nine.sum() > 300

    # The vertical sides of an outline are a row high; the legend's sample is much shorter.
    sides_nine = np.nonzero(outline_nine.sum(axis=0) > 40)[0]
    sides_half = np.nonzero(outline_half.sum(axis=0) > 40)[0]
    left_nine, right_nine = sides_nine.min(), sides_nine.max()
    left_half, right_half = sides_half.min(), sides_half.max()
    hour_width = (right_nine - left_nine) / 3  # 9 h – 12 h is three cells wide
    assert right_half == right_nine
    assert left_half - left_nine == pytest.approx(hour_width / 2, abs=4)


def test_rows_show_the_weekend_only_when_visited_or_open() -> None:
    assert charts._rows({}, None) == [MON, TUE, WED, THU, FRI]
    assert charts._rows({(SUN, 10): 1, (SAT, 10): 0}, None) == [MON, TUE, WED, THU, FRI, SUN]
    saturdays = WeeklySchedule({SAT: parse_periods("9h-12h")})
    assert charts._rows({}, saturdays) == [MON, TUE, WED, THU, FRI, SAT]


def test_hours_cover_eight_to_six_the_declared_hours_and_the_visits() -> None:
    assert charts._hour_span({}, None) == (8, 18)
    assert charts._hour_span({(MON, 19): 2, (MON, 6): 0}, WEEKDAYS_9_12_14_17) == (8, 20)
    late = WeeklySchedule({FRI: parse_periods("7h30-12h / 17h-20h15")})
    assert charts._hour_span({}, late) == (7, 21)


def test_a_cell_out_of_the_week_is_refused() -> None:
    with pytest.raises(ValueError):
        charts.heatmap_png({(MON, 24): 1}, schedule=None, title="")
    with pytest.raises(ValueError):
        charts.heatmap_png({(7, 10): 1}, schedule=None, title="")


# --------------------------------------------------------------------------- start-up


def test_importing_costs_nothing_and_an_unwritable_home_gives_no_warning() -> None:
    """The bot imports this module lazily; even then matplotlib waits for the first chart,
    pyplot is never loaded, and a service account without a writable home gets no warning."""
    script = (
        "import os, sys\n"
        "import bot.charts as charts\n"
        "assert 'matplotlib' not in sys.modules\n"
        "charts.heatmap_png({(0, 9): 3}, schedule=None, title='t')\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert os.environ['MPLCONFIGDIR'].startswith(os.path.join(os.sep, 'tmp'))\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "HOME": "/dev/null", "TMPDIR": "/tmp"}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
