"""Outbound proxies and which account uses which."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base, CreatedAt, Timestamps, one_of
from database.types import UTCDateTime

PROXY_SCHEMES = ("http", "https", "socks4", "socks5", "socks5h")
ASSIGNMENT_STATUSES = ("active", "standby", "burned")


class Proxy(CreatedAt, Base):
    """A proxy endpoint. Where it is stays in clear; who logs in (user + password) is encrypted."""

    __tablename__ = "proxies"
    __table_args__ = (one_of("scheme", PROXY_SCHEMES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str | None] = mapped_column(String(64), unique=True)
    scheme: Mapped[str] = mapped_column(String(8))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    auth_blob: Mapped[bytes | None] = mapped_column(LargeBinary)
    egress_ip: Mapped[str | None] = mapped_column(String(45))
    """The address venues see, read through the proxy by its last passing health check."""
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_check_error: Mapped[str | None] = mapped_column(String(200))
    """Why the last health check failed (never the login); NULL when it passed."""


class AccountProxyAssignment(Timestamps, Base):
    """Proxy ``proxy_id`` serves account ``account_id``; lower ``priority`` is tried first."""

    __tablename__ = "account_proxy_assignments"
    __table_args__ = (
        UniqueConstraint("account_id", "proxy_id"),
        one_of("status", ASSIGNMENT_STATUSES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    proxy_id: Mapped[int] = mapped_column(ForeignKey("proxies.id", ondelete="CASCADE"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(8), default="active")
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Connection failures of this proxy for this account; at the pool's limit: ``burned``."""
