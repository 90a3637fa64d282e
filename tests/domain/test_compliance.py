"""✅ Conformité's rules: each threshold on both sides, the level, the order of the list."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import compliance as c
from bot.domain.compliance import (
    ActionPlanFacts,
    ClosureFacts,
    Finding,
    HoursFacts,
    MissingPointsFacts,
    ReviewFacts,
    Rule,
    Severity,
    SignalFacts,
    SiteFacts,
    TrainingDayFacts,
    Transmission,
    TransmissionStatus,
    assess,
    overall,
    ranked,
)
from bot.domain.permissions import LabelStatus

TODAY = date(2026, 11, 26)  # a Thursday
GOOD_HOURS = HoursFacts(date(2025, 1, 6), half_days=5, minutes=15 * 60, compliant=True)


def site(**changes: object) -> SiteFacts:
    """A site in order on TODAY: every rule ok; each test breaks one thing."""
    base = SiteFacts(
        partner_id=1,
        name="Mairie de Ham",
        city="Ham",
        label_status=LabelStatus.ACTIVE,
        label_since=date(2025, 3, 1),
        created_on=date(2025, 3, 1),
        convention_start=date(2025, 3, 1),  # notice deadline 1 December 2026… see below
        hours=GOOD_HOURS,
        last_visit_on=TODAY - timedelta(days=2),
        last_review=ReviewFacts(date(2026, 3, 10), True, True, True),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def in_order(**changes: object) -> SiteFacts:
    # A start whose notice deadline is far away: 1 June → deadline 1 March 2027.
    return site(**{"convention_start": date(2025, 6, 1), **changes})


def finding(facts: SiteFacts, rule: Rule, today: date = TODAY) -> Finding:
    [found] = [f for f in assess(facts, today).findings if f.rule is rule]
    return found


def test_a_site_in_order_is_green_with_every_rule_shown() -> None:
    result = assess(in_order(), TODAY)
    assert result.level is Severity.OK and result.mark == "🟢"
    assert result.main is None and result.concerns == 0
    assert [f.rule for f in result.findings] == list(Rule)
    assert "Horaires conformes : 5 demi-journées, 15 h par semaine." in [
        f.text for f in result.findings
    ]


# ------------------------------------------------------------------------------ label
def test_a_suspended_label_is_a_risk_with_its_reason() -> None:
    facts = in_order(
        label_status=LabelStatus.SUSPENDED, label_since=date(2026, 10, 2), label_reason="contrôle"
    )
    result = finding(facts, Rule.LABEL)
    assert result.severity is Severity.RISK
    assert result.text == "Label suspendu depuis le 2 octobre (contrôle)."


def test_a_withdrawn_label_is_shown_apart_without_other_findings() -> None:
    facts = in_order(label_status=LabelStatus.WITHDRAWN, hours=None, last_visit_on=None)
    result = assess(facts, TODAY)
    assert result.withdrawn and result.mark == "⛔"
    assert [f.rule for f in result.findings] == [Rule.LABEL]
    assert result.main is not None and "Label retiré" in result.main.text


# ------------------------------------------------------------------------------ hours
def test_no_hours_declared_is_a_risk() -> None:
    assert finding(in_order(hours=None), Rule.HOURS).severity is Severity.RISK


def test_hours_below_the_minimum_are_a_risk_and_say_the_minimum() -> None:
    short = HoursFacts(date(2026, 1, 5), half_days=3, minutes=10 * 60, compliant=False)
    result = finding(in_order(hours=short), Rule.HOURS)
    assert result.severity is Severity.RISK
    assert result.text == (
        "Horaires sous le minimum : 3 demi-journées, 10 h par semaine"
        " (minimum 4 demi-journées et 12 h)."
    )


# ------------------------------------------------------------------------------ activity
@pytest.mark.parametrize(
    ("days", "severity"),
    [
        (0, Severity.OK),
        (c.NO_VISIT_WATCH_DAYS - 1, Severity.OK),
        (c.NO_VISIT_WATCH_DAYS, Severity.WATCH),
        (c.NO_VISIT_RISK_DAYS - 1, Severity.WATCH),
        (c.NO_VISIT_RISK_DAYS, Severity.RISK),
    ],
)
def test_days_since_the_last_visit(days: int, severity: Severity) -> None:
    result = finding(in_order(last_visit_on=TODAY - timedelta(days=days)), Rule.ACTIVITY)
    assert result.severity is severity
    if days:
        assert f"il y a {days} jour" in result.text


def test_a_site_that_never_logged_counts_from_its_convention() -> None:
    recent = in_order(last_visit_on=None, convention_start=TODAY - timedelta(days=10))
    assert finding(recent, Rule.ACTIVITY).severity is Severity.OK
    old = in_order(last_visit_on=None)
    result = finding(old, Rule.ACTIVITY)
    assert result.severity is Severity.RISK
    assert result.text == "Aucune visite enregistrée depuis le 1er juin 2025."


# ------------------------------------------------------------------------------ closures
@pytest.mark.parametrize(
    ("days", "severity"),
    [
        (c.CLOSED_DAYS_WATCH - 1, Severity.OK),
        (c.CLOSED_DAYS_WATCH, Severity.WATCH),
        (c.CLOSED_DAYS_RISK - 1, Severity.WATCH),
        (c.CLOSED_DAYS_RISK, Severity.RISK),
    ],
)
def test_days_closed_in_the_last_three_months(days: int, severity: Severity) -> None:
    result = finding(in_order(closures=ClosureFacts(2, days)), Rule.CLOSURES)
    assert result.severity is severity
    assert result.text.startswith("2 fermetures exceptionnelles ces trois derniers mois")


def test_the_closures_window_is_three_months_up_to_today() -> None:
    assert c.window_start(TODAY) == date(2026, 8, 27)
    assert c.window_start(date(2026, 5, 31)) == date(2026, 3, 1)  # 28 February + 1


# ------------------------------------------------------------------------------ transmissions
def report(period: str, status: TransmissionStatus, due_on: date) -> Transmission:
    return Transmission(period, status, due_on)


V, P, M = TransmissionStatus.VALIDATED, TransmissionStatus.PENDING, TransmissionStatus.MODIFIED


def test_transmissions_on_time_or_not_yet_due_are_ok() -> None:
    reports = (
        report("2026-Q3", P, date(2026, 12, 1)),  # due later: not late
        report("2026-Q2", V, date(2026, 7, 10)),
    )
    result = finding(in_order(transmissions=reports), Rule.TRANSMISSIONS)
    assert result.severity is Severity.OK
    assert (
        result.text == "Transmissions à jour (3e trimestre 2026 : à valider d'ici le 1er décembre)."
    )


def test_one_late_transmission_is_watched_two_are_a_risk() -> None:
    one = (
        report("2026-Q3", P, date(2026, 10, 10)),
        report("2026-Q2", V, date(2026, 7, 10)),
        report("2026-Q1", V, date(2026, 4, 10)),
        report("2025-Q4", V, date(2026, 1, 10)),
    )
    result = finding(in_order(transmissions=one), Rule.TRANSMISSIONS)
    assert result.severity is Severity.WATCH
    assert "3e trimestre 2026" in result.text
    two = (one[0], report("2026-Q2", M, date(2026, 7, 10)), *one[2:])
    assert finding(in_order(transmissions=two), Rule.TRANSMISSIONS).severity is Severity.RISK


def test_only_the_last_four_periods_count() -> None:
    old_late = report("2025-Q3", P, date(2025, 10, 10))
    reports = (*[report(f"2026-Q{q}", V, date(2026, 3 * q + 1, 10)) for q in (3, 2, 1)],)
    reports = (*reports, report("2025-Q4", V, date(2026, 1, 10)), old_late)
    assert finding(in_order(transmissions=reports), Rule.TRANSMISSIONS).severity is Severity.OK


def test_no_period_yet_is_ok() -> None:
    result = finding(in_order(), Rule.TRANSMISSIONS)
    assert result.severity is Severity.OK and "Aucune période" in result.text


# ------------------------------------------------------------------------------ signals
def test_an_unacknowledged_difficulty_over_three_working_days_is_watched() -> None:
    # Thursday 26 November: raised Friday 20th is 4 working days, Monday 23rd is 3.
    late = SignalFacts(unresolved=2, oldest_unacknowledged=date(2026, 11, 20))
    result = finding(in_order(difficulties=late), Rule.DIFFICULTIES)
    assert result.severity is Severity.WATCH
    assert result.text.startswith("2 difficultés signalées en cours, dont une sans prise en charge")
    fresh = SignalFacts(unresolved=1, oldest_unacknowledged=date(2026, 11, 23))
    assert finding(in_order(difficulties=fresh), Rule.DIFFICULTIES).severity is Severity.OK
    acknowledged = SignalFacts(unresolved=1, oldest_unacknowledged=None)
    result = finding(in_order(difficulties=acknowledged), Rule.DIFFICULTIES)
    assert result.severity is Severity.OK and result.text == "1 difficulté signalée en cours."


def test_training_needs_follow_the_same_deadline() -> None:
    late = SignalFacts(unresolved=1, oldest_unacknowledged=date(2026, 11, 2))
    result = finding(in_order(training_needs=late), Rule.TRAINING_NEEDS)
    assert result.severity is Severity.WATCH and "besoin de formation" in result.text
    assert finding(in_order(), Rule.TRAINING_NEEDS).text == "Aucun besoin de formation en cours."


# ------------------------------------------------------------------------------ training day
def training(invited: int, attended: int, recorded: bool = True) -> TrainingDayFacts:
    return TrainingDayFacts("Journée annuelle", date(2026, 10, 15), invited, attended, recorded)


def test_nobody_of_the_site_at_the_last_training_day_is_watched() -> None:
    result = finding(in_order(training_day=training(2, 0)), Rule.TRAINING_DAY)
    assert result.severity is Severity.WATCH
    assert result.text == "Personne du site n'est venu à « Journée annuelle » du 15 octobre."


@pytest.mark.parametrize(
    "day",
    [None, training(2, 1), training(0, 0), training(2, 0, recorded=False)],
    ids=["no training day yet", "someone came", "not invited", "attendance not recorded"],
)
def test_training_day_cases_that_are_fine(day: TrainingDayFacts | None) -> None:
    assert finding(in_order(training_day=day), Rule.TRAINING_DAY).severity is Severity.OK


# ------------------------------------------------------------------------------ yearly visit
def test_no_yearly_visit_once_the_convention_is_a_year_old_is_watched() -> None:
    facts = in_order(last_review=None, convention_start=date(2025, 11, 26))
    result = finding(facts, Rule.YEARLY_VISIT)
    assert (
        result.severity is Severity.WATCH and result.text == "Aucune visite annuelle enregistrée."
    )
    young = in_order(last_review=None, convention_start=date(2025, 11, 27))
    assert finding(young, Rule.YEARLY_VISIT).severity is Severity.OK


def test_a_yearly_visit_older_than_twelve_months_is_watched() -> None:
    stale = in_order(last_review=ReviewFacts(date(2025, 11, 26), True, True, True))
    assert finding(stale, Rule.YEARLY_VISIT).severity is Severity.WATCH
    recent = in_order(last_review=ReviewFacts(date(2025, 11, 27), True, True, True))
    assert finding(recent, Rule.YEARLY_VISIT).severity is Severity.OK


def test_points_a_yearly_visit_found_wanting_are_watched_until_answered() -> None:
    review = ReviewFacts(date(2026, 9, 1), premises_ok=False, equipment_ok=True, hours_ok=True)
    missing = MissingPointsFacts(date(2026, 9, 1), ("premises", "accessibility", "signage"))
    facts = in_order(last_review=review, missing_points=missing)
    result = finding(facts, Rule.MISSING_POINTS)
    assert result.severity is Severity.WATCH
    assert result.text == (
        "À revoir depuis la visite du 1er septembre : Locaux, Accessibilité, Signalétique et logo."
    )
    # The visit itself is recent: its own rule is in order, the points are told once.
    assert finding(facts, Rule.YEARLY_VISIT).severity is Severity.OK
    answered = in_order(last_review=review, missing_points=None)
    assert finding(answered, Rule.MISSING_POINTS).severity is Severity.OK


# ------------------------------------------------------------------------------ action plan
def test_overdue_action_items_are_watched() -> None:
    result = finding(in_order(action_plan=ActionPlanFacts(open=3, overdue=1)), Rule.ACTION_PLAN)
    assert result.severity is Severity.WATCH
    assert result.text == "Plan d'action : 3 actions en cours, dont 1 en retard."
    on_time = in_order(action_plan=ActionPlanFacts(open=1, overdue=0))
    assert finding(on_time, Rule.ACTION_PLAN).severity is Severity.OK


# ------------------------------------------------------------------------------ convention
def test_a_notice_deadline_within_two_months_is_watched() -> None:
    # Start 1 March 2025: anniversary 1 March 2027, notice by 1 December 2026, in 5 days.
    result = finding(site(), Rule.CONVENTION)
    assert result.severity is Severity.WATCH
    assert result.text == "Préavis de dénonciation au plus tard le 1er décembre (dans 5 jours)."
    # Start 27 April 2025: notice by 27 January 2027, two months and a day away.
    later = finding(site(convention_start=date(2025, 4, 27)), Rule.CONVENTION)
    assert later.severity is Severity.OK
    edge = finding(site(convention_start=date(2025, 4, 26)), Rule.CONVENTION)
    assert edge.severity is Severity.WATCH


def test_an_unknown_convention_start_is_watched() -> None:
    result = assess(in_order(convention_start=None), TODAY)
    assert result.convention is None
    assert finding(in_order(convention_start=None), Rule.CONVENTION).severity is Severity.WATCH


def test_the_card_dates_after_the_notice_deadline_point_to_the_next_term() -> None:
    # Start 1 January 2025: anniversary 1 January 2027, its notice passed on 1 October 2026.
    dates = assess(in_order(convention_start=date(2025, 1, 1)), TODAY).convention
    assert dates is not None
    assert dates.anniversary == date(2027, 1, 1)
    assert dates.notice_passed_for_current_term
    assert (dates.notice_deadline, dates.notice_anniversary) == (
        date(2027, 10, 1),
        date(2028, 1, 1),
    )


# ------------------------------------------------------------------------------ level and order
def test_the_main_reason_is_the_first_of_the_worst_findings() -> None:
    facts = in_order(
        hours=None, last_visit_on=TODAY - timedelta(days=90), training_day=training(1, 0)
    )
    result = assess(facts, TODAY)
    assert result.level is Severity.RISK and result.mark == "🔴"
    assert result.main is not None and result.main.rule is Rule.HOURS
    assert result.concerns == 3


def test_sites_are_ranked_risk_then_watch_then_ok_then_withdrawn() -> None:
    sites = [
        in_order(partner_id=1, name="Alpha"),
        in_order(partner_id=2, name="Bravo", label_status=LabelStatus.WITHDRAWN),
        in_order(partner_id=3, name="Charlie", hours=None),
        in_order(partner_id=4, name="Delta", action_plan=ActionPlanFacts(1, 1)),
        in_order(partner_id=5, name="alpha bis", hours=None),
    ]
    order = [a.facts.name for a in ranked(assess(s, TODAY) for s in sites)]
    assert order == ["alpha bis", "Charlie", "Delta", "Alpha", "Bravo"]


SEVERITIES = st.sampled_from(list(Severity))
FINDINGS = st.lists(
    st.builds(Finding, st.sampled_from(list(Rule)), SEVERITIES, st.just("…")), max_size=12
)


@given(FINDINGS)
def test_adding_a_risk_finding_never_lowers_the_level_and_makes_it_a_risk(
    findings: list[Finding],
) -> None:
    before = overall(findings)
    after = overall([*findings, Finding(Rule.HOURS, Severity.RISK, "…")])
    assert after >= before and after is Severity.RISK


@given(FINDINGS, st.builds(Finding, st.sampled_from(list(Rule)), SEVERITIES, st.just("…")))
def test_adding_any_finding_never_lowers_the_level(findings: list[Finding], extra: Finding) -> None:
    assert overall([*findings, extra]) >= overall(findings)
    assert overall([*findings, extra]) >= extra.severity


@given(
    silent=st.integers(min_value=0, max_value=400),
    more=st.integers(min_value=0, max_value=400),
    closed=st.integers(min_value=0, max_value=92),
    compliant=st.booleans(),
)
def test_a_longer_silence_never_makes_a_site_look_better(
    silent: int, more: int, closed: int, compliant: bool
) -> None:
    hours = replace(GOOD_HOURS, compliant=compliant)
    base = in_order(hours=hours, closures=ClosureFacts(1 if closed else 0, closed))
    shorter = assess(replace(base, last_visit_on=TODAY - timedelta(days=silent)), TODAY)
    longer = assess(replace(base, last_visit_on=TODAY - timedelta(days=silent + more)), TODAY)
    assert longer.level >= shorter.level
    assert shorter.level == max(f.severity for f in shorter.findings)
