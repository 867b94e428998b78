"""Backpack's public market data as a live-feed source, for paper trading on real books.

Public endpoints only (no account, no key): ``GET /api/v1/markets`` for the perps (``kPEPE``
becomes ``PEPE`` with a 1000 multiplier) and their funding interval, ``GET /api/v1/markPrices``
for funding (re-read every ``funding_poll_seconds``, and updated by every ``markPrice.<symbol>``
event between reads), and on the client's own :class:`BackpackStream` the ``depth.<symbol>``
books (REST snapshot + sequenced deltas, rebuilt on a gap and after every reconnection) and
``trade.<symbol>``. After every applied change the top of the book is pushed whole. Backpack
has no public test network, so ``testnet`` is refused unless the hosts are given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.errors import ConfigError
from core.logging_setup import get_logger
from exchange_clients.backpack.client import DEPTH, MAINNET_REST_URL, MARK_PRICES, MARKETS
from exchange_clients.backpack.funding_adapter import funding_from_mark_price
from exchange_clients.backpack.rest import BackpackRest
from exchange_clients.backpack.websocket import MAINNET_WS_URL, BackpackStream
from exchange_clients.backpack.wire import (
    funding_interval_hours,
    mark_price_from_event,
    market_from_wire,
    trade_from_event,
)
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
from exchange_clients.types import FundingRate, Market
from networking.http import RestTransport
from networking.rate_limit import TokenBucket

log = get_logger(__name__)

VENUE = "backpack"
DEFAULT_SYMBOLS = ("BTC", "ETH", "SOL")
REQUESTS_PER_SECOND = 20.0


class PublicBackpackStream(BackpackStream):
    """The client's stream without an account, telling the source which book changed."""

    def __init__(self, source: BackpackPublicSource, ws_url: str) -> None:
        self._source = source
        super().__init__(
            venue=VENUE,
            ws_url=ws_url,
            snapshot=source.rest_snapshot,
            signer=None,
            now_ms=lambda: 0,  # only private subscriptions are timestamped
            on_private=lambda stream, data: None,
            on_public=source.on_public,
            on_reconnect=_nothing,
        )

    def _on_message(self, message: Any) -> None:
        super()._on_message(message)
        if isinstance(message, dict):
            stream = message.get("stream")
            if isinstance(stream, str) and stream.startswith("depth."):
                self._source.publish(stream.removeprefix("depth."))

    def _on_disconnect(self) -> None:
        super()._on_disconnect()  # every book invalid until its new snapshot
        self._source.withdraw_all()


async def _nothing() -> None:
    """A public stream has no fills to recover after a reconnection."""


class BackpackPublicSource(SyncedBookSource):
    """Books, trades and funding of a few Backpack perpetuals."""

    venue = VENUE

    def __init__(self, settings: LiveSourceSettings) -> None:
        if settings.testnet and not settings.base_url:
            raise ConfigError(
                "market_data source backpack: Backpack has no public test network; set "
                "market_data.testnet: false (its public data needs no account)"
            )
        self._symbols = settings.symbols or DEFAULT_SYMBOLS
        base = settings.base_url or MAINNET_REST_URL
        ws_url = settings.ws_url or MAINNET_WS_URL
        self._rest = BackpackRest(
            RestTransport(
                VENUE, base, limiter=TokenBucket(REQUESTS_PER_SECOND, REQUESTS_PER_SECOND * 2)
            ),
            None,
        )
        self._stream = PublicBackpackStream(self, ws_url)
        self._books = BookPublisher(VENUE, int(setting(settings, "book_depth", BOOK_DEPTH)))
        self._poller = FundingPoller(
            VENUE,
            setting(settings, "funding_poll_seconds", FUNDING_POLL_SECONDS),
            self._push_funding,
        )
        self._markets: dict[str, Market] = {}  # by contract id
        self._intervals: dict[str, Decimal] = {}

    @property
    def stream(self) -> BackpackStream:
        """The book stream (tests watch its snapshots and gaps)."""
        return self._stream

    async def _open_rest(self) -> None:
        await self._rest.transport.open()

    async def _list_markets(self) -> dict[str, Market]:
        rows = await self._rest.public(MARKETS)
        by_symbol: dict[str, Market] = {}
        for row in rows if isinstance(rows, list) else []:
            market = market_from_wire(row)
            if market is not None:
                by_symbol[market.symbol] = market
                self._intervals[market.contract_id] = funding_interval_hours(row)
        return by_symbol

    async def _start_stream(self) -> None:
        await self._stream.subscribe_public(
            [f"{kind}.{cid}" for cid in self._markets for kind in ("trade", "markPrice")]
        )
        await self._stream.start()

    def _synced_books(self) -> SyncedBooks:
        return self._stream.books

    async def _close_connections(self) -> None:
        await self._stream.stop()
        await self._rest.transport.close()

    async def rest_snapshot(self, contract_id: str) -> Any:
        """The REST book a (re)synchronisation starts from; once the stream has applied it (and
        the deltas buffered meanwhile), the rebuilt book is published."""
        data = await self._rest.public(DEPTH, {"symbol": contract_id}, weight=5)
        self.publish_after_snapshot(contract_id)
        return data

    async def _push_funding(self) -> None:
        rows = await self._rest.public(MARK_PRICES)
        for row in rows if isinstance(rows, list) else []:
            market = self._markets.get(str(row.get("symbol")))
            if market is not None:
                interval = self._intervals[market.contract_id]
                self._books.emit(
                    FundingEvent(funding_from_mark_price(VENUE, market, row, interval))
                )

    def on_public(self, stream: str, data: dict[str, Any]) -> None:
        try:
            self._on_public(stream, data)
        except (KeyError, ValueError, TypeError) as exc:  # one unreadable event, not a resync
            log.warning("live_feed_bad_message", venue=VENUE, stream=stream, error=str(exc))

    def _on_public(self, stream: str, data: dict[str, Any]) -> None:
        market = self._markets.get(str(data.get("s")))
        if market is None:
            return
        if stream.startswith("trade."):
            trade = trade_from_event(data, market)
            self._books.emit(
                TradeEvent(
                    venue=VENUE,
                    symbol=market.symbol,
                    ts=trade.ts,
                    price=trade.price,
                    size=trade.size,
                    taker_side="sell" if trade.buyer_is_maker else "buy",
                    trade_id=str(trade.trade_id),
                )
            )
        elif stream.startswith("markPrice."):
            update = mark_price_from_event(data, market)
            rate = FundingRate(
                venue=VENUE,
                symbol=market.symbol,
                rate=update.funding_rate,
                interval_hours=self._intervals[market.contract_id],
                next_funding_time=update.next_funding_time,
                predicted_rate=update.funding_rate,
                mark_price=update.mark_price,
                ts=datetime.now(UTC),
            )
            self._books.emit(FundingEvent(rate))


__all__ = ["BackpackPublicSource"]
