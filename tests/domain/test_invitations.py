"""The invitation rules: codes too random to guess, failures that pause only their sender
(and, in a storm of them, after one), live links, and one notice for agents who join
together."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from bot.domain import invitations as rules
from bot.domain.invitations import FailureWindow, ThrottleScope
from bot.domain.models import Invitation
from bot.domain.permissions import Role

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ACCOUNT, EVERYONE = ThrottleScope.ACCOUNT, ThrottleScope.EVERYONE


def window(scope: ThrottleScope, failures: int, limit: int, minutes: int | None) -> FailureWindow:
    release = NOW + timedelta(minutes=minutes) if minutes is not None else None
    return FailureWindow(scope, failures, limit, release)


def test_codes_are_144_random_bits_that_no_throttle_is_needed_to_protect() -> None:
    codes = {rules.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(code) == 24 and rules.well_formed(code) for code in codes)
    assert rules.CODE_BYTES * 8 == 144
    # 10 000 live links, a million accounts at five guesses per 15 minutes for a year.
    guesses = 1_000_000 * 5 * 4 * 24 * 365
    assert math.log10(guesses * 10_000 / 2**144) < -28


def test_an_account_waits_only_for_its_own_failures() -> None:
    assert rules.throttle(window(ACCOUNT, 4, 5, None), NOW, share=5) is None
    wait = rules.throttle(window(ACCOUNT, 5, 5, 15), NOW, share=5)
    assert wait is not None and (wait.scope, wait.failures) == (ACCOUNT, 5)
    assert wait.until == NOW + timedelta(minutes=15)
    # The pause is over once enough failures have left the window.
    assert rules.throttle(window(ACCOUNT, 5, 5, 0), NOW, share=5) is None


def test_a_storm_of_wrong_codes_only_shortens_each_accounts_share() -> None:
    calm, storm = window(EVERYONE, 29, 30, None), window(EVERYONE, 30, 30, 10)
    assert rules.account_share(calm, 5) == 5
    assert rules.account_share(storm, 5) == rules.STORM_SHARE == 1
    assert rules.account_share(storm, 1) == 1
    # With no wrong code of its own, an account's codes are looked at, storm or not.
    assert rules.throttle(window(ACCOUNT, 0, 1, None), NOW, share=5) is None
    # One wrong code in a storm: it waits, for the storm's sake…
    wait = rules.throttle(window(ACCOUNT, 1, 1, 15), NOW, share=5)
    assert wait is not None and wait.scope is EVERYONE
    # …and five are its own doing, storm or not.
    wait = rules.throttle(window(ACCOUNT, 5, 1, 12), NOW, share=5)
    assert wait is not None and wait.scope is ACCOUNT


def test_a_link_is_live_until_cancelled_expired_or_used_up() -> None:
    link = Invitation(
        id=1,
        role=Role.AGENT,
        caf_id=1,
        partner_id=2,
        uses_left=1,
        expires_at=NOW + timedelta(days=1),
        created_by=None,
        created_at=NOW,
        revoked_at=None,
    )
    assert rules.is_live(link, NOW)
    assert not rules.is_live(link.model_copy(update={"uses_left": 0}), NOW)
    assert not rules.is_live(link.model_copy(update={"revoked_at": NOW}), NOW)
    assert not rules.is_live(link, NOW + timedelta(days=1))
    cancelled = link.model_copy(update={"revoked_at": NOW})
    assert rules.problem_with(cancelled, NOW) is rules.InvitationProblem.REVOKED


def test_new_agents_are_told_once_quiet_and_never_later_than_the_longest_wait() -> None:
    first = NOW
    assert rules.new_agents_notice_at(first, first) == first + rules.NEW_AGENTS_QUIET
    later = first + timedelta(minutes=7)
    assert rules.new_agents_notice_at(first, later) == later + rules.NEW_AGENTS_QUIET
    much_later = first + timedelta(minutes=29)
    assert rules.new_agents_notice_at(first, much_later) == first + rules.NEW_AGENTS_MAX_WAIT
