"""Logging in, sessions and CSRF.

* The session cookie holds a random token; the database keeps only its SHA-256, with the
  user and a per-session CSRF token. The cookie is HttpOnly (no script reads it), SameSite=
  Strict (no other site sends it) and Secure when the dashboard is served behind TLS.
* Every state-changing request (POST) must carry the session's CSRF token in the
  ``X-CSRF-Token`` header (the page's script) or a ``csrf`` form field (the logout form),
  compared in constant time; without it the request is refused (403) before anything runs.
  The login form is protected the same way with a short-lived pre-login cookie
  (double submit), so another site cannot log a browser into an account of its choosing.
* Wrong passwords are counted per address and per name (:mod:`dashboard.ratelimit`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import HTTPException, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from dashboard.passwords import burn_time, verify_password
from dashboard.roles import Role
from dashboard.services import DashboardServices
from database.repositories import dashboard_users as repo
from database.types import utcnow

SESSION_COOKIE = "perpfleet_session"
LOGIN_CSRF_COOKIE = "perpfleet_login_csrf"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    csrf_token: str
    session_hash: str

    @property
    def actor(self) -> str:
        """How the audit trail names this person (Telegram's are ``telegram:...``)."""
        return f"dashboard:{self.name}"


class LoginRefused(Exception):
    """Wrong name or password, or too many attempts (``retry_after`` > 0)."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def log_in(
    services: DashboardServices, name: str, password: str, address: str
) -> tuple[str, User]:
    """A new session's cookie value and its user, or :class:`LoginRefused`."""
    wait = services.limiter.retry_after(address, name)
    if wait > 0:
        raise LoginRefused(
            f"too many failed logins: try again in {int(wait) + 1} s", retry_after=wait
        )

    async def check(session: AsyncSession) -> tuple[str, User] | None:
        user = await repo.find_user(session, name)
        if user is None:
            burn_time(password)
            return None
        if not verify_password(password, user.password_hash):
            return None
        await repo.purge_expired(session)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = utcnow() + timedelta(hours=services.session_hours)
        await repo.create_session(session, user.id, token_hash(token), csrf, expires)
        return token, User(user.name, Role.parse(user.role), csrf, token_hash(token))

    found = await services.transaction(check)
    if found is None:
        services.limiter.failed(address, name)
        raise LoginRefused("wrong name or password")
    services.limiter.succeeded(name)
    await services.audit(f"dashboard:{name}", "dashboard.login", name, {"address": address})
    return found


async def log_out(services: DashboardServices, user: User) -> None:
    async def end(session: AsyncSession) -> None:
        await repo.end_session(session, user.session_hash)

    await services.transaction(end)


async def current_user(services: DashboardServices, request: Request) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    hashed = token_hash(token)

    async def find(session: AsyncSession) -> repo.SessionUser | None:
        return await repo.session_user(session, hashed)

    found = await services.transaction(find)
    if found is None:
        return None
    return User(found.name, Role.parse(found.role), found.csrf_token, hashed)


def set_session_cookie(response: Response, token: str, services: DashboardServices) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(services.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=services.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, services: DashboardServices) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="strict", secure=services.secure_cookies, path="/"
    )


def check_csrf(user: User, presented: str | None) -> None:
    """403 unless ``presented`` is the session's CSRF token."""
    if not presented or not hmac.compare_digest(presented.encode(), user.csrf_token.encode()):
        raise HTTPException(
            403, detail=f"missing or wrong CSRF token (send the page's {CSRF_HEADER} header)"
        )


def require_role(user: User, needed: Role, what: str) -> None:
    if user.role < needed:
        raise HTTPException(
            403,
            detail=f"{what} needs the {needed.label} role; {user.name} is a {user.role.label}",
        )
