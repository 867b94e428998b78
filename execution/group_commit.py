"""Group commit: the journal's writes share transactions, and urgent ones never queue behind
bookkeeping.

A committed transaction costs about a millisecond through SQLAlchemy's async drivers (more on
a busy machine), and SQLite takes one writer at a time. Two kinds of writes reach the journal:

* **urgent** - an order intent must be durable *before* the order is sent, so a hedge waits
  for it: it starts a transaction at once, together with whatever else is pending;
* **deferred** - order states and fills recorded behind the tracker: they wait up to
  ``defer_seconds`` for an urgent write to ride along with (or for :meth:`expedite`), so the
  transaction a fill triggers is not the one the hedge reacting to that fill has to wait for.

Every write still gets its own outcome: if a shared transaction fails, its writes are retried
one by one, so only the write at fault sees the error.

A backtest uses :class:`QuietPointCommitter` instead: its database is a scratch file thrown
away after the run and its time is simulated, so no write needs to be durable at once, and a
transaction's fixed cost (a session, ``BEGIN IMMEDIATE``, ``COMMIT``, WAL locks) was most of
the run's database work - one transaction per write, ~1,250 for ~460 orders. It holds every
write until the event loop has nothing else to run (the simulated clock asks it,
:meth:`~backtest.clock.SimulatedClock.add_flusher`, before it moves time or calls the loop
quiet) and commits them all in one transaction, in the order they were asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[Any]]

DEFER_SECONDS = 0.025


@dataclass
class _Job:
    work: Work
    future: asyncio.Future[Any]


class GroupCommitter:
    """Runs write functions one transaction at a time, batching what arrives together."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], defer_seconds: float = DEFER_SECONDS
    ) -> None:
        self._sessions = sessions
        self._defer_seconds = defer_seconds
        self._urgent: list[_Job] = []
        self._deferred: list[_Job] = []
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each transaction this writer commits (not after one that
        failed). It runs in the writer's task, so it must be quick and must not raise."""
        self._after_commit.append(listener)

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Commit ``work`` now (with whatever is pending) and return its result."""
        job = self._job(work)
        self._urgent.append(job)
        self._kick.set()
        self._ensure_running()
        result: T = await job.future
        return result

    def submit(self, work: Callable[[AsyncSession], Awaitable[T]]) -> asyncio.Future[T]:
        """Queue ``work`` as urgent and return its outcome without waiting for it.

        For a write that must land before anything queued after it but that nobody should wait
        for (an intent moving into ``orders`` while its order is being sent): every later
        write queues behind it. The caller must read the future's outcome (it is an error to
        leave a failed write unobserved)."""
        job = self._job(work)
        self._urgent.append(job)
        self._kick.set()
        self._ensure_running()
        future: asyncio.Future[T] = job.future
        return future

    async def run_deferred(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Commit ``work`` with the next urgent write, or after ``defer_seconds``."""
        job = self._job(work)
        self._deferred.append(job)
        self._ensure_running()
        result: T = await job.future
        return result

    def expedite(self) -> None:
        """Commit deferred work without waiting (someone needs it written: a flush)."""
        self._kick.set()

    @staticmethod
    def _job(work: Work) -> _Job:
        return _Job(work, asyncio.get_running_loop().create_future())

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._commit_forever())

    async def _commit_forever(self) -> None:
        try:
            while self._urgent or self._deferred:
                if not self._urgent and not self._kick.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._kick.wait(), self._defer_seconds)
                self._kick.clear()
                if self._urgent:  # alone: an urgent write never pays for the bookkeeping
                    batch, self._urgent = self._urgent, []
                else:
                    batch, self._deferred = self._deferred, []
                await self._commit(batch)
        except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
            for job in self._urgent + self._deferred:
                if not job.future.done():
                    job.future.set_exception(exc)
            raise

    def _transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session in a transaction, committed on exit (rolled back on an error)."""
        return self._sessions.begin()

    async def _commit(self, batch: list[_Job]) -> None:
        live = [job for job in batch if not job.future.done()]  # a cancelled caller: skip
        if not live:
            return
        try:
            async with self._transaction() as session:
                results = [await job.work(session) for job in live]
        except Exception as exc:
            if len(live) == 1:
                live[0].future.set_exception(exc)
                return
            for job in live:  # find the write at fault; the others still commit
                await self._commit([job])
            return
        for job, result in zip(live, results, strict=True):
            if not job.future.done():
                job.future.set_result(result)
        for listener in self._after_commit:
            listener()


class QuietPointCommitter(GroupCommitter):
    """A committer for simulated time: writes are held, then committed together when the
    loop would otherwise be quiet (see the module docstring).

    Urgent and deferred writes are alike here: each caller still waits for its own write's
    outcome, and a write that must be committed before something else happens (an intent
    before its order is sent) still is - its caller waits for :meth:`flush`, which comes
    before simulated time can move, so nothing in the backtest's world happens in between.
    The deadlock a step-scoped batch had (a step waiting for a write that only the end of
    that step would release) cannot happen: the held batch is work that needs no time, and
    the clock starts it whenever nothing else can run.

    :meth:`flush` must be registered with the clock that drives the loop, and the clock told
    when writes start being held (:meth:`when_holding`). :meth:`release`
    ends the holding (writes commit at once, as :class:`GroupCommitter`'s urgent ones do)
    for whatever runs once the clock no longer drives the loop, such as the shutdown."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(sessions, defer_seconds=0)
        self._held: list[_Job] = []
        self._holding = True
        self._flushing: asyncio.Task[None] | None = None  # the last commit flush started
        self._session: AsyncSession | None = None  # see _transaction
        self._holding_listeners: list[Callable[[], None]] = []

    def when_holding(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` when a write is held and none was (a flush is due)."""
        self._holding_listeners.append(listener)

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        if not self._holding:
            return await super().run(work)
        job = self._hold(work)
        result: T = await job.future
        return result

    def submit(self, work: Callable[[AsyncSession], Awaitable[T]]) -> asyncio.Future[T]:
        if not self._holding:
            return super().submit(work)
        future: asyncio.Future[T] = self._hold(work).future
        return future

    async def run_deferred(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await self.run(work)

    def expedite(self) -> None:
        """Nothing to hurry: held writes commit at the next quiet point anyway."""
        if not self._holding:
            super().expedite()

    def _hold(self, work: Work) -> _Job:
        job = self._job(work)
        if not self._held:
            for listener in self._holding_listeners:
                listener()
        self._held.append(job)
        return job

    def flush(self) -> bool:
        """Start committing the held writes, in one transaction, in the order they came.

        True when a commit was started - a task now ready to run, so the loop is not quiet;
        False when nothing is held. A commit still under way (a statement in the database's
        thread) is waited for first: one transaction at a time."""
        if not self._held:
            return False
        batch, self._held = self._held, []
        previous = self._flushing
        self._flushing = asyncio.get_running_loop().create_task(self._commit_after(previous, batch))
        return True

    def release(self) -> None:
        """Stop holding: what is held is committed now, later writes as they come."""
        self._holding = False
        if self._held:
            self._urgent.extend(self._held)
            self._held = []
            self._kick.set()
            self._ensure_running()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        """One session for every transaction, emptied after each (as a new one would be):
        making and closing a session per transaction cost more than its statements (~0.1 ms
        each, about a third of a transaction with one statement, measured)."""
        session = self._session
        if session is None:
            session = self._session = self._sessions()
        elif session.in_transaction():  # released: a last flush may still be under way
            async with self._sessions.begin() as own:
                yield own
            return
        try:
            async with session.begin():
                yield session
        finally:
            session.expunge_all()

    async def _commit_after(self, previous: asyncio.Task[None] | None, batch: list[_Job]) -> None:
        if previous is not None and not previous.done():
            with contextlib.suppress(BaseException):
                await previous
        try:
            await self._commit(batch)
        except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            raise
