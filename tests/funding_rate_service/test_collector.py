"""Collection against the venue fakes (real clients, real wire protocol, no account) and the
paper venues, on both databases: every venue's rows stored with their market figures, and a
venue that is down, slow or answers garbage isolated from the others and visible in health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exchange_clients.types import FundingRate
from funding_rate_service import storage
from funding_rate_service.collector import (
    Collector,
    CycleResult,
    build_record,
    funding_time_of,
)
from funding_rate_service.settings import CollectionSettings
from testing.fakes.aster import FakeAster
from testing.fakes.backpack import FakeBackpack
from testing.fakes.binance import FakeBinance
from testing.fakes.binance_style import Route
from testing.fakes.hyperliquid import FakeHyperliquid

D = Decimal
GUARD_SECONDS = 30.0  # against a hung loop; not a performance assertion
PAPER: dict[str, object] = {"store": None}


@dataclass
class Venues:
    binance: FakeBinance
    backpack: FakeBackpack
    aster: FakeAster
    hyperliquid: FakeHyperliquid

    def options(self) -> dict[str, dict[str, object]]:
        return {
            "hyperliquid": {"base_url": self.hyperliquid.base_url},
            "binance": {"base_url": self.binance.base_url, "ws_url": self.binance.ws_url},
            "backpack": {"base_url": self.backpack.base_url, "ws_url": self.backpack.ws_url},
            "aster": {"base_url": self.aster.base_url, "ws_url": self.aster.ws_url},
            "paper_a": PAPER,
            "paper_b": PAPER,
        }


@pytest.fixture
async def fakes() -> AsyncIterator[Venues]:
    async with AsyncExitStack() as stack:
        yield Venues(
            binance=await stack.enter_async_context(FakeBinance()),
            backpack=await stack.enter_async_context(FakeBackpack()),
            aster=await stack.enter_async_context(FakeAster()),
            hyperliquid=await stack.enter_async_context(FakeHyperliquid()),
        )


def collector(
    sessions: async_sessionmaker[AsyncSession],
    options: dict[str, dict[str, object]],
    venues: tuple[str, ...],
    **settings: Any,
) -> Collector:
    settings.setdefault("venue_timeout_seconds", 5.0)
    # The collector's own default readers, pointed at the fakes through venue_options.
    return Collector(CollectionSettings(venues=venues, venue_options=options, **settings), sessions)


async def latest_by_pair(
    sessions: async_sessionmaker[AsyncSession],
) -> dict[tuple[str, str], storage.FundingRecord]:
    async with sessions() as session:
        return {(r.venue, r.symbol): r for r in await storage.latest(session)}


async def test_one_cycle_stores_every_venue_with_its_market_figures(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Venues
) -> None:
    venues = ("binance", "backpack", "paper_a")
    c = collector(db_sessions, fakes.options(), venues)
    try:
        result = await c.collect_once()
    finally:
        await c.aclose()
    rows = await latest_by_pair(db_sessions)
    assert result.failed == ()
    assert result.rows == len(rows)
    assert {venue for venue, _ in rows} == set(venues)
    btc = rows[("binance", "BTC")]
    assert (btc.rate_per_interval, btc.interval_hours, btc.hourly_rate) == (
        D("0.0001"),
        D(8),
        D("0.0001") / 8,
    )
    assert btc.funding_time == btc.next_funding_time  # the settlement the estimate is for
    assert btc.mark_price == D("64000.05")
    assert (btc.volume_24h_usd, btc.open_interest_usd) == (
        D("12500000000.50"),
        D("5120012000.00625"),
    )
    assert btc.taker_fee is None  # Binance's fees are the account's tier: no account here
    backpack = rows[("backpack", "BTC")]
    assert (backpack.interval_hours, backpack.rate_per_interval) == (D(1), D("0.0000125"))
    paper = [r for (venue, _), r in rows.items() if venue == "paper_a"]
    assert paper
    assert all(r.fee_source == "simulated" and r.taker_fee is not None for r in paper)
    health = c.health()
    assert all(h.ok and h.last_error is None for h in health.values())
    assert health["binance"].rows == 3
    assert any("fees unavailable" in note for note in health["binance"].notes)


async def test_hyperliquid_is_collected_without_a_key(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Venues
) -> None:
    c = collector(db_sessions, fakes.options(), ("hyperliquid",))
    try:
        result = await c.collect_once()
    finally:
        await c.aclose()
    assert result.failed == ()
    rows = await latest_by_pair(db_sessions)
    assert sorted(rows) == [("hyperliquid", "BTC"), ("hyperliquid", "ETH"), ("hyperliquid", "PEPE")]
    btc, pepe = rows[("hyperliquid", "BTC")], rows[("hyperliquid", "PEPE")]
    assert (btc.rate_per_interval, btc.interval_hours, btc.predicted_rate) == (
        D("0.0000125"),
        D(1),
        D("0.00001"),
    )
    assert btc.index_price is not None
    assert btc.index_price == btc.mark_price  # the fake's oracle follows its mark
    assert pepe.mark_price == D("0.000012")  # kPEPE 0.012 / 1000
    assert pepe.index_price == D("0.000012")
    assert btc.volume_24h_usd is not None
    assert btc.open_interest_usd is not None
    assert (btc.maker_fee, btc.taker_fee, btc.fee_source) == (
        D("0.00015"),
        D("0.00045"),
        "published",
    )


async def test_collecting_again_updates_the_same_rows(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Venues
) -> None:
    c = collector(db_sessions, fakes.options(), ("backpack",))
    try:
        await c.collect_once()
        fakes.backpack.markets["BTC_USDC_PERP"].funding_rate = D("0.00003")
        await c.collect_once()
    finally:
        await c.aclose()
    rows = await latest_by_pair(db_sessions)
    btc = rows[("backpack", "BTC")]
    async with db_sessions() as session:
        history = await storage.history(
            session,
            "backpack",
            "BTC",
            datetime(2000, 1, 1, tzinfo=UTC),
            btc.funding_time.replace(year=3000),
        )
    assert len(history) == 1
    assert btc.rate_per_interval == D("0.00003")


async def test_down_slow_and_garbage_venues_stay_theirs(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Venues
) -> None:
    options = fakes.options()
    await fakes.aster.stop()  # down: connection refused
    fakes.backpack.delay = 60.0  # slow: answers after the venue timeout
    fakes.binance.routes[("GET", "/fapi/v1/premiumIndex")] = Route(
        lambda *_: [{"symbol": "BTCUSDT", "lastFundingRate": {"not": "a number"}}], "NONE"
    )  # garbage
    c = collector(
        db_sessions, options, ("aster", "backpack", "binance", "paper_a"), venue_timeout_seconds=5.0
    )
    try:
        result = await c.collect_once()
    finally:
        await c.aclose()
    assert set(result.failed) == {"aster", "backpack", "binance"}
    rows = await latest_by_pair(db_sessions)
    assert rows
    assert {venue for venue, _ in rows} == {"paper_a"}
    health = c.health()
    assert health["paper_a"].ok
    for venue in ("aster", "backpack", "binance"):
        assert not health[venue].ok
        assert health[venue].last_success_at is None
        assert health[venue].consecutive_failures == 1
        assert health[venue].last_error
    assert health["backpack"].last_error == "no answer within 5 s"


async def test_a_venue_that_recovers_is_collected_again(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Venues
) -> None:
    c = collector(db_sessions, fakes.options(), ("binance",))
    try:
        fakes.binance.fail_next(50, status=503)
        failed = await c.collect_once()
        assert failed.failed == ("binance",)
        assert c.health()["binance"].last_error
        fakes.binance.fail_next(0)
        fakes.binance._failures.clear()
        recovered = await c.collect_once()
    finally:
        await c.aclose()
    assert recovered.failed == ()
    health = c.health()["binance"]
    assert health.ok
    assert health.consecutive_failures == 0
    assert health.last_error is not None  # the last error stays visible, with its time
    assert health.last_success_at is not None
    assert health.last_error_at is not None
    assert health.last_success_at > health.last_error_at
    assert ("binance", "BTC") in await latest_by_pair(db_sessions)


async def test_only_the_configured_symbols_are_stored(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Venues
) -> None:
    c = collector(db_sessions, fakes.options(), ("binance", "backpack"), symbols=("ETH",))
    try:
        await c.collect_once()
    finally:
        await c.aclose()
    assert sorted(await latest_by_pair(db_sessions)) == [("backpack", "ETH"), ("binance", "ETH")]


async def test_one_nonsense_market_is_rejected_and_the_rest_of_the_venue_stored(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Venues
) -> None:
    real = fakes.binance.routes[("GET", "/fapi/v1/premiumIndex")]

    def premium_index(fake: Any, account: Any, params: Any) -> Any:
        rows = real.handler(fake, account, params)
        return [
            {**row, "lastFundingRate": "NaN"} if row["symbol"] == "ETHUSDT" else row for row in rows
        ]

    fakes.binance.routes[("GET", "/fapi/v1/premiumIndex")] = Route(premium_index, "NONE")
    c = collector(db_sessions, fakes.options(), ("binance",))
    try:
        result = await c.collect_once()
    finally:
        await c.aclose()
    assert result.failed == ()
    assert sorted(await latest_by_pair(db_sessions)) == [("binance", "BTC"), ("binance", "PEPE")]
    health = c.health()["binance"]
    assert (health.ok, health.rows, health.rejected) == (True, 2, 1)
    assert any("ETH" in note and "finite" in note for note in health.notes)


def test_a_nonsense_rate_is_refused_and_a_missing_time_takes_the_next_boundary() -> None:
    observed = datetime(2026, 3, 1, 13, 20, tzinfo=UTC)
    eight_hourly = FundingRate("x", "BTC", D("0.0001"), D(8), None)
    assert funding_time_of(eight_hourly, observed) == datetime(2026, 3, 1, 16, tzinfo=UTC)
    record = build_record("x", eight_hourly, None, None, observed)
    assert (record.funding_time, record.hourly_rate) == (
        datetime(2026, 3, 1, 16, tzinfo=UTC),
        D("0.0000125"),
    )
    with pytest.raises(ValueError, match="not a finite number"):
        build_record("x", FundingRate("x", "BTC", D("NaN"), D(1), None), None, None, observed)
    with pytest.raises(ValueError, match="not positive"):
        build_record("x", FundingRate("x", "BTC", D("0.1"), D(0), None), None, None, observed)


async def test_run_collects_until_stopped(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Venues
) -> None:
    c = collector(db_sessions, fakes.options(), ("paper_a",))
    stop = asyncio.Event()
    collect_once = c.collect_once

    async def collect_then_stop() -> CycleResult:
        result = await collect_once()
        stop.set()  # the loop is now waiting for its next tick: stopping ends it at once
        return result

    c.collect_once = collect_then_stop  # type: ignore[method-assign]
    try:
        async with asyncio.timeout(GUARD_SECONDS):
            await c.run(stop)
    finally:
        await c.aclose()
    assert c.cycles == 1
    assert c.last_cycle is not None
    assert c.last_cycle.failed == ()
    assert any(venue == "paper_a" for venue, _ in await latest_by_pair(db_sessions))
