"""How many updates one account may send ahead of the bot's answers (issue #16, item 8).

A leaky bucket per Telegram account, checked before any handler: each update a person sends
while an earlier one of theirs is still waiting or being handled fills their bucket by one;
the bucket drains at `burst / seconds` a second; an update that would overflow it is
dropped. A person who waits for the bot's answer before sending again (every human using
buttons, the tests' FakeUsers, the benchmarks' agents) never fills it: each of their updates
finds nothing of theirs in the bot. A burst does: 150 messages sent at once, a button hit
ten times. Such an account can hold one of the bot's handling slots at a time (its updates
are handled in order), but not fill Telegram's 30 calls a second with answers.

Registered people and strangers get different limits. Who is who costs no database query
per update: everyone is held to the stricter strangers' limit until they would overflow it,
and only then is the account looked up (`Verdict.ASK`), its answer kept for
`STATUS_SECONDS`. Nearly everyone never reaches that point, so is never looked up.

Times are seconds of a monotonic clock (the caller's); nothing here reads a clock.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from enum import Enum

#: How long an account's "registered or stranger" answer is trusted before the next lookup.
STATUS_SECONDS = 300.0
#: Accounts remembered at most; the least recently seen is forgotten first.
TABLE_SIZE = 10_000


@dataclass(frozen=True)
class Limit:
    """`burst` updates ahead of the answers at once; a full bucket empties in `seconds`."""

    burst: int
    seconds: float

    def __post_init__(self) -> None:
        if self.burst < 1 or self.seconds <= 0:
            raise ValueError(f"invalid limit: {self.burst} updates per {self.seconds} s")

    @property
    def per_second(self) -> float:
        return self.burst / self.seconds


class Verdict(Enum):
    PASS = "pass"
    # Dropped, and the person is told (once per window of their limit).
    WARN = "warn"
    # Dropped silently: they were told already.
    DROP = "drop"
    # Would be dropped under the strangers' limit: say whether the account is registered
    # (`Account.classify`), then ask again. Nothing was counted.
    ASK = "ask"


@dataclass
class Account:
    """One Telegram account's bucket, and whether it was found registered."""

    level: float = 0.0  # updates in the bucket
    at: float = -math.inf  # when `level` was last brought up to date
    warned_until: float = -math.inf  # no new warning before this
    registered: bool | None = None  # None: not looked up (held to the strangers' limit)
    classified_at: float = -math.inf

    def classify(self, registered: bool, now: float) -> None:
        self.registered = registered
        self.classified_at = now

    def forget_status(self) -> None:
        """Their status may have changed (a /start with a code): look it up when it matters."""
        self.classified_at = -math.inf

    def _status_known(self, now: float) -> bool:
        return self.registered is not None and now - self.classified_at < STATUS_SECONDS

    def take(self, now: float, *, ahead: bool, registered: Limit, stranger: Limit) -> Verdict:
        """One update from this account at `now`; `ahead`: another of theirs is still in
        the bot (waiting or being handled)."""
        # Registered when last looked up: not demoted before being looked up again.
        limit = registered if self.registered else stranger
        level = max(0.0, self.level - max(0.0, now - self.at) * limit.per_second)
        if not ahead:
            self.level, self.at = level, now
            return Verdict.PASS
        if level + 1 <= limit.burst:
            self.level, self.at = level + 1, now
            return Verdict.PASS
        if not self._status_known(now):
            return Verdict.ASK
        self.level, self.at = level, now
        if now >= self.warned_until:
            self.warned_until = now + limit.seconds
            return Verdict.WARN
        return Verdict.DROP


@dataclass
class Accounts:
    """The accounts seen lately, at most `size` of them (least recently seen forgotten)."""

    size: int = TABLE_SIZE
    _table: OrderedDict[Hashable, Account] = field(default_factory=OrderedDict)

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._table

    def get(self, key: Hashable) -> Account:
        account = self._table.get(key)
        if account is None:
            account = self._table[key] = Account()
            while len(self._table) > self.size:
                self._table.popitem(last=False)
        else:
            self._table.move_to_end(key)
        return account
