"""Backfill of the wave-3 venues through their fakes, on both databases: GRVT's settled
history (``/full/v1/funding``, percentage points, newest first, cursor pages) stored as settled
rows inside the window; Paradex (continuous funding, no settlements) and EdgeX reported as
venues without a history this service reads, never guessed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from funding_rate_service import backfill as backfill_module
from funding_rate_service import storage
from funding_rate_service.backfill import backfill, backfill_configured
from funding_rate_service.settings import CollectionSettings
from funding_rate_service.storage import ESTIMATE, SETTLED, FundingRecord
from funding_rate_service.venue_access import public_client_factory
from testing.fakes.grvt import FakeGrvt

D = Decimal
HOUR = timedelta(hours=1)
EIGHT = 8 * HOUR


@pytest.fixture
async def grvt() -> AsyncIterator[FakeGrvt]:
    async with FakeGrvt() as fake:
        yield fake


def settle(fake: FakeGrvt, instrument: str, end: datetime, count: int, pct: str) -> None:
    """``count`` settlements every 8 h before ``end``, newest first, as GRVT lists them."""
    fake.funding_history[instrument] = [
        {
            "instrument": instrument,
            "funding_rate": pct,
            "funding_time": str(int((end - i * EIGHT).timestamp()) * 1_000_000_000),
            "mark_price": "60000.0",
            "funding_rate_8_h_avg": pct,
        }
        for i in range(1, count + 1)
    ]


def options(fake: FakeGrvt) -> dict[str, dict[str, object]]:
    return {"grvt": {"base_url": fake.base_url, "ws_url": fake.ws_url}}


async def test_grvt_settlements_are_paged_and_stored_once_inside_the_window(
    db_sessions: async_sessionmaker[AsyncSession],
    grvt: FakeGrvt,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backfill_module, "GRVT_PAGE", 7)  # several cursor pages
    end = datetime(2026, 3, 10, 16, tzinfo=UTC)
    settle(grvt, "BTC_USDT_Perp", end, 40, "0.0125")  # 40 x 8 h: 13.3 days back
    settle(grvt, "ETH_USDT_Perp", end, 40, "-0.005")
    for _ in range(2):  # a second run changes nothing
        [result] = await backfill(
            db_sessions,
            ["grvt"],
            10,
            public_client_factory(options(grvt)),
            symbols=["BTC", "ETH"],
            now=end,
        )
        assert result.errors == []
        assert (result.symbols, result.rows) == (2, 2 * 30)  # 10 days: 30 settlements each
    start = end - timedelta(days=10)
    async with db_sessions() as session:
        btc = await storage.history(session, "grvt", "BTC", start - 30 * EIGHT, end + HOUR)
        eth = await storage.history(session, "grvt", "ETH", start, end)
    assert [r.funding_time for r in btc] == [start + i * EIGHT for i in range(30)]
    assert {(r.rate_per_interval, r.interval_hours, r.hourly_rate, r.source) for r in btc} == {
        (D("0.000125"), D(8), D("0.000015625"), SETTLED)
    }
    assert {r.rate_per_interval for r in eth} == {D("-0.00005")}
    assert grvt.logins == 0  # public: no API key, no session
    assert grvt.requests.count("/full/v1/funding") >= 2 * 2 * 5  # 30 rows in pages of 7


async def test_a_grvt_settlement_replaces_the_live_estimate(
    db_sessions: async_sessionmaker[AsyncSession], grvt: FakeGrvt
) -> None:
    end = datetime(2026, 3, 10, 16, tzinfo=UTC)
    settle(grvt, "BTC_USDT_Perp", end, 3, "0.02")
    estimate = FundingRecord(
        "grvt",
        "BTC",
        end - EIGHT,
        D("0.0009"),
        D(8),
        D("0.0009") / 8,
        observed_at=end - 9 * HOUR,
        source=ESTIMATE,
    )
    async with db_sessions.begin() as session:
        await storage.upsert(session, [estimate])
    settings = CollectionSettings(
        venues=("grvt",), symbols=("BTC",), backfill_days=1, venue_options=options(grvt)
    )
    [result] = await backfill_configured(db_sessions, settings, now=end)
    assert result.errors == []
    assert result.rows == 3
    async with db_sessions() as session:
        rows = await storage.history(session, "grvt", "BTC", end - EIGHT, end)
    assert [(r.rate_per_interval, r.source) for r in rows] == [(D("0.0002"), SETTLED)]


async def test_paradex_and_edgex_are_reported_without_history(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    results = await backfill(
        db_sessions,
        ["paradex", "edgex"],
        3,
        public_client_factory({}),
        now=datetime(2026, 3, 10, tzinfo=UTC),
    )
    assert [(r.venue, r.rows) for r in results] == [("paradex", 0), ("edgex", 0)]
    assert all("publishes no funding history" in r.errors[0] for r in results)
