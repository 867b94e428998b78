"""The ``bot_leases`` table: which process runs a bot name, fenced by a growing token.

Every change is a compare-and-set on ``fencing_token`` (``UPDATE ... WHERE fencing_token =
<what I read>``), so two processes racing for one name cannot both win on either backend
without relying on row locks SQLite does not have. The first acquisition of a name inserts
its row; a racing insert loses on the primary key and retries as an update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models.bots import BotLease
from database.types import utcnow


@dataclass(frozen=True)
class Holder:
    """A process holding (or last holding) a bot's lease."""

    host: str
    pid: int
    heartbeat_at: datetime | None
    fencing_token: int

    def describe(self) -> str:
        """``host H as pid P (heartbeat N s ago)``: where to look for the process."""
        seen = ""
        if self.heartbeat_at is not None:
            age = max(0, int((utcnow() - self.heartbeat_at).total_seconds()))
            seen = f" (heartbeat {age} s ago)"
        return f"host {self.host} as pid {self.pid}{seen}"


@dataclass(frozen=True)
class Acquired:
    fencing_token: int


async def current_holder(session: AsyncSession, bot_name: str) -> Holder | None:
    """Who holds ``bot_name``'s lease, fresh or not (None when nobody does)."""
    row = await session.get(BotLease, bot_name)
    if row is None or row.holder_host is None or row.holder_pid is None:
        return None
    return Holder(row.holder_host, row.holder_pid, row.heartbeat_at, row.fencing_token)


async def try_acquire(
    sessions: async_sessionmaker[AsyncSession],
    bot_name: str,
    *,
    host: str,
    pid: int,
    ttl: timedelta,
    pid_is_gone: Callable[[int], bool] | None = None,
) -> Acquired | Holder:
    """Take the lease, or the live holder that keeps it.

    The lease is free when nobody holds it, when its heartbeat is older than ``ttl`` (a
    holder on another host that died or lost the database), or when the holder ran on ``host``
    and ``pid_is_gone(pid)`` says that process no longer exists (a bot killed with SIGKILL
    and restarted by supervisord at once takes its name back without waiting for ``ttl``).
    """
    for _ in range(5):
        async with sessions.begin() as session:
            row = (
                await session.execute(select(BotLease).where(BotLease.bot_name == bot_name))
            ).scalar_one_or_none()
            now = utcnow()
            if row is None:
                session.add(
                    BotLease(
                        bot_name=bot_name,
                        fencing_token=1,
                        holder_host=host,
                        holder_pid=pid,
                        acquired_at=now,
                        heartbeat_at=now,
                    )
                )
                try:
                    await session.flush()
                except IntegrityError:
                    await session.rollback()
                    continue
                return Acquired(1)
            holder = (
                Holder(row.holder_host, row.holder_pid, row.heartbeat_at, row.fencing_token)
                if row.holder_host is not None and row.holder_pid is not None
                else None
            )
            stale = row.heartbeat_at is None or now - row.heartbeat_at > ttl
            gone = (
                holder is not None
                and holder.host == host
                and pid_is_gone is not None
                and pid_is_gone(holder.pid)
            )
            if holder is not None and not stale and not gone:
                return holder
            token = row.fencing_token + 1
            result = await session.execute(
                update(BotLease)
                .where(
                    BotLease.bot_name == bot_name,
                    BotLease.fencing_token == row.fencing_token,
                )
                .values(
                    fencing_token=token,
                    holder_host=host,
                    holder_pid=pid,
                    acquired_at=now,
                    heartbeat_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if _rowcount(result) == 1:
                return Acquired(token)
    raise RuntimeError(f"lease of {bot_name!r}: lost five races in a row")


async def renew(session: AsyncSession, bot_name: str, fencing_token: int) -> bool:
    """Refresh the heartbeat; False when another process has taken the lease since."""
    result = await session.execute(
        update(BotLease)
        .where(BotLease.bot_name == bot_name, BotLease.fencing_token == fencing_token)
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def release(session: AsyncSession, bot_name: str, fencing_token: int) -> None:
    """Give the lease up (only if it is still ours); the token stays, so it keeps growing."""
    await session.execute(
        update(BotLease)
        .where(BotLease.bot_name == bot_name, BotLease.fencing_token == fencing_token)
        .values(holder_host=None, holder_pid=None, heartbeat_at=None)
        .execution_options(synchronize_session=False)
    )


def _rowcount(result: object) -> int:
    count = getattr(result, "rowcount", 0)
    return int(count) if isinstance(count, int) else 0
