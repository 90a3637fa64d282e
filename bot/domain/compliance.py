"""Each site against the convention: what the Caf should look at first (✅ Conformité).

`assess(facts, today)` turns what the database knows about one site (`SiteFacts`) into
findings, each with a severity — risk, watch or ok — and a short French text; the site's
level is its worst finding. Pure code: no I/O, "today" is passed in, the facts are gathered
by storage/compliance.py in a few grouped queries for the whole Caf.

The rules and their thresholds (each one named below, with why):

| rule | risk 🔴 | watch 🟠 |
|---|---|---|
| label (Art. 6) | suspended | — (withdrawn: shown apart, after all others) |
| opening hours (Art. 4) | none declared; below 4 half-days / 12 h | — |
| activity (Art. 2, 9) | no visit logged for 60 days | for 30 days |
| closures (Art. 4) | 45 days closed in the last 3 months | 21 days |
| transmissions (Art. 9) | 2 late of the last 4 periods | 1 late |
| difficulties, training needs (Art. 4) | — | one unacknowledged > 3 working days |
| training day (Art. 3, 4) | — | the site was invited to the last one; nobody came |
| people trained (Art. 3, 4) | — | an agent or manager there 90 days, never trained |
| yearly visit (Art. 9) | — | none for 12 months (convention a year old or more) |
| visit's points (Art. 4, 9) | — | a point the last visit found wanting, its action not done |
| action plan (Art. 9) | — | an item past its due date |
| convention (Art. 11) | — | notice deadline within 2 months; start date unknown |

A site whose every finding is ok is 🟢. The level never depends on the order of the rules;
the order only decides which reason a list line shows first (the first of the worst).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import IntEnum, StrEnum

from bot.domain import renewal
from bot.domain.closure_dates import format_day
from bot.domain.opening_hours import format_duration
from bot.domain.periods import PeriodError, parse_period
from bot.domain.permissions import LabelStatus
from bot.domain.signals import ACK_DEADLINE_WORKING_DAYS, SignalStatus, is_overdue
from bot.domain.site_reviews import BY_KEY
from bot.domain.termination import Party

# --------------------------------------------------------------------------- thresholds
MIN_HALF_DAYS = 4
MIN_HOURS = 12
"""Article 4's minimum; the check itself is opening_hours.check_minimum, stored per schedule."""

NO_VISIT_WATCH_DAYS = 30
"""A month without a logged visit: the site may have stopped logging, or stopped opening."""
NO_VISIT_RISK_DAYS = 60
"""Two months: the Point numérique is not running as the convention expects (Art. 2, 9)."""

CLOSURE_WINDOW_MONTHS = 3
"""« Closures in the last quarter »: the three months up to today, whatever the calendar."""
CLOSED_DAYS_WATCH = 21
"""Three weeks shut out of thirteen: more than a usual summer or year-end break."""
CLOSED_DAYS_RISK = 45
"""Half the quarter shut: the weekly opening minimum is not met in practice (Art. 4)."""

TRANSMISSION_WINDOW = 4
"""The last four reporting periods (a year of quarters, four months of months)."""
LATE_TRANSMISSIONS_RISK = 2
"""Twice late out of four is a habit, not an accident (Art. 9); once is worth a call."""

YEARLY_VISIT_MONTHS = 12
"""Article 9: « une visite annuelle à minima », checked once the convention is a year old."""

NOTICE_WATCH_MONTHS = 2

UNTRAINED_GRACE_DAYS = 90
"""A newcomer has a quarter to reach a training (their need is in the inbox meanwhile)."""
"""Within two months of the notice deadline the Caf must decide: renew or give notice."""


class Severity(IntEnum):
    OK = 0
    WATCH = 1
    RISK = 2

    @property
    def mark(self) -> str:
        return {0: "🟢", 1: "🟠", 2: "🔴"}[self.value]

    @property
    def label(self) -> str:
        return {0: "conforme", 1: "à surveiller", 2: "à risque"}[self.value]


