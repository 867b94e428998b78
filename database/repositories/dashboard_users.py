"""Dashboard users and sessions: the queries, kept out of the web layer.

The caller hashes passwords and session tokens (the dashboard owns the schemes); this module
stores and finds the hashes. Names are case-sensitive and at most 64 characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from database.models import DashboardSession, DashboardUser
from database.models.dashboard import DASHBOARD_ROLES
from database.types import utcnow


class DashboardUserError(ValueError):
    """A user that cannot be added or found; the message says which and why."""


@dataclass(frozen=True)
class SessionUser:
    """Who a session belongs to, and the CSRF token of that session."""

    user_id: int
    name: str
    role: str
    csrf_token: str
    expires_at: datetime


def _check(name: str, role: str) -> None:
    if not name or len(name) > 64 or not name.isprintable() or name.strip() != name:
        raise DashboardUserError(
            f"user name {name!r}: expected 1-64 printable characters without outer spaces"
        )
    if role not in DASHBOARD_ROLES:
        raise DashboardUserError(f"role {role!r}: expected one of {', '.join(DASHBOARD_ROLES)}")


async def add_user(session: AsyncSession, name: str, role: str, password_hash: str) -> None:
    """A new user; an existing name is refused (use :func:`set_password` / :func:`set_role`)."""
    _check(name, role)
    if await find_user(session, name) is not None:
        raise DashboardUserError(f"dashboard user {name!r} already exists")
    session.add(DashboardUser(name=name, role=role, password_hash=password_hash))
    await session.flush()


async def find_user(session: AsyncSession, name: str) -> DashboardUser | None:
    user: DashboardUser | None = await session.scalar(
        select(DashboardUser).where(DashboardUser.name == name)
    )
    return user


async def list_users(session: AsyncSession) -> list[DashboardUser]:
    return list(await session.scalars(select(DashboardUser).order_by(DashboardUser.name)))


async def _existing(session: AsyncSession, name: str) -> DashboardUser:
    user = await find_user(session, name)
    if user is None:
        raise DashboardUserError(f"no dashboard user {name!r}")
    return user


async def set_password(session: AsyncSession, name: str, password_hash: str) -> None:
    """New password; every open session of the user ends (a stolen cookie dies with it)."""
    user = await _existing(session, name)
    user.password_hash = password_hash
    await session.execute(delete(DashboardSession).where(DashboardSession.user_id == user.id))


async def remove_user(session: AsyncSession, name: str) -> None:
    user = await _existing(session, name)
    await session.execute(delete(DashboardSession).where(DashboardSession.user_id == user.id))
    await session.delete(user)
    await session.flush()


async def create_session(
    session: AsyncSession, user_id: int, token_hash: str, csrf_token: str, expires_at: datetime
) -> None:
    session.add(
        DashboardSession(
            user_id=user_id, token_hash=token_hash, csrf_token=csrf_token, expires_at=expires_at
        )
    )
    await session.flush()


async def session_user(session: AsyncSession, token_hash: str) -> SessionUser | None:
    """The user of an unexpired session, else None."""
    row = (
        await session.execute(
            select(DashboardSession, DashboardUser)
            .join(DashboardUser, DashboardUser.id == DashboardSession.user_id)
            .where(DashboardSession.token_hash == token_hash)
        )
    ).first()
    if row is None:
        return None
    stored, user = row
    if stored.expires_at <= utcnow():
        return None
    return SessionUser(user.id, user.name, user.role, stored.csrf_token, stored.expires_at)


async def end_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.token_hash == token_hash))


async def purge_expired(session: AsyncSession) -> int:
    """Drop sessions past their expiry; how many."""
    result = await session.execute(
        delete(DashboardSession).where(DashboardSession.expires_at <= utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
