"""The market state the signal strategies read, kept current and built into snapshots.

Sources (Hyperliquid's public data: the candles need its trade stream and candle history):

* candles - :class:`~exchange_clients.market_data.candle_feed.CandleCollector` over the
  Hyperliquid public source (trades; backfilled ``backfill_hours`` from ``candleSnapshot``;
  watchdog reconnect after ``candle_stale_minutes`` without a candle);
* funding and open interest - every ``funding_poll_seconds`` from the funding-rate service or
  Hyperliquid's ``metaAndAssetCtxs`` (:mod:`.funding_source`; the OI history, in USD, kept for
  its percentile);
* Polymarket - Gamma + CLOB every ``polymarket_poll_seconds``, only when a contrarian signal
  strategy is enabled;
* the price - the trading venue's own book (what entries and exits will fill against).

In a backtest (``StrategyContext.market_replay``) the same state reads the history instead:
candles from the trading venue's recorded trades (a fresh stream of the history on the
simulated clock, through :class:`~exchange_clients.market_data.feed_source.FeedSource`; no
backfill: candles accumulate from the backtest's start), funding from the simulated venue.
Polymarket and open interest have no history here: the strategy refuses the signals that
need them.

:meth:`MarketState.snapshot` builds one :class:`MarketSnapshot` per asset per tick; every
signal strategy reads the same one.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from core.errors import ConfigError, ExchangeError
from core.logging_setup import get_logger
from core.venues import VENUES
from exchange_clients.base import BaseExchangeClient
from exchange_clients.hyperliquid.candles import HyperliquidMarketHistory
from exchange_clients.market_data.candle_feed import CandleCollector
from exchange_clients.market_data.candles import INTERVALS, Candle, CandleStore
from exchange_clients.market_data.events import MarketFeed
from exchange_clients.market_data.feed_source import FeedSource
from exchange_clients.market_data.live import LiveSourceSettings, PublicSource, public_source
from exchange_clients.polymarket.client import PolymarketClient, PolymarketMarket
from strategies.signal_portfolio.funding_source import (
    FundingReader,
    FundingReading,
    FundingSource,
    TradingVenueFunding,
)
from strategies.signal_portfolio.params import SignalPortfolioParams
from strategies.signal_portfolio.signals.types import MarketSnapshot, PolymarketView
from trading_config.schema import BotConfig

log = get_logger(__name__)

CandleSink = Callable[[Sequence[Candle]], Awaitable[None]]
FundingSink = Callable[[Sequence[FundingReading], datetime], Awaitable[None]]
PolymarketSink = Callable[[Sequence[PolymarketMarket], datetime], Awaitable[None]]
_ZERO = Decimal(0)


@dataclass(frozen=True)
class DataHosts:
    """Where Hyperliquid's public data is read (None: the venue's default hosts)."""

    testnet: bool
    base_url: str | None
    ws_url: str | None


def data_hosts(config: BotConfig, params: SignalPortfolioParams) -> DataHosts:
    """The public-data hosts for the bot's trading venue, or a ConfigError saying why not."""
    exchange = config.exchanges[params.exchange]
    venue = VENUES.get(params.exchange)
    base_url = params.market_data_url
    ws_url = params.market_data_ws_url
    if venue is not None and venue.kind == "paper":
        market_data = exchange.market_data
        if market_data is None or market_data.source != "hyperliquid":
            found = "synthetic" if market_data is None else market_data.source
            raise ConfigError(
                f"strategy signal_portfolio on {params.exchange}: candles come from "
                f"Hyperliquid's trade stream and history, so exchanges.{params.exchange}."
                f"market_data.source must be hyperliquid (found {found})"
            )
        return DataHosts(market_data.testnet, base_url, ws_url)
    if params.exchange == "hyperliquid":
        return DataHosts(
            exchange.testnet,
            base_url or (str(exchange.api_url) if exchange.api_url is not None else None),
            ws_url or exchange.ws_url,
        )
    raise ConfigError(
        f"strategy signal_portfolio trades on hyperliquid or a paper venue following "
        f"Hyperliquid's market data, not {params.exchange}"
    )