WITHDRAWN_MARK = "⛔"


class Rule(StrEnum):
    """The rules, in the order a site's card shows them."""

    LABEL = "label"
    HOURS = "hours"
    ACTIVITY = "activity"
    CLOSURES = "closures"
    TRANSMISSIONS = "transmissions"
    DIFFICULTIES = "difficulties"
    TRAINING_NEEDS = "training_needs"
    TRAINING_DAY = "training_day"
    TRAINED = "trained"
    SECRECY = "secrecy"
    YEARLY_VISIT = "yearly_visit"
    MISSING_POINTS = "missing_points"
    ACTION_PLAN = "action_plan"
    CONVENTION = "convention"


# --------------------------------------------------------------------------- facts
@dataclass(frozen=True)
class HoursFacts:
    """The schedule in force today, with the verdict stored when it was declared."""

    effective_from: date
    half_days: int
    minutes: int
    compliant: bool


@dataclass(frozen=True)
class ClosureFacts:
    """Exceptional closures overlapping the last CLOSURE_WINDOW_MONTHS (cancelled ones left out)."""

    count: int = 0
    closed_days: int = 0  # calendar days within the window


class TransmissionStatus(StrEnum):
    PENDING = "pending"
    VALIDATED = "validated"
    MODIFIED = "modified"


@dataclass(frozen=True)
class Transmission:
    """One reporting period's report of the site (period_reports)."""

    period: str  # '2026-10' or '2026-Q3'
    status: TransmissionStatus
    due_on: date

    def is_late(self, today: date) -> bool:
        return self.status is not TransmissionStatus.VALIDATED and self.due_on < today

    @property
    def label(self) -> str:
        try:
            return parse_period(self.period).label
        except PeriodError:
            return self.period


@dataclass(frozen=True)
class TrainingDayFacts:
    """The Caf's last training day that has taken place, seen from one site."""

    title: str
    day: date
    invited: int  # people of the site invited
    attended: int  # of whom recorded present
    recorded: bool  # a coordinator recorded attendance for this event


@dataclass(frozen=True)
class UntrainedPerson:
    """An active agent or manager of the site with no training attended (🎓 Formations)."""

    name: str
    since: date  # local day they joined the site


@dataclass(frozen=True)
class SignalFacts:
    """The site's signals of one kind that are not resolved."""

    unresolved: int = 0
    oldest_unacknowledged: date | None = None  # local day it was raised


@dataclass(frozen=True)
class ReviewFacts:
    """The last yearly visit (Article 9) and what it checked."""

    visited_on: date
    premises_ok: bool
    equipment_ok: bool
    hours_ok: bool

    @property
    def wanting(self) -> list[str]:
        checks = (
            (self.premises_ok, "locaux"),
            (self.equipment_ok, "matériel"),
            (self.hours_ok, "horaires"),
        )
        return [name for ok, name in checks if not ok]


@dataclass(frozen=True)
class ActionPlanFacts:
    open: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class MissingPointsFacts:
    """The checklist points (bot/domain/site_reviews.py CHECKS codes) the latest yearly visit
    found wanting and no done action item has answered since, and the equipment the site
    itself lists as missing (Article 8, its labels)."""

    visited_on: date | None = None
    points: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteFacts:
    """Everything the compliance view knows about one site, as of one day."""

    partner_id: int
    name: str
    city: str
    label_status: LabelStatus
    label_since: date
    created_on: date
    label_reason: str | None = None
    convention_start: date | None = None
    hours: HoursFacts | None = None
    closures: ClosureFacts = field(default_factory=ClosureFacts)
    last_visit_on: date | None = None
    transmissions: tuple[Transmission, ...] = ()  # newest first
    training_day: TrainingDayFacts | None = None
    untrained: tuple[UntrainedPerson, ...] = ()
    # Active agents and managers not yet committed to professional secrecy (Article 5).
    uncommitted: tuple[str, ...] = ()
    difficulties: SignalFacts = field(default_factory=SignalFacts)
    training_needs: SignalFacts = field(default_factory=SignalFacts)
    last_review: ReviewFacts | None = None
    missing_points: MissingPointsFacts | None = None
    action_plan: ActionPlanFacts = field(default_factory=ActionPlanFacts)
    # A standing notice of termination (Article 11): who gave it, and when it takes effect.
    terminated_by: Party | None = None
    terminated_on: date | None = None

    @property
    def title(self) -> str:
        return f"{self.name} ({self.city})" if self.city else self.name


