"""The durable intent write on a dedicated connection held open: one INSERT, committed.

An order's intent must be committed before the order is sent (:mod:`execution.journal`).
Through the shared writer (:class:`~execution.group_commit.GroupCommitter`) that cost an ORM
session, a pooled connection, ``BEGIN IMMEDIATE``, a flush and a ``COMMIT``: about a
millisecond, most of the tick-to-order path of a fast strategy. The intent is one row that
nothing else writes at that moment, so it does not need any of that:

* **SQLite** - one ``sqlite3`` connection, opened once with the engine's pragmas (WAL,
  ``synchronous=NORMAL``, foreign keys) in autocommit mode: the INSERT is its own transaction,
  committed to the WAL when ``execute`` returns - which survives the process being killed, the
  guarantee the journal gives (see :mod:`database.engine`). Written inline when the file is
  free, in a dedicated thread when another connection holds the lock
  (:class:`SqliteIntentWriter`): the event loop never waits on the file lock.
* **PostgreSQL** - one asyncpg connection with the INSERT prepared once; outside a
  transaction block the statement commits itself (``synchronous_commit`` as the server has it:
  the WAL is flushed before the server answers).

Either way the call returns only once the row is committed, so "recorded before sent" holds
exactly as before (tests/execution/test_intent_writer.py kills a process the moment the venue
sees the order and finds the intent). The values go through the same SQLAlchemy column types
as the ORM (``ExactDecimal`` as exact text on SQLite, UTC timestamps), compiled once, so a row
written here reads back identically.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from database.engine import SQLITE_BUSY_TIMEOUT_MS
from database.models import Order as OrderRow
from database.types import utcnow

COLUMNS: tuple[str, ...] = (
    "client_order_id",
    "bot_id",
    "venue",
    "account_id",
    "symbol",
    "side",
    "order_type",
    "price",
    "trigger_price",
    "size",
    "filled_size",
    "status",
    "reduce_only",
    "post_only",
    "purpose",
    "operation_id",
    "created_at",
    "updated_at",
)


class DuplicateIntent(Exception):
    """A row with this client order id exists already (the database's unique constraint)."""


class IntentWriter(Protocol):
    """Writes one ``orders`` row (a ``pending`` intent) and commits it before returning."""

    async def insert(self, values: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


def intent_values(**values: Any) -> dict[str, Any]:
    """The row's values, stamped now (created_at = updated_at), as :data:`COLUMNS` wants."""
    now = utcnow()
    return {**values, "created_at": now, "updated_at": now}


class _Compiled:
    """The INSERT compiled once for ``dialect``, and each column's bind processor."""

    def __init__(self, dialect: Dialect) -> None:
        table = cast(Table, OrderRow.__table__)
        statement = insert(table).values({name: None for name in COLUMNS})
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        order = compiled.positiontup or list(COLUMNS)
        self.order: tuple[str, ...] = tuple(order)
        processors: dict[str, Callable[[Any], Any] | None] = {
            name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in COLUMNS
        }
        self.processors = processors

    def params(self, values: dict[str, Any]) -> list[Any]:
        row = []
        for name in self.order:
            value = values.get(name)
            processor = self.processors[name]
            row.append(processor(value) if processor is not None and value is not None else value)
        return row


class SqliteIntentWriter:
    """The intent INSERT on one SQLite connection: inline when the file is free, else waited
    for in a dedicated thread.

    The INSERT itself takes tens of microseconds (WAL, ``synchronous=NORMAL``: no fsync), less
    than handing it to a thread costs on a busy machine. So it is tried inline first with
    ``busy_timeout=0``: when another connection holds the write lock SQLite answers "locked"
    at once, without waiting, and the write goes to the dedicated thread, which waits for the
    lock as every other writer does (the engine's busy timeout). The event loop never waits on
    the lock. This connection never checkpoints the WAL (``wal_autocheckpoint=0``), so no
    fsync happens inline either: the engine's connections checkpoint as before.
    """

    def __init__(self, path: str, dialect: Dialect) -> None:
        self._compiled = _Compiled(dialect)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="intent-writer"
        )
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._in_thread = 0  # writes handed to the thread and not finished: no inline use
        self.inline_writes = 0
        self.waited_writes = 0

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in (
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=0",
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA wal_autocheckpoint=0",
        ):
            connection.execute(pragma)
        return connection

    def _execute(self, params: Sequence[Any]) -> None:
        assert self._connection is not None
        try:
            self._connection.execute(self._compiled.sql, params)  # autocommit: committed now
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise DuplicateIntent(str(exc)) from None
            raise

    def _execute_waiting(self, params: Sequence[Any]) -> None:
        assert self._connection is not None
        self._connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        try:
            self._execute(params)
        finally:
            self._connection.execute("PRAGMA busy_timeout=0")

    async def insert(self, values: dict[str, Any]) -> None:
        params = self._compiled.params(values)
        if self._connection is None:
            await self.open()
        if not self._in_thread:
            try:
                self._execute(params)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            else:
                self.inline_writes += 1
                return
        self._in_thread += 1
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._executor, self._execute_waiting, params
            )
        finally:
            self._in_thread -= 1
        self.waited_writes += 1

    async def open(self) -> None:
        """Connect now (in the writer's thread), so the first intent does not pay for it."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._open)

    def _open(self) -> None:
        if self._connection is None:
            self._connection = self._connect()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)


class PostgresIntentWriter:
    """The intent INSERT prepared on one asyncpg connection (autocommit)."""

    def __init__(self, dsn: str, dialect: Dialect) -> None:
        self._compiled = _Compiled(dialect)
        self._dsn = dsn
        self._connection: Any = None
        self._statement: Any = None
        self._lock = asyncio.Lock()  # one statement at a time on one connection

    async def open(self) -> None:
        import asyncpg

        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(self._dsn)
            self._statement = await self._connection.prepare(self._compiled.sql)

    async def insert(self, values: dict[str, Any]) -> None:
        import asyncpg

        params = self._compiled.params(values)
        async with self._lock:
            await self.open()
            try:
                await self._statement.fetch(*params)
            except asyncpg.UniqueViolationError as exc:
                raise DuplicateIntent(str(exc)) from None
            except (asyncpg.InterfaceError, OSError):
                # The outcome is unknown: the caller does not send; the next intent reconnects
                # (the journal's reconcile settles a row that did commit, as for any crash).
                await self._drop()
                raise

    async def _drop(self) -> None:
        connection, self._connection, self._statement = self._connection, None, None
        if connection is not None:
            connection.terminate()

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None


async def open_intent_writer(
    engine: AsyncEngine,
) -> SqliteIntentWriter | PostgresIntentWriter | None:
    """A dedicated intent writer for ``engine``'s database, connected; None when the database
    cannot be shared by a second connection (in-memory SQLite) or is another kind."""
    url = engine.url
    dialect = engine.dialect
    writer: SqliteIntentWriter | PostgresIntentWriter
    if dialect.name == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or "mode=memory" in str(url.query):
            return None
        writer = SqliteIntentWriter(database, dialect)
    elif dialect.name == "postgresql" and dialect.driver == "asyncpg":
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        writer = PostgresIntentWriter(dsn, dialect)
    else:
        return None
    await writer.open()
    return writer


__all__ = [
    "COLUMNS",
    "DuplicateIntent",
    "IntentWriter",
    "PostgresIntentWriter",
    "SqliteIntentWriter",
    "intent_values",
    "open_intent_writer",
]
