"""Backfill of the wave-3 venues through their fakes, on both databases: GRVT's settled
history (``/full/v1/funding``, percentage points, newest first, cursor pages) and EdgeX's
(``getFundingRatePage``, settlements only, offset pages) stored as settled rows inside the
window; Paradex (continuous funding, no settlements) reported as a venue without a history,
never guessed."""

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
from testing.fakes.edgex import FakeEdgex
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
    assert grvt.requests.count("/full/v1/funding") == 1
    async with db_sessions() as session:
        rows = await storage.history(session, "grvt", "BTC", end - EIGHT, end)
    assert [(r.rate_per_interval, r.source) for r in rows] == [(D("0.0002"), SETTLED)]


async def test_edgex_settlements_are_paged_and_estimates_left_out(
    db_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill_module, "EDGEX_PAGE", 5)  # several offset pages
    end = datetime(2026, 3, 10, 16, tzinfo=UTC)
    four = 4 * HOUR
    async with FakeEdgex() as edgex:
        for i in range(1, 31):  # 30 settlements every 4 h before end ...
            at = end - i * four
            edgex.record_funding("10000001", _ms(at), D("0.00005"))
            edgex.record_funding("10000002", _ms(at), D("-0.00002"))
            # ... and the per-minute estimates between them, which are no settlements
            edgex.record_funding("10000001", _ms(at + HOUR), D("0.009"), settlement=False)
        opts = {"edgex": {"base_url": edgex.base_url, "ws_url": edgex.ws_url}}
        settings = CollectionSettings(venues=("edgex",), backfill_days=2, venue_options=opts)
        for _ in range(2):  # a second run changes nothing
            [result] = await backfill_configured(db_sessions, settings, now=end)
            assert result.errors == []
            assert (result.symbols, result.rows) == (2, 2 * 12)  # 2 days of 4 h settlements
        pages = [p for _, p in edgex.requests if p.endswith("/getFundingRatePage")]
    start = end - timedelta(days=2)
    async with db_sessions() as session:
        btc = await storage.history(session, "edgex", "BTC", start - 10 * four, end + HOUR)
        eth = await storage.history(session, "edgex", "ETH", start, end)
    assert [r.funding_time for r in btc] == [start + i * four for i in range(12)]
    assert {(r.rate_per_interval, r.interval_hours, r.hourly_rate, r.source) for r in btc} == {
        (D("0.00005"), D(4), D("0.0000125"), SETTLED)
    }
    assert {r.rate_per_interval for r in eth} == {D("-0.00002")}
    assert len(pages) >= 2 * 2 * 3  # 12 rows in pages of 5, two symbols, two runs


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def test_paradex_is_reported_without_history(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    [result] = await backfill(
        db_sessions,
        ["paradex"],
        3,
        public_client_factory({}),
        now=datetime(2026, 3, 10, tzinfo=UTC),
    )
    assert (result.venue, result.rows, result.symbols) == ("paradex", 0, 0)
    assert "publishes no funding history" in result.errors[0]
