"""Who may talk to the Telegram service, with which role, and which alerts each one receives.

The Telegram bot answers only users listed here (an allowlist, managed with ``python -m
telegram_bot_service users``); the role decides which commands a user may run. Roles and event
kinds are plain strings with CHECK constraints (see :func:`~database.models.base.one_of`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database.models.base import Base, CreatedAt, one_of

TELEGRAM_ROLES = ("admin", "trader", "viewer")
"""Most to least privileged: admin > trader > viewer."""

EVENT_KINDS = ("fills", "atomic_failures", "kill_switch", "bot_crash")
"""What a user can subscribe to."""


class TelegramUser(CreatedAt, Base):
    """One allowlisted Telegram account (``telegram_id`` is Telegram's 64-bit user id)."""

    __tablename__ = "telegram_users"
    __table_args__ = (one_of("role", TELEGRAM_ROLES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))

    subscriptions: Mapped[list[TelegramSubscription]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class TelegramSubscription(CreatedAt, Base):
    """A user's wish to be told about one kind of event."""

    __tablename__ = "telegram_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "kind"), one_of("kind", EVENT_KINDS))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("telegram_users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))

    user: Mapped[TelegramUser] = relationship(back_populates="subscriptions")
