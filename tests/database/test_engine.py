"""Engine configuration: URL resolution, SQLite pragmas, Decimal-safe JSON."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

import database.engine
from database.engine import create_engine, database_url, display_url, normalise_url, sqlite_path
from database.errors import DatabaseConfigError
from database.models import AccountCredential, Bot


def test_default_database_is_a_sqlite_file_under_var(isolated_environment: Path) -> None:
    url = database_url()
    assert url == f"sqlite+aiosqlite:///{isolated_environment / 'perpfleet.db'}"
    assert isolated_environment.is_dir()  # var/ is created on first use


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/app", "postgresql+asyncpg://u:p@db:5432/app"),
        ("postgresql://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("postgresql+asyncpg://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("postgresql://u@db/app?sslmode=require", "postgresql+asyncpg://u@db/app?ssl=require"),
        ("sqlite:////srv/perpfleet.db", "sqlite+aiosqlite:////srv/perpfleet.db"),
    ],
)
def test_database_url_env_is_normalised_to_async_drivers(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", given)
    assert database_url() == expected


@pytest.mark.parametrize("url", ["mysql://u@db/app", "postgresql+psycopg2://u@db/app", "nonsense"])
def test_unsupported_urls_are_a_config_error(url: str) -> None:
    with pytest.raises(DatabaseConfigError):
        normalise_url(url)


def test_display_url_masks_the_password() -> None:
    shown = display_url("postgresql+asyncpg://user:hunter2hunter2@db/app")
    assert "hunter2hunter2" not in shown
    assert shown == "postgresql+asyncpg://user:***@db/app"


def test_sqlite_path_only_for_sqlite_files() -> None:
    assert sqlite_path("sqlite+aiosqlite:////tmp/x.db") == "/tmp/x.db"
    assert sqlite_path("sqlite+aiosqlite://") is None
    assert sqlite_path("postgresql+asyncpg://u@db/app") is None


async def test_foreign_keys_are_enforced(db_session: AsyncSession) -> None:
    db_session.add(AccountCredential(account_id=999_999, venue="binance"))
    with pytest.raises(IntegrityError):
        await db_session.flush()


async def test_json_columns_store_decimals_as_exact_strings(db_session: AsyncSession) -> None:
    price = Decimal("0.123456789012345678901234567890")
    db_session.add(Bot(name="grid-1", config={"grid": {"price": price}}))
    await db_session.commit()

    stored = await db_session.scalar(text("SELECT config FROM bots WHERE name = 'grid-1'"))
    assert "0.123456789012345678901234567890" in str(stored)
    config = await db_session.scalar(select(Bot.config).where(Bot.name == "grid-1"))
    assert config == {"grid": {"price": "0.123456789012345678901234567890"}}


async def test_sqlite_transaction_takes_the_write_lock_at_begin(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}")
    other = sqlite3.connect(tmp_path / "lock.db", isolation_level=None, timeout=0)
    try:
        async with engine.begin():  # no statement yet: a deferred BEGIN would take no lock
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # committed: the file is free again
        other.execute("COMMIT")
    finally:
        other.close()
        await engine.dispose()


async def test_sqlite_locked_file_at_begin_is_sqlalchemys_operational_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Callers catch ``sqlalchemy.exc.OperationalError``, not the driver's own error."""
    monkeypatch.setattr(database.engine, "SQLITE_BUSY_TIMEOUT_MS", 50)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}")
    async with engine.begin() as connection:  # opens the file in WAL mode
        await connection.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(tmp_path / "lock.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the file
        with pytest.raises(OperationalError, match="database is locked") as raised:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
        assert raised.value.statement == "BEGIN IMMEDIATE"
        assert isinstance(raised.value.orig, sqlite3.OperationalError)
        assert not raised.value.connection_invalidated
        holder.execute("COMMIT")
        async with engine.begin() as connection:  # the pooled connection still works
            await connection.execute(text("INSERT INTO t VALUES (2)"))
            rows = (await connection.execute(text("SELECT x FROM t"))).scalars().all()
        assert rows == [2]
    finally:
        holder.close()
        await engine.dispose()
