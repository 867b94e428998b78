"""Binance USD-M's (and Aster's) public market data as a live-feed source, for paper trading.

Public endpoints only (no account, no key): ``GET exchangeInfo`` for the markets (``1000PEPEUSDT``
becomes ``PEPE`` with a 1000 multiplier, so books arrive per PEPE), ``premiumIndex`` +
``fundingInfo`` for funding (re-read every ``funding_poll_seconds``), and the books kept the
documented way by the client's own :class:`DepthStream` (``<symbol>@depth@100ms`` + a REST
snapshot, rebuilt on a gap and after every reconnection), on whose connection we also take
``<symbol>@aggTrade``. After every applied change the top of the book is pushed whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.logging_setup import get_logger
from exchange_clients.binance_style.client import VenueConfig
from exchange_clients.binance_style.funding_adapter import (
    funding_from_premium_index,
    intervals_from_funding_info,
)
from exchange_clients.binance_style.rest import BinanceStyleRest
from exchange_clients.binance_style.websocket import DepthStream
from exchange_clients.binance_style.wire import market_from_symbol_info
from exchange_clients.book_sync import SyncedBooks
from exchange_clients.market_data.events import FundingEvent, TradeEvent
from exchange_clients.market_data.live import LiveSourceSettings
from exchange_clients.market_data.live_books import (
    BOOK_DEPTH,
    FUNDING_POLL_SECONDS,
    BookPublisher,
    FundingPoller,
    SyncedBookSource,
    setting,
)
from exchange_clients.native.wire import ms_to_datetime, to_decimal
from exchange_clients.types import Market
from networking.http import RestTransport
from networking.rate_limit import TokenBucket

log = get_logger(__name__)

DEFAULT_SYMBOLS = ("BTC", "ETH", "SOL")
SNAPSHOT_LIMIT = 1000
SNAPSHOT_WEIGHT = 20.0
"""``GET depth`` with limit 1000 weighs 20 ("Order Book")."""


def agg_trade_stream(contract_id: str) -> str:
    return f"{contract_id.lower()}@aggTrade"


class PublicDepthStream(DepthStream):
    """The client's depth stream, plus aggregate trades, telling the source what changed."""

    def __init__(self, source: BinanceStylePublicSource, *, venue: str, ws_url: str) -> None:
        self._source = source
        super().__init__(venue=venue, ws_url=ws_url, snapshot=source.rest_snapshot)

    def _subscribe_message(self, contract_ids: list[str]) -> dict[str, Any]:
        message = super()._subscribe_message(contract_ids)
        message["params"] += [agg_trade_stream(cid) for cid in contract_ids]
        return message

    def _on_message(self, message: Any) -> None:
        super()._on_message(message)
        if not isinstance(message, dict):
            return
        event = message.get("data", message)
        if isinstance(event, dict):
            try:
                self._source.on_event(event)
            except (KeyError, ValueError, TypeError) as exc:  # one unreadable event, not a resync
                log.warning("live_feed_bad_message", venue=self.venue, error=str(exc))

    def _on_disconnect(self) -> None:
        super()._on_disconnect()  # every book invalid until its new snapshot
        self._source.withdraw_all()


