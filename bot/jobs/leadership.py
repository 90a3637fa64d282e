"""One instance in charge: the outbox sender, the broadcasts' progress, the scheduler.

Any number of instances may serve updates against one database (webhook mode); the work
that must not be done twice runs in one of them only, the holder of the lease named
`LEASE_NAME` (storage/lease.py). Every instance runs a `Leadership`:

- at start, it registers itself in `instances` (refused: another live instance when this
  one polls, since Telegram hands updates to one poller only; a live poller when this one
  takes webhooks; a live one of the same name), then tries to take the lease at once, so
  a lone instance leads before its first update;
- the leader renews the lease every `lease_seconds / 3`. A renewal that finds the lease
  gone stops the leader's work at once; one that fails (the database unreachable) is
  retried until two thirds of the lease have run since the last success, then the work
  stops too: it has stopped before the lease can pass to anyone (a third of the lease
  spare for the stop itself);
- the others try to take it every `retry_seconds`: the lease is theirs at most
  `lease_seconds + retry_seconds` after the leader's last renewal (6 + 1 s by default);
- taking it runs `on_take` (the sender then puts rows a dead leader left 'sending' back:
  sends in flight at a kill may be duplicated, never lost; the scheduler does the same for
  its 'running' jobs); a clean stop runs `on_lose` and releases it, for an immediate
  takeover.

A leader known dead sooner is replaced sooner: an instance on the same host (same machine,
same process namespace) whose pid no longer exists was killed; its row is forgotten and its
lease taken at once (a crashed bot restarted by systemd leads again at once, whatever the
lease's deadline). On other hosts only the deadline tells.

Times are the database's (storage/lease.py) and, for the pauses, `_elapsed`
(CLOCK_BOOTTIME): never the bot's `Clock`, which tests move by hours.

Every heartbeat also recounts the live instances for the shared send cap (bot/shared_rate.py).

Log lines (tests and operators grep them): INFO "Leadership taken by <name>", WARNING
"Leadership lost by <name>", INFO "Leadership released by <name>" (clean stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.shared_rate import SharedRateLimiter
from storage import lease
from storage.db import Conn, Database
from storage.lease import Instance

log = logging.getLogger(__name__)

#: The lease of the instance in charge.
LEASE_NAME = "leader"
#: Instances silent this long are dropped from `instances` (killed ones leave a row).
FORGET_AFTER_SECONDS = 86_400.0
#: A leader whose renewal failed tries again after this long (within its safe window).
RENEW_RETRY_SECONDS = 0.5

MODES = ("polling", "webhook")


class AnotherInstance(Exception):
    """This instance may not start beside those running; the message is the French line."""


def default_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _host() -> tuple[str, bool]:
    """This machine and process namespace, and whether that is known precisely: the host
    name, the boot's id (two machines may share a name) and the pid namespace (containers
    on one machine may share a name and a boot)."""
    name = socket.gethostname()
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = str(Path("/proc/self/ns/pid").readlink())
    except OSError:
        return name, False
    return f"{name} {boot} {namespace}", True


HOST, HOST_KNOWN = _host()


def _elapsed() -> float:
    """Seconds on a clock that, unlike `time.monotonic`, keeps counting while the machine
    sleeps: a leader suspended past its lease must know it on waking, as the database does."""
    try:
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    except (AttributeError, OSError):  # not Linux
        return time.monotonic()


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def dead_here(instance: Instance) -> bool:
    """True only when `instance` certainly died: it ran on this host and namespace, and its
    pid no longer exists. (A pid reused since only delays that to its lease's deadline.)"""
    return (
        HOST_KNOWN
        and instance.host == HOST
        and instance.pid != os.getpid()
        and not _pid_exists(instance.pid)
    )


def _is_me(instance: Instance, name: str) -> bool:
    return instance.name == name and instance.host == HOST and instance.pid == os.getpid()


class Leadership:
    """This instance's part in choosing the one in charge (see the module's docstring)."""

    def __init__(
        self,
        db: Database,
        *,
        name: str,
        mode: str,
        lease_seconds: float,
        on_take: Callable[[], Awaitable[None]],
        on_lose: Callable[[], Awaitable[None]],
        limiter: SharedRateLimiter | None = None,
        retry_seconds: float = 1.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.db = db
        self.name = name
        self.mode = mode
        self.lease_seconds = lease_seconds
        self.retry_seconds = min(retry_seconds, lease_seconds / 3)
        self._on_take = on_take
        self._on_lose = on_lose
        self._limiter = limiter
        self.leading = False
        self._safe_until = 0.0  # `_elapsed`: the leader's work stops by then without renewal
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    # ------------------------------------------------------------------ public
    async def start(self) -> None:
        """Registers this instance (may raise `AnotherInstance`), tries once to take the
        lease, then keeps at it in a background task."""
        await self._register()
        await self._round()
        self._task = asyncio.create_task(self._run(), name="leadership")

    async def stop(self) -> None:
        """A clean stop: the leader's work ends, then the lease is released."""
        self._stop.set()
        if self._task is not None:
            # Not waited for: a round may be waiting on an unreachable database.
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        leading, self.leading = self.leading, False
        if leading:
            try:
                await self._on_lose()
            except Exception:
                log.exception("Instance %s : arrêt du travail du meneur en erreur", self.name)
        # Whether or not it knew it led (a round cancelled just after taking the lease):
        # `release` lets go only of a lease this instance holds.
        with contextlib.suppress(Exception):
            await lease.release(self.db, LEASE_NAME, self.name)
        if leading:
            log.info("Leadership released by %s", self.name)
        with contextlib.suppress(Exception):
            await lease.forget(self.db, self.name)

    # ------------------------------------------------------------------ start-up
    async def _register(self) -> None:
        # One transaction: of two pollers starting together, the second sees the first.
        async with self.db.transaction() as tx:
            others: list[Instance] = []
            for found in await lease.instances(tx, within_seconds=self.lease_seconds):
                if _is_me(found, self.name):
                    continue
                if dead_here(found):  # its row stays: it tells a successor its lease is free
                    continue
                others.append(found)
            for other in others:
                if other.name == self.name:
                    raise AnotherInstance(
                        f"une instance nommée « {self.name} » tourne déjà (pid {other.pid}) : "
                        "donnez un INSTANCE_NAME différent à chacune"
                    )
            if others and self.mode == "polling":
                other = others[0]
                raise AnotherInstance(
                    f"l'instance « {other.name} » (mode {other.mode}) tourne déjà sur cette "
                    "base : en long polling, une seule instance est possible (arrêtez-la, "
                    "ou passez toutes les instances en mode webhook)"
                )
            # A webhook would cut a poller off from Telegram (getUpdates refused).
            for other in others:
                if other.mode == "polling":
                    raise AnotherInstance(
                        f"l'instance « {other.name} » tourne en long polling sur cette base : "
                        "arrêtez-la avant de démarrer des instances en mode webhook"
                    )
            await lease.forget_silent(tx, for_seconds=FORGET_AFTER_SECONDS)
            await self._heartbeat(tx)

    # ------------------------------------------------------------------ the loop
    async def _run(self) -> None:
        while not self._stop.is_set():
            pause = await self._round()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)

    async def _round(self) -> float:
        """A heartbeat, then a renewal (leader) or a try (others); the pause till the next."""
        sent = _elapsed()
        budget = max(0.05, self._safe_until - sent) if self.leading else self.lease_seconds
        try:
            async with asyncio.timeout(budget):
                await self._heartbeat(self.db)
                if self.leading:
                    held = await lease.renew(self.db, LEASE_NAME, self.name, self.lease_seconds)
                else:
                    held = await self._try_to_take()
        except Exception as exc:  # the database unreachable, slow, or refusing
            return await self._failed(exc)
        if self._failing:
            self._failing = False
            log.info("Base de nouveau joignable (instance %s)", self.name)
        if held:
            self._safe_until = sent + self.lease_seconds * 2 / 3
        if held and not self.leading:
            await self._take()
        elif not held and self.leading:
            log.warning("Bail du meneur repris par une autre instance")
            await self._lose()
        if self.leading:  # a third of the lease from this round's start, however long it took
            return max(0.0, sent + self.lease_seconds / 3 - _elapsed())
        return self.retry_seconds

    async def _failed(self, exc: Exception) -> float:
        if not self._failing:
            self._failing = True
            log.warning(
                "Instance %s : base injoignable pour le bail (%s)", self.name, type(exc).__name__
            )
        if not self.leading:
            return self.retry_seconds
        left = self._safe_until - _elapsed()
        if left <= 0:
            log.warning("Bail du meneur non renouvelé à temps")
            await self._lose()
            return self.retry_seconds
        return min(RENEW_RETRY_SECONDS, left)

    async def _heartbeat(self, conn: Conn) -> None:
        await lease.heartbeat(conn, self.name, mode=self.mode, host=HOST, pid=os.getpid())
        if self._limiter is not None:
            live = await lease.instances(conn, within_seconds=self.lease_seconds)
            self._limiter.share(sum(1 for i in live if not dead_here(i)))

    async def _try_to_take(self) -> bool:
        if await lease.acquire(self.db, LEASE_NAME, self.name, self.lease_seconds):
            return True
        holder = await lease.holder(self.db, LEASE_NAME)
        if holder is None or holder.name == self.name:
            return False
        found = await lease.instance(self.db, holder.name)
        if found is None or not dead_here(found):
            return False
        log.warning("Instance %s arrêtée sans rendre la main : reprise immédiate", holder.name)
        await lease.forget(self.db, holder.name)
        return await lease.acquire(
            self.db, LEASE_NAME, self.name, self.lease_seconds, replacing=holder.name
        )

    async def _take(self) -> None:
        self.leading = True
        log.info("Leadership taken by %s", self.name)
        try:
            await self._on_take()
        except Exception:
            log.exception("Instance %s : démarrage du travail du meneur impossible", self.name)
            await self._lose()
            with contextlib.suppress(Exception):
                await lease.release(self.db, LEASE_NAME, self.name)

    async def _lose(self) -> None:
        self.leading = False
        log.warning("Leadership lost by %s", self.name)
        try:
            await self._on_lose()
        except Exception:
            log.exception("Instance %s : arrêt du travail du meneur en erreur", self.name)
