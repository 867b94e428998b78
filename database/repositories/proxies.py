"""Proxies (login encrypted) and their assignment to accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.redaction import Secret
from database.crypto.cipher import seal_fields, unseal_fields
from database.crypto.contexts import proxy_context
from database.crypto.keyring import resolve_key
from database.crypto.keys import MasterKey
from database.errors import AlreadyExists, InvalidInput, NotFound, SecretTampered
from database.models import Account, AccountProxyAssignment, Proxy
from database.models.proxies import ASSIGNMENT_STATUSES
from database.proxy_url import ProxyUrl
from database.repositories.accounts import find_account


@dataclass(frozen=True)
class ProxySummary:
    """What ``proxies list`` shows: where the proxy is and whether it has a login, not the login."""

    id: int
    label: str | None
    endpoint: str
    has_auth: bool
    accounts: list[str]
    egress_ip: str | None = None
    last_checked_at: datetime | None = None
    last_check_error: str | None = None


@dataclass(frozen=True)
class AccountProxy:
    """A proxy assigned to an account, login decrypted, for the networking layer."""

    proxy_id: int
    label: str | None
    url: ProxyUrl
    priority: int
    status: str
    last_checked_at: datetime | None
    failure_count: int = 0
    egress_ip: str | None = None
    last_check_error: str | None = None


async def add_proxy(
    session: AsyncSession, url: ProxyUrl, *, label: str | None = None, key: MasterKey | None = None
) -> Proxy:
    """Store a proxy; its user name and password are sealed together, bound to the endpoint."""
    if label is not None:
        if not label or label.isdigit() or len(label) > 64:
            raise InvalidInput("invalid proxy label: use 1-64 characters, not only digits")
        if await session.scalar(select(Proxy.id).where(Proxy.label == label)):
            raise AlreadyExists(f"a proxy labelled {label!r} already exists")
    proxy = Proxy(label=label, scheme=url.scheme, host=url.host, port=url.port)
    session.add(proxy)
    await session.flush()  # the id is part of the blob's context
    if url.username is not None:
        active = await resolve_key(session, writing=True, key=key)
        login = {"username": url.username.reveal()}
        if url.password is not None:
            login["password"] = url.password.reveal()
        proxy.auth_blob = seal_fields(active, login, proxy_context(proxy))
        await session.flush()
    return proxy


async def find_proxy(session: AsyncSession, ref: str) -> Proxy:
    """A proxy by id (all digits) or label."""
    query = select(Proxy).where(Proxy.id == int(ref) if ref.isdigit() else Proxy.label == ref)
    proxy = await session.scalar(query)
    if proxy is None:
        raise NotFound(f"unknown proxy {ref!r}: give its id or label (see `proxies list`)")
    return proxy


async def find_proxy_at(session: AsyncSession, url: ProxyUrl) -> Proxy | None:
    """The stored proxy at ``url``'s scheme, host and port, if any (logins are not compared)."""
    proxy: Proxy | None = await session.scalar(
        select(Proxy).where(
            Proxy.scheme == url.scheme, Proxy.host == url.host, Proxy.port == url.port
        )
    )
    return proxy


async def list_proxies(session: AsyncSession) -> list[ProxySummary]:
    proxies = (await session.scalars(select(Proxy).order_by(Proxy.id))).all()
    assigned = (
        await session.execute(
            select(AccountProxyAssignment.proxy_id, Account.name)
            .join(Account, Account.id == AccountProxyAssignment.account_id)
            .order_by(Account.name)
        )
    ).all()
    return [
        ProxySummary(
            id=proxy.id,
            label=proxy.label,
            endpoint=_endpoint(proxy),
            has_auth=proxy.auth_blob is not None,
            accounts=[name for proxy_id, name in assigned if proxy_id == proxy.id],
            egress_ip=proxy.egress_ip,
            last_checked_at=proxy.last_checked_at,
            last_check_error=proxy.last_check_error,
        )
        for proxy in proxies
    ]


async def remove_proxy(session: AsyncSession, ref: str) -> Proxy:
    """Delete a proxy and its assignments."""
    proxy = await find_proxy(session, ref)
    await session.delete(proxy)
    await session.flush()
    return proxy


