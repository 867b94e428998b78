"""Proxies: encrypted logins bound to their endpoint, assignments and ordering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.redaction import scrub
from database.errors import AlreadyExists, InvalidInput, NotFound, SecretTampered
from database.models import AccountProxyAssignment, Proxy
from database.proxy_url import parse_proxy_url
from database.repositories.proxies import (
    add_proxy,
    assign_proxy,
    get_account_proxies,
    list_proxies,
    record_proxy_check,
    record_proxy_failure,
    remove_proxy,
)
from tests.database.conftest import add_binance

PASSWORD = "pr0xy-p4ssword-xyz"


async def _setup(session: AsyncSession) -> None:
    await add_binance(session)
    await add_proxy(
        session, parse_proxy_url(f"socks5://user1:{PASSWORD}@10.0.0.1:1080"), label="eu"
    )
    await add_proxy(session, parse_proxy_url("http://10.0.0.2:3128"), label="open")
    await add_proxy(session, parse_proxy_url("http://user3:pw3-long-enough@10.0.0.3:3128"))


async def test_login_is_encrypted_and_returned_as_secrets(db_session: AsyncSession) -> None:
    await _setup(db_session)
    row = await db_session.scalar(select(Proxy).where(Proxy.label == "eu"))
    assert row is not None
    assert row.auth_blob is not None
    assert PASSWORD.encode() not in row.auth_blob
    assert b"user1" not in row.auth_blob
    assert (row.scheme, row.host, row.port) == ("socks5", "10.0.0.1", 1080)

    await assign_proxy(db_session, "alice", "eu")
    [proxy] = await get_account_proxies(db_session, "alice")
    assert proxy.url.username is not None
    assert proxy.url.password is not None
    assert (proxy.url.username.reveal(), proxy.url.password.reveal()) == ("user1", PASSWORD)
    assert PASSWORD not in repr(proxy)


async def test_list_shows_auth_flag_and_accounts_only(db_session: AsyncSession) -> None:
    await _setup(db_session)
    await assign_proxy(db_session, "alice", "open")
    summaries = await list_proxies(db_session)
    assert [(p.label, p.endpoint, p.has_auth, p.accounts) for p in summaries] == [
        ("eu", "socks5://10.0.0.1:1080", True, []),
        ("open", "http://10.0.0.2:3128", False, ["alice"]),
        (None, "http://10.0.0.3:3128", True, []),
    ]


async def test_assignments_order_and_update(db_session: AsyncSession) -> None:
    await _setup(db_session)
    await assign_proxy(db_session, "alice", "eu", priority=5)
    await assign_proxy(db_session, "alice", "open", priority=1, status="standby")
    third = await assign_proxy(db_session, "alice", "3", priority=0, status="burned")
    assert third.proxy_id == 3
    assert [p.label for p in await get_account_proxies(db_session, "alice")] == ["eu", "open", None]

    await assign_proxy(db_session, "alice", "open", priority=0, status="active")  # update in place
    assert [p.label for p in await get_account_proxies(db_session, "alice")] == ["open", "eu", None]
    assert await db_session.scalar(select(func.count()).select_from(AccountProxyAssignment)) == 3


async def test_bad_references_and_labels(db_session: AsyncSession) -> None:
    await _setup(db_session)
    with pytest.raises(NotFound, match="unknown proxy 'nope'"):
        await assign_proxy(db_session, "alice", "nope")
    with pytest.raises(NotFound, match="unknown account 'ghost'"):
        await assign_proxy(db_session, "ghost", "eu")
    with pytest.raises(InvalidInput, match="invalid proxy status"):
        await assign_proxy(db_session, "alice", "eu", status="retired")
    with pytest.raises(AlreadyExists):
        await add_proxy(db_session, parse_proxy_url("http://10.9.9.9:80"), label="eu")
    with pytest.raises(InvalidInput, match="not only digits"):
        await add_proxy(db_session, parse_proxy_url("http://10.9.9.9:80"), label="42")


async def test_remove_by_label_or_id_drops_assignments(db_session: AsyncSession) -> None:
    await _setup(db_session)
    await assign_proxy(db_session, "alice", "eu")
    await remove_proxy(db_session, "eu")
    await remove_proxy(db_session, "2")
    assert await db_session.scalar(select(func.count()).select_from(AccountProxyAssignment)) == 0
    assert [p.id for p in await list_proxies(db_session)] == [3]


async def test_repointing_a_proxy_at_another_host_breaks_its_login(
    db_session: AsyncSession,
) -> None:
    await _setup(db_session)
    await assign_proxy(db_session, "alice", "eu")
    await db_session.execute(update(Proxy).where(Proxy.label == "eu").values(host="evil.example"))
    db_session.expire_all()
    with pytest.raises(SecretTampered):
        await get_account_proxies(db_session, "alice")


async def test_health_checks_and_failures_are_recorded_per_proxy_and_assignment(
    db_session: AsyncSession,
) -> None:
    await _setup(db_session)
    await assign_proxy(db_session, "alice", "eu")
    at = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    await record_proxy_failure(db_session, "alice", 1, failures=2, status="active")
    [proxy] = await get_account_proxies(db_session, "alice")
    assert (proxy.failure_count, proxy.status, proxy.egress_ip) == (2, "active", None)

    await record_proxy_check(
        db_session, 1, egress_ip="203.0.113.7", error=None, at=at, account_name="alice"
    )
    [proxy] = await get_account_proxies(db_session, "alice")
    assert (proxy.egress_ip, proxy.last_check_error, proxy.last_checked_at) == (
        "203.0.113.7",
        None,
        at,
    )
    assert proxy.failure_count == 0  # a passing check restarts the consecutive count

    await record_proxy_check(db_session, 1, egress_ip=None, error="x" * 300, at=at)
    [summary, *_] = await list_proxies(db_session)
    assert summary.egress_ip == "203.0.113.7"  # the last address seen stays
    assert summary.last_check_error == "x" * 200

    await record_proxy_failure(db_session, "alice", 1, failures=3, status="burned")
    [proxy] = await get_account_proxies(db_session, "alice")
    assert (proxy.failure_count, proxy.status) == (3, "burned")
    with pytest.raises(InvalidInput):
        await record_proxy_failure(db_session, "alice", 1, failures=1, status="dead")


def test_the_secret_url_round_trips_with_the_login_quoted() -> None:
    url = parse_proxy_url("socks5://us%40er:p%3Ass-word-long@[2001:db8::1]:1080")
    secret = url.secret_url()
    assert secret.reveal() == "socks5://us%40er:p%3Ass-word-long@[2001:db8::1]:1080"
    assert parse_proxy_url(secret.reveal()) == url
    assert str(secret) == "***"


def test_a_loginless_url_is_not_registered_for_scrubbing() -> None:
    secret = parse_proxy_url("http://198.51.100.4:3128").secret_url()
    assert secret.reveal() == "http://198.51.100.4:3128"
    assert str(secret) == "***"
    assert scrub("proxy http://198.51.100.4:3128 failed") == "proxy http://198.51.100.4:3128 failed"
