"""The funding API over HTTP on both databases: venues, latest rates, comparison, history,
statistics, opportunities (the strategy's ranking) and charts; rows written with the storage's
upsert, answers read as JSON the way a client reads them (money as exact decimal strings)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.venues import VENUES
from funding_rate_service import storage
from funding_rate_service.queries import quote
from strategies.funding_arbitrage.opportunities import scan
from strategies.funding_arbitrage.params import FundingArbitrageParams
from tests.funding_rate_service.api_rig import HOUR, NOW, api_client, record, write

D = Decimal

LATEST = [
    record("binance", "BTC", "0.0008", mark="100", volume="90000000", oi="40000000"),
    record("hyperliquid", "BTC", "0.00002", interval=1, mark="100.02", maker="0.00015"),
    record("aster", "BTC", "-0.0002", mark="99.99", oi="1000000", taker=None),
    record("binance", "ETH", "0.0002", mark="2001"),
    record("hyperliquid", "ETH", "0.0001", interval=1, mark="2000"),
    record("lighter", "XRP", "0.00001", interval=1, mark=None),
]


def history() -> list[Any]:
    """48 h before NOW: hyperliquid hourly at 0.00002 then 0.00004/h, binance 8-hourly."""
    rows = []
    for hours in range(1, 49):
        at = NOW - hours * HOUR
        rate = "0.00002" if hours > 24 else "0.00004"
        rows.append(record("hyperliquid", "BTC", rate, interval=1, at=at))
        if at.hour % 8 == 0:
            rows.append(record("binance", "BTC", "0.0008", at=at))
    return rows


@pytest.fixture
async def sessions(
    db_sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    await write(db_sessions, history())
    await write(db_sessions, LATEST)
    return db_sessions


# --- venues and latest rates ---------------------------------------------------------------------


async def test_venues_list_their_symbols(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with api_client(sessions) as client:
        venues = (await client.get("/api/v1/venues")).json()
        one = await client.get("/api/v1/venues/hyperliquid")
        unknown = await client.get("/api/v1/venues/nowhere")
    assert [(v["name"], v["symbols"]) for v in venues] == [
        ("aster", ["BTC"]),
        ("binance", ["BTC", "ETH"]),
        ("hyperliquid", ["BTC", "ETH"]),
        ("lighter", ["XRP"]),
    ]
    assert venues[0]["display_name"] == "Aster"
    assert one.json()["symbols"] == ["BTC", "ETH"]
    assert unknown.status_code == 422
    # Every venue of the catalogue is named (the list grows with it).
    assert unknown.json()["problems"] == [
        f"path.venue: unknown venue in 'nowhere' (known: {', '.join(sorted(VENUES))})"
    ]


async def test_latest_rates_all_per_venue_and_per_pair_as_exact_strings(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with api_client(sessions) as client:
        everything = (await client.get("/api/v1/rates")).json()
        some = (await client.get("/api/v1/rates", params={"symbols": "eth,xrp"})).json()
        binance = (await client.get("/api/v1/rates/binance")).json()
        btc = await client.get("/api/v1/rates/binance/btc")
        missing = await client.get("/api/v1/rates/aster/ETH")
    assert len(everything) == len(LATEST)
    assert {(r["venue"], r["symbol"]) for r in some} == {
        ("binance", "ETH"),
        ("hyperliquid", "ETH"),
        ("lighter", "XRP"),
    }
    assert [r["symbol"] for r in binance] == ["BTC", "ETH"]
    body = btc.json()
    assert body["rate"] == "0.0008"
    assert body["interval_hours"] == "8"
    assert body["hourly_rate"] == "0.0001"
    assert body["apr_pct"] == "87.6"  # 0.0001 x 8760 x 100
    assert body["mark_price"] == "100"
    assert body["open_interest_usd"] == "40000000"
    assert body["funding_time"] == "2026-03-10T12:00:00Z"
    assert missing.status_code == 404
    assert missing.json()["message"] == "no rate collected for ETH on aster"


async def test_compare_orders_venues_cheapest_long_first(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with api_client(sessions) as client:
        btc = (await client.get("/api/v1/compare/btc")).json()
        xrp = (await client.get("/api/v1/compare/XRP")).json()
    assert [r["venue"] for r in btc["rates"]] == ["aster", "hyperliquid", "binance"]
    assert (btc["long_venue"], btc["short_venue"]) == ("aster", "binance")
    assert D(btc["spread_hourly"]) == D("0.0001") - D("-0.0002") / 8
    assert D(btc["spread_apr_pct"]) == D(btc["spread_hourly"]) * 8760 * 100
    assert xrp["long_venue"] is None  # one venue: no spread
    assert len(xrp["rates"]) == 1


# --- history and statistics ----------------------------------------------------------------------


async def test_history_buckets_over_a_window(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with api_client(sessions) as client:
        hourly = (await client.get("/api/v1/history/hyperliquid/BTC")).json()
        daily = await client.get(
            "/api/v1/history/hyperliquid/BTC",
            params={
                "start": (NOW - 48 * HOUR).isoformat(),
                "end": NOW.replace(tzinfo=None).isoformat(),  # no offset: UTC
                "resolution": "1d",
            },
        )
        eight = await client.get(
            "/api/v1/history/binance/BTC", params={"resolution": "8h", "start": "2026-03-09"}
        )
    # default window: the last 7 days, up to now (exclusive): the 48 history rows
    assert hourly["resolution"] == "1h"
    assert len(hourly["buckets"]) == 48
    assert hourly["buckets"][-1]["mean_hourly_rate"] == "0.00004"
    assert all(b["samples"] == 1 for b in hourly["buckets"])
    days = daily.json()["buckets"]
    # 2026-03-08 12:00 .. 03-09 23:00 hourly rows, the rate doubled 24 h before NOW
    assert [(b["start"][:10], b["samples"]) for b in days] == [
        ("2026-03-08", 12),
        ("2026-03-09", 24),
        ("2026-03-10", 12),
    ]
    assert D(days[0]["mean_hourly_rate"]) == D("0.00002")
    assert D(days[2]["mean_hourly_rate"]) == D("0.00004")
    assert D(days[1]["mean_hourly_rate"]) == (12 * D("0.00002") + 12 * D("0.00004")) / 24
    assert [b["start"] for b in eight.json()["buckets"]] == [
        "2026-03-09T00:00:00Z",
        "2026-03-09T08:00:00Z",
        "2026-03-09T16:00:00Z",
        "2026-03-10T00:00:00Z",
        "2026-03-10T08:00:00Z",
    ]


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"resolution": "2h"}, "query.resolution: Input should be '1h', '8h' or '1d'"),
        ({"start": "yesterday"}, "query.start: Input should be a valid datetime"),
        (
            {"start": NOW.isoformat(), "end": (NOW - HOUR).isoformat()},
            "start: 2026-03-10T12:00:00+00:00 is not before end 2026-03-10T11:00:00+00:00",
        ),
        ({"start": "1999-12-31T00:00:00Z"}, "start: 1999-12-31T00:00:00+00:00 is outside"),
        ({"start": "2020-01-01T00:00:00Z"}, "start/end: the range is longer than 1098 days"),
    ],
)
async def test_bad_history_parameters_are_422_naming_the_parameter(
    sessions: async_sessionmaker[AsyncSession], params: dict[str, str], problem: str
) -> None:
    async with api_client(sessions) as client:
        response = await client.get("/api/v1/history/binance/BTC", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert any(p.startswith(problem) for p in body["problems"]), body


async def test_statistics_per_venue_and_the_spread_persistence_of_each_pair(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with api_client(sessions) as client:
        response = await client.get(
            "/api/v1/statistics/BTC",
            params={"venues": "binance,hyperliquid", "start": (NOW - 48 * HOUR).isoformat()},
        )
        unknown = await client.get("/api/v1/statistics/BTC", params={"venues": "nope"})
    body = response.json()
    by_venue = {v["venue"]: v for v in body["venues"]}
    assert set(by_venue) == {"binance", "hyperliquid"}
    hl = [0.00002] * 24 + [0.00004] * 24
    assert by_venue["hyperliquid"]["samples"] == 48
    assert by_venue["hyperliquid"]["mean_hourly"] == pytest.approx(numpy.mean(hl))
    assert by_venue["hyperliquid"]["stdev_hourly"] == pytest.approx(numpy.std(hl, ddof=1))
    assert by_venue["hyperliquid"]["percentiles_hourly"]["p50"] == pytest.approx(0.00003)
    assert by_venue["hyperliquid"]["positive_share"] == 1.0
    assert by_venue["binance"]["mean_apr_pct"] == pytest.approx(87.6)
    [pair] = body["pairs"]
    # binance pays 0.0001/h, hyperliquid 0.00002-0.00004/h: long hyperliquid, short binance
    assert (pair["long_venue"], pair["short_venue"]) == ("hyperliquid", "binance")
    assert pair["positive_share"] == 1.0
    assert pair["current_sign"] == 1
    assert pair["sign_flips"] == 0
    assert pair["current_run_hours"] == pair["samples"]  # hourly buckets, all earning
    assert unknown.status_code == 422
    assert unknown.json()["problems"][0].startswith("query.venues.0: unknown venue in 'nope'")


# --- opportunities -------------------------------------------------------------------------------


def as_decimals(view: dict[str, Any]) -> tuple[Any, ...]:
    return (
        view["symbol"],
        view["long_venue"],
        view["short_venue"],
        D(view["net_apr_pct"]),
        D(view["fees_fraction"]),
        D(view["price_divergence_pct"]),
    )


async def test_opportunities_are_the_strategys_scan_of_the_latest_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with api_client(sessions) as client:
        body = (await client.get("/api/v1/opportunities")).json()
    async with sessions() as session:
        quotes = [q for r in await storage.latest(session) if (q := quote(r)) is not None]
    params = FundingArbitrageParams(
        venues=["aster", "binance", "hyperliquid", "lighter"],
        target_margin_usd=D(1),
        min_net_apr_pct=D(0),
        min_volume_24h_usd=D(0),
        max_spread_pct=D(100),
    )
    expected = scan(quotes, params).opportunities
    assert len(expected) >= 3
    assert [as_decimals(o) for o in body["opportunities"]] == [
        (o.symbol, o.long_venue, o.short_venue, o.net_apr_pct, o.fees_fraction,
         o.price_divergence_pct)
        for o in expected
    ]  # fmt: skip
    assert body["matched"] == len(expected)
    assert body["venues"] == ["aster", "binance", "hyperliquid"]  # lighter has no price
    assert body["as_of"] == "2026-03-10T11:59:00Z"
    aster = next(o for o in body["opportunities"] if "aster" in (o["long_venue"],))
    # aster reports no taker fee: charged the strategy's default 0.0005 on its leg
    assert D(aster["fees_fraction"]) == 2 * (D("0.0005") + D("0.0005"))


async def test_opportunity_filters_best_and_per_symbol(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with api_client(sessions) as client:
        get = client.get
        all_pairs = (await get("/api/v1/opportunities")).json()["opportunities"]
        required = (await get("/api/v1/opportunities?required_venue=aster")).json()
        excluded = await get("/api/v1/opportunities?exclude_venues=aster&exclude_symbols=eth")
        repeated = (await get("/api/v1/opportunities?symbols=ETH&symbols=btc&limit=1")).json()
        ratio = (await get("/api/v1/opportunities?min_oi_ratio=0.5")).json()["opportunities"]
        by_oi = (await get("/api/v1/opportunities?sort=open_interest")).json()["opportunities"]
        best = (await get("/api/v1/opportunities/best?venues=binance,hyperliquid")).json()
        eth = (await get("/api/v1/opportunities/symbol/eth")).json()["opportunities"]
        none = await get("/api/v1/opportunities/best?min_net_apr_pct=100000")
        short_hold = (await get("/api/v1/opportunities?hold_hours=1")).json()
    assert {o["long_venue"] for o in required["opportunities"]} | {
        o["short_venue"] for o in required["opportunities"]
    } >= {"aster"}
    assert all("aster" in (o["long_venue"], o["short_venue"]) for o in required["opportunities"])
    assert [(o["symbol"], o["long_venue"], o["short_venue"]) for o in excluded.json()[
        "opportunities"]] == [("BTC", "hyperliquid", "binance")]  # fmt: skip
    assert len(repeated["opportunities"]) == 1
    assert repeated["matched"] == len(all_pairs)
    assert all(D(o["oi_ratio"]) >= D("0.5") for o in ratio)
    assert len(ratio) < len(all_pairs)  # aster BTC (1M vs 40M) is out
    ois = [min(D(o["long_open_interest_usd"]), D(o["short_open_interest_usd"])) for o in by_oi]
    assert ois == sorted(ois, reverse=True)
    assert (best["long_venue"], best["short_venue"]) in {
        ("hyperliquid", "binance"),
        ("binance", "hyperliquid"),
    }
    assert {o["symbol"] for o in eth} == {"ETH"}
    assert none.status_code == 404
    assert none.json() == {"error": "not_found", "message": "no pair passes the filters"}
    assert short_hold["matched"] < len(all_pairs)  # fees amortised over 1 h eat the spread


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("required_venue=aster&exclude_venues=aster", "required_venue: aster is also in"),
        ("venues=binance,nowhere", "query.venues.0: unknown venue in 'binance,nowhere'"),
        ("required_venue=bin", "query.required_venue: unknown venue in 'bin' (known: aster,"),
        (
            "min_volume_24h_usd=10&max_volume_24h_usd=5",
            "max_volume_24h_usd: 5 is below min_volume_24h_usd 10",
        ),
        ("min_oi_ratio=2", "query.min_oi_ratio: Input should be less than or equal to 1"),
        ("limit=0", "query.limit: Input should be greater than or equal to 1"),
        ("sort=cheapest", "query.sort: Input should be 'net_apr', 'gross_apr', 'volume'"),
        ("hold_hours=NaN", "query.hold_hours:"),
        ("min_net_apr_pct=-1", "query.min_net_apr_pct: Input should be greater than or equal"),
    ],
)
async def test_bad_opportunity_filters_are_422_naming_the_field(
    sessions: async_sessionmaker[AsyncSession], query: str, problem: str
) -> None:
    async with api_client(sessions) as client:
        response = await client.get(f"/api/v1/opportunities?{query}")
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert any(p.startswith(problem) for p in response.json()["problems"]), response.json()


async def test_a_misspelt_filter_is_refused_not_ignored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """``symbol=`` would otherwise answer every symbol's rates as if no filter had been given."""
    async with api_client(sessions) as client:
        misspelt = await client.get("/api/v1/rates?symbol=ETH")
        spelt = await client.get("/api/v1/rates?symbols=ETH")
        ranked = await client.get("/api/v1/opportunities?min_net_apr=5")
    assert misspelt.status_code == 422
    assert misspelt.json()["problems"] == [
        "query.symbol: unknown query parameter (expected: symbols)"
    ]
    assert spelt.status_code == 200
    assert {row["symbol"] for row in spelt.json()} == {"ETH"}
    assert ranked.status_code == 422
    assert "min_net_apr_pct" in ranked.json()["problems"][0]


