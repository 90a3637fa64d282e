"""The per-account limit (bot/domain/rate_limit.py), with explicit times in seconds."""

from __future__ import annotations

import pytest

from bot.domain.rate_limit import STATUS_SECONDS, Account, Accounts, Limit, Verdict

REGISTERED = Limit(burst=20, seconds=10)  # drains 2 a second
STRANGER = Limit(burst=5, seconds=30)  # drains 1 every 6 s


def take(account: Account, now: float, *, ahead: bool = True) -> Verdict:
    return account.take(now, ahead=ahead, registered=REGISTERED, stranger=STRANGER)


def burst(account: Account, now: float, count: int) -> list[Verdict]:
    return [take(account, now) for _ in range(count)]


def stranger() -> Account:
    account = Account()
    account.classify(False, 0.0)
    return account


def registered() -> Account:
    account = Account()
    account.classify(True, 0.0)
    return account


def test_someone_who_waits_for_each_answer_is_never_limited() -> None:
    account = stranger()
    verdicts = [take(account, n * 0.001, ahead=False) for n in range(10_000)]
    assert set(verdicts) == {Verdict.PASS}


def test_a_stranger_s_burst_passes_five_then_warns_once_then_drops_silently() -> None:
    account = stranger()
    verdicts = burst(account, 100.0, 150)
    assert verdicts[:5] == [Verdict.PASS] * 5
    assert verdicts[5] == Verdict.WARN
    assert verdicts[6:] == [Verdict.DROP] * 144


def test_a_registered_person_may_send_twenty_ahead() -> None:
    account = registered()
    verdicts = burst(account, 100.0, 25)
    assert verdicts.count(Verdict.PASS) == 20
    assert verdicts[20] == Verdict.WARN


def test_the_allowance_comes_back_at_burst_per_window() -> None:
    account = stranger()
    burst(account, 0.0, 6)  # five in, one warned
    assert take(account, 5.9) == Verdict.DROP  # 0.98 of an update drained: not yet
    assert take(account, 6.0) == Verdict.PASS  # one every 6 s
    assert take(account, 6.0) == Verdict.DROP
    assert burst(account, 36.0, 5) == [Verdict.PASS] * 5  # empty after 30 s: all five
    assert take(account, 36.0) == Verdict.WARN  # a new window: told again


def test_the_warning_comes_once_per_window() -> None:
    account = stranger()
    assert burst(account, 0.0, 6)[-1] == Verdict.WARN
    # Still flooding: each new update finds the bucket full, the warning already given.
    assert {take(account, t / 10) for t in range(1, 300)} <= {Verdict.DROP, Verdict.PASS}
    assert Verdict.WARN in {take(account, 30.0 + t / 10) for t in range(0, 100)}


def test_updates_sent_after_the_answer_do_not_fill_the_bucket_but_it_drains() -> None:
    account = stranger()
    burst(account, 0.0, 5)
    for t in range(1, 12):  # waiting for each answer, for 11 s: still served
        assert take(account, float(t), ahead=False) == Verdict.PASS
    assert take(account, 12.0) == Verdict.PASS  # two drained by now
    assert take(account, 12.0) == Verdict.PASS
    assert take(account, 12.0) == Verdict.WARN


def test_an_account_not_yet_looked_up_is_asked_for_only_when_it_would_be_dropped() -> None:
    account = Account()
    assert burst(account, 0.0, 5) == [Verdict.PASS] * 5  # the strangers' limit, no lookup
    assert take(account, 0.0) == Verdict.ASK
    assert take(account, 0.0) == Verdict.ASK  # asking counted nothing
    account.classify(True, 0.0)
    assert burst(account, 0.0, 15) == [Verdict.PASS] * 15  # the registered limit, 5 used
    assert take(account, 0.0) == Verdict.WARN


def test_a_stranger_once_looked_up_is_not_asked_again_for_a_while() -> None:
    account = Account()
    burst(account, 0.0, 5)
    assert take(account, 0.0) == Verdict.ASK
    account.classify(False, 0.0)
    assert take(account, 0.0) == Verdict.WARN
    assert take(account, STATUS_SECONDS - 1) == Verdict.PASS  # drained meanwhile
    burst(account, STATUS_SECONDS - 1, 4)
    assert take(account, STATUS_SECONDS - 1) == Verdict.WARN
    burst(account, STATUS_SECONDS, 10)
    assert take(account, STATUS_SECONDS + 0.5) == Verdict.ASK  # the answer is too old


def test_a_registered_person_keeps_the_registered_limit_until_asked_again() -> None:
    account = registered()
    late = STATUS_SECONDS + 10
    assert burst(account, late, 20) == [Verdict.PASS] * 20  # not demoted on age alone
    assert take(account, late) == Verdict.ASK
    account.classify(False, late)  # revoked meanwhile
    assert take(account, late) == Verdict.WARN


def test_a_start_command_makes_the_status_worth_asking_again() -> None:
    account = stranger()
    burst(account, 0.0, 5)
    account.forget_status()
    assert take(account, 0.0) == Verdict.ASK


def test_time_never_goes_back_into_the_bucket() -> None:
    account = stranger()
    burst(account, 10.0, 5)
    assert take(account, 4.0) == Verdict.WARN  # an earlier time drains nothing


@pytest.mark.parametrize(("burst_", "seconds"), [(0, 10.0), (5, 0.0), (5, -1.0)])
def test_a_limit_needs_a_burst_and_a_window(burst_: int, seconds: float) -> None:
    with pytest.raises(ValueError, match="invalid limit"):
        Limit(burst_, seconds)


def test_the_table_forgets_the_least_recently_seen_account() -> None:
    table = Accounts(size=3)
    first = table.get(1)
    table.get(2)
    table.get(3)
    assert table.get(1) is first  # seen again: now the most recent
    table.get(4)
    assert len(table) == 3
    assert 2 not in table
    assert 1 in table and 3 in table and 4 in table
