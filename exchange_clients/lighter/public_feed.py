"""Lighter's public market data as a live-feed source, for paper trading on real books.

Public endpoints only (no account, no API key, so none of the signer SDK is loaded): ``GET
/api/v1/orderBookDetails`` for the markets, and on the client's own :class:`LighterStream`
(which subscribes every channel again after a reconnection) ``market_stats/all`` for funding,
``order_book/{id}`` and ``trade/{id}`` per market. A book starts from the ``subscribed``
snapshot and takes ``update`` deltas while each one's ``begin_nonce`` is the previous message's
``nonce``, the rule the client keeps; a broken chain invalidates the book and resubscribes it
(the venue answers with a new snapshot), and a dropped connection invalidates every book until
its new snapshot. Nothing is published from an invalid book. After every applied change the top
of the book is pushed whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.errors import ExchangeError, VenueUnavailable
from core.logging_setup import get_logger
from exchange_clients.lighter import wire
from exchange_clients.lighter.funding_adapter import funding_rate
from exchange_clients.lighter.websocket import LighterStream, channel_key
from exchange_clients.lighter.wire import (
    MAINNET_URL,
    MAINNET_WS_URL,
    TESTNET_URL,
    TESTNET_WS_URL,
    VENUE,
    LighterMarket,
)
from exchange_clients.market_data.events import FundingEvent, TradeEvent
from exchange_clients.market_data.live import LiveSourceSettings, Sink
from exchange_clients.market_data.live_books import (
    BOOK_DEPTH,
    BookPublisher,
    configured_markets,
    setting,
)
from exchange_clients.native.wire import ms_to_datetime, to_decimal
from exchange_clients.order_book import OrderBook, OrderBookError
from exchange_clients.types import Market
from networking.http import HttpRequest, RestTransport
from networking.rate_limit import TokenBucket

log = get_logger(__name__)

DEFAULT_SYMBOLS = ("BTC", "ETH", "SOL")
START_WAIT_SECONDS = 10.0
"""How long ``start`` waits for every book's snapshot and the first market stats."""
STATS_CHANNEL = "market_stats/all"


async def _no_token() -> str:
    raise VenueUnavailable("a public source has no auth token", venue=VENUE)