# --------------------------------------------------------------------------- assessment
@dataclass(frozen=True)
class Finding:
    rule: Rule
    severity: Severity
    text: str


@dataclass(frozen=True)
class ConventionDates:
    """Start, the end of the running term, and the next notice still possible."""

    start: date
    anniversary: date  # the next anniversary on or after today
    notice_deadline: date  # the next deadline on or after today (maybe the following term's)
    notice_anniversary: date  # the anniversary that deadline is for

    @property
    def notice_passed_for_current_term(self) -> bool:
        return self.notice_anniversary != self.anniversary


@dataclass(frozen=True)
class Assessment:
    facts: SiteFacts
    findings: tuple[Finding, ...]
    level: Severity
    withdrawn: bool
    convention: ConventionDates | None

    @property
    def mark(self) -> str:
        return WITHDRAWN_MARK if self.withdrawn else self.level.mark

    @property
    def main(self) -> Finding | None:
        """The first finding of the worst severity; None when everything is in order."""
        if self.withdrawn:
            return self.findings[0]
        worst = [f for f in self.findings if f.severity is self.level]
        return worst[0] if worst and self.level is not Severity.OK else None

    @property
    def concerns(self) -> int:
        """Findings that are not ok."""
        return sum(1 for f in self.findings if f.severity is not Severity.OK)

    def sort_key(self) -> tuple[int, int, str, int]:
        """Sites at risk first, then to watch, then in order; withdrawn labels last."""
        return (
            int(self.withdrawn),
            -int(self.level),
            self.facts.title.casefold(),
            self.facts.partner_id,
        )


def overall(findings: Iterable[Finding]) -> Severity:
    """A site's level: its worst finding (OK when there is none)."""
    return max((f.severity for f in findings), default=Severity.OK)


def convention_dates(start: date | None, today: date) -> ConventionDates | None:
    if start is None:
        return None
    running = renewal.current_term(start, today)
    notice = renewal.next_notice(start, today)
    return ConventionDates(start, running.anniversary, notice.notice_deadline, notice.anniversary)


def assess(facts: SiteFacts, today: date) -> Assessment:
    dates = convention_dates(facts.convention_start, today)
    if facts.label_status is LabelStatus.WITHDRAWN:
        reason = f" ({facts.label_reason})" if facts.label_reason else ""
        text = f"Label retiré depuis le {_day(facts.label_since, today)}{reason}."
        findings: tuple[Finding, ...] = (Finding(Rule.LABEL, Severity.OK, text),)
        return Assessment(facts, findings, Severity.OK, True, dates)
    findings = (
        _label(facts, today),
        _hours(facts, today),
        _activity(facts, today),
        _closures(facts),
        _transmissions(facts, today),
        _signals(Rule.DIFFICULTIES, facts.difficulties, today),
        _signals(Rule.TRAINING_NEEDS, facts.training_needs, today),
        _training_day(facts, today),
        _trained(facts, today),
        _secrecy(facts),
        _yearly_visit(facts, today),
        _missing_points(facts, today),
        _action_plan(facts),
        _termination(facts, today) or _convention(dates, today),
    )
    return Assessment(facts, findings, overall(findings), False, dates)


