"""The app_settings key/value table."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from database.models import AppSetting

LockMode = Literal["share", "update"]


async def get_setting(
    session: AsyncSession, key: str, *, lock: LockMode | None = None
) -> str | None:
    """The value of ``key``, or None. ``lock`` takes a row lock (PostgreSQL) until commit.

    SQLite has no row locks; its write transactions are serialised per file instead.
    """
    query = select(AppSetting.value).where(AppSetting.key == key)
    if lock is not None:
        query = query.with_for_update(read=lock == "share")
    return (await session.execute(query)).scalar_one_or_none()


async def set_setting(session: AsyncSession, key: str, value: str) -> None:
    """Insert or update ``key``."""
    row = await session.get(AppSetting, key)
    if row is None:
        session.add(AppSetting(key=key, value=value))
    else:
        row.value = value
    await session.flush()
