"""An account's proxy pool, from the database, for the venues with ``use_proxy``.

The pool itself (:class:`networking.proxy_pool.ProxyPool`) cannot import the database (they are
sibling layers); this module is where the two meet: it loads the account's proxies (best first;
burned ones stay out), gives the pool a store that writes every health check (egress IP, time,
reason) and every failure (count, ``burned``) back to the account's rows, and checks the pool
before the bot starts, so a proxy that is down is one clear line, not a venue error later.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.proxy_check import configured_check_url
from database.repositories.proxies import (
    get_account_proxies,
    record_proxy_check,
    record_proxy_failure,
)
from networking.proxy_pool import NoUsableProxy, PooledProxy, ProxyPool, ProxyStatus

log = structlog.get_logger(__name__)


class DatabaseProxyStore:
    """Writes what an account's pool learns to its proxy and assignment rows."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], account: str) -> None:
        self._sessions = sessions
        self._account = account

    async def record_check(self, proxy: PooledProxy, error: str | None) -> None:
        async with self._sessions.begin() as session:
            await record_proxy_check(
                session,
                proxy.proxy_id,
                egress_ip=proxy.egress_ip,
                error=error,
                at=proxy.checked_at or datetime.now(UTC),
                account_name=self._account,
            )

    async def record_failure(self, proxy: PooledProxy) -> None:
        async with self._sessions.begin() as session:
            await record_proxy_failure(
                session,
                self._account,
                proxy.proxy_id,
                failures=proxy.failures,
                status=proxy.status,
            )


async def load_proxy_pool(
    sessions: async_sessionmaker[AsyncSession], account: str, *, record: bool = True
) -> ProxyPool:
    """``account``'s proxies as a pool (not checked yet); ``record=False`` writes nothing back
    (``--check`` looks, it does not change the account's state)."""
    async with sessions.begin() as session:
        assigned = await get_account_proxies(session, account)
    proxies = [
        PooledProxy(
            proxy_id=row.proxy_id,
            url=row.url.secret_url(),
            endpoint=row.url.endpoint,
            status=_status(row.status),
            failures=row.failure_count,
            egress_ip=row.egress_ip,
            checked_at=row.last_checked_at,
        )
        for row in assigned
    ]
    return ProxyPool(
        account,
        proxies,
        check_url=configured_check_url(),
        store=DatabaseProxyStore(sessions, account) if record else None,
    )


async def checked_proxy_pool(
    sessions: async_sessionmaker[AsyncSession], account: str, *, record: bool = True
) -> ProxyPool:
    """The pool with a proxy that passed its health check in use.

    :class:`NoUsableProxy` (one line naming the account and every proxy with why it is not
    usable; never a login) when the account has none assigned, all burned, or all down.
    """
    pool = await load_proxy_pool(sessions, account, record=record)
    if not pool.proxies:
        raise NoUsableProxy(
            f"account {account} has no usable proxy (none assigned, or all burned): assign one "
            f"with `python -m database assign-proxy --account {account} --proxy ID|LABEL`"
        )
    chosen = await pool.ensure_checked()
    log.info("proxy in use", account=account, proxy=chosen.endpoint, egress_ip=chosen.egress_ip)
    return pool


def _status(value: str) -> ProxyStatus:
    if value == "standby":
        return "standby"
    return "burned" if value == "burned" else "active"
