"""Simulated time for a backtest, moved only when everything that can run without time has run.

The strategy, the order executor, the paper venues and their feeds all wait on a
:class:`~core.clock.Clock`; :class:`SimulatedClock` is one whose ``sleep`` resolves when the
backtest moves time past the deadline, earliest deadline first (ties in the order the sleeps
were asked for). Moving time while some task still has work that needs no time (a journal
write in the database's thread, a fill being handed to the tracker) would make the result
depend on thread timing, so :meth:`SimulatedClock.settle` waits for the event loop to be
quiet first: no database statement in flight (:class:`IoGauge`, fed by
:mod:`backtest.scratch_db`), no callback ready to run, and no work held back for a quiet loop
(a flusher, :meth:`SimulatedClock.add_flusher`: the journal's writes, committed together).
That makes a run a function of its config and data alone: the same inputs give
byte-identical results.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from datetime import UTC, datetime, timedelta
from threading import get_ident
from types import CoroutineType
from typing import Any

SETTLE_YIELDS = 2
"""On a loop whose callback queue cannot be seen: quiet loop iterations in a row before time
may move (a woken chain runs one hop each)."""
REAL_TIMER_HORIZON = 1.0
"""A wall-clock timer due within this many seconds is awaited before simulated time moves."""
TIMER_POLL_SECONDS = 0.001
_DELTAS_KEPT = 256  # distinct sleep durations remembered (cleared when full)


class IoGauge:
    """How many database operations are in flight (counted by the scratch database).

    :meth:`idle` lets :meth:`SimulatedClock.settle` wait for the count to drop to zero
    without spinning the event loop meanwhile (a spin would poll epoll on every turn and
    take the GIL from the database's thread)."""

    def __init__(self) -> None:
        self._in_flight = 0
        self._idle: list[asyncio.Future[None]] = []

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @in_flight.setter
    def in_flight(self, value: int) -> None:
        self._in_flight = value
        if not value and self._idle:
            waiters, self._idle = self._idle, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def idle(self) -> None:
        """Return once no operation is in flight (at once when none is)."""
        if self._in_flight:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._idle.append(waiter)
            await waiter


class SimulatedClock:
    """A :class:`~core.clock.Clock` whose time moves only through :meth:`advance_to`."""

    def __init__(self, start: datetime, gauge: IoGauge | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("SimulatedClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._heap: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.gauge = gauge or IoGauge()
        self._advancing_to: datetime | None = None  # the target of advance_to under way
        self._yielding = False  # settle's task is queued for the next loop turn, and waits
        self._deltas: dict[float, timedelta] = {}  # sleep's seconds -> timedelta, built once
        self._loop: asyncio.AbstractEventLoop | None = None  # see _running_loop
        self._ready: deque[Any] | None = None  # its callback queue, when it can be seen
        self._flushers: list[Callable[[], bool]] = []
        self._held = False  # a flusher said it holds work since they were last called

    def add_flusher(self, flush: Callable[[], bool]) -> Callable[[], None]:
        """Call ``flush`` when the loop would otherwise be quiet, before time moves; returns
        the function the holder calls when it starts holding work.

        For work held back until nothing else can run - the backtest's journal writes
        (:class:`~execution.group_commit.QuietPointCommitter`), committed together instead of
        one transaction each. ``flush`` starts that work (a task, a callback: something the
        loop will run) and returns True, or returns False when it holds none; the loop is
        quiet only once every flusher has returned False. The flushers are called only after
        one said it holds work: the clock looks for quiet ~10 times per backtest step, and
        asking each flusher every time cost more than the batching saved."""
        self._flushers.append(flush)
        return self._hold

    def _hold(self) -> None:
        self._held = True

    def _flushed(self) -> bool:
        """Did a flusher start held work? (Then the loop is not quiet.)"""
        self._held = False
        started = False
        for flush in self._flushers:
            if flush():
                started = True
        return started

    def now(self) -> datetime:
        return self._now

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """``asyncio.get_running_loop()``, remembered while it runs in this thread: Python 3.11's
        asks the operating system for the process id on every call (a ``getpid`` system call,
        ~0.2 us), and the clock asks several times per backtest step. The loop remembered is
        the running one exactly when it runs in the calling thread (one loop runs per thread;
        a loop that stopped has no thread); otherwise, or on a loop that does not say which
        thread runs it, it is asked again. Its callback queue (``_ready``, the base event
        loop's, made once with it) is remembered with it in :attr:`_ready`, None on a loop
        that has none: the checks for quiet read it several times per step."""
        loop = self._loop
        if loop is None or getattr(loop, "_thread_id", None) != get_ident():
            loop = self._loop = asyncio.get_running_loop()
            self._ready = getattr(loop, "_ready", None)
        return loop

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        delta = self._deltas.get(seconds)
        if delta is None:  # a handful of periods recur: the feed's step, the loops' periods
            if len(self._deltas) >= _DELTAS_KEPT:
                self._deltas.clear()
            delta = self._deltas[seconds] = timedelta(seconds=seconds)
        deadline = self._now + delta
        if self._wakes_next(deadline):
            self._now = deadline
            return
        future: asyncio.Future[None] = self._running_loop().create_future()
        heapq.heappush(self._heap, (deadline, next(self._order), future))
        await future

    def _wakes_next(self, deadline: datetime) -> bool:
        """Would this sleep be the very next thing :meth:`advance_to` wakes, with nothing
        happening in between? Then sleeping is only moving time to ``deadline``.

        Had the sleeper waited, the next callbacks to run would be: :meth:`settle`'s check
        (the only one queued), finding the loop quiet; :meth:`advance_to` taking the earliest
        deadline - this one, before its target and strictly before every other sleeper's
        (ties wake in the order they were asked for) - moving time to it and waking the
        sleeper. Carrying on at once is the same sequence, less a loop turn and a future:
        a replayed feed's events between two strategy steps are applied in one go."""
        target = self._advancing_to
        if target is None or deadline > target or not self._yielding or self.gauge._in_flight:
            return False
        loop = self._running_loop()
        ready = self._ready
        if ready is None or len(ready) != 1:  # the one queued callback: settle's task
            return False
        earliest = self.next_deadline()
        if earliest is not None and earliest <= deadline:
            return False
        return not _timer_due_soon(loop) and not (self._held and self._flushed())

    def next_deadline(self) -> datetime | None:
        """The earliest deadline someone still waits for."""
        heap = self._heap
        while heap and heap[0][2].done():  # cancelled sleeps
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def quiet(self) -> bool:
        """Would :meth:`settle` return at once? (Its checks, without making a coroutine: the
        caller skips the await when the loop is already quiet, as it mostly is.)"""
        loop = self._running_loop()
        ready = self._ready
        return (
            ready is not None
            and not ready
            and not self.gauge._in_flight
            and not (getattr(loop, "_scheduled", None) and _timer_due_soon(loop))
            and not (self._held and self._flushed())
        )

    async def settle(self) -> None:
        """Return once nothing can run without time moving (see the module docstring).

        Quiet is checked from inside the event loop, with this task the callback running:
        no other callback queued (every task woken, every ``call_soon``, lands in that
        queue), no database operation in flight (its completion arrives from a thread), no
        wall-clock timer due soon and no flusher holding work (it starts that work, which
        lands in the queue). Nothing else can make work appear, so one look is
        enough and a loop that is already quiet costs no iteration at all; while only the
        database is busy the loop sleeps in epoll until its answer comes."""
        loop = self._running_loop()
        ready = self._ready
        if ready is None:
            await self._settle_by_yielding(loop)
            return
        while True:
            if ready:
                self._yielding = True
                try:
                    await asyncio.sleep(0)
                finally:
                    self._yielding = False
            elif self.gauge._in_flight:
                await self.gauge.idle()
            elif getattr(loop, "_scheduled", None) and _timer_due_soon(loop):
                # Real-time waits (a retry backoff) are part of the work, not of market time.
                await asyncio.sleep(TIMER_POLL_SECONDS)
            elif self._held and self._flushed():
                continue  # the held work is queued now: run it
            else:
                return

    async def _settle_by_yielding(self, loop: asyncio.AbstractEventLoop) -> None:
        """:meth:`settle` on a loop whose queue cannot be seen (another implementation):
        quiet is several loop iterations in a row with nothing in flight."""
        quiet = 0
        while quiet < SETTLE_YIELDS:
            await asyncio.sleep(0)
            if self.gauge.in_flight:
                await self.gauge.idle()
                quiet = 0
            elif _timer_due_soon(loop):
                await asyncio.sleep(TIMER_POLL_SECONDS)
                quiet = 0
            elif self._held and self._flushed():
                quiet = 0
            else:
                quiet += 1

    def start(self, work: Awaitable[Any]) -> asyncio.Future[Any]:
        """``work`` started as a task would start it, without the loop turn a task costs.

        A task runs its first step on the next loop iteration, the first callback of it when
        the loop is quiet (:meth:`settle`): nothing else can happen in between, so running
        that step here, now, is the same sequence of events. Most of a backtest's steps
        (read the book, decide nothing to do) and every equity reading finish in that first
        step: they return a finished future and cost no task and no loop iteration. A step
        that does wait goes on in a task (in its own copy of the context, as any task) that
        takes over the awaited future at the front of the next iteration - before anything
        the first step set off can run, as a task started the usual way would have.
        When the loop is not quiet, or cannot be looked into, ``work`` becomes a task.
        (One difference shows: during that first step ``asyncio.current_task()`` is the
        caller's task; nothing on the backtest's path asks.)"""
        loop = self._running_loop()
        ready = self._ready
        if (
            ready is None
            or ready
            or (work.__class__ is not CoroutineType and not asyncio.iscoroutine(work))
            or self.gauge._in_flight
            or (getattr(loop, "_scheduled", None) and _timer_due_soon(loop))
            or (self._held and self._flushed())
        ):
            return asyncio.ensure_future(work)
        context = contextvars.copy_context()
        done: asyncio.Future[Any] = loop.create_future()
        try:
            awaited = context.run(work.send, None)
        except StopIteration as stop:
            done.set_result(stop.value)
            return done
        except asyncio.CancelledError:
            done.cancel()
            return done
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            done.set_exception(exc)
            return done
        queued = len(ready)
        task = loop.create_task(_Resumed(work, awaited), context=context)
        if len(ready) == queued + 1:  # the task's first step: to the front of the queue
            ready.appendleft(ready.pop())
        return task

    async def advance_to(self, target: datetime) -> None:
        """Move to ``target``, waking each sleeper whose deadline passes, in deadline order,
        and letting everything it sets off run before time moves on."""
        outer, self._advancing_to = self._advancing_to, target
        try:
            if not self.quiet():
                await self.settle()
            while True:
                deadline = self.next_deadline()
                if deadline is None or deadline > target:
                    break
                _, _, future = heapq.heappop(self._heap)
                self._now = max(self._now, deadline)
                future.set_result(None)
                await self.settle()
        finally:
            self._advancing_to = outer
        self._now = max(self._now, target)


def _timer_due_soon(loop: asyncio.AbstractEventLoop) -> bool:
    """A wall-clock timer (``asyncio.sleep``, ``wait_for``) due within the horizon.

    ``_scheduled`` is the base event loop's timer heap; a loop without one (another
    implementation) has none to wait for.
    """
    scheduled = getattr(loop, "_scheduled", None)
    if not scheduled:
        return False
    horizon = loop.time() + REAL_TIMER_HORIZON
    return any(not h.cancelled() and h.when() <= horizon for h in scheduled)


class _Resumed(Coroutine[Any, Any, Any]):
    """A coroutine already run to its first ``await``, for a task to carry on with.

    Its first ``send`` hands the task what the coroutine awaited (the task then waits for
    it, exactly as if it had run that step itself); everything after goes to the coroutine.
    """

    def __init__(self, coroutine: Coroutine[Any, Any, Any], awaited: Any) -> None:
        self._coroutine = coroutine
        self._awaited = awaited
        self._started = False

    def send(self, value: Any) -> Any:
        if not self._started:
            self._started = True
            return self._awaited
        return self._coroutine.send(value)

    def throw(self, *args: Any) -> Any:
        self._started = True
        return self._coroutine.throw(*args)

    def close(self) -> None:
        self._coroutine.close()

    def __await__(self) -> Generator[Any, Any, Any]:
        raise TypeError("a resumed coroutine is driven by its task, not awaited")
