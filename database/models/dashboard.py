"""Who may log in to the web dashboard, with which role, and their open sessions.

Passwords are stored only as a memory-hard hash (the dashboard's ``passwords`` module writes
the self-describing string); a session is known here by the SHA-256 of its cookie value, so a
copy of the database does not let anyone in. Roles mirror the Telegram service's
(viewer < trader < admin) and are plain strings with a CHECK (see
:func:`~database.models.base.one_of`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base, CreatedAt, one_of
from database.types import UTCDateTime

DASHBOARD_ROLES = ("admin", "trader", "viewer")
"""Most to least privileged: admin > trader > viewer."""


class DashboardUser(CreatedAt, Base):
    """One person who may log in (``name`` is what they type)."""

    __tablename__ = "dashboard_users"
    __table_args__ = (one_of("role", DASHBOARD_ROLES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))


class DashboardSession(CreatedAt, Base):
    """A logged-in browser: the cookie's hash, its CSRF token, and when it expires."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("dashboard_users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