# --- charts --------------------------------------------------------------------------------------


async def test_chart_data_and_png_of_a_pair(sessions: async_sessionmaker[AsyncSession]) -> None:
    params = {
        "symbol": "BTC",
        "long_venue": "hyperliquid",
        "short_venue": "binance",
        "start": (NOW - 48 * HOUR).isoformat(),
    }
    async with api_client(sessions) as client:
        data = (await client.get("/api/v1/charts/spread", params=params)).json()
        png = await client.get("/api/v1/charts/spread.png", params=params)
        same = await client.get(
            "/api/v1/charts/spread", params={**params, "short_venue": "hyperliquid"}
        )
    points = data["points"]
    # binance's first row in the window is at 16:00 on the 8th; hourly from there to NOW
    assert points[0]["start"] == "2026-03-08T16:00:00Z"
    assert len(points) == 44
    assert points[0]["spread_hourly"] == "0.00008"  # 0.0001 - 0.00002
    assert points[-1]["spread_hourly"] == "0.00006"  # 0.0001 - 0.00004
    carry = sum(D(p["spread_hourly"]) for p in points) * 100  # hourly buckets: x 1 h
    assert D(points[-1]["cumulative_carry_pct"]) == carry
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png.content) > 10_000
    assert same.status_code == 422
    assert same.json()["problems"] == ["short_venue: must differ from long_venue"]


async def test_opportunities_follow_each_new_collection(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The book of the latest set is kept between requests and rebuilt once the set moves."""
    async with api_client(sessions) as client:
        before = (await client.get("/api/v1/opportunities/best")).json()
        again = (await client.get("/api/v1/opportunities/best")).json()
        later = NOW + HOUR
        await write(
            sessions,
            [
                record("binance", "XRP", "0.004", at=later, mark="0.5"),
                record("lighter", "XRP", "-0.0001", interval=1, at=later, mark="0.5"),
            ],
        )
        after = (await client.get("/api/v1/opportunities/best")).json()
        listed = (await client.get("/api/v1/opportunities")).json()
    assert before == again
    assert before["symbol"] != "XRP"
    assert (after["symbol"], after["long_venue"], after["short_venue"]) == (
        "XRP",
        "lighter",
        "binance",
    )
    assert listed["as_of"] == "2026-03-10T12:59:00Z"
    assert "lighter" in listed["venues"]
