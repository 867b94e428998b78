"""Hyperliquid's public market data as a live-feed source, for paper trading on real books.

Public endpoints only (no account, no key): ``POST /info`` ``metaAndAssetCtxs`` for the
markets and funding (re-read every ``funding_poll_seconds``: Hyperliquid streams no funding
channel) and ``l2Book`` for a first book, then the WebSocket's ``l2Book`` (whole books, so
each message is a snapshot) and ``trades`` for every streamed coin. Sequences are ours:
Hyperliquid does not number its books, so each snapshot of a symbol gets the next number.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.errors import ExchangeError, UnknownSymbol, VenueUnavailable
from core.logging_setup import get_logger
from exchange_clients.hyperliquid.funding_adapter import funding_rate
from exchange_clients.hyperliquid.websocket import HyperliquidStream
from exchange_clients.hyperliquid.wire import (
    MAINNET_URL,
    MAINNET_WS_URL,
    TESTNET_URL,
    TESTNET_WS_URL,
    VENUE,
    HlAsset,
    parse_universe,
    side_of,
)
from exchange_clients.market_data.events import BookSnapshotEvent, FundingEvent, TradeEvent
from exchange_clients.market_data.live import LiveSourceSettings, Sink
from exchange_clients.market_data.live_books import FundingPoller
from exchange_clients.native.wire import ms_to_datetime, to_decimal
from exchange_clients.types import Market
from networking.http import HttpRequest, RestTransport
from networking.json_codec import dumps
from networking.rate_limit import TokenBucket

log = get_logger(__name__)

DEFAULT_SYMBOLS = ("BTC", "ETH", "SOL")
FUNDING_POLL_SECONDS = 60.0
JSON_HEADERS = {"Content-Type": "application/json"}


class HyperliquidPublicSource:
    """Books, trades and funding of a few Hyperliquid coins, pushed into a live feed."""

    venue = VENUE

    def __init__(self, settings: LiveSourceSettings) -> None:
        self._settings = settings
        self._symbols = settings.symbols or DEFAULT_SYMBOLS
        base = settings.base_url or (TESTNET_URL if settings.testnet else MAINNET_URL)
        ws_url = settings.ws_url or (TESTNET_WS_URL if settings.testnet else MAINNET_WS_URL)
        poll = settings.extra.get("funding_poll_seconds", FUNDING_POLL_SECONDS)
        self._funding_poll_seconds = float(str(poll))
        self._rest = RestTransport(VENUE, base, limiter=TokenBucket.per_minute(1200))
        self._stream = HyperliquidStream(
            ws_url,
            on_message=self._on_message,
            on_resync=self._on_resync,
            on_disconnect=lambda: None,
        )
        self._assets: dict[str, HlAsset] = {}  # by coin
        self._sink: Sink | None = None
        self._sequences: dict[str, itertools.count[int]] = {}
        # Supervised: a poll that fails is retried next time, a poller that dies is restarted.
        self._poller = FundingPoller(VENUE, self._funding_poll_seconds, self._poll_funding)

    async def start(self, sink: Sink) -> dict[str, Market]:
        self._sink = sink
        await self._rest.open()
        try:
            meta, ctxs = await self._info({"type": "metaAndAssetCtxs"})
            by_symbol = {a.market.symbol: a for a in parse_universe(meta, ctxs)}
            unknown = [s for s in self._symbols if s not in by_symbol]
            if unknown:
                raise UnknownSymbol(
                    f"live market data: no market for {', '.join(unknown)}", venue=VENUE
                )
            self._assets = {by_symbol[s].coin: by_symbol[s] for s in self._symbols}
            self._sequences = {s: itertools.count(1) for s in self._symbols}
            self._push_funding(meta, ctxs)
            for asset in self._assets.values():
                book = await self._info({"type": "l2Book", "coin": asset.coin})
                self._push_book(asset, book)
            subscriptions = [
                {"type": kind, "coin": coin}
                for coin in self._assets
                for kind in ("l2Book", "trades")
            ]
            await self._stream.start(subscriptions)
        except BaseException:
            await self._rest.close()
            raise
        self._poller.start()
        return {asset.market.symbol: asset.market for asset in self._assets.values()}

    async def stop(self) -> None:
        await self._poller.stop()
        await self._stream.stop()
        await self._rest.close()

    async def _info(self, body: Mapping[str, Any]) -> Any:
        response = await self._rest.send(
            HttpRequest("POST", "/info", dumps(body), JSON_HEADERS), weight=20, idempotent=True
        )
        if response.status != 200:
            raise ExchangeError(f"info {body['type']}: HTTP {response.status}", venue=VENUE)
        return response.json()

    async def _poll_funding(self) -> None:
        """One funding read (the poller repeats it; ExchangeError: tried again next time)."""
        meta, ctxs = await self._info({"type": "metaAndAssetCtxs"})
        self._push_funding(meta, ctxs)

    async def _on_resync(self, first: bool) -> None:
        if not first:
            log.info("live_feed_resubscribed", venue=VENUE, coins=sorted(self._assets))

    def _push_funding(self, meta: Mapping[str, Any], ctxs: list[Mapping[str, Any]]) -> None:
        now = datetime.now(UTC)
        for index, entry in enumerate(meta["universe"]):
            asset = self._assets.get(str(entry["name"]))
            if asset is not None and index < len(ctxs):
                rate = funding_rate(
                    asset.market.symbol,
                    ctxs[index],
                    now=now,
                    mark_divisor=asset.market.quantity_multiplier,
                )
                self._emit(FundingEvent(rate))

    def _push_book(self, asset: HlAsset, data: Mapping[str, Any]) -> None:
        market = asset.market

        def side(raw: list[Mapping[str, Any]]) -> tuple[tuple[Decimal, Decimal], ...]:
            return tuple(
                (
                    market.from_venue_price(to_decimal(level["px"])),
                    market.from_venue_size(to_decimal(level["sz"])),
                )
                for level in raw
            )

        levels = data["levels"]
        self._emit(
            BookSnapshotEvent(
                venue=VENUE,
                symbol=market.symbol,
                ts=ms_to_datetime(int(data["time"])),
                bids=side(levels[0]),
                asks=side(levels[1]),
                sequence=next(self._sequences[market.symbol]),
            )
        )

    def _on_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        channel, data = message.get("channel"), message.get("data")
        if channel == "l2Book" and isinstance(data, dict):
            asset = self._assets.get(str(data.get("coin")))
            if asset is not None:
                self._push_book(asset, data)
        elif channel == "trades" and isinstance(data, list):
            for trade in data:
                asset = self._assets.get(str(trade.get("coin")))
                if asset is None:
                    continue
                market = asset.market
                self._emit(
                    TradeEvent(
                        venue=VENUE,
                        symbol=market.symbol,
                        ts=ms_to_datetime(int(trade["time"])),
                        price=market.from_venue_price(to_decimal(trade["px"])),
                        size=market.from_venue_size(to_decimal(trade["sz"])),
                        taker_side=side_of(str(trade["side"])),
                        trade_id=str(trade.get("tid")),
                    )
                )

    def _emit(self, event: BookSnapshotEvent | TradeEvent | FundingEvent) -> None:
        if self._sink is None:
            raise VenueUnavailable("live source is not started", venue=VENUE)
        self._sink(event)
