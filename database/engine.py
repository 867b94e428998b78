"""Which database, and how to connect to it.

The default is a SQLite file ``var/perpfleet.db`` so a checkout works with no
server; ``DATABASE_URL`` switches to PostgreSQL through asyncpg for production.
Every engine is made here so that all of them share the same guarantees:
Decimal-safe JSON, foreign keys enforced on SQLite, and real transactions on
SQLite (see :func:`_configure_sqlite`).

File modes: the SQLite file holds the order journal, positions and the encrypted credentials,
and was created 0644 in a 0755 ``var/`` (readable by every local user). A database file this
module is about to create is made 0600 first (SQLite gives its ``-wal`` and ``-shm`` files the
database file's mode), a directory it creates is 0700, and the default ``var/`` is made 0700
when the database is first created in it. Looser modes on an existing database are never
changed behind the operator's back: each start warns once, with the ``chmod`` that fixes them
(the master key file is refused outright in that case, see :mod:`database.crypto.keys`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from core.paths import PROJECT_ROOT, VAR_DIR_ENV, var_dir
from database.errors import DatabaseConfigError
from database.types import json_dumps

DATABASE_URL_ENV = "DATABASE_URL"
SQLITE_FILE_NAME = "perpfleet.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")

# A lazy proxy: binding happens per call, after the CLI/runtime has configured logging.
log = structlog.get_logger(__name__)
_warned: set[Path] = set()

_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


def database_url() -> str:
    """The configured database URL, normalised to an async driver.

    ``$DATABASE_URL`` when set, else the SQLite file under :func:`var_dir`
    (which creates ``var/`` on first use).
    """
    configured = os.environ.get(DATABASE_URL_ENV, "").strip()
    if configured:
        return normalise_url(configured)
    return f"sqlite+aiosqlite:///{var_dir() / SQLITE_FILE_NAME}"


def normalise_url(url: str) -> str:
    """Map ``postgres://``/``postgresql://``/``sqlite://`` URLs to their async drivers.

    Hosting providers hand out ``postgres://`` URLs and libpq's ``sslmode``
    parameter; asyncpg understands neither, so both are translated here.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseConfigError(
            f"{DATABASE_URL_ENV} is not a database URL: expected postgresql://user@host/db "
            "or sqlite:///path/to/file.db"
        ) from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise DatabaseConfigError(
            f"unsupported database URL scheme {parsed.drivername!r}: use postgresql:// (asyncpg) "
            "or sqlite:/// (aiosqlite)"
        )
    parsed = parsed.set(drivername=driver)
    if driver == "postgresql+asyncpg" and "sslmode" in parsed.query:
        query = dict(parsed.query)
        query["ssl"] = query.pop("sslmode")
        parsed = parsed.set(query=query)
    return parsed.render_as_string(hide_password=False)


def display_url(url: str) -> str:
    """``url`` with any password masked, fit for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> str | None:
    """The file behind a SQLite URL, or None for other backends and in-memory databases."""
    parsed: URL = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def create_engine(url: str | None = None, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` (default: :func:`database_url`), configured for perpfleet."""
    resolved = normalise_url(url) if url else database_url()
    path = sqlite_path(resolved)
    if path is not None:
        private_sqlite_file(Path(path))
    engine = _create_async_engine(resolved, json_serializer=json_dumps, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def private_sqlite_file(path: Path) -> None:
    """Create ``path`` (and its directory) private if missing; warn if it exists and is not."""
    path = path.expanduser()
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:  # another process created it first: checked below
            pass
        else:
            os.close(fd)  # SQLite takes an empty file as a new database
            if directory.resolve() == _var_dir_path().resolve():
                directory.chmod(0o700)  # a fresh var/ holds the key file and the database
    warn_if_readable_by_others(path)


def _var_dir_path() -> Path:
    """Where :func:`var_dir` points, without creating it (a custom database is elsewhere)."""
    configured = os.environ.get(VAR_DIR_ENV)
    return Path(configured).expanduser() if configured else PROJECT_ROOT / "var"


def warn_if_readable_by_others(path: Path) -> list[str]:
    """Log (once per process) each of the database's files and its directory that group or
    others can access; returns the ``chmod`` commands that fix them (empty when all private)."""
    fixes: list[str] = []
    candidates = [
        (path.parent, 0o700),
        (path, 0o600),
        *((path.with_name(path.name + suffix), 0o600) for suffix in SQLITE_COMPANION_SUFFIXES),
    ]
    for candidate, wanted in candidates:
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
        except FileNotFoundError:
            continue
        if not mode & 0o077:
            continue
        fix = f"chmod {wanted:o} {candidate}"
        fixes.append(fix)
        if candidate not in _warned:
            _warned.add(candidate)
            log.warning(
                "database file is accessible by group/others",
                path=str(candidate),
                mode=f"{mode:04o}",
                fix=fix,
            )
    return fixes


def session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy reload in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Make SQLite behave like a real transactional database.

    * ``foreign_keys=ON``: SQLite ignores foreign keys unless asked, per connection.
    * WAL + busy timeout: several bot processes share one file; readers must not
      block the writer and a briefly locked file must be waited for, not failed.
    * ``synchronous=NORMAL`` (SQLite's advice for WAL): a commit survives the process being
      killed at any point - what the order journal is for - without an fsync per commit;
      only an OS crash or power loss can lose the last commits.
    * Explicit ``BEGIN IMMEDIATE``: Python's sqlite3 driver only opens a transaction
      before INSERT/UPDATE/DELETE, so a SELECT-then-UPDATE (key rotation, the order
      journal) or DDL (migrations) would otherwise not be atomic. The driver's own
      transaction handling is switched off and SQLAlchemy's ``begin`` emits the BEGIN.
      IMMEDIATE takes the write lock up front: two deferred transactions that both read
      and then write deadlock, and SQLite fails one at once with "database is locked"
      instead of waiting (seen with two venues' order trackers journaling concurrently).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        _begin_immediate(connection)


def _begin_immediate(connection: Connection) -> None:
    """Emit ``BEGIN IMMEDIATE`` on the raw DB-API cursor, failing as ``exec_driver_sql`` would.

    Why not ``connection.exec_driver_sql``: it builds an execution context and a result for
    a statement that returns nothing, ~40-60 us per transaction - a backtest commits one
    transaction per journal write (tens of thousands per run). SQLAlchemy calls the
    ``begin`` event outside the try/except that wraps DB-API errors in ``do_begin``, so the
    error (e.g. "database is locked" after the busy timeout) is handed to the connection's
    own handler here, with the statement, as ``exec_driver_sql`` does: callers keep seeing
    ``sqlalchemy.exc.OperationalError`` and a connection that is closed as a lost one when
    the driver says so. A non-DB-API error is passed on unwrapped, as with a statement that
    already had its execution context.
    """
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_BEGIN_IMMEDIATE)
    except BaseException as error:
        wrapped = isinstance(error, connection.dialect.loaded_dbapi.Error)
        connection._handle_dbapi_exception(
            error,
            _BEGIN_IMMEDIATE if wrapped else None,
            () if wrapped else None,
            cursor,
            None,
        )
    cursor.close()


_BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"