class BinanceStylePublicSource(SyncedBookSource):
    """Books, trades and funding of a few perpetuals of one Binance-style venue."""

    venue: str

    @staticmethod
    def venue_config() -> VenueConfig:
        raise NotImplementedError

    def __init__(self, settings: LiveSourceSettings) -> None:
        config = self.venue_config()
        self._paths = config.paths
        self._default_interval = config.default_funding_interval_hours
        self._symbols = settings.symbols or DEFAULT_SYMBOLS
        base = settings.base_url or (
            config.testnet_rest_url if settings.testnet else config.rest_url
        )
        ws_url = settings.ws_url or (config.testnet_ws_url if settings.testnet else config.ws_url)
        self._rest = BinanceStyleRest(
            RestTransport(
                self.venue, base, limiter=TokenBucket.per_minute(config.request_weight_per_minute)
            ),
            None,
            time_path=self._paths["time"],
        )
        self._stream = PublicDepthStream(self, venue=self.venue, ws_url=ws_url)
        self._books = BookPublisher(self.venue, int(setting(settings, "book_depth", BOOK_DEPTH)))
        self._poller = FundingPoller(
            self.venue,
            setting(settings, "funding_poll_seconds", FUNDING_POLL_SECONDS),
            self._push_funding,
        )
        self._markets: dict[str, Market] = {}  # by contract id

    @property
    def depth_stream(self) -> DepthStream:
        """The book stream (tests watch its snapshots and gaps)."""
        return self._stream

    async def _open_rest(self) -> None:
        await self._rest.transport.open()

    async def _list_markets(self) -> dict[str, Market]:
        info = await self._rest.public(self._paths["exchange_info"])
        by_symbol: dict[str, Market] = {}
        for row in info.get("symbols", []):
            market = market_from_symbol_info(row, None)
            if market is not None:
                by_symbol[market.symbol] = market
        return by_symbol

    async def _start_stream(self) -> None:
        await self._stream.start()

    def _synced_books(self) -> SyncedBooks:
        return self._stream.books

    async def _close_connections(self) -> None:
        await self._stream.stop()
        await self._rest.transport.close()

    async def rest_snapshot(self, contract_id: str) -> Any:
        """The REST book a (re)synchronisation starts from; once the stream has applied it (and
        the deltas buffered meanwhile), the rebuilt book is published."""
        data = await self._rest.public(
            self._paths["depth"],
            [("symbol", contract_id), ("limit", str(SNAPSHOT_LIMIT))],
            weight=SNAPSHOT_WEIGHT,
        )
        self.publish_after_snapshot(contract_id)
        return data

    async def _push_funding(self) -> None:
        rows = await self._rest.public(self._paths["premium_index"], weight=10)
        intervals = intervals_from_funding_info(
            await self._rest.public(self._paths["funding_info"])
        )
        for row in rows if isinstance(rows, list) else [rows]:
            market = self._markets.get(str(row.get("symbol")))
            if market is not None:
                interval = intervals.get(market.contract_id, self._default_interval)
                rate = funding_from_premium_index(self.venue, market, row, interval)
                self._books.emit(FundingEvent(rate))

    def on_event(self, event: Mapping[str, Any]) -> None:
        """A stream event the depth stream has handled: publish the changed book or the trade."""
        kind, contract_id = event.get("e"), str(event.get("s"))
        if kind == "depthUpdate":
            self.publish(contract_id)
        elif kind == "aggTrade":
            market = self._markets.get(contract_id)
            if market is None:
                return
            stamp = event.get("T")
            self._books.emit(
                TradeEvent(
                    venue=self.venue,
                    symbol=market.symbol,
                    ts=ms_to_datetime(int(stamp)) if isinstance(stamp, int) else datetime.now(UTC),
                    price=market.from_venue_price(to_decimal(event["p"])),
                    size=market.from_venue_size(to_decimal(event["q"])),
                    # "m": the buyer is the maker, so the seller took.
                    taker_side="sell" if event.get("m") else "buy",
                    trade_id=str(event.get("a")),
                )
            )


class BinancePublicSource(BinanceStylePublicSource):
    """Binance USD-M futures (testnet: testnet.binancefuture.com)."""

    venue = "binance"

    @staticmethod
    def venue_config() -> VenueConfig:
        from exchange_clients.binance.client import BINANCE

        return BINANCE


class AsterPublicSource(BinanceStylePublicSource):
    """Aster futures (testnet: fapi.asterdex-testnet.com), Binance's protocol word for word."""

    venue = "aster"

    @staticmethod
    def venue_config() -> VenueConfig:
        from exchange_clients.aster.client import ASTER_HMAC

        return ASTER_HMAC


__all__ = ["AsterPublicSource", "BinancePublicSource", "BinanceStylePublicSource"]
