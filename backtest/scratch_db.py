"""The database a backtest's journal, state store and bot rows live in: a scratch SQLite file.

A backtest runs the live order path, and that path journals every order before sending it;
its rows are scaffolding here (the results go to ``backtest_runs`` in the user's database),
so each run gets a private SQLite file in a temporary folder, copied from a migrated template,
and deleted afterwards. Migrating costs half a second - more than a short backtest's whole
run - and a copy a few milliseconds, so the template is kept in the runtime directory's
``cache/`` for the next process too, named by a digest of what its schema depends on (the
migration scripts, SQLAlchemy, Alembic, SQLite): a changed migration gets a new template.

aiosqlite runs every statement, fetch and commit through one method of its connection,
``_execute``, which hands it to the connection's thread and waits for the answer; that hop
(a queue, a thread switch, the event loop woken through its self-pipe) costs far more than
a statement on a small local file, and a backtest makes thousands. :class:`_ScratchConnection`
runs the statement right away in the event loop's thread instead: the backtest's clock is
simulated, so nothing waits on the loop meanwhile, and the result no longer depends on thread
timing at all. The one case where that could hang is a statement that has to wait for a lock
another connection holds (every transaction is ``BEGIN IMMEDIATE``): only that connection's
coroutine, on this same thread, could release it. So while another connection of the file is
inside a transaction, or a statement is already in a thread, statements go to their thread
as aiosqlite would, counted in flight (:class:`~backtest.clock.IoGauge`) so that the
simulated clock does not move before they are done.

SQLAlchemy's async layer adds a hop of its own: its sync code runs in a greenlet, and every
driver call (a cursor, an execute, a fetch, a close, a commit: four or five per statement)
switches to the task's greenlet to await the driver's coroutine and back with the answer.
With the statement run inline that coroutine finishes the moment it starts, so
:class:`_InlineAdaptedConnection` starts it right there and switches only if it really waits
(a statement handed to the thread): the same calls in the same order, without the switches -
except the first call of each of SQLAlchemy's greenlets, which switches as usual: part of its
async API (``AsyncConnection.execute``) refuses a call during which no switch happened.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite
import sqlalchemy
from greenlet import getcurrent  # type: ignore[import-untyped]  # SQLAlchemy runs on it
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import await_only

from backtest.clock import IoGauge
from core.paths import var_dir
from database.engine import create_engine, session_maker
from database.schema_version import ALEMBIC_INI, MIGRATIONS_DIR

T = TypeVar("T")
_template: Path | None = None
_template_lock = asyncio.Lock()


class _ScratchConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs statements in the caller's thread when it safely can
    (see the module docstring) and counts those it hands to its thread on ``gauge``."""

    def __init__(
        self,
        connector: Callable[[], sqlite3.Connection],
        gauge: IoGauge,
        peers: list[_ScratchConnection],
    ) -> None:
        super().__init__(connector, 64)
        self._gauge = gauge
        self._peers = peers
        peers.append(self)

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self._running and self._connection is not None and self._alone():
            return fn(*args, **kwargs)
        handed_over = super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        return await self._in_thread(handed_over)

    async def _connect(self) -> aiosqlite.Connection:
        try:
            connection: aiosqlite.Connection = await self._in_thread(super()._connect())
            return connection
        except BaseException:
            self._forget()
            raise

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self._forget()

    def _alone(self) -> bool:
        """No statement in a thread and no other connection inside a transaction."""
        if self._gauge.in_flight:
            return False
        for peer in self._peers:
            connection = peer._connection
            if peer is not self and connection is not None and connection.in_transaction:
                return False
        return True

    async def _in_thread(self, operation: Awaitable[Any]) -> Any:
        self._gauge.in_flight += 1
        try:
            return await operation
        finally:
            self._gauge.in_flight -= 1

    def _forget(self) -> None:
        if self in self._peers:
            self._peers.remove(self)


_switched_from: list[object] = [None]  # the greenlet whose driver call last switched out


