"""The durable intent write on a dedicated connection held open: one small row, committed.

An order's intent must be committed before the order is sent (:mod:`execution.journal`).
Through the shared writer (:class:`~execution.group_commit.GroupCommitter`) that cost an ORM
session, a pooled connection, ``BEGIN IMMEDIATE``, a flush and a ``COMMIT``: about a
millisecond, most of the tick-to-order path of a fast strategy. The intent is one row that
nothing else writes at that moment, so it does not need any of that:

* **SQLite** - one ``sqlite3`` connection, opened once with the engine's pragmas (WAL,
  ``synchronous=NORMAL``) in autocommit mode: the INSERT is its own transaction, committed to
  the WAL when ``execute`` returns - which survives the process being killed, the guarantee
  the journal gives (see :mod:`database.engine`). Written inline when the file is free, in a
  dedicated thread when another connection holds the lock (:class:`SqliteIntentWriter`): the
  event loop never waits on the file lock.
* **PostgreSQL** - one asyncpg connection with the INSERT prepared once; outside a
  transaction block the statement commits itself (``synchronous_commit`` as the server has it:
  the WAL is flushed before the server answers).

The row goes to ``order_intents`` (:class:`~database.models.PendingIntent`), not ``orders``:
one b-tree holding only the intents not yet moved, instead of the ``orders`` row's five
b-trees and three foreign keys on pages the other connections' writes keep invalidating
(~300 us of the path on SQLite, measured; the small row ~30 us). The intent's fields travel
as one text (:func:`encode_row`); the journal writes the ``orders`` row they make
(:func:`decode_row`) in its next transaction. The same statement refuses a client order id
that ``orders`` already holds, so a duplicate is still caught before the send.

Either way the call returns only once the row is committed, so "recorded before sent" holds
exactly as before (tests/execution/test_intent_writer.py kills a process the moment the venue
sees the order and finds the intent).
"""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import json
import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import structlog
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from database.engine import SQLITE_BUSY_TIMEOUT_MS
from exchange_clients.types import OrderStatus

ROW_FIELDS: tuple[str, ...] = (
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
    "reduce_only",
    "post_only",
    "purpose",
    "operation_id",
    "created_us",
)
"""What an intent's text holds, in this order (:func:`encode_row`): the ``orders`` columns it
sets, decimals as their exact ``str``, and the time it was recorded in microseconds since the
epoch (``created_at`` = ``updated_at``). The other columns an intent sets are implied: status
``pending``, nothing filled; the rest keep their defaults until the venue answers."""
DECIMAL_FIELDS = ("price", "trigger_price", "size")
log = structlog.get_logger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PENDING = OrderStatus.PENDING.value

# Refuses an id ``orders`` holds already; one pending intent per id is the primary key's job.
_INSERT = (
    "INSERT INTO order_intents (client_order_id, bot_id, order_row) "
    "SELECT {0}, {1}, {2} WHERE NOT EXISTS "
    "(SELECT 1 FROM orders WHERE client_order_id = {0})"
)


class DuplicateIntent(Exception):
    """An intent or an order with this client order id exists already."""


class IntentWriter(Protocol):
    """Commits one pending intent (``order_intents``) before returning."""

    async def insert(self, client_order_id: str, bot_id: int, order_row: str) -> None: ...

    async def close(self) -> None: ...

    def refresh(self) -> None:
        """Another connection committed: make the next insert cheap again (best effort)."""


def now_us() -> int:
    """The wall clock in microseconds since the epoch: an intent's ``created_us``."""
    return time.time_ns() // 1000


def encode_row(row: tuple[Any, ...]) -> str:
    """An intent's fields (:data:`ROW_FIELDS`, in order) as one text: the tuple's ``repr``.

    Only strings, integers, booleans and None, so :func:`ast.literal_eval` reads it back
    exactly, and nothing else can (no code runs on decoding). It is the cheapest encoding on
    the order's critical path: ~14 us with the CPU's caches cold, as they are when a tick
    arrives, where a JSON object of the same values with a ``default`` hook cost ~27 us.
    """
    if len(row) != len(ROW_FIELDS):
        raise ValueError(f"an intent row has {len(ROW_FIELDS)} fields, not {len(row)}")
    return repr(row)


def decode_row(text: str) -> dict[str, Any]:
    """An intent's text read back as the ``orders`` row's values: ``Decimal`` prices and
    sizes, aware ``datetime`` stamps, status ``pending`` and nothing filled.

    Also reads the JSON object of the ``orders`` columns that release 0015 wrote, so an
    intent a crash left behind under it is still moved after an upgrade."""
    if text.startswith("{"):
        return _decode_json(text)
    fields = ast.literal_eval(text)
    if not isinstance(fields, tuple) or len(fields) != len(ROW_FIELDS):
        raise ValueError(f"not an intent row of {len(ROW_FIELDS)} fields: {text[:80]!r}")
    return row_values(fields)


