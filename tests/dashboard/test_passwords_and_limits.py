"""Password hashing (scrypt), the login rate limiter, and the users/sessions repository on
both database backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dashboard.passwords import PasswordError, hash_password, verify_password
from dashboard.ratelimit import LoginLimiter
from database.repositories import dashboard_users as repo
from database.types import utcnow
from tests.dashboard.conftest import password_hash


def test_a_hash_verifies_its_password_only() -> None:
    stored = hash_password("a long passphrase")
    assert stored.startswith("scrypt$n=32768,r=8,p=1$")
    assert verify_password("a long passphrase", stored)
    assert not verify_password("a long passphrasE", stored)
    assert hash_password("a long passphrase") != stored  # salted


@pytest.mark.parametrize("stored", ["", "bcrypt$x$y$z", "scrypt$n=oops$AA$AA", "scrypt$$$"])
def test_a_malformed_stored_hash_never_matches(stored: str) -> None:
    assert not verify_password("anything at all", stored)


def test_weak_or_huge_passwords_are_refused() -> None:
    with pytest.raises(PasswordError, match="at least 10"):
        hash_password("short")
    with pytest.raises(PasswordError, match="at most 1024"):
        hash_password("x" * 1025)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_counts_failures_per_address_and_per_name() -> None:
    clock = Clock()
    limiter = LoginLimiter(limit=3, window_seconds=60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1", "ada") == 0
        limiter.failed("10.0.0.1", "ada")
    assert limiter.retry_after("10.0.0.1", "ada") == pytest.approx(60)
    assert limiter.retry_after("10.0.0.2", "ada") > 0  # the name is locked from anywhere
    assert limiter.retry_after("10.0.0.1", "tom") > 0  # the address is locked for any name
    assert limiter.retry_after("10.0.0.2", "tom") == 0
    clock.now += 61
    assert limiter.retry_after("10.0.0.1", "ada") == 0


def test_a_success_clears_the_name_but_not_the_address() -> None:
    limiter = LoginLimiter(limit=2, window_seconds=60, clock=Clock())
    limiter.failed("10.0.0.1", "ada")
    limiter.failed("10.0.0.1", "tom")
    limiter.succeeded("ada")
    assert limiter.retry_after("10.0.0.9", "ada") == 0
    assert limiter.retry_after("10.0.0.1", "ada") > 0


async def test_users_and_sessions_in_the_database(db_session: AsyncSession) -> None:
    await repo.add_user(db_session, "ada", "admin", password_hash())
    with pytest.raises(repo.DashboardUserError, match="already exists"):
        await repo.add_user(db_session, "ada", "viewer", password_hash())
    with pytest.raises(repo.DashboardUserError, match="role 'root'"):
        await repo.add_user(db_session, "eve", "root", password_hash())
    user = await repo.find_user(db_session, "ada")
    assert user is not None
    await repo.create_session(db_session, user.id, "h1", "csrf1", utcnow() + timedelta(hours=1))
    await repo.create_session(db_session, user.id, "h2", "csrf2", utcnow() - timedelta(seconds=1))
    found = await repo.session_user(db_session, "h1")
    assert found is not None
    assert (found.name, found.role, found.csrf_token) == ("ada", "admin", "csrf1")
    assert await repo.session_user(db_session, "h2") is None  # expired
    assert await repo.purge_expired(db_session) == 1
    await repo.set_password(db_session, "ada", password_hash("another passphrase"))
    assert await repo.session_user(db_session, "h1") is None  # a new password ends sessions
    await repo.remove_user(db_session, "ada")
    assert await repo.list_users(db_session) == []
