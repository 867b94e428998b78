"""The price is volatile as intended: realistic daily vol, fat tails, real jumps."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from datetime import timedelta

import pytest

from exchange_clients.market_data.symbols import DEFAULT_SYMBOLS, SymbolModel
from exchange_clients.market_data.synthetic import SyntheticMarket
from tests.exchange_clients.market_data.helpers import START, excess_kurtosis, log_returns


def _mids(market: SyntheticMarket, symbol: str, step: timedelta, count: int) -> list[float]:
    return [float(market.mid(symbol, START + step * k)) for k in range(count + 1)]


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("model", DEFAULT_SYMBOLS, ids=lambda m: m.symbol)
def test_daily_vol_is_in_the_intended_band(seed: int, model: SymbolModel) -> None:
    """Realized vol over four weeks of 5-minute returns, per day, vs the model's daily_vol."""
    market = SyntheticMarket(seed, "paper_a")
    returns = log_returns(_mids(market, model.symbol, timedelta(minutes=5), 28 * 288))
    daily_vol = math.sqrt(sum(r * r for r in returns) / 28)
    assert 0.75 * model.daily_vol < daily_vol < 1.35 * model.daily_vol


@pytest.mark.parametrize("model", DEFAULT_SYMBOLS, ids=lambda m: m.symbol)
def test_minute_returns_have_fat_tails(model: SymbolModel) -> None:
    market = SyntheticMarket(1, "paper_a")
    returns = log_returns(_mids(market, model.symbol, timedelta(minutes=1), 7 * 1440))
    assert excess_kurtosis(returns) > 1.0


def test_jumps_gap_the_price_then_fade_away() -> None:
    """Same seed with and without jumps: the log-ratio of the two prices is the jump part."""
    model = DEFAULT_SYMBOLS[0]
    with_jumps = SyntheticMarket(3, "paper_a", symbols=[model])
    without = SyntheticMarket(3, "paper_a", symbols=[replace(model, jumps_per_day=0.0)])
    jumpy = _mids(with_jumps, "BTC", timedelta(minutes=1), 7 * 1440)
    smooth = _mids(without, "BTC", timedelta(minutes=1), 7 * 1440)
    jump_part = [math.log(a / b) for a, b in zip(jumpy, smooth, strict=True)]
    gaps = [abs(b - a) for a, b in itertools.pairwise(jump_part)]
    assert max(gaps) >= model.jump_size / 2
    # Between jumps the effect has faded: most of the week the two agree to ~a tick.
    assert sum(1 for j in jump_part if abs(j) < 2e-4) > len(jump_part) / 3
    assert excess_kurtosis(log_returns(jumpy)) > excess_kurtosis(log_returns(smooth)) + 1


def test_the_price_wanders_but_stays_near_its_centre() -> None:
    market = SyntheticMarket(4, "paper_a")
    for model in DEFAULT_SYMBOLS:
        mids = _mids(market, model.symbol, timedelta(hours=6), 4 * 90)
        assert max(mids) / min(mids) > 1.1  # it does move over a quarter
        assert all(0.5 < m / model.base_price < 2.0 for m in mids)
