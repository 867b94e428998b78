"""One process per bot name: the lease a bot holds while it runs.

Two processes with the same bot name share the same orders (client order ids are derived from
the name), the same paper wallet and the same journal rows: one cancels the other's
take-profits, both insert the same rows. So a bot takes an exclusive lease on its name in the
database (``bot_leases``) before it touches anything, renews it with its heartbeat, and gives
it back when it stops. A second process refuses to start with one line naming the host and
pid of the first.

Why a database row and not a lock file: the database is what two processes of one bot share
(a second host on the same PostgreSQL included); a lock file only sees its own machine. A
holder that died is detected by its pid when it ran on this host (supervisord restarts a
killed bot at once), and by a heartbeat older than :data:`LEASE_TTL` otherwise.

The fencing token grows with every acquisition: a renewal that finds another token means the
lease was taken over (after this process lost the database for longer than the TTL), and the
bot stops at once without touching orders that are now another process's.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot_runtime.setup import StartupError
from database.repositories import bot_leases
from database.repositories.bot_leases import Acquired, Holder

LEASE_TTL = timedelta(seconds=60)


class LeaseHeld(StartupError):
    """Another live process runs this bot name; the message says where."""

    def __init__(self, bot: str, holder: Holder) -> None:
        super().__init__(
            f"{bot} is already running on {holder.describe()}: one bot name runs in one "
            "process only (two would share its orders and wallet); stop that one first "
            f"(`python -m fleet stop {bot}` for a fleet bot, Ctrl-C in its terminal otherwise)"
        )
        self.holder = holder


def this_host() -> str:
    return socket.gethostname()


def pid_is_gone(pid: int) -> bool:
    """True when no process ``pid`` exists on this machine (signal 0 probes without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return False


class BotLease:
    """This process's hold on a bot name; :meth:`renew` on every heartbeat, :meth:`release`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bot: str,
        fencing_token: int,
        ttl: timedelta,
    ) -> None:
        self._sessions = sessions
        self.bot = bot
        self.fencing_token = fencing_token
        self._ttl = ttl
        self._last_renewed = time.monotonic()
        self.lost = False

    @classmethod
    async def acquire(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        bot: str,
        *,
        ttl: timedelta = LEASE_TTL,
    ) -> BotLease:
        """The lease, or :class:`LeaseHeld` naming the process that has it."""
        result = await bot_leases.try_acquire(
            sessions, bot, host=this_host(), pid=os.getpid(), ttl=ttl, pid_is_gone=pid_is_gone
        )
        if isinstance(result, Holder):
            raise LeaseHeld(bot, result)
        assert isinstance(result, Acquired)
        return cls(sessions, bot, result.fencing_token, ttl)

    async def renew(self) -> bool:
        """Refresh the heartbeat; False once the lease is no longer ours.

        A renewal that fails (the database unreachable) keeps the lease for up to the TTL;
        past it another process may rightly have taken over, so the lease counts as lost.
        """
        if self.lost:
            return False
        try:
            async with self._sessions.begin() as session:
                ours = await bot_leases.renew(session, self.bot, self.fencing_token)
        except Exception:
            if time.monotonic() - self._last_renewed > self._ttl.total_seconds():
                self.lost = True
                return False
            raise
        if ours:
            self._last_renewed = time.monotonic()
        else:
            self.lost = True
        return ours

    async def release(self) -> None:
        """Give the name back (a no-op when it was taken over)."""
        if self.lost:
            return
        async with self._sessions.begin() as session:
            await bot_leases.release(session, self.bot, self.fencing_token)
