"""The rules of 🎓 Formations: the training date a coordinator types, who is trained, the
note a new agent's need closes with, and compliance's finding on untrained people."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.compliance import (
    UNTRAINED_GRACE_DAYS,
    Rule,
    Severity,
    SiteFacts,
    UntrainedPerson,
    assess,
)
from bot.domain.permissions import LabelStatus
from bot.domain.trainings import (
    Training,
    TrainingDateError,
    closing_note,
    is_trained,
    parse_training_day,
)

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("12/03/2026", date(2026, 3, 12)),
        ("hier", date(2026, 11, 25)),
        ("Avant-hier", date(2026, 11, 24)),
        ("aujourd'hui", TODAY),
        ("3 novembre", date(2026, 11, 3)),
        ("15/12", date(2025, 12, 15)),  # no year, ahead: last year's
    ],
)
def test_a_training_date_is_read_looking_back(typed: str, day: date) -> None:
    assert parse_training_day(typed, TODAY) == day


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("demain", "une date passée"),
        ("15/12/2026", "une date passée"),
        ("12/03/1980", "trop ancienne"),
        ("n'importe quoi", "compris"),
    ],
)
def test_a_date_ahead_too_old_or_not_understood_is_refused(typed: str, why: str) -> None:
    with pytest.raises(TrainingDateError, match=why):
        parse_training_day(typed, TODAY)


def training(attended: bool) -> Training:
    return Training(1, 7, "Journée", TODAY, attended, None, 2, datetime(2026, 11, 26, tzinfo=UTC))


def test_trained_means_present_at_one_training_at_least() -> None:
    assert not is_trained([])
    assert not is_trained([training(False)])
    assert is_trained([training(False), training(True)])
    assert training(True).by_hand


def test_the_closing_note_says_which_training_and_when() -> None:
    note = closing_note("Journée annuelle", date(2026, 12, 15))
    assert note == "Formation suivie : « Journée annuelle » le 15/12/2026. Clos automatiquement."


def site(*untrained: UntrainedPerson) -> SiteFacts:
    return SiteFacts(
        partner_id=1,
        name="Mairie de Ham",
        city="Ham",
        label_status=LabelStatus.ACTIVE,
        label_since=date(2025, 3, 1),
        created_on=date(2025, 3, 1),
        untrained=untrained,
    )


def trained_finding(facts: SiteFacts) -> tuple[Severity, str]:
    [found] = [f for f in assess(facts, TODAY).findings if f.rule is Rule.TRAINED]
    return found.severity, found.text


def test_compliance_lists_untrained_people_and_watches_once_the_grace_is_over() -> None:
    assert trained_finding(site()) == (
        Severity.OK,
        "Toutes les personnes du site sont formées.",
    )
    newcomer = UntrainedPerson("Agnès", TODAY - timedelta(days=UNTRAINED_GRACE_DAYS - 1))
    assert trained_finding(site(newcomer)) == (
        Severity.OK,
        "1 personne jamais formée : Agnès.",
    )
    settled = replace(newcomer, name="Marc", since=TODAY - timedelta(days=UNTRAINED_GRACE_DAYS))
    assert trained_finding(site(newcomer, settled)) == (
        Severity.WATCH,
        "2 personnes jamais formées : Agnès, Marc.",
    )
