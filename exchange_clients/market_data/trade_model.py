"""Synthetic trades: market orders hitting the synthetic book, as a pure function of time.

Each second holds ``Poisson(trades_per_second * v)`` trades (``v`` the volatility regime:
stormy markets trade more) at uniform moments within it. A trade's taker side is a coin flip,
its size lognormal around ``trade_size`` (log sd 1: mostly small, now and then a big one), at
least one step. It prints at the touch of that moment (a buy at the best ask, a sell at the
best bid), or with probability 0.1 sweeps 1-3 ticks through it, as a larger aggressive order
does. Trades of a second are keyed by the second, so any window is computed directly and
``trades(a, c) == trades(a, b) + trades(b, c)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from exchange_clients.market_data.book_model import BookModel
from exchange_clients.market_data.micros import SECOND
from exchange_clients.market_data.noise import RandomStream, normal, poisson
from exchange_clients.market_data.price import PriceProcess
from exchange_clients.market_data.symbols import SymbolModel
from exchange_clients.types import Side

TRADE_BUCKET = SECOND
SIZE_LOG_SD = 1.0
THROUGH_PROBABILITY = 0.1
MAX_THROUGH_TICKS = 3


@dataclass(frozen=True, slots=True)
class RawTrade:
    """A trade in model units: microseconds, ticks, steps."""

    t: int
    taker_side: Side
    price_ticks: int
    size_steps: int
    trade_id: str


class TradeModel:
    """Trades of one symbol on one venue."""

    __slots__ = ("_book", "_cached_bucket", "_median_steps", "_price", "_rate", "_stream")

    def __init__(
        self, seed: int, venue: str, model: SymbolModel, price: PriceProcess, book: BookModel
    ) -> None:
        self._price = price
        self._book = book
        self._rate = model.trades_per_second * TRADE_BUCKET / SECOND
        self._median_steps = model.trade_size / float(model.step_size)
        self._stream = RandomStream(seed, "trades", venue, model.symbol)
        # A feed asks for a few sub-second windows of the same second in a row.
        self._cached_bucket = lru_cache(maxsize=8)(self._bucket)

    def trades(self, start: int, end: int) -> list[RawTrade]:
        """Trades at ``start <= t < end``, in time order."""
        found: list[RawTrade] = []
        for bucket in range(start // TRADE_BUCKET, -(-end // TRADE_BUCKET)):
            found.extend(t for t in self._cached_bucket(bucket) if start <= t.t < end)
        found.sort(key=lambda trade: trade.t)
        return found

    def _bucket(self, bucket: int) -> tuple[RawTrade, ...]:
        begin = bucket * TRADE_BUCKET
        u, _, _, _ = self._stream.uniforms(bucket, -1)
        count = poisson(self._rate * self._price.volatility(begin), u)
        trades = []
        for k in range(count):
            moment, side_u, through_u, _ = self._stream.uniforms(bucket, 2 * k)
            size_u0, size_u1, _, _ = self._stream.uniforms(bucket, 2 * k + 1)
            t = begin + int(moment * TRADE_BUCKET)
            bid, ask = self._book.touch(t)
            through = 0
            if through_u < THROUGH_PROBABILITY:
                through = 1 + int(through_u / THROUGH_PROBABILITY * MAX_THROUGH_TICKS)
            size = self._median_steps * math.exp(SIZE_LOG_SD * normal(size_u0, size_u1))
            side: Side = "buy" if side_u < 0.5 else "sell"
            price = ask + through if side == "buy" else max(1, bid - through)
            trades.append(RawTrade(t, side, price, max(1, int(size)), f"{bucket}-{k}"))
        return tuple(trades)
