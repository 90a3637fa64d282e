"""Charts of the indicators view: pure functions from counted figures to PNG bytes.

The bot counts the figures and has `indicator_charts` draw the three charts in a child
process (bot/offload.py), then sends the bytes with sendPhoto. Decisions:

* matplotlib's object API on an Agg canvas, never pyplot: pyplot keeps every figure in global
  state, which leaks in a process that draws many. A figure here is garbage once drawn.
* matplotlib is imported inside the functions, so the bot, which imports this module for
  the child to find its function, never loads it (+51 MB that would stay for months).
* matplotlib is not thread-safe and a caller may draw from several threads: one lock.
* 900 × 560 px at 150 dpi with big fonts: a photo in a chat is about 380 points wide on a
  phone, so text must be large in pixels to be read without zooming.
* Colour-blind safe: a sequential blue scale for counts, vermilion outlines for the declared
  hours (blue/orange stays distinct in every common colour vision deficiency).
"""

from __future__ import annotations

import atexit
import io
import math
import os
import shutil
import sys
import tempfile
import textwrap
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.domain.closure_dates import WEEKDAY_NAMES
from bot.domain.opening_hours import WeeklySchedule, visits_outside
from bot.ui.formatting import number_fr, percent_fr

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DAY_ABBREVIATIONS",
    "HEIGHT_PX",
    "MONTH_ABBREVIATIONS",
    "NO_VISITS",
    "WIDTH_PX",
    "heatmap_png",
    "indicator_charts",
    "top_requests_png",
    "week_label",
    "weekly_visits_png",
]

WIDTH_PX, HEIGHT_PX, DPI = 900, 560, 150
NO_VISITS = "Aucune visite sur la période"
MONTH_ABBREVIATIONS: tuple[str, ...] = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
"""The usual French abbreviations of closure_dates.MONTH_NAMES (a test keeps them in step)."""
DAY_ABBREVIATIONS: tuple[str, ...] = tuple(f"{name[:3]}." for name in WEEKDAY_NAMES)
"""lun. mar. mer. jeu. ven. sam. dim."""

# Colours: blues for counts (Bars and heatmap), vermilion for the declared hours.
BAR = "#2b6cb0"
HOURS_EDGE = "#d55e00"
EMPTY_CELL = "#ececec"
TEXT = "#222222"
MUTED = "#555555"

TITLE_SIZE = 12
LABEL_SIZE = 10
SMALL_SIZE = 9

_LOCK = threading.Lock()


# --------------------------------------------------------------------------- plumbing