class MarketState:
    """Candles, funding, open interest and Polymarket of the bot's assets."""

    def __init__(
        self,
        params: SignalPortfolioParams,
        hosts: DataHosts | None,
        client: BaseExchangeClient,
        *,
        replay: Callable[[], MarketFeed] | None = None,
        on_candles: CandleSink | None = None,
        on_polymarket: PolymarketSink | None = None,
        on_funding: FundingSink | None = None,
    ) -> None:
        """Live (``hosts``: Hyperliquid's public data, Polymarket, the funding service) or
        replayed (``replay``: a backtest's history of the trading venue - candles from its
        trades, funding from the simulated venue; no backfill, no Polymarket)."""
        if (hosts is None) == (replay is None):
            raise ValueError("a market state reads live hosts or a replay: exactly one of them")
        self.params = params
        self.venue = client.name
        self.assets = tuple(params.assets)
        self._client = client
        self.history: HyperliquidMarketHistory | None = None
        self.funding_source: FundingReader
        self.polymarket: PolymarketClient | None = None
        if replay is not None:
            if params.uses_polymarket():
                raise ValueError("Polymarket has no replay: refuse its signals before this")
            source: Callable[[], PublicSource] = functools.partial(_replayed_source, replay)
            _warn_live_only(params)
            self.funding_source = TradingVenueFunding(client, self.assets)
        else:
            assert hosts is not None
            history = HyperliquidMarketHistory(testnet=hosts.testnet, base_url=hosts.base_url)
            self.history = history
            source = functools.partial(_public_source, hosts, self.assets)
            self.funding_source = FundingSource(
                params.funding_source, self.assets, history, params.funding_service_url
            )
            if params.uses_polymarket():
                self.polymarket = PolymarketClient(
                    params.polymarket_gamma_url, params.polymarket_clob_url
                )
        self.collector = CandleCollector(
            "hyperliquid",  # the candles are Hyperliquid's market data, whatever trades on it
            self.assets,
            source,
            store=CandleStore(capacity=1500),
            backfill=self._backfill if params.backfill_hours > 0 and replay is None else None,
            backfill_period=timedelta(hours=params.backfill_hours),
            on_candles=on_candles,
            stale_after=timedelta(minutes=params.candle_stale_minutes),
        )
        self._on_polymarket = on_polymarket
        self._on_funding = on_funding
        self.funding: dict[str, Decimal] = {}
        self.open_interest: dict[str, deque[Decimal]] = {
            asset: deque(maxlen=params.oi_history_size) for asset in self.assets
        }
        self.crowd: dict[str, PolymarketView] = {}
        self._next_funding: datetime | None = None
        self._next_polymarket: datetime | None = None

    async def _backfill(self, asset: str, start: datetime, end: datetime) -> Sequence[Candle]:
        assert self.history is not None  # live only
        try:
            return await self.history.candles(asset, "1m", start, end)
        except ExchangeError as exc:
            log.warning("candle_backfill_failed", asset=asset, error=str(exc))
            return []

    async def start(self, now: datetime) -> None:
        if self.history is not None:
            await self.history.open()
        if self.polymarket is not None:
            await self.polymarket.open()
        await self.collector.start(now)
        await self.refresh(now)

    async def stop(self) -> None:
        await self.collector.stop()
        if self.history is not None:
            await self.history.close()
        if self.polymarket is not None:
            await self.polymarket.close()

    async def refresh(self, now: datetime) -> None:
        """Close due candles (watchdog included); poll funding/OI and Polymarket when due."""
        await self.collector.tick(now)
        if self._next_funding is None or now >= self._next_funding:
            self._next_funding = now + timedelta(seconds=float(self.params.funding_poll_seconds))
            await self._poll_funding(now)
        if self.polymarket is not None and (
            self._next_polymarket is None or now >= self._next_polymarket
        ):
            self._next_polymarket = now + timedelta(
                seconds=float(self.params.polymarket_poll_seconds)
            )
            await self._poll_polymarket(now)

    async def _poll_funding(self, now: datetime) -> None:
        readings = await self.funding_source.read()
        for asset, reading in readings.items():
            self.funding[asset] = reading.funding_rate
            if reading.open_interest_usd is not None:
                self.open_interest[asset].append(reading.open_interest_usd)
        if readings and self._on_funding is not None:
            await self._on_funding(list(readings.values()), now)

    async def _poll_polymarket(self, now: datetime) -> None:
        assert self.polymarket is not None
        try:
            markets = await self.polymarket.snapshot(self.assets, now)
        except ExchangeError as exc:
            log.warning("polymarket_poll_failed", error=str(exc))
            return
        self.crowd = crowd_views(markets, now)
        if self._on_polymarket is not None and markets:
            await self._on_polymarket(markets, now)

    async def price(self, asset: str) -> Decimal | None:
        """The trading venue's mid for ``asset`` (None when a side of its book is empty)."""
        try:
            bid, ask = await self._client.best_bid_ask(asset)
        except ExchangeError:
            return None
        return (bid + ask) / 2

    def snapshot(self, asset: str, price: Decimal, now: datetime) -> MarketSnapshot:
        """The one snapshot of ``asset`` every signal strategy reads this tick."""
        store = self.collector.store
        oi = self.open_interest[asset]
        return MarketSnapshot(
            venue=self.venue,
            asset=asset,
            ts=now,
            price=price,
            candles={interval: store.candles(asset, interval) for interval in INTERVALS},
            funding_rate=self.funding.get(asset),
            open_interest=oi[-1] if oi else None,
            open_interest_history=tuple(oi),
            polymarket=self.crowd.get(asset),
        )

    def describe(self) -> dict[str, Any]:
        store = self.collector.store
        return {
            "candles": {
                asset: {i: len(store.candles(asset, i)) for i in INTERVALS} for asset in self.assets
            },
            "funding": {asset: str(rate) for asset, rate in self.funding.items()},
            "polymarket": {asset: str(view.up_probability) for asset, view in self.crowd.items()},
            "candle_reconnects": self.collector.reconnects,
        }


