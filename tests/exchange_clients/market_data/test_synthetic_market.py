"""The synthetic market: deterministic across processes, sane books, realistic listings."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import UnknownSymbol
from exchange_clients.market_data.micros import from_micros, to_micros
from exchange_clients.market_data.price import PriceProcess
from exchange_clients.market_data.symbols import DEFAULT_SYMBOLS
from exchange_clients.market_data.synthetic import SyntheticMarket
from exchange_clients.order_book import OrderBook
from tests.exchange_clients.market_data.helpers import START
from tests.helpers import PROJECT_ROOT

SYMBOLS = [model.symbol for model in DEFAULT_SYMBOLS]
TIMES = [START + timedelta(seconds=s) for s in (0, 0.25, 61.5, 3600, 86_400 * 3 + 17.125)]

# Prints what a fresh process computes for a seed, as JSON with decimals as strings.
_PROBE = """
import json, sys
from datetime import datetime
from exchange_clients.market_data.synthetic import SyntheticMarket
seed, venue, times = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
market = SyntheticMarket(seed, venue)
out = []
for symbol in market.symbols:
    for text in times:
        t = datetime.fromisoformat(text)
        book, funding = market.book(symbol, t), market.funding_rate(symbol, t)
        levels = [[str(p), str(q)] for p, q in book.bids + book.asks]
        out.append([str(market.mid(symbol, t)), levels, book.sequence,
                    str(funding.rate), str(funding.predicted_rate)])
