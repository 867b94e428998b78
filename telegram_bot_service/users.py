"""The allowlist: Telegram users, their roles and their alert subscriptions (data access only).

Like :mod:`database.repositories`, functions here take the caller's session and never commit,
so a change and its audit row are written together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from database.errors import InvalidInput, NotFound
from database.models import TelegramSubscription, TelegramUser
from database.models.telegram import EVENT_KINDS
from telegram_bot_service.roles import Role

# Bot API > User.id: "at most 52 significant bits" — anything larger is not a Telegram user
# (and a 20-digit number overflows the database's 64-bit column).
MAX_TELEGRAM_ID = 2**52 - 1
# Telegram's own first_name limit; the column holds 128.
MAX_DISPLAY_NAME = 64


def check_telegram_id(telegram_id: int) -> int:
    """``telegram_id`` if it can be a Telegram user id, else one readable InvalidInput."""
    if not 0 < telegram_id <= MAX_TELEGRAM_ID:
        raise InvalidInput(
            f"invalid Telegram user id {str(telegram_id)[:24]}: expected a number from 1 to "
            f"{MAX_TELEGRAM_ID}"
        )
    return telegram_id


def check_display_name(name: str | None) -> str | None:
    if name is not None and len(name) > MAX_DISPLAY_NAME:
        raise InvalidInput(f"a display name is at most {MAX_DISPLAY_NAME} characters")
    return name


@dataclass(frozen=True)
class UserSummary:
    telegram_id: int
    display_name: str | None
    role: Role
    subscriptions: tuple[str, ...]


def _summary(user: TelegramUser) -> UserSummary:
    return UserSummary(
        telegram_id=user.telegram_id,
        display_name=user.display_name,
        role=Role.parse(user.role),
        subscriptions=tuple(sorted(s.kind for s in user.subscriptions)),
    )


def check_kinds(kinds: Iterable[str]) -> list[str]:
    """``kinds`` validated against :data:`EVENT_KINDS` (``all`` means every kind)."""
    wanted = [kind.strip().lower() for kind in kinds if kind.strip()]
    if "all" in wanted:
        return list(EVENT_KINDS)
    unknown = sorted(set(wanted) - set(EVENT_KINDS))
    if unknown:
        raise InvalidInput(
            f"unknown alert kind(s) {', '.join(unknown)}: expected {', '.join(EVENT_KINDS)} or all"
        )
    return sorted(set(wanted))


async def _find(session: AsyncSession, telegram_id: int) -> TelegramUser | None:
    found: TelegramUser | None = await session.scalar(
        select(TelegramUser)
        .where(TelegramUser.telegram_id == telegram_id)
        .options(selectinload(TelegramUser.subscriptions))
    )
    return found


async def get_user(session: AsyncSession, telegram_id: int) -> UserSummary | None:
    """The allowlisted user with this Telegram id, or None."""
    user = await _find(session, telegram_id)
    return _summary(user) if user is not None else None


async def add_user(
    session: AsyncSession, telegram_id: int, role: Role, display_name: str | None = None
) -> tuple[UserSummary, bool]:
    """Allow ``telegram_id`` with ``role``; an existing user gets the new role (and name).

    Returns the user and whether it was created (False: updated).
    """
    check_telegram_id(telegram_id)
    check_display_name(display_name)
    user = await _find(session, telegram_id)
    created = user is None
    if user is None:
        user = TelegramUser(telegram_id=telegram_id, role=role.label, display_name=display_name)
        user.subscriptions = []
        session.add(user)
    else:
        user.role = role.label
        if display_name is not None:
            user.display_name = display_name
    await session.flush()
    return _summary(user), created


async def remove_user(session: AsyncSession, telegram_id: int) -> UserSummary:
    check_telegram_id(telegram_id)
    user = await _find(session, telegram_id)
    if user is None:
        raise NotFound(f"Telegram user {telegram_id} is not in the allowlist")
    summary = _summary(user)
    await session.delete(user)
    await session.flush()
    return summary


async def list_users(session: AsyncSession) -> list[UserSummary]:
    users = await session.scalars(
        select(TelegramUser)
        .options(selectinload(TelegramUser.subscriptions))
        .order_by(TelegramUser.telegram_id)
    )
    return [_summary(user) for user in users]


async def subscribe(
    session: AsyncSession, telegram_id: int, kinds: Iterable[str], *, on: bool = True
) -> tuple[str, ...]:
    """Add (``on``) or remove subscriptions; returns the user's subscriptions afterwards."""
    user = await _find(session, telegram_id)
    if user is None:
        raise NotFound(f"Telegram user {telegram_id} is not in the allowlist")
    wanted = set(check_kinds(kinds))
    current = {s.kind: s for s in user.subscriptions}
    if on:
        for kind in sorted(wanted - set(current)):
            user.subscriptions.append(TelegramSubscription(kind=kind))
    else:
        for kind in wanted & set(current):
            user.subscriptions.remove(current[kind])
    await session.flush()
    return tuple(sorted(s.kind for s in user.subscriptions))


async def subscribers(session: AsyncSession, kind: str) -> list[int]:
    """Telegram ids of the users subscribed to ``kind``."""
    rows = await session.scalars(
        select(TelegramUser.telegram_id)
        .join(TelegramSubscription, TelegramSubscription.user_id == TelegramUser.id)
        .where(TelegramSubscription.kind == kind)
        .order_by(TelegramUser.telegram_id)
    )
    return list(rows)
