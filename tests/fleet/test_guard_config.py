"""The fleet guard's settings file (every field has an effect: see test_guard.py for action,
total and per_account on a real fleet; interval_seconds here) and its equity books."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import ConfigError
from database.engine import create_engine, session_maker
from fleet.guard import EquityBook, FleetGuard, load_state
from fleet.guard_config import GuardConfig, GuardLimits, load_guard_config
from tests.telegram_bot_service.fleet_double import InMemoryFleet

D = Decimal


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "guard.yml"
    path.write_text(text)
    return path


def test_a_full_file_reads_exact_decimals(tmp_path: Path) -> None:
    config = load_guard_config(
        write(
            tmp_path,
            "action: kill\ninterval_seconds: 5\ntotal:\n  max_drawdown_pct: 7.5\n"
            "per_account:\n  daily_loss_usd: 0.1\n",
        )
    )
    assert config == GuardConfig(
        action="kill",
        interval_seconds=5,
        total=GuardLimits(max_drawdown_pct=D("7.5")),
        per_account=GuardLimits(daily_loss_usd=D("0.1")),
    )
    assert config.per_account.daily_loss_usd == D("0.1")  # not 0.1000000000000000055...


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("action: pause\n", "no limit is set"),
        ("total:\n  daily_loss_usd: -5\n", "total.daily_loss_usd"),
        ("total:\n  max_drawdown_pct: 120\n", "total.max_drawdown_pct"),
        ("total:\n  daily_los_usd: 5\n", "total.daily_los_usd"),
        ("action: explode\ntotal:\n  daily_loss_usd: 5\n", "action"),
        ("interval_seconds: 0\ntotal:\n  daily_loss_usd: 5\n", "interval_seconds"),
    ],
)
def test_mistakes_are_one_located_line_each(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_guard_config(write(tmp_path, text))
    [problem] = refused.value.problems
    assert str(tmp_path / "guard.yml") in problem
    assert expected in problem


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_guard_config(tmp_path / "nope.yml")
    assert refused.value.problems == [f"{tmp_path / 'nope.yml'}: file not found"]


def test_a_book_starts_each_utc_day_afresh_and_keeps_its_peak() -> None:
    monday, tuesday = date(2026, 12, 7), date(2026, 12, 8)
    book = EquityBook.first(D(1000), monday)
    book.observe(D(1100), monday)
    book.observe(D(950), monday)
    assert (book.daily_loss, book.peak) == (D(50), D(1100))
    limits = GuardLimits(daily_loss_usd=D(50))
    assert book.breach("account x", limits) == (
        "account x: daily loss 50.00 USD (from 1000.00 to 950.00 USD) reached the 50 USD limit"
    )
    book.observe(D(940), tuesday)
    assert (book.day_start, book.daily_loss, book.peak) == (D(940), D(0), D(1100))
    assert book.breach("account x", limits) is None
    drawdown = book.breach("account x", GuardLimits(max_drawdown_pct=D(10)))
    assert drawdown is not None
    assert drawdown.startswith("account x: drawdown 14.55% from the peak 1100.00 USD")


@pytest.fixture
async def sessions(migrated_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated_db_url)
    try:
        yield session_maker(engine)
    finally:
        await engine.dispose()


async def test_the_guard_looks_every_interval_seconds(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    fleet = InMemoryFleet()
    fleet.add_bot("grid-a")
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise asyncio.CancelledError

    config = GuardConfig(interval_seconds=7, total=GuardLimits(daily_loss_usd=D(100)))
    with pytest.raises(asyncio.CancelledError):
        await FleetGuard(fleet, config, sessions, sleep=sleep).run()
    assert waits == [7, 7, 7]
    async with sessions() as session:
        state = await load_state(session)
    assert state is not None
    assert state.bots == {"grid-a": "watched"}
    assert sorted(state.accounts) == ["paper/grid-a"]  # the double's balances name no account