def _await_inline(awaitable: Awaitable[T]) -> T:
    """``await_only`` for a driver call that usually finishes at once: started here, in the
    calling greenlet; only one that does wait (its first step yields a future) is handed,
    already started, to the task's greenlet to be awaited there, as ``await_only`` would.

    The first call in each greenlet is awaited by ``await_only`` itself (see the module
    docstring). A greenlet is remembered by reference, so a new one is never taken for it."""
    current = getcurrent()
    if current is not _switched_from[0]:
        _switched_from[0] = current
        first: T = await_only(awaitable)
        return first
    steps = awaitable.__await__()
    try:
        awaited = steps.send(None)
    except StopIteration as stop:
        result: T = stop.value
        return result
    waited: T = await_only(_Started(steps, awaited))
    return waited


class _Started:
    """An awaitable whose first step has run: awaiting it yields what that step yielded, then
    goes on with the rest (sends, throws and closes passed through, as ``yield from`` does)."""

    def __init__(self, steps: Generator[Any, Any, Any], awaited: Any) -> None:
        self._steps = steps
        self._awaited = awaited

    def __await__(self) -> Generator[Any, Any, Any]:
        steps, awaited = self._steps, self._awaited
        while True:
            try:
                value = yield awaited
            except GeneratorExit:
                steps.close()
                raise
            except BaseException as exc:
                try:
                    awaited = steps.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    awaited = steps.send(value)
                except StopIteration as stop:
                    return stop.value


class _InlineAdaptedConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's adapter of an aiosqlite connection, awaiting driver calls with
    :func:`_await_inline` (its cursors take the connection's ``await_``)."""

    __slots__ = ()
    await_ = staticmethod(_await_inline)


@dataclass
class ScratchDatabase:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


def template_key() -> str:
    """A digest of what the migrated schema depends on: the migration scripts (their paths
    and contents), the Alembic configuration and the versions of the libraries that run them."""
    digest = hashlib.sha256()
    # Alembic's version read from its metadata: importing it costs a backtest process ~0.12 s
    # that a cached template no longer needs (database.migrate is imported only to build one).
    for version in (sqlalchemy.__version__, metadata.version("alembic"), sqlite3.sqlite_version):
        digest.update(version.encode() + b"\0")
    digest.update(ALEMBIC_INI.read_bytes())
    for path in sorted(MIGRATIONS_DIR.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".mako"):
            name = path.relative_to(MIGRATIONS_DIR).as_posix()
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


async def _build_template(cached: Path) -> None:
    """Migrate a fresh file and move it to ``cached`` in one step (a concurrent run sees a
    whole template or none; two that both build it write the same schema); templates of other
    schemas are removed."""
    from database.migrate import upgrade

    cached.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="building-", dir=cached.parent))
    try:
        path = folder / "template.db"
        await upgrade(f"sqlite+aiosqlite:///{path}")
        os.replace(path, cached)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for old in cached.parent.glob("backtest-template-*.db"):
        if old != cached:
            old.unlink(missing_ok=True)


async def _migrated_template() -> Path:
    global _template
    async with _template_lock:
        if _template is None or not await asyncio.to_thread(_template.exists):
            cached = var_dir() / "cache" / f"backtest-template-{template_key()}.db"
            if not await asyncio.to_thread(cached.exists):
                await _build_template(cached)
            _template = cached
        return _template


@asynccontextmanager
async def scratch_database(gauge: IoGauge) -> AsyncIterator[ScratchDatabase]:
    """A migrated private database whose I/O ``gauge`` counts; removed on exit."""
    template = await _migrated_template()
    folder = Path(tempfile.mkdtemp(prefix="perpfleet-backtest-"))
    path = folder / "run.db"
    try:
        path.touch(mode=0o600)  # private, like every database file the project creates
        shutil.copyfile(template, path)
        connector = partial(sqlite3.connect, str(path), check_same_thread=False)
        peers: list[_ScratchConnection] = []

        async def connect() -> aiosqlite.Connection:
            return await _ScratchConnection(connector, gauge, peers)

        url = f"sqlite+aiosqlite:///{path}"
        engine: AsyncEngine

        def creator() -> _InlineAdaptedConnection:
            # What async_creator would do (SQLAlchemy's dbapi.connect), with the inline adapter.
            connection = await_only(connect())
            dbapi = engine.sync_engine.dialect.dbapi
            return _InlineAdaptedConnection(dbapi, cast(Any, connection))

        engine = create_engine(url, creator=creator)
        try:
            yield ScratchDatabase(url, engine, session_maker(engine))
        finally:
            await engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
