"""24 h volume and open interest of a paper venue's markets (``market_stats()``).

Funding arbitrage filters venues by liquidity, so a paper venue must report figures that move
with the market it simulates rather than constants:

* **Volume** is the notional traded on the market the paper venue watches over the last 24 h.
  Over the seeded synthetic market it is computed from the market itself (a pure function of
  time): the trades of :data:`SAMPLES` one-second windows spread evenly over the 24 h, scaled
  up to the day - within a few percent of the exact sum (which takes ~20 s to compute for BTC)
  and cached per hour of the venue's clock. Over any other feed (a recorded replay, a real
  venue's public feed) it is the notional of the trades the feed delivered in the last 24 h
  while this client ran - ``None`` until the feed has delivered a trade of that market, so a
  filter refuses the market rather than trust a made-up zero.
* **Open interest** is not something a feed shows: it comes from the venue's profile
  (:attr:`PaperProfile.open_interest_usd`); a market the profile does not list reports
  ``None``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from exchange_clients.market_data.events import MarketFeed
from exchange_clients.market_data.synthetic import SyntheticFeed
from exchange_clients.paper.profiles import PaperProfile
from exchange_clients.types import MarketStats

SAMPLES = 144
"""One-second windows sampled over the 24 h (one every 10 minutes)."""

_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)
_SAMPLE = timedelta(seconds=1)
_SCALE = Decimal(int(_DAY / _SAMPLE)) / SAMPLES


class PaperMarketStats:
    """The figures of one paper venue; :meth:`observe` is fed every trade the feed delivers."""

    def __init__(self, feed: MarketFeed, profile: PaperProfile) -> None:
        self._feed = feed
        self._profile = profile
        self._observed: dict[str, dict[int, Decimal]] = {}
        self._estimates: dict[tuple[str, int], Decimal] = {}
        # The figures of a market no trade was observed on (volume unknown), made once: a
        # funding scan reads every market of every venue, and a funding-only history has no
        # trades at all.
        self._unobserved: dict[str, MarketStats] = {}

    def observe(self, symbol: str, price: Decimal, size: Decimal, ts: datetime) -> None:
        """Count a trade of the watched market into its hour."""
        hours = self._observed.setdefault(symbol, {})
        hour = _hour(ts)
        hours[hour] = hours.get(hour, Decimal(0)) + price * size
        for old in [h for h in hours if h < hour - 24]:
            del hours[old]

    def stats(self, now: datetime) -> dict[str, MarketStats]:
        open_interest = self._profile.open_interest_usd
        observed = None if isinstance(self._feed, SyntheticFeed) else self._observed
        unobserved = self._unobserved
        stats: dict[str, MarketStats] = {}
        for symbol in self._feed.markets():
            if observed is not None and not observed.get(symbol):
                found = unobserved.get(symbol)
                if found is None:
                    found = unobserved[symbol] = MarketStats(
                        symbol=symbol,
                        volume_24h_usd=None,
                        open_interest_usd=open_interest.get(symbol),
                    )
                stats[symbol] = found
            else:
                stats[symbol] = MarketStats(
                    symbol=symbol,
                    volume_24h_usd=self._volume(symbol, now),
                    open_interest_usd=open_interest.get(symbol),
                )
        return stats

    def _volume(self, symbol: str, now: datetime) -> Decimal | None:
        if isinstance(self._feed, SyntheticFeed):
            return self._synthetic_volume(self._feed, symbol, now)
        hours = self._observed.get(symbol)
        if not hours:
            return None
        first = _hour(now) - 24
        return sum((notional for hour, notional in hours.items() if hour > first), Decimal(0))

    def _synthetic_volume(self, feed: SyntheticFeed, symbol: str, now: datetime) -> Decimal:
        key = (symbol, _hour(now))
        cached = self._estimates.get(key)
        if cached is not None:
            return cached
        market = feed.market
        end = datetime.fromtimestamp(key[1] * 3600, tz=now.tzinfo) + _HOUR
        step = _DAY / SAMPLES
        traded = Decimal(0)
        for index in range(SAMPLES):
            start = end - _DAY + step * index
            for trade in market.trades(symbol, start, start + _SAMPLE):
                traded += trade.price * trade.size
        estimate = traded * _SCALE
        self._estimates = {k: v for k, v in self._estimates.items() if k[1] == key[1]}
        self._estimates[key] = estimate
        return estimate


def _hour(ts: datetime) -> int:
    """Whole hours since the Unix epoch."""
    return int(ts.timestamp()) // 3600
