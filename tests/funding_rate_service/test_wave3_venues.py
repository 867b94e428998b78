"""Collection over Paradex, EdgeX and GRVT through their fakes with no account, on both
databases: each venue's rate (per interval and per hour, with its own interval), mark, index
(EdgeX, GRVT), open interest, 24 h volume, next funding time and fees (none where the venue
wants a key: Paradex) stored, and visible in the API's latest rates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from funding_rate_service import storage
from funding_rate_service.collector import Collector
from funding_rate_service.settings import CollectionSettings
from testing.fakes.edgex import FakeEdgex
from testing.fakes.grvt import FakeGrvt
from testing.fakes.paradex import FakeParadex
from tests.funding_rate_service.api_rig import api_client

D = Decimal
VENUES = ("paradex", "edgex", "grvt")


@dataclass
class Wave3:
    paradex: FakeParadex
    edgex: FakeEdgex
    grvt: FakeGrvt

    def options(self) -> dict[str, dict[str, object]]:
        # Endpoints only: no credentials of any kind reach the clients.
        return {
            "paradex": {"base_url": self.paradex.base_url, "ws_url": self.paradex.ws_url},
            "edgex": {"base_url": self.edgex.base_url, "ws_url": self.edgex.ws_url},
            "grvt": {"base_url": self.grvt.base_url, "ws_url": self.grvt.ws_url},
        }


@pytest.fixture
async def fakes() -> AsyncIterator[Wave3]:
    async with AsyncExitStack() as stack:
        yield Wave3(
            paradex=await stack.enter_async_context(FakeParadex()),
            edgex=await stack.enter_async_context(FakeEdgex()),
            grvt=await stack.enter_async_context(FakeGrvt()),
        )


async def collect(
    sessions: async_sessionmaker[AsyncSession], fakes: Wave3, venues: tuple[str, ...] = VENUES
) -> Collector:
    settings = CollectionSettings(
        venues=venues, venue_options=fakes.options(), venue_timeout_seconds=10.0
    )
    c = Collector(settings, sessions)  # the service's own default readers
    try:
        result = await c.collect_once()
    finally:
        await c.aclose()
    assert result.failed == (), {v: h.last_error for v, h in c.health().items()}
    return c


async def latest_by_pair(
    sessions: async_sessionmaker[AsyncSession],
) -> dict[tuple[str, str], storage.FundingRecord]:
    async with sessions() as session:
        return {(r.venue, r.symbol): r for r in await storage.latest(session)}


async def test_paradex_is_collected_without_a_key(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Wave3
) -> None:
    fakes.paradex.markets["BTC-USD-PERP"].funding_rate = D("0.00024")
    fakes.paradex.markets["BTC-USD-PERP"].funding_period_hours = 4
    c = await collect(db_sessions, fakes, ("paradex",))
    rows = await latest_by_pair(db_sessions)
    assert sorted(rows) == [("paradex", "BTC"), ("paradex", "ETH")]
    btc, eth = rows[("paradex", "BTC")], rows[("paradex", "ETH")]
    assert (btc.rate_per_interval, btc.interval_hours, btc.hourly_rate) == (
        D("0.00024"),
        D(4),
        D("0.00006"),
    )
    assert (eth.rate_per_interval, eth.interval_hours) == (D("-0.00004"), D(8))
    assert eth.hourly_rate == D("-0.000005")
    assert btc.predicted_rate == D("0.00024")
    assert btc.index_price is None  # the summary read carries no index price
    assert btc.mark_price == D("60000.05")  # the book's mid
    assert btc.volume_24h_usd == D("125000000")
    assert btc.open_interest_usd == D("1500") * D("60000.05")  # base OI valued at the mark
    # Continuous funding: the reference time is the end of the period counted from 00:00 UTC.
    assert btc.next_funding_time is not None
    assert btc.funding_time == btc.next_funding_time
    assert btc.next_funding_time.hour % 4 == 0
    assert (btc.next_funding_time.minute, btc.next_funding_time.second) == (0, 0)
    assert eth.next_funding_time is not None
    assert eth.next_funding_time.hour % 8 == 0
    # Paradex's fees are the account's own: without a key they are unknown, not invented.
    assert (btc.maker_fee, btc.taker_fee, btc.fee_source) == (None, None, None)
    health = c.health()["paradex"]
    assert health.ok
    assert health.rows == 2
    assert any("fees unavailable" in note for note in health.notes)
    assert fakes.paradex.auth_count == 0  # never authenticated


async def test_edgex_is_collected_without_a_key(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Wave3
) -> None:
    fakes.edgex.contracts["10000001"].funding_rate = D("0.00012")
    c = await collect(db_sessions, fakes, ("edgex",))
    rows = await latest_by_pair(db_sessions)
    assert sorted(rows) == [("edgex", "BTC"), ("edgex", "ETH")]
    btc, eth = rows[("edgex", "BTC")], rows[("edgex", "ETH")]
    assert (btc.rate_per_interval, btc.interval_hours, btc.hourly_rate) == (
        D("0.00012"),
        D(4),
        D("0.00003"),
    )
    assert (eth.rate_per_interval, eth.hourly_rate) == (D("-0.00002"), D("-0.000005"))
    assert btc.predicted_rate == D("0.00012")  # forecastFundingRate
    assert btc.mark_price == D("60000.05")  # oraclePrice (the fake's follows the mid)
    assert btc.index_price == D("60000.05")  # indexPrice of the same row
    assert eth.index_price == D("3000.005")
    assert btc.volume_24h_usd == D("912345678.9")
    assert btc.open_interest_usd == D("1873.512") * D("60000.05")
    assert btc.next_funding_time is not None
    assert btc.funding_time == btc.next_funding_time  # fundingTimestamp of the settlement
    assert btc.next_funding_time.hour % 4 == 0
    assert (btc.maker_fee, btc.taker_fee, btc.fee_source) == (
        D("0.00015"),
        D("0.00038"),
        "published",
    )
    assert c.health()["edgex"].rows == 2


async def test_grvt_is_collected_without_a_key(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Wave3
) -> None:
    fakes.grvt.instruments["BTC_USDT_Perp"].funding_rate_pct = D("0.02")  # 0.02 % per 8 h
    c = await collect(db_sessions, fakes, ("grvt",))
    rows = await latest_by_pair(db_sessions)
    assert sorted(rows) == [("grvt", "BTC"), ("grvt", "ETH"), ("grvt", "SOL")]
    btc, eth = rows[("grvt", "BTC")], rows[("grvt", "ETH")]
    assert (btc.rate_per_interval, btc.interval_hours, btc.hourly_rate) == (
        D("0.0002"),
        D(8),
        D("0.000025"),
    )
    assert eth.rate_per_interval == D("-0.000035")
    assert btc.predicted_rate == D("0.0002")
    assert btc.mark_price == D("60000.05")
    assert btc.index_price == D("60000.05")  # the ticker's index_price (the fake's is its mark)
    assert eth.index_price == D("3000.005")
    assert btc.volume_24h_usd == D("250000000")
    assert btc.open_interest_usd == D("1200") * D("60000.05")
    assert btc.next_funding_time is not None
    assert btc.funding_time == btc.next_funding_time
    assert btc.next_funding_time.hour % 8 == 0
    assert (btc.maker_fee, btc.taker_fee, btc.fee_source) == (
        D("0.00027"),
        D("0.00055"),
        "published",
    )
    assert c.health()["grvt"].rows == 3
    assert fakes.grvt.logins == 0


async def test_one_cycle_over_the_three_is_in_the_latest_rates_api(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Wave3
) -> None:
    await collect(db_sessions, fakes)
    async with api_client(db_sessions) as client:
        everything = (await client.get("/api/v1/rates")).json()
        per_venue = {v: (await client.get(f"/api/v1/rates/{v}")).json() for v in VENUES}
        edgex_btc = await client.get("/api/v1/rates/edgex/btc")
    assert {(r["venue"], r["symbol"]) for r in everything} == {
        ("paradex", "BTC"),
        ("paradex", "ETH"),
        ("edgex", "BTC"),
        ("edgex", "ETH"),
        ("grvt", "BTC"),
        ("grvt", "ETH"),
        ("grvt", "SOL"),
    }
    assert [len(per_venue[v]) for v in VENUES] == [2, 2, 3]
    assert edgex_btc.status_code == 200
    btc = edgex_btc.json()
    assert D(btc["rate"]) == D("0.00005")
    assert D(btc["interval_hours"]) == D(4)
    assert D(btc["hourly_rate"]) == D("0.0000125")
    paradex_btc = next(r for r in per_venue["paradex"] if r["symbol"] == "BTC")
    assert paradex_btc["taker_fee"] is None
    grvt_btc = next(r for r in per_venue["grvt"] if r["symbol"] == "BTC")
    assert D(grvt_btc["taker_fee"]) == D("0.00055")


async def test_a_wave3_venue_down_leaves_the_other_two_collected(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Wave3
) -> None:
    await fakes.edgex.stop()
    settings = CollectionSettings(
        venues=VENUES, venue_options=fakes.options(), venue_timeout_seconds=10.0
    )
    c = Collector(settings, db_sessions)
    try:
        result = await c.collect_once()
    finally:
        await c.aclose()
    assert result.failed == ("edgex",)
    assert {venue for venue, _ in await latest_by_pair(db_sessions)} == {"paradex", "grvt"}
    assert c.health()["edgex"].last_error


async def test_collection_opens_no_websocket_on_the_three(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Wave3
) -> None:
    settings = CollectionSettings(
        venues=VENUES, venue_options=fakes.options(), venue_timeout_seconds=10.0
    )
    c = Collector(settings, db_sessions)
    try:
        assert (await c.collect_once()).failed == ()
        # The clients stay connected between cycles: any stream they opened would be open now.
        open_streams = [
            len(fakes.paradex._connections),
            len(fakes.edgex.ws_timestamps),
            len(fakes.grvt._connections),
        ]
    finally:
        await c.aclose()
    assert open_streams == [0, 0, 0]


async def test_venue_options_may_still_turn_the_streams_on(
    db_sessions: async_sessionmaker[AsyncSession], fakes: Wave3
) -> None:
    options = fakes.options()
    options["edgex"] = {**options["edgex"], "streams": True}
    settings = CollectionSettings(
        venues=("edgex",), venue_options=options, venue_timeout_seconds=10.0
    )
    c = Collector(settings, db_sessions)
    try:
        assert (await c.collect_once()).failed == ()
    finally:
        await c.aclose()
    assert len(fakes.edgex.ws_timestamps) == 1  # its public stream