def row_values(fields: tuple[Any, ...]) -> dict[str, Any]:
    """An intent's fields (:data:`ROW_FIELDS`, in order) as the ``orders`` row's values, as
    :func:`decode_row` reads them from the text - for a journal that writes the row itself
    (no dedicated intent connection: a backtest) without a text to read back."""
    values = dict(zip(ROW_FIELDS, fields, strict=True))
    for name in DECIMAL_FIELDS:
        if values[name] is not None:
            values[name] = Decimal(values[name])
    created = _EPOCH + timedelta(microseconds=values.pop("created_us"))
    values.update(filled_size=Decimal(0), status=_PENDING, created_at=created, updated_at=created)
    return values


def _decode_json(text: str) -> dict[str, Any]:
    values: dict[str, Any] = json.loads(text)
    for name in (*DECIMAL_FIELDS, "filled_size"):
        if values.get(name) is not None:
            values[name] = Decimal(values[name])
    for name in ("created_at", "updated_at"):
        values[name] = datetime.fromisoformat(values[name])
    return values


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

    SQL = _INSERT.format("?1", "?2", "?3")
    # What an insert reads: the orders index (the duplicate check) and the intents b-tree,
    # at the last id written (the next one sorts next to it).
    PROBE = (
        "SELECT 1 FROM orders WHERE client_order_id = ?1 "
        "UNION ALL SELECT 1 FROM order_intents WHERE client_order_id = ?1"
    )

    def __init__(self, path: str) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="intent-writer"
        )
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._in_thread = 0  # writes handed to the thread and not finished: no inline use
        self.inline_writes = 0
        self.waited_writes = 0
        self._last_id = ""
        self._closing = False

    def refresh(self) -> None:
        """Re-read, off the order's path, the pages the next intent will touch.

        When another connection commits, SQLite drops this connection's whole page cache, so
        the next intent re-read its pages inside the insert (five system calls more, ~20 us of
        a cold tick-to-order path here). The journal calls this after each of its commits
        (:meth:`GroupCommitter.after_commit`): a read, so it never waits for the write lock
        (WAL); skipped while a write waits in the thread, and a failure only leaves the
        insert to read its pages itself."""
        if self._connection is None or self._in_thread or self._closing:
            return
        try:
            self._connection.execute(self.PROBE, (self._last_id,)).fetchall()
        except sqlite3.Error as exc:
            log.debug("intent connection not refreshed", error=str(exc))

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in (
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
            cursor = self._connection.execute(self.SQL, params)  # autocommit: committed now
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise DuplicateIntent(
                    f"an intent for client order id {params[0]!r} is pending"
                ) from None
            raise
        if cursor.rowcount != 1:
            raise DuplicateIntent(f"client order id {params[0]!r} is in orders already")

    def _execute_waiting(self, params: Sequence[Any]) -> None:
        assert self._connection is not None
        self._connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        try:
            self._execute(params)
        finally:
            self._connection.execute("PRAGMA busy_timeout=0")

    async def insert(self, client_order_id: str, bot_id: int, order_row: str) -> None:
        params = (client_order_id, bot_id, order_row)
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
                self._last_id = client_order_id
                return
        self._in_thread += 1
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._executor, self._execute_waiting, params
            )
        finally:
            self._in_thread -= 1
        self.waited_writes += 1
        self._last_id = client_order_id

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
        self._closing = True  # no refresh on the loop while the thread closes the connection
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)


class PostgresIntentWriter:
    """The intent INSERT prepared on one asyncpg connection (autocommit)."""

    SQL = _INSERT.format("$1::varchar", "$2::integer", "$3::text") + " RETURNING client_order_id"

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._connection: Any = None
        self._statement: Any = None
        self._lock = asyncio.Lock()  # one statement at a time on one connection

    async def open(self) -> None:
        import asyncpg

        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(self._dsn)
            self._statement = await self._connection.prepare(self.SQL)

    async def insert(self, client_order_id: str, bot_id: int, order_row: str) -> None:
        import asyncpg

        async with self._lock:
            await self.open()
            try:
                inserted = await self._statement.fetch(client_order_id, bot_id, order_row)
            except asyncpg.UniqueViolationError:
                raise DuplicateIntent(
                    f"an intent for client order id {client_order_id!r} is pending"
                ) from None
            except (asyncpg.InterfaceError, OSError):
                # The outcome is unknown: the caller does not send; the next intent reconnects
                # (the journal's reconcile settles a row that did commit, as for any crash).
                await self._drop()
                raise
            if not inserted:
                raise DuplicateIntent(f"client order id {client_order_id!r} is in orders already")

    def refresh(self) -> None:
        """Nothing to do: the server's buffers are shared by every connection."""

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
        writer = SqliteIntentWriter(database)
    elif dialect.name == "postgresql" and dialect.driver == "asyncpg":
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        writer = PostgresIntentWriter(dsn)
    else:
        return None
    await writer.open()
    return writer


__all__ = [
    "ROW_FIELDS",
    "DuplicateIntent",
    "IntentWriter",
    "PostgresIntentWriter",
    "SqliteIntentWriter",
    "decode_row",
    "encode_row",
    "now_us",
    "open_intent_writer",
    "row_values",
]
