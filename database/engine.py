"""Which database, and how to connect to it.

The default is a SQLite file ``var/perpfleet.db`` so a checkout works with no
server; ``DATABASE_URL`` switches to PostgreSQL through asyncpg for production.
Every engine is made here so that all of them share the same guarantees:
Decimal-safe JSON, foreign keys enforced on SQLite, and real transactions on
SQLite (see :func:`_configure_sqlite`).
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from database.errors import DatabaseConfigError
from database.types import json_dumps
from trading_config.paths import var_dir

DATABASE_URL_ENV = "DATABASE_URL"
SQLITE_FILE_NAME = "perpfleet.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000

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
    engine = _create_async_engine(resolved, json_serializer=json_dumps, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


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
        connection.exec_driver_sql("BEGIN IMMEDIATE")