def ranked(assessments: Iterable[Assessment]) -> list[Assessment]:
    return sorted(assessments, key=Assessment.sort_key)


# --------------------------------------------------------------------------- the rules
def _day(day: date, today: date) -> str:
    return format_day(day, today)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _label(facts: SiteFacts, today: date) -> Finding:
    if facts.label_status is LabelStatus.SUSPENDED:
        reason = f" ({facts.label_reason})" if facts.label_reason else ""
        since = _day(facts.label_since, today)
        return Finding(Rule.LABEL, Severity.RISK, f"Label suspendu depuis le {since}{reason}.")
    return Finding(Rule.LABEL, Severity.OK, "Label actif.")


def _hours(facts: SiteFacts, today: date) -> Finding:
    hours = facts.hours
    if hours is None:
        return Finding(Rule.HOURS, Severity.RISK, "Aucun horaire d'ouverture déclaré.")
    week = (
        f"{_plural(hours.half_days, 'demi-journée', 'demi-journées')}, "
        f"{format_duration(hours.minutes)} par semaine"
    )
    if not hours.compliant:
        return Finding(
            Rule.HOURS,
            Severity.RISK,
            f"Horaires sous le minimum : {week} (minimum {MIN_HALF_DAYS} demi-journées "
            f"et {MIN_HOURS} h).",
        )
    return Finding(Rule.HOURS, Severity.OK, f"Horaires conformes : {week}.")


def _activity(facts: SiteFacts, today: date) -> Finding:
    if facts.last_visit_on is not None:
        silent = (today - facts.last_visit_on).days
        if silent <= 0:
            text = "Dernière visite enregistrée aujourd'hui."
        else:
            text = (
                f"Dernière visite enregistrée il y a {_plural(silent, 'jour', 'jours')}"
                f" (le {_day(facts.last_visit_on, today)})."
            )
    else:
        since = facts.convention_start or facts.created_on
        silent = (today - since).days
        text = f"Aucune visite enregistrée depuis le {_day(since, today)}."
    if silent >= NO_VISIT_RISK_DAYS:
        return Finding(Rule.ACTIVITY, Severity.RISK, text)
    if silent >= NO_VISIT_WATCH_DAYS:
        return Finding(Rule.ACTIVITY, Severity.WATCH, text)
    return Finding(Rule.ACTIVITY, Severity.OK, text)


def _closures(facts: SiteFacts) -> Finding:
    closures = facts.closures
    if closures.count == 0:
        return Finding(
            Rule.CLOSURES, Severity.OK, "Aucune fermeture exceptionnelle ces trois derniers mois."
        )
    text = (
        f"{_plural(closures.count, 'fermeture exceptionnelle', 'fermetures exceptionnelles')}"
        f" ces trois derniers mois : {_plural(closures.closed_days, 'jour', 'jours')} fermé"
        f"{'s' if closures.closed_days > 1 else ''}."
    )
    if closures.closed_days >= CLOSED_DAYS_RISK:
        return Finding(Rule.CLOSURES, Severity.RISK, text)
    if closures.closed_days >= CLOSED_DAYS_WATCH:
        return Finding(Rule.CLOSURES, Severity.WATCH, text)
    return Finding(Rule.CLOSURES, Severity.OK, text)


