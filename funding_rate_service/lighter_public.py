"""Lighter's funding, market figures and published fees from public endpoints (no account key).

The Lighter client needs an API key (it signs every write and authenticates private reads),
yet everything collection needs is public: ``GET /api/v1/orderBookDetails`` (the markets, and
per market ``daily_quote_token_volume`` and ``open_interest``, read by ``wire.
parse_market_stats``) and the ``market_stats/all`` WebSocket channel, which carries each
market's ``current_funding_rate`` (percent per hour), ``funding_timestamp``, ``mark_price`` and
``index_price`` - the venue has no REST endpoint for the live estimate. The channel is held
open between cycles on the client's own :class:`LighterStream` (which resubscribes after a
reconnect), so a cycle reads the newest stats it pushed; the rates are built by the venue
package's ``funding_adapter``, so they are the client's numbers. Fees are the published
schedule of a standard account (``wire.PUBLISHED_FEES``: no account, no type to ask for).

A first cycle waits up to ``stats_wait_seconds`` (default 10) for the channel's first message;
a cycle after a dropped connection waits for the resubscription's state. Either way, no stats
is a :class:`VenueUnavailable` in the venue's health, never a stale rate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.errors import ExchangeError, VenueUnavailable
from exchange_clients.lighter import wire
from exchange_clients.lighter.funding_adapter import funding_rate
from exchange_clients.lighter.websocket import LighterStream
from exchange_clients.lighter.wire import MAINNET_URL, MAINNET_WS_URL, VENUE, LighterMarket
from exchange_clients.native.wire import to_decimal
from exchange_clients.types import FeeSchedule, FundingRate, MarketStats
from networking.http import HttpRequest, RestTransport

STATS_CHANNEL = "market_stats/all"
DEFAULT_STATS_WAIT_SECONDS = 10.0


async def _no_token() -> str:
    raise VenueUnavailable("a public reader has no auth token", venue=VENUE)


class LighterPublic:
    """The collector's Lighter reader (``base_url``/``ws_url`` options point it elsewhere)."""

    def __init__(self, options: Mapping[str, object] | None = None) -> None:
        options = options or {}
        self._rest = RestTransport(VENUE, str(options.get("base_url") or MAINNET_URL))
        self._wait = float(str(options.get("stats_wait_seconds") or DEFAULT_STATS_WAIT_SECONDS))
        self._stream = LighterStream(
            str(options.get("ws_url") or MAINNET_WS_URL),
            token=_no_token,
            on_message=self._on_message,
            on_resync=self._on_resync,
            on_disconnect=self._on_disconnect,
        )
        self._markets: dict[int, LighterMarket] = {}
        self._stats: dict[int, dict[str, Any]] = {}
        self._fresh = asyncio.Event()
        """Set once the current connection has delivered the channel's state."""

    async def connect(self) -> None:
        await self._rest.open()
        self._markets = {m.market_id: m for m in wire.parse_markets(await self._details())}
        await self._stream.start({STATS_CHANNEL: False})

    async def disconnect(self) -> None:
        await self._stream.stop()
        await self._rest.close()

    async def _details(self) -> Any:
        path = "/api/v1/orderBookDetails"
        response = await self._rest.send(HttpRequest("GET", path), idempotent=True)
        try:
            data = response.json()
        except ValueError:
            raise ExchangeError(
                f"GET {path}: HTTP {response.status}, not JSON", venue=VENUE
            ) from None
        if response.status != 200 or int(data.get("code", wire.CODE_OK)) != wire.CODE_OK:
            raise wire.api_error(data, context=f"GET {path}")
        return data

    # --- the stream ------------------------------------------------------------------------

    async def _on_resync(self, first: bool) -> None:
        return None  # the subscription's first message is the whole state

    def _on_disconnect(self) -> None:
        self._fresh.clear()

    async def _on_message(self, message: dict[str, Any]) -> None:
        if not str(message.get("type", "")).endswith("/market_stats"):
            return
        stats = message.get("market_stats") or {}
        if not isinstance(stats, dict):
            return
        entries = [stats] if "market_id" in stats else list(stats.values())
        for entry in entries:
            if isinstance(entry, dict) and "market_id" in entry:
                try:
                    self._stats[int(entry["market_id"])] = entry
                except (TypeError, ValueError):
                    continue
        if self._stats:
            self._fresh.set()

    # --- what collection reads -------------------------------------------------------------

    async def funding_rates(self) -> dict[str, FundingRate]:
        try:
            await asyncio.wait_for(self._fresh.wait(), self._wait)
        except TimeoutError:
            raise VenueUnavailable(
                f"no {STATS_CHANNEL} message within {self._wait:g} s", venue=VENUE
            ) from None
        now = datetime.now(UTC)
        return {
            market.symbol: funding_rate(market.symbol, stats, venue=VENUE, now=now)
            for market_id, stats in self._stats.items()
            if (market := self._markets.get(market_id)) is not None
        }

    def index_prices(self) -> dict[str, Decimal]:
        """Each market's index price from the newest stats (what ``funding_rates`` read)."""
        return {
            market.symbol: to_decimal(stats["index_price"])
            for market_id, stats in self._stats.items()
            if (market := self._markets.get(market_id)) is not None
            and stats.get("index_price") is not None
        }

    async def market_stats(self) -> dict[str, MarketStats]:
        data = await self._details()
        markets = {m.market_id: m for m in wire.parse_markets(data)}
        self._markets = markets  # a market listed since start is collected from now on
        return wire.parse_market_stats(data, markets)

    async def fees(self, symbol: str) -> FeeSchedule:
        return wire.PUBLISHED_FEES[wire.ACCOUNT_STANDARD]