LIVE_ONLY = ("funding_source", "funding_service_url", "market_data_url", "market_data_ws_url")
"""Where live data is read: settings a replay cannot honour (the history is the data)."""


def _warn_live_only(params: SignalPortfolioParams) -> None:
    """Say which of the config's settings a backtest's replay does not apply: a backfill
    (candles accumulate from the backtest's start: start it earlier to warm the indicators
    up) and every data host or source the config sets explicitly."""
    ignored = [name for name in LIVE_ONLY if name in params.model_fields_set]
    if params.backfill_hours > 0:
        ignored.insert(0, "backfill_hours")
    if ignored:
        log.warning(
            "settings without effect in a backtest: candles come from the history's trades "
            "since the start, funding from the simulated venue",
            settings=ignored,
        )


def _replayed_source(replay: Callable[[], MarketFeed]) -> PublicSource:
    """A fresh stream of the backtest's history, pushed as the live stream would be."""
    return FeedSource(replay())


def _public_source(hosts: DataHosts, assets: tuple[str, ...]) -> PublicSource:
    """Hyperliquid's live public stream of ``assets`` (trades for the candles)."""
    settings = LiveSourceSettings(
        testnet=hosts.testnet, symbols=assets, base_url=hosts.base_url, ws_url=hosts.ws_url
    )
    return public_source("hyperliquid", settings)


def crowd_views(markets: Sequence[PolymarketMarket], now: datetime) -> dict[str, PolymarketView]:
    """Per asset: the liquidity-weighted up-probability over its markets, with their totals."""
    views: dict[str, PolymarketView] = {}
    for asset in sorted({m.asset for m in markets}):
        mine = [m for m in markets if m.asset == asset]
        liquidity = sum((m.liquidity for m in mine), _ZERO)
        volume = sum((m.volume_24h for m in mine), _ZERO)
        if liquidity > 0:
            up = sum((m.up_probability * m.liquidity for m in mine), _ZERO) / liquidity
        else:
            up = sum((m.up_probability for m in mine), _ZERO) / len(mine)
        views[asset] = PolymarketView(up, liquidity, volume, len(mine), now)
    return views
