"""Exact decimals and UTC timestamps, round-tripped through both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import Account, FundingRate

OBSERVED = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
FUNDING_TIME = datetime(2026, 1, 2, 8, tzinfo=UTC)


def _rate(rate: Decimal, observed_at: datetime = OBSERVED, symbol: str = "BTC") -> FundingRate:
    return FundingRate(
        venue="binance",
        symbol=symbol,
        funding_time=FUNDING_TIME,
        rate_per_interval=rate,
        interval_hours=8,
        hourly_rate=rate,
        source="estimate",
        observed_at=observed_at,
    )


async def _roundtrip(sessions: async_sessionmaker[AsyncSession], row: FundingRate) -> FundingRate:
    async with sessions() as session:
        session.add(row)
        await session.commit()
        key = (row.venue, row.symbol, row.funding_time)
    async with sessions() as session:  # a fresh session: values come from the database
        fetched = await session.get(FundingRate, key)
        assert fetched is not None
        return fetched


@pytest.mark.parametrize(
    "value",
    [
        Decimal("0.000000000000000001"),
        Decimal("123456789012345678901234567890"),
        Decimal("-98765432109876543210.123456789012345678"),
        Decimal("0.1"),
        Decimal("100.10"),
    ],
)
async def test_decimals_come_back_exactly(
    db_sessions: async_sessionmaker[AsyncSession], value: Decimal
) -> None:
    fetched = await _roundtrip(db_sessions, _rate(value))
    assert isinstance(fetched.rate_per_interval, Decimal)
    assert fetched.rate_per_interval == value
    assert fetched.rate_per_interval.as_tuple().exponent == value.as_tuple().exponent


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    values=st.lists(
        st.integers(min_value=0, max_value=30).flatmap(
            lambda places: st.decimals(
                min_value=Decimal("-1e30"),
                max_value=Decimal("1e30"),
                places=places,
                allow_nan=False,
                allow_infinity=False,
            )
        ),
        min_size=1,
        max_size=20,
    )
)
async def test_any_finite_decimal_round_trips(
    db_sessions: async_sessionmaker[AsyncSession], values: list[Decimal]
) -> None:
    async with db_sessions() as session:
        # Each example adds its own pairs: the key is (venue, symbol, funding_time).
        batch = uuid.uuid4().hex[:12]
        rows = [_rate(value, symbol=f"{batch}-{i}") for i, value in enumerate(values)]
        session.add_all(rows)
        await session.commit()
        symbols = [row.symbol for row in rows]
    async with db_sessions() as session:
        fetched = {
            row.symbol: row.rate_per_interval
            for row in await session.scalars(
                select(FundingRate).where(FundingRate.symbol.in_(symbols))
            )
        }
    assert [fetched[s] for s in symbols] == values


async def test_decimals_are_stored_as_text_on_sqlite_and_numeric_on_postgresql(
    db_sessions: async_sessionmaker[AsyncSession], db_backend: str
) -> None:
    await _roundtrip(db_sessions, _rate(Decimal("0.000000000000000001")))
    type_of = "typeof" if db_backend == "sqlite" else "pg_typeof"
    async with db_sessions() as session:
        stored = (
            await session.execute(
                # type_of is one of two literals above, not input.
                text(f"SELECT CAST({type_of}(rate_per_interval) AS TEXT) FROM funding_rates")  # noqa: S608
            )
        ).scalar_one()
    assert stored == ("text" if db_backend == "sqlite" else "numeric")


@pytest.mark.parametrize("bad", [0.1, "0.1", True])
async def test_non_decimal_money_is_refused(
    db_sessions: async_sessionmaker[AsyncSession], bad: object
) -> None:
    async with db_sessions() as session:
        session.add(_rate(bad))  # type: ignore[arg-type]
        with pytest.raises(StatementError, match="ExactDecimal columns take Decimal or int"):
            await session.flush()


async def test_timestamps_are_utc_aware_in_and_out(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    cest = timezone(timedelta(hours=2))
    local = datetime(2026, 6, 1, 12, 30, 0, 123456, tzinfo=cest)
    fetched = await _roundtrip(db_sessions, _rate(Decimal("0.0001"), observed_at=local))
    assert fetched.observed_at == local
    assert fetched.observed_at.tzinfo is UTC
    assert fetched.observed_at.hour == 10


async def test_naive_timestamps_are_refused(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions() as session:
        session.add(_rate(Decimal("0.0001"), observed_at=datetime(2026, 1, 1)))  # noqa: DTZ001
        with pytest.raises(StatementError, match="naive datetime refused"):
            await session.flush()


async def test_default_timestamps_are_aware(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions() as session:
        session.add(Account(name="alice"))
        await session.commit()
    async with db_sessions() as session:
        created = await session.scalar(select(Account.created_at))
    assert created is not None
    assert created.tzinfo is UTC
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