class LighterPublicSource:
    """Books, trades and funding of a few Lighter perpetuals."""

    venue = VENUE

    def __init__(self, settings: LiveSourceSettings) -> None:
        self._symbols = settings.symbols or DEFAULT_SYMBOLS
        base = settings.base_url or (TESTNET_URL if settings.testnet else MAINNET_URL)
        ws_url = settings.ws_url or (TESTNET_WS_URL if settings.testnet else MAINNET_WS_URL)
        self._rest = RestTransport(VENUE, base, limiter=TokenBucket.per_minute(240))
        self._stream = LighterStream(
            ws_url,
            token=_no_token,
            on_message=self._on_message,
            on_resync=self._on_resync,
            on_disconnect=self._on_disconnect,
        )
        self._books = BookPublisher(VENUE, int(setting(settings, "book_depth", BOOK_DEPTH)))
        self._markets: dict[int, LighterMarket] = {}
        self._order_books: dict[int, OrderBook] = {}
        self._live: set[int] = set()
        """Books that have had their snapshot on the current connection and no gap since."""
        self._stats_seen = asyncio.Event()
        self._books_seen = asyncio.Event()
        self.resubscriptions = 0
        """Books resubscribed after a broken nonce chain (tests watch it)."""

    @property
    def stream(self) -> LighterStream:
        return self._stream

    async def start(self, sink: Sink) -> dict[str, Market]:
        self._books.attach(sink)
        await self._rest.open()
        try:
            by_symbol = {m.symbol: m for m in wire.parse_markets(await self._details())}
            self._markets = {
                m.market_id: m for m in configured_markets(VENUE, self._symbols, by_symbol)
            }
            self._order_books = {mid: OrderBook(m.symbol) for mid, m in self._markets.items()}
            channels = {STATS_CHANNEL: False}
            for market_id in self._markets:
                channels[f"order_book/{market_id}"] = False
                channels[f"trade/{market_id}"] = False
            await self._stream.start(channels)
            try:
                await asyncio.wait_for(self._ready(), START_WAIT_SECONDS)
            except TimeoutError:
                missing = sorted(
                    self._markets[mid].symbol for mid in set(self._markets) - self._live
                )
                raise VenueUnavailable(
                    f"live market data: no book snapshot or market stats in {START_WAIT_SECONDS:g}"
                    f" s (books missing: {', '.join(missing) or 'none'})",
                    venue=VENUE,
                ) from None
        except BaseException:
            await self.stop()
            raise
        return {m.symbol: m.market for m in self._markets.values()}

    async def stop(self) -> None:
        await self._stream.stop()
        await self._rest.close()

    async def _ready(self) -> None:
        await self._stats_seen.wait()
        await self._books_seen.wait()

    async def _details(self) -> Any:
        path = "/api/v1/orderBookDetails"
        response = await self._rest.send(HttpRequest("GET", path), idempotent=True)
        try:
            data = response.json()
        except ValueError:
            raise ExchangeError(
                f"GET {path}: HTTP {response.status} not JSON", venue=VENUE
            ) from None
        if response.status != 200 or int(data.get("code", wire.CODE_OK)) != wire.CODE_OK:
            raise wire.api_error(data, context=f"GET {path}")
        return data

    # --- stream ----------------------------------------------------------------------------

    async def _on_resync(self, first: bool) -> None:
        if not first:
            log.info("live_feed_resubscribed", venue=VENUE, markets=sorted(self._markets))

    def _on_disconnect(self) -> None:
        for market_id, book in self._order_books.items():
            book.invalidate("stream disconnected")
            self._live.discard(market_id)
            self._books.withdraw(self._markets[market_id].symbol)

    async def _on_message(self, message: dict[str, Any]) -> None:
        kind = str(message.get("type", ""))
        channel = channel_key(str(message.get("channel", "")))
        try:
            if kind.endswith("/order_book"):
                await self._on_book(kind, channel, message["order_book"])
            elif kind.endswith("/market_stats"):
                self._on_stats(message.get("market_stats") or {})
            elif kind.endswith("/trade"):
                self._on_trades(message.get("trades") or [])
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("lighter_feed_bad_message", kind=kind, error=str(exc))

    async def _on_book(self, kind: str, channel: str, payload: Mapping[str, Any]) -> None:
        market_id = int(channel.rsplit("/", 1)[1])
        book = self._order_books.get(market_id)
        if book is None:
            return
        bids = [[level["price"], level["size"]] for level in payload.get("bids") or []]
        asks = [[level["price"], level["size"]] for level in payload.get("asks") or []]
        nonce = int(payload["nonce"])
        if kind.startswith("subscribed"):
            book.apply_wire_snapshot(bids, asks, sequence=nonce)
            self._live.add(market_id)
            if self._live == set(self._markets):
                self._books_seen.set()
        elif market_id in self._live and not book.needs_resync:
            begin = int(payload.get("begin_nonce", book.sequence))
            try:
                if begin != book.sequence:
                    raise OrderBookError(
                        f"nonce chain broken: expected {book.sequence}, got {begin}"
                    )
                book.apply_wire_update(bids, asks, last_sequence=nonce)
            except OrderBookError as exc:
                book.invalidate(str(exc))
                self._live.discard(market_id)
                self._books.withdraw(self._markets[market_id].symbol)
                self.resubscriptions += 1
                log.warning("lighter_book_gap", market=market_id, error=str(exc))
                await self._stream.resubscribe(f"order_book/{market_id}")
                return
        else:
            return  # waiting for the snapshot of a resubscription
        self._books.publish(self._markets[market_id].market, book)

    def _on_stats(self, stats: Mapping[str, Any]) -> None:
        entries = [stats] if "market_id" in stats else list(stats.values())
        now = datetime.now(UTC)
        for entry in entries:
            if not isinstance(entry, dict) or "market_id" not in entry:
                continue
            market = self._markets.get(int(entry["market_id"]))
            if market is not None:
                self._books.emit(
                    FundingEvent(funding_rate(market.symbol, entry, venue=VENUE, now=now))
                )
                self._stats_seen.set()

    def _on_trades(self, trades: list[Any]) -> None:
        for raw in trades:
            market = self._markets.get(int(raw["market_id"]))
            if market is None:
                continue
            self._books.emit(
                TradeEvent(
                    venue=VENUE,
                    symbol=market.symbol,
                    ts=ms_to_datetime(int(raw["timestamp"])),
                    price=market.market.from_venue_price(to_decimal(raw["price"])),
                    size=market.market.from_venue_size(to_decimal(raw["size"])),
                    # The maker was the ask: the taker bought.
                    taker_side="buy" if raw.get("is_maker_ask") else "sell",
                    trade_id=str(raw.get("trade_id")),
                )
            )


__all__ = ["LighterPublicSource"]