def _transmissions(facts: SiteFacts, today: date) -> Finding:
    recent = facts.transmissions[:TRANSMISSION_WINDOW]
    if not recent:
        return Finding(Rule.TRANSMISSIONS, Severity.OK, "Aucune période à transmettre encore.")
    late = [t for t in recent if t.is_late(today)]
    if not late:
        last = recent[0]
        state = {
            TransmissionStatus.VALIDATED: "validée",
            TransmissionStatus.PENDING: f"à valider d'ici le {_day(last.due_on, today)}",
            TransmissionStatus.MODIFIED: "modifiée, à revalider",
        }[last.status]
        return Finding(
            Rule.TRANSMISSIONS,
            Severity.OK,
            f"Transmissions à jour ({last.label} : {state}).",
        )
    periods = ", ".join(t.label for t in late)
    text = (
        f"{_plural(len(late), 'transmission en retard', 'transmissions en retard')}"
        f" sur les {len(recent)} dernières périodes : {periods}."
        if len(recent) > 1
        else f"Transmission en retard : {periods}."
    )
    severity = Severity.RISK if len(late) >= LATE_TRANSMISSIONS_RISK else Severity.WATCH
    return Finding(Rule.TRANSMISSIONS, severity, text)


_SIGNAL_WORDS = {
    Rule.DIFFICULTIES: ("difficulté signalée en cours", "difficultés signalées en cours"),
    Rule.TRAINING_NEEDS: ("besoin de formation en cours", "besoins de formation en cours"),
}


def _signals(rule: Rule, signals: SignalFacts, today: date) -> Finding:
    one, many = _SIGNAL_WORDS[rule]
    if signals.unresolved == 0:
        nothing = (
            "Aucune difficulté en cours."
            if rule is Rule.DIFFICULTIES
            else ("Aucun besoin de formation en cours.")
        )
        return Finding(rule, Severity.OK, nothing)
    text = _plural(signals.unresolved, one, many)
    oldest = signals.oldest_unacknowledged
    if oldest is not None and is_overdue(SignalStatus.OPEN, oldest, today):
        return Finding(
            rule,
            Severity.WATCH,
            f"{text}, dont une sans prise en charge depuis le {_day(oldest, today)}"
            f" (plus de {ACK_DEADLINE_WORKING_DAYS} jours ouvrés).",
        )
    return Finding(rule, Severity.OK, f"{text}.")


def _training_day(facts: SiteFacts, today: date) -> Finding:
    day = facts.training_day
    if day is None:
        return Finding(Rule.TRAINING_DAY, Severity.OK, "Pas encore de journée de formation passée.")
    when = f"« {day.title} » du {_day(day.day, today)}"
    if day.invited == 0:
        return Finding(Rule.TRAINING_DAY, Severity.OK, f"Personne du site n'était invité à {when}.")
    if not day.recorded:
        return Finding(Rule.TRAINING_DAY, Severity.OK, f"Présences non notées pour {when}.")
    if day.attended == 0:
        return Finding(Rule.TRAINING_DAY, Severity.WATCH, f"Personne du site n'est venu à {when}.")
    present = _plural(day.attended, "personne présente", "personnes présentes")
    return Finding(Rule.TRAINING_DAY, Severity.OK, f"{present} à {when}.")


def _trained(facts: SiteFacts, today: date) -> Finding:
    if not facts.untrained:
        return Finding(Rule.TRAINED, Severity.OK, "Toutes les personnes du site sont formées.")
    names = ", ".join(p.name for p in facts.untrained)
    text = f"{_plural(len(facts.untrained), 'personne', 'personnes')} jamais formée"
    text += f"{'s' if len(facts.untrained) > 1 else ''} : {names}."
    if any((today - p.since).days >= UNTRAINED_GRACE_DAYS for p in facts.untrained):
        return Finding(Rule.TRAINED, Severity.WATCH, text)
    return Finding(Rule.TRAINED, Severity.OK, text)


def _secrecy(facts: SiteFacts) -> Finding:
    """Article 5. The bot asks them before anything else, so they cannot log a visit
    uncommitted; but a person who never comes back stays a person of the site not committed."""
    if not facts.uncommitted:
        text = "Toutes les personnes du site sont engagées au secret professionnel."
        return Finding(Rule.SECRECY, Severity.OK, text)
    n = len(facts.uncommitted)
    text = f"{_plural(n, 'personne', 'personnes')} pas encore engagée{'s' if n > 1 else ''}"
    text += f" au secret professionnel (article 5) : {', '.join(facts.uncommitted)}."
    return Finding(Rule.SECRECY, Severity.WATCH, text)


