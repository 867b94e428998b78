"""One account's outbound proxies: which one carries traffic now, and what to do when it fails.

A user running several accounts from one host gives each account its own proxies, so venues
see each account from its own address. :class:`ProxyPool` holds an account's proxies in the
order the database gives them (active before standby, then priority; burned ones are left
out) and routes every REST session and WebSocket of that account's clients through the
*current* one:

* **before first use** each proxy is health-checked through itself
  (:func:`networking.proxy_check.check_proxy`), which also reads its egress IP;
* **periodically** (``check_interval``, while a transport uses the pool) the current proxy is
  checked again, and proxies that were down are re-checked so they can serve again; the
  monitor runs under a :class:`~core.tasks.TaskSupervisor`: a round that fails (the store's
  database down, say) is logged with its traceback and the monitor starts again, its next
  round one interval later;
* **on a connection failure** reported by a transport: a proxy that refuses connections is
  failed over at once; a failure that could be the venue's (a dropped connection, a timeout,
  the proxy unable to reach the venue) is failed over only when a health check of the proxy
  fails too - a venue outage must not burn every proxy of the account;
* **on a venue ban** (HTTP 403/451 through the proxy) the proxy is burned at once.

A failed proxy's consecutive failures are counted (a passing check resets them); at
``burn_after`` it is marked ``burned``. Every change is written through a :class:`ProxyStore`
(the database, wired by the runtime; this layer cannot import it) and logged as one line naming
the account and the proxy's ``scheme://host:port`` - never its login.

Why a :class:`~core.redaction.Secret`: every venue client already passes
``ClientSettings.proxy_url`` (a ``Secret``) to its transports. The pool *is* that secret - its
:meth:`reveal` is the current proxy's URL - so the transports recognise it and fail over, and
no venue client had to change. Its ``repr``/``str`` stay ``***``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from core.errors import VenueUnavailable
from core.logging_setup import get_logger
from core.proxy_check import (
    DEFAULT_CHECK_TIMEOUT,
    DEFAULT_CHECK_URL,
    ProxyCheckFailed,
    check_proxy,
)
from core.redaction import Secret, scrub
from core.tasks import TaskSupervisor

log = get_logger(__name__)

ProxyStatus = Literal["active", "standby", "burned"]
DEFAULT_CHECK_INTERVAL = 300.0
DEFAULT_BURN_AFTER = 3


@dataclass(eq=False)
class PooledProxy:
    """One proxy of the pool; ``url`` carries the login, ``endpoint`` is safe to show."""

    proxy_id: int
    url: Secret
    endpoint: str
    status: ProxyStatus = "active"
    failures: int = 0
    """Consecutive failures for this account (a passing check resets them)."""
    egress_ip: str | None = None
    checked_at: datetime | None = None
    down: bool = False
    """Failed its last check or connection: skipped until a check passes again."""
    last_error: str | None = None
    """Why its last check failed (safe to show: never the login); None when it passed."""

    @property
    def usable(self) -> bool:
        return self.status != "burned" and not self.down


class ProxyStore(Protocol):
    """Where the pool records what it learns (the runtime writes it to the database)."""

    async def record_check(self, proxy: PooledProxy, error: str | None) -> None:
        """A health check ended: ``proxy.egress_ip``/``checked_at`` are set; ``error`` or None."""

    async def record_failure(self, proxy: PooledProxy) -> None:
        """``proxy.failures`` / ``proxy.status`` changed."""


class NoUsableProxy(VenueUnavailable):
    """Every proxy of the account is down or burned: the account has no route to its venues."""


class ProxyPool(Secret):
    """An account's proxies and the one in use; see the module docstring."""

    def __init__(
        self,
        account: str,
        proxies: Sequence[PooledProxy],
        *,
        check_url: str = DEFAULT_CHECK_URL,
        check_timeout: float = DEFAULT_CHECK_TIMEOUT,
        check_interval: float = DEFAULT_CHECK_INTERVAL,
        burn_after: int = DEFAULT_BURN_AFTER,
        store: ProxyStore | None = None,
    ) -> None:
        # Secret.__init__ is not called: the pool holds no single value; each proxy's URL is
        # its own registered Secret.
        self._value = ""
        self.account = account
        self.proxies = [proxy for proxy in proxies if proxy.status != "burned"]
        self.check_url = check_url
        self.check_timeout = check_timeout
        self.check_interval = check_interval
        self.burn_after = burn_after
        self._store = store
        self._current: PooledProxy | None = None
        self._checked = False
        self._lock = asyncio.Lock()
        self._users = 0
        self._monitor: asyncio.Task[None] | None = None
        self._tasks = self._supervisor()
        self.monitor_restarts = 0
        """Monitor rounds that failed (each one logged, the monitor started again)."""
        self.failovers = 0
        """How many times traffic moved to another proxy."""

    # -- Secret --------------------------------------------------------------------------

    def reveal(self) -> str:
        """The current proxy's URL (login included): only for building a connector."""
        return self.current.url.reveal()

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    # -- which proxy ---------------------------------------------------------------------

    @property
    def current(self) -> PooledProxy:
        """The proxy traffic goes through now; :class:`NoUsableProxy` when none is left."""
        if self._current is None:
            raise NoUsableProxy(f"account {self.account}: {self._none_left()}")
        return self._current

    @property
    def peek(self) -> PooledProxy | None:
        """The proxy that would be used (first usable), without checking it: for ``--check``."""
        return self._current or next((p for p in self.proxies if p.usable), None)

    async def ensure_checked(self) -> PooledProxy:
        """Check proxies in order until one passes (once); :class:`NoUsableProxy` if none."""
        async with self._lock:
            if not self._checked:
                self._checked = True
                await self._select(exclude=None)
            return self.current

    # -- failures ------------------------------------------------------------------------

    async def report_connection_failure(
        self, proxy: PooledProxy, reason: str, *, verify: bool
    ) -> bool:
        """A transport could not get through ``proxy``; True when traffic moved to another.

        ``verify``: the failure may be the venue's, so the proxy is only failed over when a
        health check through it fails too.
        """
        async with self._lock:
            if proxy is not self._current:
                return self._current is not None  # already failed over by another transport
            if verify and await self._check(proxy):
                return False
            await self._fail(proxy, reason, burn=False)
            await self._select(exclude=proxy)
            return self._current is not None

    async def report_ban(self, proxy: PooledProxy, reason: str) -> bool:
        """The venue refused ``proxy``'s address: burn it; True when traffic moved."""
        async with self._lock:
            if proxy is not self._current:
                return self._current is not None
            await self._fail(proxy, reason, burn=True)
            await self._select(exclude=proxy)
            return self._current is not None

    # -- periodic check ------------------------------------------------------------------

    def acquire(self) -> None:
        """A transport starts using the pool: the periodic check runs while anyone does."""
        self._users += 1
        if self._monitor is None and self.check_interval > 0:
            self._monitor = self._tasks.spawn(self._watch(), name="monitor")

    async def release(self) -> None:
        self._users = max(0, self._users - 1)
        if self._users == 0 and self._monitor is not None:
            self._monitor = None
            # Cancelled and awaited; a fresh supervisor serves the next acquire().
            tasks, self._tasks = self._tasks, self._supervisor()
            await tasks.aclose()

    def _supervisor(self) -> TaskSupervisor:
        return TaskSupervisor(f"proxy-pool:{self.account}", on_failure=self._monitor_died)

    def _monitor_died(self, task: str, error: BaseException) -> None:
        """A round failed (logged with its traceback): trading goes on, the monitor too."""
        if self._monitor is not None and self._users > 0:
            self.monitor_restarts += 1
            log.warning("proxy monitor restarted", account=self.account, error=scrub(repr(error)))
            self._monitor = self._tasks.spawn(self._watch(), name=task)

    async def check_now(self) -> None:
        """One periodic round: re-check the current proxy and revive down ones that pass."""
        async with self._lock:
            current = self._current
            if current is not None and not await self._check(current):
                await self._fail(current, current.last_error or "check failed", burn=False)
                await self._select(exclude=current)
            for proxy in self.proxies:
                revivable = proxy.down and proxy.status != "burned" and proxy is not current
                if revivable and not await self._check(proxy):
                    await self._fail(proxy, proxy.last_error or "check failed", burn=False)
            if self._current is None:
                await self._select(exclude=None)

    async def _watch(self) -> None:
        """Wait an interval, then a round; a round that raises ends the task (supervised)."""
        while True:
            await asyncio.sleep(self.check_interval)
            await self.check_now()

    # -- internals (called with the lock held) -------------------------------------------

    async def _select(self, *, exclude: PooledProxy | None) -> None:
        """Make the first usable proxy that passes a check current (or none)."""
        previous = self._current
        self._current = None
        for proxy in self.proxies:
            if proxy is exclude or not proxy.usable:
                continue
            if not await self._check(proxy):
                await self._fail(proxy, proxy.last_error or "check failed", burn=False)
                continue
            self._current = proxy
            break
        if previous is not None and self._current is not previous:
            self.failovers += 1
            log.warning(
                "proxy failover",
                account=self.account,
                proxy=previous.endpoint,
                now=self._current.endpoint if self._current else "none",
            )
        if self._current is None:
            log.error("no usable proxy", account=self.account, detail=self._none_left())

    async def _check(self, proxy: PooledProxy) -> bool:
        """Health-check ``proxy`` through itself; records the result; True when it passed."""
        error: str | None = None
        try:
            proxy.egress_ip = await check_proxy(
                proxy.url, check_url=self.check_url, within=self.check_timeout
            )
        except ProxyCheckFailed as exc:
            error = scrub(str(exc))
        proxy.checked_at = datetime.now(UTC)
        proxy.down = error is not None
        proxy.last_error = error
        if error is None:
            proxy.failures = 0
        await self._record(self._store.record_check(proxy, error) if self._store else None)
        return error is None

    async def _fail(self, proxy: PooledProxy, reason: str, *, burn: bool) -> None:
        proxy.down = True
        proxy.failures += 1
        if burn or proxy.failures >= self.burn_after:
            proxy.status = "burned"
        log.warning(
            "proxy failed",
            account=self.account,
            proxy=proxy.endpoint,
            reason=scrub(reason),
            failures=proxy.failures,
            status=proxy.status,
        )
        await self._record(self._store.record_failure(proxy) if self._store else None)

    async def _record(self, write: Awaitable[None] | None) -> None:
        """Write through the store; a database hiccup must not stop the failover."""
        if write is None:
            return
        try:
            await write
        except Exception as exc:
            log.warning("proxy state not recorded", account=self.account, error=type(exc).__name__)

    def _none_left(self) -> str:
        if not self.proxies:
            return "no usable proxy assigned (all burned or none)"
        states = ", ".join(
            f"{p.endpoint} {p.status if p.status == 'burned' else 'down'}"
            + (f" ({p.last_error})" if p.last_error and p.status != "burned" else "")
            for p in self.proxies
        )
        return f"no usable proxy: {states}"
