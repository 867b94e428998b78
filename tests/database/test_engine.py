"""Engine configuration: URL resolution, SQLite pragmas, Decimal-safe JSON."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from database.engine import database_url, display_url, normalise_url, sqlite_path
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