def _yearly_visit(facts: SiteFacts, today: date) -> Finding:
    review = facts.last_review
    year_ago = renewal.add_months(today, -YEARLY_VISIT_MONTHS)
    start = facts.convention_start or facts.created_on
    due = start <= year_ago  # the convention is at least a year old
    if review is None:
        if due:
            return Finding(Rule.YEARLY_VISIT, Severity.WATCH, "Aucune visite annuelle enregistrée.")
        return Finding(Rule.YEARLY_VISIT, Severity.OK, "Visite annuelle : pas encore due.")
    when = _day(review.visited_on, today)
    if due and review.visited_on <= year_ago:
        return Finding(
            Rule.YEARLY_VISIT,
            Severity.WATCH,
            f"Dernière visite annuelle le {when} : il y a plus d'un an.",
        )
    # What it found wanting is the missing-points rule's, open until answered.
    return Finding(Rule.YEARLY_VISIT, Severity.OK, f"Dernière visite annuelle le {when}.")


def _missing_points(facts: SiteFacts, today: date) -> Finding:
    missing = facts.missing_points
    if missing is None or not (missing.points or missing.equipment):
        return Finding(Rule.MISSING_POINTS, Severity.OK, "Aucun point de la visite à revoir.")
    texts = []
    if missing.points and missing.visited_on is not None:
        labels = ", ".join(BY_KEY[p].label if p in BY_KEY else p for p in missing.points)
        texts.append(f"À revoir depuis la visite du {_day(missing.visited_on, today)} : {labels}.")
    if missing.equipment:
        texts.append(f"Équipement manquant selon le site : {', '.join(missing.equipment)}.")
    return Finding(Rule.MISSING_POINTS, Severity.WATCH, " ".join(texts))


def _action_plan(facts: SiteFacts) -> Finding:
    plan = facts.action_plan
    if plan.open == 0:
        return Finding(Rule.ACTION_PLAN, Severity.OK, "Aucune action en cours.")
    text = _plural(plan.open, "action en cours", "actions en cours")
    if plan.overdue:
        return Finding(
            Rule.ACTION_PLAN,
            Severity.WATCH,
            f"Plan d'action : {text}, dont {plan.overdue} en retard.",
        )
    return Finding(Rule.ACTION_PLAN, Severity.OK, f"Plan d'action : {text}.")


def _termination(facts: SiteFacts, today: date) -> Finding | None:
    """A standing notice of termination outweighs the renewal's dates."""
    if facts.terminated_on is None or facts.terminated_by is None:
        return None
    return Finding(
        Rule.CONVENTION,
        Severity.WATCH,
        f"Convention dénoncée par {facts.terminated_by.label} : elle prend fin le"
        f" {_day(facts.terminated_on, today)}, et le label avec elle.",
    )


def _convention(dates: ConventionDates | None, today: date) -> Finding:
    if dates is None:
        return Finding(
            Rule.CONVENTION, Severity.WATCH, "Date de la convention inconnue : renseignez-la."
        )
    deadline = dates.notice_deadline
    text = f"Préavis de dénonciation au plus tard le {_day(deadline, today)}"
    if deadline <= renewal.add_months(today, NOTICE_WATCH_MONTHS):
        left = (deadline - today).days
        soon = "aujourd'hui" if left == 0 else f"dans {_plural(left, 'jour', 'jours')}"
        return Finding(Rule.CONVENTION, Severity.WATCH, f"{text} ({soon}).")
    return Finding(Rule.CONVENTION, Severity.OK, f"{text}.")


def window_start(today: date) -> date:
    """The first day of the closures window (« the last quarter »)."""
    return renewal.add_months(today, -CLOSURE_WINDOW_MONTHS) + timedelta(days=1)