def _writable_dir(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def _ensure_config_dir() -> None:
    """Give matplotlib a writable config and cache dir, quietly, before its first import.

    Without MPLCONFIGDIR, matplotlib uses ~/.config and ~/.cache; when those are not writable
    (a service account with a read-only home) it warns on every start. Only in that case do
    we point it to a private temporary dir, removed at exit (the font cache, about half a
    second, is then rebuilt once per process).
    """
    if "matplotlib" in sys.modules or os.environ.get("MPLCONFIGDIR"):
        return
    if not sys.platform.startswith(("linux", "freebsd")):
        return  # elsewhere matplotlib looks in other places; its own fallback will do
    try:
        dirs = [
            Path(os.environ.get(variable) or Path.home() / default) / "matplotlib"
            for variable, default in (("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"))
        ]
    except RuntimeError:  # no home directory at all
        dirs = []
    if dirs and all(_writable_dir(d) for d in dirs):
        return
    private = tempfile.mkdtemp(prefix="pnc-matplotlib-")
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    os.environ["MPLCONFIGDIR"] = private


# Before any function below imports matplotlib; this module is itself imported lazily.
_ensure_config_dir()


@contextmanager
def _figure(title: str) -> Iterator[tuple[Figure, Axes]]:
    """A titled figure of the chat size on its own Agg canvas, under the drawing lock."""
    with _LOCK:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        fig.suptitle(
            "\n".join(
                textwrap.wrap(title, 60, max_lines=2, placeholder=" …", break_on_hyphens=False)
            )
            or " ",
            fontsize=TITLE_SIZE,
            fontweight="bold",
            color=TEXT,
        )
        ax = fig.add_subplot()
        try:
            yield fig, ax
        finally:
            fig.clear()


def _png(fig: Figure) -> bytes:
    """PNG without the matplotlib version, so the same figures give the same file."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _no_visits(ax: Axes) -> None:
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        NO_VISITS,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=TITLE_SIZE + 1,
        color=MUTED,
    )


def _plain_axes(ax: Axes, *, keep: tuple[str, ...]) -> None:
    for side, spine in ax.spines.items():
        spine.set_visible(side in keep)
    ax.tick_params(labelsize=LABEL_SIZE, colors=TEXT)


# --------------------------------------------------------------------------- visits per week


def week_label(monday: date) -> str:
    """« 6 oct. », « 1er déc. »: short enough for a dozen labels across a phone screen."""
    number = "1er" if monday.day == 1 else str(monday.day)
    return f"{number} {MONTH_ABBREVIATIONS[monday.month - 1]}"


def _complete_weeks(weeks: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """Sum per Monday and fill the weeks left out, so a quiet week shows as a gap."""
    totals: Counter[date] = Counter()
    for day, count in weeks:
        totals[day - timedelta(days=day.weekday())] += count
    if not totals:
        return []
    first, last = min(totals), max(totals)
    count = (last - first).days // 7 + 1
    return [(first + timedelta(weeks=i), totals[first + timedelta(weeks=i)]) for i in range(count)]


def weekly_visits_png(weeks: Sequence[tuple[date, int]], *, title: str) -> bytes:
    """Bar chart of visits per week (date = the week's Monday; missing weeks count 0)."""
    from matplotlib.ticker import MaxNLocator

    series = _complete_weeks(weeks)
    with _figure(title) as (fig, ax):
        if not series or not any(count for _, count in series):
            _no_visits(ax)
            return _png(fig)
        counts = [count for _, count in series]
        positions = range(len(series))
        bars = ax.bar(positions, counts, width=0.75, color=BAR)
        if len(series) <= 16:
            ax.bar_label(
                bars,
                labels=[number_fr(c) if c else "" for c in counts],
                padding=2,
                fontsize=SMALL_SIZE,
                color=TEXT,
            )
        step = max(1, math.ceil(len(series) / 9))
        shown = list(range(0, len(series), step))
        several_years = series[0][0].year != series[-1][0].year
        labels: list[str] = []
        last_year: int | None = None
        for i in shown:
            monday = series[i][0]
            label = week_label(monday)
            if several_years and monday.year != last_year:
                label += f"\n{monday.year}"
                last_year = monday.year
            labels.append(label)
        ax.set_xticks(shown, labels)
        # A few weeks keep the width of six bars, centred, rather than a wall of blue.
        spare = max(0, 6 - len(series)) / 2
        ax.set_xlim(-0.6 - spare, len(series) - 0.4 + spare)
        ax.set_ylim(0, max(counts) * 1.15)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        ax.yaxis.set_major_formatter(lambda value, _pos: number_fr(value))
        ax.set_ylabel("visites", fontsize=LABEL_SIZE, color=TEXT)
        ax.grid(axis="y", color="#dddddd", linewidth=0.8)
        ax.set_axisbelow(True)
        _plain_axes(ax, keep=("left", "bottom"))
        return _png(fig)


# --------------------------------------------------------------------------- top requests


def _short_label(label: str) -> str:
    """At most two lines of 24 characters: the full taxonomy labels run to 55."""
    lines = textwrap.wrap(
        " ".join(label.split()), 24, max_lines=2, placeholder="…", break_on_hyphens=False
    )
    return "\n".join(lines) or "—"


def _ranked(items: Sequence[tuple[str, int]], limit: int) -> list[tuple[str, int]]:
    """Most frequent first, types without visits dropped, ties in the caller's order."""
    kept = [(label, count) for label, count in items if count > 0]
    return sorted(kept, key=lambda item: -item[1])[:limit]


def top_requests_png(items: Sequence[tuple[str, int]], *, title: str, limit: int = 8) -> bytes:
    """Horizontal bars of the ``limit`` most frequent request types, most frequent on top.

    Labels are wrapped to two short lines; the taxonomy's short labels fit whole.
    """
    ranked = _ranked(items, limit)
    with _figure(title) as (fig, ax):
        if not ranked:
            _no_visits(ax)
            return _png(fig)
        labels = [_short_label(label) for label, _ in ranked]
        counts = [count for _, count in ranked]
        bars = ax.barh(range(len(ranked)), counts, height=0.7, color=BAR)
        ax.bar_label(
            bars,
            labels=[number_fr(c) for c in counts],
            padding=4,
            fontsize=LABEL_SIZE,
            fontweight="bold",
            color=TEXT,
        )
        ax.set_yticks(range(len(ranked)), labels)
        ax.set_ylim(len(ranked) - 0.4, -0.6)  # most frequent on top
        ax.set_xlim(0, max(counts) * 1.18)
        ax.set_xticks([])
        _plain_axes(ax, keep=("left",))
        ax.tick_params(axis="y", length=0, labelsize=SMALL_SIZE)
        return _png(fig)


# --------------------------------------------------------------------------- weekday × hour


def _rows(counts: Mapping[tuple[int, int], int], schedule: WeeklySchedule | None) -> list[int]:
    """Monday to Friday always; Saturday and Sunday only when visited or declared open."""
    visited = {weekday for (weekday, _), n in counts.items() if n > 0}
    return [
        d for d in range(7) if d < 5 or d in visited or (schedule is not None and bool(schedule[d]))
    ]


def _hour_span(
    counts: Mapping[tuple[int, int], int], schedule: WeeklySchedule | None
) -> tuple[int, int]:
    """First and past-the-last hour shown: at least 8 h – 18 h, widened to hours and visits."""
    first, end = 8, 18
    for (_, hour), n in counts.items():
        if n > 0:
            first, end = min(first, hour), max(end, hour + 1)
    for periods in (schedule or {}).values():
        for p in periods:
            first = min(first, p.start_minute // 60)
            end = max(end, math.ceil(p.end_minute / 60))
    return first, end


def heatmap_png(
    counts: Mapping[tuple[int, int], int],
    *,
    schedule: WeeklySchedule | None,
    title: str,
    no_schedule_note: str = "horaires non déclarés",
) -> bytes:
    """Visits by weekday and local hour, with the declared opening hours outlined on top.

    Without a schedule, `no_schedule_note` says why (a site that declared none, or a whole
    Caf whose sites each have their own).

    ``counts`` is keyed by (weekday 0 = Monday, local hour 0–23). The outlines follow the
    exact minutes (9 h 30 – 12 h covers half of the 9 h cell), so a partner and the Caf see
    at a glance whether people come when the site is open.
    """
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap, Normalize
    from matplotlib.patches import Patch, Rectangle
    from matplotlib.patheffects import withStroke

    for weekday, hour in counts:
        if not (0 <= weekday <= 6 and 0 <= hour <= 23):
            raise ValueError(f"cell {(weekday, hour)!r} is not (weekday 0..6, hour 0..23)")
    rows = _rows(counts, schedule)
    first, end = _hour_span(counts, schedule)
    hours = list(range(first, end))
    grid = np.zeros((len(rows), len(hours)))
    for (weekday, hour), n in counts.items():
        if n > 0 and weekday in rows:
            grid[rows.index(weekday), hour - first] += n
    total = int(grid.sum())
    peak = max(1.0, float(grid.max()))

    with _figure(title) as (fig, ax):
        # Blues without its near-white start, so one visit stands out from an empty cell.
        blues = ListedColormap(colormaps["Blues"](np.linspace(0.22, 1.0, 256))).with_extremes(
            bad=EMPTY_CELL
        )
        # The scale starts at one visit: zero has its own grey, outside the scale.
        norm = Normalize(vmin=1, vmax=max(2.0, peak))
        mesh = ax.pcolormesh(
            np.arange(first, end + 1),
            np.arange(len(rows) + 1),
            np.ma.masked_equal(grid, 0),
            cmap=blues,
            norm=norm,
            edgecolors="white",
            linewidth=1.5,
        )
        if total and len(hours) <= 16:
            size = SMALL_SIZE if len(hours) <= 12 else SMALL_SIZE - 2
            for r, c in zip(*np.nonzero(grid), strict=True):
                value = grid[r, c]
                ax.text(
                    first + c + 0.5,
                    r + 0.5,
                    number_fr(int(value)),
                    ha="center",
                    va="center",
                    fontsize=size,
                    color="white" if norm(value) > 0.55 else TEXT,
                    # A halo of the cell's colour keeps the number readable where an
                    # outline of a partial hour (9 h 30) crosses the middle of the cell.
                    path_effects=[withStroke(linewidth=4, foreground=blues(norm(value)))],
                    zorder=3,
                )

        if schedule is not None:
            for r, weekday in enumerate(rows):
                for p in schedule[weekday]:
                    ax.add_patch(
                        Rectangle(
                            (p.start_minute / 60, r + 0.06),
                            p.minutes / 60,
                            0.88,
                            fill=False,
                            edgecolor=HOURS_EDGE,
                            linewidth=2.4,
                            joinstyle="miter",
                        )
                    )
            ax.legend(
                handles=[
                    Patch(
                        facecolor="none",
                        edgecolor=HOURS_EDGE,
                        linewidth=2.4,
                        label="horaires déclarés",
                    )
                ],
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                frameon=False,
                fontsize=SMALL_SIZE,
                borderaxespad=0.2,
            )
        else:
            ax.text(
                1.0,
                1.03,
                no_schedule_note,
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=SMALL_SIZE,
                fontstyle="italic",
                color=MUTED,
            )
        if total and schedule is not None:
            outside = visits_outside(counts, schedule)
            ax.set_title(
                f"{percent_fr(outside, total)} des visites hors des horaires déclarés",
                loc="left",
                fontsize=SMALL_SIZE,
                color=MUTED,
            )

        ax.set_xlim(first - 0.03, end + 0.03)
        ax.set_ylim(len(rows) + 0.05, -0.05)  # Monday on top; margins keep edge lines whole
        step = 1 if len(hours) <= 12 else 2
        ticks = list(range(first, end + 1, step))
        ax.set_xticks(ticks, [f"{h} h" for h in ticks])
        ax.set_yticks([r + 0.5 for r in range(len(rows))], [DAY_ABBREVIATIONS[d] for d in rows])
        _plain_axes(ax, keep=())
        ax.tick_params(length=0)

        if total:
            bar = fig.colorbar(mesh, ax=ax, fraction=0.04, pad=0.02)
            # One, the peak and halfway: three numbers a phone can show without crowding.
            bar.set_ticks(sorted({1, round((1 + peak) / 2), int(peak)}))
            bar.outline.set_visible(False)
            bar.ax.tick_params(labelsize=SMALL_SIZE, length=0)
            bar.set_label("visites", fontsize=SMALL_SIZE, color=TEXT)
        else:
            ax.text(
                (first + end) / 2,
                len(rows) / 2,
                NO_VISITS,
                ha="center",
                va="center",
                fontsize=TITLE_SIZE,
                color=TEXT,
                bbox={"boxstyle": "round,pad=0.5", "facecolor": "white", "alpha": 0.9},
                zorder=4,
            )
        return _png(fig)


# --------------------------------------------------------------------------- all three


def indicator_charts(
    weeks: Sequence[tuple[date, int]],
    top: Sequence[tuple[str, int]],
    weekday_hour: Mapping[tuple[int, int], int],
    *,
    schedule: WeeklySchedule | None,
    title: str,
    no_schedule_note: str,
) -> list[tuple[str, bytes]]:
    """The three charts of « 📊 Graphiques », each with its file's name, in the order sent.

    One function for the three, so that one child process draws them all.
    """
    return [
        ("semaines", weekly_visits_png(weeks, title=f"Visites par semaine — {title}")),
        ("demandes", top_requests_png(top, title=f"Demandes les plus fréquentes — {title}")),
        (
            "heures",
            heatmap_png(
                weekday_hour,
                schedule=schedule,
                title=f"Jours et heures des visites — {title}",
                no_schedule_note=no_schedule_note,
            ),
        ),
    ]