print(json.dumps(out))
"""


def _probe_here(seed: int, venue: str) -> list[object]:
    market = SyntheticMarket(seed, venue)
    out: list[object] = []
    for symbol in market.symbols:
        for t in TIMES:
            book, funding = market.book(symbol, t), market.funding_rate(symbol, t)
            out.append(
                [
                    str(market.mid(symbol, t)),
                    [[str(p), str(q)] for p, q in book.bids + book.asks],
                    book.sequence,
                    str(funding.rate),
                    str(funding.predicted_rate),
                ]
            )
    return out


def _probe_in_subprocess(seed: int, venue: str) -> list[object]:
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), PYTHONHASHSEED="4242")
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(seed), venue, *(t.isoformat() for t in TIMES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded: list[object] = json.loads(result.stdout)
    return loaded


def test_another_process_with_the_same_seed_sees_the_same_market() -> None:
    assert _probe_in_subprocess(42, "paper_a") == _probe_here(42, "paper_a")


def test_another_seed_is_another_market() -> None:
    here = _probe_here(42, "paper_a")
    other = _probe_here(43, "paper_a")
    assert all(a != b for a, b in zip(here, other, strict=True))


def test_values_do_not_depend_on_what_was_computed_before() -> None:
    forward, backward = SyntheticMarket(5, "paper"), SyntheticMarket(5, "paper")
    times = [START + timedelta(minutes=37 * k, microseconds=k) for k in range(40)]
    expected = [forward.book("ETH", t) for t in times]
    assert [backward.book("ETH", t) for t in reversed(times)][::-1] == expected


def test_any_date_is_computed_directly() -> None:
    market = SyntheticMarket(5, "paper")
    for year in (1999, 2026, 2300):
        t = START.replace(year=year)
        assert market.book("BTC", t).sequence == to_micros(t) // 1000
        assert 40_000 < market.mid("BTC", t) < 90_000


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**40),
    venue=st.sampled_from(["paper", "paper_a", "paper_b"]),
    micros=st.integers(min_value=to_micros(START), max_value=to_micros(START) + 3 * 365 * 86400e6),
    levels=st.integers(min_value=1, max_value=30),
)
def test_books_are_sane_at_any_time(seed: int, venue: str, micros: int, levels: int) -> None:
    market = SyntheticMarket(seed, venue, levels=levels)
    t = from_micros(micros)
    for symbol, listing in market.markets().items():
        book = market.book(symbol, t)
        assert (book.venue, book.symbol, book.ts) == (venue, symbol, t)
        assert book.sequence == micros // 1000
        assert len(book.bids) == len(book.asks) == levels
        bid_prices = [p for p, _ in book.bids]
        ask_prices = [p for p, _ in book.asks]
        assert bid_prices == sorted(set(bid_prices), reverse=True)
        assert ask_prices == sorted(set(ask_prices))
        assert bid_prices[0] < ask_prices[0]
        assert bid_prices[0] < market.mid(symbol, t) < ask_prices[0]
        spread_ticks = (ask_prices[0] - bid_prices[0]) / listing.tick_size
        assert 1 <= spread_ticks <= 7
        for price, size in book.bids + book.asks:
            assert price > 0
            assert price % listing.tick_size == 0
            assert size >= listing.min_size
            assert size % listing.step_size == 0


def test_mid_is_the_middle_of_the_books_touch() -> None:
    market = SyntheticMarket(3, "paper_a")
    for symbol in SYMBOLS:
        for t in TIMES:
            book = OrderBook(symbol)
            snapshot = market.book(symbol, t)
            book.apply_snapshot(snapshot.bids, snapshot.asks, snapshot.sequence)
            assert market.mid(symbol, t) == book.mid()


def test_spread_is_mostly_one_tick_and_widens_with_volatility() -> None:
    market = SyntheticMarket(9, "paper")
    model = DEFAULT_SYMBOLS[2]  # SOL
    regime = PriceProcess(9, "paper", model)
    samples = []
    for k in range(3000):
        t = START + timedelta(minutes=13 * k)
        book = market.book(model.symbol, t)
        spread = (book.asks[0][0] - book.bids[0][0]) / model.tick_size
        samples.append((regime.volatility(to_micros(t)), int(spread)))
    samples.sort()
    calm = statistics.fmean(s for _, s in samples[:600])
    stormy = statistics.fmean(s for _, s in samples[-600:])
    assert sum(1 for _, s in samples if s == 1) > len(samples) / 2
    assert stormy > calm * 1.3
    assert max(s for _, s in samples) > 2


def test_sizes_grow_with_depth_and_scatter() -> None:
    market = SyntheticMarket(11, "paper_a")
    for symbol in SYMBOLS:
        near, far = [], []
        for k in range(200):
            book = market.book(symbol, START + timedelta(seconds=97 * k))
            for side in (book.bids, book.asks):
                near += [float(size) for _, size in side[:4]]
                far += [float(size) for _, size in side[-4:]]
        assert statistics.fmean(far) > 1.5 * statistics.fmean(near)
        assert statistics.pstdev(near) > 0.3 * statistics.fmean(near)


def test_consecutive_books_share_most_levels() -> None:
    """Levels behave like resting orders: a quarter second later most are unchanged."""
    market = SyntheticMarket(12, "paper_a")
    for symbol in SYMBOLS:
        kept = []
        for k in range(100):
            t = START + timedelta(seconds=31 * k)
            before, after = market.book(symbol, t), market.book(symbol, t + timedelta(seconds=0.25))
            kept.append(len(set(before.bids) & set(after.bids)) / len(before.bids))
        assert statistics.fmean(kept) > 0.6, symbol


def test_two_venues_on_one_seed_quote_the_same_market_a_few_bps_apart() -> None:
    a, b = SyntheticMarket(21, "paper_a"), SyntheticMarket(21, "paper_b")
    for symbol in SYMBOLS:
        gaps = []
        for k in range(1000):
            t = START + timedelta(minutes=10 * k)
            gaps.append(math.log(float(a.mid(symbol, t)) / float(b.mid(symbol, t))) * 1e4)
        typical = statistics.median(abs(g) for g in gaps)
        assert 0.5 < typical < 10, symbol
        assert max(abs(g) for g in gaps) < 40, symbol
        assert min(gaps) < 0 < max(gaps), symbol


def test_listings_are_realistic() -> None:
    markets = SyntheticMarket(1).markets()
    assert list(markets) == ["BTC", "ETH", "SOL", "DOGE"]
    assert markets["BTC"].max_leverage == Decimal(50)
    assert markets["DOGE"].tick_size == Decimal("0.00001")
    market = SyntheticMarket(1)
    for symbol, listing in markets.items():
        mid = market.mid(symbol, START)
        # A tick is at most ~1 bp; the smallest order is worth a few to ~100 dollars.
        assert listing.tick_size / mid < Decimal("0.0001")
        assert listing.min_size * mid < 100
        assert listing.min_notional == Decimal(10)
        assert listing.max_leverage >= 20


def test_unknown_symbols_and_bad_parameters_are_refused() -> None:
    market = SyntheticMarket(1, "paper_a")
    with pytest.raises(UnknownSymbol, match="PEPE"):
        market.book("PEPE", START)
    with pytest.raises(ValueError, match="at least one level"):
        SyntheticMarket(1, levels=0)
    with pytest.raises(ValueError, match="timezone-aware"):
        market.mid("BTC", datetime(2026, 1, 1))  # noqa: DTZ001 (the point of the test)


def test_symbol_models_are_validated() -> None:
    btc = DEFAULT_SYMBOLS[0]
    with pytest.raises(ValueError, match="BTC: daily_vol must be positive"):
        replace(btc, daily_vol=0.0)
    with pytest.raises(ValueError, match="BTC: jumps_per_day cannot be negative"):
        replace(btc, jumps_per_day=-1.0)
    with pytest.raises(ValueError, match="BTC: tick_size must be positive"):
        replace(btc, tick_size=Decimal(0))