async def assign_proxy(
    session: AsyncSession,
    account_name: str,
    proxy_ref: str,
    *,
    priority: int = 0,
    status: str = "active",
) -> AccountProxyAssignment:
    """Assign a proxy to an account, or update the priority/status of an existing assignment."""
    if status not in ASSIGNMENT_STATUSES:
        raise InvalidInput(
            f"invalid proxy status {status!r}: expected one of {', '.join(ASSIGNMENT_STATUSES)}"
        )
    account = await find_account(session, account_name)
    proxy = await find_proxy(session, proxy_ref)
    assignment = await session.scalar(
        select(AccountProxyAssignment).where(
            AccountProxyAssignment.account_id == account.id,
            AccountProxyAssignment.proxy_id == proxy.id,
        )
    )
    if assignment is None:
        assignment = AccountProxyAssignment(account_id=account.id, proxy_id=proxy.id)
        session.add(assignment)
    assignment.priority = priority
    assignment.status = status
    await session.flush()
    return assignment


async def get_account_proxies(
    session: AsyncSession, account_name: str, *, key: MasterKey | None = None
) -> list[AccountProxy]:
    """An account's proxies, best first (active before standby before burned, then priority)."""
    account = await find_account(session, account_name)
    rows = sorted(
        (
            await session.execute(
                select(AccountProxyAssignment, Proxy)
                .join(Proxy, Proxy.id == AccountProxyAssignment.proxy_id)
                .where(AccountProxyAssignment.account_id == account.id)
            )
        ).tuples(),
        key=lambda row: (ASSIGNMENT_STATUSES.index(row[0].status), row[0].priority, row[1].id),
    )
    active = None
    result = []
    for assignment, proxy in rows:
        username = password = None
        if proxy.auth_blob is not None:
            active = active or await resolve_key(session, writing=False, key=key)
            login = unseal_fields(active, proxy.auth_blob, proxy_context(proxy))
            if "username" not in login:
                raise SecretTampered(f"stored login of proxy {proxy.id} has no user name")
            username = Secret(login["username"])
            password = Secret(login["password"]) if "password" in login else None
        result.append(
            AccountProxy(
                proxy_id=proxy.id,
                label=proxy.label,
                url=ProxyUrl(proxy.scheme, proxy.host, proxy.port, username, password),
                priority=assignment.priority,
                status=assignment.status,
                last_checked_at=assignment.last_checked_at,
                failure_count=assignment.failure_count,
                egress_ip=proxy.egress_ip,
                last_check_error=proxy.last_check_error,
            )
        )
    return result


async def record_proxy_check(
    session: AsyncSession,
    proxy_id: int,
    *,
    egress_ip: str | None,
    error: str | None,
    at: datetime,
    account_name: str | None = None,
) -> None:
    """A health check of proxy ``proxy_id`` ended (``error`` None: passed, through ``egress_ip``).

    ``error`` is a reason the check built (never the login); it is cut to the column's size.
    With ``account_name`` the account's assignment records the check time and, when it
    passed, its failure count restarts at zero (failures are counted consecutively).
    """
    proxy = await session.get(Proxy, proxy_id)
    if proxy is None:
        return  # removed meanwhile: nothing to record
    proxy.last_checked_at = at
    proxy.last_check_error = error[:200] if error is not None else None
    if error is None:
        proxy.egress_ip = egress_ip
    if account_name is not None:
        assignment = await _assignment(session, account_name, proxy_id)
        if assignment is not None:
            assignment.last_checked_at = at
            if error is None:
                assignment.failure_count = 0
    await session.flush()


async def record_proxy_failure(
    session: AsyncSession, account_name: str, proxy_id: int, *, failures: int, status: str
) -> None:
    """Proxy ``proxy_id`` failed account ``account_name`` ``failures`` times in a row; ``status``
    is what the pool made of it (``burned`` at its limit or on a venue ban)."""
    if status not in ASSIGNMENT_STATUSES:
        raise InvalidInput(f"invalid proxy status {status!r}")
    assignment = await _assignment(session, account_name, proxy_id)
    if assignment is None:
        return
    assignment.failure_count = failures
    assignment.status = status
    await session.flush()


async def _assignment(
    session: AsyncSession, account_name: str, proxy_id: int
) -> AccountProxyAssignment | None:
    assignment: AccountProxyAssignment | None = await session.scalar(
        select(AccountProxyAssignment)
        .join(Account, Account.id == AccountProxyAssignment.account_id)
        .where(Account.name == account_name, AccountProxyAssignment.proxy_id == proxy_id)
    )
    return assignment


def _endpoint(proxy: Proxy) -> str:
    return ProxyUrl(proxy.scheme, proxy.host, proxy.port, None, None).endpoint
