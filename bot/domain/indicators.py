"""Annexe 2 indicators: the figures of a site or a Caf over a period, from counted rows.

SQL does the counting (storage/indicators.py returns small grouped rows, per site); this
module turns those rows into figures. Every figure is keyed by the taxonomy's codes and
starts from every option at zero, so a new option of bot/domain/taxonomy.py appears in the
chat, the charts and the exports by itself. Training-mode visits are never here: they live
in another table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import taxonomy
from bot.domain.taxonomy import Question

# The profile questions and the resolution, counted once per visit.
PER_VISIT: tuple[Question, ...] = (*taxonomy.PROFILE, taxonomy.RESOLUTION)


@dataclass(frozen=True)
class CountRows:
    """What storage counts for a period, grouped by site. Every `n` is a number of rows.

    - `visits`: (partner, n visits)
    - `answers`: (partner, question, option or None, n visits), for each question of
      PER_VISIT; the option None counts visits not asked the question (a legal person's age)
    - `cells`: (partner, demande, action, n visits ticking that cell of the grid)
    - `requests`: (partner, demande, resolution, n visits with that request type)
    - `themes`: (partner, theme, n visits)
    - `local_hours`: (partner, local date, local hour, n visits), for the weeks and the
      heatmap (empty when storage was asked for no time figures)
    """

    visits: list[tuple[int, int]] = field(default_factory=list)
    answers: list[tuple[int, str, str | None, int]] = field(default_factory=list)
    cells: list[tuple[int, str, str, int]] = field(default_factory=list)
    requests: list[tuple[int, str, str, int]] = field(default_factory=list)
    themes: list[tuple[int, str, int]] = field(default_factory=list)
    local_hours: list[tuple[int, date, int, int]] = field(default_factory=list)


def utc_offsets(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[datetime, int]]:
    """The time zone's UTC offsets over [start, end): (from this instant, offset in minutes).

    SQLite knows no time zones; storage turns these few segments (one more per change to or
    from summer time) into a CASE that shifts each stored UTC instant to local time.
    """
    first = int(start.timestamp())
    stop = int(end.timestamp())

    def offset(second: int) -> int:
        delta = datetime.fromtimestamp(second, UTC).astimezone(tz).utcoffset()
        assert delta is not None
        return int(delta.total_seconds() // 60)

    segments = [(datetime.fromtimestamp(first, UTC), offset(first))]
    # Checked hour by hour, each change then found to the second by bisection.
    instant = first
    while instant < stop:
        following = min(instant + 3600, stop)
        if offset(following) != segments[-1][1]:
            low, high = instant, following  # offset(low) is the old one, offset(high) new
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == segments[-1][1]:
                    low = middle
                else:
                    high = middle
            segments.append((datetime.fromtimestamp(high, UTC), offset(high)))
        instant = following
    return segments


@dataclass
class Indicators:
    """The figures of Annexe 2 for one site, or summed over several."""

    visits: int = 0
    # question code → option code → visits; every option of the taxonomy present, in order.
    profile: dict[str, dict[str, int]] = field(default_factory=dict)
    # Legal persons are not asked their age (Annexe 2): counted apart from the age options.
    age_not_asked: int = 0
    # (request, action) → visits ticking that cell; every cell present.
    matrix: dict[tuple[str, str], int] = field(default_factory=dict)
    # request → visits with that request type (a visit with two actions counts once).
    requests: dict[str, int] = field(default_factory=dict)
    # request → resolution → visits.
    request_resolution: dict[str, dict[str, int]] = field(default_factory=dict)
    themes: dict[str, int] = field(default_factory=dict)
    # (weekday 0 = Monday, local hour) → visits, for the heatmap.
    weekday_hour: Counter[tuple[int, int]] = field(default_factory=Counter)
    # local date → visits (days with visits only); weeks and months derive from it.
    by_day: Counter[date] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for question in PER_VISIT:
            counts = self.profile.setdefault(question.code, {})
            for code in question.codes:
                counts.setdefault(code, 0)
        for request in taxonomy.DEMANDE.codes:
            self.requests.setdefault(request, 0)
            by_resolution = self.request_resolution.setdefault(request, {})
            for resolution in taxonomy.RESOLUTION.codes:
                by_resolution.setdefault(resolution, 0)
            for action in taxonomy.ACTION.codes:
                self.matrix.setdefault((request, action), 0)
        for theme in taxonomy.THEME.codes:
            self.themes.setdefault(theme, 0)

    # ------------------------------------------------------------------ derived figures
    @property
    def resolution(self) -> dict[str, int]:
        return self.profile[taxonomy.RESOLUTION.code]

    def with_outcome(self, outcome: taxonomy.Outcome) -> int:
        """Visits whose « Demande résolue » says `outcome` (resolved, partly, not)."""
        return self.resolution[taxonomy.resolution_with(outcome).code]

    @property
    def resolved(self) -> int:
        return self.with_outcome(taxonomy.Outcome.RESOLVED)

    @property
    def partly_resolved(self) -> int:
        return self.with_outcome(taxonomy.Outcome.PARTLY)

    @property
    def unresolved(self) -> int:
        return self.with_outcome(taxonomy.Outcome.UNRESOLVED)

    def share(self, count: int) -> float:
        """`count` as a fraction of the visits (0 when there are none)."""
        return count / self.visits if self.visits else 0.0

    def action_totals(self) -> dict[str, int]:
        """Ticks per partner action, over every request type (the grid's bottom row)."""
        totals = dict.fromkeys(taxonomy.ACTION.codes, 0)
        for (_, action), count in self.matrix.items():
            totals[action] += count
        return totals

    def request_row_total(self, request: str) -> int:
        """Ticks on one row of the grid (a visit with two actions counts twice)."""
        return sum(self.matrix[(request, action)] for action in taxonomy.ACTION.codes)

    def group_totals(self) -> dict[str, int]:
        """Visits per heading of the request table (Accès aux droits, …), by request."""
        return {
            group.code: sum(self.requests[option.code] for option in group.options)
            for group in taxonomy.REQUEST_GROUPS
        }

    def top_requests(self, limit: int = 5) -> list[tuple[str, int]]:
        """The most frequent request types, most frequent first (taxonomy order on ties)."""
        order = {code: i for i, code in enumerate(taxonomy.DEMANDE.codes)}
        ranked = sorted(
            ((code, n) for code, n in self.requests.items() if n),
            key=lambda item: (-item[1], order[item[0]]),
        )
        return ranked[:limit]

    def by_week(self, mondays: list[date]) -> list[tuple[date, int]]:
        """Visits per week, for each Monday given (weeks without visits at zero)."""
        counts: Counter[date] = Counter()
        for day, n in self.by_day.items():
            counts[day - timedelta(days=day.weekday())] += n
        return [(monday, counts[monday]) for monday in mondays]

    # ------------------------------------------------------------------ combining
    def add(self, other: Indicators) -> None:
        """Adds another site's figures to these (a Caf's figures are its sites' sum)."""
        self.visits += other.visits
        self.age_not_asked += other.age_not_asked
        for question, counts in other.profile.items():
            for code, n in counts.items():
                self.profile[question][code] = self.profile[question].get(code, 0) + n
        for key, n in other.matrix.items():
            self.matrix[key] = self.matrix.get(key, 0) + n
        for request, n in other.requests.items():
            self.requests[request] = self.requests.get(request, 0) + n
        for request, counts in other.request_resolution.items():
            mine = self.request_resolution.setdefault(request, {})
            for code, n in counts.items():
                mine[code] = mine.get(code, 0) + n
        for theme, n in other.themes.items():
            self.themes[theme] = self.themes.get(theme, 0) + n
        self.weekday_hour.update(other.weekday_hour)
        self.by_day.update(other.by_day)


def build(rows: CountRows, tz: ZoneInfo) -> dict[int, Indicators]:
    """Each site's figures from the counted rows (sites without visits are absent)."""
    sites: dict[int, Indicators] = {}

    def of(partner: int) -> Indicators:
        if partner not in sites:
            sites[partner] = Indicators()
        return sites[partner]

    for partner, n in rows.visits:
        of(partner).visits += n
    for partner, question, code, n in rows.answers:
        figures = of(partner)
        if code is None:
            if question == taxonomy.AGE.code:
                figures.age_not_asked += n
            continue
        counts = figures.profile[question]
        counts[code] = counts.get(code, 0) + n
    for partner, request, action, n in rows.cells:
        matrix = of(partner).matrix
        matrix[(request, action)] = matrix.get((request, action), 0) + n
    for partner, request, resolution, n in rows.requests:
        figures = of(partner)
        figures.requests[request] = figures.requests.get(request, 0) + n
        by_resolution = figures.request_resolution.setdefault(request, {})
        by_resolution[resolution] = by_resolution.get(resolution, 0) + n
    for partner, theme, n in rows.themes:
        themes = of(partner).themes
        themes[theme] = themes.get(theme, 0) + n
    for partner, day, hour, n in rows.local_hours:
        figures = of(partner)
        figures.weekday_hour[(day.weekday(), hour)] += n
        figures.by_day[day] += n
    return sites


def total(sites: dict[int, Indicators]) -> Indicators:
    summed = Indicators()
    for figures in sites.values():
        summed.add(figures)
    return summed


@dataclass(frozen=True)
class Change:
    """A figure now and in the previous period."""

    current: float
    previous: float

    @property
    def delta(self) -> float:
        return self.current - self.previous

    @property
    def ratio(self) -> float | None:
        """Relative change (0.25: +25 %); None when there was nothing before."""
        return self.delta / self.previous if self.previous else None


@dataclass(frozen=True)
class Comparison:
    visits: Change
    resolved_share: Change  # share of visits whose requests were resolved
    requests: dict[str, Change]

    @classmethod
    def of(cls, current: Indicators, previous: Indicators) -> Comparison:
        def resolved(figures: Indicators) -> float:
            return figures.share(figures.resolved)

        return cls(
            visits=Change(current.visits, previous.visits),
            resolved_share=Change(resolved(current), resolved(previous)),
            requests={
                code: Change(current.requests[code], previous.requests[code])
                for code in taxonomy.DEMANDE.codes
            },
        )
