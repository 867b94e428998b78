"""The service's opportunities: the strategy's scan, to the digit, plus the reader's filters.

Quotes: BTC, ETH and SOL on hyperliquid (1 h funding), binance and aster (8 h), books at the mark
(the service has marks, not books), taker fee 0.0005.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_clients.types import FundingRate
from funding_rate_service.opportunities import (
    OpportunityBook,
    OpportunityQuery,
    QueryError,
    SortKey,
    find_opportunities,
)
from strategies.funding_arbitrage.opportunities import VenueQuote, scan
from strategies.funding_arbitrage.params import FundingArbitrageParams

D = Decimal


def quote(
    venue: str,
    symbol: str,
    rate: str,
    *,
    interval: str = "8",
    mark: str = "100",
    fee: str = "0.0005",
    volume: str | None = "5000000",
    oi: str | None = "2000000",
) -> VenueQuote:
    return VenueQuote(
        venue=venue,
        symbol=symbol,
        funding=FundingRate(venue, symbol, D(rate), D(interval), next_funding_time=None),
        best_bid=D(mark),
        best_ask=D(mark),
        taker_fee=D(fee),
        volume_24h_usd=None if volume is None else D(volume),
        open_interest_usd=None if oi is None else D(oi),
    )


QUOTES = [
    quote("hyperliquid", "BTC", "0.00002", interval="1"),  # 0.00002/h
    quote("binance", "BTC", "0.0008", volume="90000000", oi="40000000"),  # 0.0001/h
    quote("aster", "BTC", "-0.0002", oi="1000000"),  # -0.000025/h
    quote("hyperliquid", "ETH", "0.0001", interval="1", mark="2000"),
    quote("binance", "ETH", "0.0002", mark="2001"),  # 0.000025/h
    quote("aster", "SOL", "0.001", mark="150", volume=None),
    quote("binance", "SOL", "-0.0002", mark="150.1"),
]


def test_default_query_is_the_strategys_scan_with_the_same_numbers_and_order() -> None:
    rng = random.Random(7)
    shuffled = rng.sample(QUOTES, len(QUOTES))
    result = find_opportunities(shuffled, OpportunityQuery())
    params = FundingArbitrageParams(
        venues=["aster", "binance", "hyperliquid"],
        target_margin_usd=D(1),
        min_net_apr_pct=D(0),
        min_volume_24h_usd=D(0),
        max_spread_pct=D(100),
    )
    expected = scan(QUOTES, params).opportunities
    assert [r.opportunity for r in result.opportunities] == expected
    assert len(expected) >= 4
    assert result.matched == len(expected)
    assert result.venues == ("aster", "binance", "hyperliquid")
    best = result.opportunities[0].opportunity
    # aster SOL 0.001/8 = 0.000125/h short, binance SOL -0.000025/h long: 0.00015/h gross,
    # fees 2 x (0.0005 + 0.0005) = 0.002 over 72 h
    assert (best.symbol, best.long_venue, best.short_venue) == ("SOL", "binance", "aster")
    assert best.net_hourly == D("0.00015") - D("0.002") / 72
    assert result.opportunities[0].gross_apr_pct == D("0.00015") * 8760 * 100


def test_maker_hold_and_min_apr_reach_the_scan() -> None:
    long_hold = find_opportunities(QUOTES, OpportunityQuery(hold_hours=D(1000)))
    short_hold = find_opportunities(QUOTES, OpportunityQuery(hold_hours=D(10)))
    assert long_hold.matched > short_hold.matched  # fees weigh more over a short hold
    cheap = [
        quote("binance", "BTC", "0.0008", fee="0.0005"),
        quote("hyperliquid", "BTC", "0.00002", interval="1", fee="0.0005"),
    ]
    cheap = [replace(q, maker_fee=D("0.0001")) for q in cheap]
    taker = find_opportunities(cheap, OpportunityQuery()).opportunities[0].opportunity
    maker = find_opportunities(cheap, OpportunityQuery(maker=True)).opportunities[0].opportunity
    assert maker.fees_fraction == 2 * (D("0.0001") + D("0.0005")) < taker.fees_fraction
    floor = taker.net_apr_pct + 1
    assert find_opportunities(cheap, OpportunityQuery(min_net_apr_pct=floor)).matched == 0


def keys(query: OpportunityQuery, quotes: list[VenueQuote] = QUOTES) -> list[tuple[str, str, str]]:
    return [r.opportunity.key for r in find_opportunities(quotes, query).opportunities]


def test_venue_and_symbol_selection_and_exclusions() -> None:
    everything = keys(OpportunityQuery())
    assert all("aster" not in k for k in keys(OpportunityQuery(exclude_venues=("aster",))))
    assert keys(OpportunityQuery(venues=("binance", "hyperliquid"))) == [
        k for k in everything if "aster" not in k
    ]
    assert {k[0] for k in keys(OpportunityQuery(symbols=("eth",))) } == {"ETH"}  # fmt: skip
    assert {k[0] for k in keys(OpportunityQuery(exclude_symbols=("btc", "SOL")))} == {"ETH"}
    required = keys(OpportunityQuery(required_venue="aster"))
    assert required
    assert all("aster" in k[1:] for k in required)
    assert keys(OpportunityQuery(venues=("binance",))) == []  # one venue: no pair


def test_volume_and_open_interest_bounds_and_the_oi_ratio() -> None:
    # SOL on aster reports no volume: a minimum on volume refuses its pairs (unknown != pass)
    assert all(k[0] != "SOL" for k in keys(OpportunityQuery(min_volume_24h_usd=D(1))))
    capped = keys(OpportunityQuery(max_volume_24h_usd=D(10_000_000)))
    assert all("binance" not in k for k in capped if k[0] == "BTC")  # 90M on binance BTC
    assert all(k[0] != "SOL" for k in capped)  # a cap on an unknown figure refuses too
    oi_capped = keys(OpportunityQuery(max_open_interest_usd=D(3_000_000)))
    assert ("BTC", "aster", "binance") not in oi_capped
    # BTC aster (1M) vs binance (40M): ratio 0.025
    balanced = keys(OpportunityQuery(min_oi_ratio=D("0.5")))
    assert ("BTC", "aster", "binance") not in balanced
    assert ("BTC", "aster", "binance") in keys(OpportunityQuery(min_oi_ratio=D("0.02")))
    item = next(
        r
        for r in find_opportunities(QUOTES, OpportunityQuery()).opportunities
        if r.opportunity.key == ("BTC", "aster", "binance")
    )
    assert item.oi_ratio == D(1_000_000) / D(40_000_000)
    assert item.min_open_interest_usd == D(1_000_000)


def test_min_gross_spread_and_price_divergence() -> None:
    results = find_opportunities(QUOTES, OpportunityQuery()).opportunities
    threshold = sorted(r.gross_apr_pct for r in results)[1]
    wide = find_opportunities(QUOTES, OpportunityQuery(min_spread_apr_pct=threshold))
    assert wide.matched == len(results) - 1
    assert all(r.gross_apr_pct >= threshold for r in wide.opportunities)
    # ETH marks 2000 vs 2001: divergence 0.04998 %
    assert ("ETH", "hyperliquid", "binance") not in keys(
        OpportunityQuery(max_price_divergence_pct=D("0.04"))
    )


@pytest.mark.parametrize("sort", list(SortKey))
def test_every_sort_is_deterministic_and_limit_keeps_the_head(sort: SortKey) -> None:
    full = find_opportunities(QUOTES, OpportunityQuery(sort=sort))
    again = find_opportunities(list(reversed(QUOTES)), OpportunityQuery(sort=sort))
    assert [r.opportunity for r in full.opportunities] == [
        r.opportunity for r in again.opportunities
    ]
    limited = find_opportunities(QUOTES, OpportunityQuery(sort=sort, limit=2))
    assert limited.opportunities == full.opportunities[:2]
    assert limited.matched == full.matched
    items = full.opportunities
    if sort is SortKey.GROSS_APR:
        values = [r.gross_apr_pct for r in items]
        assert values == sorted(values, reverse=True)
    elif sort is SortKey.DIVERGENCE:
        values = [r.opportunity.price_divergence_pct for r in items]
        assert values == sorted(values)
    elif sort is SortKey.OPEN_INTEREST:
        known = [r.min_open_interest_usd for r in items if r.min_open_interest_usd is not None]
        assert known == sorted(known, reverse=True)
    elif sort is SortKey.VOLUME:
        figures = [r.min_volume_24h_usd for r in items]
        known = [v for v in figures if v is not None]
        assert known == sorted(known, reverse=True)
        assert figures[len(known) :] == [None] * (len(figures) - len(known))  # unknown last


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (lambda: OpportunityQuery(venues=("binance", "nope")), "venues: unknown venue 'nope'"),
        (lambda: OpportunityQuery(exclude_venues=("x",)), "exclude_venues: unknown venue 'x'"),
        (lambda: OpportunityQuery(required_venue="zz"), "required_venue: unknown venue 'zz'"),
        (
            lambda: OpportunityQuery(required_venue="aster", exclude_venues=("aster",)),
            "required_venue: aster is also in exclude_venues",
        ),
        (
            lambda: OpportunityQuery(venues=("binance", "lighter"), required_venue="aster"),
            "required_venue: aster is not one of venues",
        ),
        (
            lambda: OpportunityQuery(min_volume_24h_usd=D(5), max_volume_24h_usd=D(4)),
            "max_volume_24h_usd: 4 is below min_volume_24h_usd 5",
        ),
        (lambda: OpportunityQuery(min_oi_ratio=D(2)), "min_oi_ratio: must be within 0..1"),
        (lambda: OpportunityQuery(hold_hours=D(0)), "hold_hours: must be > 0"),
        (lambda: OpportunityQuery(limit=0), "limit: must be within 1..1000"),
    ],
)
def test_a_query_that_cannot_be_answered_names_its_field(query: object, message: str) -> None:
    with pytest.raises(QueryError) as error:
        query()  # type: ignore[operator]
    assert str(error.value).startswith(message)


# --- one scan serves every query ----------------------------------------------------------------

VENUE_NAMES = ("aster", "binance", "hyperliquid", "lighter")


@st.composite
def latest_sets(draw: st.DrawFn) -> list[VenueQuote]:
    quotes = []
    for symbol in ("BTC", "ETH", "SOL"):
        for venue in VENUE_NAMES:
            if not draw(st.booleans()):
                continue
            quotes.append(
                quote(
                    venue,
                    symbol,
                    str(D(draw(st.integers(-400, 900))) / 1_000_000),
                    interval=draw(st.sampled_from(["1", "8"])),
                    mark=str(D(draw(st.integers(9_900, 10_100))) / 100),
                    fee=str(D(draw(st.integers(0, 8))) / 10_000),
                    volume=draw(st.sampled_from([None, "100000", "5000000", "90000000"])),
                    oi=draw(st.sampled_from([None, "50000", "2000000", "40000000"])),
                )
            )
    return quotes


@st.composite
def queries(draw: st.DrawFn) -> OpportunityQuery:
    venues = draw(st.none() | st.lists(st.sampled_from(VENUE_NAMES), unique=True, min_size=1))
    pool = venues if venues is not None else list(VENUE_NAMES)
    excluded = draw(st.lists(st.sampled_from(VENUE_NAMES), unique=True, max_size=2))
    eligible = [v for v in pool if v not in excluded]
    required = draw(st.none() | st.sampled_from(eligible)) if eligible else None
    return OpportunityQuery(
        symbols=draw(
            st.none() | st.lists(st.sampled_from(["BTC", "eth", "SOL"]), min_size=1).map(tuple)
        ),
        venues=tuple(venues) if venues is not None else None,
        required_venue=required,
        exclude_venues=tuple(excluded),
        exclude_symbols=tuple(draw(st.lists(st.sampled_from(["BTC", "ETH"]), max_size=1))),
        min_net_apr_pct=D(draw(st.sampled_from([0, 1, 10, 50]))),
        hold_hours=D(draw(st.sampled_from([8, 72, 500]))),
        maker=draw(st.booleans()),
        min_volume_24h_usd=D(draw(st.sampled_from([0, 1, 100_000, 5_000_000]))),
        min_open_interest_usd=D(draw(st.sampled_from([0, 50_000, 2_000_000]))),
        max_price_divergence_pct=D(draw(st.sampled_from(["0.5", "1", "100"]))),
        limit=1000,
    )


@given(quotes=latest_sets(), query=queries())
@settings(max_examples=300, deadline=None)
def test_a_query_on_the_book_is_the_scan_with_the_querys_parameters(
    quotes: list[VenueQuote], query: OpportunityQuery
) -> None:
    """What the cached widest scan selects is exactly what the strategy's scan returns when
    given the query's own parameters: same pairs, same numbers, same order."""
    excluded = {s.upper() for s in query.exclude_symbols}
    wanted = [q for q in quotes if q.venue not in query.exclude_venues and q.symbol not in excluded]
    present = sorted({q.venue for q in wanted})
    venues = [v for v in (query.venues or present) if v in present]
    if len(venues) < 2 or (query.required_venue is not None and query.required_venue not in venues):
        expected = []
    else:
        expected = scan(wanted, query.params(venues), maker=query.maker).opportunities
    book = OpportunityBook(quotes)
    book.ranked(D(72), False)  # a cached scan for another query must not leak into this one
    assert [r.opportunity for r in book.find(query).opportunities] == expected
