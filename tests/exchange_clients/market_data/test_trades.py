"""Trades print at or through the touch of their moment, on the market's grid."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from exchange_clients.market_data.symbols import DEFAULT_SYMBOLS, SymbolModel
from exchange_clients.market_data.synthetic import SyntheticMarket
from tests.exchange_clients.market_data.helpers import START


@pytest.mark.parametrize("model", DEFAULT_SYMBOLS, ids=lambda m: m.symbol)
def test_trades_hit_the_touch_of_their_moment(model: SymbolModel) -> None:
    market = SyntheticMarket(8, "paper_a")
    end = START + timedelta(minutes=3)
    trades = market.trades(model.symbol, START, end)
    assert len(trades) > 60
    through = 0
    for trade in trades:
        assert START <= trade.ts < end
        assert trade.price % model.tick_size == 0
        assert trade.size > 0
        assert trade.size % model.step_size == 0
        book = market.book(model.symbol, trade.ts)
        if trade.taker_side == "buy":
            ask = book.asks[0][0]
            assert ask <= trade.price <= ask + 3 * model.tick_size
            through += trade.price > ask
        else:
            bid = book.bids[0][0]
            assert bid - 3 * model.tick_size <= trade.price <= bid
            through += trade.price < bid
    sides = Counter(trade.taker_side for trade in trades)
    assert sides["buy"] > len(trades) / 4
    assert sides["sell"] > len(trades) / 4
    assert 0 < through < len(trades) / 4


def test_trades_of_any_window_are_consistent() -> None:
    market = SyntheticMarket(8, "paper_b")
    a, b, c = START, START + timedelta(seconds=17.3), START + timedelta(seconds=61)
    whole = market.trades("ETH", a, c)
    assert whole == market.trades("ETH", a, b) + market.trades("ETH", b, c)
    assert [t.ts for t in whole] == sorted(t.ts for t in whole)
    assert len({t.trade_id for t in whole}) == len(whole)
    assert market.trades("ETH", b, b) == []


def test_trade_flow_is_realistic() -> None:
    market = SyntheticMarket(8, "paper_a")
    for model in DEFAULT_SYMBOLS:
        hour = market.trades(model.symbol, START, START + timedelta(hours=1))
        per_second = len(hour) / 3600
        assert model.trades_per_second / 3 < per_second < model.trades_per_second * 3
        sizes = sorted(float(t.size) for t in hour)
        median = sizes[len(sizes) // 2]
        assert model.trade_size / 2 < median < model.trade_size * 2
        assert sizes[-1] > 5 * median  # now and then a big one


def test_venues_on_one_seed_have_their_own_trades() -> None:
    a = SyntheticMarket(8, "paper_a").trades("SOL", START, START + timedelta(minutes=1))
    b = SyntheticMarket(8, "paper_b").trades("SOL", START, START + timedelta(minutes=1))
    assert {t.ts for t in a}.isdisjoint({t.ts for t in b})
