"""Simulated time for a backtest, moved only when everything that can run without time has run.

The strategy, the order executor, the paper venues and their feeds all wait on a
:class:`~core.clock.Clock`; :class:`SimulatedClock` is one whose ``sleep`` resolves when the
backtest moves time past the deadline, earliest deadline first (ties in the order the sleeps
were asked for). Moving time while some task still has work that needs no time (a journal
write in the database's thread, a fill being handed to the tracker) would make the result
depend on thread timing, so :meth:`SimulatedClock.settle` waits for the event loop to be
quiet first: no database statement in flight (:class:`IoGauge`, fed by
:mod:`backtest.scratch_db`) and no callback ready to run. That makes a run a function of its
config and data alone: the same inputs give byte-identical results.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta

SETTLE_YIELDS = 2
"""Quiet loop iterations in a row before time may move (a woken chain runs one hop each)."""
REAL_TIMER_HORIZON = 1.0
"""A wall-clock timer due within this many seconds is awaited before simulated time moves."""
TIMER_POLL_SECONDS = 0.001


class IoGauge:
    """How many database operations are in flight (counted by the scratch database)."""

    def __init__(self) -> None:
        self.in_flight = 0


class SimulatedClock:
    """A :class:`~core.clock.Clock` whose time moves only through :meth:`advance_to`."""

    def __init__(self, start: datetime, gauge: IoGauge | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("SimulatedClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._heap: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.gauge = gauge or IoGauge()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        deadline = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._heap, (deadline, next(self._order), future))
        await future

    def next_deadline(self) -> datetime | None:
        """The earliest deadline someone still waits for."""
        heap = self._heap
        while heap and heap[0][2].done():  # cancelled sleeps
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    async def settle(self) -> None:
        """Return once nothing can run without time moving (see the module docstring)."""
        loop = asyncio.get_running_loop()
        quiet = 0
        while quiet < SETTLE_YIELDS:
            await asyncio.sleep(0)
            if self.gauge.in_flight or _ready_callbacks(loop):
                quiet = 0
            elif _timer_due_soon(loop):
                # Real-time waits (a retry backoff) are part of the work, not of market time.
                await asyncio.sleep(TIMER_POLL_SECONDS)
                quiet = 0
            else:
                quiet += 1

    async def advance_to(self, target: datetime) -> None:
        """Move to ``target``, waking each sleeper whose deadline passes, in deadline order,
        and letting everything it sets off run before time moves on."""
        await self.settle()
        while True:
            deadline = self.next_deadline()
            if deadline is None or deadline > target:
                break
            _, _, future = heapq.heappop(self._heap)
            self._now = max(self._now, deadline)
            future.set_result(None)
            await self.settle()
        self._now = max(self._now, target)


def _ready_callbacks(loop: asyncio.AbstractEventLoop) -> int:
    """Callbacks queued to run on the next loop iteration.

    ``_ready`` is the deque the base event loop runs from (CPython 3.11+); a loop without one
    (another implementation) counts as quiet, and the gauge and the yields still hold.
    """
    ready = getattr(loop, "_ready", None)
    return len(ready) if ready is not None else 0


def _timer_due_soon(loop: asyncio.AbstractEventLoop) -> bool:
    """A wall-clock timer (``asyncio.sleep``, ``wait_for``) due within the horizon.

    ``_scheduled`` is the base event loop's timer heap; see :func:`_ready_callbacks`.
    """
    scheduled = getattr(loop, "_scheduled", None)
    if not scheduled:
        return False
    horizon = loop.time() + REAL_TIMER_HORIZON
    return any(not h.cancelled() and h.when() <= horizon for h in scheduled)
