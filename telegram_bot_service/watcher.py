"""Watching the fleet for what nobody asked for: crashes, restarts, kill switches; PnL samples.

Every ``interval`` seconds :meth:`FleetWatcher.poll_once` compares the fleet with the previous
look:

* a bot that was RUNNING and is now EXITED/BACKOFF/FATAL/STARTING/UNKNOWN, or RUNNING with a
  different pid (supervisord restarted it), crashed — unless someone asked for that change
  (:class:`ExpectedChanges`: /stop, /restart, /killall mark it). STOPPING/STOPPED are the
  result of a stop from somewhere (the CLI), not a crash;
* a running bot whose control API reports ``risk.killed`` that did not before tripped its kill
  switch;
* the fleet guard (:mod:`fleet.guard`, its state in the database) tripped since the last look:
  both go to ``kill_switch`` subscribers.

The first look is the baseline (no alerts: restarting the service must not replay old news).
Every ``snapshot_interval`` seconds each running bot's equity and PnL go to ``pnl_snapshots``
for the /pnl charts - unless the bot has a sample within that interval already: every bot
samples itself (:mod:`bot_runtime.equity_samples`), so this adds samples only in between (a
shorter interval) or for a bot that could not.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot_runtime.equity_samples import sampled_since
from bot_runtime.notifications import BOT_CRASH, KILL_SWITCH, AlertSink
from database.types import utcnow
from fleet.api import BotInfo, Fleet, FleetError
from fleet.guard import load_state
from telegram_bot_service.pnl_history import record_snapshot

log = structlog.get_logger(__name__)

CRASH_STATES = frozenset({"EXITED", "BACKOFF", "FATAL", "STARTING", "UNKNOWN"})
EXPECTED_WINDOW_SECONDS = 300.0


class ExpectedChanges:
    """Bots whose next state change was asked for (through this service), for a while."""

    def __init__(self, window_seconds: float = EXPECTED_WINDOW_SECONDS) -> None:
        self._window = window_seconds
        self._until: dict[str, float] = {}

    def expect(self, name: str) -> None:
        self._until[name] = time.monotonic() + self._window

    def is_expected(self, name: str) -> bool:
        until = self._until.get(name)
        if until is None:
            return False
        if time.monotonic() > until:
            del self._until[name]
            return False
        return True


@dataclass(frozen=True)
class _Seen:
    state: str
    pid: int | None
    killed: bool


class FleetWatcher:
    def __init__(
        self,
        fleet: Fleet,
        notifier: AlertSink,
        sessions: async_sessionmaker[AsyncSession],
        expected: ExpectedChanges,
        *,
        interval_seconds: float = 10.0,
        snapshot_interval_seconds: float = 300.0,
        control_timeout_seconds: float = 10.0,
    ) -> None:
        self._fleet = fleet
        self._notifier = notifier
        self._sessions = sessions
        self._expected = expected
        self.interval_seconds = interval_seconds
        self.snapshot_interval_seconds = snapshot_interval_seconds
        self._timeout = control_timeout_seconds
        self._seen: dict[str, _Seen] | None = None
        self._guard_trip: str | None = None  # the guard trip last seen (its time), if any
        self._last_snapshot: dict[str, float] = {}

    async def run(self) -> None:
        """Poll forever (until cancelled); a failed look is logged and retried."""
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fleet watch failed; retrying")
            await asyncio.sleep(self.interval_seconds)

    async def poll_once(self) -> None:
        bots = await self._fleet.list_bots()
        previous = self._seen
        seen: dict[str, _Seen] = {}
        for bot in bots:
            before = previous.get(bot.name) if previous is not None else None
            killed = await self._killed(bot) if bot.running else False
            seen[bot.name] = _Seen(bot.state, bot.pid, killed)
            if previous is not None:
                await self._compare(bot, before, killed)
            if bot.running:
                await self._maybe_snapshot(bot)
        await self._look_at_guard(baseline=previous is None)
        self._seen = seen

    async def _look_at_guard(self, *, baseline: bool) -> None:
        """Alert a fleet-guard trip not seen before (the first look is the baseline)."""
        try:
            async with self._sessions() as session:
                state = await load_state(session)
        except (ValueError, KeyError) as exc:
            log.warning("fleet guard state unreadable", error=str(exc))
            return
        trip = state.tripped if state is not None else None
        seen = trip.at.isoformat() if trip is not None else None
        if trip is not None and seen != self._guard_trip and not baseline:
            await self._notifier.notify(
                KILL_SWITCH,
                f"Fleet guard tripped ({trip.action}): {trip.reason}. See /guard.",
            )
        self._guard_trip = seen

    async def _compare(self, bot: BotInfo, before: _Seen | None, killed: bool) -> None:
        if before is None:
            return
        if before.state == "RUNNING" and not self._expected.is_expected(bot.name):
            if bot.state in CRASH_STATES:
                await self._notifier.notify(
                    BOT_CRASH, f"Bot {bot.name} left RUNNING unexpectedly: now {bot.state}."
                )
            elif bot.running and before.pid is not None and bot.pid != before.pid:
                await self._notifier.notify(
                    BOT_CRASH,
                    f"Bot {bot.name} was restarted unexpectedly (pid {before.pid} -> {bot.pid}).",
                )
        if killed and not before.killed:
            await self._notifier.notify(
                KILL_SWITCH,
                f"Kill switch tripped on {bot.name}: it stopped trading (see /status {bot.name}).",
            )

    async def _killed(self, bot: BotInfo) -> bool:
        try:
            status = await asyncio.wait_for(self._fleet.control(bot.name).status(), self._timeout)
        except (FleetError, TimeoutError, OSError) as exc:
            log.info("status not available", bot=bot.name, error=str(exc))
            previous = self._seen.get(bot.name) if self._seen is not None else None
            return previous.killed if previous is not None else False
        return status.risk.killed

    async def _maybe_snapshot(self, bot: BotInfo) -> None:
        now = time.monotonic()
        last = self._last_snapshot.get(bot.name)
        if last is not None and now - last < self.snapshot_interval_seconds:
            return
        self._last_snapshot[bot.name] = now
        since = utcnow() - timedelta(seconds=self.snapshot_interval_seconds)
        async with self._sessions() as session:
            if await sampled_since(session, [bot.name], since):
                return  # sampled within the interval (by itself, or by the dashboard)
        await self.snapshot(bot.name)

    async def snapshot(self, name: str) -> bool:
        """Record one PnL sample of a running bot now; False when it could not be read."""
        control = self._fleet.control(name)
        try:
            status = await asyncio.wait_for(control.status(), self._timeout)
            pnl = await asyncio.wait_for(control.pnl(), self._timeout)
        except (FleetError, TimeoutError, OSError) as exc:
            log.info("no PnL sample", bot=name, error=str(exc))
            return False
        async with self._sessions() as session, session.begin():
            return await record_snapshot(
                session,
                name,
                equity=status.equity,
                realized=pnl.realized,
                unrealized=pnl.unrealized,
                funding=pnl.funding,
            )


@contextlib.asynccontextmanager
async def watching(watcher: FleetWatcher) -> AsyncIterator[None]:
    """Run ``watcher`` in a background task for the duration of the block."""
    task = asyncio.create_task(watcher.run(), name="fleet-watcher")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
